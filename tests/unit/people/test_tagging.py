"""Tags: names, idempotent adds, removes, counts, and the advice in stats."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from cli.errors import InputError, NotFoundError
from cli.reporting.stats import collect_stats
from cli.reporting.tags import TAG_FIELD_SHARE, tag_advice
from cli.tagging import add_tag, clean_tag_name, list_tags, remove_tag
from tests.unit.people.helpers import add_contact, small_base


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_empty_tag_name_is_refused(name):
    with pytest.raises(InputError, match="tag name is empty"):
        clean_tag_name(name)


@pytest.mark.parametrize("name", ["a|b", "a;b", "a,b", "a\x01b"])
def test_tag_names_with_separators_are_refused(name):
    with pytest.raises(InputError, match="separate tags"):
        clean_tag_name(name)


@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and not set(t) & set("|;,")
                                                 and all(ord(c) >= 32 for c in t)))
@hsettings(max_examples=60)
def test_cleaning_a_tag_name_twice_changes_nothing(name):
    once = clean_tag_name(name)
    assert clean_tag_name(once) == once


def test_a_tag_typed_with_decomposed_accents_is_the_same_tag(con):
    ids = small_base(con)
    add_tag(con, "bénévole", [ids["helene"]])
    again = add_tag(con, "be\u0301ne\u0301vole", [ids["helene"]])
    assert (again.tag, again.changed, again.unchanged) == ("bénévole", 0, 1)


def test_add_is_idempotent_and_counts_what_changed(con):
    ids = small_base(con)
    first = add_tag(con, "benevole", [ids["helene"], ids["paul"]])
    again = add_tag(con, " benevole ", [ids["helene"], ids["anne"]])
    assert (first.changed, first.unchanged) == (2, 0)
    assert (again.changed, again.unchanged) == (1, 1)
    rows = con.execute("SELECT contact_id FROM contact_tags WHERE tag = 'benevole' ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == sorted(ids.values())


def test_remove_takes_the_tag_off_only_the_targets(con):
    ids = small_base(con)
    add_tag(con, "vip", list(ids.values()))
    change = remove_tag(con, "vip", [ids["paul"]])
    assert change.changed == 1
    assert {r["tag"]: r["contacts"] for r in list_tags(con)} == {"vip": 2}


def test_removing_a_tag_nobody_has_is_an_error_with_a_suggestion(con):
    ids = small_base(con)
    add_tag(con, "newsletter", [ids["paul"]])
    with pytest.raises(NotFoundError, match="no contact has the tag `newsleter`.*Did you mean `newsletter`"):
        remove_tag(con, "newsleter", [ids["paul"]])


def test_list_counts_live_contacts_only(con):
    ids = small_base(con)
    merged = add_contact(con, email="m@example.org", status="merged")
    add_tag(con, "a", [ids["helene"], ids["paul"], merged])
    add_tag(con, "b", [ids["paul"]])
    tags = list_tags(con)
    assert [(t["tag"], t["contacts"]) for t in tags] == [("a", 2), ("b", 1)]
    assert tags[0]["share"] == pytest.approx(2 / 3, abs=1e-3)


def test_tag_on_more_than_30_percent_of_live_contacts_is_flagged_in_stats(con):
    ids = [add_contact(con, email=f"p{i}@example.org") for i in range(40)]
    add_tag(con, "newsletter", ids[:13])   # 32.5 %
    add_tag(con, "rare", ids[:12])         # 30 %: not more than the threshold
    advice = collect_stats(con)["tag_advice"]
    assert [a["tag"] for a in advice] == ["newsletter"]
    assert "custom field" in advice[0]["advice"]
    assert TAG_FIELD_SHARE == 0.30


def test_no_tag_advice_on_a_tiny_base(con):
    ids = small_base(con)
    add_tag(con, "everyone", list(ids.values()))
    assert tag_advice(con) == []
