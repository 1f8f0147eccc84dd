"""Static groups (SPEC §2): named lists of contacts kept by hand.

A group has a name, a description and its own fields (``groups.fields``, a
JSON object of text values: notes, a legal entity's address, a contact
person...). Unlike a segment, its membership changes only through
``group add`` and ``group remove``; nothing recomputes it. Members are
live contacts; a merge moves memberships to the contact that absorbs them
(cleaning's concern), and erasure removes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from cli.errors import InputError, NotFoundError
from cli.store import log_action
from cli.yamlfile import did_you_mean

_FIELD_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_GROUP_NAME_LENGTH = 100


@dataclass(frozen=True)
class MembershipChange:
    group: str
    targeted: int
    changed: int

    @property
    def unchanged(self) -> int:
        return self.targeted - self.changed


def clean_group_name(name: str | None) -> str:
    """The group name as stored (trimmed); ``InputError`` when empty or unusable."""
    text = re.sub(r"\s+", " ", name or "").strip()
    if not text:
        raise InputError("the group name is empty; give a name such as `bureau-2026`.")
    if any(ord(ch) < 32 for ch in text) or len(text) > MAX_GROUP_NAME_LENGTH:
        raise InputError(
            f"the group name `{text[:40]}` holds a control character or is longer than "
            f"{MAX_GROUP_NAME_LENGTH} characters; choose another."
        )
    return text


def parse_field_pairs(pairs: list[str]) -> dict[str, str]:
    """``["address=12 rue X", "siret=123"]`` -> ``{"address": "12 rue X", "siret": "123"}``.

    An empty value (``key=``) means "remove this field" to ``update_group``.
    """
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _FIELD_KEY.match(key):
            raise InputError(
                f"--field `{pair}`: write it as key=value, the key made of letters, digits and _ "
                "(e.g. --field address='12 rue des Lilas, Lyon')."
            )
        fields[key] = value.strip()
    return fields


def group_by_name(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    """The group row; ``NotFoundError`` (with the closest name) when there is none."""
    name = clean_group_name(name)
    cursor = con.execute("SELECT id, name, description, fields, created_at FROM groups WHERE name = ?", [name])
    row = cursor.fetchone()
    if row is None:
        names = [r[0] for r in con.execute("SELECT name FROM groups").fetchall()]
        raise NotFoundError(f"no group `{name}`.{did_you_mean(name, names)} `crmseg group list` shows the groups.")
    group = dict(zip([d[0] for d in cursor.description], row))
    group["fields"] = json.loads(group["fields"]) if group["fields"] else {}
    return group


def create_group(
    con: duckdb.DuckDBPyConnection, name: str, *, description: str | None = None, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create an empty group; ``InputError`` when the name is taken."""
    name = clean_group_name(name)
    if con.execute("SELECT count(*) FROM groups WHERE name = ?", [name]).fetchone()[0]:
        raise InputError(f"a group `{name}` exists already; choose another name, or `crmseg group show {name}`.")
    clean_fields = {k: v for k, v in (fields or {}).items() if v != ""}
    con.execute(
        "INSERT INTO groups (name, description, fields) VALUES (?, ?, ?)",
        [name, description or None, json.dumps(clean_fields, ensure_ascii=False)],
    )
    log_action(con, "group", "create", {"group": name})
    return group_by_name(con, name)


def update_group(
    con: duckdb.DuckDBPyConnection, name: str, *, description: str | None = None, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """Change a group's description and fields (a field set to ``""`` is removed)."""
    group = group_by_name(con, name)
    merged = dict(group["fields"])
    for key, value in (fields or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    con.execute(
        "UPDATE groups SET description = ?, fields = ? WHERE id = ?",
        [description if description is not None else group["description"], json.dumps(merged, ensure_ascii=False), group["id"]],
    )
    log_action(con, "group", "update", {"group": group["name"]})
    return group_by_name(con, group["name"])


def delete_group(con: duckdb.DuckDBPyConnection, name: str, *, force: bool = False) -> int:
    """Delete a group; refuses one with members unless ``force``. Returns the members removed."""
    group = group_by_name(con, name)
    members = con.execute("SELECT count(*) FROM group_members WHERE group_id = ?", [group["id"]]).fetchone()[0]
    if members and not force:
        raise InputError(
            f"the group `{group['name']}` has {members} members; pass --force to delete it with its "
            "memberships (the contacts stay)."
        )
    con.execute("DELETE FROM group_members WHERE group_id = ?", [group["id"]])
    con.execute("DELETE FROM groups WHERE id = ?", [group["id"]])
    log_action(con, "group", "delete", {"group": group["name"], "members": members})
    return members


def list_groups(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every group with its number of live members."""
    cursor = con.execute(
        """
        SELECT g.name, g.description, count(c.id) AS members, g.created_at, g.fields
        FROM groups g
        LEFT JOIN group_members m ON m.group_id = g.id
        LEFT JOIN contacts c ON c.id = m.contact_id AND c.status IN ('active', 'suppressed')
        GROUP BY ALL ORDER BY g.name
        """
    )
    columns = [d[0] for d in cursor.description]
    groups = [dict(zip(columns, row)) for row in cursor.fetchall()]
    for group in groups:
        group["fields"] = json.loads(group["fields"]) if group["fields"] else {}
    return groups


def add_members(con: duckdb.DuckDBPyConnection, name: str, contact_ids: list[int]) -> MembershipChange:
    """Add contacts to a group; members already in it are left as they are."""
    group = group_by_name(con, name)
    added = con.execute(
        """
        INSERT INTO group_members (group_id, contact_id)
        SELECT DISTINCT $group, id FROM unnest($ids::BIGINT[]) AS t(id)
        WHERE NOT EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = $group AND m.contact_id = t.id)
        RETURNING contact_id
        """,
        {"group": group["id"], "ids": contact_ids},
    ).fetchall()
    if added:
        log_action(con, "group", "add", {"group": group["name"], "contacts": len(added)})
    return MembershipChange(group=group["name"], targeted=len(set(contact_ids)), changed=len(added))


def remove_members(con: duckdb.DuckDBPyConnection, name: str, contact_ids: list[int]) -> MembershipChange:
    """Take contacts out of a group."""
    group = group_by_name(con, name)
    removed = con.execute(
        "DELETE FROM group_members WHERE group_id = $group AND contact_id IN (SELECT unnest($ids::BIGINT[])) RETURNING contact_id",
        {"group": group["id"], "ids": contact_ids},
    ).fetchall()
    changed = len({r[0] for r in removed})
    if changed:
        log_action(con, "group", "remove", {"group": group["name"], "contacts": changed})
    return MembershipChange(group=group["name"], targeted=len(set(contact_ids)), changed=changed)


def show_group(
    con: duckdb.DuckDBPyConnection, name: str, *, as_of: date, limit: int = 100, events_per_member: int = 3
) -> dict[str, Any]:
    """The group, its members (up to ``limit``, by name) and each member's last events up to ``as_of``."""
    group = group_by_name(con, name)
    total = con.execute("SELECT count(*) FROM group_members WHERE group_id = ?", [group["id"]]).fetchone()[0]
    cursor = con.execute(
        """
        WITH members AS (
            SELECT c.id, c.email, c.first_name, c.last_name, c.organisation, c.city, c.status, m.added_at
            FROM group_members m JOIN contacts c ON c.id = m.contact_id
            WHERE m.group_id = $group
            ORDER BY lower(c.last_name) NULLS LAST, lower(c.first_name) NULLS LAST, c.email, c.id
            LIMIT $limit
        ),
        recent AS (
            SELECT e.contact_id, e.type, e.occurred_at, e.amount, e.currency, e.campaign,
                   row_number() OVER (PARTITION BY e.contact_id ORDER BY e.occurred_at DESC, e.id DESC) AS rank
            FROM events e JOIN members ON members.id = e.contact_id
            WHERE e.occurred_at < ($as_of::DATE + INTERVAL 1 DAY)
        ),
        per_member AS (
            SELECT contact_id, count(*) AS event_count,
                   list({'type': type, 'occurred_at': occurred_at, 'amount': amount,
                         'currency': currency, 'campaign': campaign} ORDER BY occurred_at DESC)
                     FILTER (WHERE rank <= $per_member) AS last_events
            FROM recent GROUP BY contact_id
        )
        SELECT members.*, coalesce(p.event_count, 0) AS event_count, p.last_events
        FROM members LEFT JOIN per_member p ON p.contact_id = members.id
        ORDER BY lower(members.last_name) NULLS LAST, lower(members.first_name) NULLS LAST, members.email, members.id
        """,
        {"group": group["id"], "limit": limit, "as_of": as_of, "per_member": events_per_member},
    )
    columns = [d[0] for d in cursor.description]
    members = [dict(zip(columns, row)) for row in cursor.fetchall()]
    for member in members:
        member["last_events"] = member["last_events"] or []
        member.pop("id")
    group.pop("id")
    return {**group, "member_count": total, "shown": len(members), "members": members}
