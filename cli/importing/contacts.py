"""``crmseg import contacts``: rows of a contact export into the base, set-wise.

The steps, each one SQL statement (or a few) over the whole file:

1. ``import_stg``: one row per data row, every mapped cell normalised
   (emails and phones through per-distinct look-up tables, see ``values``).
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
7. Keys are computed for new contacts and refreshed for updated ones, and
   the suppression ledger applied, so a re-imported
   address that bounced or unsubscribed stays suppressed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import duckdb

from cli.errors import ImportFileError, InputError
from cli.importing.headers import ADDRESS_FIELDS, TITLE_HEADERS, ColumnMapping, check_map_targets, fold, map_headers
from cli.importing.runs import (
    ImportOptions,
    ImportSummary,
    PipelineContext,
    Progress,
    columns_used_by,
    no_progress,
    raw_row_json,
    run_import,
)
from cli.importing.values import (
    bool_sql,
    build_address_table,
    build_email_table,
    build_phone_table,
    consent_basis_sql,
    country_region_sql,
    email_status_sql,
    fold_sql,
    full_name_sql,
    gender_sql,
    hard_bounce_sql,
    in_range_date_sql,
    in_range_sql,
    is_month_first,
    list_sql,
    no_date_sql,
    number_sql,
    sql_literal,
    timestamp_sql,
)
from cli.settings import Settings
from cli.store.connection import key_sql, rows_changed
from cli.event_summary import refresh_event_summary
from cli.suppression import apply_suppressions, suppress_contacts

TEXT_FIELDS = ["first_name", "last_name", "street", "postal_code", "city", "country", "organisation", "job_title", "source"]
# Contact columns an import writes (besides id, status, stamps).
WRITABLE = [
    "email", "external_id", "first_name", "last_name", "phone", "street", "postal_code", "city", "country",
    "birth_date", "gender", "organisation", "job_title", "source", "consent_email", "consent_basis", "consent_at",
    "consent_method",
]
ON_CONFLICT = ("fill", "update", "keep")
# The staging table's timestamp columns (the cells parsed by timestamp_sql).
_TIMESTAMP_COLUMNS = ("consent_at", "created_at", "consent_withdrawn_at", "st_unsub_at", "st_bounce_at")


def _custom_expr(name: str, spec, column: str, separator: str, dates: Callable[[str], str]) -> tuple[str, str | None]:
    """SQL for a custom field's typed value, and for its rejected items (multiselect) if any."""
    if spec.type in ("text",):
        return column, None
    if spec.type == "email":
        return "em_" + name + ".email", None
    if spec.type == "phone":
        return "ph_" + name + ".phone", None
    if spec.type == "number":
        return number_sql(column), None
    if spec.type == "date":
        # A TIMESTAMP here; the staging query makes it a DATE in range (see _build_staging).
        return dates(column), None
    if spec.type == "boolean":
        return bool_sql(column), None
    options = spec.options or []
    if spec.type == "select":
        if not options:
            return column, None
        cases = " ".join("WHEN $o_" + name + "_" + str(i) + " THEN $v_" + name + "_" + str(i) for i in range(len(options)))
        return "CASE " + fold_sql(column) + " " + cases + " END", None
    # multiselect
    items = list_sql(column, separator)
    if not options:
        return "nullif(" + items + ", [])", None
    # Kept in the options' own order, each once.
    mapped = (
        "list_transform(" + items + ", lambda x: $opts_" + name + "[list_position($folds_" + name + ", " + fold_sql("x") + ")])"
    )
    keep = "nullif(list_filter($opts_" + name + ", lambda o: list_contains(" + mapped + ", o)), [])"
    bad = "list_filter(" + items + ", lambda x: NOT list_contains($folds_" + name + ", " + fold_sql("x") + "))"
    return keep, bad


def _option_params(settings: Settings, mapping: ColumnMapping) -> dict[str, object]:
    import unicodedata

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFD", text.strip())
        return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()

    params: dict[str, object] = {}
    for name, spec in settings.fields.items():
        if name not in mapping.fields or not spec.options:
            continue
        if spec.type == "select":
            for i, option in enumerate(spec.options):
                params[f"o_{name}_{i}"] = fold(option)
                params[f"v_{name}_{i}"] = option
        elif spec.type == "multiselect":
            params[f"opts_{name}"] = list(spec.options)
            params[f"folds_{name}"] = [fold(o) for o in spec.options]
    return params


# Countries that write the house number before the street (``12 rue des Lilas``).
NUMBER_FIRST = ("FR", "LU", "MC", "GB", "IE", "US", "CA", "AU", "NZ")


def _last_name_sql(col) -> str:
    """SQL: the last name, with a Dutch ``tussenvoegsel`` (van, de, van der) before it: ``van Dijk``."""
    last = "r." + col("last_name") if col("last_name") else None
    prefix = "r." + col("name_prefix") if col("name_prefix") else None
    if last is None:
        return "NULL::VARCHAR"
    if prefix is None:
        return last
    # A last name that already starts with its prefix is left as it is.
    return (
        "CASE WHEN " + prefix + " IS NULL OR " + last + " IS NULL OR starts_with(lower(" + last + "), lower(" + prefix
        + ") || ' ') THEN " + last + " ELSE " + prefix + " || ' ' || " + last + " END"
    )


def _street_sql(col, default_region: str, region: str) -> str:
    """SQL: the street, with a house number (and its suffix) kept in columns of their own joined in.

    ``Keizersgracht`` + ``12`` + ``A`` -> ``Keizersgracht 12A``; the number
    comes first for a row whose country writes it so (``12 rue des Lilas``):
    the country cell decides, else the header (Dutch/German ``Huisnummer``,
    ``Hausnummer``: after the street; French/English: the default region's way).
    A street that already holds the number is left as it is. ``region`` is
    the row's region (see ``_region_lookup``).
    """
    street = "r." + col("street") if col("street") else "NULL::VARCHAR"
    number_field = "house_number" if col("house_number") else ("street_number" if col("street_number") else None)
    if number_field is None:
        return street
    number = "r." + col(number_field)
    suffix = "r." + col("house_number_suffix") if col("house_number_suffix") else "NULL::VARCHAR"
    full = (
        "CASE WHEN " + suffix + " IS NULL THEN " + number + " "
        "WHEN regexp_full_match(" + suffix + ", '[A-Za-z]') THEN " + number + " || " + suffix + " "
        "WHEN regexp_matches(" + suffix + ", '^[-/]') THEN " + number + " || " + suffix + " "
        "ELSE " + number + " || ' ' || " + suffix + " END"
    )
    first_list = "(" + ", ".join(sql_literal(c) for c in NUMBER_FIRST) + ")"
    if col("country"):
        fallback = "true" if number_field == "street_number" and default_region.upper() in NUMBER_FIRST else "false"
        first = "(CASE WHEN r." + col("country") + " IS NULL THEN " + fallback + " ELSE " + region + " IN " + first_list + " END)"
    else:
        first = "true" if number_field == "street_number" and default_region.upper() in NUMBER_FIRST else "false"
    return (
        "CASE WHEN " + number + " IS NULL THEN " + street + " "
        "WHEN " + street + " IS NULL THEN " + full + " "
        "WHEN contains(' ' || " + street + " || ' ', ' ' || " + number + " || ' ') THEN " + street + " "
        "WHEN " + first + " THEN " + full + " || ' ' || " + street + " "
        "ELSE " + street + " || ' ' || " + full + " END"
    )


# Postal codes only one country writes: a row without a country cell is of that country.
POSTAL_CODE_REGIONS = {
    "NL": "[1-9][0-9]{3} ?[A-Z]{2}",  # 1012 AB
    "GB": "[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}",  # SW1A 1AA
}


def _region_lookup(
    con: duckdb.DuckDBPyConnection, country: str | None, postal_code: str | None, default_region: str,
    source: str = "import_raw",
) -> tuple[str, str]:
    """SQL for a row's region (over ``source r``, ``import_raw`` or its view) and the joins it needs.

    The country cell's region (``France``, ``NL``, ``Deutschland``); without
    one, the country a postal code names by its shape (``1012 AB``: NL); else
    the default region. Each distinct cell is read once, not once per row and use.
    """
    region = sql_literal(default_region.upper())
    joins = []
    if postal_code is not None:
        cases = " ".join(
            "WHEN regexp_full_match(upper(raw), " + sql_literal(pattern) + ") THEN " + sql_literal(code)
            for code, pattern in POSTAL_CODE_REGIONS.items()
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE import_postal_regions AS SELECT raw, region FROM (SELECT raw, CASE " + cases
            + " END AS region FROM (SELECT DISTINCT " + postal_code + " AS raw FROM " + source + " WHERE " + postal_code
            + " IS NOT NULL)) WHERE region IS NOT NULL"
        )
        region = "coalesce(pr_.region, " + region + ")"
        joins.append("LEFT JOIN import_postal_regions pr_ ON pr_.raw = r." + postal_code)
    if country is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE import_regions AS SELECT raw, " + country_region_sql("raw", default_region)
            + " AS region FROM (SELECT DISTINCT " + country + " AS raw FROM " + source + " WHERE " + country + " IS NOT NULL)"
        )
        region = "coalesce(rg_.region, " + region + ")"
        joins.append("LEFT JOIN import_regions rg_ ON rg_.raw = r." + country)
    return region, " ".join(joins)


def _address_source(con: duckdb.DuckDBPyConnection, mapping: ColumnMapping) -> str:
    """The table staging reads: ``import_raw``, or a view of it whose address is the row's first non-empty block.

    A block is the address columns of one kind (Outlook's Business, then Home:
    ``ColumnMapping.spares``); it is empty when its street, postal code and
    city are. The columns of the first block take the chosen block's values,
    so that everything downstream reads one address; ``import_raw`` itself
    (rejects' raw rows, issues' values) is left as it is.
    """
    blocks = max((len(mapping.spares.get(f, [])) for f in ADDRESS_FIELDS), default=0)
    if not blocks:
        return "import_raw"

    def column(name: str, block: int) -> str | None:
        if block == 0:
            return mapping.column(name)
        spares = mapping.spares.get(name, [])
        return "c" + str(spares[block - 1]) if block <= len(spares) else None

    def filled(block: int) -> str:
        parts = [column(n, block) for n in ("street", "postal_code", "city")]
        return "(" + " OR ".join([c + " IS NOT NULL" for c in parts if c] or ["false"]) + ")"

    choice = "CASE " + " ".join("WHEN " + filled(b) + " THEN " + str(b) for b in range(blocks + 1)) + " ELSE 0 END"
    replaced = []
    for name in ADDRESS_FIELDS:
        first = column(name, 0)
        if first is None:
            continue
        whens = " ".join("WHEN " + str(b) + " THEN " + (column(name, b) or "NULL") for b in range(1, blocks + 1))
        replaced.append("CASE block_ " + whens + " ELSE " + first + " END AS " + first)
    # Generated column names only (cN).
    con.execute(
        "CREATE OR REPLACE TEMP VIEW import_src AS SELECT * EXCLUDE (block_) REPLACE (" + ", ".join(replaced) + ") "
        "FROM (SELECT *, " + choice + " AS block_ FROM import_raw)"
    )
    return "import_src"


def _date_reader(con: duckdb.DuckDBPyConnection, date_format: str | None) -> Callable[[str], str]:
    """``timestamp_sql`` for a cell ``r.cN``, month-first when its column writes dates so (see ``is_month_first``).

    Each column is examined once, on first use; ``--date-format`` decides alone when given.
    """

    @functools.cache
    def month_first(column: str) -> bool:
        return date_format is None and is_month_first(con, column)

    def dates(cell: str) -> str:
        column = cell.split(".", 1)[1] if cell.startswith("r.") else None
        return timestamp_sql(cell, date_format, month_first(column) if column else False)

    return dates


def _build_staging(ctx: PipelineContext, mapping: ColumnMapping) -> dict[str, object]:
    """Create ``import_stg``; returns the bound parameters its SQL used."""
    con, settings, options = ctx.con, ctx.settings, ctx.options
    col = mapping.column
    dates = _date_reader(con, options.date_format)
    source = _address_source(con, mapping)
    region, region_join = _region_lookup(con, col("country"), col("postal_code"), settings.default_region, source)
    # Look-up tables of distinct emails and phones (the main ones and those of custom fields).
    email_columns = {"": col("email")}
    phone_columns = {"": col("phone")}
    for name, spec in settings.fields.items():
        if name in mapping.fields and spec.type == "email":
            email_columns[name] = col(name)
        if name in mapping.fields and spec.type == "phone":
            phone_columns[name] = col(name)
    spare_emails = ["c" + str(i) for i in mapping.spares.get("email", [])]
    sources_e = [c for c in email_columns.values() if c] + spare_emails
    if sources_e:
        union = " UNION ALL ".join("SELECT " + c + " AS raw FROM import_raw" for c in sources_e)
        build_email_table(con, union, "import_emails")
    spare_phones = ["c" + str(i) for i in mapping.spares.get("phone", [])]
    sources_p = [c for c in phone_columns.values() if c] + spare_phones
    if sources_p:
        union = " UNION ALL ".join(
            "SELECT r." + c + " AS raw, " + region + " AS region FROM " + source + " r " + region_join for c in sources_p
        )
        build_phone_table(con, union, "import_phones")
    ctx.progress("normalise", 1, 3)

    # gk_alt: the group key of a row without an email (see _group_and_match).
    select = ["r.__row AS row_id", "r.__line AS line", "NULL::VARCHAR AS gk_alt"]
    joins = [region_join] if region_join else []
    if col("email"):
        joins.append("LEFT JOIN import_emails em_ ON em_.raw = r." + col("email"))
        # A second email column fills the email where the first gives none (email_N, email_reason_N: for its issues).
        for n, spare in enumerate(spare_emails):
            joins.append("LEFT JOIN import_emails em_" + str(n) + " ON em_" + str(n) + ".raw = r." + spare)
            select.append("em_" + str(n) + ".email AS email_" + str(n) + ", em_" + str(n) + ".reason AS email_reason_" + str(n))
        if spare_emails:
            select.append("em_.email AS email_own")
        firsts = ["em_"] + ["em_" + str(n) for n in range(len(spare_emails))]
        select.append(
            "coalesce(" + ", ".join(e + ".email" for e in firsts) + ") AS email, em_.reason AS email_reason, "
            "CASE WHEN em_.email IS NOT NULL THEN em_.left_out END AS email_left_out"
        )
    else:
        select.append("NULL::VARCHAR AS email, NULL::VARCHAR AS email_reason, NULL::VARCHAR AS email_left_out")
    if col("phone"):
        joins.append("LEFT JOIN import_phones ph_ ON ph_.raw = r." + col("phone") + " AND ph_.region = " + region)
        # A second phone column fills the phone where the first gives none (phone_N: for its issues).
        for n, spare in enumerate(spare_phones):
            joins.append("LEFT JOIN import_phones ph_" + str(n) + " ON ph_" + str(n) + ".raw = r." + spare
                         + " AND ph_" + str(n) + ".region = " + region)
            select.append("ph_" + str(n) + ".phone AS phone_" + str(n))
        if spare_phones:
            select.append("ph_.phone AS phone_own")
        select.append("coalesce(" + ", ".join(["ph_.phone"] + ["ph_" + str(n) + ".phone" for n in range(len(spare_phones))])
                      + ") AS phone")
    else:
        select.append("NULL::VARCHAR AS phone")
    if col("street"):
        # Mailchimp's one-cell address (`12 rue des Lilas  Lyon  69003  FR`), split per distinct cell.
        build_address_table(con, "SELECT " + col("street") + " AS raw FROM " + source, "import_addresses")
        joins.append("LEFT JOIN import_addresses ad_ ON ad_.raw = r." + col("street"))
    # Both names in one cell (`Nom Prénom`): split, when the file has no name column of its own.
    full_name = None
    if not col("first_name") and not col("last_name"):
        for field, last_first in (("name_last_first", True), ("name_first_last", False)):
            if col(field) and full_name is None:
                full_name = full_name_sql("r." + col(field), last_first)
    for name in TEXT_FIELDS:
        if full_name is not None and name in ("first_name", "last_name"):
            select.append(full_name[0 if name == "first_name" else 1] + " AS " + name)
        elif name == "last_name":
            select.append(_last_name_sql(col) + " AS last_name")
        elif name == "street":
            street = _street_sql(col, settings.default_region, region)
            street = "coalesce(ad_.street, " + street + ")" if col("street") else street
            if col("street2"):
                # A second address line (`Complément d'adresse`, `Address line 2`) follows after a comma.
                line2 = "r." + col("street2")
                street = (
                    "CASE WHEN " + line2 + " IS NULL THEN " + street + " WHEN " + street + " IS NULL THEN " + line2
                    + " ELSE " + street + " || ', ' || " + line2 + " END"
                )
            select.append(street + " AS street")
        elif name == "postal_code":
            own = "r." + col(name) if col(name) else "NULL::VARCHAR"
            code = "coalesce(" + own + ", ad_.postal_code)" if col("street") else own
            # A French postal code that lost its leading zero in Excel (6000 for Nice) gets it back.
            select.append(
                "CASE WHEN regexp_full_match(" + code + ", '[0-9]{4}') AND " + region + " = 'FR' THEN '0' || " + code
                + " ELSE " + code + " END AS postal_code"
            )
        elif name in ("city", "country") and col("street"):
            own = "r." + col(name) if col(name) else "NULL::VARCHAR"
            select.append("coalesce(" + own + ", ad_." + name + ") AS " + name)
        else:
            select.append(("r." + col(name) if col(name) else "NULL::VARCHAR") + " AS " + name)
    # Parsed once here, made a DATE in range below.
    select.append((dates("r." + col("birth_date")) if col("birth_date") else "NULL::TIMESTAMP")
                  + " AS birth_date")
    select.append((gender_sql("r." + col("gender")) if col("gender") else "NULL::VARCHAR") + " AS gender")
    select.append((bool_sql("r." + col("consent_email")) if col("consent_email") else "NULL::BOOLEAN") + " AS consent_email")
    for name in ("consent_at", "created_at", "consent_withdrawn_at"):
        select.append(
            (dates("r." + col(name)) if col(name) else "NULL::TIMESTAMP") + " AS " + name
        )
    select.append((consent_basis_sql("r." + col("consent_basis")) if col("consent_basis") else "NULL::VARCHAR") + " AS consent_basis")
    # What the emailing tool said about the address (import-only fields, see _status_facts).
    status_exprs = {
        "st_unsub": (bool_sql, "unsubscribed", "BOOLEAN"),
        "st_unsub_at": (dates, "unsubscribed_at", "TIMESTAMP"),
        "st_unsub_given": (lambda c: c + " IS NOT NULL AND NOT " + no_date_sql(c), "unsubscribed_at", "BOOLEAN"),
        "st_unsub_campaign": (lambda c: c, "unsubscribe_campaign", "VARCHAR"),
        "st_unsub_reason": (lambda c: c, "unsubscribe_reason", "VARCHAR"),
        "st_bounce": (hard_bounce_sql, "hard_bounced", "BOOLEAN"),
        "st_bounce_at": (dates, "hard_bounced_at", "TIMESTAMP"),
        "st_bounce_given": (lambda c: c + " IS NOT NULL AND NOT " + no_date_sql(c), "hard_bounced_at", "BOOLEAN"),
        "st_bounce_campaign": (lambda c: c, "bounce_campaign", "VARCHAR"),
        "st_block": (bool_sql, "blocklisted", "BOOLEAN"),
        "st_complaint": (bool_sql, "spam_complained", "BOOLEAN"),
        "st_status": (email_status_sql, "email_status", "VARCHAR"),
    }
    for alias, (build, field_name, sql_type) in status_exprs.items():
        select.append((build("r." + col(field_name)) if col(field_name) else "NULL::" + sql_type) + " AS " + alias)
    select.append((list_sql("r." + col("tags"), settings.list_separator) if col("tags") else "NULL::VARCHAR[]") + " AS tags")
    ext_fields = [f for f in settings.external_id_fields if f in mapping.fields]
    ext_column = col(ext_fields[0]) if ext_fields else col("external_id")
    params = _option_params(settings, mapping)
    select.append(("r." + ext_column if ext_column else "NULL::VARCHAR") + " AS external_id")
    for name, spec in settings.fields.items():
        if name not in mapping.fields:
            continue
        # Custom field names are validated identifiers ([a-z][a-z0-9_]*) from crmseg.yaml.
        if spec.type == "email":
            joins.append("LEFT JOIN import_emails em_" + name + " ON em_" + name + ".raw = r." + col(name))
        if spec.type == "phone":
            joins.append(
                "LEFT JOIN import_phones ph_" + name + " ON ph_" + name + ".raw = r." + col(name) + " AND ph_" + name
                + ".region = " + region
            )
        if spec.type in ("select", "multiselect"):
            # Option look-ups (list lambdas) run once per distinct cell, then rows join on the cell.
            value, bad = _custom_expr(name, spec, "raw", settings.list_separator, dates)
            look = (
                "CREATE OR REPLACE TEMP TABLE import_look_" + name + " AS SELECT raw, " + value + " AS v, "
                + (bad if bad else "NULL") + " AS bad FROM (SELECT DISTINCT " + col(name) + " AS raw FROM import_raw "
                "WHERE " + col(name) + " IS NOT NULL)"
            )
            con.execute(look, {k: v for k, v in params.items() if "$" + k in look})
            joins.append("LEFT JOIN import_look_" + name + " lk_" + name + " ON lk_" + name + ".raw = r." + col(name))
            value, bad = "lk_" + name + ".v", ("lk_" + name + ".bad" if bad else None)
        else:
            value, bad = _custom_expr(name, spec, "r." + col(name), settings.list_separator, dates)
        select.append(value + " AS x_" + name)
        if bad:
            select.append(bad + " AS xbad_" + name)
    # Dates out of 1850-2200 are typos: checked on the parsed columns (see in_range_sql).
    date_columns = ["birth_date"] + ["x_" + n for n, spec in settings.fields.items() if n in mapping.fields and spec.type == "date"]
    in_range = ", ".join(
        [in_range_sql(c) + " AS " + c for c in _TIMESTAMP_COLUMNS] + [in_range_date_sql(c) + " AS " + c for c in date_columns]
    )
    sql = (
        "CREATE OR REPLACE TEMP TABLE import_stg AS SELECT * REPLACE (" + in_range + ") FROM (SELECT "
        + ", ".join(select) + " FROM " + source + " r " + " ".join(joins) + ")"
    )
    used = {k: v for k, v in params.items() if "$" + k in sql}
    con.execute(sql, used)
    return used


def _drop_forgotten(ctx: PipelineContext) -> None:
    """Drop the rows of erased people: their email's or phone's key is in the ledger as ``erased``.

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
        "OR phone IN (SELECT value FROM import_forgotten)",
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


def _group_and_match(ctx: PipelineContext) -> None:
    """``import_rows.gk`` (the row's group in the file) and ``import_keys`` (each group's final key).

    A group's final key ``fk`` is the base contact it matches (``c:ID``), else
    the group itself; ``single`` says that exactly one row folds into it.
    Rows without an email borrow the email (or external id) of rows sharing
    their external id (or phone): those look-ups only scan the keys such rows
    hold, since most rows have an email.
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
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_phone_keys AS
        SELECT phone, min(email) AS email, min(external_id) AS external_id FROM import_stg
        WHERE phone IN (SELECT phone FROM import_stg WHERE email IS NULL AND external_id IS NULL AND phone IS NOT NULL)
        GROUP BY phone
        """
    )
    # A row's group key is its email; the few rows without one get theirs here. An email
    # never holds a colon, so no other key can equal one.
    con.execute(
        """
        UPDATE import_stg s SET gk_alt = k.gk FROM (
            SELECT s.row_id,
              CASE WHEN s.external_id IS NOT NULL THEN coalesce(xk.email, 'x:' || s.external_id)
                   WHEN s.phone IS NOT NULL THEN coalesce(pk.email, 'x:' || pk.external_id, 'p:' || s.phone)
                   ELSE 'r:' || s.row_id END AS gk
            FROM import_stg s LEFT JOIN import_ext_keys xk ON xk.external_id = s.external_id
            LEFT JOIN import_phone_keys pk ON pk.phone = s.phone
            WHERE s.email IS NULL
        ) k WHERE s.row_id = k.row_id
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW import_rows AS SELECT *, coalesce(email, gk_alt) AS gk FROM import_stg")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_matches AS
        WITH g AS (
            SELECT gk, min(email) AS email, min(external_id) AS ext, min(phone) AS phone, count(*) AS n
            FROM import_rows GROUP BY gk
        ), live AS (
            SELECT id, email, external_id, phone FROM contacts WHERE status IN ('active', 'suppressed')
        ), by_email AS (
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.email = g.email GROUP BY g.gk
        ), by_ext AS (
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.external_id = g.ext GROUP BY g.gk
        ), by_phone AS (
            SELECT g.gk, min(c.id) AS id FROM g JOIN live c ON c.phone = g.phone
            WHERE g.email IS NULL AND g.ext IS NULL GROUP BY g.gk
        )
        SELECT g.gk, g.n, coalesce(e.id, x.id, p.id) AS contact_id
        FROM g LEFT JOIN by_email e USING (gk) LEFT JOIN by_ext x USING (gk) LEFT JOIN by_phone p USING (gk)
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


# The file columns ``_status_facts`` reads (see ``_build_staging``'s ``st_*`` columns).
_STATUS_COLUMNS = (
    "unsubscribed", "unsubscribed_at", "hard_bounced", "hard_bounced_at", "blocklisted", "spam_complained",
    "email_status",
)


def _status_facts(ctx: PipelineContext, mapping: ColumnMapping) -> None:
    """Turn what the emailing tool said (unsubscribed, cleaned/hard-bounced, complained, blocklisted) into facts.

    For each contact of the import that some row marks so: an ``unsubscribe``
    event (at the unsubscribe time, else the import time) with consent
    withdrawn, a ``spam_complaint`` event (at the import time) with consent
    withdrawn, or a ``hard_bounce`` event, and an entry in the suppression
    ledger at once (source ``import:<id>``), so the address leaves every email
    list before any ``clean``. A blocklisted address counts as unsubscribed.
    HubSpot's ``Non-marketing contact`` sets email consent to no.
    Applies whatever ``--on-conflict`` says: it is about the address, not a field.
    """
    if not any(name in mapping.fields for name in _STATUS_COLUMNS):
        return  # the file says nothing about unsubscribes or bounces
    con = ctx.con
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_status AS
        SELECT inc.id AS contact_id,
               bool_or(coalesce(s.st_unsub, false) OR coalesce(s.st_unsub_given, false) OR coalesce(s.st_block, false)
                       OR s.st_status IN ('unsubscribe', 'blocklist')) AS unsub,
               max(s.st_unsub_at) AS unsub_at,
               any_value(s.st_unsub_campaign) FILTER (WHERE s.st_unsub_campaign IS NOT NULL) AS unsub_campaign,
               any_value(s.st_unsub_reason) FILTER (WHERE s.st_unsub_reason IS NOT NULL) AS unsub_reason,
               bool_or(coalesce(s.st_block, false) OR s.st_status = 'blocklist') AS blocked,
               bool_or(coalesce(s.st_bounce, false) OR coalesce(s.st_bounce_given, false)
                       OR s.st_status = 'hard_bounce') AS bounce,
               max(s.st_bounce_at) AS bounce_at,
               any_value(s.st_bounce_campaign) FILTER (WHERE s.st_bounce_campaign IS NOT NULL) AS bounce_campaign,
               bool_or(coalesce(s.st_complaint, false) OR s.st_status = 'spam_complaint') AS complaint,
               bool_or(s.st_status = 'non_marketing') AS non_marketing
        FROM import_rows s JOIN import_keys k USING (gk) JOIN import_incoming inc USING (fk)
        GROUP BY inc.id
        HAVING bool_or(coalesce(s.st_unsub, false) OR coalesce(s.st_unsub_given, false) OR coalesce(s.st_block, false)
                       OR coalesce(s.st_bounce, false) OR coalesce(s.st_bounce_given, false)
                       OR coalesce(s.st_complaint, false)
                       OR s.st_status IN ('unsubscribe', 'blocklist', 'hard_bounce', 'spam_complaint', 'non_marketing'))
        """
    )
    if not con.execute("SELECT count(*) FROM import_status").fetchall()[0][0]:
        return
    params = {"id": ctx.import_id, "file": ctx.source.path.name}
    added = con.execute(
        """
        INSERT INTO events (contact_id, type, occurred_at, campaign, channel, details, import_id)
        SELECT t.contact_id, 'unsubscribe', coalesce(t.unsub_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               t.unsub_campaign, 'email',
               coalesce(t.unsub_reason, CASE WHEN t.blocked THEN 'blocklisted' ELSE 'unsubscribed' END)
               || ' (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.unsub AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'unsubscribe'
              AND (t.unsub_at IS NULL OR e.occurred_at = t.unsub_at))
        UNION ALL
        SELECT t.contact_id, 'spam_complaint', date_trunc('second', current_timestamp::TIMESTAMP), NULL, 'email',
               'marked an email as spam (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.complaint AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'spam_complaint')
        UNION ALL
        SELECT t.contact_id, 'hard_bounce', coalesce(t.bounce_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               t.bounce_campaign, 'email', 'hard bounce / cleaned address (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.bounce AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'hard_bounce'
              AND (t.bounce_at IS NULL OR e.occurred_at = t.bounce_at))
        RETURNING contact_id
        """,
        params,
    ).fetchall()
    con.execute(
        """
        UPDATE contacts c SET consent_email = false,
               consent_withdrawn_at = greatest(c.consent_withdrawn_at,
                   coalesce(t.unsub_at, date_trunc('second', current_timestamp::TIMESTAMP))),
               updated_at = current_timestamp
        FROM import_status t WHERE c.id = t.contact_id AND t.unsub
        """
    )
    con.execute(
        """
        UPDATE contacts c SET consent_email = false,
               consent_withdrawn_at = coalesce(c.consent_withdrawn_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               updated_at = current_timestamp
        FROM import_status t WHERE c.id = t.contact_id AND t.complaint AND NOT t.unsub
        """
    )
    con.execute(
        "UPDATE contacts c SET consent_email = false, updated_at = current_timestamp FROM import_status t "
        "WHERE c.id = t.contact_id AND t.non_marketing AND NOT t.unsub AND c.consent_email IS DISTINCT FROM false"
    )
    source = "import:" + str(ctx.import_id)
    unsub = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE unsub ORDER BY 1").fetchall()]
    bounce = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE bounce ORDER BY 1").fetchall()]
    complaint = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE complaint ORDER BY 1").fetchall()]
    # The strictest reason first: a contact both unsubscribed and bounced keeps `unsubscribe` as its status reason.
    suppress_contacts(con, complaint, "spam_complaint", source)
    suppress_contacts(con, unsub, "unsubscribe", source)
    suppress_contacts(con, bounce, "hard_bounce", source)
    if added:
        refresh_event_summary(con, sorted({r[0] for r in added}))


def _title_as_job(ctx: PipelineContext, mapping: ColumnMapping) -> None:
    """Map a ``Title`` column to the job title when its cells are not civilities (Salesforce's `CEO`).

    ``Title`` is a civility in most exports (Outlook's `Mr`, `Mrs`); when fewer
    than a quarter of its distinct cells are civilities and no other column
    holds the job title, it is the job title. ``--map`` decides alone.
    """
    index = mapping.fields.get("gender")
    if index is None or "job_title" in mapping.fields or fold(ctx.source.headers[index]) not in TITLE_HEADERS:
        return
    header = fold(ctx.source.headers[index])
    if any(fold(named) == header for named in ctx.options.mapping) or ctx.source.rows == 0:
        return
    column = "c" + str(index)
    # The column name is generated (cN).
    cells, civilities = ctx.con.execute(
        "SELECT count(*), count(" + gender_sql("raw") + ") FROM (SELECT DISTINCT " + column + " AS raw FROM import_raw "
        "WHERE " + column + " IS NOT NULL)"
    ).fetchall()[0]
    if cells and civilities * 4 < cells:
        mapping.fields["job_title"] = mapping.fields.pop("gender")


def contacts_pipeline(mapping: ColumnMapping):
    """The contacts pipeline for ``run_import`` under ``mapping``."""

    def pipeline(ctx: PipelineContext) -> None:
        _title_as_job(ctx, mapping)
        ctx.summary.unmapped_columns = list(mapping.unmapped)
        ctx.summary.mapped_columns = {ctx.source.headers[i]: f for f, i in mapping.fields.items()}
        for name, indexes in mapping.spares.items():
            ctx.summary.mapped_columns.update({ctx.source.headers[i]: name for i in indexes})
        if ctx.source.rows == 0:
            return
        _build_staging(ctx, mapping)
        _drop_forgotten(ctx)
        _reject_unidentified(ctx)
        _record_issues(ctx, mapping)
        _group_and_match(ctx)
        ctx.progress("match", 2, 3)
        customs = _aggregate(ctx, mapping)
        _write_contacts(ctx, customs)
        _link_issues(ctx)
        _refresh_matched_keys(ctx)
        _status_facts(ctx, mapping)
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
