"""Static groups: fields, membership by command, show with recent events."""

from __future__ import annotations

from datetime import date

import pytest

from cli.errors import InputError, NotFoundError
from cli.groups import (
    add_members,
    create_group,
    delete_group,
    group_by_name,
    list_groups,
    parse_field_pairs,
    remove_members,
    show_group,
    update_group,
)
from tests.unit.people.helpers import small_base


def test_field_pairs_are_parsed_and_bad_ones_refused():
    assert parse_field_pairs(["address=12 rue X, Lyon", "siret = 123=4"]) == {"address": "12 rue X, Lyon", "siret": "123=4"}
    with pytest.raises(InputError, match="key=value"):
        parse_field_pairs(["no-equals"])
    with pytest.raises(InputError, match="key=value"):
        parse_field_pairs(["=value"])


def test_create_keeps_description_and_fields_and_refuses_duplicates(con):
    group = create_group(con, " bureau ", description="Le bureau", fields={"address": "3 place X"})
    assert (group["name"], group["description"], group["fields"]) == ("bureau", "Le bureau", {"address": "3 place X"})
    with pytest.raises(InputError, match="exists already"):
        create_group(con, "bureau")
    with pytest.raises(InputError, match="group name is empty"):
        create_group(con, "  ")


def test_update_sets_and_removes_fields(con):
    create_group(con, "bureau", fields={"address": "3 place X", "notes": "n"})
    group = update_group(con, "bureau", fields={"address": "", "phone": "0102"})
    assert group["fields"] == {"notes": "n", "phone": "0102"}


def test_unknown_group_is_not_found_with_suggestion(con):
    create_group(con, "bureau")
    with pytest.raises(NotFoundError, match="no group `burau`.*Did you mean `bureau`"):
        group_by_name(con, "burau")


def test_membership_changes_only_by_command_and_is_idempotent(con):
    ids = small_base(con)
    create_group(con, "bureau")
    assert add_members(con, "bureau", [ids["helene"], ids["paul"]]).changed == 2
    assert add_members(con, "bureau", [ids["paul"]]).changed == 0
    assert remove_members(con, "bureau", [ids["paul"], ids["anne"]]).changed == 1
    assert [g["members"] for g in list_groups(con)] == [1]


def test_delete_refuses_a_group_with_members_unless_forced(con):
    ids = small_base(con)
    create_group(con, "bureau")
    add_members(con, "bureau", [ids["paul"]])
    with pytest.raises(InputError, match="has 1 members; pass --force"):
        delete_group(con, "bureau")
    assert delete_group(con, "bureau", force=True) == 1
    assert con.execute("SELECT count(*) FROM group_members").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM contacts").fetchone()[0] == 3


def test_show_lists_members_with_their_last_events_up_to_as_of(con):
    ids = small_base(con)
    create_group(con, "bureau", fields={"address": "3 place X"})
    add_members(con, "bureau", [ids["helene"], ids["paul"]])
    group = show_group(con, "bureau", as_of=date(2026, 11, 1), events_per_member=1)
    assert group["member_count"] == 2
    members = {m["email"]: m for m in group["members"]}
    helene = members["helene.martin@example.org"]
    assert helene["event_count"] == 2  # the December click is after the as-of date
    assert [e["type"] for e in helene["last_events"]] == ["email_open"]
    assert members["paul.durand@example.org"]["last_events"][0]["type"] == "meeting"
    assert [m["last_name"] for m in group["members"]] == ["Durand", "Martin"]


def test_show_limit_keeps_the_total(con):
    ids = small_base(con)
    create_group(con, "all")
    add_members(con, "all", list(ids.values()))
    group = show_group(con, "all", as_of=date(2026, 11, 1), limit=2)
    assert (group["member_count"], group["shown"]) == (3, 2)
