"""Values as a user writes them in a segment file select what the user meant.

Found by a users'-eye audit: YAML reads some unquoted values as something
else than the text typed (``01000`` is the octal 512, ``NO`` is false), and
a few operators checked their operand the wrong way. Each case runs a
segment file's text against a small base and compares the members with the
ones a person picks by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli.errors import SegmentError
from cli.segmenting import compile_segment, load_segment_text
from cli.settings import FieldDefinition, Settings

AS_OF = date(2026, 5, 31)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(base_dir=tmp_path, fields={
        "theme": FieldDefinition(type="select", options=["mensuelle", "trimestrielle"]),
        "interests": FieldDefinition(type="multiselect", options=["animaux", "education"]),
        "email_pro": FieldDefinition(type="email"),
        "mobile": FieldDefinition(type="phone"),
    })


@pytest.fixture
def base(con):
    con.execute("""
        INSERT INTO contacts (id, email, first_name, postal_code, country, job_title, birth_date, status, phone) VALUES
          (1, 'ain@free.fr', 'Anne', '01000', 'FR', 'v1.10', '1950-02-01', 'active', '+33612345678'),
          (2, 'lyon@free.fr', 'Léo', '69003', 'FR', NULL, '2001-07-14', 'active', NULL),
          (3, 'oslo@free.fr', 'Ola', '0150', 'NO', NULL, NULL, 'active', NULL),
          (4, 'paris@free.fr', 'Paul', '75016', 'FR', NULL, NULL, 'active', NULL)
    """)
    con.execute("INSERT INTO custom_values (contact_id, field, text_value) VALUES "
                "(1, 'theme', 'mensuelle'), (2, 'theme', 'trimestrielle'), "
                "(2, 'email_pro', 'leo@asso.fr'), (2, 'mobile', '+33478000001')")
    con.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (1, '2024'), (2, '010')")
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
                "(1, 'donation', '2026-05-01', 10), (2, 'donation', '1990-01-01', 5)")
    return con


def members(con, settings, text: str) -> set[int]:
    spec = load_segment_text("purpose: analysis\n" + text, settings)
    compiled = compile_segment(spec, settings=settings, as_of=AS_OF)
    return {row[0] for row in con.execute(compiled.sql, compiled.params).fetchall()}


@pytest.mark.parametrize("where,expected", [
    # French postal codes of departments 01-09 look like octal numbers to YAML.
    ("postal_code: 01000", {1}),
    ("postal_code: {in: [01000, 69003]}", {1, 2}),
    ("postal_code: {starts_with: 01}", {1, 3}),
    ("postal_code: {starts_with: 0150}", {3}),
    # Norway's country code is a YAML 1.1 boolean.
    ("country: NO", {3}),
    ("country: {in: [NO, FR]}", {1, 2, 3, 4}),
    ("job_title: {ends_with: 1.10}", {1}),
    ("tag: 010", {2}),
    ("tag: 2024", {1}),
])
def test_unquoted_values_compare_as_typed(base, settings, where, expected):
    assert members(base, settings, f"where: {{{where}}}") == expected


@pytest.mark.parametrize("where,expected", [
    # `contains` on a select is a substring (SPEC §5), not one of its options.
    ("theme: {contains: MENS}", {1}),
    ("theme: {starts_with: tri}", {2}),
    ("theme: {matches: '^(men|tri)'}", {1, 2}),
    ("theme: {contains_any: [uel, zzz]}", {1}),
    ("theme: {gte: n}", {2}),
])
def test_a_substring_or_a_pattern_of_a_select_is_not_checked_against_its_options(base, settings, where, expected):
    assert members(base, settings, f"where: {{{where}}}") == expected


@pytest.mark.parametrize("where", [
    "theme: annuelle",
    "theme: {in: [mensuelle, annuelle]}",
    "theme: {ne: annuelle}",
    "interests: {contains: animal}",
    "interests: {contains_any: [animaux, sport]}",
])
def test_a_whole_value_of_a_select_is_still_checked_against_its_options(settings, where):
    with pytest.raises(SegmentError, match="is not an option of"):
        load_segment_text(f"where: {{{where}}}", settings)


@pytest.mark.parametrize("where,expected", [
    # Lengths beyond the calendar reach its first or last day instead of an internal error.
    ("birth_date: {within: 99999 years}", {1, 2}),
    ("birth_date: {older_than: 99999999999 weeks}", set()),
    ("birth_date: {after: -999999999 days}", {1, 2}),
    ("birth_date: {before: +99999 years}", {1, 2}),
    ("event: {type: donation, within: 999999999 days}", {1, 2}),
    ("event: {type: donation, since: -99999 years, until: +99999 years}", {1, 2}),
    ("last_gift_at: {within: 99999 years}", {1, 2}),
])
def test_a_huge_length_of_time_selects_to_the_end_of_the_calendar(base, settings, where, expected):
    assert members(base, settings, f"where: {{{where}}}") == expected


@pytest.mark.parametrize("where,expected", [
    # Emails and phones are stored normalised; a value copied from a mail program or a card finds them.
    ("email: Ain@FREE.fr", {1}),
    ("email: {in: [' LYON@free.fr ', nobody@free.fr]}", {2}),
    ("email: {ne: Ain@Free.fr}", {2, 3, 4}),
    ("email_pro: Leo@Asso.FR", {2}),
    ("phone: 06 12 34 56 78", {1}),
    ("phone: {in: ['0033 6 12 34 56 78']}", {1}),
    ("mobile: 04.78.00.00.01", {2}),
    ("email: {contains: FREE.FR}", {1, 2, 3, 4}),
])
def test_an_email_or_phone_is_compared_in_its_stored_form(base, settings, where, expected):
    assert members(base, settings, f"where: {{{where}}}") == expected


@pytest.mark.parametrize("where", [
    # `é` typed as `e` + U+0301 (a Mac editor) is the `é` import stores.
    "first_name: Le\u0301o",
    "first_name: {in: [Le\u0301o]}",
    "first_name: {starts_with: Le\u0301}",
])
def test_decomposed_accents_in_a_value_match_the_stored_text(base, settings, where):
    assert members(base, settings, f"where: {{{where}}}") == {2}
