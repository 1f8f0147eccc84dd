"""Benchmark ``crmseg import``: 1,000,000 contacts and 10,000,000 events.

Run by hand: ``python bench/import.py [--contacts N] [--events N] [--shapes]``.
The data is generated with DuckDB under bench/data/ (git-ignored). Each
import runs in a child process (``crmseg import ...``) so its peak memory is
the child's ``ru_maxrss``; DuckDB's own ``read_csv`` of the same file, into a
table, is timed in the same run for comparison.

``--shapes`` adds two files shaped like real exports, each imported into a
base of its own: a Mailchimp audience export (23 quoted columns, the address
in one cell, birthdays without a year, tags) and a business contact list
(a company domain per contact, phones of five countries, a country column).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def generate(contacts: int, events: int) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    contacts_csv = DATA / f"contacts_{contacts}.csv"
    events_csv = DATA / f"events_{events}.csv"
    con = duckdb.connect()
    if not contacts_csv.exists():
        con.execute(
            f"""
            COPY (
              SELECT 'person' || i || '@' || (['gmail.com','orange.fr','free.fr','laposte.net','example.org'])[1 + i % 5] AS "Adresse e-mail",
                     (['Marie','Jean','Léa','Hugo','Zoé'])[1 + i % 5] AS "Prénom",
                     'Nom' || (i % 5000) AS "Nom",
                     CASE WHEN i % 3 = 0 THEN '06 ' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0') END AS "Téléphone",
                     (i % 200) || ' rue de la Paix' AS "Adresse",
                     lpad(CAST(1000 + i % 95000 AS VARCHAR), 5, '0') AS "Code postal",
                     'Ville' || (i % 3000) AS "Ville",
                     strftime(DATE '1940-01-01' + CAST(i % 25000 AS INTEGER), '%d/%m/%Y') AS "Date de naissance",
                     (['animaux','environnement','animaux|education'])[1 + i % 3] AS "Centres d'intérêt",
                     'ADH-' || i AS "N° adhérent",
                     CASE WHEN i % 2 = 0 THEN 'Oui' ELSE 'Non' END AS "Opt-in email"
              FROM range({contacts}) t(i)
            ) TO '{contacts_csv}' (HEADER, DELIMITER ';')
            """
        )
    if not events_csv.exists():
        con.execute(
            f"""
            COPY (
              SELECT 'person' || (i % {contacts}) || '@' || (['gmail.com','orange.fr','free.fr','laposte.net','example.org'])[1 + (i % {contacts}) % 5] AS "Email",
                     (['sent','opened','clicked','sent','opened','soft_bounce'])[1 + i % 6] AS "Event",
                     strftime(TIMESTAMP '2024-01-01' + to_seconds(i % 60000000), '%Y-%m-%d %H:%M:%S') AS "Date",
                     'Campagne ' || (i % 50) AS "Campaign"
              FROM range({events}) t(i)
            ) TO '{events_csv}' (HEADER, DELIMITER ',')
            """
        )
    con.close()
    return contacts_csv, events_csv


def generate_shapes(contacts: int) -> tuple[Path, Path]:
    """The real-world-shaped files (see the module docstring)."""
    DATA.mkdir(parents=True, exist_ok=True)
    mailchimp = DATA / f"mailchimp_{contacts}.csv"
    business = DATA / f"business_{contacts}.csv"
    con = duckdb.connect()
    if not mailchimp.exists():
        con.execute(
            f"""
            COPY (
              SELECT 'person' || i || '@' || (['gmail.com','orange.fr','free.fr','laposte.net','example.org'])[1 + i % 5] AS "Email Address",
                     (['Marie','Jean','Léa','Hugo','Zoé'])[1 + i % 5] AS "First Name", 'Nom' || (i % 5000) AS "Last Name",
                     (i % 200) || ' rue de la Paix  Ville' || (i % 3000) || '  ' || lpad(CAST(1000 + i % 95000 AS VARCHAR), 5, '0') || '  FR' AS "Address",
                     CASE WHEN i % 3 = 0 THEN '+33 6 ' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0') ELSE '' END AS "Phone Number",
                     strftime(DATE '2024-01-01' + CAST(i % 365 AS INTEGER), '%m/%d') AS "Birthday",
                     1 + i % 5 AS "MEMBER_RATING",
                     strftime(TIMESTAMP '2019-01-01' + to_seconds(i * 97), '%Y-%m-%d %H:%M:%S') AS "OPTIN_TIME",
                     '192.168.' || (i % 256) || '.' || (i % 253) AS "OPTIN_IP",
                     strftime(TIMESTAMP '2019-01-01' + to_seconds(i * 97 + 60), '%Y-%m-%d %H:%M:%S') AS "CONFIRM_TIME",
                     '10.0.' || (i % 256) || '.' || (i % 251) AS "CONFIRM_IP",
                     CAST(43 + (i % 1000) / 1000.0 AS VARCHAR) AS "LATITUDE", CAST(2 + (i % 997) / 1000.0 AS VARCHAR) AS "LONGITUDE",
                     '1' AS "GMTOFF", '2' AS "DSTOFF", 'Europe/Paris' AS "TIMEZONE", 'FR' AS "CC", 'IDF' AS "REGION",
                     strftime(TIMESTAMP '2024-01-01' + to_seconds(i * 13), '%Y-%m-%d %H:%M:%S') AS "LAST_CHANGED",
                     CAST(100000000 + i AS VARCHAR) AS "LEID", md5(CAST(i AS VARCHAR))[1:10] AS "EUID", '' AS "NOTES",
                     (['"Donateur"', '"Bénévole","Donateur"', ''])[1 + i % 3] AS "TAGS"
              FROM range({contacts}) t(i)
            ) TO '{mailchimp}' (HEADER, DELIMITER ',', FORCE_QUOTE *)
            """
        )
    if not business.exists():
        con.execute(
            f"""
            COPY (
              SELECT 'contact' || i || '@societe' || i || (['.fr','.be','.nl','.de','.ch'])[1 + i % 5] AS "Email",
                     'Prénom' || (i % 900) AS "Prénom", 'Nom' || (i % 20000) AS "Nom", 'Société ' || i AS "Entreprise",
                     (['Directrice','Trésorier','Chargée de mission','Gérant'])[1 + i % 4] AS "Fonction",
                     (['France','Belgique','Nederland','Deutschland','Suisse'])[1 + i % 5] AS "Pays",
                     (['01 42 ','02 513 ','020 ','030 ','044 668 '])[1 + i % 5] || lpad(CAST(i % 10000 AS VARCHAR), 4, '0')
                       || (['00','','567','99',''])[1 + i % 5] AS "Téléphone",
                     strftime(TIMESTAMP '2020-01-01' + to_seconds(i * 61), '%d/%m/%Y %H:%M') AS "Date de création"
              FROM range({contacts}) t(i)
            ) TO '{business}' (HEADER, DELIMITER ';')
            """
        )
    con.close()
    return mailchimp, business


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_load(path: Path, delimiter: str) -> tuple[float, float]:
    """DuckDB's own read_csv of ``path`` into a table: (seconds, CPU seconds)."""
    db = DATA / "raw.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    started, cpu = time.perf_counter(), _cpu()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, delim = ?, header = true)", [str(path), delimiter])
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    con.close()
    db.unlink(missing_ok=True)
    return elapsed, cpu


def crmseg(db: Path, *args: str) -> tuple[float, float, float]:
    """Run ``crmseg`` in a child; (seconds, CPU seconds, peak RSS in MiB of the child)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cli", "--db", str(db), "--quiet", *args], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"crmseg {' '.join(args)} failed with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--shapes", action="store_true", help="also import two files shaped like real exports")
    args = parser.parse_args()
    contacts_csv, events_csv = generate(args.contacts, args.events)
    folder = DATA / "base"
    folder.mkdir(exist_ok=True)
    (folder / "crmseg.yaml").write_text(
        "fields:\n  interests: {type: multiselect, options: [animaux, environnement, education]}\n"
        "  member_number: {type: text, external_id: true}\n", encoding="utf-8")
    db = folder / "crmseg.duckdb"
    runs = [
        ("contacts", contacts_csv, ";", db, ["import", "contacts", str(contacts_csv)]),
        ("events", events_csv, ",", db, ["import", "events", str(events_csv)]),
    ]
    if args.shapes:
        mailchimp, business = generate_shapes(args.contacts)
        runs.append(("mailchimp", mailchimp, ",", folder / "mailchimp.duckdb", ["import", "contacts", str(mailchimp)]))
        runs.append(("business", business, ";", folder / "business.duckdb", ["import", "contacts", str(business)]))
    for _, _, _, base, _ in runs:
        for stale in (base, base.with_name(base.name + ".wal")):
            stale.unlink(missing_ok=True)
    rows = []
    for label, path, delim, base, cmd in runs:
        raw, raw_cpu = raw_load(path, delim)
        took, took_cpu, peak = crmseg(base, *cmd)
        rows.append((label, path.stat().st_size / 2**20, raw, took, took / raw, raw_cpu, took_cpu, peak))
    # CPU seconds (all threads) are steadier than wall time on a shared machine.
    print(f"{'file':10} {'MiB':>8} {'read_csv s':>11} {'import s':>9} {'ratio':>6} "
          f"{'read_csv cpu':>13} {'import cpu':>11} {'cpu ratio':>10} {'peak MiB':>9}")
    for label, size, raw, took, ratio, raw_cpu, took_cpu, peak in rows:
        print(f"{label:10} {size:8.0f} {raw:11.2f} {took:9.2f} {ratio:6.2f} "
              f"{raw_cpu:13.2f} {took_cpu:11.2f} {took_cpu / raw_cpu:10.2f} {peak:9.0f}")
    print("targets: ratio <= 3, peak <= 4096 MiB")


if __name__ == "__main__":
    main()
