"""``crmseg import events``: gifts, memberships, purchases and email activity, set-wise.

Each row links to a contact by email, else by external id (the first
``external_id`` custom field, kept in ``contacts.external_id``); a merged
contact's events go to the contact that absorbed it. The type comes from
``--type``, else a type column (whose words, such as Brevo's and
Mailchimp's ``opened``, ``clicked``, ``hard_bounce``, ``unsubscribed``,
``spam``, map to crmseg's types; a bounce-kind column says whether a
``bounce`` row is hard or soft), else the headers (``Date du don`` says
donation). A row for an unknown person is rejected, or creates a prospect
with ``--create-missing``. An event already in the base (same contact,
type, time, amount and campaign) is counted unchanged, not added again.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cli.contacts import MERGED_KEEPERS_SQL
from cli.errors import ImportFileError, InputError
from cli.event_summary import refresh_event_summary_for_import
from cli.importing.headers import ColumnMapping, check_map_targets, fold, map_headers
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
from cli.importing.values import (
    amount_currency_sql,
    bool_sql,
    build_email_table,
    in_range_sql,
    is_month_first,
    number_sql,
    timestamp_sql,
)
from cli.settings import Settings
from cli.store.connection import insert_rows, key_sql, reserve_ids, rows_changed
from cli.suppression import apply_suppressions

# Words found in type/status columns of exports -> event type.
TYPE_WORDS: dict[str, list[str]] = {
    # Brevo's `deferred` is a send the receiving server delayed and Brevo retries (several per message): no
    # bounce, or five retries of one delivered email would suppress the address as five soft bounces.
    "email_sent": ["sent", "send", "envoyé", "envoi", "delivered", "délivré", "request", "requests", "deferred",
                   "verzonden", "gesendet", "zugestellt"],
    "email_open": ["opened", "open", "opens", "ouvert", "ouverture", "unique_opened", "loaded_by_proxy", "proxy open",
                   "unique_proxy_open", "first opening", "geopend", "geöffnet"],
    "email_click": ["clicked", "click", "clicks", "cliqué", "clic", "geklikt", "geklickt"],
    # Brevo's logs and statistics say `hardBounces`, `softBounces`, and `invalid` for an address that cannot exist.
    "hard_bounce": ["hard_bounce", "hardbounce", "hard bounce", "hard_bounced", "hardBounces", "bounce hard", "bounced",
                    "invalid_email", "invalid"],
    "soft_bounce": ["soft_bounce", "softbounce", "soft bounce", "soft_bounced", "softBounces", "blocked"],
    "unsubscribe": ["unsubscribed", "unsubscribe", "unsub", "désinscrit", "désabonné", "désinscription", "uitgeschreven", "abgemeldet"],
    "spam_complaint": ["spam", "complaint", "abuse", "spam_complaint", "marked as spam", "plainte", "klacht", "beschwerde"],
    "donation": ["don", "dons", "gift", "donation", "gift aid", "schenking", "gift", "spende", "donation payment"],
    "membership": ["adhésion", "cotisation", "membership", "member", "lidmaatschap", "contributie", "mitgliedschaft", "beitrag"],
    "purchase": ["achat", "commande", "purchase", "order", "aankoop", "bestelling", "kauf", "bestellung"],
    "event_attendance": ["participation", "présence", "attendance", "attended", "aanwezig", "teilnahme"],
    "meeting": ["rendez-vous", "rdv", "réunion", "meeting", "afspraak", "treffen"],
    "web_visit": ["visite", "visit", "page view", "pageview", "bezoek", "besuch"],
}


# Words of a payment export's status column (Stripe, PayPal, Zeffy, HelloAsso, Mollie, German and Dutch
# tools) -> whether the money came in. A row whose payment did not (failed, refunded, cancelled,
# pending) is rejected with that reason, whatever --type says.
PAYMENT_STATUS_WORDS: dict[bool, list[str]] = {
    True: ["paid", "succeeded", "success", "successful", "completed", "complete", "captured", "settled", "validé",
           "validée", "payé", "payée", "réussi", "effectué", "betaald", "voltooid", "geslaagd", "bezahlt",
           "erfolgreich", "abgeschlossen", "gebucht"],
    False: ["failed", "failure", "declined", "denied", "refunded", "canceled", "cancelled", "voided", "reversed",
            "expired", "pending", "incomplete", "unpaid", "disputed", "chargeback", "échoué", "refusé", "remboursé",
            "annulé", "annulée", "en attente", "abandonné", "impayé", "mislukt", "geannuleerd", "verlopen",
            "terugbetaald", "teruggestort", "geweigerd", "storniert", "erstattet", "zurückerstattet",
            "fehlgeschlagen", "abgelehnt", "ausstehend", "zurückgebucht"],
}


def type_words(settings: Settings) -> dict[str, str]:
    """Folded word -> event type, built-in words first, then every known type as itself."""
    words = {fold(w): t for t, ws in TYPE_WORDS.items() for w in ws}
    for event_type in settings.all_event_types:
        words[fold(event_type)] = event_type
    return words


def _folded(cell: str) -> str:
    """SQL: the cell as a type word is compared (``fold``: lower-case, no accents, letters and digits only)."""
    return "regexp_replace(lower(strip_accents(" + cell + ")), '[^a-z0-9]', '', 'g')"


def _word_tables(ctx: PipelineContext) -> None:
    """Temp ``import_type_words(word, type)`` and ``import_payment_words(word, paid)``, words folded."""
    con = ctx.con
    con.execute("CREATE OR REPLACE TEMP TABLE import_type_words (word VARCHAR, type VARCHAR)")
    insert_rows(con, "import_type_words", list(type_words(ctx.settings).items()), 2)
    con.execute("CREATE OR REPLACE TEMP TABLE import_payment_words (word VARCHAR, paid BOOLEAN)")
    insert_rows(con, "import_payment_words", [(fold(w), paid) for paid, ws in PAYMENT_STATUS_WORDS.items() for w in ws], 2)


def _type_cells(ctx: PipelineContext, column: str) -> None:
    """Temp ``import_type_cells(raw, type, paid)``: each distinct cell of the type ``column``, folded once.

    ``type`` is the event type its word names, ``paid`` whether it is a payment
    status of money that came in (NULL when it is no payment status).
    """
    _word_tables(ctx)
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE import_type_cells AS SELECT v.raw, w.type, p.paid FROM (SELECT DISTINCT "
        + column + " AS raw FROM import_raw WHERE " + column + " IS NOT NULL) v "
        "LEFT JOIN import_type_words w ON w.word = " + _folded("v.raw") + " "
        "LEFT JOIN import_payment_words p ON p.word = " + _folded("v.raw")
    )


def _status_cells(ctx: PipelineContext, column: str, *, from_type_cells: bool) -> None:
    """Temp ``import_status_cells(raw, paid)``: each distinct cell of ``column`` that is a payment status.

    ``from_type_cells``: ``column`` is the type column, already folded by ``_type_cells``.
    """
    con = ctx.con
    if from_type_cells:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE import_status_cells AS SELECT raw, paid FROM import_type_cells "
            "WHERE paid IS NOT NULL"
        )
        return
    _word_tables(ctx)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_status_cells AS SELECT v.raw, p.paid FROM (SELECT DISTINCT " + column
        + " AS raw FROM import_raw WHERE " + column + " IS NOT NULL) v "
        "JOIN import_payment_words p ON p.word = " + _folded("v.raw")
    )


def _bounce_kind_sql(cell: str) -> str:
    """SQL: ``hard_bounce`` or ``soft_bounce`` from a bounce-kind cell (hard/soft, or a hard-bounce yes/no), else NULL."""
    folded = "regexp_replace(lower(strip_accents(" + cell + ")), '[^a-z]', '', 'g')"
    flag = bool_sql(cell)
    return (
        "CASE WHEN " + flag + " THEN 'hard_bounce' WHEN NOT " + flag + " THEN 'soft_bounce' "
        "WHEN starts_with(" + folded + ", 'hard') THEN 'hard_bounce' "
        "WHEN starts_with(" + folded + ", 'soft') THEN 'soft_bounce' END"
    )


def _with_bounce_kind(type_sql: str, mapping: ColumnMapping) -> str:
    """``type_sql`` where a bounce-kind column says which bounce a bounce row is.

    A row typed `bounce` (Mailchimp's and Mailjet's activity) or already a hard or soft bounce
    takes the kind the column gives; a file whose only type column is the bounce kind
    (Mailchimp's bounced report: `Bounce Type` hard/soft) takes it for every row.
    """
    kind_column = mapping.column("bounce_kind")
    if not kind_column:
        return type_sql
    kind = _bounce_kind_sql("r." + kind_column)
    if type_sql is None:
        return kind
    if type_sql != "tw.type":
        return type_sql
    raw = _folded("r." + mapping.column("type"))
    return (
        "CASE WHEN " + kind + " IS NOT NULL AND (tw.type IN ('hard_bounce', 'soft_bounce') OR " + raw
        + " IN ('bounce', 'bounces')) THEN " + kind + " ELSE tw.type END"
    )


def _resolve_type(ctx: PipelineContext, mapping: ColumnMapping) -> str:
    """SQL for the row's event type (NULL when unknown).

    A type column that holds payment statuses (Stripe's and PayPal's
    ``Status``) says nothing of the kind of event: its rows take the type the
    headers imply (``Spendendatum``), and without one the file needs ``--type``.
    So does one none of whose cells names a kind of event when the headers
    imply one: Dolibarr's ``Type`` of member (``Membre actif``) beside its
    ``Montant cotisation``.
    """
    con, settings = ctx.con, ctx.settings
    if ctx.options.event_type:
        return "$fixed_type"
    if mapping.column("type"):
        _type_cells(ctx, mapping.column("type"))
        kinds, statuses = con.execute("SELECT count(type), count(paid) FROM import_type_cells").fetchall()[0]
        if not kinds and mapping.implied_type:
            return "$fixed_type"
        if "payment_status" not in mapping.fields:
            if statuses and not kinds:
                header = ctx.source.headers[mapping.fields["type"]]
                raise ImportFileError(
                    f"{ctx.source.path}: its `{header}` column holds payment statuses (paid, failed, refunded...), "
                    f"not kinds of events; give --type ({', '.join(settings.all_event_types)})."
                )
        return "tw.type"
    if mapping.implied_type:
        return "$fixed_type"
    if mapping.column("bounce_kind"):
        return _with_bounce_kind(None, mapping)
    raise ImportFileError(
        f"{ctx.source.path}: which kind of events does this file hold? It has no type column; give --type "
        f"({', '.join(settings.all_event_types)})."
    )


def _date_sql(date: str, time: str | None, date_format: str | None, month_first: bool) -> str:
    """SQL: the event's timestamp from the date cell ``r.<date>`` and, when the file has one, the time cell.

    The time joins a date that holds none (a workbook's time reads `1899-12-31 16:05:33`: its
    clock part; a date read `2024-03-17 00:00:00`: its date part). When the two do not parse
    together (`10h`, `matin`), the date alone gives the timestamp.
    """
    alone = timestamp_sql("r." + date, date_format, month_first)
    if time is None:
        return alone
    day = "regexp_replace(r." + date + ", ' 00:00:00$', '')"
    clock = "regexp_replace(r." + time + ", '^1899-12-3[01][ T]', '')"
    joined = "(CASE WHEN r." + time + " IS NOT NULL AND NOT contains(" + day + ", ':') THEN " + day + " || ' ' || " + clock + " END)"
    return "coalesce(" + timestamp_sql(joined, date_format, month_first) + ", " + alone + ")"


def events_pipeline(mapping: ColumnMapping):
    """The events pipeline for ``run_import`` under ``mapping``."""

    def pipeline(ctx: PipelineContext) -> None:
        con, settings, options, summary = ctx.con, ctx.settings, ctx.options, ctx.summary
        summary.unmapped_columns = list(mapping.unmapped)
        summary.mapped_columns = {ctx.source.headers[i]: f for f, i in mapping.fields.items()}
        if ctx.source.rows == 0:
            return
        col = mapping.column
        type_sql = _resolve_type(ctx, mapping)
        type_join = type_sql == "tw.type"
        if type_join:
            type_sql = _with_bounce_kind(type_sql, mapping)
        params: dict[str, object] = {}
        if type_sql == "$fixed_type":
            params["fixed_type"] = options.event_type or mapping.implied_type
        # A payment that did not go through (failed, refunded, cancelled, pending) is rejected: only
        # files whose status column holds one of those words pay for the join.
        status_column = col("payment_status") or col("type")
        unpaid = False
        if status_column:
            # _resolve_type folded the type column's cells unless --type made it needless.
            _status_cells(ctx, status_column, from_type_cells=status_column == col("type") and not options.event_type)
            unpaid = con.execute("SELECT count(*) FROM import_status_cells WHERE NOT paid").fetchall()[0][0] > 0
        if col("email"):
            build_email_table(con, "SELECT " + col("email") + " AS raw FROM import_raw", "import_emails")
        ext_fields = [f for f in settings.external_id_fields if f in mapping.fields]
        ext_column = col(ext_fields[0]) if ext_fields else col("external_id")
        month_first = bool(col("occurred_at")) and not options.date_format and is_month_first(con, col("occurred_at"))
        select = [
            # Lean on purpose (10M rows): the line, the email's refusal and the raw type of a
            # rejected row are read back from import_raw and import_emails.
            "r.__row AS row_id",
            ("em.email" if col("email") else "NULL::VARCHAR") + " AS email",
            ("r." + ext_column if ext_column else "NULL::VARCHAR") + " AS external_id",
            type_sql + " AS type",
            (_date_sql(col("occurred_at"), col("occurred_time"), options.date_format, month_first)
             if col("occurred_at") else "NULL::TIMESTAMP") + " AS occurred_at",
            ("TRY_CAST(" + number_sql("r." + col("amount")) + " AS DECIMAL(18, 2))" if col("amount") else "NULL::DECIMAL(18, 2)")
            + " AS amount",
            "coalesce(" + ("upper(r." + col("currency") + ")" if col("currency") else "NULL::VARCHAR") + ", "
            + (amount_currency_sql("r." + col("amount")) if col("amount") else "NULL::VARCHAR") + ") AS currency",
        ]
        for name in ("campaign", "channel", "payment_method", "details"):
            select.append(("r." + col(name) if col(name) else "NULL::VARCHAR") + " AS " + name)
        select.append(("ps.paid" if unpaid else "NULL::BOOLEAN") + " AS paid")
        joins = []
        if unpaid:
            joins.append("LEFT JOIN import_status_cells ps ON ps.raw = r." + status_column)
        if col("email"):
            joins.append("LEFT JOIN import_emails em ON em.raw = r." + col("email"))
        if type_join:
            # Each distinct cell was folded once (_type_cells); rows join on the cell itself.
            joins.append("LEFT JOIN import_type_cells tw ON tw.raw = r." + col("type"))
        # Link to contacts: by email, else by external id; a merged contact leads to its keeper.
        # Each distinct email and external id is looked up once.
        con.execute("CREATE OR REPLACE TEMP TABLE import_merged_keepers AS " + MERGED_KEEPERS_SQL)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE import_live AS
            SELECT c.id, c.email, c.external_id, coalesce(k.keeper, c.id) AS target, c.status = 'merged' AS merged
            FROM contacts c LEFT JOIN import_merged_keepers k ON k.id = c.id
            WHERE c.status IN ('active', 'suppressed') OR k.keeper IS NOT NULL
            """
        )
        if col("email"):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE import_by_email AS SELECT e.email, arg_min(l.target, (l.merged, l.id)) AS id "
                "FROM (SELECT DISTINCT email FROM import_emails WHERE email IS NOT NULL) e JOIN import_live l USING (email) "
                "GROUP BY e.email"
            )
            # The contact goes into the email look-up table, so rows probe one table, not two.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE import_emails AS SELECT em.*, be.id AS contact_id "
                "FROM import_emails em LEFT JOIN import_by_email be ON be.email = em.email"
            )
            select.append("em.contact_id AS email_contact")
        else:
            select.append("NULL::BIGINT AS email_contact")
        if ext_column:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE import_by_ext AS SELECT e.external_id, arg_min(l.target, (l.merged, l.id)) AS id "
                "FROM (SELECT DISTINCT " + ext_column + " AS external_id FROM import_raw WHERE " + ext_column + " IS NOT NULL) e "
                "JOIN import_live l USING (external_id) GROUP BY e.external_id"
            )
            select.append("bx.id AS ext_contact")
            joins.append("LEFT JOIN import_by_ext bx ON bx.external_id = r." + ext_column)
        else:
            select.append("NULL::BIGINT AS ext_contact")
        # Only generated column names (cN) and constants are formatted in.
        staged = rows_changed(
            con,
            "CREATE OR REPLACE TEMP TABLE import_stg AS SELECT * EXCLUDE (email_contact, ext_contact) "
            "REPLACE (" + in_range_sql("occurred_at") + " AS occurred_at), "
            "coalesce(email_contact, ext_contact) AS contact_id FROM (SELECT " + ", ".join(select)
            + " FROM import_raw r " + " ".join(joins) + ")",
            params,
        )
        con.execute("DROP TABLE IF EXISTS import_live")
        con.execute("DROP TABLE IF EXISTS import_merged_keepers")
        ctx.progress("normalise", 1, 3)

        erased = con.execute("SELECT count(*) FROM suppressions WHERE reason = 'erased'").fetchall()[0][0]
        if erased and col("email"):
            # Each distinct email (from the look-up table) keyed once beside the keyring (the
            # crmseg_key macro in a join condition ran per pair: 30 s for 10M events and 200 erasures).
            summary.skipped += rows_changed(
                con,
                "DELETE FROM import_stg WHERE email IN (SELECT e.email FROM (SELECT DISTINCT email FROM import_emails "
                "WHERE email IS NOT NULL) e, keyring k WHERE " + key_sql("e.email", "k")
                + " IN (SELECT key FROM suppressions WHERE reason = 'erased'))",
            )

        if options.create_missing:
            created = con.execute(
                """
                INSERT INTO contacts (id, email, external_id, source, import_id, email_key)
                SELECT nextval('contact_id_seq'), email, external_id, $source, $import_id, """ + key_sql("email", "k") + """
                FROM keyring k, (
                    SELECT email, external_id FROM (
                        SELECT coalesce(email, min(email) OVER (PARTITION BY external_id)) AS email,
                               coalesce(external_id, min(external_id) OVER (PARTITION BY email)) AS external_id
                        FROM import_stg
                        WHERE contact_id IS NULL AND (email IS NOT NULL OR external_id IS NOT NULL)
                          AND type IS NOT NULL AND occurred_at IS NOT NULL AND paid IS NOT false
                    ) GROUP BY email, external_id
                )
                """,
                {"source": options.source or ctx.source.path.name, "import_id": ctx.import_id},
            ).fetchall()
            summary.created_contacts = created[0][0]
            # By email, then by external id for rows without one: two equality joins (one join on
            # "this OR that" compared every row with every new contact: 4 minutes for 200,000).
            con.execute(
                "UPDATE import_stg s SET contact_id = c.id FROM contacts c WHERE s.contact_id IS NULL AND c.import_id = $id "
                "AND s.email IS NOT NULL AND c.email = s.email",
                {"id": ctx.import_id},
            )
            con.execute(
                "UPDATE import_stg s SET contact_id = c.id FROM contacts c WHERE s.contact_id IS NULL AND c.import_id = $id "
                "AND s.email IS NULL AND c.external_id = s.external_id",
                {"id": ctx.import_id},
            )
        ctx.progress("match", 2, 3)

        raw_json, raw_params = raw_row_json(ctx.source)
        raw_params["id"] = ctx.import_id
        # The refusal of a row's email, read back for the few rows that need it.
        email_join = " LEFT JOIN import_emails em ON em.raw = r." + col("email") if col("email") else ""
        refusal = "em.reason" if col("email") else "NULL::VARCHAR"
        reason = (
            "CASE "
            + ("WHEN s.paid = false THEN 'payment not completed (status `' || r." + status_column + " || '`): "
               "not imported as an event' " if unpaid else "")
            + "WHEN s.type IS NULL THEN 'unknown event type `' || coalesce(" + ("r." + col("type") if col("type") else "NULL")
            + ", '') || "
            "'`; use a built-in type or declare it under event_types in crmseg.yaml' "
            "WHEN s.occurred_at IS NULL THEN 'no usable date' "
            "WHEN s.email IS NULL AND s.external_id IS NULL THEN "
            "  CASE WHEN " + refusal + " IS NOT NULL THEN 'the email is unusable (' || " + refusal
            + " || ') and there is no external id' "
            "  ELSE 'no email or external id to link the event to a contact' END "
            "WHEN s.contact_id IS NULL THEN 'unknown person: no contact with this email or external id "
            "(import the contacts first, or use --create-missing)' END"
        )
        rejected = con.execute(
            "INSERT INTO import_rejects (import_id, row_number, reason, raw) SELECT $id, r.__line, " + reason + ", "
            + raw_json + " FROM import_stg s JOIN import_raw r ON r.__row = s.row_id" + email_join + " "
            "WHERE s.type IS NULL OR s.occurred_at IS NULL OR s.contact_id IS NULL OR s.paid = false",
            raw_params,
        ).fetchall()
        summary.rejected += rejected[0][0]
        con.execute("DELETE FROM import_stg WHERE type IS NULL OR occurred_at IS NULL OR contact_id IS NULL OR paid = false")

        issue_parts = []
        issue_params: dict[str, object] = {"id": ctx.import_id}
        if col("amount"):
            issue_params["amount_header"] = ctx.source.headers[mapping.fields["amount"]]
            issue_parts.append(
                "SELECT r.__line, s.contact_id, $amount_header, r." + col("amount") + ", 'not an amount' "
                "FROM import_stg s JOIN import_raw r ON r.__row = s.row_id WHERE r." + col("amount") + " IS NOT NULL AND s.amount IS NULL"
            )
        if col("email"):
            issue_params["email_header"] = ctx.source.headers[mapping.fields["email"]]
            issue_parts.append(
                "SELECT r.__line, s.contact_id, $email_header, r." + col("email") + ", em.reason "
                "FROM import_stg s JOIN import_raw r ON r.__row = s.row_id" + email_join + " "
                "WHERE r." + col("email") + " IS NOT NULL AND s.email IS NULL"
            )
        if issue_parts:
            issues = con.execute(
                "INSERT INTO import_issues (import_id, row_number, contact_id, column_name, value, reason) "
                "SELECT $id, * FROM (" + " UNION ALL ".join(issue_parts) + ")",
                issue_params,
            ).fetchall()
            summary.issues += issues[0][0]
        record_cell_errors(ctx, mapping, "SELECT r.__line FROM import_stg s JOIN import_raw r ON r.__row = s.row_id")

        summary.inserted = _insert_events(ctx, staged)
        if summary.inserted:
            refresh_event_summary_for_import(con, ctx.import_id)
        kept = con.execute("SELECT count(*) FROM import_stg").fetchall()[0][0]
        summary.unchanged = kept - summary.inserted
        if summary.created_contacts:
            apply_suppressions(con)
        ctx.progress("write", 3, 3)

    return pipeline


def _insert_events(ctx: PipelineContext, staged: int) -> int:
    """Insert the staged events not already in the base; returns how many.

    An event already in the base has the same time, so only the base's
    events within the file's time span are compared, and none at all when
    that span holds none (the first import of a history, a new month's
    export): the comparison costs more than the insert itself on 10M rows.
    Ids are drawn from ``event_id_seq`` in one block, one per staged row
    (``import_stg``'s rowid, below ``staged``), so the insert runs in parallel;
    rows not inserted leave gaps, as a rolled-back insert would.
    """
    con = ctx.con
    first = reserve_ids(con, "event_id_seq", staged)
    id_sql = "$first + s.rowid" if first is not None else "nextval('event_id_seq')"
    params: dict[str, object] = {"id": ctx.import_id}
    if first is not None:
        params["first"] = first
    lo, hi = con.execute("SELECT min(occurred_at), max(occurred_at) FROM import_stg").fetchall()[0]
    overlap = con.execute("SELECT count(*) FROM events WHERE occurred_at BETWEEN ? AND ?", [lo, hi]).fetchall()[0][0]
    where = ""
    if overlap:
        params["lo"], params["hi"] = lo, hi
        where = """
        WHERE NOT EXISTS (
            SELECT 1 FROM events e WHERE e.occurred_at BETWEEN $lo AND $hi
              AND e.contact_id = s.contact_id AND e.type = s.type AND e.occurred_at = s.occurred_at
              AND e.amount IS NOT DISTINCT FROM s.amount AND e.campaign IS NOT DISTINCT FROM s.campaign)"""
    return rows_changed(
        con,
        """
        INSERT INTO events (id, contact_id, type, occurred_at, amount, currency, campaign, channel, payment_method,
            details, import_id)
        SELECT """ + id_sql + """, contact_id, type, occurred_at, amount, currency, campaign, channel, payment_method,
            details, $id
        FROM import_stg s""" + where,
        params,
    )


def import_events(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    *,
    settings: Settings,
    options: ImportOptions | None = None,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Import one events file; see the module docstring."""
    options = options or ImportOptions()
    if options.event_type and options.event_type not in settings.all_event_types:
        raise InputError(
            f"--type {options.event_type}: unknown event type; use one of {', '.join(settings.all_event_types)} "
            "or declare it under event_types in crmseg.yaml."
        )
    check_map_targets(options.mapping, "events", settings)
    path = Path(path)

    def mapped(headers: list[str]) -> ColumnMapping:
        return map_headers(
            headers, kind="events", settings=settings, preset=options.preset, explicit=options.mapping, path=path
        )

    def pipeline(ctx: PipelineContext) -> None:
        mapping = mapped(ctx.source.headers)
        ext_fields = [f for f in settings.external_id_fields if f in mapping.fields]
        if "email" not in mapping.fields and "external_id" not in mapping.fields and not ext_fields:
            raise ImportFileError(
                f"{path}: no column links the events to contacts (an email or an external id). Its columns are: "
                f"{', '.join(ctx.source.headers)}. Name one with --map \"COLUMN=email\"."
            )
        if "occurred_at" not in mapping.fields:
            raise ImportFileError(
                f"{path}: no date column found among {', '.join(ctx.source.headers)}. Name it with --map \"COLUMN=occurred_at\"."
            )
        events_pipeline(mapping)(ctx)

    return run_import(
        con, path, kind="events", settings=settings, options=options, pipeline=pipeline, progress=progress,
        columns_used=columns_used_by(mapped),
    )
