"""Benchmark: ``refresh_scores`` over 1,000,000 contacts and 10,000,000 events on 2 threads.

Run by hand: ``python bench/scoring.py [--contacts N] [--events N]``. The
base is generated with DuckDB SQL into bench/data/scoring.duckdb (reused when
it already has the requested size), then scored twice at two as-of dates
(the second run also appends stage changes to a full history). Prints the
figures; the target is 10 s per run.

When the segment engine (``cli.segmenting``) is absent, the two default lead
rules are evaluated through a stand-in compiler that returns the equivalent
hand-written SQL, so the figure still includes lead points.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import types
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.scoring import lifecycle_distribution, refresh_scores  # noqa: E402
from cli.settings import Settings  # noqa: E402
from cli.store import open_database  # noqa: E402

DATA = ROOT / "bench" / "data"
AS_OF = date(2026, 11, 20)


def generate(con, contacts: int, events: int) -> None:
    con.execute("DELETE FROM contact_scores")
    con.execute("DELETE FROM stage_history")
    con.execute("DELETE FROM events")
    con.execute("DELETE FROM contacts")
    con.execute(
        """
        INSERT INTO contacts (id, email, first_name, phone, city, postal_code, street, job_title, status,
                              consent_email, consent_withdrawn_at)
        SELECT i,
            CASE WHEN i % 10 <> 0 THEN 'person' || i || '@example.org' END,
            'P' || i,
            CASE WHEN i % 3 = 0 THEN '+3361' || lpad((i % 100000000)::VARCHAR, 8, '0') END,
            CASE WHEN i % 4 = 0 THEN 'Lyon' END,
            CASE WHEN i % 4 = 0 THEN '69001' END,
            CASE WHEN i % 4 = 0 THEN i || ' rue des Lilas' END,
            CASE WHEN i % 5 = 0 THEN 'Directeur' END,
            CASE WHEN i % 97 = 0 THEN 'suppressed' WHEN i % 211 = 0 THEN 'merged' ELSE 'active' END,
            i % 7 <> 0,
            CASE WHEN i % 53 = 0 THEN TIMESTAMP '2025-06-01' END
        FROM range(1, $n + 1) t(i)
        """,
        {"n": contacts},
    )
    # Skewed activity: hash-based contact choice, a type mix close to a real emailing base.
    con.execute(
        """
        INSERT INTO events (contact_id, type, occurred_at, amount)
        SELECT 1 + (hash(i * 31) % $contacts)::BIGINT AS contact_id,
            CASE WHEN u < 0.30 THEN 'email_sent' WHEN u < 0.62 THEN 'email_open'
                 WHEN u < 0.72 THEN 'email_click' WHEN u < 0.84 THEN 'donation'
                 WHEN u < 0.87 THEN 'membership' WHEN u < 0.89 THEN 'purchase'
                 WHEN u < 0.895 THEN 'unsubscribe' WHEN u < 0.90 THEN 'hard_bounce'
                 ELSE 'web_visit' END AS type,
            TIMESTAMP '2021-06-01' + to_seconds((hash(i * 17) % (2040 * 86400))::BIGINT) AS occurred_at,
            CASE WHEN u >= 0.72 AND u < 0.89 THEN round(5 + (hash(i * 7) % 50000) / 100.0, 2) END AS amount
        FROM (SELECT i, (hash(i) % 1000000) / 1000000.0 AS u FROM range($events) t(i))
        """,
        {"contacts": contacts, "events": events},
    )
    con.execute("CHECKPOINT")


@dataclass
class _Compiled:
    sql: str
    params: list


def _stand_in_compiler(condition, *, settings, as_of, con=None):
    if condition == {"job_title": {"is_null": False}}:
        return _Compiled("SELECT id AS contact_id FROM contacts WHERE job_title IS NOT NULL", [])
    if condition == {"event": {"type": "email_click", "within": "30 days"}}:
        return _Compiled(
            "SELECT DISTINCT contact_id FROM events WHERE type = 'email_click' "
            "AND occurred_at >= ?::DATE - 30 AND occurred_at < ?::DATE + 1",
            [as_of, as_of],
        )
    raise NotImplementedError(condition)


def _cpu_seconds() -> float:
    # CPU time is the steadier figure when other work shares the machine.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    try:
        from cli.segmenting import compile_condition  # noqa: F401

        engine = "segment engine"
    except ImportError:
        sys.modules["cli.segmenting"] = types.SimpleNamespace(compile_condition=_stand_in_compiler)
        engine = "stand-in compiler (segment engine absent)"

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "scoring.duckdb"
    con = open_database(path, memory_limit="4GB")
    con.execute("SET threads = " + str(int(args.threads)))  # an int, formatted on purpose
    have = con.execute("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM events)").fetchone()
    if have != (args.contacts, args.events):
        started = time.perf_counter()
        generate(con, args.contacts, args.events)
        print(f"generated {args.contacts:,} contacts and {args.events:,} events in {time.perf_counter() - started:.1f} s")
    else:
        con.execute("DELETE FROM contact_scores")
        con.execute("DELETE FROM stage_history")
        con.execute("CHECKPOINT")
    settings = Settings()
    print(f"threads={args.threads}, lead rules via {engine}")
    for as_of in (date(2026, 5, 20), AS_OF):
        cpu_before = _cpu_seconds()
        run = refresh_scores(con, settings, as_of)
        print(
            f"as of {as_of}: scored {run.contacts:,} contacts in {run.seconds:.2f} s wall, "
            f"{_cpu_seconds() - cpu_before:.2f} s CPU over all threads "
            f"({run.changed_contacts:,} stage changes recorded)"
        )
    stages = lifecycle_distribution(con)["stages"]
    print("stages: " + ", ".join(f"{s['stage']}={s['contacts']:,}" for s in stages))
    con.close()


if __name__ == "__main__":
    main()
