"""Resolving --email, --file and --segment to contacts."""

from __future__ import annotations

import sys
import types
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


def test_segment_without_the_engine_is_a_clear_input_error(con, tmp_path, monkeypatch):
    settings = _segments(tmp_path, "where: {city: Lyon}\n")
    monkeypatch.setitem(sys.modules, "cli.segmenting.compiler", None)
    with pytest.raises(InputError, match="needs the segment engine"):
        segment_member_ids(con, settings, "lyon", AS_OF)


def _fake_engine(monkeypatch, seen: list):
    """A stand-in for cli.segmenting.compiler with the agreed interface."""

    class CompiledQuery:
        def __init__(self, sql, params):
            self.sql, self.params = sql, params

    def compile_condition(condition, *, settings, as_of, con=None):
        seen.append((condition, as_of))
        return CompiledQuery("SELECT id AS contact_id FROM contacts WHERE city = $city", {"city": condition["city"]})

    module = types.ModuleType("cli.segmenting.compiler")
    module.compile_condition = compile_condition
    monkeypatch.setitem(sys.modules, "cli.segmenting", types.ModuleType("cli.segmenting"))
    monkeypatch.setitem(sys.modules, "cli.segmenting.compiler", module)


def test_segment_members_use_the_where_and_keep_live_contacts(con, tmp_path, monkeypatch):
    ids = small_base(con)
    add_contact(con, email="merged@example.org", city="Lyon", status="merged")
    settings = _segments(tmp_path, "name: lyon\nwhere: {city: Lyon}\n")
    seen: list = []
    _fake_engine(monkeypatch, seen)
    members = segment_member_ids(con, settings, "lyon", AS_OF)
    assert members == sorted([ids["paul"], ids["anne"]])
    assert seen == [({"city": "Lyon"}, AS_OF)]


def test_segment_found_by_its_name_key_and_unknown_one_suggested(con, tmp_path, monkeypatch):
    small_base(con)
    settings = _segments(tmp_path, "name: lyonnais\nwhere: {city: Lyon}\n")
    _fake_engine(monkeypatch, [])
    assert len(segment_member_ids(con, settings, "lyonnais", AS_OF)) == 2
    with pytest.raises(NotFoundError, match="no segment `lyonn`.*Did you mean `lyon`"):
        segment_member_ids(con, settings, "lyonn", AS_OF)


def test_segment_file_without_where_is_an_input_error(con, tmp_path, monkeypatch):
    settings = _segments(tmp_path, "name: lyon\n")
    _fake_engine(monkeypatch, [])
    with pytest.raises(InputError, match=r"lyon.yaml: a segment needs a `where:` key"):
        segment_member_ids(con, settings, "lyon", AS_OF)


def test_segment_with_the_real_engine(con, tmp_path):
    pytest.importorskip("cli.segmenting.compiler", reason="the segment engine is built in parallel (issue 5)")
    ids = small_base(con)
    settings = _segments(tmp_path, "where: {city: Lyon}\n")
    assert segment_member_ids(con, settings, "lyon", AS_OF) == sorted([ids["paul"], ids["anne"]])
