"""Finding contacts by what a user types, and everything shown about one.

``contacts show`` and ``contacts find`` read through here; so do ``gdpr``
(by email) and the target resolution of ``tag`` and ``group``.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import duckdb

from cli.errors import InputError, NotFoundError
from cli.normalise import normalise_email, normalise_phone


def contact_record(con: duckdb.DuckDBPyConnection, contact_id: int) -> dict[str, Any]:
    """The contact row as a dict (column -> value)."""
    cursor = con.execute("SELECT * FROM contacts WHERE id = ?", [contact_id])
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"no contact with id {contact_id}.")
    return dict(zip([d[0] for d in cursor.description], row))


# Columns that are internal plumbing, not something a user reads about a contact.
_HIDDEN_COLUMNS = ("email_key", "phone_key")
_CONSENT_COLUMNS = ("consent_email", "consent_basis", "consent_at", "consent_method", "consent_withdrawn_at")
LIVE_STATUSES = ("active", "suppressed")


# How an email reached its live contact (``live_contacts_for_emails``), best first.
OWN, MERGED_AWAY, BEFORE_MERGE = "own", "merged", "before_merge"

_LIVE_FOR_EMAILS = """
WITH RECURSIVE given AS (SELECT DISTINCT unnest($emails::VARCHAR[]) AS email),
start AS (
    SELECT g.email, c.id, 0 AS rank FROM given g JOIN contacts c ON c.email = g.email
    WHERE c.status IN ('active', 'suppressed')
    UNION ALL
    SELECT g.email, c.merged_into, 1 FROM given g JOIN contacts c ON c.email = g.email
    WHERE c.status = 'merged' AND c.merged_into IS NOT NULL
    UNION ALL
    -- The kept contact's own address, which a merge replaced by the other record's.
    SELECT g.email, m.kept_id, 2 FROM given g
    JOIN merges m ON json_extract_string(m.kept_before, '$.contacts[0].email') = g.email
    WHERE m.undone_at IS NULL
),
chain(email, id, rank, depth) AS (
    SELECT email, id, rank, 0 FROM start
    UNION ALL
    -- A contact that absorbed this one may itself have been merged away since.
    SELECT chain.email, c.merged_into, chain.rank, chain.depth + 1
    FROM chain JOIN contacts c ON c.id = chain.id
    WHERE c.status = 'merged' AND c.merged_into IS NOT NULL AND chain.depth < 50
)
SELECT chain.email, arg_min(c.id, chain.rank * 1e12 + c.id), min(chain.rank)
FROM chain JOIN contacts c ON c.id = chain.id
WHERE c.status IN ('active', 'suppressed')
GROUP BY chain.email
"""
_HOW = {0: OWN, 1: MERGED_AWAY, 2: BEFORE_MERGE}


# Each merged-away contact and the live contact it ended in (following later merges of
# the one that absorbed it): where an import's row for its address or external id goes.
MERGED_KEEPERS_SQL = """
WITH RECURSIVE chain(id, keeper, depth) AS (
    SELECT id, merged_into, 1 FROM contacts WHERE status = 'merged' AND merged_into IS NOT NULL
    UNION ALL
    SELECT chain.id, c.merged_into, chain.depth + 1 FROM chain JOIN contacts c ON c.id = chain.keeper
    WHERE c.status = 'merged' AND c.merged_into IS NOT NULL AND chain.depth < 50
)
SELECT chain.id, chain.keeper FROM chain JOIN contacts c ON c.id = chain.keeper
WHERE c.status IN ('active', 'suppressed')
"""


def live_contacts_for_emails(con: duckdb.DuckDBPyConnection, emails: list[str]) -> dict[str, tuple[int, str]]:
    """Normalised emails -> (live contact id, how it was reached), set-wise.

    A live contact's own address comes first; else a record merged away
    with that address leads to the contact that absorbed it (following
    later merges of that one too); else a kept contact whose address a merge
    replaced. Emails that reach no live contact are left out.
    """
    if not emails:
        return {}
    rows = con.execute(_LIVE_FOR_EMAILS, {"emails": list(emails)}).fetchall()
    return {email: (contact_id, _HOW[rank]) for email, contact_id, rank in rows}


def live_contact_for_id(con: duckdb.DuckDBPyConnection, contact_id: int) -> tuple[int, str] | None:
    """The live contact a contact id stands for (itself, or where it was merged), with its status."""
    row = con.execute(
        """
        WITH RECURSIVE chain(id, depth) AS (
            SELECT ?::BIGINT, 0
            UNION ALL
            SELECT c.merged_into, chain.depth + 1 FROM chain JOIN contacts c ON c.id = chain.id
            WHERE c.status = 'merged' AND c.merged_into IS NOT NULL AND chain.depth < 50
        )
        SELECT c.id, (SELECT status FROM contacts WHERE id = ?) FROM chain JOIN contacts c ON c.id = chain.id
        WHERE c.status IN ('active', 'suppressed') ORDER BY chain.depth LIMIT 1
        """,
        [contact_id, contact_id],
    ).fetchone()
    return (row[0], row[1]) if row else None


def closest_email(con: duckdb.DuckDBPyConnection, email: str) -> str | None:
    """The address of a live contact closest to ``email`` (a typo or two away), None when none is close."""
    row = con.execute(
        "SELECT email, levenshtein(email, $e) AS d FROM contacts "
        "WHERE status IN ('active', 'suppressed') AND email IS NOT NULL AND d <= greatest(2, length($e) // 10) "
        "ORDER BY d, email LIMIT 1", {"e": email},
    ).fetchall()
    return row[0][0] if row else None


def resolve_contact(con: duckdb.DuckDBPyConnection, email: str, *, suggest: bool = False) -> tuple[int, str | None]:
    """The live contact for ``email``, and a note when it was found through a merge.

    ``NotFoundError`` when no live contact has (or absorbed) that email;
    the message says so when the person was erased by ``gdpr forget``, and
    with ``suggest`` names the closest address a live contact holds.
    """
    normalised = normalise_email(email)
    if not normalised:
        raise NotFoundError("an empty email was given; give the contact's email address.")
    found = live_contacts_for_emails(con, [normalised]).get(normalised)
    if found is not None:
        contact_id, how = found
        if how == MERGED_AWAY:
            return contact_id, f"{normalised} was merged into this contact"
        if how == BEFORE_MERGE:
            return contact_id, f"{normalised} was this contact's email before a merge"
        return contact_id, None
    forgotten = con.execute(
        "SELECT count(*) FROM suppressions WHERE reason = 'erased' AND key = crmseg_key(?)", [normalised]
    ).fetchone()[0]
    if forgotten:
        raise NotFoundError(f"the person with the email {normalised} was erased (gdpr forget); nothing is held on them.")
    close = closest_email(con, normalised) if suggest else None
    if close:
        raise NotFoundError(f"no contact with the email {normalised}: did you mean `{close}`? "
                            "Check the address, or `crmseg contacts find`.")
    raise NotFoundError(f"no contact with the email {normalised}. Check the address, or `crmseg contacts find`.")


_CONTACT_ID = re.compile(r"#?(\d{1,7})")
# What a person types for a phone number: digits with spaces, dots, dashes, slashes, brackets, a plus.
_PHONE_LIKE = re.compile(r"\+?[\d\s./()-]*\d[\d\s./()-]*")


def _phone_digits(text: str) -> str | None:
    """The digits of ``text`` when it is written like a phone number (at least six digits), else None."""
    digits = re.sub(r"\D", "", text)
    return digits if _PHONE_LIKE.fullmatch(text.strip()) and len(digits) >= 6 else None


def resolve_identifier(
    con: duckdb.DuckDBPyConnection, text: str, *, region: str, unique: bool = False, suggest: bool = False
) -> tuple[int, str | None]:
    """The live contact that ``text`` names: an email, a contact id (``#123``) or a phone number.

    A postal donor has no email: ``contacts find`` gives the id, the phone
    finds them too. Returns the id and a note (a merge followed, or other
    contacts sharing the phone). ``NotFoundError`` when none; with
    ``unique``, ``InputError`` when several contacts share the phone.
    """
    text = (text or "").strip()
    if "@" in text:
        return resolve_contact(con, text, suggest=suggest)
    by_id = _CONTACT_ID.fullmatch(text)
    if by_id:
        row = live_contact_for_id(con, int(by_id.group(1)))
        if row is None:
            raise NotFoundError(f"no live contact with the id {by_id.group(1)} (`crmseg contacts find` lists ids).")
        return row[0], (f"contact {by_id.group(1)} was merged into this contact" if row[1] == "merged" else None)
    phone = normalise_phone(text, region) if _phone_digits(text) else None
    if phone is None:
        raise NotFoundError(f"`{text}` is not an email address, a contact id (#123) or a phone number; "
                            "`crmseg contacts find` looks up names and cities.")
    ids = [r[0] for r in con.execute(
        "SELECT id FROM contacts WHERE phone = ? AND status IN ('active', 'suppressed') ORDER BY id", [phone]
    ).fetchall()]
    if not ids:
        raise NotFoundError(f"no contact with the phone {phone}. Check the number, or `crmseg contacts find`.")
    others = ", ".join("#" + str(i) for i in ids[1:])
    if unique and others:
        raise InputError(f"{len(ids)} contacts share the phone {phone} (#{ids[0]}, {others}): "
                         "give the id of the person (`crmseg contacts find` shows them).")
    return ids[0], (f"{len(ids)} contacts share the phone {phone}; the others are {others}" if others else None)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def custom_values_of(con: duckdb.DuckDBPyConnection, contact_id: int) -> dict[str, Any]:
    """The contact's custom field values, typed (a multiselect is a list)."""
    rows = con.execute(
        "SELECT field, coalesce(to_json(list_value), to_json(text_value), to_json(number_value), "
        "to_json(date_value), to_json(bool_value)) FROM custom_values WHERE contact_id = ? ORDER BY field",
        [contact_id],
    ).fetchall()
    return {name: json.loads(value) if value is not None else None for name, value in rows}


def consent_summary(record: dict[str, Any], suppressions: list[dict[str, Any]]) -> dict[str, Any]:
    """Consent fields, the suppressions on the contact's keys, and whether email may be sent."""
    consent = {column.removeprefix("consent_"): record.get(column) for column in _CONSENT_COLUMNS}
    if record.get("status") != "active":
        emailable, why = False, f"status {record.get('status')} ({record.get('status_reason') or 'no reason given'})"
    elif suppressions:
        emailable, why = False, f"suppressed ({suppressions[0]['reason']})"
    elif not record.get("email"):
        emailable, why = False, "no email address"
    elif record.get("consent_withdrawn_at") is not None:
        emailable, why = False, "consent withdrawn"
    elif record.get("consent_email") is not True:
        emailable, why = False, "no recorded opt-in"
    else:
        emailable, why = True, "opted in, not suppressed"
    consent["suppressions"] = suppressions
    consent["emailable"] = emailable
    consent["emailable_reason"] = why
    return consent


def contact_profile(con: duckdb.DuckDBPyConnection, contact_id: int, *, as_of: date, events: int = 10) -> dict[str, Any]:
    """Everything ``contacts show`` prints about one contact, as of ``as_of``.

    Events after ``as_of`` are left out; scores are the latest computed on or
    before ``as_of``; segments are those whose latest run included the contact.
    """
    record = contact_record(con, contact_id)
    keys = [k for k in (record.get("email_key"), record.get("phone_key")) if k]
    fields = {k: v for k, v in record.items() if k not in _HIDDEN_COLUMNS and k not in _CONSENT_COLUMNS}
    tags = [r[0] for r in con.execute("SELECT DISTINCT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", [contact_id]).fetchall()]
    groups = _rows(
        con,
        "SELECT g.name, g.description, m.added_at FROM group_members m JOIN groups g ON g.id = m.group_id "
        "WHERE m.contact_id = ? ORDER BY g.name",
        [contact_id],
    )
    suppressions = _rows(
        con,
        "SELECT kind, reason, suppressed_at, source FROM suppressions WHERE list_contains(?, key) "
        "ORDER BY suppressed_at DESC",
        [keys],
    )
    scores = _rows(
        con,
        "SELECT * EXCLUDE (contact_id) FROM contact_scores WHERE contact_id = ? AND as_of <= ? "
        "ORDER BY as_of DESC LIMIT 1",
        [contact_id, as_of],
    )
    last_events = _rows(
        con,
        "SELECT type, occurred_at, amount, currency, campaign, channel, payment_method, details FROM events "
        "WHERE contact_id = ? AND occurred_at < (?::DATE + INTERVAL 1 DAY) ORDER BY occurred_at DESC, id DESC LIMIT ?",
        [contact_id, as_of, events],
    )
    event_total = con.execute(
        "SELECT count(*) FROM events WHERE contact_id = ? AND occurred_at < (?::DATE + INTERVAL 1 DAY)",
        [contact_id, as_of],
    ).fetchone()[0]
    segments = _rows(
        con,
        """
        WITH latest AS (SELECT segment, max(id) AS run_id FROM segment_runs GROUP BY segment)
        SELECT r.segment, r.run_at, r.as_of FROM latest
        JOIN segment_runs r ON r.id = latest.run_id
        JOIN segment_members m ON m.run_id = r.id AND m.contact_id = ?
        ORDER BY r.segment
        """,
        [contact_id],
    )
    # Records merged into it, directly or into a record that it absorbed later.
    merged_from = [
        r[0]
        for r in con.execute(
            """
            WITH RECURSIVE absorbed(id, depth) AS (
                SELECT id, 0 FROM contacts WHERE merged_into = $id AND status = 'merged'
                UNION ALL
                SELECT c.id, absorbed.depth + 1 FROM contacts c JOIN absorbed ON c.merged_into = absorbed.id
                WHERE c.status = 'merged' AND absorbed.depth < 50
            )
            SELECT coalesce(c.email, '(no email, id ' || c.id || ')') FROM contacts c
            WHERE c.id IN (SELECT id FROM absorbed) ORDER BY c.id
            """,
            {"id": contact_id},
        ).fetchall()
    ]
    return {
        "contact": fields,
        "custom": custom_values_of(con, contact_id),
        "tags": tags,
        "groups": groups,
        "consent": consent_summary(record, suppressions),
        "scores": scores[0] if scores else None,
        "event_count": event_total,
        "last_events": last_events,
        "segments": segments,
        "merged_from": merged_from,
    }


# Letters that strip_accents keeps but a person types otherwise: Lætitia as laetitia, Œuvre as oeuvre.
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("ł", "l"), ("đ", "d"))


def _fold(sql: str) -> str:
    """SQL lower-casing ``sql`` (a constant expression of this module) without accents or ligatures."""
    folded = "strip_accents(lower(" + sql + "))"
    for letter, plain in _LIGATURES:
        folded = "replace(" + folded + ", '" + letter + "', '" + plain + "')"
    return folded


def find_contacts(con: duckdb.DuckDBPyConnection, text: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Live contacts whose names, email, organisation or city hold every word of ``text``.

    Matching ignores case, accents and ligatures (``helene`` finds ``Hélène``,
    ``laetitia`` finds ``Lætitia``); each word
    may match a different field (``marie lyon``). Text written like a phone
    number (``06 12 34 56 78``, ``+33 6 12 34``, ``45 67 89``) finds the phones
    holding its digits, whatever their spacing (a leading 0 stands for the
    country code).
    """
    words = [w for w in (text or "").split() if w]
    if not words:
        raise InputError("give some text to look for: part of a name, an email, a city or a phone number.")
    digits = _phone_digits(text)
    return _rows(
        con,
        """
        WITH hay AS (
            SELECT id, email, first_name, last_name, organisation, city, phone, status,
                   """ + _fold("concat_ws(' ', first_name, last_name, email, organisation, city)") + """ AS text
            FROM contacts WHERE status IN ('active', 'suppressed')
        ),
        needles AS (SELECT list_transform($words::VARCHAR[], lambda w: """ + _fold("w") + """) AS words)
        SELECT hay.* EXCLUDE (text) FROM hay, needles
        WHERE list_bool_and(list_transform(needles.words, lambda w: contains(hay.text, w)))
           OR ($digits IS NOT NULL AND contains(regexp_replace(hay.phone, '\\D', '', 'g'), ltrim($digits, '0')))
        ORDER BY lower(last_name) NULLS LAST, lower(first_name) NULLS LAST, email, id
        LIMIT $limit
        """,
        {"words": words, "limit": limit, "digits": digits},
    )
