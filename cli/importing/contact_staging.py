"""Staging a contacts file: ``import_stg``, one row per data row, every mapped cell parsed.

Emails and phones go through per-distinct look-up tables (see ``values``),
dates are read day-first unless a column writes them month-first, a row's
region comes from its country cell or its postal code's shape, an address
block (Outlook's Home after its Business) fills the rows whose first is
empty, and custom fields are parsed to their declared types. ``title_as_job``
decides, from its cells, whether a ``Title`` column is a civility or a job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import duckdb

from cli.importing.headers import ADDRESS_FIELDS, TITLE_HEADERS, ColumnMapping, fold
from cli.importing.runs import PipelineContext
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

TEXT_FIELDS = ["first_name", "last_name", "street", "postal_code", "city", "country", "organisation", "job_title", "source"]

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
        # A TIMESTAMP here; the staging query makes it a DATE in range (see build_staging).
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


def _street_sql(col, default_region: str, region: str, box_word: str = "bte") -> str:
    """SQL: the street, with a house number (and its suffix) kept in columns of their own joined in.

    ``Keizersgracht`` + ``12`` + ``A`` -> ``Keizersgracht 12A``; the number
    comes first for a row whose country writes it so (``12 rue des Lilas``):
    the country cell decides, else the header (Dutch/German ``Huisnummer``,
    ``Hausnummer``: after the street; French/English: the default region's way).
    A street that already holds the number is left as it is. ``region`` is
    the row's region (see ``_region_lookup``). A box number follows the
    number after ``box_word`` (``Rue de la Loi 16 bte 3``, ``Wetstraat 16 bus 3``).
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
    if col("box_number"):
        box = "r." + col("box_number")
        # A cell that already says `bte 3` or `Bus 3` keeps its own word.
        worded = "regexp_matches(lower(strip_accents(" + box + ")), '^(boite|bte|bt|bus|box)([^a-z]|$)')"
        box = "CASE WHEN " + worded + " THEN " + box + " ELSE " + sql_literal(box_word) + " || ' ' || " + box + " END"
        full = "(" + full + " || coalesce(' ' || " + box + ", ''))"
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


def build_staging(ctx: PipelineContext, mapping: ColumnMapping) -> dict[str, object]:
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
            box_header = fold(ctx.source.headers[mapping.fields["box_number"]]) if col("box_number") else ""
            street = _street_sql(col, settings.default_region, region, "bus" if box_header.startswith("bus") else "bte")
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
    # What the emailing tool said about the address (import-only fields, see contact_status).
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
        # A flag column: yes/no, or a date of death. A date-of-death column: any value but no/placeholder.
        "st_deceased": (lambda c: "coalesce(" + bool_sql(c) + ", CASE WHEN " + dates(c) + " IS NOT NULL THEN true END)",
                        "deceased", "BOOLEAN"),
        "st_deceased_at": (dates, "deceased_at", "TIMESTAMP"),
        "st_deceased_given": (
            lambda c: c + " IS NOT NULL AND NOT " + no_date_sql(c) + " AND coalesce(" + bool_sql(c) + ", true)",
            "deceased_at", "BOOLEAN",
        ),
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


def title_as_job(ctx: PipelineContext, mapping: ColumnMapping) -> None:
    """Decide from its cells whether a ``Title`` column is a civility or a job (Salesforce's `CEO`).

    ``Title`` is a civility in most exports (Outlook's `Mr`, `Mrs`): mapped to
    the gender, it becomes the job title when fewer than a quarter of its
    distinct cells are civilities and no other column holds the job title.
    Mapped to the job title (it came after a civility or gender column), it is
    left unmapped when a quarter or more are civilities: the civility is
    already read. ``--map`` decides alone.
    """
    for field in ("gender", "job_title"):
        index = mapping.fields.get(field)
        if index is None or fold(ctx.source.headers[index]) not in TITLE_HEADERS or ctx.source.rows == 0:
            continue
        header = fold(ctx.source.headers[index])
        if any(fold(named) == header for named in ctx.options.mapping):
            continue
        column = "c" + str(index)
        # The column name is generated (cN).
        cells, civilities = ctx.con.execute(
            "SELECT count(*), count(" + gender_sql("raw") + ") FROM (SELECT DISTINCT " + column + " AS raw "
            "FROM import_raw WHERE " + column + " IS NOT NULL)"
        ).fetchall()[0]
        if field == "gender" and "job_title" not in mapping.fields and cells and civilities * 4 < cells:
            mapping.fields["job_title"] = mapping.fields.pop("gender")
        elif field == "job_title" and civilities * 4 >= cells > 0:
            del mapping.fields["job_title"]
            mapping.unmapped.append(ctx.source.headers[index])
