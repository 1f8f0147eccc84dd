"""The set-wise normalisers give the same verdicts as the libraries called one value at a time."""

from __future__ import annotations

import random

import duckdb
import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from cli.importing.headers import fold, map_headers
from cli.importing.values import build_phone_table, date_sql, email_verdicts, number_sql, timestamp_sql
from cli.normalise import normalise_email, normalise_phone
from cli.settings import Settings


def _reference_email(value: str) -> str | None:
    cleaned = normalise_email(value)
    if cleaned is None or "@" not in cleaned:
        return None
    try:
        validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError:
        return None
    return cleaned


def _email_sample(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    locals_ = ["marie", "jean.dupont", "a", "x+tag", "o'brien", "a..b", ".lead", "trail.", "has space", "é.lève",
               "zoë", "quote\"d", "a" * 64, "a" * 65, "per%cent", "(c)", "semi;colon", "UPPER.Case", "", "tab\tin",
               "dash-ed", "under_score", "slash/ok", "brace{}", "bang!", "hash#", "a@b", "ü" * 10, "comma,x"]
    domains = ["gmail.com", "Orange.FR", "exämple.fr", "example.com", "x.invalid", "free.local", "gmail", "-bad.fr",
               "a..b.fr", "sub.domain.co.uk", "123.fr", "xn--exmple-cua.fr", "localhost", "b" * 250 + ".fr",
               "under_score.fr", "trailing.fr.", ""]
    values = []
    for _ in range(count):
        local = rng.choice(locals_)
        if rng.random() < 0.3:
            local += str(rng.randint(0, 999))
        domain = rng.choice(domains)
        sep = rng.choice(["@", "@", "@", "@@", " at "])
        pad = rng.choice(["", " ", "  ", "<", "mailto:", "Marie Dupont <", '"Dupont, M." <', "a<b "])
        end = " " if pad == " " else ">" if pad.endswith("<") else rng.choice(["", ">", "> "]) if pad == "a<b " else ""
        other = rng.choice(["", "", "", " ::: autre@example.org"])  # Google's several values in one cell
        values.append(pad + local + sep + domain + end + other)
    return values


def test_email_verdicts_equal_email_validator_on_a_large_sample():
    con = duckdb.connect()
    values = sorted(set(_email_sample(20000)))
    got = email_verdicts(con, values)
    mismatches = [(v, got[v], _reference_email(v)) for v in values if got[v] != _reference_email(v)]
    assert mismatches == []


def _domain_sample(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    tlds = ["fr", "com", "co.uk", "museum", "123", "a1", "1a", "x", "local", "test", "invalid", "onion", "arpa",
            "localhost", "xn--p1ai", "Fr", "b" * 64, "c" * 63]
    domains = []
    for _ in range(count):
        labels = []
        for _ in range(rng.randint(0, 3)):
            size = rng.choice([1, 2, 3, 8, 20, 62, 63, 64])
            labels.append("".join(rng.choice(alphabet) for _ in range(size)))
        if rng.random() < 0.1:
            labels.append("xn--" + "".join(rng.choice(alphabet) for _ in range(6)))
        labels.append(rng.choice(tlds))
        domains.append(".".join(labels))
    domains += ["a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 60 + ".fr", "x.y" * 70 + ".fr"]
    return domains


def test_plain_domains_skip_email_validator_with_the_same_verdicts():
    from cli.importing.values import _PLAIN_DOMAIN_SQL
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    con = duckdb.connect()
    domains = sorted(set(_domain_sample(6000)))
    values = ["user@" + d for d in domains]
    got = email_verdicts(con, values)
    mismatches = [(v, got[v], _reference_email(v)) for v in values if got[v] != _reference_email(v)]
    assert mismatches == []
    con.execute("CREATE TABLE d AS SELECT unnest($d::VARCHAR[]) AS domain", {"d": domains})
    plain = con.execute(
        "SELECT count(*) FROM d WHERE " + _PLAIN_DOMAIN_SQL, {"special_domains": list(SPECIAL_USE_DOMAIN_NAMES)}
    ).fetchall()[0][0]
    assert 1000 < plain < len(domains)  # both ways are taken


def _phone_sample(count: int, seed: int = 11) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        region = rng.choice(["FR", "FR", "BE", "NL", "DE", "CH", "GB", "JE", "US", "CA", "YT"])
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 11)))
        lead = rng.choice(["0", "0", "+33", "0033", "+32", "+31", "+49", "", "06", "07", "04", "+44", "0044", "07",
                           "01534", "07797", "0180020", "+44 (0)",
                           "6", "7", "1",  # a spreadsheet dropped the leading 0
                           "+1", "001", "1-", "212", "416", "1 (212) ", "(787) ", "268",  # North America
                           "0639", "+262"])  # Mayotte shares 262 with Réunion
        number = lead + digits
        if rng.random() < 0.2 and region in ("US", "CA"):
            number = rng.choice(["", "1-", "+1 "]) + f"({digits[:3]}) {digits[3:6]}-{digits[6:10]}"
        elif rng.random() < 0.5:
            number = " ".join(number[i:i + 2] for i in range(0, len(number), 2))
        if rng.random() < 0.1:
            number += " ::: 01 23 45 67 89"  # Google's several values in one cell
        values.append((number, region))
    return values


def test_phone_fast_path_equals_phonenumbers_on_a_large_sample():
    con = duckdb.connect()
    sample = sorted(set(_phone_sample(20000)))
    con.execute("CREATE TABLE p (raw VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", sample)
    build_phone_table(con, "SELECT raw, region FROM p", "out")
    got = {(r, g): p for r, g, p in con.execute("SELECT raw, region, phone FROM out").fetchall()}
    mismatches = [(r, g, got[(r, g)], normalise_phone(r, g)) for r, g in sample if got[(r, g)] != normalise_phone(r, g)]
    assert mismatches == []
    assert sum(1 for v in got.values() if v) > 1000  # the sample holds many valid numbers


@pytest.mark.parametrize(
    "text, expected",
    [("31/12/2024", "2024-12-31"), ("31-12-2024", "2024-12-31"), ("31.12.2024", "2024-12-31"),
     ("2024-12-31", "2024-12-31"), ("2024-12-31T08:00:00", "2024-12-31"), ("45657", "2024-12-31"),
     ("31/02/2020", None), ("hier", None), ("1975", None), ("12/31/2024", None), ("15 March 2024", "2024-03-15"),
     ("15 Mar 2024", "2024-03-15"), ("March 15, 2024", "2024-03-15"), ("Mar 15, 2024 10:22 am", "2024-03-15"),
     ("17/03/2024 10h22", "2024-03-17"), ("Smarch 15, 2024", None), ("15 mars 2024", "2024-03-15"),
     ("1er février 2024", "2024-02-01"), ("3 mei 2024", "2024-05-03"), ("15. März 2024", "2024-03-15"),
     ("7 août 1980", "1980-08-07"), ("2 janv. 2023", "2023-01-02"), ("31 juin 2024", None), ("15 blah 2024", None),
     ("15/03/79", "1979-03-15"), ("15.03.24", "2024-03-15"), ("15/03/0024", None), ("15/03/202", None),
     # Excel's d-mmm-yyyy and d-mmm-yy, in the four languages.
     ("15-Mar-2024", "2024-03-15"), ("15-mrt-1980", "1980-03-15"), ("1-Jan-24", "2024-01-01"),
     ("15-Mär-79", "1979-03-15"), ("15 mars 79", "1979-03-15"), ("15-xyz-2024", None)],
)
def test_dates(text, expected):
    con = duckdb.connect()
    got = con.execute("SELECT CAST(" + date_sql("$v") + " AS VARCHAR)", {"v": text}).fetchall()[0][0]
    assert got == expected


@pytest.mark.parametrize(
    "text, expected",
    [("1\u00a0234,56", 1234.56), ("1 234,56 €", 1234.56), ("20,00", 20.0), ("1,234.50", 1234.5), ("1.234,5", 1234.5),
     ("12", 12.0), ("abc", None), ("1.234.567", 1234567.0), ("12.50 EUR", 12.5), ("€1,234.56", 1234.56),
     ("-12,50", -12.5)],
)
def test_numbers(text, expected):
    con = duckdb.connect()
    assert con.execute("SELECT " + number_sql("$v"), {"v": text}).fetchall()[0][0] == expected


def test_timestamps_keep_the_time_of_day_and_a_year_out_of_range_is_no_date():
    from cli.importing.values import in_range_sql

    con = duckdb.connect()
    parsed = "SELECT CAST(" + in_range_sql("t") + " AS VARCHAR) FROM (SELECT " + timestamp_sql("$v") + " AS t)"
    got = [con.execute(parsed, {"v": v}).fetchall()[0][0]
           for v in ("March 15, 2024 10:22 pm", "17/03/2024 10h22", "2024-03-15 10:22:33", "15-03-79 10:30", "1/1/1")]
    assert got == ["2024-03-15 22:22:00", "2024-03-17 10:22:00", "2024-03-15 10:22:33", "1979-03-15 10:30:00", None]


def test_headers_map_in_four_languages_and_custom_aliases():
    settings = Settings.model_validate({"fields": {
        "interests": {"type": "multiselect"}, "member_number": {"type": "text", "external_id": True},
        "volunteer_days": {"type": "multiselect"}, "club": {"type": "text", "aliases": ["Vereniging"]}}})
    headers = ["Adresse e-mail", "Courriel", "Voornaam", "Nachname", "Code postal", "Woonplaats", "Date de naissance",
               "Centres d'intérêt", "Disponibilités bénévole", "N° adhérent", "vereniging", "Montant dernier don"]
    mapping = map_headers(headers, kind="contacts", settings=settings)
    named = {headers[i]: f for f, i in mapping.fields.items()}
    assert named == {
        "Adresse e-mail": "email", "Voornaam": "first_name", "Nachname": "last_name", "Code postal": "postal_code",
        "Woonplaats": "city", "Date de naissance": "birth_date", "Centres d'intérêt": "interests",
        "Disponibilités bénévole": "volunteer_days", "N° adhérent": "member_number", "vereniging": "club",
    }
    # A second email column (`Courriel`) fills the email of the rows whose first is empty.
    assert mapping.spares == {"email": [1]}
    assert mapping.unmapped == ["Montant dernier don"]
    assert fold("E-Mail-Adresse") == "emailadresse"


FRENCH_OVERSEAS = [
    ("0693612653", "+262693612653"), ("0262 21 00 00", "+262262210000"), ("0590 82 00 00", "+590590820000"),
    ("06 90 12 34 56", "+590690123456"), ("0596 60 00 00", "+596596600000"), ("0696.12.34.56", "+596696123456"),
    ("0594 30 00 00", "+594594300000"), ("0694 12 34 56", "+594694123456"), ("0269 61 00 00", "+262269610000"),
    ("0639 01 23 45", "+262639012345"), ("06 12 34 56 78", "+33612345678"), ("+33 5 96 60 00 00", "+33596600000"),
]


@pytest.mark.parametrize("text, expected", FRENCH_OVERSEAS)
def test_french_overseas_numbers_with_default_region_fr(text, expected):
    assert normalise_phone(text, "FR") == expected
    con = duckdb.connect()
    con.execute("CREATE TABLE p AS SELECT ? AS raw, 'FR' AS region", [text])
    build_phone_table(con, "SELECT raw, region FROM p", "out")
    assert con.execute("SELECT phone FROM out").fetchall() == [(expected,)]


def test_phone_fast_path_equals_phonenumbers_on_overseas_prefixes():
    rng = random.Random(7)
    prefixes = ["0262", "0263", "0269", "0590", "0594", "0596", "0639", "0690", "0691", "0692", "0693", "0694",
                "0696", "0697", "0508", "0568"]
    sample = sorted({(rng.choice(prefixes) + "".join(rng.choice("0123456789") for _ in range(6)), "FR") for _ in range(3000)})
    con = duckdb.connect()
    con.execute("CREATE TABLE p (raw VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", sample)
    build_phone_table(con, "SELECT raw, region FROM p", "out")
    got = dict(((r, g), p) for r, g, p in con.execute("SELECT raw, region, phone FROM out").fetchall())
    assert [(r, got[(r, g)]) for r, g in sample if got[(r, g)] != normalise_phone(r, g)] == []
    assert sum(1 for (r, _), p in got.items() if p and not p.startswith("+33")) > 500


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("12 rue des Lilas  Lyon  69003  FR", ("12 rue des Lilas", "Lyon", "69003", "FR")),
        ("1 Main St  Apt 4  Springfield  IL  62701  US", ("1 Main St, Apt 4", "Springfield, IL", "62701", "US")),
        ("1 Main St  Springfield  IL  62701  US", ("1 Main St", "Springfield, IL", "62701", "US")),
        ("5 rue A  Bât. B  Nice  06000  France", ("5 rue A, Bât. B", "Nice", "06000", "France")),
        ("Keizersgracht 12  Amsterdam  1015 CS  NL", ("Keizersgracht 12", "Amsterdam", "1015 CS", "NL")),
        ("12  rue des Lilas", None),
        ("12 rue des Lilas  Lyon  chez Paul", None),
    ],
)
def test_mailchimp_one_cell_address(cell, expected):
    from cli.importing.values import split_address

    assert split_address(cell) == expected


def _address_sample(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    parts = ["12 rue des Lilas", "1 Main St", "Apt 4", "Bât. B", "Keizersgracht 12", "Lyon", "Springfield", "Nice",
             "Sankt Pölten", "IL", "NSW", "ca", "69003", "1015 CS", "SW1A 1AA", "12-345", "ABC", "A", "1234567890A",
             "FR", "fr", "France", "Nederland", "usa", "Österreich", "Royaume-Uni", "Pays-Bas", "chez Paul", "é", "  "]
    gaps = ["  ", "  ", "   ", "\t\t", "\u00a0\u00a0", " \t", " ", "\r\n\r\n"]
    cells = []
    for _ in range(count):
        chosen = [rng.choice(parts) for _ in range(rng.randint(1, 7))]
        cell = chosen[0]
        for part in chosen[1:]:
            cell += rng.choice(gaps) + part
        cells.append(rng.choice(["", "", " ", "  "]) + cell + rng.choice(["", "", "  "]))
    return cells


def test_address_table_equals_split_address_on_a_large_sample():
    from cli.importing.values import build_address_table, split_address

    cells = sorted(set(_address_sample(20000)))
    con = duckdb.connect()
    con.execute("CREATE TABLE cells (raw VARCHAR)")
    con.executemany("INSERT INTO cells VALUES (?)", [[c] for c in cells])
    build_address_table(con, "SELECT raw FROM cells", "addresses")
    got = {r[0]: tuple(r[1:]) for r in con.execute("SELECT raw, street, city, postal_code, country FROM addresses").fetchall()}
    expected = {c: split_address(c) for c in cells if "  " in c and split_address(c) is not None}
    assert got == expected
    assert len(expected) > 2000  # the sample holds many recognisable addresses


def test_headers_that_name_a_role_map_without_it():
    # HelloAsso's payer columns, a donor CRM's, a Dutch and a German form's.
    headers = ["Référence commande", "Nom payeur", "Prénom payeur", "Email payeur", "Raison sociale",
               "Code Postal payeur", "Ville payeur", "Date de naissance de l'adhérent", "E-mail deelnemer",
               "Telefon des Spenders", "Type de membre", "Statut de l'adhérent", "Contact"]
    mapping = map_headers(headers, kind="contacts", settings=Settings())
    named = {headers[i]: f for f, i in mapping.fields.items()}
    assert named == {
        "Nom payeur": "last_name", "Prénom payeur": "first_name", "Email payeur": "email",
        "Raison sociale": "organisation", "Code Postal payeur": "postal_code", "Ville payeur": "city",
        "Date de naissance de l'adhérent": "birth_date", "Telefon des Spenders": "phone",
    }
    # A second email column is listed, never stored; a role never makes a type or a status.
    assert mapping.unmapped == ["Référence commande", "E-mail deelnemer", "Type de membre", "Statut de l'adhérent",
                                "Contact"]
    more = ["Tags du contact", "Source du contact", "ID client"]
    mapped = map_headers(more, kind="contacts", settings=Settings())
    assert ({more[i]: f for f, i in mapped.fields.items()}, mapped.unmapped) == (
        {"Tags du contact": "tags", "Source du contact": "source"}, ["ID client"]
    )
    events = map_headers(["Date de la commande", "Email payeur", "Montant", "Formulaire", "Type de membre"],
                         kind="events", settings=Settings())
    assert set(events.fields) == {"occurred_at", "email", "amount", "campaign"}


@pytest.mark.parametrize(
    "text, expected",
    [("Oui", True), ("non", False), ("Abonnée", True), ("Non abonné", False), ("Inscrite", True),
     ("désinscrite", False), ("Ja", True), ("afgemeld", False), ("peut-être", None)],
)
def test_yes_no_words(text, expected):
    from cli.importing.values import bool_sql

    assert duckdb.connect().execute("SELECT " + bool_sql("$v"), {"v": text}).fetchall()[0][0] is expected


@pytest.mark.parametrize(
    "text, expected",
    [("Mme", "F"), ("Melle", "F"), ("Mlle.", "F"), ("M.", "M"), ("Dhr.", "M"), ("Frau", "F"), ("divers", "X"),
     ("Dr", None)],
)
def test_civilities(text, expected):
    from cli.importing.values import gender_sql

    assert duckdb.connect().execute("SELECT " + gender_sql("$v"), {"v": text}).fetchall()[0][0] == expected


def test_headers_written_as_attribute_names_map_too():
    # Brevo-style attribute names, without the linking words of the usual phrase.
    headers = ["EMAIL", "NOM", "PRENOM", "DATE_NAISSANCE", "DATE_INSCRIPTION", "CODE_POSTAL"]
    named = {headers[i]: f for f, i in map_headers(headers, kind="contacts", settings=Settings()).fields.items()}
    assert named == {"EMAIL": "email", "NOM": "last_name", "PRENOM": "first_name", "DATE_NAISSANCE": "birth_date",
                     "DATE_INSCRIPTION": "created_at", "CODE_POSTAL": "postal_code"}
    events = map_headers(["DATE_DON", "EMAIL", "MONTANT_DON"], kind="events", settings=Settings())
    assert set(events.fields) == {"occurred_at", "email", "amount"} and events.implied_type == "donation"


@pytest.mark.parametrize(
    "cell, email, left_out",
    [
        ("marie@ex.fr; jean@ex.fr", "marie@ex.fr", "jean@ex.fr"),
        ("paul@ex.fr , anne@ex.fr,", "paul@ex.fr", "anne@ex.fr"),
        ("a@ex.fr / b@ex.fr | c@ex.fr", "a@ex.fr", "b@ex.fr, c@ex.fr"),
        ("a@ex.fr b@ex.fr", "a@ex.fr", "b@ex.fr"),
        ("Marie <m@ex.fr>, Jean <j@ex.fr>", "m@ex.fr", "Jean <j@ex.fr>"),
        ("Anne <a@x.fr> ::: b@y.org", "a@x.fr", "b@y.org"),
        ("anne@x.fr ::: anne.roux@y.org", "anne@x.fr", "anne.roux@y.org"),
        # No list: a piece without an @ (a display name with a comma, a slash inside an address).
        ('"Dupont, Marie" <Marie@Example.fr>', "marie@example.fr", None),
        ("slash/ok@ex.fr", "slash/ok@ex.fr", None),
        ("jean dupont@ex.fr; marie@ex.fr", None, "marie@ex.fr"),  # the first is no address: the cell is an issue
        ("a@b@ex.fr", None, None),
    ],
)
def test_a_cell_listing_several_addresses_gives_its_first(cell, email, left_out):
    con = duckdb.connect()
    email_verdicts(con, [cell])
    assert con.execute("SELECT email, left_out FROM import_email_probe_out").fetchall() == [(email, left_out)]


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-Infinity", "1e400", "1,5e400"])
def test_what_is_not_a_finite_number_is_no_number(text):
    con = duckdb.connect()
    assert con.execute("SELECT " + number_sql("$v"), {"v": text}).fetchall()[0][0] is None
