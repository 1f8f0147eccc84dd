"""Reviewing duplicate pairs: what ``crmseg dupes`` lists, shows, merges and undoes.

Only pairs whose two contacts are still live are listed or merged; a pair
left behind by an earlier merge is found again, re-pointed, by the next
``clean``. Merging many pairs links them into clusters first, so three
records of one person end as one contact.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cli.cleaning.merge import PlannedMerge, merge_contacts, plan_clusters, rank_contacts, undo_merge
from cli.contacts import contact_record, live_contact_for_id
from cli.errors import InputError, NotFoundError
from cli.store import log_action, transaction

_LIVE = "IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))"
SHOWN_FIELDS = (
    "id", "email", "first_name", "last_name", "gender", "birth_date", "phone", "street", "postal_code", "city",
    "country", "organisation", "job_title", "consent_email", "status", "status_reason", "source", "created_at",
    "updated_at",
)


def list_pairs(
    con: duckdb.DuckDBPyConnection, *, min_score: float | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Pending pairs between live contacts, best score first."""
    rows = con.execute(
        """
        SELECT p.id, p.score, p.matched_fields,
               a.id, concat_ws(' ', a.first_name, a.last_name), a.email, a.postal_code,
               b.id, concat_ws(' ', b.first_name, b.last_name), b.email, b.postal_code
        FROM duplicate_pairs p
        JOIN contacts a ON a.id = p.contact_a JOIN contacts b ON b.id = p.contact_b
        WHERE p.status = 'pending' AND a.status IN ('active', 'suppressed') AND b.status IN ('active', 'suppressed')
          AND p.score >= coalesce($min, 0)
        ORDER BY p.score DESC, p.id
        LIMIT coalesce($limit, 1000000000)
        """,
        {"min": min_score, "limit": limit},
    ).fetchall()
    return [
        {
            "pair_id": r[0],
            "score": r[1],
            "matched_fields": r[2] or [],
            "a": {"id": r[3], "name": r[4], "email": r[5], "postal_code": r[6]},
            "b": {"id": r[7], "name": r[8], "email": r[9], "postal_code": r[10]},
        }
        for r in rows
    ]


def _pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> tuple[int, int, float, str, list[str]]:
    row = con.execute(
        "SELECT contact_a, contact_b, score, status, matched_fields FROM duplicate_pairs WHERE id = ?", [pair_id]
    ).fetchall()
    if not row:
        raise NotFoundError(
            f"no duplicate pair with id {pair_id}. `crmseg dupes list` shows the pending pairs (a pair is "
            "removed with its contacts when `gdpr forget` or retention erases one of them)."
        )
    return row[0]


def _live_contact(con: duckdb.DuckDBPyConnection, contact_id: int) -> tuple[int | None, int | None]:
    """(the live contact that holds ``contact_id`` now, the merge that first took it away), following merges.

    (contact_id, None) for a live contact; (None, merge) when the chain ends on an erased record.
    """
    live = live_contact_for_id(con, contact_id)
    first_merge = con.execute(
        "SELECT max(m.id) FROM merges m JOIN contacts c ON c.id = m.absorbed_id "
        "WHERE m.absorbed_id = ? AND m.undone_at IS NULL AND c.status = 'merged'",
        [contact_id],
    ).fetchall()[0][0]
    return (live[0] if live else None), first_merge


def pair_problem(con: duckdb.DuckDBPyConnection, pair_id: int, a: int, b: int, status: str) -> str | None:
    """Why pair ``pair_id`` cannot be merged now, as a message saying what to do; None when it can."""
    if status == "merged":
        merge = con.execute(
            "SELECT id, kept_id, absorbed_id FROM merges WHERE undone_at IS NULL AND "
            "((kept_id = $a AND absorbed_id = $b) OR (kept_id = $b AND absorbed_id = $a) OR absorbed_id IN ($a, $b)) "
            "ORDER BY id DESC LIMIT 1",
            {"a": a, "b": b},
        ).fetchall()
        merge = merge[0] if merge else None
        if merge is None:
            return f"pair {pair_id} is already merged; nothing to do."
        return (
            f"pair {pair_id} is already merged: contact #{merge[2]} went into #{merge[1]} (merge {merge[0]}). "
            f"Nothing to do; `crmseg dupes undo {merge[0]}` would split them again."
        )
    if status == "rejected":
        return (
            f"pair {pair_id} (#{a} and #{b}) was marked as two different people when its merge was undone, "
            "so it is not merged again; nothing to do."
        )
    if status != "pending":
        return f"pair {pair_id} is {status}, not pending; only pending pairs can be merged."
    now = {cid: _live_contact(con, cid) for cid in (a, b)}
    if all(live == cid for cid, (live, _) in now.items()):
        return None
    said = []
    for cid, (live, merge) in now.items():
        if live == cid:
            continue
        if live is None:
            said.append(f"contact #{cid} was erased since")
        else:
            said.append(f"contact #{cid} was merged into #{live} since" + (f" (merge {merge})" if merge else ""))
    (live_a, _), (live_b, _) = now[a], now[b]
    if live_a is None or live_b is None:
        then = "nothing is left to merge."
    elif live_a == live_b:
        then = f"both records are now contact #{live_a}: nothing is left to merge."
    else:
        then = (
            f"the pair now stands for #{live_a} and #{live_b}: `crmseg clean --only duplicates` scores them "
            "again and lists them under a new pair id if they still look alike."
        )
    return f"pair {pair_id} is out of date: {' and '.join(said)}; {then}"


def _side(con: duckdb.DuckDBPyConnection, contact_id: int) -> dict[str, Any]:
    """What a reviewer weighs besides the fields: tags, groups, events (by type) and custom values."""
    tags = [r[0] for r in con.execute(
        "SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", [contact_id]).fetchall()]
    groups = [r[0] for r in con.execute(
        "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.contact_id = ? ORDER BY g.name",
        [contact_id]).fetchall()]
    by_type = dict(con.execute(
        "SELECT type, count(*) FROM events WHERE contact_id = ? GROUP BY type ORDER BY type", [contact_id]).fetchall())
    custom = con.execute("SELECT count(*) FROM custom_values WHERE contact_id = ?", [contact_id]).fetchall()[0][0]
    return {"tags": tags, "groups": groups, "events": sum(by_type.values()), "events_by_type": by_type,
            "custom_values": custom}


def _kept_and_absorbed(con: duckdb.DuckDBPyConnection, a: int, b: int) -> tuple[int, int]:
    ranks = rank_contacts(con, [a, b])
    return (a, b) if ranks[a] >= ranks[b] else (b, a)


def _can_preview(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a merge can be made and rolled back here without touching anything else.

    Not on a read-only base (the merge cannot be made), nor inside a transaction the caller
    opened: DuckDB has no savepoints, and a ``BEGIN`` there fails and aborts the caller's work.
    """
    readonly = con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if readonly and readonly[0][0]:
        return False
    # Outside a transaction each statement runs in one of its own, with a new id.
    first = con.execute("SELECT txid_current()").fetchall()[0][0]
    return con.execute("SELECT txid_current()").fetchall()[0][0] != first


def _preview(con: duckdb.DuckDBPyConnection, a: int, b: int, score: float) -> dict[str, Any] | None:
    """The contact a merge of ``a`` and ``b`` would leave: made inside a transaction, then rolled back.

    Running the merge itself (rather than restating its rules) makes the preview exactly what
    ``dupes merge`` does. None where that cannot be done in isolation (``_can_preview``).
    """
    if not _can_preview(con):
        return None
    kept, absorbed = _kept_and_absorbed(con, a, b)
    con.execute("BEGIN TRANSACTION")
    try:
        merge_contacts(con, [PlannedMerge(kept, absorbed, score, "review")], preview=True)
        record = contact_record(con, kept)
        side = _side(con, kept)
    finally:
        con.execute("ROLLBACK")
    return {"kept_id": kept, "absorbed_id": absorbed, "record": {f: record[f] for f in SHOWN_FIELDS}, **side}


def show_pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> dict[str, Any]:
    """Both records of a pair side by side, with what a merge would keep.

    ``problem`` says why the pair cannot be merged now (already merged, undone, out of date);
    ``merged`` is then null. It is null too on a read-only base or inside an open transaction,
    where the merge cannot be made and rolled back on its own.
    """
    a, b, score, status, matched = _pair(con, pair_id)
    records = [contact_record(con, a), contact_record(con, b)]
    problem = pair_problem(con, pair_id, a, b, status)
    return {
        "pair_id": pair_id,
        "score": score,
        "status": status,
        "matched_fields": matched or [],
        "problem": problem,
        "fields": [{"field": f, "a": records[0][f], "b": records[1][f]} for f in SHOWN_FIELDS],
        "a": _side(con, a),
        "b": _side(con, b),
        "merged": None if problem else _preview(con, a, b, score),
    }


def merge_pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> dict[str, Any]:
    """Merge one pair (the more complete, more recent contact is kept); one transaction."""
    a, b, score, status, _ = _pair(con, pair_id)
    problem = pair_problem(con, pair_id, a, b, status)
    if problem:
        raise InputError(problem)
    kept, absorbed = _kept_and_absorbed(con, a, b)
    with transaction(con):
        ids = merge_contacts(con, [PlannedMerge(kept, absorbed, score, "review")])
        log_action(con, "dupes", "merge", {"pair_id": pair_id, "merge_ids": ids})
    return {"pair_id": pair_id, "merge_ids": ids, "kept_id": kept, "absorbed_id": absorbed}


def merge_all(con: duckdb.DuckDBPyConnection, min_score: float) -> dict[str, Any]:
    """Merge every pending pair at or above ``min_score`` (clusters into one contact); one transaction."""
    pairs = con.execute(
        "SELECT contact_a, contact_b, score FROM duplicate_pairs WHERE status = 'pending' AND score >= ? "
        "AND contact_a " + _LIVE + " AND contact_b " + _LIVE,
        [min_score],
    ).fetchall()
    with transaction(con):
        ids = merge_contacts(con, plan_clusters(con, pairs, "review"))
        log_action(con, "dupes", "merge_all", {"min_score": min_score, "pairs": len(pairs), "merges": len(ids)})
    return {"min_score": min_score, "pairs": len(pairs), "merges": len(ids), "merge_ids": ids}


def undo(con: duckdb.DuckDBPyConnection, merge_id: int) -> dict[str, Any]:
    """Undo one merge in its own transaction."""
    with transaction(con):
        return undo_merge(con, merge_id)


def list_merges(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[dict[str, Any]]:
    """Merges, latest first."""
    rows = con.execute(
        "SELECT id, kept_id, absorbed_id, merged_at, score, rule, undone_at FROM merges "
        "ORDER BY id DESC LIMIT coalesce(?, 1000000000)",
        [limit],
    ).fetchall()
    keys = ("merge_id", "kept_id", "absorbed_id", "merged_at", "score", "rule", "undone_at")
    return [dict(zip(keys, r)) for r in rows]
