"""Resolving --email, --file and --segment to contacts."""

from __future__ import annotations

from datetime import date

import pytest

from cli.errors import InputError, NotFoundError
from cli.settings import Settings
from cli.targets import read_email_file, segment_member_ids, select_contacts
from tests.unit.people.helpers import add_contact, small_base

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
    assert [r.email for r in read_email_file(path)] == ["helene@x.fr"]


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
