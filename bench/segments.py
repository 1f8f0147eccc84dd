"""Benchmark: segments over 1,000,000 contacts and 10,000,000 events.

Run by hand: ``python bench/segments.py`` (``--contacts``/``--events`` to
scale, ``--rebuild`` to regenerate). The base is generated with DuckDB SQL
straight into ``bench/data/segments.duckdb``; each example segment is timed
inside the engine beside a hand-written DuckDB query of the same question,
then the whole ``crmseg segment run`` process, then a 200,000-row CSV export
and an Excel export beside raw xlsxwriter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.exporting import write_export  # noqa: E402
from cli.segmenting import load_library  # noqa: E402
from cli.segmenting.compiler import compile_segment  # noqa: E402
from cli.segmenting.runner import member_frame, restrict_external_access  # noqa: E402
from cli.settings import load_settings  # noqa: E402
from cli.store import open_database  # noqa: E402

DATA = ROOT / "bench" / "data"
AS_OF = date(2026, 11, 20)
SETTINGS = """\
fields:
  interests: {type: multiselect, options: [animaux, environnement, education]}
"""
SEGMENTS = {
    "relance-animaux": """\
name: relance-animaux
description: Newsletter readers interested in animals with no gift in 3 months
purpose: email            # email (default) | postal | phone | analysis
where:
  all:
    - tags: {contains: newsletter}
    - interests: {contains: animaux}      # a multiselect custom field
    - not:
        event: {type: donation, within: 3 months}
export:
  columns: [email, first_name, last_name, city]
""",
    "grands-donateurs": """\
purpose: postal
where:
  all:
    - total_given: {gte: 500}
    - last_gift_at: {within: 12 months}
""",
    "donateurs-perdus": """\
purpose: email
where:
  all:
    - event: {type: donation, since: -36 months, count: {gte: 2}}
    - not: {event: {type: donation, within: 12 months}}
""",
    "jeunes-engages": """\
purpose: analysis
where:
  all:
    - age: {between: [18, 35]}
    - event: {type: [email_open, email_click], within: 30 days}
""",
    "leads-decision": """\
purpose: email
where:
  any:
    - lead_stage: decision
    - stage_change: {to: inactive_customer, within: 30 days}
""",
}
# The same questions written by hand (analysis-free: the where part and the purpose rules).
EMAIL_RULES = """
  AND c.status = 'active' AND c.email IS NOT NULL
  AND (c.consent_email OR (c.consent_email IS NULL AND c.consent_basis IN ('membership','contract','legitimate_interest')))
  AND c.consent_withdrawn_at IS NULL
  AND c.email_key NOT IN (SELECT key FROM suppressions)
  AND coalesce(c.email_quality, '') NOT IN ('invalid_domain', 'reserved_domain', 'disposable')
  AND NOT c.is_inactive
  AND c.id NOT IN (SELECT contact_id FROM events WHERE type IN ('unsubscribe','spam_complaint','hard_bounce')
                   AND occurred_at < DATE '2026-11-21')
"""
HAND = {
    "relance-animaux": """
SELECT c.id FROM contacts c
WHERE c.id IN (SELECT contact_id FROM contact_tags WHERE tag = 'newsletter')
  AND c.id IN (SELECT contact_id FROM custom_values WHERE field = 'interests' AND list_contains(list_value, 'animaux'))
  AND c.id NOT IN (SELECT contact_id FROM events WHERE type = 'donation'
                   AND occurred_at >= DATE '2026-08-20' AND occurred_at < DATE '2026-11-21')
""" + EMAIL_RULES,
    "grands-donateurs": """
SELECT c.id FROM contacts c JOIN (
  SELECT contact_id, sum(amount) AS total, max(occurred_at) AS last FROM events
  WHERE type = 'donation' AND occurred_at < DATE '2026-11-21' GROUP BY contact_id) g ON g.contact_id = c.id
WHERE g.total >= 500 AND g.last >= DATE '2025-11-20'
  AND c.status NOT IN ('merged', 'erased') AND c.street IS NOT NULL AND (c.postal_code IS NOT NULL OR c.city IS NOT NULL)
""",
    "donateurs-perdus": """
SELECT c.id FROM contacts c
WHERE c.id IN (SELECT contact_id FROM events WHERE type = 'donation' AND occurred_at >= DATE '2023-11-20'
               AND occurred_at < DATE '2026-11-21' GROUP BY contact_id HAVING count(*) >= 2)
  AND c.id NOT IN (SELECT contact_id FROM events WHERE type = 'donation' AND occurred_at >= DATE '2025-11-20'
                   AND occurred_at < DATE '2026-11-21')
""" + EMAIL_RULES,
    "jeunes-engages": """
SELECT c.id FROM contacts c
WHERE date_diff('year', c.birth_date, DATE '2026-11-20') - CASE WHEN strftime(c.birth_date, '%m%d') > '1120' THEN 1 ELSE 0 END BETWEEN 18 AND 35
  AND c.id IN (SELECT contact_id FROM events WHERE type IN ('email_open', 'email_click')
               AND occurred_at >= DATE '2026-10-21' AND occurred_at < DATE '2026-11-21')
  AND c.status NOT IN ('merged', 'erased')
""",
    "leads-decision": """
SELECT c.id FROM contacts c LEFT JOIN contact_scores s ON s.contact_id = c.id
WHERE (s.lead_stage = 'decision' OR c.id IN (SELECT contact_id FROM stage_history WHERE stage = 'inactive_customer'
                                            AND changed_at >= DATE '2026-10-21' AND changed_at <= DATE '2026-11-20'))
""" + EMAIL_RULES,
}


def generate(db: Path, contacts: int, events: int) -> None:
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = open_database(db, memory_limit="3GB")
    started = time.perf_counter()
    con.execute(
        """
        INSERT INTO contacts (id, email, first_name, last_name, street, postal_code, city, birth_date, status,
                              consent_email, consent_basis, is_inactive, email_quality)
        SELECT i, 'person' || i || '@example.org', 'First' || (i % 997), 'Last' || (i % 9973),
               CASE WHEN i % 5 <> 0 THEN i || ' rue de la Paix' END, lpad(((i * 7) % 95000 + 1000)::VARCHAR, 5, '0'),
               'City' || (i % 3000), DATE '1940-01-01' + CAST(hash(i) % 25000 AS INTEGER),
               CASE WHEN i % 50 = 0 THEN 'suppressed' WHEN i % 97 = 0 THEN 'merged' ELSE 'active' END,
               CASE WHEN i % 10 = 0 THEN NULL WHEN i % 13 = 0 THEN false ELSE true END,
               CASE WHEN i % 10 = 0 THEN 'membership' END, i % 17 = 0, CASE WHEN i % 211 = 0 THEN 'invalid_domain' END
        FROM range(1, $n + 1) t(i)
        """,
        {"n": contacts},
    )
    con.execute("UPDATE contacts SET email_key = crmseg_key(email)")
    con.execute("INSERT INTO suppressions (key, kind, reason) SELECT email_key, 'email', 'hard_bounce' FROM contacts WHERE status = 'suppressed'")
    con.execute("""INSERT INTO contact_tags (contact_id, tag)
                   SELECT i, 'newsletter' FROM range(1, $n + 1) t(i) WHERE hash(i, 1) % 10 < 4
                   UNION ALL SELECT i, 'benevole' FROM range(1, $n + 1) t(i) WHERE hash(i, 2) % 10 < 1""", {"n": contacts})
    con.execute("""INSERT INTO custom_values (contact_id, field, list_value)
                   SELECT i, 'interests', CASE hash(i, 3) % 4 WHEN 0 THEN ['animaux'] WHEN 1 THEN ['animaux', 'education']
                                              WHEN 2 THEN ['environnement'] ELSE ['education'] END
                   FROM range(1, $n + 1) t(i) WHERE hash(i, 4) % 2 = 0""", {"n": contacts})
    con.execute("""INSERT INTO contact_scores (contact_id, as_of, lead_score, lead_stage, lifecycle_stage)
                   SELECT i, DATE '2026-11-20', (hash(i, 5) % 100)::INTEGER,
                          CASE WHEN hash(i, 5) % 100 >= 60 THEN 'decision' WHEN hash(i, 5) % 100 >= 30 THEN 'evaluation' ELSE 'none' END,
                          'prospect' FROM range(1, $n + 1) t(i)""", {"n": contacts})
    con.execute("""INSERT INTO stage_history (contact_id, stage, previous_stage, changed_at)
                   SELECT i, 'inactive_customer', 'active_customer', DATE '2026-11-20' - CAST(hash(i, 6) % 400 AS INTEGER)
                   FROM range(1, $n + 1) t(i) WHERE hash(i, 7) % 10 = 0""", {"n": contacts})
    con.execute(
        """
        INSERT INTO events (id, contact_id, type, occurred_at, amount, channel)
        SELECT j, 1 + hash(j, 8) % $n,
               CASE WHEN r < 12 THEN 'donation' WHEN r < 14 THEN 'purchase' WHEN r < 15 THEN 'membership'
                    WHEN r < 55 THEN 'email_sent' WHEN r < 80 THEN 'email_open' WHEN r < 90 THEN 'email_click'
                    WHEN r < 91 THEN 'unsubscribe' WHEN r < 92 THEN 'hard_bounce' ELSE 'web_visit' END,
               -- Three years of history ending before the as-of date (2026-11-16), as a
               -- base run on the day looks; `--as-of` replays are the fallback path.
               TIMESTAMP '2023-11-01' + to_seconds(CAST(hash(j, 9) % 96000000 AS BIGINT)),
               CASE WHEN r < 15 THEN 5 + (hash(j, 10) % 300) END,
               CASE WHEN r < 15 THEN 'web' END
        FROM (SELECT j, hash(j, 11) % 100 AS r FROM range(1, $m + 1) t(j))
        """,
        {"n": contacts, "m": events},
    )
    con.execute("CHECKPOINT")
    con.close()
    print(f"generated {contacts:,} contacts and {events:,} events in {time.perf_counter() - started:.1f} s")


def timed(fn, repeat: int = 5) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--time-ordered", action="store_true",
                        help="store events in time order (as an import of dated files tends to)")
    parser.add_argument("--engine-only", action="store_true", help="skip the process and export timings")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / ("segments-sorted.duckdb" if args.time_ordered else "segments.duckdb")
    (DATA / "crmseg.yaml").write_text(SETTINGS, encoding="utf-8")
    folder = DATA / "segments"
    folder.mkdir(exist_ok=True)
    for name, text in SEGMENTS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    if args.rebuild or not db.exists():
        generate(db, args.contacts, args.events)
        if args.time_ordered:
            con = open_database(db, memory_limit="3GB")
            con.execute("CREATE TABLE events_sorted AS SELECT * FROM events ORDER BY occurred_at")
            con.execute("DROP TABLE events")
            con.execute("ALTER TABLE events_sorted RENAME TO events")
            con.execute("CHECKPOINT")
            con.close()

    settings = load_settings(DATA / "crmseg.yaml")
    library = load_library(folder, settings)
    con = open_database(db, memory_limit="3GB")
    restrict_external_access(con)
    print(f"\n{'segment':<18} {'members':>9} {'crmseg':>9} {'by hand':>9}   (median of 5, in-engine, fetch all ids)")
    for name in SEGMENTS:
        spec = library.get(name)
        compiled = compile_segment(spec, settings=settings, as_of=AS_OF, library=library, con=con)
        ours = {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()}
        theirs = {r[0] for r in con.execute(HAND[name]).fetchall()}
        same = "" if ours == theirs else f"  (by hand: {len(theirs)} — differs)"
        t_ours = timed(lambda: con.execute(compiled.sql, compiled.params).fetchall())
        t_hand = timed(lambda: con.execute(HAND[name]).fetchall())
        print(f"{name:<18} {len(ours):>9,} {t_ours * 1000:>7.0f}ms {t_hand * 1000:>7.0f}ms{same}")
    con.close()
    if args.engine_only:
        return

    out = DATA / "relance.csv"
    command = [sys.executable, "-m", "cli", "--db", str(db), "--config", str(DATA / "crmseg.yaml"),
               "--as-of", AS_OF.isoformat(), "segment", "run", "relance-animaux", "--out", str(out)]
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT)
        samples.append(time.perf_counter() - started)
    print(f"\n`crmseg segment run relance-animaux --out relance.csv` whole process: median {statistics.median(samples):.2f} s "
          f"(min {min(samples):.2f} s)")

    con = open_database(db, memory_limit="3GB")
    con.execute("CREATE TEMP TABLE r AS SELECT 999999 AS run_id, id AS contact_id FROM contacts WHERE id <= 200000")
    con.execute("INSERT INTO segment_members SELECT * FROM r")
    columns = ["email", "first_name", "last_name", "street", "postal_code", "city", "birth_date", "total_given"]
    started = time.perf_counter()
    frame = member_frame(con, settings, AS_OF, 999999, columns, summary=None)
    t_frame = time.perf_counter() - started
    started = time.perf_counter()
    write_export(frame, DATA / "export.csv", "csv")
    t_csv = time.perf_counter() - started
    print(f"\nexport of {frame.height:,} rows: query {t_frame:.2f} s, CSV write {t_csv:.2f} s, total {t_frame + t_csv:.2f} s")
    con.execute("DELETE FROM segment_members WHERE run_id = 999999")
    con.close()

    import xlsxwriter

    small = frame.head(args.xlsx_rows)
    started = time.perf_counter()
    write_export(small, DATA / "export.xlsx", "xlsx")
    t_ours = time.perf_counter() - started
    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(DATA / "raw.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, small.columns)
    for index, row in enumerate(small.iter_rows(), start=1):
        sheet.write_row(index, 0, row)
    book.close()
    t_raw = time.perf_counter() - started
    print(f"xlsx of {small.height:,} rows: crmseg {t_ours:.1f} s, raw xlsxwriter {t_raw:.1f} s "
          f"(ratio {t_ours / t_raw:.2f}, {small.height / t_ours:,.0f} rows/s)")


if __name__ == "__main__":
    main()
