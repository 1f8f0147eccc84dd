"""``crmseg report --html FILE``: one self-contained, offline, printable page.

The figures come from the same functions as ``crmseg stats``; charts are
inline SVG (cli/reporting/charts.py); the page loads nothing from the
network, runs no script, and is written atomically.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from cli.atomic import atomic_path
from cli.reporting.charts import bar_chart, funnel, heat_grid
from cli.reporting.overlap import last_run_overlap
from cli.reporting.stats import collect_stats

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #2f6f8f;padding-bottom:4px;margin-top:32px}
.meta{color:#666}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.kpi{border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:150px}.kpi b{display:block;font-size:24px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:18px}
svg.chart{max-width:100%;height:auto;font-size:12px;font-family:inherit}svg .on-bar{fill:#fff;font-weight:600}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}td.num{text-align:right}.empty{color:#888;font-style:italic}
@media print{body{max-width:none;padding:0}h2{break-after:avoid}section{break-inside:avoid}}
"""


def _kpi(label: str, value: Any) -> str:
    return f'<div class="kpi" data-kpi="{escape(label)}"><b>{escape(str(value))}</b>{escape(label)}</div>'


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p class="empty">Nothing yet.</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    def cell(value: Any) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<td class="num">{value}</td>'
        if isinstance(value, datetime):
            value = f"{value:%Y-%m-%d %H:%M}"
        return f"<td>{escape('' if value is None else str(value))}</td>"

    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _overlap_table(overlap: dict[str, Any]) -> str:
    names = overlap["segments"]
    if not names:
        return '<p class="empty">No segment has been run yet.</p>'
    rows = [[name, *overlap["matrix"][i]] for i, name in enumerate(names)]
    return _table(["segment", *names], rows)


def report_data(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, Any]:
    """Everything the report shows, as plain data (also what ``--json`` prints)."""
    stats = collect_stats(con)
    rfm = con.execute(
        "SELECT rfm_r, rfm_f, count(*) FROM contact_scores WHERE rfm_r IS NOT NULL GROUP BY ALL"
    ).fetchall()
    sources = con.execute(
        "SELECT coalesce(source, '(none)'), count(*) FROM contacts WHERE status NOT IN ('merged', 'erased') "
        "GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 12"
    ).fetchall()
    cleans = con.execute(
        """
        SELECT logged_at, action, (details->>'looked_at')::BIGINT, (details->>'changed')::BIGINT, details->>'why'
        FROM audit_log WHERE command = 'clean' ORDER BY id DESC LIMIT 14
        """
    ).fetchall()
    return {
        "as_of": as_of,
        "stats": stats,
        "rfm_grid": [{"r": r, "f": f, "contacts": n} for r, f, n in rfm],
        "sources": [{"source": s, "contacts": n} for s, n in sources],
        "overlap": last_run_overlap(con),
        "recent_cleans": [
            {"at": at, "pass": p, "looked_at": looked, "changed": changed, "why": why}
            for at, p, looked, changed, why in cleans
        ],
    }


def render_html(data: dict[str, Any]) -> str:
    """The report page for ``report_data``'s result."""
    stats = data["stats"]
    quality = stats["data_quality"]
    counts = stats["counts"]
    suppressed = stats["contacts_by_status"].get("suppressed", 0)
    kpis = "".join([
        _kpi("live contacts", quality["live_contacts"]),
        _kpi("with a valid email", f"{round(quality['valid_email'] * 100)}%"),
        _kpi("suppressed", suppressed),
        _kpi("events", counts["events"]),
        _kpi("segments", len(stats["segments"])),
    ])
    stage_chart = funnel(list(stats["contacts_by_stage"].items()), title="Lifecycle funnel")
    segment_chart = bar_chart([(s["segment"], s["members"]) for s in stats["segments"]], title="Segment sizes")
    rfm_chart = heat_grid({(c["r"], c["f"]): c["contacts"] for c in data["rfm_grid"]},
                          title="RFM grid (contacts by recency and frequency score)",
                          x_label="recency score (5 = most recent)", y_label="frequency score")
    source_chart = bar_chart([(s["source"], s["contacts"]) for s in data["sources"]], title="Contacts by source")
    quality_chart = bar_chart(
        [("valid email", quality["valid_email"] * 100), ("phone", quality["phone"] * 100),
         ("postal address", quality["postal_address"] * 100), ("birth date", quality["birth_date"] * 100)],
        title="Data quality (share of live contacts)", unit="%",
    )
    imports = _table(
        ["file", "kind", "when", "read", "inserted", "updated", "unchanged", "rejected", "issues", "skipped"],
        [[i["file_name"], i["kind"], i["started_at"], i["rows_read"], i["inserted"], i["updated"], i["unchanged"],
          i["rejected"], i["issues"], i["skipped"]] for i in stats["recent_imports"]],
    )
    cleans = _table(
        ["when", "pass", "looked at", "changed", "why"],
        [[c["at"], c["pass"], c["looked_at"], c["changed"], c["why"]] for c in data["recent_cleans"]],
    )
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crmseg report — {escape(str(data['as_of']))}</title><style>{_CSS}</style></head>
<body>
<h1>Contact base report</h1>
<p class="meta">As of {escape(str(data['as_of']))} · generated {escape(generated)} by crmseg</p>
<div class="kpis">{kpis}</div>
<div class="grid">
<section id="lifecycle"><h2>Lifecycle funnel</h2>{stage_chart}</section>
<section id="segments"><h2>Segment sizes</h2>{segment_chart}</section>
<section id="rfm"><h2>RFM grid</h2>{rfm_chart}</section>
<section id="sources"><h2>Sources</h2>{source_chart}</section>
<section id="quality"><h2>Data quality</h2>{quality_chart}
<p>{quality['invalid_addresses']} invalid or disposable addresses, {quality['role_addresses']} role addresses,
{quality['inactive']} inactive contacts, {quality['pending_duplicate_pairs']} duplicate pairs awaiting review.</p></section>
</div>
<section id="overlap"><h2>Segment overlaps (shared members at last runs)</h2>{_overlap_table(data['overlap'])}</section>
<section id="imports"><h2>Recent imports</h2>{imports}</section>
<section id="cleans"><h2>Recent cleaning runs</h2>{cleans}</section>
</body></html>
"""


def write_report(path: Path, html: str) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(html, encoding="utf-8")
    return path
