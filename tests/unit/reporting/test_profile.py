"""Segment profile figures against the hand-made base."""

from __future__ import annotations

from cli.reporting.profile import Profile, Share, persona_sentence, profile_members
from cli.settings import Settings

from .conftest import AS_OF

SETTINGS = Settings.model_validate({"fields": {"interests": {"type": "multiselect", "options": ["animaux", "education", "environnement"]}}})


def _profile(con, ids):
    return profile_members(con, "SELECT unnest($ids::BIGINT[]) AS id", {"ids": ids}, settings=SETTINGS, as_of=AS_OF)


def test_profile_of_two_donors(small_base):
    profile = _profile(small_base, [1, 2])
    assert profile.size == 2
    assert profile.base_size == 5
    # members: two women; base genders among live contacts: F (1, 2, 3, 5) and M (4)
    assert {s.value: (s.members, s.base) for s in profile.gender} == {"F": (1.0, 0.8), "M": (0.0, 0.2)}
    # ages at 2026-11-20: Anne 46, Béa 40 (birthday 31/12 not yet reached)
    assert profile.median_age == 43.0
    assert _profile(small_base, [2]).median_age == 40.0  # full years, as the segment field `age`
    bands = {s.value: s.members for s in profile.age_bands}
    assert bands["35–49"] == 1.0 and sum(bands.values()) == 1.0
    assert profile.regions[0].value == "Auvergne-Rhône-Alpes" and profile.regions[0].members == 1.0
    assert profile.tags[0].value == "newsletter" and profile.tags[0].members == 1.0
    interests = {s.value: s.members for s in profile.interests["interests"]}
    assert interests == {"animaux": 1.0, "education": 0.5, "environnement": 0.0}
    # gifts up to as-of: 30, 50 (Anne), 20 (Béa); the 999 after as-of is ignored
    assert profile.giving["donors"] == 2
    assert profile.giving["median_gift"] == 30.0
    assert profile.engagement["opened_last_6_months"] == 0.5  # Anne opened in September
    assert profile.persona.startswith("Mostly women (100%) aged 35–49 in Auvergne-Rhône-Alpes")
    assert "animaux" in profile.persona


def test_empty_segment_profile(small_base):
    profile = _profile(small_base, [])
    assert profile.size == 0
    assert profile.persona == "This segment has no members."


def test_persona_mentions_strongest_traits():
    profile = Profile(
        size=10, base_size=100,
        gender=[Share("F", 0.7, 0.5)],
        age_bands=[Share("35–49", 0.6, 0.3), Share("65+", 0.1, 0.2)],
        regions=[Share("Île-de-France", 0.5, 0.2)],
        giving={"donors": 8, "donor_share": 0.8, "median_gift": 30.0, "gifts_per_year": 2.0},
        engagement={"opened_last_6_months": 0.6, "opened_last_6_months_base": 0.3},
    )
    sentence = persona_sentence(profile)
    assert sentence.startswith("Mostly women (70%) aged 35–49 in Île-de-France")
    assert "median gift of €30" in sentence and "about 2 gifts a year" in sentence
    assert "most open emails" in sentence


def test_persona_invents_no_trait_the_members_lack():
    profile = Profile(
        size=3, base_size=100,
        gender=[Share("F", 0.0, 0.6), Share("M", 0.0, 0.4)],
        age_bands=[Share("35–49", 0.0, 0.5), Share("65+", 0.0, 0.5)],
        regions=[Share("Bretagne", 0.0, 0.2)],
        giving={"donors": 0},
        engagement={"opened_last_6_months": 0.0, "opened_last_6_months_base": 0.3},
    )
    sentence = persona_sentence(profile)
    assert sentence.startswith("Contacts; no gifts yet")
    for invented in ("women", "men", "aged", "regions", "Bretagne"):
        assert invented not in sentence
