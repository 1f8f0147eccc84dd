"""A small hand-made base whose figures are computed by hand in the tests."""

from __future__ import annotations

from datetime import date

import pytest

AS_OF = date(2026, 11, 20)

# id, email, first, last, phone, street, postal_code, city, country, birth_date, gender, source, status, email_quality
CONTACTS = [
    (1, "anne@exemple.fr", "Anne", "Martin", "+33612345678", "1 rue A", "69003", "Lyon", "France", date(1980, 5, 1), "F", "crm", "active", None),
    (2, "bea@exemple.fr", "Béa", "Durand", None, "2 rue B", "69100", "Villeurbanne", None, date(1985, 12, 31), "F", "crm", "active", None),
    (3, "info@asso.fr", "Chloé", "Petit", None, None, "75011", "Paris", "France", None, "F", "web", "active", "role"),
    (4, "dan@mailinator.com", "Dan", "Moreau", None, None, None, None, None, date(1950, 1, 1), "M", "web", "suppressed", "disposable"),
    (5, None, "Eve", "Roux", None, "5 rue E", "13001", "Marseille", "France", date(2003, 6, 1), "F", None, "active", None),
    (6, "fab@exemple.fr", "Fab", "Blanc", None, None, None, None, None, None, "M", "crm", "merged", None),
]


@pytest.fixture
def small_base(con):
    con.executemany(
        "INSERT INTO contacts (id, email, first_name, last_name, phone, street, postal_code, city, country, "
        "birth_date, gender, source, status, email_quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        CONTACTS,
    )
    con.executemany("INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)",
                    [(1, "newsletter"), (2, "newsletter"), (3, "newsletter"), (5, "benevole")])
    con.executemany(
        "INSERT INTO custom_values (contact_id, field, list_value) VALUES (?, 'interests', ?)",
        [(1, ["animaux"]), (2, ["animaux", "education"]), (5, ["environnement"])],
    )
    con.executemany(
        "INSERT INTO events (contact_id, type, occurred_at, amount) VALUES (?, ?, ?, ?)",
        [
            (1, "donation", "2026-10-01", 30), (1, "donation", "2026-04-01", 50), (2, "donation", "2025-01-10", 20),
            (1, "email_open", "2026-09-01", None), (3, "email_open", "2026-01-01", None),
            (2, "donation", "2026-12-25", 999),  # after as-of: ignored
        ],
    )
    con.executemany(
        "INSERT INTO contact_scores (contact_id, as_of, rfm_r, rfm_f, rfm_segment, lifecycle_stage, engagement_score) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(1, AS_OF, 5, 4, "champions", "active_customer", 2.0), (2, AS_OF, 2, 1, "hibernating", "inactive_customer", 0.0),
         (3, AS_OF, None, None, None, "prospect", 0.5), (5, AS_OF, None, None, None, "prospect", 0.0)],
    )
    con.execute("INSERT INTO duplicate_pairs (contact_a, contact_b, score) VALUES (1, 2, 0.85)")
    con.execute("INSERT INTO segment_runs (id, segment, as_of, member_count) VALUES (1, 'a', ?, 2), (2, 'b', ?, 3), (3, 'a', ?, 1)",
                [AS_OF, AS_OF, AS_OF])
    con.executemany("INSERT INTO segment_members VALUES (?, ?)", [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2)])
    return con
