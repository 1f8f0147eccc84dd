"""Workbooks as people have them: mixed columns, error cells, hidden sheets, grouped headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import xlsxwriter

from tests.conftest import REPO_ROOT


def _summary(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def test_a_text_cell_below_a_thousand_numbers_is_kept(invoke, query, tmp_path):
    # fastexcel guesses a column's type from its first 1,000 rows; a later text cell must not become empty.
    path = tmp_path / "long.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Email", "Téléphone", "Code postal"])
    for r in range(1, 1202):
        sheet.write_row(r, 0, [f"p{r}@x.fr", 612345678, 75001])
    sheet.write_row(1202, 0, ["late@x.fr", "06 11 22 33 44", "2A004"])
    book.close()
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["inserted"], s["issues"]) == (1202, 0)
    assert query("SELECT phone, postal_code FROM contacts WHERE email IN ('p1@x.fr', 'late@x.fr') ORDER BY email") == [
        ("+33611223344", "2A004"), ("+33612345678", "75001")
    ]


def test_an_empty_column_prints_nothing_on_stderr(db_path, query, tmp_path):
    # fastexcel logs "Could not determine dtype for column 2, falling back to string": no news for a user.
    # A real process: pytest's own log handlers would hide the stray line.
    path = tmp_path / "notes.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Email", "Nom", "Notes"])
    sheet.write_row(1, 0, ["a@x.fr", "Arnaud"])
    book.close()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    command = [sys.executable, "-m", "cli", "--db", str(db_path), "import", "contacts", str(path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert query("SELECT email, last_name FROM contacts") == [("a@x.fr", "Arnaud")]


def test_a_hidden_sheet_is_read_only_when_named(invoke, query, tmp_path):
    path = tmp_path / "hidden.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Vide")
    lists = book.add_worksheet("Listes")
    lists.write_row(0, 0, ["Email", "Nom"])
    lists.write_row(1, 0, ["ancien@x.fr", "Ancien"])
    lists.hide()
    book.add_worksheet("Adhérents").write_row(0, 0, ["Email", "Nom"])
    book.worksheets()[2].write_row(1, 0, ["marie@x.fr", "Dupont"])
    book.worksheets()[2].activate()
    book.close()
    assert _summary(invoke("import", "contacts", str(path), "--json"))["sheet"] == "Adhérents"
    assert query("SELECT email FROM contacts") == [("marie@x.fr",)]
    assert _summary(invoke("import", "contacts", str(path), "--sheet", "2", "--json"))["sheet"] == "Listes"
    assert query("SELECT email FROM contacts ORDER BY 1") == [("ancien@x.fr",), ("marie@x.fr",)]


def test_a_workbook_whose_only_data_is_hidden_says_so(invoke, tmp_path):
    path = tmp_path / "only-hidden.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Accueil")
    data = book.add_worksheet("Données")
    data.write_row(0, 0, ["Email", "Nom"])
    data.hide()
    book.close()
    result = invoke("import", "contacts", str(path))
    assert result.exit_code == 2 and "hidden" in result.stderr and "--sheet" in result.stderr and "Données" in result.stderr


def test_an_empty_sheet_named_by_sheet_is_named_in_the_error(invoke, tmp_path):
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Vide")
    book.add_worksheet("Contacts").write_row(0, 0, ["Email", "Nom"])
    book.close()
    result = invoke("import", "contacts", str(path), "--sheet", "Vide")
    assert result.exit_code == 2 and "sheet `Vide` is empty" in result.stderr and "Contacts" in result.stderr


def test_rows_keep_their_numbers_below_empty_top_rows(invoke, query, tmp_path):
    # fastexcel starts a sheet at its first row holding a cell: rows 1-2 empty must not shift the numbers.
    path = tmp_path / "low.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(2, 0, ["Email", "Nom"])
    sheet.write_row(3, 0, ["marie@x.fr", "Dupont"])
    sheet.write_row(4, 0, ["pas-un-email", "Martin"])
    titled = book.add_worksheet("Titre")
    titled.write(2, 0, "Liste des adhérents")
    titled.write_row(4, 0, ["Email", "Nom"])
    titled.write_row(5, 0, ["paul@x.fr", "Durand"])
    titled.write_row(6, 0, ["pas-un-email", "Petit"])
    book.close()
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["inserted"], s["rejected"]) == (1, 1)
    assert query("SELECT row_number FROM import_rejects") == [(5,)]
    s = _summary(invoke("import", "contacts", str(path), "--sheet", "Titre", "--json"))
    assert (s["inserted"], s["rejected"]) == (1, 1)
    assert query("SELECT row_number FROM import_rejects WHERE import_id = 2") == [(7,)]


def test_an_error_cell_leaves_its_cell_empty_not_the_whole_file_unread(invoke, query, tmp_path):
    # A formula that Excel could not compute (`#NAME?`) kept fastexcel from typing its column: the file
    # exited 2. Its column is now read as text and the error cell is empty.
    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Adhérents")
    sheet.write_row(0, 0, ["Nom", "Prénom", "Email", "Cotisation"])
    sheet.write_row(1, 0, ["Dupont", "Marie", "marie@err.fr", 30])
    sheet.write_formula(2, 0, "=FOO()", None, "#NAME?")
    sheet.write_row(2, 1, ["Jean", "jean@err.fr"])
    sheet.write_row(3, 0, ["Martin", "Paul", "paul@err.fr"])
    sheet.write_formula(3, 3, "=1/0", None, "#DIV/0!")
    book.close()
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert s["inserted"] == 3
    assert query("SELECT email, last_name FROM contacts ORDER BY email") == [
        ("jean@err.fr", None), ("marie@err.fr", "Dupont"), ("paul@err.fr", "Martin"),
    ]
    # The error cell is an issue with what it held, on its spreadsheet row; the unmapped column's is not.
    assert s["issues"] == 1
    assert query("SELECT row_number, column_name, value, reason, c.email FROM import_issues "
                 "JOIN contacts c ON c.id = contact_id") == [
        (3, "Nom", "#NAME?", "a formula error in the workbook: the cell is read as empty", "jean@err.fr")
    ]


def test_error_cells_of_an_events_workbook_are_issues_of_their_rows(invoke, query, tmp_path):
    contacts = tmp_path / "donateurs.csv"
    contacts.write_text("Email;Nom\nana@err.fr;Ana\nbob@err.fr;Bob\n", encoding="utf-8")
    _summary(invoke("import", "contacts", str(contacts), "--json"))
    path = tmp_path / "dons.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Dons 2024")
    sheet.write(0, 0, "Export des dons")  # a title row: the header is on row 3
    sheet.write_row(2, 0, ["Email", "Date", "Montant", "Campagne"])
    sheet.write_row(3, 0, ["ana@err.fr", "15/03/2024", 50, "Printemps"])
    sheet.write_row(4, 0, ["bob@err.fr", "16/03/2024"])
    sheet.write_formula(4, 2, "=VLOOKUP(A5,Tarifs!A:B,2,0)", None, "#N/A")
    sheet.write_formula(4, 3, "=Campagnes!Z9", None, "#REF!")
    sheet.write_row(5, 0, ["nobody@err.fr", "17/03/2024"])  # rejected: unknown person
    sheet.write_formula(5, 2, "=1/0", None, "#DIV/0!")
    book.close()
    s = _summary(invoke("import", "events", str(path), "--type", "donation", "--json"))
    assert (s["inserted"], s["rejected"], s["issues"]) == (2, 1, 2)
    assert query("SELECT row_number, column_name, value FROM import_issues ORDER BY column_name") == [
        (5, "Campagne", "#REF!"), (5, "Montant", "#N/A")
    ]
    assert query("SELECT amount, campaign FROM events e JOIN contacts c ON c.id = e.contact_id "
                 "WHERE c.email = 'bob@err.fr'") == [(None, None)]


def test_a_blank_header_cell_is_named_by_its_column(invoke, tmp_path):
    path = tmp_path / "blank.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Email", "", "Ville"])
    sheet.write_row(1, 0, ["a@blank.fr", "note", "Lyon"])
    book.close()
    assert _summary(invoke("import", "contacts", str(path), "--json"))["unmapped_columns"] == ["column 2"]


def test_group_labels_above_the_header_are_a_title_row(invoke, query, tmp_path):
    # `Identité` and `Coordonnées`, merged over their columns, above the real header.
    path = tmp_path / "groups.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 1, "Identité")
    sheet.merge_range(0, 2, 0, 3, "Coordonnées")
    sheet.write_row(1, 0, ["Nom", "Prénom", "Email", "Ville"])
    sheet.write_row(2, 0, ["Dupont", "Marie", "marie@groups.fr", "Lyon"])
    sheet.write_row(3, 0, ["Martin", "Paul", "not-an-email", ""])
    book.close()
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["inserted"], s["rejected"]) == (1, 1)
    assert query("SELECT last_name, first_name, email, city FROM contacts") == [("Dupont", "Marie", "marie@groups.fr", "Lyon")]
    assert query("SELECT row_number FROM import_rejects") == [(4,)]  # the spreadsheet's row


def test_a_text_file_named_as_a_workbook_is_read_as_text(invoke, query, tmp_path):
    # Web tools' "Excel export" is often a tab-separated text file named `.xls`.
    path = tmp_path / "export_excel.xls"
    path.write_text("Email\tPrénom\tNom\nanne@web.fr\tAnne\tRoy\n", encoding="utf-8")
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["inserted"], s["delimiter"], s["sheet"]) == (1, "\t", None)
    assert query("SELECT email, first_name FROM contacts") == [("anne@web.fr", "Anne")]
    renamed = tmp_path / "contacts.xlsx"
    renamed.write_text("Email;Nom\nbob@web.fr;Bob\n", encoding="cp1252")
    result = invoke("import", "contacts", str(renamed), "--sheet", "Feuil1")
    assert result.exit_code == 2 and "contacts.xlsx" in result.stderr and "without --sheet" in result.stderr


def test_a_web_page_named_as_a_workbook_says_what_to_do(invoke, tmp_path):
    path = tmp_path / "adherents.xls"
    path.write_text('<html><head><meta charset="utf-8"></head><body><table><tr><td>Email</td></tr></table></body></html>',
                    encoding="utf-8")
    result = invoke("import", "contacts", str(path))
    assert result.exit_code == 2
    assert "adherents.xls" in result.stderr and "web page" in result.stderr and "save it as .xlsx" in result.stderr
    assert "Traceback" not in result.stderr
