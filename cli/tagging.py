"""Tags: free labels on contacts (SPEC §2), added and removed by command.

A tag name is kept as given once trimmed (inner runs of spaces collapse to
one), so ``Newsletter`` and ``newsletter`` are two tags; it may not be
empty, hold a control character, or hold ``|``, ``;`` or ``,``, which
separate tags in import and export cells. ``contact_tags`` has no unique
constraint (bulk writes stay cheap), so every write here is set-wise and
idempotent: adding a tag a contact has changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import duckdb

from cli.errors import InputError, NotFoundError
from cli.store import log_action
from cli.yamlfile import did_you_mean

_SEPARATORS = set("|;,")
MAX_TAG_LENGTH = 100


@dataclass(frozen=True)
class TagChange:
    """What ``tag add`` or ``tag remove`` did."""

    tag: str
    targeted: int
    changed: int

    @property
    def unchanged(self) -> int:
        return self.targeted - self.changed


def clean_tag_name(name: str | None) -> str:
    """The tag name as stored; ``InputError`` when it cannot be a tag.

    >>> clean_tag_name("  grands   donateurs ")
    'grands donateurs'
    """
    # NFC, as imported text is: `é` typed as `e` + U+0301 is the same tag.
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", name or "").strip())
    if not text:
        raise InputError("the tag name is empty; give a name such as `newsletter`.")
    if any(ch in _SEPARATORS for ch in text) or any(ord(ch) < 32 for ch in text):
        raise InputError(
            f"the tag `{text}` holds `|`, `;`, `,` or a control character, which separate tags in "
            "files; choose a name without them."
        )
    if len(text) > MAX_TAG_LENGTH:
        raise InputError(f"the tag name is longer than {MAX_TAG_LENGTH} characters; choose a shorter one.")
    return text


def add_tag(con: duckdb.DuckDBPyConnection, tag: str, contact_ids: list[int], *, source: str = "tag add") -> TagChange:
    """Give ``tag`` to these contacts; those that have it already are left as they are."""
    tag = clean_tag_name(tag)
    added = con.execute(
        """
        INSERT INTO contact_tags (contact_id, tag, source)
        SELECT DISTINCT id, $tag, $source FROM unnest($ids::BIGINT[]) AS t(id)
        WHERE NOT EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = t.id AND ct.tag = $tag)
        RETURNING contact_id
        """,
        {"tag": tag, "ids": contact_ids, "source": source},
    ).fetchall()
    if added:
        log_action(con, "tag", "add", {"tag": tag, "contacts": len(added)})
    return TagChange(tag=tag, targeted=len(set(contact_ids)), changed=len(added))


def remove_tag(con: duckdb.DuckDBPyConnection, tag: str, contact_ids: list[int]) -> TagChange:
    """Take ``tag`` off these contacts. ``NotFoundError`` when no contact at all has it."""
    tag = clean_tag_name(tag)
    if not con.execute("SELECT count(*) FROM contact_tags WHERE tag = ?", [tag]).fetchone()[0]:
        existing = [r[0] for r in con.execute("SELECT DISTINCT tag FROM contact_tags").fetchall()]
        raise NotFoundError(f"no contact has the tag `{tag}`.{did_you_mean(tag, existing)} `crmseg tag list` shows the tags.")
    removed = con.execute(
        "DELETE FROM contact_tags WHERE tag = $tag AND contact_id IN (SELECT unnest($ids::BIGINT[])) RETURNING contact_id",
        {"tag": tag, "ids": contact_ids},
    ).fetchall()
    changed = len({r[0] for r in removed})
    if changed:
        log_action(con, "tag", "remove", {"tag": tag, "contacts": changed})
    return TagChange(tag=tag, targeted=len(set(contact_ids)), changed=changed)


def list_tags(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every tag with its number of live contacts and their share of the live base, most used first."""
    rows = con.execute(
        """
        WITH live AS (SELECT id FROM contacts WHERE status IN ('active', 'suppressed')),
        total AS (SELECT count(*) AS n FROM live)
        SELECT t.tag, count(DISTINCT t.contact_id) AS contacts,
               CASE WHEN any_value(total.n) = 0 THEN 0 ELSE count(DISTINCT t.contact_id) / any_value(total.n) END,
               min(t.added_at), max(t.added_at)
        FROM contact_tags t JOIN live ON live.id = t.contact_id CROSS JOIN total
        GROUP BY t.tag ORDER BY contacts DESC, t.tag
        """
    ).fetchall()
    return [
        {"tag": tag, "contacts": n, "share": round(share, 4), "first_added": first, "last_added": last}
        for tag, n, share, first, last in rows
    ]
