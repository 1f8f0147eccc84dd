"""Advice on tags that have outgrown being tags.

The seeds advise few tags: a label that most of the base carries says
something about everyone, and belongs in a (select or boolean) custom field
that segments and exports can use as such. ``crmseg stats`` reports each
tag carried by more than ``TAG_FIELD_SHARE`` (30 %) of live contacts, once
the base has at least ``TAG_ADVICE_MIN_CONTACTS`` live contacts (on a tiny
base every tag is "common").
"""

from __future__ import annotations

import duckdb

TAG_FIELD_SHARE = 0.30
TAG_ADVICE_MIN_CONTACTS = 20


def tag_advice(
    con: duckdb.DuckDBPyConnection,
    *,
    share: float = TAG_FIELD_SHARE,
    min_contacts: int = TAG_ADVICE_MIN_CONTACTS,
) -> list[dict]:
    """Tags on more than ``share`` of live contacts, most common first, each with advice."""
    rows = con.execute(
        """
        WITH live AS (SELECT id FROM contacts WHERE status IN ('active', 'suppressed')),
        total AS (SELECT count(*) AS n FROM live)
        SELECT t.tag, count(DISTINCT t.contact_id) AS contacts, count(DISTINCT t.contact_id) / any_value(total.n) AS share
        FROM contact_tags t JOIN live ON live.id = t.contact_id CROSS JOIN total
        WHERE total.n >= $min_contacts
        GROUP BY t.tag
        HAVING count(DISTINCT t.contact_id) > $share * any_value(total.n)
        ORDER BY contacts DESC, t.tag
        """,
        {"share": share, "min_contacts": min_contacts},
    ).fetchall()
    return [
        {
            "tag": tag,
            "contacts": n,
            "share": round(fraction, 4),
            "advice": f"the tag `{tag}` is on {fraction:.0%} of live contacts; "
            "consider a custom field (select or boolean) in crmseg.yaml instead.",
        }
        for tag, n, fraction in rows
    ]
