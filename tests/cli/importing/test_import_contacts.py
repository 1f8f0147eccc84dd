"""``crmseg import contacts`` over files that mimic the exports people have."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from tests.cli.importing.conftest import dump
from tests.conftest import REPO_ROOT

FRENCH = (
    "Civilité;Prénom;Nom;Adresse e-mail;Téléphone;Adresse;Code postal;Ville;Pays;Date de naissance;"
    "Centres d'intérêt;N° adhérent;Tags;Opt-in email;Date opt-in;Montant dernier don\r\n"
    "Mme;Éléonore;Arnaud; Eleonore.ARNAUD@Hotmail.fr ;04 68 50 59 58;\"12 rue des Lilas\r\nBâtiment B\";01000;"
    "Bourg-en-Bresse;France;07/04/1997;Animaux|environnement;ADH-001;newsletter|bénévole;Oui;29/08/2025 09:06;"
    "1\u00a0234,56 €\r\n"
    "M.;Jean;\"L\"\"Œuvre\";;0645928754;31 impasse Mercière;69400;Villefranche;France;31/02/1961;sport;ADH-002;;Non;;20,00\r\n"
    "Monsieur;Hugo;Deschamps;hugo@@free.fr;n/a;;;;;hier;;;;;;\r\n"
    "Madame;Anne;Aubry;;;;;;;;animaux;;;;;\r\n"
)


def summary_of(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]



def test_windows_1252_bytes_after_a_long_ascii_start(invoke, write, query):
    # The first 64 KiB are plain ASCII (valid UTF-8): the reader parses as UTF-8 first,
    # then meets `é` and `€` as Windows-1252 bytes and reads the whole file again, transcoded.
    ascii_rows = "".join(f"Contact{i};person{i}@example.org;Lyon\r\n" for i in range(3000))
    text = "Nom;Adresse e-mail;Ville\r\n" + ascii_rows + "Hélène;helene@example.org;Besançon 10 €\r\nfin;;\r\n"
    assert len(ascii_rows) > 65536
    path = write("late.csv", text, "cp1252")
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["encoding"] == "cp1252"
    assert (s["read"], s["inserted"], s["rejected"]) == (3002, 3001, 1)
    assert query("SELECT last_name, city FROM contacts WHERE email = 'helene@example.org'") == [("Hélène", "Besançon 10 €")]
    assert query("SELECT row_number FROM import_rejects") == [(3003,)]

def test_french_excel_csv_in_windows_1252(invoke, write, query):
    path = write("export.csv", FRENCH, "cp1252")
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["encoding"] == "cp1252" and s["delimiter"] == ";"
    assert (s["read"], s["inserted"], s["rejected"]) == (4, 2, 2)
    assert s["unmapped_columns"] == ["Montant dernier don"]
    rows = query("SELECT email, first_name, last_name, phone, street, postal_code, birth_date::VARCHAR, gender, "
                 "consent_email, consent_at::VARCHAR FROM contacts ORDER BY id")
    assert rows[0] == ("eleonore.arnaud@hotmail.fr", "Éléonore", "Arnaud", "+33468505958", "12 rue des Lilas\r\nBâtiment B",
                       "01000", "1997-04-07", "F", True, "2025-08-29 09:06:00")
    assert rows[1][2:4] == ("L\"Œuvre", "+33645928754") and rows[1][6] is None and rows[1][7] == "M"
    interests = query("SELECT list_value FROM custom_values WHERE field = 'interests' ORDER BY contact_id")
    assert interests == [(["animaux", "environnement"],)]
    assert query("SELECT text_value FROM custom_values WHERE field = 'member_number' ORDER BY 1") == [("ADH-001",), ("ADH-002",)]
    assert query("SELECT tag FROM contact_tags ORDER BY 1") == [("bénévole",), ("newsletter",)]
    # Issues name the physical line (the quoted newline makes Jean's row line 4).
    issues = query("SELECT row_number, column_name, value FROM import_issues ORDER BY 1, 2")
    assert (4, "Date de naissance", "31/02/1961") in issues
    assert (4, "Centres d'intérêt", "sport") in issues
    rejects = query("SELECT row_number, reason FROM import_rejects ORDER BY 1")
    assert [r[0] for r in rejects] == [5, 6]
    assert "hugo@@free.fr" not in rejects[0][1] and "unusable" in rejects[0][1]


def test_rejects_command_lists_rows_and_issues(invoke, write):
    path = write("export.csv", FRENCH, "cp1252")
    invoke("import", "contacts", str(path))
    result = invoke("import", "rejects", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [r["line"] for r in data["rejects"]] == [5, 6]
    assert data["rejects"][1]["raw"]["Nom"] == "Aubry"
    assert {"line": 4, "column": "Date de naissance", "value": "31/02/1961"}.items() <= data["issues"][0].items() or any(
        i["value"] == "31/02/1961" and i["line"] == 4 for i in data["issues"]
    )


def test_rejects_command_shows_the_first_lines_and_counts_them_all(invoke, write):
    rows = "".join(f"sans-arobase-{i};Nom{i}\n" for i in range(150))
    invoke("import", "contacts", str(write("bad.csv", "email;nom\n" + rows)))
    shown = invoke("import", "rejects")
    assert shown.exit_code == 0
    assert "the first 100 of 150" in shown.stdout and "--limit" in shown.stdout
    data = json.loads(invoke("import", "rejects", "--json", "--limit", "3").stdout)
    assert [r["line"] for r in data["rejects"]] == [2, 3, 4] and data["rejected"] == 150
    everything = json.loads(invoke("import", "rejects", "--json").stdout)
    assert len(everything["rejects"]) == 150 and everything["issue_count"] == 0


def test_rejects_command_shows_only_the_tables_that_hold_rows(invoke, write):
    invoke("import", "contacts", str(write("clean.csv", "email;nom\na@x.fr;Ann\n")))
    clean = invoke("import", "rejects")
    assert clean.exit_code == 0 and "No rejected row and no issue." in clean.stdout
    assert "Rejected rows" not in clean.stdout and "Issues" not in clean.stdout
    invoke("import", "contacts", str(write("bad.csv", "email;nom\nsans-arobase;Bob\n")))
    only_rejects = invoke("import", "rejects")
    assert "Rejected rows" in only_rejects.stdout and "Issues" not in only_rejects.stdout


def test_reimport_changes_nothing(invoke, write, db_path):
    path = write("export.csv", FRENCH, "cp1252")
    invoke("import", "contacts", str(path))
    before = dump(db_path)
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["already_imported"] == 1 and s["inserted"] == 0
    assert dump(db_path) == before


def test_strict_with_one_bad_row_leaves_the_base_as_it_was(invoke, write, db_path):
    invoke("import", "contacts", str(write("first.csv", "email;first name\na@x.fr;Ann\n")))
    before = dump(db_path)
    bad = write("bad.csv", "email;first name;birth date\nb@x.fr;Bob;01/01/1990\nc@x.fr;Cy;31/02/1990\n")
    result = invoke("import", "contacts", str(bad), "--strict")
    assert result.exit_code == 2
    assert "bad.csv" in result.stderr and "line 3" in result.stderr and "Traceback" not in result.stderr
    assert dump(db_path) == before


def test_dry_run_saves_nothing(invoke, write, db_path, query):
    invoke("import", "contacts", str(write("first.csv", "email\na@x.fr\n")))
    before = dump(db_path)
    s = summary_of(invoke("import", "contacts", str(write("more.csv", "email\nb@x.fr\nc@x.fr\n")), "--dry-run", "--json"))
    assert s["inserted"] == 2 and s["dry_run"]
    assert dump(db_path) == before


def test_utf8_bom_and_comma(invoke, write, query):
    path = write("bom.csv", "\ufeffEmail,First Name,Last Name\nann@x.fr,Ann,Lee\n")
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["encoding"] == "utf-8-sig" and s["inserted"] == 1
    assert query("SELECT email, first_name FROM contacts") == [("ann@x.fr", "Ann")]


def test_utf16_tab_file(invoke, write, query):
    path = write("export.txt", "E-mail\tPrénom\tVille\nzoé@exämple.fr\tZoé\tLiège\n", "utf-16")
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["delimiter"] == "\t" and s["inserted"] == 1
    assert query("SELECT email, first_name, city FROM contacts") == [("zoé@xn--exmple-cua.fr", "Zoé", "Liège")]


def test_mailchimp_audience_export(invoke, write, query):
    text = (
        "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
        "LEID,EUID,TAGS\n"
        "Marie@Example.org,Marie,Curie,\"1 rue X, Paris\",+33 6 12 34 56 78,2,2024-03-01 10:00:00,1.2.3.4,"
        "2024-03-01 10:05:00,123,abc,\"donor,newsletter\"\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("mc.csv", text)), "--preset", "mailchimp", "--json"))
    assert s["inserted"] == 1
    assert "MEMBER_RATING" in s["unmapped_columns"] and "LEID" in s["unmapped_columns"]
    assert query("SELECT email, phone, consent_email, consent_at::VARCHAR, consent_basis FROM contacts") == [
        ("marie@example.org", "+33612345678", True, "2024-03-01 10:00:00", "consent")
    ]
    assert query("SELECT tag FROM contact_tags ORDER BY 1") == [("donor",), ("newsletter",)]


def test_brevo_export_with_ext_id(invoke, write, query):
    text = "EMAIL;PRENOM;NOM;SMS;EXT_ID;DOUBLE_OPT-IN\npaul@x.fr;Paul;Martin;33612345678;ADH-9;Yes\n;Lea;Petit;;ADH-10;\n"
    s = summary_of(invoke("import", "contacts", str(write("brevo.csv", text)), "--preset", "brevo", "--json"))
    assert s["inserted"] == 2 and s["rejected"] == 0
    assert query("SELECT external_id, consent_email FROM contacts ORDER BY id") == [("ADH-9", True), ("ADH-10", None)]
    assert query("SELECT text_value FROM custom_values WHERE field = 'member_number' ORDER BY 1") == [("ADH-10",), ("ADH-9",)]


def test_dutch_export(invoke, write, query):
    text = "Aanhef;Voornaam;Achternaam;E-mailadres;Telefoon;Straat;Postcode;Woonplaats;Land;Geboortedatum\n" \
           "Mevrouw;Anke;de Vries;anke@voorbeeld.nl;06 12345678;Dorpsstraat 1;1234 AB;Utrecht;Nederland;31-12-1980\n"
    s = summary_of(invoke("import", "contacts", str(write("nl.csv", text)), "--json"))
    assert s["unmapped_columns"] == [] and s["inserted"] == 1
    assert query("SELECT gender, phone, postal_code, city, birth_date::VARCHAR FROM contacts") == [
        ("F", "+31612345678", "1234 AB", "Utrecht", "1980-12-31")
    ]


def test_german_export(invoke, write, query):
    text = "Anrede;Vorname;Nachname;E-Mail-Adresse;Straße;PLZ;Ort;Land;Geburtsdatum;Telefonnummer\n" \
           "Herr;Jürgen;Groß;juergen@beispiel.de;Hauptstraße 5;10115;Berlin;Deutschland;24.12.1970;030 1234567\n"
    s = summary_of(invoke("import", "contacts", str(write("de.csv", text)), "--json"))
    assert s["unmapped_columns"] == []
    assert query("SELECT gender, last_name, street, city, birth_date::VARCHAR, phone FROM contacts") == [
        ("M", "Groß", "Hauptstraße 5", "Berlin", "1970-12-24", "+49301234567")
    ]


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.close()
    return path


def test_workbook_with_data_on_its_second_sheet(invoke, tmp_path, query):
    path = _workbook(tmp_path / "book.xlsx", {"Lisez-moi": [], "Contacts": [
        ["Courriel", "Prénom", "Date de naissance", "Thème préféré"],
        ["a@x.fr", "Ann", "31/12/1990", "Chats"], ["b@x.fr", "Bob", "", "poissons"]]})
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert s["sheet"] == "Contacts" and s["inserted"] == 2 and s["issues"] == 1
    assert query("SELECT birth_date::VARCHAR FROM contacts ORDER BY id") == [("1990-12-31",), (None,)]
    assert query("SELECT text_value FROM custom_values WHERE field = 'newsletter_theme'") == [("chats",)]
    assert query("SELECT row_number, value FROM import_issues") == [(3, "poissons")]
    wrong = invoke("import", "contacts", str(path), "--sheet", "Nope")
    assert wrong.exit_code == 2 and "Lisez-moi" in wrong.stderr
    # A sheet name typed in another case finds its sheet.
    again = summary_of(invoke("import", "contacts", str(path), "--sheet", "contacts", "--json"))
    assert again["sheet"] == "Contacts" and again["already_imported"]


def test_xls_file(invoke, tmp_path, query):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Feuil1")
    for r, row in enumerate([["E-mail", "Nom"], ["xls@x.fr", "Excel"]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "old.xls"
    book.save(str(path))
    assert summary_of(invoke("import", "contacts", str(path), "--json"))["inserted"] == 1
    assert query("SELECT email, last_name FROM contacts") == [("xls@x.fr", "Excel")]


def test_ods_file(invoke, tmp_path, query):
    pytest.importorskip("odf")
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Blad1")
    for row in [["E-mailadres", "Voornaam"], ["ods@x.nl", "Odile"]]:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path = tmp_path / "calc.ods"
    doc.save(str(path))
    assert summary_of(invoke("import", "contacts", str(path), "--json"))["inserted"] == 1
    assert query("SELECT email, first_name FROM contacts") == [("ods@x.nl", "Odile")]


def test_header_only_file_imports_nothing(invoke, write, query):
    s = summary_of(invoke("import", "contacts", str(write("empty.csv", "email;prénom\r\n")), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (0, 0, 0)
    assert query("SELECT count(*) FROM contacts") == [(0,)]


def test_one_column_file(invoke, write, query):
    s = summary_of(invoke("import", "contacts", str(write("list.txt", "Email\nA@x.fr\n\nb@x.fr\n")), "--json"))
    assert s["inserted"] == 2
    assert query("SELECT email FROM contacts ORDER BY 1") == [("a@x.fr",), ("b@x.fr",)]


def test_ragged_and_empty_rows(invoke, write, query):
    text = 'email;first name;city\na@x.fr;"Ann\nMarie";Lyon\n\n;;\nb@x.fr;Bob\nc@x.fr;Cy;Paris;extra\nd@x.fr;Di;Nice\n'
    s = summary_of(invoke("import", "contacts", str(write("ragged.csv", text)), "--json"))
    assert (s["inserted"], s["rejected"]) == (2, 2)
    rejects = query("SELECT row_number, reason FROM import_rejects ORDER BY 1")
    assert [r[0] for r in rejects] == [6, 7]
    assert "too few" in rejects[0][1] and "too many" in rejects[1][1]
    assert query("SELECT email FROM contacts ORDER BY 1") == [("a@x.fr",), ("d@x.fr",)]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("photo.csv", bytes(range(256)) * 40, "not a text file"),
        ("book.xlsx", b"PK\x03\x04" + b"\x00" * 200, "cannot be opened as a workbook"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_unreadable_files_exit_2_naming_the_file(invoke, write, name, content, expected):
    path = write(name, content)
    result = invoke("import", "contacts", str(path))
    assert result.exit_code == 2
    assert name in result.stderr and expected in result.stderr and "Traceback" not in result.stderr


def test_truncated_xlsx(invoke, tmp_path):
    full = _workbook(tmp_path / "full.xlsx", {"S": [["email"], ["a@x.fr"]]})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    result = invoke("import", "contacts", str(cut))
    assert result.exit_code == 2 and "cut.xlsx" in result.stderr and "Traceback" not in result.stderr


def test_missing_file(invoke, tmp_path):
    result = invoke("import", "contacts", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "nope.csv" in result.stderr and "no such file" in result.stderr


@pytest.mark.parametrize(
    "mode, expected_name, expected_city",
    [("fill", "Ann", "Lyon"), ("update", "Anne", "Lyon"), ("keep", "Ann", None)],
)
def test_on_conflict(invoke, write, query, mode, expected_name, expected_city):
    invoke("import", "contacts", str(write("a.csv", "email;first name\na@x.fr;Ann\n")))
    s = summary_of(invoke("import", "contacts", str(write("b.csv", "email;first name;city\nA@X.fr;Anne;Lyon\n")),
                          "--on-conflict", mode, "--json"))
    assert query("SELECT first_name, city FROM contacts") == [(expected_name, expected_city)]
    assert (s["inserted"], s["updated"], s["unchanged"]) == (0, 0 if mode == "keep" else 1, 1 if mode == "keep" else 0)


def test_rows_of_one_person_fold_within_the_file_and_match_by_external_id(invoke, write, query):
    text = "email;N° adhérent;prénom;ville\na@x.fr;ADH-1;Ann;\n;ADH-1;;Lyon\nA@x.fr;;;Paris\n"
    s = summary_of(invoke("import", "contacts", str(write("a.csv", text)), "--json"))
    assert s["inserted"] == 1
    assert query("SELECT email, external_id, first_name, city FROM contacts") == [("a@x.fr", "ADH-1", "Ann", "Lyon")]
    again = "N° adhérent;téléphone\nADH-1;0612345678\n"
    s = summary_of(invoke("import", "contacts", str(write("b.csv", again)), "--json"))
    assert (s["inserted"], s["updated"]) == (0, 1)
    assert query("SELECT phone FROM contacts") == [("+33612345678",)]


def test_forgotten_person_is_skipped_and_nothing_kept(invoke, write, query, db_path):
    invoke("import", "contacts", str(write("a.csv", "email;prénom\ngone@x.fr;Gone\nstay@x.fr;Stay\n")))
    con = duckdb.connect(str(db_path))
    from cli.store import register_macros
    from cli.erasure import erase_contacts

    register_macros(con)
    ids = [r[0] for r in con.execute("SELECT id FROM contacts WHERE email = 'gone@x.fr'").fetchall()]
    erase_contacts(con, ids, source="test")
    con.close()
    text = "email;prénom;naissance\nGONE@x.fr;Gone;pas une date\nnew@x.fr;New;\n"
    s = summary_of(invoke("import", "contacts", str(write("b.csv", text)), "--json"))
    assert (s["skipped"], s["inserted"], s["issues"], s["rejected"]) == (1, 1, 0, 0)
    assert query("SELECT email FROM contacts ORDER BY 1") == [("new@x.fr",), ("stay@x.fr",)]
    everything = json.dumps(query("SELECT * FROM import_rejects") + query("SELECT * FROM import_issues"), default=str)
    assert "gone" not in everything.lower()
    # A ragged row naming them is not kept as a reject either; nor are their events.
    ragged = "email;prénom\nGone@x.fr;Gone;extra\nnew2@x.fr;New2\n"
    s = summary_of(invoke("import", "contacts", str(write("c.csv", ragged)), "--json"))
    assert (s["skipped"], s["inserted"], s["rejected"]) == (1, 1, 0)
    gifts = "email;date;montant\ngone@x.fr;01/02/2026;10\nstay@x.fr;02/02/2026;20\n"
    s = summary_of(invoke("import", "events", str(write("d.csv", gifts)), "--type", "donation", "--json"))
    assert (s["skipped"], s["inserted"], s["rejected"]) == (1, 1, 0)
    everything = json.dumps(query("SELECT * FROM import_rejects") + query("SELECT * FROM events"), default=str)
    assert "gone" not in everything.lower()


def test_suppressed_key_gives_a_suppressed_contact(invoke, write, query, db_path):
    con = duckdb.connect(str(db_path)) if db_path.exists() else None
    if con is None:
        from cli.store import open_database

        con = open_database(db_path)
    from cli.store import register_macros

    register_macros(con)
    con.execute("INSERT INTO suppressions (key, kind, reason) SELECT crmseg_key('bounced@x.fr'), 'email', 'hard_bounce'")
    con.close()
    invoke("import", "contacts", str(write("a.csv", "email\nbounced@x.fr\nok@x.fr\n")))
    assert query("SELECT email, status, status_reason FROM contacts ORDER BY 1") == [
        ("bounced@x.fr", "suppressed", "hard_bounce"), ("ok@x.fr", "active", None)
    ]
    assert query("SELECT count(*) FROM contacts WHERE email_key IS NULL") == [(0,)]


def test_tag_and_source_options(invoke, write, query):
    invoke("import", "contacts", str(write("a.csv", "email\na@x.fr\n")), "--tag", "salon", "--tag", "2026",
           "--source", "Salon")
    assert query("SELECT tag FROM contact_tags ORDER BY 1") == [("2026",), ("salon",)]
    assert query("SELECT source FROM contacts") == [("Salon",)]


def test_map_option(invoke, write, query):
    path = write("odd.csv", "Adresse courriel du membre;Petit nom\na@x.fr;Ann\n")
    result = invoke("import", "contacts", str(path), "--map", "Adresse courriel du membre=email", "--map", "Petit nom=first_name")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT email, first_name FROM contacts") == [("a@x.fr", "Ann")]
    wrong = invoke("import", "contacts", str(path), "--map", "Petit nom=frist_name")
    assert wrong.exit_code == 2 and "first_name" in wrong.stderr


def test_map_with_an_empty_field_drops_the_column(invoke, write, query):
    path = write("notes.csv", "Courriel;Ville;Note\na@x.fr;Lyon;secret\n")
    result = invoke("import", "contacts", str(path), "--map", "Note=", "--map", "Ville=", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["imports"][0]["unmapped_columns"] == ["Ville", "Note"]
    assert query("SELECT email, city FROM contacts") == [("a@x.fr", None)]


def test_a_failing_file_among_several_says_which_were_imported_and_which_not_tried(invoke, write, query):
    good, bad, later = write("good.csv", "email\ng1@x.fr\n"), write("bad.csv", "email;birth date\nb@x.fr;zz\n"), \
        write("later.csv", "email\ng2@x.fr\n")
    result = invoke("import", "contacts", str(good), str(bad), str(later), "--strict")
    assert result.exit_code == 2
    assert "good.csv" in result.stdout and "import #1" in result.stdout
    assert "bad.csv" in result.stderr and "before it: good.csv; not tried: later.csv" in result.stderr
    assert query("SELECT email FROM contacts") == [("g1@x.fr",)]


def test_history(invoke, write):
    invoke("import", "contacts", str(write("a.csv", "email\na@x.fr\n")))
    result = invoke("import", "history", "--json")
    assert result.exit_code == 0
    assert [(i["file_name"], i["inserted"]) for i in json.loads(result.stdout)["imports"]] == [("a.csv", 1)]


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from cli.store import open_database
from cli.settings import load_settings
from cli.importing import import_contacts

con = open_database(sys.argv[1])
def progress(phase, done, total):
    if phase == "commit":
        Path(sys.argv[3]).write_text("ready")
        time.sleep(600)
import_contacts(con, sys.argv[2], settings=load_settings(None, default_dir=Path(sys.argv[1]).parent), progress=progress)
"""


def test_killed_import_leaves_no_partial_import(tmp_path, db_path, write):
    rows = "".join(f"p{i}@x.fr;Person {i}\n" for i in range(3000))
    path = write("big.csv", "email;prénom\n" + rows)
    marker = tmp_path / "ready"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db_path), str(path), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the import never reached its commit"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    from cli.store import open_database

    con = open_database(db_path, wait=0)
    try:
        assert con.execute("SELECT count(*) FROM contacts").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM imports").fetchall() == [(0,)]
    finally:
        con.close()


@pytest.mark.parametrize(
    "title", ["Export du 15/03/2024\r\n\r\n", "Liste des adhérents 2024;;;\r\n;;;\r\n", "Adhérents, mise à jour 2024\r\n\r\n"]
)
def test_title_lines_above_a_csv_table_are_skipped_and_still_counted(invoke, write, query, title):
    text = title + "Nom;Prénom;Email;Ville\r\nDupont;Marie;marie@x.fr;Lyon\r\nMartin;Paul;paul@@x;\r\n"
    s = summary_of(invoke("import", "contacts", str(write("titled.csv", text)), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (2, 1, 1)
    assert s["unmapped_columns"] == []
    assert query("SELECT email, first_name, city FROM contacts") == [("marie@x.fr", "Marie", "Lyon")]
    assert query("SELECT row_number FROM import_rejects") == [(5,)]


def test_a_title_above_a_sheet_is_skipped_and_rows_keep_their_numbers(invoke, query, tmp_path):
    path = tmp_path / "adherents.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Adhérents")
    sheet.write(0, 0, "Liste des adhérents 2024")
    sheet.write(1, 0, "Mise à jour le 15/03/2024")
    sheet.write_row(3, 0, ["Nom", "Prénom", "Email", "Ville"])
    sheet.write_row(4, 0, ["Dupont", "Marie", "marie@x.fr", "Lyon"])
    sheet.write_row(5, 0, ["Martin", "Paul", "paul@@x", ""])
    book.close()
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (2, 1, 1)
    assert query("SELECT email, first_name, city FROM contacts") == [("marie@x.fr", "Marie", "Lyon")]
    assert query("SELECT row_number FROM import_rejects") == [(6,)]


def test_a_one_column_file_and_a_lone_known_header_are_no_titles(invoke, write, query):
    one = "Adresses\r\nmarie@x.fr\r\nodd,comma@x.fr\r\npaul@x.fr\r\n"
    s = summary_of(invoke("import", "contacts", str(write("one.csv", one)), "--json", "--map", "Adresses=email"))
    assert s["read"] == 3
    lone = "Email;;\r\nanne@x.fr;Anne;Lyon\r\nluc@x.fr;Luc;Nice\r\nzoe@x.fr;Zoé;Pau\r\n"
    s = summary_of(invoke("import", "contacts", str(write("lone.csv", lone)), "--json"))
    assert (s["read"], s["inserted"]) == (3, 3)
    # Semicolons inside the cells of a comma file do not make its header a title.
    notes = "Nom,Email,Notes\r\nDupont,d@x.fr,\"a;b\"\r\nMartin,m@x.fr,\"c;d\"\r\nDurand,r@x.fr,\"e;f\"\r\n"
    s = summary_of(invoke("import", "contacts", str(write("notes.csv", notes)), "--json"))
    assert (s["read"], s["inserted"], s["delimiter"]) == (3, 3, ",")


def test_line_numbers_hold_in_a_large_file(invoke, write, query):
    # Rows are numbered by the rowids of the table the parse fills: they must keep the file's order.
    rows = [f"Nom{i};p{i}@x.fr;{i % 90 + 10}000" for i in range(200_000)]
    rows[123_456] = "Nom;pas-un-email;75000"
    rows[199_998] = "Nom;;"
    path = write("big.csv", "Nom;Email;Code postal\n" + "\n".join(rows) + "\n")
    s = summary_of(invoke("import", "contacts", str(path), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (200_000, 199_998, 2)
    assert query("SELECT row_number FROM import_rejects ORDER BY 1") == [(123_458,), (200_000,)]
    assert query("SELECT email FROM contacts WHERE last_name = 'Nom150000'") == [("p150000@x.fr",)]


@pytest.mark.parametrize("text, line", [
    ("sep=;\rNom;Email\rDupont;a@x.fr\rMartin;bad@@\r", 4),
    ("sep=;\rExport 2024\r\rNom;Email\rDupont;a@x.fr\rMartin;bad@@\r", 6),
])
def test_an_old_mac_file_with_a_sep_line_and_a_title(invoke, write, query, text, line):
    s = summary_of(invoke("import", "contacts", str(write("mac.csv", text)), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (2, 1, 1)
    assert query("SELECT row_number FROM import_rejects") == [(line,)]


def test_a_second_address_line_joins_the_street(invoke, write, query):
    text = ("Civilité;Prénom;Nom;Email;Téléphone mobile;Téléphone fixe;Adresse;Complément d'adresse;Code postal;Ville\n"
            "Mme;Anne;Roux;anne@x.fr;06 12 34 56 78;04 78 00 00 00;12 rue des Lilas;Bâtiment B;69003;Lyon\n"
            "M.;Luc;Blanc;luc@x.fr;;;;Lieu-dit Les Granges;07200;Aubenas\n"
            "M.;Paul;Noir;paul@x.fr;;;3 place Bellecour;;69002;Lyon\n")
    s = summary_of(invoke("import", "contacts", str(write("ohme.csv", text)), "--json"))
    assert s["unmapped_columns"] == [] and s["mapped_columns"]["Téléphone fixe"] == "phone"
    assert query("SELECT street FROM contacts ORDER BY id") == [
        ("12 rue des Lilas, Bâtiment B",), ("Lieu-dit Les Granges",), ("3 place Bellecour",)
    ]


def test_a_second_phone_column_fills_the_phone_where_the_first_is_empty(invoke, write, query):
    text = ("Email;Téléphone mobile;Téléphone fixe\n"
            "a@spare.fr;06 12 34 56 78;04 78 00 00 00\n"   # the mobile wins
            "b@spare.fr;;04 78 00 00 01\n"                 # no mobile: the landline
            "c@spare.fr;06 12;04 78 00 00 02\n"            # a mobile that is no number: the landline, and an issue
            "d@spare.fr;06 12 34 56 79;pas de fixe\n"      # the mobile; the landline cell is an issue
            "e@spare.fr;;\n")
    s = summary_of(invoke("import", "contacts", str(write("phones.csv", text)), "--json"))
    assert (s["inserted"], s["issues"], s["unmapped_columns"]) == (5, 2, [])
    assert query("SELECT email, phone FROM contacts ORDER BY email") == [
        ("a@spare.fr", "+33612345678"), ("b@spare.fr", "+33478000001"), ("c@spare.fr", "+33478000002"),
        ("d@spare.fr", "+33612345679"), ("e@spare.fr", None),
    ]
    assert query("SELECT row_number, column_name, value FROM import_issues ORDER BY 1") == [
        (4, "Téléphone mobile", "06 12"), (5, "Téléphone fixe", "pas de fixe"),
    ]


def test_google_contacts_and_outlook_exports(invoke, write, query):
    google = (
        "First Name,Middle Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
        "Address 1 - Street,Address 1 - City,Address 1 - Postal Code,Address 1 - Country,Organization Name\n"
        "Anne,,Roux,* myContacts ::: Bénévoles,* Home,anne@x.fr ::: anne.roux@y.org,Mobile,"
        "+33 6 12 34 56 78 ::: 04 78 00 00 00,12 rue des Lilas,Lyon,69003,France,\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("contacts.csv", google)), "--json"))
    # The second address is a value left out: an issue names it.
    assert (s["inserted"], s["issues"]) == (1, 1)
    assert query("SELECT value, reason FROM import_issues") == [(
        "anne@x.fr ::: anne.roux@y.org",
        "several addresses in one cell: the first is the email, anne.roux@y.org left out",
    )]
    assert query("SELECT email, phone, street, city, postal_code FROM contacts") == [
        ("anne@x.fr", "+33612345678", "12 rue des Lilas", "Lyon", "69003")
    ]
    assert query("SELECT tag FROM contact_tags ORDER BY 1") == [("* myContacts",), ("Bénévoles",)]
    outlook = (
        "First Name,Last Name,Title,E-mail Address,Mobile Phone,Home Street,Home City,Home Postal Code,"
        "Home Country/Region,Company,Job Title\n"
        "Luc,Blanc,Mr.,luc@x.fr,0698765432,3 place Bellecour,Lyon,69002,France,Asso,Trésorier\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("outlook.csv", outlook)), "--json"))
    assert (s["inserted"], s["unmapped_columns"]) == (1, [])
    assert query("SELECT gender, phone, street, organisation, job_title FROM contacts WHERE email = 'luc@x.fr'") == [
        ("M", "+33698765432", "3 place Bellecour", "Asso", "Trésorier")
    ]


def test_a_date_with_a_year_out_of_range_is_an_issue(invoke, write, query):
    text = "Email;Date opt-in;Date de naissance\na@x.fr;15/03/202;15/03/1850\nb@x.fr;15/03/24 10h00;01/01/1849\n"
    s = summary_of(invoke("import", "contacts", str(write("dates.csv", text)), "--json"))
    assert (s["inserted"], s["issues"]) == (2, 2)
    assert query("SELECT row_number, column_name, value FROM import_issues ORDER BY 1") == [
        (2, "Date opt-in", "15/03/202"), (3, "Date de naissance", "01/01/1849")
    ]
    assert query("SELECT email, consent_at::VARCHAR, birth_date::VARCHAR FROM contacts ORDER BY 1") == [
        ("a@x.fr", None, "1850-03-15"), ("b@x.fr", "2024-03-15 10:00:00", None)
    ]


@pytest.mark.parametrize("mode", ["fill", "update"])
def test_keys_follow_an_email_or_phone_a_reimport_changes(invoke, write, query, db_path, mode):
    from cli.store import register_macros

    invoke("import", "contacts", str(write("a.csv", "email;tel;ville\na@keys.fr;;Lyon\nb@keys.fr;0611223344;Nice\n")))
    before = dict(query("SELECT email, phone_key FROM contacts"))
    # a gains a phone (fill and update); b's phone changes (update only); nothing else differs.
    changed = "email;tel;ville\na@keys.fr;0699887766;Lyon\nb@keys.fr;0655443322;Nice\n"
    invoke("import", "contacts", str(write("b.csv", changed)), "--on-conflict", mode)
    phones = {"fill": ["+33699887766", "+33611223344"], "update": ["+33699887766", "+33655443322"]}[mode]
    assert [r[0] for r in query("SELECT phone FROM contacts ORDER BY email")] == phones
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        register_macros(con)
        keyed = con.execute(
            "SELECT count(*) FROM contacts WHERE phone_key = crmseg_key(phone) AND email_key = crmseg_key(email)"
        ).fetchall()
    finally:
        con.close()
    assert keyed == [(2,)]
    if mode == "fill":
        assert dict(query("SELECT email, phone_key FROM contacts"))["b@keys.fr"] == before["b@keys.fr"]


def test_outlook_empty_date_placeholder_is_no_issue(invoke, write, query):
    # Outlook writes 0/0/00 in every Birthday and Anniversary it has no date for: one issue per
    # row (and an abort under --strict) for a cell that says "no date".
    outlook = (
        '"First Name","Last Name","E-mail Address","Birthday","Priority"\r\n'
        '"Claire","Fontaine","claire@outlook-test.fr","0/0/00","Normal"\r\n'
        '"Tom","Baker","tom@outlook-test.fr","20/04/1975","Normal"\r\n'
    )
    path = write("contacts.csv", outlook, "cp1252")
    result = invoke("import", "contacts", str(path), "--strict", "--json")
    s = summary_of(result)
    assert (s["inserted"], s["issues"]) == (2, 0)
    assert query("SELECT email, birth_date::VARCHAR FROM contacts ORDER BY 1") == [
        ("claire@outlook-test.fr", None), ("tom@outlook-test.fr", "1975-04-20")
    ]
    zero = "Email;Date de désinscription\nz@zero-test.fr;0000-00-00 00:00:00\n"
    s = summary_of(invoke("import", "contacts", str(write("zero.csv", zero)), "--json"))
    assert s["issues"] == 0
    assert query("SELECT status FROM contacts WHERE email = 'z@zero-test.fr'") == [("active",)]


def test_salesforce_and_nationbuilder_columns(invoke, write, query):
    # Salesforce's Mailing address, Account Name and Created Date, NationBuilder's tag_list,
    # born_at and employer were left unmapped: address, organisation, tags and birth date lost.
    salesforce = (
        "Salutation,First Name,Last Name,Account Name,Mailing Street,Mailing City,Mailing State/Province,"
        "Mailing Zip/Postal Code,Mailing Country,Phone,Email,Created Date\n"
        "Mrs.,Jane,Doe,Globex,500 Oracle Pkwy,Redwood City,CA,94065,United States,(650) 506-7000,jane@sf-cols.com,"
        "15/01/2024\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("sf.csv", salesforce)), "--json"))
    assert (s["inserted"], s["issues"], s["unmapped_columns"]) == (1, 0, ["Mailing State/Province"])
    assert query(
        "SELECT organisation, street, city, postal_code, country, phone, created_at::DATE::VARCHAR FROM contacts"
    ) == [("Globex", "500 Oracle Pkwy", "Redwood City", "94065", "United States", "+16505067000", "2024-01-15")]
    nation = (
        "nationbuilder_id,first_name,last_name,email,tag_list,born_at,employer,occupation\n"
        "101,Amy,Wong,amy@nb-cols.com,\"volunteer, donor\",1990-06-01,Acme,Engineer\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("nb.csv", nation)), "--json"))
    assert s["unmapped_columns"] == ["nationbuilder_id"]
    assert query("SELECT birth_date::VARCHAR, organisation FROM contacts WHERE email = 'amy@nb-cols.com'") == [
        ("1990-06-01", "Acme")
    ]
    assert query("SELECT tag FROM contact_tags ORDER BY 1") == [("donor",), ("volunteer",)]


def test_french_newsletter_consent_phrases(invoke, write, query):
    # Hand-made sheets and web forms spell the opt-in as a sentence: it was left unmapped,
    # and a "Non" was stored as no answer at all.
    text = (
        "Nom;Prénom;E-mail;Accord newsletter\nDupont;Marie;marie@asso-optin.fr;Oui\nMartin;Jean;jean@asso-optin.fr;Non\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("a.csv", text)), "--json"))
    assert s["unmapped_columns"] == []
    text = "Nom;E-mail;Accepte de recevoir la newsletter\nRoux;anne@asso-optin.fr;oui\n"
    s = summary_of(invoke("import", "contacts", str(write("b.csv", text)), "--json"))
    assert s["unmapped_columns"] == []
    assert query("SELECT email, consent_email FROM contacts ORDER BY 1") == [
        ("anne@asso-optin.fr", True), ("jean@asso-optin.fr", False), ("marie@asso-optin.fr", True)
    ]


def test_a_couples_row_with_two_addresses_imports_the_first(invoke, write, query):
    text = 'Nom;Prénom;Email\nDupont;Marie et Jean;"marie@couple.fr; jean@couple.fr"\nMartin;Paul;paul@couple.fr\n'
    s = summary_of(invoke("import", "contacts", str(write("couples.csv", text)), "--json"))
    assert (s["inserted"], s["rejected"], s["issues"]) == (2, 0, 1)
    assert query("SELECT email FROM contacts ORDER BY 1") == [("marie@couple.fr",), ("paul@couple.fr",)]
    assert query("SELECT row_number, column_name, reason FROM import_issues") == [
        (2, "Email", "several addresses in one cell: the first is the email, jean@couple.fr left out")
    ]


def test_a_second_email_column_fills_the_rows_whose_first_gives_none(invoke, write, query):
    # Outlook's `E-mail 2 Address` after `E-mail Address`: the first wins; an empty or unusable first
    # leaves the email to the second (an unusable cell is an issue, whichever column it is in).
    text = (
        "First Name,Last Name,E-mail Address,E-mail 2 Address\n"
        "Ann,Lee,ann@two-mails.org,ann.lee@work.org\nBob,Ray,,bob@two-mails.org\n"
        "Cid,Roe,cid(at)two-mails.org,cid@two-mails.org\nDee,Poe,dee@two-mails.org,not-an-address\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("outlook.csv", text)), "--json"))
    assert (s["inserted"], s["rejected"], s["issues"]) == (4, 0, 2)
    assert s["mapped_columns"]["E-mail 2 Address"] == "email" and s["unmapped_columns"] == []
    assert query("SELECT first_name, email FROM contacts ORDER BY 1") == [
        ("Ann", "ann@two-mails.org"), ("Bob", "bob@two-mails.org"), ("Cid", "cid@two-mails.org"),
        ("Dee", "dee@two-mails.org"),
    ]
    assert query("SELECT row_number, column_name, value FROM import_issues ORDER BY 1") == [
        (4, "E-mail Address", "cid(at)two-mails.org"), (5, "E-mail 2 Address", "not-an-address"),
    ]


def test_a_payers_email_is_no_second_email_of_the_participant(invoke, write, query):
    text = "Nom;Prénom;Email;Email payeur\nDupont;Léa;;parent@payer.fr\n"
    s = summary_of(invoke("import", "contacts", str(write("helloasso.csv", text)), "--json"))
    assert s["unmapped_columns"] == ["Email payeur"] and s["rejected"] == 1


def test_a_shared_landline_does_not_make_a_couple_one_contact(invoke, write, query):
    # Postal donors of one household share a landline; their rows have no email.
    household = (
        "Nom;Prénom;Adresse;Code postal;Ville;Téléphone\n"
        "Foyer;Anne;1 place Neuve;25000;Besançon;03 81 00 00 00\n"
        "Foyer;Marc;1 place Neuve;25000;Besançon;03 81 00 00 00\n"
        "Durand;Paul;2 rue Basse;25000;Besançon;06 11 22 33 44\n"
        "Durand;Paul;2 rue Basse;25000;Besançon;06 11 22 33 44\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("courrier.csv", household)), "--json"))
    assert s["inserted"] == 3
    assert query("SELECT first_name, phone FROM contacts ORDER BY first_name") == [
        ("Anne", "+33381000000"), ("Marc", "+33381000000"), ("Paul", "+33611223344")
    ]
    # Against the base too: a row with the phone matches the contact whose first name agrees (or has none),
    # and a third first name on that phone is someone else.
    later = (
        "Prénom;Nom;Téléphone;Ville\n"
        "Marc;Foyer;03 81 00 00 00;Besançon\n"
        "M.;Foyer;03 81 00 00 00;\n"
        "Léa;Foyer;03 81 00 00 00;Besançon\n"
        "Jean-Paul;Durand;06 11 22 33 44;\n"
    )
    s = summary_of(invoke("import", "contacts", str(write("appels.csv", later)), "--json"))
    assert (s["inserted"], s["unchanged"]) == (2, 1)
    assert query("SELECT first_name FROM contacts ORDER BY id") == [("Anne",), ("Marc",), ("Paul",), ("Léa",), ("Jean-Paul",)]
