"""Set-wise normalising of imported cells: SQL expressions and per-distinct look-ups.

Everything here works on whole columns: a function either returns a SQL
expression over a raw-table column (dates, numbers, booleans, gender,
lists), or builds a small look-up table from the column's *distinct*
values (emails, phones), because the libraries that know the rules
(email-validator, phonenumbers) cost tens of microseconds a call.

- Emails: each distinct domain is checked once with email-validator
  (``check_deliverability=False``); ASCII local parts are checked in SQL by
  the same dot-atom rule email-validator applies; the rare non-ASCII local
  part goes to email-validator whole. ``tests/unit/importing`` pins that the
  verdicts are the same as calling email-validator on every address.
- Phones: numbers written in the national form of a region, or with its
  country code, are checked in SQL against phonenumbers' own metadata
  patterns for that region (the same test ``is_valid_number`` makes); any
  other spelling goes to phonenumbers itself, once per distinct value.

Column names put into SQL here are generated (``cN``) or constants; user
values only ever travel as data.
"""

from __future__ import annotations

import re

import duckdb
import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from cli.normalise import FRENCH_OVERSEAS_NSN, idna_domain, normalise_phone
from cli.store.connection import insert_rows

# email-validator's ATEXT, the characters of an unquoted local part.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
DOT_ATOM = "[" + _ATEXT + "]+(\\.[" + _ATEXT + "]+)*"
LOCAL_MAX = 64
EMAIL_MAX = 254


def sql_literal(text: str) -> str:
    """A SQL string literal for a constant known to the code (never user input)."""
    return "'" + text.replace("'", "''") + "'"


def _trim_guarded(expression: str, characters: str, codes: str) -> str:
    """SQL: ``trim(expression, characters)``, run only when the first or last character is one of ``codes``."""
    return (
        "CASE WHEN ascii(" + expression + ") IN " + codes + " OR ascii(right(" + expression + ", 1)) IN " + codes
        + " THEN trim(" + expression + ", " + sql_literal(characters) + ") ELSE " + expression + " END"
    )


_EMAIL_TRIM = " <>\t\u00a0"
_EMAIL_TRIM_CODES = "(32, 60, 62, 9, 160)"


def cell_email_clean_sql(source_sql: str) -> str:
    """SQL: ``raw`` of ``source_sql``, ``c``: the cell trimmed, the address of ``Name <address>``, without
    ``mailto:`` or angle brackets, lower-cased, and ``left_out``: the other addresses of a cell that holds
    several (NULL otherwise).

    A cell with several addresses (`marie@x.fr; jean@x.fr`, a couple's row; Google's
    `a@x.fr ::: b@y.org`) gives its first. Each step is its own subquery so that the
    guarded trims (a trim with a character set is costly) evaluate their argument once.
    """
    # A list of addresses: every piece between `;` `,` `/` `|` or Google's `:::` holds an @ (else,
    # every word between blanks does); `Dupont, Marie <m@x.fr>` or `slash/ok@x.fr` is no list.
    def pieces(pattern: str) -> str:
        return "list_filter(list_transform(regexp_split_to_array(raw, " + sql_literal(pattern) + "), lambda w: trim(w)), lambda w: w <> '')"

    def listed(split: str) -> str:
        return "CASE WHEN len(" + split + ") > 1 AND list_bool_and(list_transform(" + split + ", lambda w: contains(w, '@'))) " \
            "THEN " + split + " END"

    several = "raw LIKE '%@%@%'"
    step_split = (
        "SELECT raw, CASE WHEN " + several + " THEN coalesce(" + listed(pieces("\\s*([;,/|]|:::)\\s*")) + ", "
        + listed(pieces("\\s+")) + ") END AS many FROM (" + source_sql + ")"
    )
    first = "CASE WHEN many IS NOT NULL THEN many[1] ELSE split_part(raw, ' ::: ', 1) END"
    left_out = "CASE WHEN many IS NOT NULL THEN array_to_string(many[2:], ', ') END"
    # A display name (`Marie Dupont <marie@example.fr>`): the address between the last angle brackets.
    step0 = (
        "SELECT raw, left_out, CASE WHEN contains(first, '<') AND regexp_matches(first, '<[^<]*>[\\s\u00a0]*$') "
        "THEN regexp_extract(first, '<([^<]*)>[\\s\u00a0]*$', 1) ELSE first END AS raw0 "
        "FROM (SELECT raw, " + first + " AS first, " + left_out + " AS left_out FROM (" + step_split + "))"
    )
    step1 = "SELECT raw, left_out, " + _trim_guarded("raw0", _EMAIL_TRIM, _EMAIL_TRIM_CODES) + " AS a FROM (" + step0 + ")"
    step2 = "SELECT raw, left_out, regexp_replace(a, '^(?i:mailto:)', '') AS b FROM (" + step1 + ")"
    return (
        "SELECT raw, lower(" + _trim_guarded("b", _EMAIL_TRIM, _EMAIL_TRIM_CODES) + ") AS c, left_out FROM (" + step2 + ")"
    )


def _refusal(address: str) -> str | None:
    """Why email-validator refuses ``address`` (syntax only, no DNS), or None."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as e:
        return str(e)
    return None


# SQL: ``domain`` is a plain one that email-validator accepts as it is (lower-case ASCII labels of
# letters and digits, joined by single hyphens, at most 63 characters; two labels or more; the last
# ends with a letter; not a special-use name; short enough for any address). Narrower than what
# email-validator accepts: the others go through it.
_PLAIN_DOMAIN_SQL = (
    "(strlen(domain) <= 200 AND regexp_full_match(domain, '[a-z0-9]+(-[a-z0-9]+)*(\\.[a-z0-9]+(-[a-z0-9]+)*)+') "
    "AND regexp_matches(domain, '[a-z]$') AND NOT regexp_matches(domain, '[^.]{64}') "
    "AND NOT list_bool_or(list_transform($special_domains, lambda n: domain = n OR ends_with(domain, '.' || n))))"
)


def build_email_table(con: duckdb.DuckDBPyConnection, source_sql: str, table: str) -> None:
    """Create temp ``table(raw, email, reason, left_out)`` for the distinct raw emails of ``source_sql``.

    ``source_sql`` is a query with one column ``raw``; ``email`` is the
    normalised address or NULL, ``reason`` why it is not usable, ``left_out``
    the other addresses of a cell that holds several (see ``cell_email_clean_sql``).
    """
    build = (
        "CREATE OR REPLACE TEMP TABLE " + table + " AS "
        "SELECT raw, c AS cleaned, left_out, "
        "CASE WHEN strpos(c, '@') > 0 THEN parts.local END AS local, "
        "CASE WHEN strpos(c, '@') > 0 THEN rtrim(parts.domain, '.') END AS domain "
        # One @ (nearly every cell): split_part, at a third of the regular expression's cost.
        "FROM (SELECT raw, c, left_out, CASE WHEN strlen(c) - strlen(replace(c, '@', '')) = 1 "
        "THEN {'local': split_part(c, '@', 1), 'domain': split_part(c, '@', 2)} "
        "ELSE regexp_extract(c, '^(.*)@([^@]*)$', ['local', 'domain']) END AS parts FROM ("
        + cell_email_clean_sql("SELECT DISTINCT raw FROM (" + source_sql + ") WHERE raw IS NOT NULL") + "))"
    )
    con.execute(build)
    # Plain domains pass email-validator for sure (see _PLAIN_DOMAIN_SQL): only the others meet it,
    # one by one (30 µs each; a business contact list holds about a domain per contact). The
    # distinct domains are stored first, so that the test runs once per domain, not per address.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_email_domains AS SELECT DISTINCT domain, domain AS ascii, "
        "NULL::VARCHAR AS reason FROM " + table + " WHERE domain IS NOT NULL"
    )
    domains = [r[0] for r in con.execute(
        "DELETE FROM import_email_domains WHERE NOT " + _PLAIN_DOMAIN_SQL + " RETURNING domain",
        {"special_domains": list(SPECIAL_USE_DOMAIN_NAMES)},
    ).fetchall()]
    checked = [(domain, idna_domain(domain), _refusal("a@" + domain)) for domain in domains]
    insert_rows(con, "import_email_domains", checked, 3)
    non_ascii = con.execute(
        "SELECT DISTINCT local, domain FROM " + table + " WHERE local IS NOT NULL AND local <> '' "
        "AND NOT regexp_full_match(local, '[\\x00-\\x7f]*')"
    ).fetchall()
    local_checked = [(local, domain, _refusal(local + "@" + domain)) for local, domain in non_ascii]
    con.execute("CREATE OR REPLACE TEMP TABLE import_email_locals (local VARCHAR, domain VARCHAR, reason VARCHAR)")
    if local_checked:
        insert_rows(con, "import_email_locals", local_checked, 3)
    finish = (
        "CREATE OR REPLACE TEMP TABLE " + table + " AS "
        "SELECT e.raw, CASE WHEN r.reason IS NULL THEN e.local || '@' || d.ascii END AS email, r.reason, e.left_out "
        "FROM " + table + " e "
        "LEFT JOIN import_email_domains d ON d.domain = e.domain "
        "LEFT JOIN import_email_locals l ON l.local = e.local AND l.domain = e.domain, "
        "LATERAL (SELECT CASE "
        "  WHEN e.local IS NULL THEN 'not an email address (no @)' "
        "  WHEN e.local = '' THEN 'not an email address (nothing before the @)' "
        "  WHEN d.reason IS NOT NULL THEN d.reason "
        "  WHEN l.local IS NOT NULL THEN l.reason "
        "  WHEN NOT regexp_full_match(e.local, " + sql_literal(DOT_ATOM) + ") "
        "    THEN 'not an email address (the part before the @ holds characters or dots an address cannot have)' "
        "  WHEN strlen(e.local) + 1 + strlen(d.ascii) > " + str(EMAIL_MAX) + " THEN 'not an email address (too long)' "
        "END AS reason) r"
    )
    con.execute(finish)


def email_verdicts(con: duckdb.DuckDBPyConnection, values: list[str]) -> dict[str, str | None]:
    """Normalised email (or None) for each value, through ``build_email_table`` (for tests)."""
    con.execute("CREATE OR REPLACE TEMP TABLE import_email_probe (raw VARCHAR)")
    insert_rows(con, "import_email_probe", [(v,) for v in values], 1)
    build_email_table(con, "SELECT raw FROM import_email_probe", "import_email_probe_out")
    return dict(con.execute("SELECT raw, email FROM import_email_probe_out").fetchall())


# ---------------------------------------------------------------- phones

_TYPE_DESCS = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager", "uan",
    "voicemail",
)


def _fast_region(region: str):
    """Metadata of a region whose numbers the SQL fast path may judge, else None.

    The region's national prefix is 0, or 1 in North America (an alternative
    that only reads numbers without it, GB's ``0|180020``, never meets the
    fast path). Regions with rewriting rules (JE and the Caribbean put an area
    code before a short number) or told apart from others of their country
    code by leading digits (PR) go to phonenumbers. A number that the region's
    own patterns accept is valid whichever region phonenumbers then names; one
    they refuse (a US number in a Canadian list) goes to phonenumbers.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    prefix = metadata.national_prefix if metadata is not None else None
    if prefix not in ("0", "1"):
        return None
    parsing = metadata.national_prefix_for_parsing
    if parsing is not None and parsing != prefix and not parsing.startswith(prefix + "|"):
        return None
    if metadata.leading_digits is not None:
        return None
    return metadata


def _region_condition(metadata) -> str:
    """SQL: ``nsn`` is a valid national number of the region (phonenumbers' type patterns)."""
    general = metadata.general_desc
    parts = []
    for name in _TYPE_DESCS:
        desc = getattr(metadata, name, None)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = [n for n in (desc.possible_length or general.possible_length) if n > 0]
        length_test = "strlen(nsn) IN (" + ", ".join(str(n) for n in lengths) + ") AND " if lengths else ""
        parts.append("(" + length_test + "regexp_full_match(nsn, " + sql_literal(desc.national_number_pattern) + "))")
    if not parts:
        return "false"
    general_lengths = [n for n in general.possible_length if n > 0]
    general_test = "strlen(nsn) IN (" + ", ".join(str(n) for n in general_lengths) + ") AND " if general_lengths else ""
    return "(" + general_test + "regexp_full_match(nsn, " + sql_literal(general.national_number_pattern) + ") AND (" + " OR ".join(parts) + "))"


def build_phone_table(con: duckdb.DuckDBPyConnection, source_sql: str, table: str) -> None:
    """Create temp ``table(raw, region, phone)``: E.164 form of each distinct (raw, region), or NULL.

    ``source_sql`` yields columns ``raw`` and ``region`` (two-letter code).
    """
    build = (
        "CREATE OR REPLACE TEMP TABLE " + table + " AS SELECT DISTINCT raw, upper(region) AS region, "
        "regexp_replace(split_part(raw, ' ::: ', 1), '[\\s.\\-()/\u00a0]', '', 'g') AS compact, NULL::VARCHAR AS phone "
        "FROM (" + source_sql + ") WHERE raw IS NOT NULL"
    )
    con.execute(build)
    regions = [r[0] for r in con.execute("SELECT DISTINCT region FROM " + table).fetchall()]
    for region in regions:
        metadata = _fast_region(region) if region else None
        if metadata is None:
            continue
        cc, prefix = str(metadata.country_code), metadata.national_prefix
        # Patterns come from the phonenumbers metadata; the region is bound.
        fast = (
            "UPDATE " + table + " SET phone = '+" + cc + "' || nsn FROM ("
            "SELECT raw AS r, region AS g, CASE "
            "WHEN regexp_full_match(compact, '" + prefix + "[1-9][0-9]+') THEN substr(compact, 2) "
            "WHEN regexp_full_match(compact, '\\+" + cc + "[1-9][0-9]+') THEN substr(compact, " + str(len(cc) + 2) + ") "
            "WHEN regexp_full_match(compact, '00" + cc + "[1-9][0-9]+') THEN substr(compact, " + str(len(cc) + 3) + ") "
            # Without its prefix: North American numbers are written so (`(212) 555-0100`), and a
            # spreadsheet read `06 12 34 56 78` as the number 612345678.
            "WHEN regexp_full_match(compact, '[1-9][0-9]+') THEN compact "
            "END AS nsn FROM " + table + " WHERE region = ?) f "
            "WHERE raw = f.r AND region = f.g AND f.nsn IS NOT NULL AND " + _region_condition(metadata)
            # French overseas numbers written nationally go to phonenumbers (normalise_phone tries their regions).
            + (" AND NOT regexp_full_match(f.nsn, " + sql_literal(FRENCH_OVERSEAS_NSN) + ")" if region == "FR" else "")
        )
        con.execute(fast, [region])
    rest = con.execute("SELECT raw, region FROM " + table + " WHERE phone IS NULL").fetchall()
    resolved = [(raw, region, normalise_phone(raw, region or "FR")) for raw, region in rest]
    resolved = [r for r in resolved if r[2] is not None]
    if resolved:
        con.execute("CREATE OR REPLACE TEMP TABLE import_phone_slow (raw VARCHAR, region VARCHAR, phone VARCHAR)")
        insert_rows(con, "import_phone_slow", resolved, 3)
        con.execute(
            "UPDATE " + table + " t SET phone = s.phone FROM import_phone_slow s "
            "WHERE t.raw = s.raw AND t.region IS NOT DISTINCT FROM s.region"
        )


COUNTRY_CODES: dict[str, str] = {
    "france": "FR", "frankrijk": "FR", "frankreich": "FR", "belgique": "BE", "belgium": "BE", "belgie": "BE",
    "belgien": "BE", "suisse": "CH", "switzerland": "CH", "zwitserland": "CH", "schweiz": "CH",
    "luxembourg": "LU", "luxemburg": "LU", "paysbas": "NL", "netherlands": "NL", "nederland": "NL",
    "thenetherlands": "NL", "niederlande": "NL", "hollande": "NL", "allemagne": "DE", "germany": "DE",
    "duitsland": "DE", "deutschland": "DE", "espagne": "ES", "spain": "ES", "spanje": "ES", "spanien": "ES",
    "italie": "IT", "italy": "IT", "italien": "IT", "italia": "IT", "royaumeuni": "GB", "unitedkingdom": "GB",
    "uk": "GB", "angleterre": "GB", "canada": "CA", "monaco": "MC", "portugal": "PT", "autriche": "AT",
    "austria": "AT", "osterreich": "AT", "etatsunis": "US", "unitedstates": "US", "usa": "US",
}


def country_region_sql(column: str | None, default_region: str) -> str:
    """SQL: the two-letter region of a row's country cell, else the default region."""
    default = sql_literal(default_region.upper())
    if column is None:
        return default
    folded = "regexp_replace(lower(strip_accents(" + column + ")), '[^a-z]', '', 'g')"
    cases = " ".join(
        "WHEN " + sql_literal(name) + " THEN " + sql_literal(code) for name, code in COUNTRY_CODES.items()
    )
    return (
        "CASE WHEN regexp_full_match(" + column + ", '[A-Za-z]{2}') THEN upper(" + column + ") "
        "ELSE coalesce(CASE " + folded + " " + cases + " END, " + default + ") END"
    )


# ---------------------------------------------------------------- dates, numbers, flags

DAY_FIRST_FORMATS = [
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S",
    # French hours (`17/03/2024 10h22`); month names go through _named_month_sql.
    "%d/%m/%Y %Hh%M", "%d-%m-%Y %Hh%M", "%d.%m.%Y %Hh%M",
    "%d/%m/%Y %I:%M %p", "%d/%m/%Y %I:%M:%S %p",
]
# The same for a column that ``is_month_first`` (US exports: PayPal, Zeffy, Donorbox's `03/17/2024 2:05 PM`).
MONTH_FIRST_NUMERIC_FORMATS = [
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p",
    "%m-%d-%Y", "%m-%d-%Y %H:%M", "%m-%d-%Y %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S",
]
# Two-digit years (`15/03/79`: 1979, `15.03.24`: 2024), read only by these: %Y would read 0079.
TWO_DIGIT_YEAR_FORMATS = [
    f"%d{sep}%m{sep}%y{time}" for sep in "/.-" for time in ("", " %H:%M", " %H:%M:%S", " %Hh%M")
]
# The same in a month-first column (`3/17/24 2:05 PM`).
MONTH_FIRST_TWO_DIGIT_YEAR_FORMATS = [
    f"%m{sep}%d{sep}%y{time}" for sep in "/-" for time in ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
]
_TWO_DIGIT_YEAR = "'^\\s*\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2}(\\D|$)'"
# Cells that start with an English month name (`March 15, 2024 10:22 am`, as US tools write them).
MONTH_FIRST_FORMATS = [
    "%B %d, %Y", "%b %d, %Y", "%B %d, %Y %I:%M %p", "%b %d, %Y %I:%M %p", "%B %d, %Y %H:%M", "%b %d, %Y %H:%M",
    "%B %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p", "%B %d %Y", "%b %d %Y",
]


# Month names in French, Dutch and German (accents dropped, abbreviations too; English ones
# pass as they are), and the English name strptime's %B reads: `15 mars 2024`,
# `1er février 2024`, `3 mei 2024`, `15. März 2024`.
MONTH_WORDS = {
    "january": ["janvier", "janv", "januari", "januar", "jan"],
    "february": ["fevrier", "fevr", "fev", "februari", "februar", "feb"],
    "march": ["mars", "maart", "marz", "maerz", "mar", "mrt"],
    "april": ["avril", "avr", "apr"],
    "may": ["mai", "mei"],
    "june": ["juin", "juni", "jun"],
    "july": ["juillet", "juil", "juli", "jul"],
    "august": ["aout", "augustus", "aug"],
    "september": ["septembre", "sept", "sep"],
    "october": ["octobre", "oct", "oktober", "okt"],
    "november": ["novembre", "nov"],
    "december": ["decembre", "dec", "dezember", "dez"],
}
NAMED_MONTH_FORMATS = ["%d %B %Y", "%d %B %Y %H:%M", "%d %B %Y %H:%M:%S", "%d %B %Y %Hh%M", "%d. %B %Y"]


def _named_month_sql(column: str) -> str:
    """SQL: a day-first date with a month name in one of the four languages, else NULL.

    Excel's `15-Mar-2024` and `15-mrt-24` read as `15 March 2024`; a two-digit year
    pivots as elsewhere (`15-Mar-79` is 1979, `15-Mar-24` 2024).
    """
    text = "lower(strip_accents(trim(" + column + ")))"
    text = "regexp_replace(" + text + ", '^(\\d{1,2})-([a-z]+\\.?)-(\\d)', '\\1 \\2 \\3')"
    # `1er`, `1st`: the day alone.
    text = "regexp_replace(" + text + ", '^(\\d{1,2})(er|e|st|nd|rd|th)\\b', '\\1')"
    for english, words in MONTH_WORDS.items():
        text = "regexp_replace(" + text + ", '\\b(" + "|".join(words) + ")\\b\\.?', '" + english + "')"
    # %Y would read `24` as the year 24: write the century as %y does (00-68: 20xx, 69-99: 19xx).
    for pattern, century in (("[0-5]\\d|6[0-8]", "20"), ("69|[7-9]\\d", "19")):
        text = (
            "regexp_replace(" + text + ", '^(\\d{1,2}\\.? [a-z]+ )(" + pattern + ")(\\D|$)', '\\1" + century + "\\2\\3')"
        )
    return (
        "CASE WHEN regexp_matches(" + column + ", '^\\s*\\d{1,2}(\\S*\\s+|-)\\pL') THEN "
        + _strptime_sql(text, NAMED_MONTH_FORMATS) + " END"
    )


def _strptime_sql(column: str, formats: list[str]) -> str:
    return "try_strptime(" + column + ", [" + ", ".join(sql_literal(f) for f in formats) + "])"


def is_month_first(con: duckdb.DuckDBPyConnection, column: str, table: str = "import_raw") -> bool:
    """Whether ``column`` of ``table`` writes its numeric dates month first (`03/17/2024`).

    Only when some cell has a number above 12 in second place and none in
    first place: a column that cannot tell (every day 12 or below) stays
    day-first, the default. A sample of 10,000 cells (all of a smaller file)
    decides whether to look further; only then is the whole column read, to
    make sure no cell is day-first: a day-first or ISO file (10M events) pays
    for no full scan (the sample costs 25 ms there).
    """
    later = "(1[3-9]|2[0-9]|3[01])"
    month_first = "regexp_matches(c, '^\\s*\\d{1,2}[/-]" + later + "[/-]\\d')"
    day_first = "regexp_matches(c, '^\\s*" + later + "[/.-]\\d{1,2}[/.-]\\d')"
    seen = con.execute(
        "SELECT coalesce(bool_or(" + month_first + "), false), coalesce(bool_or(" + day_first + "), false) "
        "FROM (SELECT " + column + " AS c FROM " + table + " USING SAMPLE 10000 ROWS (reservoir, 7))"
    ).fetchall()[0]
    if not seen[0] or seen[1]:
        return False
    row = con.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM (SELECT " + column + " AS c FROM " + table + ") WHERE " + day_first + ")"
    ).fetchall()
    return bool(row[0][0])


def timestamp_sql(column: str, date_format: str | None = None, month_first: bool = False) -> str:
    """SQL: the cell as a TIMESTAMP (day-first, ISO, a month name, or an Excel serial day number), else NULL.

    With ``date_format`` (strptime codes such as ``%m/%d/%Y``) that format is tried first; with
    ``month_first`` (see ``is_month_first``) numbers parted by / or - read month, day, year.

    A failed ``try_strptime`` is costly, so each cell only meets the formats
    that could match it: ISO cells go to a cast (no day-first format can read
    them: they start with four characters and a dash), and a cell meets only the
    day-first formats with as many colons as it has (a number never reads a
    colon), and only when it holds three numbers parted by / . or -, as every
    format does.
    """
    by_colons: dict[int, list[str]] = {}
    for spec in MONTH_FIRST_NUMERIC_FORMATS if month_first else DAY_FIRST_FORMATS:
        by_colons.setdefault(spec.count(":"), []).append(spec)
    colons = "strlen(" + column + ") - strlen(replace(" + column + ", ':', ''))"
    two_digit = "regexp_matches(" + column + ", " + _TWO_DIGIT_YEAR + ")"
    # Every day-first format reads three numbers parted by / . or - (`15/03/2024`, `2024/03/15`):
    # a cell without them (Mailchimp's birthday `03/15`, a phone number) meets none.
    day_first = (
        "CASE WHEN regexp_matches(" + column + ", '^\\s*\\d+[/.-]\\d+[/.-]\\d') AND NOT " + two_digit + " THEN CASE " + colons + " "
        + " ".join("WHEN " + str(n) + " THEN " + _strptime_sql(column, specs) for n, specs in sorted(by_colons.items()))
        + " END END"
    )
    parts = [_strptime_sql(column, [date_format])] if date_format else []
    parts += [
        # LIKE, not a regular expression, screens for ISO: it costs half as much, and the cast checks the digits.
        "CASE WHEN " + column + " LIKE '____-__-__%' THEN try_cast(" + column + " AS TIMESTAMP) END",
        day_first,
        "CASE WHEN " + two_digit + " THEN "
        + _strptime_sql(column, MONTH_FIRST_TWO_DIGIT_YEAR_FORMATS if month_first else TWO_DIGIT_YEAR_FORMATS) + " END",
        "CASE WHEN regexp_matches(" + column + ", '^\\s*[A-Za-z]') THEN " + _strptime_sql(column, MONTH_FIRST_FORMATS) + " END",
        _named_month_sql(column),
        "CASE WHEN regexp_full_match(" + column + ", '[2-7]\\d{4}(\\.\\d+)?') "
        "THEN make_timestamp(CAST(round((CAST(" + column + " AS DOUBLE) - 25569) * 86400) AS BIGINT) * 1000000) END",
    ]
    return "coalesce(" + ", ".join(parts) + ")"


def no_date_sql(column: str) -> str:
    """SQL: the cell is a placeholder that says "no date" (Outlook's ``0/0/00``, MySQL's ``0000-00-00``).

    Such a cell is empty, not an unusable date: no issue, and no unsubscribe or bounce date given.
    """
    return "regexp_full_match(" + column + ", '\\s*0{1,4}[/.-]0{1,2}[/.-]0{1,4}( 0{1,2}(:0{1,2}){1,2})?\\s*')"


def in_range_sql(column: str) -> str:
    """SQL: the timestamp or date ``column`` when its year falls between 1850 and 2200, else NULL.

    A year outside is a typo (`15/03/202`), not a date. Apply it to a column
    that holds ``timestamp_sql``'s result, not to the expression itself: DuckDB
    would parse the cell twice (a second on 10M events).
    """
    return "CASE WHEN year(" + column + ") BETWEEN 1850 AND 2200 THEN " + column + " END"


def date_sql(column: str, date_format: str | None = None) -> str:
    """SQL: the cell as a DATE between 1850 and 2200, else NULL.

    The cell is parsed twice (see ``in_range_sql``): for a few values only. A
    staging query parses with ``timestamp_sql`` and applies ``in_range_date_sql``
    to the column it fills.
    """
    return in_range_date_sql(timestamp_sql(column, date_format))


def in_range_date_sql(column: str) -> str:
    """SQL: the timestamp ``column`` as a DATE when its year falls between 1850 and 2200, else NULL."""
    return "CAST(" + in_range_sql(column) + " AS DATE)"


def number_sql(column: str) -> str:
    """SQL: the cell as a DOUBLE; decimal comma, spaces and NBSP thousands, currency signs allowed.

    ``NaN``, ``inf`` and numbers beyond a DOUBLE (``1e400``) are not numbers: NULL, like any other bad cell.
    """
    s = "regexp_replace(" + column + ", '[\\s\u00a0\u202f€$£]|EUR|CHF|USD|GBP', '', 'g')"
    return (
        "(SELECT CASE WHEN isfinite(n) THEN n END FROM (SELECT try_cast(CASE "
        "WHEN strpos(s, ',') > 0 AND strpos(s, '.') > 0 THEN "
        "  CASE WHEN strlen(s) - strpos(reverse(s), ',') > strlen(s) - strpos(reverse(s), '.') "
        "  THEN replace(replace(s, '.', ''), ',', '.') ELSE replace(s, ',', '') END "
        "WHEN strlen(s) - strlen(replace(s, ',', '')) = 1 THEN replace(s, ',', '.') "
        "WHEN strlen(s) - strlen(replace(s, '.', '')) > 1 THEN replace(s, '.', '') "
        "ELSE replace(s, ',', '') END AS DOUBLE) AS n FROM (SELECT " + s + " AS s)))"
    )


def amount_currency_sql(column: str) -> str:
    """SQL: the currency an amount cell names (``12,50 €``, ``EUR 12``, ``$5``, ``£3``), else NULL."""
    return (
        "CASE WHEN regexp_matches(" + column + ", '€|EUR', 'i') THEN 'EUR' "
        "WHEN regexp_matches(" + column + ", '£|GBP', 'i') THEN 'GBP' "
        "WHEN regexp_matches(" + column + ", 'CHF', 'i') THEN 'CHF' "
        "WHEN regexp_matches(" + column + ", '\\$|USD', 'i') THEN 'USD' END"
    )


TRUE_WORDS = ["oui", "o", "yes", "y", "true", "vrai", "1", "x", "ja", "j", "waar", "wahr", "opt-in", "optin",
              "subscribed", "abonné", "abonnée", "abonne", "inscrit", "inscrite", "ok", "aangemeld", "angemeldet"]
FALSE_WORDS = ["non", "n", "no", "false", "faux", "0", "nee", "nein", "falsch", "opt-out", "optout", "unsubscribed",
               "désabonné", "désabonnée", "desabonne", "désinscrit", "désinscrite", "desinscrit", "non abonné",
               "non abonnée", "non inscrit", "non inscrite", "afgemeld", "abgemeldet", "-"]


def bool_sql(column: str) -> str:
    """SQL: the cell as a BOOLEAN (oui/non, yes/no, ja/nee, ja/nein, 1/0, x), else NULL."""
    value = "lower(trim(" + column + "))"
    trues = ", ".join(sql_literal(w) for w in TRUE_WORDS)
    falses = ", ".join(sql_literal(w) for w in FALSE_WORDS)
    return "CASE WHEN " + value + " IN (" + trues + ") THEN true WHEN " + value + " IN (" + falses + ") THEN false END"


GENDER_WORDS = {
    "F": ["mme", "madame", "mlle", "melle", "mademoiselle", "mrs", "ms", "miss", "mevrouw", "mevr", "mw", "frau", "fr",
          "femme", "female", "woman", "f", "vrouw", "weiblich", "w", "v", "dame"],
    "M": ["m", "mr", "monsieur", "mister", "meneer", "dhr", "de heer", "heer", "herr", "hr", "homme", "male", "man",
          "h", "männlich", "mannlich"],
    "X": ["x", "autre", "other", "non-binaire", "non binaire", "nonbinary", "non-binary", "neutre", "divers",
          "d", "div", "anders", "mx"],
}
# A gender cell that says it is not known (Outlook's `Unspecified`): empty, not an issue.
GENDER_UNSTATED = [
    "unspecified", "unknown", "not specified", "prefer not to say", "inconnu", "non renseigné", "non précisé",
    "ne se prononce pas", "onbekend", "niet opgegeven", "unbekannt", "keine angabe", "n/a", "-", "?",
]


def gender_unstated_sql(column: str) -> str:
    """SQL: the gender cell says the gender is not known (see ``GENDER_UNSTATED``)."""
    return "lower(trim(" + column + ", ' .')) IN (" + ", ".join(sql_literal(w) for w in GENDER_UNSTATED) + ")"


def gender_sql(column: str) -> str:
    """SQL: ``F``, ``M`` or ``X`` from a civility or gender cell, else NULL."""
    value = "lower(trim(" + column + ", ' .'))"
    cases = " ".join(
        "WHEN " + value + " IN (" + ", ".join(sql_literal(w) for w in words) + ") THEN " + sql_literal(code)
        for code, words in GENDER_WORDS.items()
    )
    return "CASE " + cases + " END"


# A word in capitals (`DUPONT`, `LE GALL`, `D'ARC`): the last name, wherever it stands.
_CAPS_WORD = "\\p{Lu}[\\p{Lu}''’-]+"  # '' : a quote inside a SQL literal


def full_name_sql(column: str, last_first: bool) -> tuple[str, str]:
    """SQL for (first name, last name) of a cell holding both (``DUPONT Marie``, ``Marie Dupont``).

    A comma parts last from first (``Dupont, Marie``); else the words in
    capitals are the last name, before or after the others; else the
    header's order decides (``Nom Prénom``: the first word, ``Prénom Nom``:
    the last word). One word alone is a last name.
    """
    t = "trim(regexp_replace(" + column + ", '\\s+', ' ', 'g'))"
    caps_first = "'^((?:" + _CAPS_WORD + " )+)(.*\\p{Ll}.*)$'"
    caps_last = "'^(.*\\p{Ll}.*?) ((?:" + _CAPS_WORD + ")(?: " + _CAPS_WORD + ")*)$'"
    by_order = "'^(\\S+) (.+)$'" if last_first else "'^(.+) (\\S+)$'"
    first_group, last_group = ("2", "1") if last_first else ("1", "2")
    cases = [
        ("contains(t, ',')", "trim(split_part(t, ',', 2))", "trim(split_part(t, ',', 1))"),
        ("regexp_matches(t, " + caps_first + ")", "regexp_extract(t, " + caps_first + ", 2)",
         "trim(regexp_extract(t, " + caps_first + ", 1))"),
        ("regexp_matches(t, " + caps_last + ")", "regexp_extract(t, " + caps_last + ", 1)",
         "regexp_extract(t, " + caps_last + ", 2)"),
        ("contains(t, ' ')", "regexp_extract(t, " + by_order + ", " + first_group + ")",
         "regexp_extract(t, " + by_order + ", " + last_group + ")"),
    ]

    def pick(index: int) -> str:
        whens = " ".join("WHEN " + c[0] + " THEN " + c[index] for c in cases)
        alone = "NULL" if index == 1 else "t"
        return "(SELECT nullif(CASE " + whens + " ELSE " + alone + " END, '') FROM (SELECT " + t + " AS t))"

    return pick(1), pick(2)


def list_sql(column: str, separator: str) -> str:
    """SQL: the cell split into a list of trimmed, non-empty items.

    Quotes around an item go too: Mailchimp writes its tags ``"Donateur","Bénévole"``.
    """
    if separator == "auto":
        pattern = ":::|[|;,]"  # Google Contacts joins labels with ` ::: `
    else:
        pattern = "".join("\\" + ch if not ch.isalnum() else ch for ch in separator)
    return (
        "list_filter(list_transform(regexp_split_to_array(" + column + ", " + sql_literal(pattern) + "), "
        "lambda x: trim(x, ' \t\u00a0\"')), lambda x: x <> '')"
    )


def fold_sql(expression: str) -> str:
    """SQL: lower-cased, accents dropped (to compare a value with a select's options)."""
    return "lower(strip_accents(trim(" + expression + ")))"


# ---------------------------------------------------------------- consent and emailing-tool status

def _letters_sql(column: str) -> str:
    """SQL: the cell lower-cased, accents dropped, letters only (``Legitimate interest – prospect`` -> ``legitimateinterestprospect``)."""
    return "regexp_replace(lower(strip_accents(" + column + ")), '[^a-z]', '', 'g')"


# Folded prefixes of a legal basis (FR, EN, NL, DE, HubSpot's wording) -> the stored value.
CONSENT_BASIS_PREFIXES: list[tuple[str, str]] = [
    ("legitimateinterest", "legitimate_interest"), ("interetlegitime", "legitimate_interest"),
    ("legitiembelang", "legitimate_interest"), ("gerechtvaardigdbelang", "legitimate_interest"),
    ("berechtigtesinteresse", "legitimate_interest"), ("li", "legitimate_interest"),
    ("performanceofacontract", "contract"), ("contract", "contract"), ("contrat", "contract"),
    ("executionduncontrat", "contract"), ("executiondecontrat", "contract"), ("overeenkomst", "contract"),
    ("uitvoeringvandeovereenkomst", "contract"), ("vertrag", "contract"), ("vertragserfullung", "contract"),
    ("membership", "membership"), ("member", "membership"), ("adhesion", "membership"), ("adherent", "membership"),
    ("lidmaatschap", "membership"), ("lid", "membership"), ("mitgliedschaft", "membership"), ("mitglied", "membership"),
    ("freelygivenconsent", "consent"), ("consent", "consent"), ("consentement", "consent"), ("optin", "consent"),
    ("toestemming", "consent"), ("einwilligung", "consent"),
]


def consent_basis_sql(column: str) -> str:
    """SQL: ``consent``, ``membership``, ``contract`` or ``legitimate_interest`` from a legal-basis cell, else NULL.

    A short word must be the whole cell (``li``, ``lid``); a longer one may
    start the cell (``Legitimate interest – prospect/lead``).
    """
    folded = _letters_sql(column)
    cases = []
    for prefix, value in CONSENT_BASIS_PREFIXES:
        test = (folded + " = " + sql_literal(prefix)) if len(prefix) <= 3 else (
            "starts_with(" + folded + ", " + sql_literal(prefix) + ")")
        cases.append("WHEN " + test + " THEN " + sql_literal(value))
    return "CASE " + " ".join(cases) + " END"


# An emailing tool's member status -> what it means for the address.
EMAIL_STATUS_WORDS: dict[str, list[str]] = {
    # Suppression lists give a reason: Brevo's blocked contacts (`Unsubscribed via email`, `Hard bounce`,
    # `Contact flagged as spam`, `Admin blocked`), Klaviyo's (`Unsubscribed`, `Bounced`, `Spam complaint`,
    # `Manually suppressed`, `Invalid email`), MailerLite's status `junk` (a complaint).
    "unsubscribe": ["unsubscribed", "unsubscribe", "desabonne", "desabonnee", "desinscrit", "desinscrite",
                    "optedout", "optout", "afgemeld", "uitgeschreven", "abgemeldet", "ausgetragen",
                    "unsubscribedviaemail", "unsubscribedviaapi", "unsubscribedviama",
                    "unsubscribedviamarketingautomation"],
    "hard_bounce": ["cleaned", "bounced", "hardbounce", "hardbounced", "bounce", "npai", "invalid", "invalide",
                    "nettoye", "ongeldig", "ungultig", "invalidemail"],
    "spam_complaint": ["junk", "spam", "spamcomplaint", "complaint", "complained", "abuse", "markedasspam",
                       "contactflaggedasspam", "flaggedasspam", "plainte", "plaintespam", "klacht", "beschwerde"],
    "blocklist": ["blacklisted", "blocklisted", "blocked", "blacklist", "blocklist", "listenoire", "bloque",
                  "geblokkeerd", "gesperrt", "adminblocked", "manuallysuppressed", "usersuppressed", "suppressed"],
    "non_marketing": ["nonmarketingcontact", "nonmarketing"],
    "ok": ["subscribed", "subscriber", "pending", "unconfirmed", "transactional", "archived", "active", "actif", "active",
           "abonne", "abonnee", "inscrit", "inscrite", "enattente", "marketingcontact", "ingeschreven", "aangemeld",
           "actief", "angemeldet", "abonniert", "aktiv", "optin", "confirmed"],
}


def email_status_sql(column: str) -> str:
    """SQL: ``unsubscribe``, ``hard_bounce``, ``spam_complaint``, ``blocklist``, ``non_marketing`` or ``ok`` from a
    status cell, else NULL."""
    folded = _letters_sql(column)
    cases = " ".join(
        "WHEN " + folded + " IN (" + ", ".join(sql_literal(w) for w in words) + ") THEN " + sql_literal(kind)
        for kind, words in EMAIL_STATUS_WORDS.items()
    )
    return "CASE " + cases + " END"


def hard_bounce_sql(column: str) -> str:
    """SQL: whether a bounce cell says the address hard-bounced.

    A yes/no cell is read as such; ``soft`` (a soft bounce) is no hard bounce;
    any other text (HubSpot's ``Email hard bounce reason``) is one.
    """
    flag = bool_sql(column)
    return (
        "CASE WHEN " + column + " IS NULL THEN NULL WHEN " + flag + " IS NOT NULL THEN " + flag + " "
        "WHEN starts_with(" + _letters_sql(column) + ", 'soft') THEN false ELSE true END"
    )


# ---------------------------------------------------------------- one-cell addresses

# Blanks between and around the parts of a one-cell address (the SQL below and split_address agree).
_GAP_CHARS = " \t\r\n\u00a0"
_PART_GAP = re.compile("[" + _GAP_CHARS + "]{2,}")
_POSTAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")
_STATE = re.compile(r"[A-Z]{2,3}")


def split_address(cell: str) -> tuple[str, str | None, str | None, str | None] | None:
    """Mailchimp's one-cell address, parts separated by two blanks, as (street, city, postal code, country).

    The parts are street, [street 2], city, [state], zip, country; empty ones
    are left out. A state joins the city (``Springfield, IL``), a second
    street line the street (``12 rue A, Bât. B``). None when the parts are not
    recognisable (fewer than three, or neither a postal code nor a country).
    The reference for ``build_address_table``, which does the same in SQL.

    >>> split_address("12 rue des Lilas  Lyon  69003  FR")
    ('12 rue des Lilas', 'Lyon', '69003', 'FR')
    """
    parts = [p.strip(_GAP_CHARS) for p in _PART_GAP.split(cell)]
    parts = [p for p in parts if p]
    if len(parts) < 3:
        return None
    country = postal = None
    last_folded = re.sub(r"[^a-z]", "", parts[-1].lower())
    if re.fullmatch(r"[A-Za-z]{2}", parts[-1]) or last_folded in COUNTRY_CODES:
        country = parts.pop()
    if parts and _POSTAL.fullmatch(parts[-1]) and any(ch.isdigit() for ch in parts[-1]):
        postal = parts.pop()
    if country is None and postal is None:
        return None
    if len(parts) == 2:
        street, city = parts
    elif len(parts) == 3 and _STATE.fullmatch(parts[2]):
        street, city = parts[0], parts[1] + ", " + parts[2]
    elif len(parts) == 3:
        street, city = parts[0] + ", " + parts[1], parts[2]
    elif len(parts) == 4:
        street, city = parts[0] + ", " + parts[1], parts[2] + ", " + parts[3]
    else:
        return None
    return street, city, postal, country


def build_address_table(con: duckdb.DuckDBPyConnection, source_sql: str, table: str) -> None:
    """Create temp ``table(raw, street, city, postal_code, country)`` for the distinct one-cell addresses of ``source_sql``.

    Only cells holding a double space are looked at; the others keep their
    street as it is. ``split_address`` in SQL, set-wise: a Mailchimp export
    holds as many distinct addresses as contacts.
    """
    gap = sql_literal(r"[ \t\r\n\x{00a0}]{2,}")  # _PART_GAP in RE2's words
    last = "rest[len(rest)]"
    # Split on two spaces (string_split costs a third of the regular expression); only cells
    # holding other blanks need the expression.
    split = (
        "CASE WHEN regexp_matches(raw, " + sql_literal(r"[\t\r\n\x{00a0}]") + ") THEN regexp_split_to_array(raw, " + gap + ") "
        "ELSE string_split(raw, '  ') END"
    )
    # The parts in a table of their own: when DuckDB inlines one step into the next, the split
    # and the look-ups run again for every use of their result (five times slower).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE " + table + " AS SELECT raw, list_filter(list_transform(" + split + ", "
        "lambda x: trim(x, " + sql_literal(_GAP_CHARS) + ")), lambda x: x <> '') AS parts "
        "FROM (SELECT DISTINCT raw FROM (" + source_sql + ") WHERE raw IS NOT NULL AND contains(raw, '  '))"
    )
    sql = (
        "CREATE OR REPLACE TEMP TABLE " + table + " AS "
        "WITH by_country AS ("
        "  SELECT raw, parts, regexp_full_match(parts[len(parts)], '[A-Za-z]{2}') "
        "    OR list_contains($country_names, regexp_replace(lower(parts[len(parts)]), '[^a-z]', '', 'g')) AS has_country "
        "  FROM " + table + " WHERE len(parts) >= 3"
        "), country AS ("
        "  SELECT raw, CASE WHEN has_country THEN parts[len(parts)] END AS country, "
        "    CASE WHEN has_country THEN list_slice(parts, 1, len(parts) - 1) ELSE parts END AS rest FROM by_country"
        "), postal AS ("
        "  SELECT raw, country, regexp_full_match(" + last + ", " + sql_literal(_POSTAL.pattern) + ") "
        "    AND regexp_matches(" + last + ", '[0-9]') AS has_postal, rest FROM country"
        "), named AS ("
        "  SELECT raw, country, CASE WHEN has_postal THEN " + last + " END AS postal_code, "
        "    CASE WHEN has_postal THEN list_slice(rest, 1, len(rest) - 1) ELSE rest END AS rest FROM postal"
        ") "
        "SELECT raw, "
        "  CASE len(rest) WHEN 2 THEN rest[1] "
        "    WHEN 3 THEN CASE WHEN regexp_full_match(rest[3], " + sql_literal(_STATE.pattern) + ") THEN rest[1] "
        "      ELSE rest[1] || ', ' || rest[2] END "
        "    ELSE rest[1] || ', ' || rest[2] END AS street, "
        "  CASE len(rest) WHEN 2 THEN rest[2] "
        "    WHEN 3 THEN CASE WHEN regexp_full_match(rest[3], " + sql_literal(_STATE.pattern) + ") THEN rest[2] || ', ' || rest[3] "
        "      ELSE rest[3] END "
        "    ELSE rest[3] || ', ' || rest[4] END AS city, "
        "  postal_code, country "
        "FROM named WHERE (country IS NOT NULL OR postal_code IS NOT NULL) AND len(rest) BETWEEN 2 AND 4"
    )
    con.execute(sql, {"country_names": list(COUNTRY_CODES)})
