"""Benchmark for tags, groups, contact look-up and erasure (run by hand).

    python bench/people.py [CONTACTS]

Builds a base under bench/data/ with DuckDB's range(): CONTACTS contacts
(default 200,000), five events each, rejected rows and issues, then times
the library calls the commands make.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.contacts import contact_profile, find_contacts, resolve_contact  # noqa: E402
from cli.erasure import checkpoint, erase_contacts, rewrite_database_file  # noqa: E402
from cli.gdpr import export_person, forget_person  # noqa: E402
from cli.groups import add_members, create_group, show_group  # noqa: E402
from cli.settings import Settings  # noqa: E402
from cli.store import open_database, transaction  # noqa: E402
from cli.suppression import refresh_contact_keys  # noqa: E402
from cli.tagging import add_tag, list_tags  # noqa: E402
from cli.targets import select_contacts  # noqa: E402

AS_OF = date(2026, 11, 1)


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<55} {time.perf_counter() - start:8.3f} s")
    return result


def build(path: Path, n: int) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = open_database(path, memory_limit="2GB")
    con.execute(
        """
        INSERT INTO contacts (email, first_name, last_name, phone, city, consent_email)
        SELECT 'user' || i || '@example.org', 'Prénom' || (i % 5000), 'Nom' || (i % 20000),
               '+336' || lpad((10000000 + i)::VARCHAR, 8, '0'),
               ['Lyon', 'Besançon', 'Paris', 'Nantes'][1 + i % 4], i % 3 = 0
        FROM range(?) t(i)
        """,
        [n],
    )
    refresh_contact_keys(con)
    con.execute(
        """
        INSERT INTO events (contact_id, type, occurred_at, amount)
        SELECT 1 + (i % ?), ['donation', 'email_open', 'email_click', 'meeting', 'purchase'][1 + i % 5],
               TIMESTAMP '2024-01-01' + to_days((i % 1000)::INTEGER), CASE WHEN i % 5 = 0 THEN 20 END
        FROM range(?) t(i)
        """,
        [n, n * 5],
    )
    con.execute(
        """
        INSERT INTO import_rejects (import_id, row_number, reason, raw)
        SELECT 1, i, 'no identity', json_object('Courriel', 'user' || (i * 7) || '@example.org', 'Ville', 'Lyon')
        FROM range(?) t(i)
        """,
        [n // 4],
    )
    con.execute(
        "INSERT INTO import_issues SELECT 1, i, 1 + i, 'birth_date', 'bad' || i, 'not a date' FROM range(?) t(i)", [n // 4]
    )
    con.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    folder = ROOT / "bench" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "people.duckdb"
    timed(f"build base ({n:,} contacts, {5 * n:,} events)", lambda: build(path, n))
    emails = folder / "emails.txt"
    emails.write_text("email\n" + "\n".join(f"USER{i}@example.org" for i in range(0, n, 4)) + "\n")
    con = open_database(path, memory_limit="2GB")
    settings = Settings(base_dir=folder)
    targets = timed(f"resolve a file of {n // 4:,} emails", lambda: select_contacts(con, settings, AS_OF, files=[emails]))
    with transaction(con):
        timed("tag add (that file)", lambda: add_tag(con, "newsletter", targets.contact_ids))
    timed("tag list", lambda: list_tags(con))
    create_group(con, "big")
    timed("group add (that file)", lambda: add_members(con, "big", targets.contact_ids))
    timed("group show --limit 100", lambda: show_group(con, "big", as_of=AS_OF, limit=100))
    timed("contacts find 'besancon nom1234'", lambda: find_contacts(con, "besancon nom1234"))
    cid, _ = resolve_contact(con, "user77@example.org")
    timed("contacts show", lambda: contact_profile(con, cid, as_of=AS_OF))
    timed("gdpr export", lambda: export_person(con, "user77@example.org"))
    timed("gdpr forget (one person)", lambda: forget_person(con, "user77@example.org"))
    ids = [r[0] for r in con.execute("SELECT id FROM contacts WHERE id % 20 = 1").fetchall()]
    with transaction(con):
        erased = timed(f"erase_contacts ({len(ids):,} contacts, retention scale)",
                       lambda: erase_contacts(con, ids, source="bench"))
    timed("checkpoint", lambda: checkpoint(con))
    con.close()
    size = path.stat().st_size
    timed("rewrite database file", lambda: rewrite_database_file(path))
    print(f"erased {erased:,} contacts; file {size / 1e6:.1f} MB before rewrite, {path.stat().st_size / 1e6:.1f} MB after")


if __name__ == "__main__":
    main()
