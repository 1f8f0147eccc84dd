"""Reading QA's odd files: CR-only line ends, Excel's ``sep=`` line, and option checks."""

from __future__ import annotations

import json

import pytest


def _summary(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def test_cr_only_line_endings_are_line_ends(invoke, write, query):
    path = write("cr.csv", "email;prenom;nom\rcr1@cr-test.fr;C;R\rcr2@cr-test.fr;C;R2\rbad;;\r")
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["read"], s["inserted"], s["rejected"]) == (3, 2, 1)
    assert query("SELECT email, first_name, last_name FROM contacts ORDER BY 1") == [
        ("cr1@cr-test.fr", "C", "R"), ("cr2@cr-test.fr", "C", "R2")
    ]
    assert query("SELECT row_number FROM import_rejects") == [(4,)]


def test_cr_only_file_with_a_quoted_cell(invoke, write, query):
    path = write("cr2.csv", 'email,ville\r"a@cr-test.fr","Lyon"\r')
    _summary(invoke("import", "contacts", str(path), "--json"))
    assert query("SELECT email, city FROM contacts") == [("a@cr-test.fr", "Lyon")]


def test_excel_sep_line_is_honoured_and_skipped(invoke, write, query):
    path = write("sep.csv", "sep=;\r\nemail;prénom;nom;date de naissance\r\nsep1@sep-test.fr;Sé;P;hier\r\n")
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert s["delimiter"] == ";" and s["inserted"] == 1 and s["unmapped_columns"] == []
    assert query("SELECT email, first_name FROM contacts") == [("sep1@sep-test.fr", "Sé")]
    # Lines are the file's own: the sep= line counts.
    assert query("SELECT row_number, value FROM import_issues") == [(3, "hier")]


def test_sep_line_with_a_bom_and_a_comma(invoke, write, query):
    path = write("sep2.csv", "\ufeffsep=,\nemail,city\na@sep-test.fr,\"Lyon; 3e\"\n")
    _summary(invoke("import", "contacts", str(path), "--json"))
    assert query("SELECT email, city FROM contacts") == [("a@sep-test.fr", "Lyon; 3e")]


@pytest.mark.parametrize("value", ["ab", "", '"'])
def test_a_delimiter_of_several_characters_is_refused(invoke, write, query, value):
    path = write("a.csv", "email;nom\na@x-test.fr;A\n")
    result = invoke("import", "contacts", str(path), "--delimiter", value)
    assert result.exit_code == 2
    assert "--delimiter" in result.stderr and "Traceback" not in result.stderr
    assert query("SELECT count(*) FROM imports") == [(0,)]


@pytest.mark.parametrize("value", ["tab", "\\t", "\t"])
def test_tab_delimiter_spellings(invoke, write, query, value):
    path = write("a.txt", "email\tnom\na@x-test.fr\tA;B\n")
    s = _summary(invoke("import", "contacts", str(path), "--delimiter", value, "--json"))
    assert s["delimiter"] == "\t"
    assert query("SELECT last_name FROM contacts") == [("A;B",)]


@pytest.mark.parametrize("option", [["--preset", "mailchump"], ["--delimiter", "ab"], ["--encoding", "klingon"]])
def test_wrong_options_are_refused_even_for_an_already_imported_file(invoke, write, option):
    path = write("a.csv", "email;nom\na@x-test.fr;A\n")
    _summary(invoke("import", "contacts", str(path), "--json"))
    result = invoke("import", "contacts", str(path), *option)
    assert result.exit_code == 2, result.stdout
    assert option[0] in result.stderr
    events = write("ev.csv", "email;date;montant\na@x-test.fr;01/02/2025;10\n")
    _summary(invoke("import", "events", str(events), "--type", "donation", "--json"))
    result = invoke("import", "events", str(events), "--type", "donation", *option)
    assert result.exit_code == 2 and option[0] in result.stderr


def test_unread_columns_are_kept_as_given_and_blank_rows_still_skipped(invoke, write, query):
    # `Commentaire` maps to nothing: its cells are not trimmed (nothing reads them but a reject's raw row),
    # yet a row holding only blanks there is still a blank row, not a reject.
    path = write(
        "wide.csv",
        "Email;Nom;Commentaire\n  a@wide-test.fr ;  Dupont  ;  à rappeler  \n;;   \nb@wide-test.fr;Durand;\n"
        ";; seul \n",
    )
    s = _summary(invoke("import", "contacts", str(path), "--json"))
    assert (s["read"], s["inserted"], s["rejected"], s["unmapped_columns"]) == (3, 2, 1, ["Commentaire"])
    assert query("SELECT email, last_name FROM contacts ORDER BY 1") == [
        ("a@wide-test.fr", "Dupont"), ("b@wide-test.fr", "Durand")
    ]
    rejects = query("SELECT row_number, raw FROM import_rejects")
    assert [(line, json.loads(raw)) for line, raw in rejects] == [
        (5, {"Email": None, "Nom": None, "Commentaire": " seul "})
    ]


# `é` written as `e` + U+0301 (a Mac, a PDF copy): it looks the same as `é` but compares unequal.
DECOMPOSED = "Pre\u0301nom;Nom;Ville;Email\nHe\u0301le\u0300ne;Dupont;Montre\u0301al;h@nfd-test.fr\n"


def test_decomposed_accents_are_stored_composed(invoke, write, query):
    for encoding in ("utf-8", "utf-16"):
        path = write(f"mac-{encoding}.csv", DECOMPOSED.replace("h@", f"{encoding}@"), encoding)
        s = _summary(invoke("import", "contacts", str(path), "--json"))
        assert s["unmapped_columns"] == [] and s["inserted"] == 1
    assert query("SELECT DISTINCT first_name, city FROM contacts") == [("Hélène", "Montréal")]


def test_decomposed_accents_in_a_workbook_are_stored_composed(invoke, query, tmp_path):
    import xlsxwriter

    path = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for row, values in enumerate(line.split(";") for line in DECOMPOSED.splitlines()):
        for column, value in enumerate(values):
            sheet.write(row, column, value)
    book.close()
    assert _summary(invoke("import", "contacts", str(path), "--json"))["unmapped_columns"] == []
    assert query("SELECT first_name, city FROM contacts") == [("Hélène", "Montréal")]


def test_a_tag_given_to_an_import_is_checked_like_tag_add(invoke, write, query):
    path = write("tags.csv", "email\nt@tag-test.fr\n")
    refused = invoke("import", "contacts", str(path), "--tag", "bénévoles|2024")
    assert refused.exit_code == 2 and "bénévoles|2024" in refused.stderr
    _summary(invoke("import", "contacts", str(path), "--tag", " be\u0301ne\u0301vole  ", "--json"))
    assert query("SELECT tag FROM contact_tags") == [("bénévole",)]
