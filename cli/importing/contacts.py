"""``crmseg import contacts``: rows of a contact export into the base, set-wise.

The steps, each one SQL statement (or a few) over the whole file:

1. ``import_stg``: one row per data row, every mapped cell normalised
   (see ``contact_staging``).
2. Forgotten people (a row whose email or phone key is in the ledger with
   reason ``erased``) are dropped and counted; nothing of them is kept.
3. Rows that identify no one (no email, phone, external id, or name with a
   postal address) become rejects with the raw row.
4. Cells that could not be used become issues (column, value, reason).
5. Rows are grouped: within the file by email, else external id, else
   phone; each group is matched against the base by email, else external
   id, else phone (phone only for a row with neither), and rows matching the
   same contact fold into one.
6. New contacts are inserted; existing ones are filled (``fill``: only empty
   fields gain a value), overwritten (``update``: a non-empty cell wins) or
   left alone (``keep``); custom values and tags likewise.
7. Keys are computed for new contacts and refreshed for updated ones; what
   an emailing tool said of an address becomes facts (see
   ``contact_status``), and the suppression ledger is applied, so a
   re-imported address that bounced or unsubscribed stays suppressed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cli.contacts import MERGED_KEEPERS_SQL
from cli.errors import ImportFileError, InputError
from cli.importing.contact_staging import build_staging, title_as_job
from cli.importing.contact_status import status_facts
from cli.importing.headers import ColumnMapping, check_map_targets, map_headers
from cli.importing.runs import (
    ImportOptions,
    ImportSummary,
    PipelineContext,
    Progress,
    columns_used_by,
    no_progress,
    raw_row_json,
    record_cell_errors,
    run_import,
)
from cli.importing.values import gender_unstated_sql, no_date_sql
from cli.settings import Settings
from cli.store.connection import key_sql, rows_changed
from cli.suppression import apply_suppressions

ON_CONFLICT = ("fill", "update", "keep")


def _drop_forgotten(ctx: PipelineContext) -> None:
    """Drop the rows of erased people: their email's key is in the ledger as ``erased``, or, for a
    row without an email, their phone's.

    A row is the person its email says, as contacts match (SPEC §3: email, else
    external id, else phone): a partner with an email of their own who shares
    the forgotten person's landline is someone else, and is imported.

    Each distinct value is keyed once, then rows are matched by equality (a
    join on "this key OR that key" compared every row with every erased
    person: three minutes for a million rows and 200 erasures).
    """
    con = ctx.con
    erased = con.execute("SELECT count(*) FROM suppressions WHERE reason = 'erased'").fetchall()[0][0]
    if not erased:
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_forgotten AS SELECT v.value FROM ("
        "SELECT email AS value FROM import_stg WHERE email IS NOT NULL "
        "UNION SELECT phone FROM import_stg WHERE phone IS NOT NULL) v, keyring k "
        "WHERE " + key_sql("v.value", "k") + " IN (SELECT key FROM suppressions WHERE reason = 'erased')"
    )
    ctx.summary.skipped += rows_changed(
        con,
        "DELETE FROM import_stg WHERE email IN (SELECT value FROM import_forgotten) "
        "OR (email IS NULL AND phone IN (SELECT value FROM import_forgotten))",
    )


def _reject_unidentified(ctx: PipelineContext) -> None:
    con = ctx.con
    raw_json, params = raw_row_json(ctx.source)
    params["id"] = ctx.import_id
    condition = (
        "s.email IS NULL AND s.phone IS NULL AND s.external_id IS NULL AND NOT ("
        "coalesce(s.last_name, s.first_name, s.organisation) IS NOT NULL AND s.street IS NOT NULL "
        "AND coalesce(s.postal_code, s.city) IS NOT NULL)"
    )
    insert = (
        "INSERT INTO import_rejects (import_id, row_number, reason, raw) "
        "SELECT $id, s.line, CASE WHEN s.email_reason IS NOT NULL "
        "THEN 'identifies no one: the email is unusable (' || s.email_reason || ') and there is no phone, external id, or name with a postal address' "
        "ELSE 'identifies no one: no email, phone, external id, or name with a postal address' END, "
        + raw_json + " FROM import_stg s JOIN import_raw r ON r.__row = s.row_id WHERE " + condition
    )
    ctx.summary.rejected += rows_changed(con, insert, params)
    con.execute("DELETE FROM import_stg s WHERE " + condition)


# Fields whose cells are dates: a "no date" placeholder there is no issue (see no_date_sql).
_DATE_FIELDS = {"birth_date", "consent_at", "created_at", "consent_withdrawn_at", "unsubscribed_at", "hard_bounced_at"}


def _record_issues(ctx: PipelineContext, mapping: ColumnMapping) -> None:
    """One issue per cell that held something unusable."""
    con, settings = ctx.con, ctx.settings
    headers = ctx.source.headers
    parts: list[str] = []
    params: dict[str, object] = {"id": ctx.import_id}

    def add(field: str, condition: str, reason_sql: str, index: int | None = None) -> None:
        """An issue part for the cells of ``field``'s column (or of column ``index``) that meet ``condition``."""
        index = mapping.fields[field] if index is None else index
        key = "c" + str(index)
        params[key] = headers[index]
        parts.append(
            "SELECT s.line, $" + key + " AS column_name, r." + key + " AS value, " + reason_sql + " AS reason "
            "FROM import_stg s JOIN import_raw r ON r.__row = s.row_id WHERE r." + key + " IS NOT NULL AND " + condition
        )

    simple = {
        "email": ("s.email IS NULL", "s.email_reason"),
        "phone": ("s.phone IS NULL", "'not a phone number that can be written in international form'"),
        "birth_date": ("s.birth_date IS NULL", "'not a date (expected day/month/year or year-month-day)'"),
        "gender": ("s.gender IS NULL", "'not a civility or gender crmseg knows (Mme, M., Mr, Mevrouw, Herr, female, ...)'"),
        "consent_email": ("s.consent_email IS NULL", "'not a yes/no value (oui/non, yes/no, ja/nee, 1/0)'"),
        "consent_at": ("s.consent_at IS NULL", "'not a date'"),
        "created_at": ("s.created_at IS NULL", "'not a date'"),
        "consent_withdrawn_at": ("s.consent_withdrawn_at IS NULL", "'not a date'"),
        "consent_basis": (
            "s.consent_basis IS NULL",
            "'not a legal basis crmseg knows (consent, membership, contract, legitimate interest)'",
        ),
        "unsubscribed": ("s.st_unsub IS NULL", "'not a yes/no value (oui/non, yes/no, true/false, 1/0)'"),
        "unsubscribed_at": ("s.st_unsub_at IS NULL", "'not a date: the unsubscribe is recorded at the import time'"),
        "hard_bounced_at": ("s.st_bounce_at IS NULL", "'not a date: the hard bounce is recorded at the import time'"),
        "blocklisted": ("s.st_block IS NULL", "'not a yes/no value (oui/non, yes/no, true/false, 1/0)'"),
        "spam_complained": ("s.st_complaint IS NULL", "'not a yes/no value (oui/non, yes/no, true/false, 1/0)'"),
        "deceased": ("s.st_deceased IS NULL", "'not a yes/no value or a date of death: the person is not marked deceased'"),
        "deceased_at": (
            "s.st_deceased_at IS NULL AND s.st_deceased_given",
            # A deceased flag saying no wins over the unreadable date.
            "CASE WHEN s.st_deceased = false THEN 'not a date, and the deceased flag says no: the person is not "
            "marked deceased' ELSE 'not a date: the person is marked deceased all the same' END",
        ),
        "email_status": (
            "s.st_status IS NULL",
            "'not an email status crmseg knows (subscribed, unsubscribed, cleaned, bounced, spam, blocklisted, pending, ...)'",
        ),
    }
    if "birth_date" in mapping.fields:
        # A birthday without a year (Mailchimp's `MM/DD`, Google's `--05-14`) cannot be a birth date: one
        # issue per import, not per row.
        no_year = "regexp_full_match(r.c" + str(mapping.fields["birth_date"]) + ", '\\d{1,2}[/.-]\\d{1,2}|--\\d{2}-\\d{2}')"
        simple["birth_date"] = ("s.birth_date IS NULL AND NOT " + no_year, simple["birth_date"][1])
        index = mapping.fields["birth_date"]
        key = "c" + str(index)
        params[key] = headers[index]
        parts.append(
            "SELECT min(s.line), $" + key + ", arg_min(r." + key + ", s.line), "
            "'a birthday without a year cannot be stored as a birth date: ' || count(*) || "
            "' cell(s) of this column left out' FROM import_stg s JOIN import_raw r ON r.__row = s.row_id "
            "WHERE " + no_year + " HAVING count(*) > 0"
        )
    if "email" in mapping.fields:
        # A cell with several addresses gave its first: the others are values left out.
        add(
            "email", "s.email IS NOT NULL AND s.email_left_out IS NOT NULL",
            "'several addresses in one cell: the first is the email, ' || s.email_left_out || ' left out'",
        )
    spare_emails = mapping.spares.get("email", [])
    if spare_emails:
        # Each email column's own cells: one that is no address is an issue, whichever column fed the email.
        simple["email"] = ("s.email_own IS NULL", simple["email"][1])
        for n, index in enumerate(spare_emails):
            add("email", "s.email_" + str(n) + " IS NULL", "s.email_reason_" + str(n), index)
    spare_phones = mapping.spares.get("phone", [])
    if spare_phones:
        # Each phone column's own cells: one that is no phone number is an issue, whichever column fed the phone.
        simple["phone"] = ("s.phone_own IS NULL", simple["phone"][1])
        for n, index in enumerate(spare_phones):
            add("phone", "s.phone_" + str(n) + " IS NULL", simple["phone"][1], index)
    if "gender" in mapping.fields:
        simple["gender"] = (
            simple["gender"][0] + " AND NOT " + gender_unstated_sql("r.c" + str(mapping.fields["gender"])), simple["gender"][1]
        )
    for field, (condition, reason) in simple.items():
        if field in mapping.fields:
            if field in _DATE_FIELDS:
                condition += " AND NOT " + no_date_sql("r.c" + str(mapping.fields[field]))
            add(field, condition, reason)
    reasons = {
        "email": "coalesce(em_x.reason, 'not an email address')",
        "phone": "'not a phone number'",
        "number": "'not a number'",
        "date": "'not a date'",
        "boolean": "'not a yes/no value'",
        "select": "'not an option of this field'",
    }
    for name, spec in settings.fields.items():
        if name not in mapping.fields:
            continue
        if spec.type == "multiselect":
            if spec.options:
                index = mapping.fields[name]
                key = "c" + str(index)
                params[key] = headers[index]
                params["opts_list_" + name] = ", ".join(spec.options)
                parts.append(
                    "SELECT s.line, $" + key + ", unnest(s.xbad_" + name + "), "
                    "'not an option of " + name + " (' || $opts_list_" + name + " || ')' FROM import_stg s "
                    "WHERE len(s.xbad_" + name + ") > 0"
                )
            continue
        if spec.type == "text" or (spec.type == "select" and not spec.options):
            continue
        reason = reasons[spec.type]
        if spec.type == "email":
            reason = "'not an email address'"
        condition = "s.x_" + name + " IS NULL"
        if spec.type == "date":
            condition += " AND NOT " + no_date_sql("r.c" + str(mapping.fields[name]))
        add(name, condition, reason)
    if not parts:
        return
    insert = (
        "INSERT INTO import_issues (import_id, row_number, column_name, value, reason) "
        "SELECT $id, * FROM (" + " UNION ALL ".join(parts) + ")"
    )
    used = {k: v for k, v in params.items() if "$" + k in insert}
    ctx.summary.issues += rows_changed(con, insert, used)


def _first_name_key(column: str) -> str:
    """SQL: a first name folded for comparison (``Jean-Pierre``, ``jean pierre`` → ``jeanpierre``), or NULL."""
    return "nullif(regexp_replace(lower(strip_accents(" + column + ")), '[^a-z]', '', 'g'), '')"


def _same_first_name(a: str, b: str) -> str:
    """SQL: two folded first names do not tell two people apart (one missing, equal, or an initial of the other)."""
    return (
        "(" + a + " IS NULL OR " + b + " IS NULL OR " + a + " = " + b + " OR (least(length(" + a + "), length(" + b
        + ")) = 1 AND left(" + a + ", 1) = left(" + b + ", 1)))"
    )


def _group_and_match(ctx: PipelineContext) -> None:
    """``import_rows.gk`` (the row's group in the file) and ``import_keys`` (each group's final key).

    A group's final key ``fk`` is the base contact it matches (``c:ID``), else
    the group itself; ``single`` says that exactly one row folds into it.
    Rows without an email borrow the email (or external id) of rows sharing
    their external id (or phone): those look-ups only scan the keys such rows
    hold, since most rows have an email. A phone links only rows and contacts
    whose first names agree (``_same_first_name``): a couple sharing a
    landline stays two people.
    """
    con = ctx.con
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_ext_keys AS
        SELECT external_id, min(email) AS email FROM import_stg
        WHERE external_id IN (SELECT external_id FROM import_stg WHERE email IS NULL AND external_id IS NOT NULL)
        GROUP BY external_id
        """
    )
    # A phone links rows (and a contact) only when their first names do not differ: two people of one
    # household share a landline. Only rows with a phone and neither email nor external id are looked at.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_phone_rows AS
        SELECT row_id, phone, """ + _first_name_key("first_name") + """ AS fn FROM import_stg
        WHERE email IS NULL AND external_id IS NULL AND phone IS NOT NULL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_phone_keys AS
        WITH donors AS (
            -- Rows with the same phone and an email or external id, whose first name agrees.
            SELECT r.row_id, s.email, s.external_id
            FROM import_phone_rows r JOIN import_stg s ON s.phone = r.phone
            WHERE (s.email IS NOT NULL OR s.external_id IS NOT NULL)
              AND """ + _same_first_name("r.fn", _first_name_key("s.first_name")) + """
        ), names AS (
            SELECT phone, count(DISTINCT fn) AS n FROM import_phone_rows GROUP BY phone
        )
        SELECT r.row_id,
               -- One person to borrow a key from, or none: a phone shared by several says nothing.
               CASE WHEN count(DISTINCT coalesce(d.email, 'x:' || d.external_id)) = 1
                    THEN coalesce(min(d.email), 'x:' || min(d.external_id)) END AS borrowed,
               'p:' || r.phone || CASE WHEN any_value(n.n) > 1 THEN ':' || coalesce(r.fn, '') ELSE '' END AS own
        FROM import_phone_rows r JOIN names n USING (phone) LEFT JOIN donors d USING (row_id)
        GROUP BY r.row_id, r.phone, r.fn
        """
    )
    # A row's group key is its email; the few rows without one get theirs here. An email
    # never holds a colon, so no other key can equal one.
    con.execute(
        """
        UPDATE import_stg s SET gk_alt = k.gk FROM (
            SELECT s.row_id,
              CASE WHEN s.external_id IS NOT NULL THEN coalesce(xk.email, 'x:' || s.external_id)
                   WHEN s.phone IS NOT NULL THEN coalesce(pk.borrowed, pk.own)
                   ELSE 'r:' || s.row_id END AS gk
            FROM import_stg s LEFT JOIN import_ext_keys xk ON xk.external_id = s.external_id
            LEFT JOIN import_phone_keys pk ON pk.row_id = s.row_id
            WHERE s.email IS NULL
        ) k WHERE s.row_id = k.row_id
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW import_rows AS SELECT *, coalesce(email, gk_alt) AS gk FROM import_stg")
    con.execute("CREATE OR REPLACE TEMP TABLE import_merged_keepers AS " + MERGED_KEEPERS_SQL)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_matches AS
        WITH g AS (
            SELECT gk, min(email) AS email, min(external_id) AS ext, min(phone) AS phone, count(*) AS n,
                   -- Only a group that may match by phone needs its first name (most rows have an email).
                   min(CASE WHEN email IS NULL AND external_id IS NULL THEN """ + _first_name_key("first_name")
            + """ END) AS fn
            FROM import_rows GROUP BY gk
        ), live AS (
            SELECT id, email, external_id, phone, first_name FROM contacts WHERE status IN ('active', 'suppressed')
        ), by_email AS (
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.email = g.email GROUP BY g.gk
        ), by_merged AS (
            -- The address of a record merged away leads to the contact that absorbed it:
            -- the next export of the CRM that still holds the duplicate does not bring it back.
            SELECT g.gk, min(k.keeper) AS id
            FROM g JOIN contacts c ON c.email = g.email JOIN import_merged_keepers k ON k.id = c.id
            WHERE c.status = 'merged' GROUP BY g.gk
        ), by_merged_ext AS (
            SELECT g.gk, min(k.keeper) AS id
            FROM g JOIN contacts c ON c.external_id = g.ext JOIN import_merged_keepers k ON k.id = c.id
            WHERE c.status = 'merged' GROUP BY g.gk
        ), by_ext AS (
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.external_id = g.ext GROUP BY g.gk
        ), by_phone AS (
            -- The contact with this phone whose first name agrees; when several do, the oldest.
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.phone = g.phone
            WHERE g.email IS NULL AND g.ext IS NULL
              AND """ + _same_first_name("g.fn", _first_name_key("c.first_name")) + """
            GROUP BY g.gk
        )
        SELECT g.gk, g.n, coalesce(e.id, m.id, x.id, mx.id, p.id) AS contact_id
        FROM g LEFT JOIN by_email e USING (gk) LEFT JOIN by_merged m USING (gk) LEFT JOIN by_ext x USING (gk)
        LEFT JOIN by_merged_ext mx USING (gk) LEFT JOIN by_phone p USING (gk)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_keys AS
        SELECT m.gk, m.contact_id AS matched_id,
               CASE WHEN m.contact_id IS NOT NULL THEN 'c:' || m.contact_id ELSE m.gk END AS fk,
               m.n = 1 AND (m.contact_id IS NULL OR t.rows = 1) AS single
        FROM import_matches m LEFT JOIN (
            SELECT contact_id, sum(n) AS rows FROM import_matches WHERE contact_id IS NOT NULL GROUP BY contact_id
        ) t USING (contact_id)
        """
    )


def _aggregate(ctx: PipelineContext, mapping: ColumnMapping) -> list[str]:
    """``import_incoming``: one row per contact to insert or update. Returns the custom fields present.

    A key that only one row folds into takes that row as it is (what the
    aggregates give for one row); the others are aggregated.
    """
    con, settings, options = ctx.con, ctx.settings, ctx.options
    pick = "arg_max" if options.on_conflict == "update" else "arg_min"
    scalar = [
        "email", "external_id", "phone", "first_name", "last_name", "street", "postal_code", "city", "country",
        "birth_date", "gender", "organisation", "job_title", "source", "consent_email", "consent_at", "created_at",
        "consent_basis", "consent_withdrawn_at",
    ]
    customs = [name for name in settings.fields if name in mapping.fields]
    values = scalar + ["x_" + c for c in customs]
    items = ["fk", "any_value(matched_id) AS id", "min(line) AS line", "matched_id IS NULL AS is_new"]
    items += [pick + "(" + c + ", row_id) FILTER (WHERE " + c + " IS NOT NULL) AS " + c for c in values]
    items.append("list_distinct(flatten(list(tags) FILTER (WHERE tags IS NOT NULL))) AS tags")
    one = ["fk", "matched_id AS id", "line", "matched_id IS NULL AS is_new"] + values
    one.append("list_distinct(tags) AS tags")
    # Column names: constants above and validated custom field names.
    # New contacts' keys are computed here, in a parallel projection, rather than in the INSERT.
    sql = (
        "CREATE OR REPLACE TEMP TABLE import_incoming AS SELECT u.*, "
        "CASE WHEN u.is_new THEN " + key_sql("u.email", "k") + " END AS email_key, "
        "CASE WHEN u.is_new THEN " + key_sql("u.phone", "k") + " END AS phone_key FROM ("
        "SELECT " + ", ".join(one) + " FROM import_rows JOIN import_keys USING (gk) WHERE single "
        "UNION ALL SELECT " + ", ".join(items) + " FROM import_rows JOIN import_keys USING (gk) WHERE NOT single "
        "GROUP BY fk, matched_id) u, keyring k"
    )
    con.execute(sql)
    con.execute("UPDATE import_incoming SET id = nextval('contact_id_seq') WHERE id IS NULL")
    # Consent: an opt-in date without a flag (Mailchimp's OPTIN_TIME) means opted in.
    con.execute(
        "UPDATE import_incoming SET consent_email = true WHERE consent_email IS NULL AND consent_at IS NOT NULL"
    )
    # An address of a record merged into this contact is no news: `update` must not put it back in
    # place of the address the merge kept (an old CRM export still holds the duplicate).
    con.execute(
        "UPDATE import_incoming i SET email = NULL WHERE NOT i.is_new AND i.email IN ("
        "SELECT c.email FROM import_merged_keepers k JOIN contacts c ON c.id = k.id WHERE k.keeper = i.id)"
    )
    return customs


def _write_contacts(ctx: PipelineContext, customs: list[str]) -> None:
    con, options = ctx.con, ctx.options
    method = "import: " + ctx.source.path.name
    params = {"import_id": ctx.import_id, "source": options.source, "method": method}
    inserted = con.execute(
        """
        INSERT INTO contacts (id, email, external_id, first_name, last_name, phone, street, postal_code, city, country,
            birth_date, gender, organisation, job_title, kind, source, consent_email, consent_basis, consent_at,
            consent_method, consent_withdrawn_at, created_at, updated_at, import_id, email_key, phone_key)
        SELECT id, email, external_id, first_name, last_name, phone, street, postal_code, city, country, birth_date,
            gender, organisation, job_title,
            CASE WHEN first_name IS NULL AND last_name IS NULL AND organisation IS NOT NULL THEN 'organisation' ELSE 'person' END,
            coalesce(source, $source), consent_email, coalesce(consent_basis, CASE WHEN consent_email THEN 'consent' END),
            consent_at, CASE WHEN consent_email OR consent_basis IS NOT NULL THEN $method END, consent_withdrawn_at,
            coalesce(created_at, current_timestamp), current_timestamp, $import_id,
            email_key, phone_key
        FROM import_incoming WHERE is_new
        """,
        params,
    ).fetchall()
    ctx.summary.inserted = inserted[0][0]
    ctx.progress("write", 1, 3)
    changed: set[int] = set()
    fields_changed: list[int] = []
    mode = options.on_conflict
    if mode in ("fill", "update"):
        columns = [
            "email", "external_id", "first_name", "last_name", "phone", "street", "postal_code", "city", "country",
            "birth_date", "gender", "organisation", "job_title", "source", "consent_email", "consent_at",
            "consent_withdrawn_at",
        ]
        if mode == "fill":
            sets = ", ".join(c + " = coalesce(c." + c + ", i." + c + ")" for c in columns)
            differs = " OR ".join("(c." + c + " IS NULL AND i." + c + " IS NOT NULL)" for c in columns + ["consent_basis"])
        else:
            sets = ", ".join(c + " = coalesce(i." + c + ", c." + c + ")" for c in columns)
            differs = " OR ".join(
                "(i." + c + " IS NOT NULL AND i." + c + " IS DISTINCT FROM c." + c + ")" for c in columns + ["consent_basis"]
            )
        # Column names are the constants above.
        update = (
            "UPDATE contacts c SET " + sets + ", "
            "consent_basis = " + ("coalesce(c.consent_basis, i.consent_basis, " if mode == "fill" else "coalesce(i.consent_basis, ")
            + "CASE WHEN coalesce(" + ("c.consent_email, i.consent_email" if mode == "fill" else "i.consent_email, c.consent_email")
            + ") THEN coalesce(c.consent_basis, 'consent') ELSE c.consent_basis END), "
            "consent_method = CASE WHEN c.consent_method IS NULL AND i.consent_email THEN $method ELSE c.consent_method END, "
            "updated_at = current_timestamp "
            "FROM import_incoming i WHERE c.id = i.id AND NOT i.is_new AND (" + differs + ") RETURNING c.id"
        )
        fields_changed = [r[0] for r in con.execute(update, {"method": method}).fetchall()]
        changed.update(fields_changed)
        changed.update(_write_custom_values(ctx, customs, mode))
        changed.update(_write_tags(ctx, existing=True))
    _write_custom_values(ctx, customs, "new")
    _write_tags(ctx, existing=False)
    matched = con.execute("SELECT count(*) FROM import_incoming WHERE NOT is_new").fetchall()[0][0]
    # The existing contacts whose fields changed: only they can hold a new email or phone (see _refresh_matched_keys).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_fields_changed AS SELECT unnest($ids::BIGINT[]) AS id", {"ids": fields_changed}
    )
    if changed:
        con.execute(
            "UPDATE contacts SET updated_at = current_timestamp WHERE id IN (SELECT unnest($ids::BIGINT[]))",
            {"ids": sorted(changed)},
        )
    ctx.summary.updated = len(changed)
    ctx.summary.unchanged = matched - len(changed)


def _write_custom_values(ctx: PipelineContext, customs: list[str], mode: str) -> set[int]:
    """Write custom values: ``new`` contacts, or existing ones by ``fill``/``update``. Returns changed ids."""
    from cli.fields import CUSTOM_VALUE_COLUMN

    con = ctx.con
    changed: set[int] = set()
    for name in customs:
        spec = ctx.settings.fields[name]
        column = CUSTOM_VALUE_COLUMN[spec.type]
        # `column` comes from the constant table, `name` is a validated field name.
        scope = "i.is_new" if mode == "new" else "NOT i.is_new"
        if mode == "update":
            deleted = con.execute(
                "DELETE FROM custom_values v USING import_incoming i WHERE v.contact_id = i.id AND v.field = $f "
                "AND NOT i.is_new AND i.x_" + name + " IS NOT NULL AND v." + column + " IS DISTINCT FROM i.x_" + name
                + " RETURNING v.contact_id",
                {"f": name},
            ).fetchall()
            changed.update(r[0] for r in deleted)
        if mode == "new":
            # New contacts' ids are fresh from the sequence: they hold no value yet.
            con.execute(
                "INSERT INTO custom_values (contact_id, field, " + column + ") "
                "SELECT i.id, $f, i.x_" + name + " FROM import_incoming i WHERE i.is_new AND i.x_" + name + " IS NOT NULL",
                {"f": name},
            )
            continue
        inserted = con.execute(
            "INSERT INTO custom_values (contact_id, field, " + column + ") "
            "SELECT i.id, $f, i.x_" + name + " FROM import_incoming i WHERE " + scope + " AND i.x_" + name + " IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM custom_values v WHERE v.contact_id = i.id AND v.field = $f) RETURNING contact_id",
            {"f": name},
        ).fetchall()
        changed.update(r[0] for r in inserted)
    return changed


def _write_tags(ctx: PipelineContext, *, existing: bool) -> set[int]:
    con = ctx.con
    params = {"source": "import:" + str(ctx.import_id), "extra": list(ctx.options.tags)}
    if not existing:
        # New contacts' ids are fresh from the sequence: they hold no tag yet, and each is one row.
        con.execute(
            "INSERT INTO contact_tags (contact_id, tag, source) "
            "SELECT id, unnest(list_distinct(coalesce(tags, []) || $extra)), $source FROM import_incoming WHERE is_new",
            params,
        )
        return set()
    rows = con.execute(
        "INSERT INTO contact_tags (contact_id, tag, source) "
        "SELECT DISTINCT i.id, t.tag, $source FROM import_incoming i, "
        "LATERAL (SELECT unnest(list_distinct(coalesce(i.tags, []) || $extra)) AS tag) t "
        "WHERE NOT i.is_new AND NOT EXISTS (SELECT 1 FROM contact_tags x WHERE x.contact_id = i.id AND x.tag = t.tag) "
        "RETURNING contact_id",
        params,
    ).fetchall()
    return {r[0] for r in rows}


def _refresh_matched_keys(ctx: PipelineContext) -> None:
    """Keep ``email_key``/``phone_key`` equal to ``crmseg_key(email/phone)`` for the contacts this import touched.

    New contacts got their keys on insert; only existing contacts whose fields
    the import changed (``import_fields_changed``) can have a new email or
    phone, so only they are recomputed (all matched contacts were, before:
    a second on a re-import of a million).
    """
    ctx.con.execute(
        "UPDATE contacts c SET email_key = k.email_key, phone_key = k.phone_key FROM ("
        "SELECT c.id, " + key_sql("c.email", "r") + " AS email_key, " + key_sql("c.phone", "r") + " AS phone_key "
        "FROM contacts c JOIN import_fields_changed f ON f.id = c.id, keyring r) k "
        "WHERE c.id = k.id AND (c.email_key IS DISTINCT FROM k.email_key OR c.phone_key IS DISTINCT FROM k.phone_key)"
    )


def _link_issues(ctx: PipelineContext) -> None:
    if not ctx.summary.issues:
        return
    ctx.con.execute(
        "UPDATE import_issues i SET contact_id = s.id FROM ("
        "SELECT st.line, inc.id FROM import_rows st JOIN import_keys k USING (gk) JOIN import_incoming inc USING (fk)) s "
        "WHERE i.import_id = $id AND i.row_number = s.line",
        {"id": ctx.import_id},
    )


def contacts_pipeline(mapping: ColumnMapping):
    """The contacts pipeline for ``run_import`` under ``mapping``."""

    def pipeline(ctx: PipelineContext) -> None:
        title_as_job(ctx, mapping)
        ctx.summary.unmapped_columns = list(mapping.unmapped)
        ctx.summary.mapped_columns = {ctx.source.headers[i]: f for f, i in mapping.fields.items()}
        for name, indexes in mapping.spares.items():
            ctx.summary.mapped_columns.update({ctx.source.headers[i]: name for i in indexes})
        if ctx.source.rows == 0:
            return
        build_staging(ctx, mapping)
        _drop_forgotten(ctx)
        _reject_unidentified(ctx)
        _record_issues(ctx, mapping)
        record_cell_errors(ctx, mapping, "SELECT line FROM import_stg")
        _group_and_match(ctx)
        ctx.progress("match", 2, 3)
        customs = _aggregate(ctx, mapping)
        _write_contacts(ctx, customs)
        _link_issues(ctx)
        _refresh_matched_keys(ctx)
        status_facts(ctx, mapping)
        apply_suppressions(ctx.con)
        ctx.progress("write", 3, 3)

    return pipeline


def import_contacts(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    *,
    settings: Settings,
    options: ImportOptions | None = None,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Import one contacts file; see the module docstring.

    >>> # import_contacts(con, "export.csv", settings=load_settings(None))
    """
    options = options or ImportOptions()
    if options.on_conflict not in ON_CONFLICT:
        raise InputError(f"--on-conflict {options.on_conflict}: choose fill, update or keep.")
    check_map_targets(options.mapping, "contacts", settings)
    path = Path(path)

    def mapped(headers: list[str]) -> ColumnMapping:
        return map_headers(
            headers, kind="contacts", settings=settings, preset=options.preset, explicit=options.mapping, path=path
        )

    def pipeline(ctx: PipelineContext) -> None:
        mapping = mapped(ctx.source.headers)
        if not mapping.fields:
            raise ImportFileError(
                f"{path}: none of its columns ({', '.join(ctx.source.headers)}) could be mapped to a contact field. "
                "Name them with --map \"COLUMN=field\" or --preset mailchimp|brevo|hubspot|google|outlook."
            )
        contacts_pipeline(mapping)(ctx)

    return run_import(
        con, path, kind="contacts", settings=settings, options=options, pipeline=pipeline, progress=progress,
        columns_used=columns_used_by(mapped),
    )
