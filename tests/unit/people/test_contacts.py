"""``contacts show`` and ``contacts find`` as library calls."""

from __future__ import annotations

from datetime import date

import pytest

from cli.contacts import contact_profile, find_contacts, resolve_contact
from cli.errors import InputError, NotFoundError
from cli.gdpr import forget_person
from cli.groups import add_members, create_group
from cli.tagging import add_tag
from tests.unit.people.helpers import add_contact, merged_chain, small_base

AS_OF = date(2026, 11, 1)


def test_profile_gathers_everything_about_the_contact(con):
    ids = small_base(con)
    h = ids["helene"]
    add_tag(con, "benevole", [h])
    create_group(con, "bureau")
    add_members(con, "bureau", [h])
    con.execute("INSERT INTO custom_values (contact_id, field, list_value) VALUES (?, 'interests', ['animaux', 'education'])", [h])
    con.execute("INSERT INTO custom_values (contact_id, field, number_value) VALUES (?, 'volunteer_hours', 12)", [h])
    con.execute("INSERT INTO contact_scores (contact_id, as_of, rfm_segment, lead_score) VALUES "
                "(?, '2026-10-01', 'loyal', 20), (?, '2026-12-01', 'champions', 40)", [h, h])
    con.execute("INSERT INTO segment_runs (id, segment, as_of, member_count) VALUES "
                "(1, 'donors', '2026-09-01', 1), (2, 'donors', '2026-10-01', 0), (3, 'lyon', '2026-10-01', 1)")
    con.execute("INSERT INTO segment_members VALUES (1, ?), (3, ?)", [h, h])
    profile = contact_profile(con, h, as_of=AS_OF)
    assert profile["contact"]["email"] == "helene.martin@example.org"
    assert "email_key" not in profile["contact"]
    assert profile["custom"] == {"interests": ["animaux", "education"], "volunteer_hours": 12.0}
    assert profile["tags"] == ["benevole"]
    assert [g["name"] for g in profile["groups"]] == ["bureau"]
    assert profile["scores"]["rfm_segment"] == "loyal"  # the December scores are after the as-of date
    assert [e["type"] for e in profile["last_events"]] == ["email_open", "donation"]
    assert [s["segment"] for s in profile["segments"]] == ["lyon"]  # left `donors` at its last run
    consent = profile["consent"]
    assert (consent["email"], consent["basis"], consent["method"]) == (True, "consent", "Mailchimp OPTIN_TIME")
    assert consent["emailable"] is True


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"consent_email": None}, "no recorded opt-in"),
        ({"consent_email": True, "consent_withdrawn_at": "2026-05-01"}, "consent withdrawn"),
        ({"consent_email": True, "status": "suppressed", "status_reason": "unsubscribe"}, "status suppressed (unsubscribe)"),
    ],
)
def test_consent_says_why_a_contact_cannot_be_emailed(con, fields, reason):
    cid = add_contact(con, email="x@example.org", **fields)
    consent = contact_profile(con, cid, as_of=AS_OF)["consent"]
    assert consent["emailable"] is False and consent["emailable_reason"] == reason


def test_suppression_entries_on_the_contacts_key_are_shown(con):
    cid = add_contact(con, email="x@example.org", consent_email=True)
    con.execute("INSERT INTO suppressions (key, kind, reason, source) SELECT email_key, 'email', 'hard_bounce', 'clean' "
                "FROM contacts WHERE id = ?", [cid])
    consent = contact_profile(con, cid, as_of=AS_OF)["consent"]
    assert [s["reason"] for s in consent["suppressions"]] == ["hard_bounce"]
    assert consent["emailable"] is False


def test_resolve_by_merged_address_and_after_forget(con):
    kept = add_contact(con, email="new@example.org")
    add_contact(con, email="old@example.org", status="merged", merged_into=kept)
    assert resolve_contact(con, "OLD@example.org") == (kept, "old@example.org was merged into this contact")
    with pytest.raises(NotFoundError, match="no contact with the email nobody@example.org"):
        resolve_contact(con, "nobody@example.org")
    forget_person(con, "new@example.org")
    with pytest.raises(NotFoundError, match="was erased"):
        resolve_contact(con, "new@example.org")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("helene", ["Martin"]),
        ("HÉLÈNE", ["Martin"]),
        ("besancon", ["Martin"]),
        ("lyon", ["Durand", "Leroy"]),
        ("paul lyon", ["Durand"]),
        ("DURAND@example", ["Durand"]),
        ("nobody", []),
    ],
)
def test_find_ignores_case_and_accents_and_needs_every_word(con, text, expected):
    small_base(con)
    assert [c["last_name"] for c in find_contacts(con, text)] == expected


def test_find_skips_merged_contacts_and_treats_text_as_data(con):
    small_base(con)
    add_contact(con, email="ghost@example.org", last_name="Martin", status="merged")
    assert [c["last_name"] for c in find_contacts(con, "martin")] == ["Martin"]
    assert find_contacts(con, "' OR 1=1 --") == []
    with pytest.raises(InputError, match="give some text"):
        find_contacts(con, "   ")


def test_show_follows_successive_merges_by_address_and_by_id(con):
    from cli.contacts import resolve_identifier

    a, _, c = merged_chain(con)
    assert resolve_contact(con, "a@example.org") == (c, "a@example.org was merged into this contact")
    assert resolve_identifier(con, f"#{a}", region="FR") == (c, f"contact {a} was merged into this contact")
    assert contact_profile(con, c, as_of=AS_OF)["merged_from"] == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize("text", ["laetitia coeur", "LÆTITIA", "oeuvre lyonnaise", "Œuvre", "strasse"])
def test_find_reads_ligatures_as_people_type_them(con, text):
    add_contact(con, email="l.dubois@example.org", first_name="Lætitia", last_name="Sacré-Cœur",
                organisation="Œuvre lyonnaise pour les bêtes", city="Großstraße")
    assert [c["first_name"] for c in find_contacts(con, text)] == ["Lætitia"]
