"""``crmseg report --html FILE``: one self-contained, offline, printable page.

The figures come from the same functions as ``crmseg stats``; charts are
inline SVG (cli/reporting/charts.py); the page loads nothing from the
network, runs no script, and is written atomically. Every text from the base
or the segments folder (sources, file names, error messages) is escaped;
numbers are written one way throughout (``format_number``).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from cli.atomic import atomic_path, check_target
from cli.errors import InputError
from cli.reporting.charts import bar_chart, format_number, funnel, heat_grid
from cli.reporting.overlap import last_run_overlap
from cli.reporting.stats import collect_stats

# Sources shown one by one; the others are summed in one bar, so the bars add up to the live contacts.
TOP_SOURCES = 12
HTML_SUFFIXES = (".html", ".htm")

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #2f6f8f;padding-bottom:4px;margin-top:32px}
.meta{color:#666}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.kpi{border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:150px}.kpi b{display:block;font-size:24px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:18px}
svg.chart{max-width:100%;height:auto;font-size:12px;font-family:inherit}svg .on-bar{fill:#fff;font-weight:600}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}td.num{text-align:right}.empty{color:#888;font-style:italic}.problems{color:#b8504b}
@media print{body{max-width:none;padding:0}h2{break-after:avoid}section{break-inside:avoid}}
"""


def _kpi(label: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = format_number(value)
    return f'<div class="kpi" data-kpi="{escape(label)}"><b>{escape(str(value))}</b>{escape(label)}</div>'


def _percent(share: float) -> str:
    """A share as a whole percentage, rounded as ``crmseg stats`` shows it (0.9084 -> 91%)."""
    return f"{share:.0%}"


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p class="empty">Nothing yet.</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    def cell(value: Any) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<td class="num">{format_number(value)}</td>'
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


def report_data(con: duckdb.DuckDBPyConnection, as_of: date,
                folder: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data (also what ``--json`` prints).

    ``folder``: the segments folder as ``folder_segments`` reads it, so the
    report names the segments that cannot run.
    """
    stats = collect_stats(con, as_of, folder)
    rfm = con.execute(
        "SELECT rfm_r, rfm_f, count(*) FROM contact_scores WHERE rfm_r IS NOT NULL GROUP BY ALL"
    ).fetchall()
    sources = con.execute(
        "SELECT coalesce(source, '(none)'), count(*) FROM contacts WHERE status NOT IN ('merged', 'erased') "
        "GROUP BY ALL ORDER BY 2 DESC, 1"
    ).fetchall()
    if len(sources) > TOP_SOURCES:
        rest = sources[TOP_SOURCES - 1:]
        sources = [*sources[:TOP_SOURCES - 1], (f"({len(rest)} other sources)", sum(n for _, n in rest))]
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
        _kpi("with a valid email", _percent(quality["valid_email"])),
        _kpi("suppressed", suppressed),
        _kpi("events", counts["events"]),
        _kpi("segments", len(stats["segments"])),
    ])
    stage_chart = funnel(list(stats["contacts_by_stage"].items()), title="Lifecycle funnel")
    segment_chart = bar_chart([(s["segment"], s["members"]) for s in stats["segments"] if s["members"] is not None],
                              title="Segment sizes") + _segment_notes(stats["segments"])
    rfm_chart = heat_grid({(c["r"], c["f"]): c["contacts"] for c in data["rfm_grid"]},
                          title="RFM grid (contacts by recency and frequency score)",
                          x_label="recency score (5 = most recent)", y_label="frequency score")
    source_chart = bar_chart([(s["source"], s["contacts"]) for s in data["sources"]], title="Contacts by source")
    quality_chart = bar_chart(
        [(label, round(quality[key] * 100)) for label, key in
         [("valid email", "valid_email"), ("phone", "phone"), ("postal address", "postal_address"),
          ("birth date", "birth_date")]] if quality["live_contacts"] else [],
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
<p>{format_number(quality['invalid_addresses'])} invalid or disposable addresses,
{format_number(quality['role_addresses'])} role addresses, {format_number(quality['inactive'])} inactive contacts,
{format_number(quality['pending_duplicate_pairs'])} duplicate pairs awaiting review.</p></section>
</div>
<section id="overlap"><h2>Segment overlaps (shared members at last runs)</h2>{_overlap_table(data['overlap'])}</section>
<section id="imports"><h2>Recent imports</h2>{imports}</section>
<section id="cleans"><h2>Recent cleaning runs</h2>{cleans}</section>
</body></html>
"""


def _segment_notes(segments: list[dict[str, Any]]) -> str:
    """The segments the chart leaves out: those that cannot run (with why) and those never run."""
    broken = [s for s in segments if s["error"]]
    never = [s["segment"] for s in segments if s["members"] is None and not s["error"]]
    parts = []
    if broken:
        items = "".join(f"<li><b>{escape(s['segment'])}</b>: {escape(s['error'])}</li>" for s in broken)
        parts.append(f'<p class="problems">Segments that cannot run (fix their file, then '
                     f'<code>crmseg segment validate</code>):</p><ul class="problems">{items}</ul>')
    if never:
        parts.append(f'<p class="empty">Never run: {escape(", ".join(never))}.</p>')
    return "".join(parts)


def check_report_path(path: Path) -> Path:
    """Refuse, before any work, a report target that cannot or must not be replaced.

    The name must end in ``.html`` or ``.htm``: a slip such as ``--html crmseg.yaml`` or
    ``--html contacts.csv`` would otherwise replace a settings file or an export with the page.
    A folder, a missing folder, a read-only file or a database file: ``InputError`` (exit 2).
    """
    path = Path(path)
    check_target(path)  # first: "a folder", "a database file" say more than "not .html"
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise InputError(f"{path}: the report is an HTML page; give a file name ending in .html "
                         "(for example report.html). Nothing was written.")
    return path


def write_report(path: Path, html: str) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = check_report_path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(html, encoding="utf-8")
    return path
