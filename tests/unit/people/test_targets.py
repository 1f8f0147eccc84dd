"""Resolving --email, --file and --segment to contacts."""

from __future__ import annotations

from datetime import date

import pytest

from cli.errors import InputError, NotFoundError
from cli.settings import Settings
from cli.targets import read_email_file, segment_member_ids, select_contacts
from tests.unit.people.helpers import add_contact, merged_chain, small_base

AS_OF = date(2026, 11, 1)


def test_one_email_per_line_with_header_blank_lines_and_comments(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("email\n\nA@X.fr\n# a comment\n  b@x.fr  \n", encoding="utf-8")
    refs = read_email_file(path)
    assert [r.email for r in refs] == ["A@X.fr", "b@x.fr"]
    assert refs[0].where == "list.txt, line 3"


def test_csv_with_an_email_column_in_any_language(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Nom;Adresse e-mail;Ville\nMartin;helene@x.fr;Lyon\nDurand;;Paris\n", encoding="cp1252")
    # Durand's row has no email: it comes back empty, for the caller to report.
    assert [(r.email, r.where) for r in read_email_file(path)] == [("helene@x.fr", "export.csv, line 2"),
                                                                    ("", "export.csv, line 3")]


def test_mailchimp_header_is_recognised(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("Email Address,First Name\nhelene@x.fr,Hélène\n", encoding="utf-8-sig")
    assert [r.email for r in read_email_file(path)] == ["helene@x.fr"]


def test_csv_without_email_column_names_file_and_headers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,city\nMartin,Lyon\n")
    with pytest.raises(InputError, match=r"bad.csv, line 1: no email column .*name, city"):
        read_email_file(path)


def test_empty_and_missing_files_are_input_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(InputError, match="holds no email"):
        read_email_file(empty)
    with pytest.raises(InputError, match="no such file"):
        read_email_file(tmp_path / "nope.txt")


def test_emails_are_normalised_and_unknown_ones_refused_with_their_line(con, tmp_path):
    ids = small_base(con)
    path = tmp_path / "list.txt"
    path.write_text("HELENE.MARTIN@example.org\nnobody@example.org\n")
    with pytest.raises(NotFoundError, match=r"nobody@example.org \(list.txt, line 2\).*Nothing was changed"):
        select_contacts(con, Settings(), AS_OF, files=[path])
    targets = select_contacts(con, Settings(), AS_OF, files=[path], emails=[" Paul.Durand@Example.org "], skip_unknown=True)
    assert targets.contact_ids == sorted([ids["helene"], ids["paul"]])
    assert [r.email for r in targets.unknown] == ["nobody@example.org"]


def test_nothing_given_is_an_input_error(con):
    with pytest.raises(InputError, match="--email EMAIL, --file FILE or --segment NAME"):
        select_contacts(con, Settings(), AS_OF)


def test_merged_away_email_resolves_to_the_contact_that_absorbed_it(con):
    kept = add_contact(con, email="new@example.org")
    add_contact(con, email="old@example.org", status="merged", merged_into=kept)
    assert select_contacts(con, Settings(), AS_OF, emails=["old@example.org"]).contact_ids == [kept]


def test_erased_or_merged_contacts_are_not_targets(con):
    add_contact(con, email="gone@example.org", status="merged")
    with pytest.raises(NotFoundError):
        select_contacts(con, Settings(), AS_OF, emails=["gone@example.org"])


def _segments(tmp_path, text: str) -> Settings:
    folder = tmp_path / "segments"
    folder.mkdir()
    (folder / "lyon.yaml").write_text(text)
    return Settings(base_dir=tmp_path)


def test_segment_members_use_the_where_and_keep_live_contacts(con, tmp_path):
    ids = small_base(con)
    add_contact(con, email="merged@example.org", city="Lyon", status="merged")
    settings = _segments(tmp_path, "name: lyon\nwhere: {city: Lyon}\n")
    members = segment_member_ids(con, settings, "lyon", AS_OF)
    assert members == sorted([ids["paul"], ids["anne"]])


def test_segment_found_by_its_name_key_and_unknown_one_suggested(con, tmp_path):
    small_base(con)
    settings = _segments(tmp_path, "name: lyonnais\nwhere: {city: Lyon}\n")
    assert len(segment_member_ids(con, settings, "lyonnais", AS_OF)) == 2
    with pytest.raises(InputError, match="lyonn") as error:
        segment_member_ids(con, settings, "lyonn", AS_OF)
    assert "lyonnais" in str(error.value)


def test_segment_file_without_where_is_an_input_error(con, tmp_path):
    settings = _segments(tmp_path, "name: lyon\n")
    with pytest.raises(InputError, match=r"lyon.yaml.*where"):
        segment_member_ids(con, settings, "lyon", AS_OF)


def test_excel_files_with_semicolons_are_read_with_or_without_header(tmp_path):
    # No header line: the column holding addresses is used.
    headerless = tmp_path / "benevoles.csv"
    headerless.write_bytes("Dubois;Zoé;zoe@x.fr\r\nRoux;Stéphane;stephane@x.fr\r\n".encode("cp1252"))
    assert [(r.email, r.where) for r in read_email_file(headerless)] == [
        ("zoe@x.fr", "benevoles.csv, line 1"), ("stephane@x.fr", "benevoles.csv, line 2")]
    # One address per line, with the empty column Excel leaves behind.
    trailing = tmp_path / "liste.csv"
    trailing.write_bytes(b"zoe@x.fr;\r\nstephane@x.fr;\r\n")
    assert [r.email for r in read_email_file(trailing)] == ["zoe@x.fr", "stephane@x.fr"]
    # A header cell holding a comma does not make `,` the delimiter.
    comma = tmp_path / "bureau.csv"
    comma.write_bytes("Nom, prénom;Courriel\r\nDubois, Zoé;zoe@x.fr\r\n".encode("cp1252"))
    assert [(r.email, r.where) for r in read_email_file(comma)] == [("zoe@x.fr", "bureau.csv, line 2")]


def test_a_row_without_email_is_reported_not_dropped(con, tmp_path):
    ids = small_base(con)
    path = tmp_path / "bureau.csv"
    path.write_text("Prénom;Nom;Courriel\nJean;Sans-Mail;\n;;\nPaul;Durand;paul.durand@example.org\n", encoding="cp1252")
    with pytest.raises(NotFoundError, match=r"bureau.csv, line 2 has no email.*Nothing was changed"):
        select_contacts(con, Settings(), AS_OF, files=[path])
    targets = select_contacts(con, Settings(), AS_OF, files=[path], skip_unknown=True)
    assert targets.contact_ids == [ids["paul"]]
    assert [r.where for r in targets.unknown] == ["bureau.csv, line 2"]


def test_quoted_addresses_one_per_line_are_read(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text('"Email"\n"helene@x.fr"\n')
    assert [r.email for r in read_email_file(path)] == ["helene@x.fr"]


def test_addresses_reach_the_contact_through_successive_merges(con):
    # Anne had three records: a@ merged into b@, then b@ merged into c@. Her old
    # addresses still name her, as `contacts show` finds her.
    from cli.contacts import resolve_contact

    _, _, c = merged_chain(con)
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        assert select_contacts(con, Settings(), AS_OF, emails=[email]).contact_ids == [c]
        assert resolve_contact(con, email)[0] == c


def test_the_address_a_merge_replaced_still_names_the_kept_contact(con):
    # The kept record takes the other record's opted-in address; the volunteers'
    # sheet still has the old one.
    from cli.cleaning.merge import PlannedMerge, merge_contacts
    from cli.store import transaction

    kept = add_contact(con, email="marie@old.fr", first_name="Marie", last_name="Dupont")
    other = add_contact(con, email="marie@new.fr", first_name="Marie", last_name="Dupont", consent_email=True)
    with transaction(con):
        merge_contacts(con, [PlannedMerge(kept=kept, absorbed=other, score=0.97, rule="test")])
    assert con.execute("SELECT email FROM contacts WHERE id = ?", [kept]).fetchone() == ("marie@new.fr",)
    assert select_contacts(con, Settings(), AS_OF, emails=["Marie@Old.fr", "marie@new.fr"]).contact_ids == [kept]


def test_excel_unicode_text_is_read(tmp_path):
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
    path = tmp_path / "benevoles.txt"
    path.write_bytes("Nom\tPrénom\tE-mail\r\nRoux\tStéphane\tstephane@x.fr\r\n".encode("utf-16"))
    assert [(r.email, r.where) for r in read_email_file(path)] == [("stephane@x.fr", "benevoles.txt, line 2")]


def test_a_workbook_is_read_from_its_email_column(tmp_path):
    import xlsxwriter

    path = tmp_path / "benevoles.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Bénévoles")
    sheet.write_row(0, 0, ["Liste des bénévoles 2026"])
    sheet.write_row(2, 0, ["Prénom", "Nom", "Adresse e-mail", "Tél"])
    sheet.write_row(3, 0, ["Zoé", "Dubois", "Zoe.Dubois@Gmail.com", 612345678])
    sheet.write_row(4, 0, ["Jean", "Sans"])
    book.close()
    assert [(r.email, r.where) for r in read_email_file(path)] == [
        ("Zoe.Dubois@Gmail.com", "benevoles.xlsx, row 4"), ("", "benevoles.xlsx, row 5")]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(InputError, match="broken.xlsx: cannot be opened as a workbook"):
        read_email_file(broken)
