"""Merging duplicate contacts, and undoing a merge.

A merge keeps one contact and absorbs the other: the kept record takes, field
by field, the value of the more recently updated record where both have one
and the value of whichever has one otherwise (the address moves as a block:
street, postal code, city and country always come from the same record; the
email too, except that when only one of two different emails gave an opt-in,
that email is kept, so the union of consents never hands an opt-in to an
address that did not give it);
consent keeps the most recent opt-in facts and any withdrawal; tags, groups,
custom values (multiselects are unioned) and events are unioned onto the
kept contact; the stricter of the two statuses wins (a suppression beats
active, and the stricter reason wins) — but a suppression that judges an
address (invalid, role, bounces) counts only when the merged contact keeps
that address: a person's old bounced address does not stop their new one.
The absorbed contact stays as a row with status ``merged`` and ``merged_into``.

``merges`` records the absorbed record in full (contact row, tags, custom
values, group memberships and the ids of the events re-pointed) and the kept
record before (the same minus events), as JSON that DuckDB writes with
``to_json`` and reads back with ``from_json`` against the table's own column
types, so ``undo_merge`` restores both exactly. To keep 100,000 merges of one
clean light, a snapshot leaves out null fields (``from_json`` reads a
missing field as null; ``,"name":null`` cannot occur inside a JSON string,
where a quote is escaped) and the contact's ``email_key``/``phone_key``,
which undo computes again from the email and phone. A merge may only be undone
while it is the latest live merge touching either contact.

Merges are applied set-wise in rounds: each round merges at most one contact
into each kept one, so thousands of merges cost a few statements each.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb

from cli.errors import InputError, NotFoundError
from cli.event_summary import refresh_event_summary
from cli.store import log_action
from cli.store.connection import key_sql
from cli.suppression import SUPPRESSION_REASONS, apply_suppressions, suppress_contacts

# Tables restored from the snapshots: (table, column holding the contact id). Constants.
SNAPSHOT_TABLES = (
    ("contacts", "id"),
    ("contact_tags", "contact_id"),
    ("custom_values", "contact_id"),
    ("group_members", "contact_id"),
)
# Suppressions that judge an address, not the person's will: they stay with their address in a merge.
ADDRESS_REASONS = ("invalid", "role", "soft_bounce", "hard_bounce")
# Contact values chosen one by one (the others move in blocks or follow rules).
_SINGLE_FIELDS = (
    "external_id", "first_name", "last_name", "birth_date", "gender", "organisation", "job_title", "source",
)
# Blocks that always come from one record.
_BLOCKS = {
    "email": ("email", "email_key", "email_quality"),
    "phone": ("phone", "phone_key"),
    "street": ("street", "postal_code", "city", "country"),
}
# Columns counted for "most complete".
COMPLETENESS_FIELDS = (
    "email", "first_name", "last_name", "phone", "street", "postal_code", "city", "country", "birth_date",
    "gender", "organisation", "job_title", "external_id", "consent_at",
)


@dataclass(frozen=True)
class PlannedMerge:
    """One merge to make: ``absorbed`` goes into ``kept``."""

    kept: int
    absorbed: int
    score: float
    rule: str


def _pick(column: str, lead: str) -> str:
    # ``lead`` decides which record the value (or its whole block) comes from.
    return (
        f"CASE WHEN k.{lead} IS NULL THEN a.{column} WHEN a.{lead} IS NULL THEN k.{column} "
        f"WHEN a.updated_at > k.updated_at THEN a.{column} ELSE k.{column} END"
    )


def _pick_email(column: str, lead: str) -> str:
    # An address that gave an email opt-in stays the contact's address: the union
    # of consents must not hand that opt-in to an address that never gave it.
    differ = "a.email IS NOT NULL AND k.email IS NOT NULL AND a.email <> k.email"
    return (
        f"CASE WHEN {differ} AND a.consent_email IS TRUE AND k.consent_email IS NOT TRUE THEN a.{column} "
        f"WHEN {differ} AND k.consent_email IS TRUE AND a.consent_email IS NOT TRUE THEN k.{column} "
        f"ELSE {_pick(column, lead)} END"
    )


def _kept_update_sql() -> str:
    """The query giving each kept contact's merged row (built from the constants above).

    The kept rows are then replaced (delete and insert), which DuckDB does far
    faster than an UPDATE of twenty-odd columns.
    """
    sets = [f"{_pick(c, c)} AS {c}" for c in _SINGLE_FIELDS]
    for lead, columns in _BLOCKS.items():
        pick = _pick_email if lead == "email" else _pick
        sets += [f"{pick(c, lead)} AS {c}" for c in columns]
    newer_consent = "coalesce(a.consent_at > k.consent_at, k.consent_at IS NULL AND a.consent_at IS NOT NULL)"
    # A suppression of the person follows the person; one of an address only the record whose
    # address the merged contact keeps (another address's bounce does not stop a working one).
    kept_address = f"coalesce({_pick_email('email_key', 'email')}, {_pick('phone_key', 'phone')})"

    def counts(side: str) -> str:
        return (
            f"({side}.status = 'suppressed' AND (NOT list_contains($address_reasons, coalesce({side}.status_reason, '')) "
            f"OR coalesce({side}.email_key, {side}.phone_key) IS NOT DISTINCT FROM {kept_address}))"
        )

    kept_counts, absorbed_counts = counts("k"), counts("a")
    for c in ("consent_email", "consent_basis", "consent_at", "consent_method"):
        sets.append(f"CASE WHEN {newer_consent} THEN a.{c} ELSE coalesce(k.{c}, a.{c}) END AS {c}")
    sets += [
        "greatest(k.consent_withdrawn_at, a.consent_withdrawn_at) AS consent_withdrawn_at",
        f"CASE WHEN {kept_counts} OR {absorbed_counts} THEN 'suppressed' ELSE 'active' END AS status",
        f"CASE WHEN {kept_counts} AND {absorbed_counts} THEN "
        "CASE WHEN coalesce(list_position($reasons, a.status_reason), 0) > "
        "coalesce(list_position($reasons, k.status_reason), 0) THEN a.status_reason "
        "ELSE k.status_reason END "
        f"WHEN {absorbed_counts} THEN a.status_reason WHEN {kept_counts} THEN k.status_reason END AS status_reason",
        "k.is_inactive AND a.is_inactive AS is_inactive",
        "least(k.created_at, a.created_at) AS created_at",
        "current_timestamp::TIMESTAMP AS updated_at",
    ]
    body = ",\n    ".join(sets)
    return (
        f"CREATE OR REPLACE TEMP TABLE _merge_kept AS SELECT k.* REPLACE (\n    {body}\n)\n"
        f"FROM _merge_round r JOIN _merge_contacts k ON k.id = r.kept_id JOIN _merge_contacts a ON a.id = r.absorbed_id"
    )


_KEPT_UPDATE = _kept_update_sql()

# Inserts one ``merges`` row per merge of the round, with both snapshots. (A CTE rather than a
# temp table: ``clean`` runs in one transaction, which keeps replaced temp tables until it commits.)
_INSERT_MERGES = """
    INSERT INTO merges (id, kept_id, absorbed_id, score, rule, absorbed_record, kept_before)
    WITH ids AS (
        SELECT kept_id AS id, false AS absorbed FROM _merge_round
        UNION ALL SELECT absorbed_id, true FROM _merge_round
    ),
    tg AS (SELECT t.contact_id, list(t ORDER BY t.tag, t.added_at) AS rows FROM contact_tags t
           WHERE t.contact_id IN (SELECT id FROM ids) GROUP BY t.contact_id),
    cv AS (SELECT v.contact_id, list(v ORDER BY v.field) AS rows FROM custom_values v
           WHERE v.contact_id IN (SELECT id FROM ids) GROUP BY v.contact_id),
    gm AS (SELECT g.contact_id, list(g ORDER BY g.group_id) AS rows FROM group_members g
           WHERE g.contact_id IN (SELECT id FROM ids) GROUP BY g.contact_id),
    ev AS (SELECT absorbed_id AS contact_id, ids FROM _merge_events
           WHERE absorbed_id IN (SELECT absorbed_id FROM _merge_round)),
    mc AS (SELECT * EXCLUDE (email_key, phone_key) FROM _merge_contacts WHERE id IN (SELECT id FROM ids)),
    snap AS (SELECT c.id AS contact_id, to_json({
        'contacts': [c],
        'contact_tags': coalesce(tg.rows, []),
        'custom_values': coalesce(cv.rows, []),
        'group_members': coalesce(gm.rows, []),
        'events': coalesce(ev.ids, [])
    }) AS snap
    FROM mc c JOIN ids ON ids.id = c.id
    LEFT JOIN tg ON tg.contact_id = c.id LEFT JOIN cv ON cv.contact_id = c.id
    LEFT JOIN gm ON gm.contact_id = c.id LEFT JOIN ev ON ev.contact_id = c.id)
    -- A field left out (null) reads back as null: see the module docstring.
    SELECT r.merge_id, r.kept_id, r.absorbed_id, r.score, r.rule,
           regexp_replace(sa.snap, ',"[a-z_]+":null', '', 'g'), regexp_replace(sk.snap, ',"[a-z_]+":null', '', 'g')
    FROM _merge_round r
    JOIN snap sa ON sa.contact_id = r.absorbed_id
    JOIN snap sk ON sk.contact_id = r.kept_id
"""


def rank_contacts(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, tuple]:
    """Sort key per contact for choosing the one to keep: most complete, then most recent, then oldest id."""
    filled = " + ".join(f"({c} IS NOT NULL)::INT" for c in COMPLETENESS_FIELDS)
    # The expression is built from the constant column list above.
    rows = con.execute(
        "SELECT id, " + filled + ", epoch_us(updated_at) FROM contacts WHERE id IN (SELECT unnest($ids::BIGINT[]))",
        {"ids": ids},
    ).fetchall()
    return {r[0]: (r[1], r[2], -r[0]) for r in rows}


def _two_people(a: tuple, b: tuple) -> bool:
    """Whether two (birth_date, gender) say two people: birth dates the scoring counts against
    (two or three parts differ, not a day/month swap), or F and M with no equal birth date."""
    (birth_a, gender_a), (birth_b, gender_b) = a, b
    if birth_a is not None and birth_b is not None and birth_a != birth_b:
        swapped = (birth_a.year, birth_a.month, birth_a.day) == (birth_b.year, birth_b.day, birth_b.month)
        same_parts = (birth_a.year == birth_b.year) + (birth_a.month == birth_b.month) + (birth_a.day == birth_b.day)
        if not swapped and same_parts < 2:
            return True
    return {gender_a, gender_b} == {"F", "M"} and (birth_a is None or birth_a != birth_b)


def _people_facts(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, tuple]:
    """(birth_date, gender) per contact, for ``_two_people``; one query for all clusters."""
    rows = con.execute(
        "SELECT id, birth_date, gender FROM contacts WHERE id IN (SELECT unnest($ids::BIGINT[]))", {"ids": ids}
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def plan_clusters(
    con: duckdb.DuckDBPyConnection, pairs: list[tuple[int, int, float]], rule: str
) -> list[PlannedMerge]:
    """Group linked pairs into clusters (union-find) and keep the best-ranked contact of each.

    A fuzzy cluster is linked pair by pair, so a record with no birth date can link a father and
    his son of the same name: a cluster holding two people (``_two_people``) is not merged, and
    its pairs wait for review, where a user merges the right ones one by one. Exact-email
    clusters are merged whatever they hold (the SPEC's rule).
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best: dict[int, float] = defaultdict(float)
    for a, b, score in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
        best[a] = max(best[a], score)
        best[b] = max(best[b], score)
    clusters: dict[int, list[int]] = defaultdict(list)
    for x in list(parent):
        clusters[find(x)].append(x)
    ranks = rank_contacts(con, list(parent))
    # A pair's own score already weighs its two records; only a cluster of three or more can
    # link two people through a third record.
    linked = [m for members in clusters.values() if len(members) > 2 for m in members]
    facts = _people_facts(con, linked) if rule != "exact_email" and linked else {}
    plan = []
    for members in clusters.values():
        members = [m for m in members if m in ranks]
        if len(members) < 2 or (
            len(members) > 2 and any(_two_people(facts[a], facts[b]) for i, a in enumerate(members)
                                     for b in members[i + 1 :] if a in facts and b in facts)
        ):
            continue
        kept = max(members, key=lambda m: ranks[m])
        plan += [PlannedMerge(kept, m, best[m], rule) for m in sorted(members) if m != kept]
    return plan


def merge_contacts(
    con: duckdb.DuckDBPyConnection,
    plan: list[PlannedMerge],
    *,
    run_id: int | None = None,
    pass_name: str = "duplicates",
    preview: bool = False,
) -> list[int]:
    """Apply the planned merges; returns the merge ids, in the order they were made.

    The caller owns the transaction. Contacts that are no longer live (merged,
    erased) are skipped; a contact may not be both kept and absorbed.
    ``preview``: the caller rolls the merges back (``dupes show``); they then
    draw no id from a sequence (a rollback does not give one back): the
    merges get negative ids and no new pair is recorded.
    """
    kept_ids = {m.kept for m in plan}
    if any(m.absorbed in kept_ids for m in plan) or len({m.absorbed for m in plan}) != len(plan):
        raise ValueError("a merge plan must be star-shaped: absorbed contacts are absorbed once and kept by none")
    by_kept: dict[int, list[PlannedMerge]] = defaultdict(list)
    for m in plan:
        by_kept[m.kept].append(m)
    # Events are re-pointed once for all rounds (they do not change the merged values);
    # the ids of each absorbed contact's events are noted first, for the snapshots.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _merge_plan AS
        SELECT unnest($kept::BIGINT[]) AS kept_id, unnest($absorbed::BIGINT[]) AS absorbed_id
        """,
        {"kept": [m.kept for m in plan], "absorbed": [m.absorbed for m in plan]},
    )
    # A working copy of the contacts involved, kept in step with the base, so that each round
    # reads a few thousand rows rather than the whole base.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _merge_contacts AS SELECT * FROM contacts "
        "WHERE id IN (SELECT kept_id FROM _merge_plan UNION ALL SELECT absorbed_id FROM _merge_plan)"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _merge_events AS
        SELECT e.contact_id AS absorbed_id, list(e.id ORDER BY e.id) AS ids
        FROM events e SEMI JOIN _merge_plan p ON p.absorbed_id = e.contact_id
        GROUP BY e.contact_id
        """
    )
    merge_ids: list[int] = []
    round_number = 0
    while True:
        batch = [merges[round_number] for merges in by_kept.values() if len(merges) > round_number]
        if not batch:
            break
        merge_ids += _merge_round(con, batch, run_id, pass_name, preview)
        round_number += 1
    if merge_ids:
        con.execute(
            """
            UPDATE events SET contact_id = m.kept_id
            FROM (SELECT kept_id, absorbed_id FROM merges WHERE id IN (SELECT unnest($ids::BIGINT[]))) m
            WHERE events.contact_id = m.absorbed_id
            """,
            {"ids": merge_ids},
        )
        refresh_event_summary(con, sorted({m.kept for m in plan} | {m.absorbed for m in plan}))
    return merge_ids


def _merge_round(
    con: duckdb.DuckDBPyConnection, batch: list[PlannedMerge], run_id: int | None, pass_name: str,
    preview: bool = False,
) -> list[int]:
    # A preview's ids come from no sequence (see merge_contacts); the expression is one of these constants.
    merge_id = "-(SELECT count(*) FROM merges WHERE id < 0) - row_number() OVER ()" if preview else "nextval('merge_id_seq')"
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _merge_round AS
        SELECT """ + merge_id + """ AS merge_id, p.* FROM (
            SELECT unnest($kept::BIGINT[]) AS kept_id, unnest($absorbed::BIGINT[]) AS absorbed_id,
                   unnest($score::DOUBLE[]) AS score, unnest($rule::VARCHAR[]) AS rule
        ) p
        WHERE p.kept_id IN (SELECT id FROM _merge_contacts WHERE status IN ('active', 'suppressed'))
          AND p.absorbed_id IN (SELECT id FROM _merge_contacts WHERE status IN ('active', 'suppressed'))
        """,
        {
            "kept": [m.kept for m in batch],
            "absorbed": [m.absorbed for m in batch],
            "score": [m.score for m in batch],
            "rule": [m.rule for m in batch],
        },
    )
    con.execute(_INSERT_MERGES)
    con.execute(_KEPT_UPDATE, {"reasons": list(SUPPRESSION_REASONS), "address_reasons": list(ADDRESS_REASONS)})
    for table in ("contacts", "_merge_contacts"):  # constant names: the base and the working copy
        con.execute("DELETE FROM " + table + " WHERE id IN (SELECT id FROM _merge_kept)")
        con.execute("INSERT INTO " + table + " BY NAME SELECT * FROM _merge_kept")
    # Tags, group memberships: the kept contact gains the ones it lacked.
    con.execute(
        """
        INSERT INTO contact_tags (contact_id, tag, added_at, source)
        SELECT r.kept_id, t.tag, t.added_at, t.source FROM contact_tags t
        JOIN _merge_round r ON r.absorbed_id = t.contact_id
        WHERE NOT EXISTS (SELECT 1 FROM contact_tags x WHERE x.contact_id = r.kept_id AND x.tag = t.tag)
        """
    )
    con.execute(
        """
        INSERT INTO group_members (group_id, contact_id, added_at)
        SELECT g.group_id, r.kept_id, g.added_at FROM group_members g
        JOIN _merge_round r ON r.absorbed_id = g.contact_id
        WHERE NOT EXISTS (SELECT 1 FROM group_members x WHERE x.contact_id = r.kept_id AND x.group_id = g.group_id)
        """
    )
    # Custom values: a list is unioned; otherwise the kept value stays and a missing one moves over.
    con.execute(
        """
        UPDATE custom_values k SET list_value = list_sort(list_distinct(list_concat(k.list_value, a.list_value)))
        FROM _merge_round r, custom_values a
        WHERE k.contact_id = r.kept_id AND a.contact_id = r.absorbed_id AND a.field = k.field
          AND k.list_value IS NOT NULL AND a.list_value IS NOT NULL
        """
    )
    con.execute(
        """
        INSERT INTO custom_values (contact_id, field, text_value, number_value, date_value, bool_value, list_value)
        SELECT r.kept_id, v.field, v.text_value, v.number_value, v.date_value, v.bool_value, v.list_value
        FROM custom_values v JOIN _merge_round r ON r.absorbed_id = v.contact_id
        WHERE NOT EXISTS (SELECT 1 FROM custom_values x WHERE x.contact_id = r.kept_id AND x.field = v.field)
        """
    )
    for table, column in SNAPSHOT_TABLES[1:]:
        # Table and column names come from the constant SNAPSHOT_TABLES.
        con.execute("DELETE FROM " + table + " WHERE " + column + " IN (SELECT absorbed_id FROM _merge_round)")
    if run_id is not None:
        con.execute(
            """
            INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
            SELECT $run_id, $pass, r.absorbed_id, 'merged',
                   to_json({'status': c.status, 'merged_into': c.merged_into}),
                   to_json({'status': 'merged', 'merged_into': r.kept_id, 'merge_id': r.merge_id})
            FROM _merge_round r JOIN _merge_contacts c ON c.id = r.absorbed_id
            """,
            {"run_id": run_id, "pass": pass_name},
        )
    for table in ("contacts", "_merge_contacts"):  # constant names: the base and the working copy
        con.execute(
            "UPDATE " + table + " SET status = 'merged', merged_into = r.kept_id, "
            "status_reason = 'merged into ' || r.kept_id::VARCHAR, updated_at = current_timestamp "
            "FROM _merge_round r WHERE " + table + ".id = r.absorbed_id"
        )
    # The strictest suppression follows the person to the kept contact's own key.
    con.execute(
        """
        INSERT INTO suppressions (key, kind, reason, source, contact_id)
        SELECT coalesce(k.email_key, k.phone_key), CASE WHEN k.email_key IS NOT NULL THEN 'email' ELSE 'phone' END,
               k.status_reason, 'merge:' || r.merge_id::VARCHAR, k.id
        FROM _merge_round r JOIN _merge_contacts k ON k.id = r.kept_id
        WHERE k.status = 'suppressed' AND coalesce(k.email_key, k.phone_key) IS NOT NULL
          AND list_contains($reasons, k.status_reason)
          AND NOT EXISTS (SELECT 1 FROM suppressions s
                          WHERE s.key = coalesce(k.email_key, k.phone_key) AND s.reason = k.status_reason)
        """,
        {"reasons": list(SUPPRESSION_REASONS)},
    )
    # Pairs between the absorbed contact and the kept one (or contacts already merged into it)
    # are remembered as merged, so an undo can mark them rejected.
    con.execute(
        """
        UPDATE duplicate_pairs SET status = 'merged'
        WHERE status = 'pending' AND id IN (
            SELECT p.id FROM duplicate_pairs p
            JOIN _merge_round r ON p.contact_a = r.absorbed_id JOIN _merge_contacts o ON o.id = p.contact_b
            WHERE o.id = r.kept_id OR o.merged_into = r.kept_id
            UNION ALL
            SELECT p.id FROM duplicate_pairs p
            JOIN _merge_round r ON p.contact_b = r.absorbed_id JOIN _merge_contacts o ON o.id = p.contact_a
            WHERE o.id = r.kept_id OR o.merged_into = r.kept_id)
        """
    )
    if preview:  # a new pair would draw an id from duplicate_pair_id_seq
        return [r[0] for r in con.execute("SELECT merge_id FROM _merge_round ORDER BY merge_id").fetchall()]
    con.execute(
        """
        INSERT INTO duplicate_pairs (contact_a, contact_b, score, matched_fields, status)
        SELECT least(r.kept_id, r.absorbed_id), greatest(r.kept_id, r.absorbed_id), r.score, [r.rule], 'merged'
        FROM _merge_round r
        WHERE NOT EXISTS (SELECT 1 FROM duplicate_pairs p WHERE p.contact_a = least(r.kept_id, r.absorbed_id)
                          AND p.contact_b = greatest(r.kept_id, r.absorbed_id))
        """
    )
    return [r[0] for r in con.execute("SELECT merge_id FROM _merge_round ORDER BY merge_id").fetchall()]


def _structure(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The ``from_json`` structure of a list of ``table`` rows, from the table's own column types."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return json.dumps([{name: dtype for name, dtype in rows}])


def _restore(con: duckdb.DuckDBPyConnection, contact_id: int, snapshot: str) -> None:
    for table, column in SNAPSHOT_TABLES:
        # Table and column names come from the constant SNAPSHOT_TABLES.
        con.execute("DELETE FROM " + table + " WHERE " + column + " = ?", [contact_id])
        con.execute(
            "INSERT INTO " + table + " BY NAME "
            "SELECT unnest(from_json(json_extract($snap, $path), $structure), recursive := true)",
            {"snap": snapshot, "path": "$." + table, "structure": _structure(con, table)},
        )


# Tags and group memberships change only by command (`tag`, `group`): these are the
# (table, key column, extra columns) that an undo keeps as the commands since the merge left them.
_LABEL_TABLES = (("contact_tags", "tag", "added_at, source"), ("group_members", "group_id", "added_at"))


def _labels_now(con: duckdb.DuckDBPyConnection, kept: int) -> dict[str, list[tuple]]:
    """The kept contact's tags and group memberships before an undo, as rows."""
    # Table and column names come from the constant _LABEL_TABLES.
    return {
        table: con.execute(
            "SELECT " + key + ", " + extra + " FROM " + table + " WHERE contact_id = ?", [kept]
        ).fetchall()
        for table, key, extra in _LABEL_TABLES
    }


def _keep_label_changes(
    con: duckdb.DuckDBPyConnection, kept: int, absorbed: int, labels: dict[str, list[tuple]],
    kept_before: str, absorbed_record: str,
) -> None:
    """After the snapshots are restored, keep what ``tag`` and ``group`` commands did since the merge.

    The kept contact keeps its tags and memberships of now, less those that
    came only from the absorbed record; the absorbed record gets back those of
    its own that the person still has (a tag taken off, or a group left or
    deleted since the merge, does not come back).
    """
    snapshots = {"kept": json.loads(kept_before), "absorbed": json.loads(absorbed_record)}
    for table, key, extra in _LABEL_TABLES:
        before = {row.get(key) for row in snapshots["kept"].get(table) or []}
        brought = {row.get(key) for row in snapshots["absorbed"].get(table) or []} - before
        now = [row for row in labels[table] if row[0] not in brought]
        still = {row[0] for row in labels[table]}
        # Table and column names come from the constant _LABEL_TABLES.
        con.execute("DELETE FROM " + table + " WHERE contact_id = ?", [kept])
        if now:
            placeholders = ", ".join("?" for _ in range(len(now[0]) + 1))
            con.executemany(
                "INSERT INTO " + table + " (contact_id, " + key + ", " + extra + ") VALUES (" + placeholders + ")",
                [[kept, *row] for row in now],
            )
        con.execute(
            "DELETE FROM " + table + " WHERE contact_id = ? AND NOT list_contains(?, " + key + ")",
            [absorbed, sorted(still)],
        )


def undo_merge(con: duckdb.DuckDBPyConnection, merge_id: int) -> dict[str, Any]:
    """Restore both contacts of merge ``merge_id`` as they were; the caller owns the transaction.

    Tags and group memberships are the exception: what ``tag`` and ``group``
    commands did since the merge stays (``_keep_label_changes``). The pair is
    then marked ``rejected`` so that ``clean`` does not merge it again.
    """
    row = con.execute(
        "SELECT kept_id, absorbed_id, absorbed_record, kept_before, undone_at FROM merges WHERE id = ?", [merge_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"no merge with id {merge_id}. `crmseg dupes list --merges` lists merges; a merge of a person "
            "erased since (`gdpr forget`, retention) is erased with them and cannot be undone."
        )
    kept, absorbed, absorbed_record, kept_before, undone_at = row
    if undone_at is not None:
        raise InputError(f"merge {merge_id} was already undone on {undone_at:%Y-%m-%d %H:%M}.")
    later = con.execute(
        """
        SELECT max(id) FROM merges WHERE id > $id AND undone_at IS NULL
          AND (kept_id IN ($k, $a) OR absorbed_id IN ($k, $a))
        """,
        {"id": merge_id, "k": kept, "a": absorbed},
    ).fetchone()[0]
    if later is not None:
        raise InputError(
            f"merge {merge_id} cannot be undone while the later merge {later} involves the same contacts: "
            f"undo merge {later} first (`crmseg dupes undo {later}`)."
        )
    # A death reported since the merge is the person's, whichever record's address the ledger entry
    # names: both records keep it. A death one record held before the merge was only passed on to the
    # other by the merge: the snapshots give it back to that record alone (an undone merge is often
    # two people, and the living one must not be barred from every list).
    died_before = any(
        (json.loads(snapshot).get("contacts") or [{}])[0].get("status_reason") == "deceased"
        for snapshot in (kept_before, absorbed_record)
    )
    deceased = not died_before and con.execute(
        "SELECT status_reason = 'deceased' FROM contacts WHERE id = ?", [kept]
    ).fetchone()[0]
    labels = _labels_now(con, kept)
    _restore(con, kept, kept_before)
    _restore(con, absorbed, absorbed_record)
    _keep_label_changes(con, kept, absorbed, labels, kept_before, absorbed_record)
    # Snapshots leave the keys out (older ones hold them: the same values).
    con.execute(
        "UPDATE contacts SET email_key = " + key_sql("email", "k") + ", phone_key = " + key_sql("phone", "k")
        + " FROM keyring k WHERE id IN (?, ?)",
        [kept, absorbed],
    )
    event_ids = json.loads(absorbed_record).get("events") or []
    con.execute(
        "UPDATE events SET contact_id = $a WHERE contact_id = $k AND id IN (SELECT unnest($ids::BIGINT[]))",
        {"a": absorbed, "k": kept, "ids": event_ids},
    )
    refresh_event_summary(con, [kept, absorbed])
    con.execute("DELETE FROM suppressions WHERE source = ?", [f"merge:{merge_id}"])
    # A suppression that arrived after the merge (a later unsubscribe, a death) stays on the restored records.
    merged_at = con.execute("SELECT merged_at FROM merges WHERE id = ?", [merge_id]).fetchone()[0]
    apply_suppressions(con, [kept, absorbed], since=merged_at)
    if deceased:
        suppress_contacts(con, [kept, absorbed], "deceased", f"undo:{merge_id}")
    con.execute("UPDATE merges SET undone_at = current_timestamp WHERE id = ?", [merge_id])
    con.execute(
        """
        UPDATE duplicate_pairs p SET status = 'rejected' FROM contacts o
        WHERE p.status = 'merged' AND (o.id = $k OR o.merged_into = $k)
          AND ((p.contact_a = $a AND p.contact_b = o.id) OR (p.contact_b = $a AND p.contact_a = o.id))
        """,
        {"k": kept, "a": absorbed},
    )
    details = {"merge_id": merge_id, "kept_id": kept, "absorbed_id": absorbed, "events_restored": len(event_ids)}
    log_action(con, "dupes", "undo", details)
    return details
