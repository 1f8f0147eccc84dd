"""Benchmark: ``crmseg clean`` on ~1,000,000 contacts and 10,000,000 events.

Run by hand: ``python bench/clean.py [--people 850000] [--events 10000000]``.
The base is the labelled set of ``cli.cleaning.synthetic`` (so duplicate
quality is measured at full size), plus events generated in DuckDB SQL. It
is built once under ``bench/data/`` and copied before each run; the clean
itself runs in a child process limited to 2 threads, whose peak memory
(max RSS) is reported with each pass's time, the precision and recall of the
duplicate pairs, and the share of people who end as exactly one contact
after ``dupes merge --all --min-score <review threshold>``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "data"
AS_OF = date(2026, 11, 20)
EVENT_MIX = [  # (type, share)
    ("email_sent", 0.40), ("email_open", 0.24), ("email_click", 0.08), ("soft_bounce", 0.03),
    ("hard_bounce", 0.003), ("unsubscribe", 0.005), ("spam_complaint", 0.0005), ("donation", 0.12),
    ("membership", 0.03), ("purchase", 0.02), ("event_attendance", 0.02), ("meeting", 0.01),
    ("web_visit", 0.0315),
]


def build(path: Path, people: int, events: int) -> None:
    import polars as pl

    from cli.cleaning.synthetic import LabelledSetOptions, generate_labelled_set, load_labelled_set
    from cli.store import open_database
    from cli.suppression import refresh_contact_keys

    started = time.perf_counter()
    final, path = path, path.with_name("building-" + path.name)
    path.unlink(missing_ok=True)
    con = open_database(path, memory_limit="4GB")
    records = generate_labelled_set(LabelledSetOptions(people=people, seed=2026))
    truth = load_labelled_set(con, records)
    truth.write_parquet(final.with_suffix(".truth.parquet"))
    # A few emails that the invalid pass must catch.
    con.execute("UPDATE contacts SET email = split_part(email, '@', 1) || '@yopmail.com' WHERE id % 997 = 0 AND email IS NOT NULL")
    con.execute("UPDATE contacts SET email = 'info@asso' || id::VARCHAR || '.fr' WHERE id % 1999 = 0")
    con.execute("UPDATE contacts SET email = split_part(email, '@', 1) || '@example.com' WHERE id % 4999 = 0 AND email IS NOT NULL")
    refresh_contact_keys(con)
    # 10,000 slots shared out by the mix: an event's type is the slot its hash falls in.
    slots = [t for t, share in EVENT_MIX for _ in range(round(share * 10000))]
    n_contacts = truth.height
    first_id = int(truth["id"].min())
    con.execute(
        """
        INSERT INTO events (contact_id, type, occurred_at, campaign)
        SELECT $first + (hash(i) % $n)::BIGINT,
               $slots[1 + (hash(i * 7) % len($slots))::BIGINT],
               TIMESTAMP '2023-11-20' + to_microseconds((hash(i * 13) % 94608000000000)::BIGINT),
               'c' || (i % 200)::VARCHAR
        FROM range($events) t(i)
        """,
        {"first": first_id, "n": n_contacts, "slots": slots, "events": events},
    )
    con.execute("UPDATE events SET amount = 10 + (id % 90), currency = 'EUR' WHERE type IN ('donation', 'purchase', 'membership')")
    con.execute("CHECKPOINT")
    counts = con.execute("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM events)").fetchone()
    con.close()
    path.rename(final)
    print(f"built {final.name}: {counts[0]:,} contacts, {counts[1]:,} events in {time.perf_counter() - started:.0f} s")


def run_child(path: Path) -> None:
    """The measured part: one clean, then dupes merge --all at the review threshold."""
    import polars as pl

    from cli.cleaning import run_cleaning
    from cli.cleaning.review import merge_all
    from cli.cleaning.synthetic import cluster_pair_quality, people_as_one_contact
    from cli.settings import Settings
    from cli.store import open_database

    settings = Settings(memory_limit=sys.argv[-1])
    con = open_database(path, memory_limit=settings.memory_limit)
    con.execute("SET threads = 2")
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_cleaning(con, settings, AS_OF)
    clean_seconds = time.perf_counter() - started
    clean_cpu = time.process_time() - cpu_started
    peak_of_clean = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    merged = merge_all(con, settings.duplicates.review_threshold)
    merge_seconds = time.perf_counter() - started
    peak_after_merge_all = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    truth = pl.read_parquet(path.with_suffix(".truth.parquet"))
    quality = cluster_pair_quality(con, truth)
    share = people_as_one_contact(con, truth)
    con.close()
    print(json.dumps({
        "passes": [{"pass": r.name, "seconds": round(r.seconds, 2), "looked_at": r.looked_at,
                    "changed": r.changed, "details": r.details} for r in result.reports],
        "clean_seconds": round(clean_seconds, 2),
        "clean_cpu_seconds": round(clean_cpu, 2),
        "merge_all_seconds": round(merge_seconds, 2),
        "merge_all": {k: v for k, v in merged.items() if k != "merge_ids"},
        "peak_rss_mib": round(peak_of_clean),
        "peak_rss_after_merge_all_mib": round(peak_after_merge_all),
        "cluster_quality": quality,
        "people_as_one_contact": share,
    }))


def direct_pair_quality(path: Path) -> dict:
    """Precision and recall of the pairs scored at or above the review threshold (before any merge)."""
    import polars as pl

    from cli.cleaning.matching import find_candidate_pairs
    from cli.cleaning.synthetic import pair_quality
    from cli.settings import Settings
    from cli.store import open_database

    settings = Settings()
    con = open_database(path)
    scored = find_candidate_pairs(con, settings.duplicates)
    keep = scored.score >= settings.duplicates.review_threshold
    found = set(zip(scored.id_a[keep].tolist(), scored.id_b[keep].tolist()))
    con.close()
    return pair_quality(found, pl.read_parquet(path.with_suffix(".truth.parquet")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=850_000, help="people (records are ~1.18x this)")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit for the clean (the default setting)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        run_child(args.child)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    base = DATA / f"clean-{args.people}-{args.events}.duckdb"
    if args.rebuild or not base.exists():
        build(base, args.people, args.events)
    work = DATA / "clean-run.duckdb"
    shutil.copyfile(base, work)
    shutil.copyfile(base.with_suffix(".truth.parquet"), work.with_suffix(".truth.parquet"))
    Path(str(work) + ".wal").unlink(missing_ok=True)
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(work), args.memory_limit], capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        sys.exit(child.returncode)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"{'pass':<14}{'seconds':>9}{'looked at':>12}{'changed':>10}  details")
    for p in figures["passes"]:
        print(f"{p['pass']:<14}{p['seconds']:>9.2f}{p['looked_at']:>12,}{p['changed']:>10,}  {p['details']}")
    print(f"whole clean: {figures['clean_seconds']:.1f} s wall, {figures['clean_cpu_seconds']:.1f} s CPU "
          f"(load average when done: {os.getloadavg()[0]:.1f}); dupes merge --all: {figures['merge_all_seconds']:.1f} s "
          f"({figures['merge_all']})")
    print(f"peak memory (max RSS) of the process: {figures['peak_rss_mib']} MiB during the clean, "
          f"{figures['peak_rss_after_merge_all_mib']} MiB after dupes merge --all")
    q = figures["cluster_quality"]
    print(f"record pairs ending in one contact (after clean + merge --all): precision {q['precision']:.4f}, "
          f"recall {q['recall']:.4f} ({q['found']:,} found, {q['true']:,} true)")
    shutil.copyfile(base, work)
    Path(str(work) + ".wal").unlink(missing_ok=True)
    d = direct_pair_quality(work)
    print(f"scored pairs >= review threshold (before merging): precision {d['precision']:.4f}, "
          f"recall {d['recall']:.4f} ({d['found']:,} found, {d['true']:,} true)")
    print(f"people as exactly one contact after merge --all: {figures['people_as_one_contact']:.4f}")


if __name__ == "__main__":
    main()
