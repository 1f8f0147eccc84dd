"""Settings: defaults, strict keys with suggestions, the init template."""

from __future__ import annotations

from importlib import resources

import pytest

from cli.errors import ConfigError
from cli.settings import Settings, load_settings


def test_missing_file_means_defaults(tmp_path):
    settings = load_settings(None, default_dir=tmp_path)
    assert settings.default_region == "FR"
    assert settings.cleaning.soft_bounce_limit == 5
    assert settings.cleaning.inactive_months == 6
    assert settings.duplicates.auto_merge_threshold == 0.95
    assert settings.lifecycle.lost_months == 24
    assert settings.segments_path == (tmp_path / "segments").resolve()


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such settings file"):
        load_settings(tmp_path / "nope.yaml")


def test_unknown_key_names_file_line_and_closest_key(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text("default_region: BE\ncleaning:\n  inactive_month: 3\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert str(path) in message
    assert "line 3" in message
    assert "did you mean `inactive_months`" in message.lower()


def test_bad_value_is_reported_with_its_key(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text("cleaning:\n  role_addresses: delete\n")
    with pytest.raises(ConfigError, match="cleaning.role_addresses"):
        load_settings(path)


def test_custom_fields_are_typed(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text(
        "fields:\n"
        "  interests: {type: multiselect, options: [animaux, environnement]}\n"
        "  member_number: {type: text, external_id: true}\n"
    )
    settings = load_settings(path)
    assert settings.fields["interests"].options == ["animaux", "environnement"]
    assert settings.external_id_fields == ["member_number"]


def test_custom_field_may_not_shadow_a_contact_field(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text("fields:\n  email: {type: text}\n")
    with pytest.raises(ConfigError, match="shadow"):
        load_settings(path)


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text("default_region: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError.__mro__[1], match="line 1"):
        load_settings(path)


def test_init_template_is_valid_and_equals_defaults(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_text((resources.files("cli") / "templates" / "crmseg.yaml").read_text(encoding="utf-8"))
    settings = load_settings(path)
    defaults = Settings()
    assert settings.model_dump() == defaults.model_dump()


def test_an_unknown_purchase_type_is_refused_with_its_line(tmp_path):
    # Misspelt, it would match no event and turn every donor into a prospect.
    path = tmp_path / "crmseg.yaml"
    path.write_text("event_types: [stage]\nscoring:\n  purchase_types:\n    - donaton\n    - stage\n"
                    "cleaning:\n  activity_types: [email_open, clik]\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert f"{path}, line 4" in message and "unknown event type `donaton`" in message
    assert "did you mean `donation`" in message.lower()
    assert f"{path}, line 7" in message and "`clik`" in message
    assert "`stage`" not in message  # a declared type is fine


@pytest.mark.parametrize(
    "text, line, key",
    [("scoring:\n  leads:\n    evaluation_threshold: 70\n    decision_threshold: 60\n", 2, "evaluation_threshold"),
     ("lifecycle:\n  inactive_months: 24\n  lost_months: 12\n", 1, "inactive_months")],
)
def test_reversed_score_thresholds_are_refused(tmp_path, text, line, key):
    path = tmp_path / "crmseg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"line {line}: .*{key} must not exceed"):
        load_settings(path)


# --- what a user writes by hand in crmseg.yaml ------------------------------------------------

def _load(tmp_path, text):
    path = tmp_path / "crmseg.yaml"
    path.write_text(text, encoding="utf-8")
    return path, load_settings(path)


def _refused(tmp_path, text) -> str:
    path = tmp_path / "crmseg.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert str(path) in message
    return message


def test_every_spec_key_is_accepted_with_its_default(tmp_path):
    # SPEC §7's block, as written there.
    text = """\
default_region: FR
segments_dir: segments
list_separator: auto
fields:
  interests: {type: multiselect, options: [animaux, environnement, education]}
  volunteer_days: {type: multiselect, options: [lun, mar, mer, jeu, ven, sam, dim]}
  member_number: {type: text, external_id: true}
  newsletter_theme: {type: select}
cleaning:
  soft_bounce_limit: 5
  inactive_months: 6
  activity_types: [email_open, email_click, donation, purchase, membership, event_attendance, meeting]
  retention_months: null
  role_addresses: flag
duplicates:
  auto_merge_threshold: 0.95
  review_threshold: 0.80
  weights: {name: 0.4, address: 0.2, phone: 0.2, birth_date: 0.2}
scoring:
  purchase_types: [donation, membership, purchase]
  leads:
    evaluation_threshold: 30
    decision_threshold: 60
    rules:
      - {points: 10, when: {job_title: {is_null: false}}}
      - {points: 20, when: {event: {type: email_click, within: 30 days}}}
lifecycle:
  new_customer_days: 90
  inactive_months: 12
  lost_months: 24
"""
    _, settings = _load(tmp_path, text)
    defaults = Settings()
    assert settings.model_dump(exclude={"fields"}) == defaults.model_dump(exclude={"fields"})
    assert settings.external_id_fields == ["member_number"]


def test_a_section_with_every_line_commented_out_means_its_defaults(tmp_path):
    _, settings = _load(tmp_path, "cleaning:\n#  soft_bounce_limit: 3\nfields:\nlifecycle:\n")
    assert settings.cleaning.soft_bounce_limit == 5
    assert settings.fields == {}
    assert settings.lifecycle.lost_months == 24


def test_a_word_for_a_number_is_refused_plainly(tmp_path):
    message = _refused(tmp_path, "cleaning:\n  inactive_months: six\n")
    assert "line 2" in message and "`cleaning.inactive_months`: should be a whole number" in message


def test_true_is_not_a_count(tmp_path):
    message = _refused(tmp_path, "cleaning:\n  soft_bounce_limit: true\n")
    assert "line 2" in message and "not true or false" in message


@pytest.mark.parametrize("value, hint", [("France", "two-letter ISO code"), ("UK", "`GB`"), ("XX", "ISO code")])
def test_default_region_must_be_a_country_phone_numbers_know(tmp_path, value, hint):
    # Not a region, every phone without +country would be left out of its field on import.
    message = _refused(tmp_path, f"default_region: {value}\n")
    assert "line 1" in message and "default_region" in message and hint in message


def test_norway_written_bare_is_explained(tmp_path):
    message = _refused(tmp_path, "default_region: NO\n")
    assert "in quotes, 'NO'" in message
    _, settings = _load(tmp_path, "default_region: 'no'\n")
    assert settings.default_region == "NO"


def test_list_separator_tab_means_the_tab_character(tmp_path):
    _, settings = _load(tmp_path, "list_separator: tab\n")
    assert settings.list_separator == "\t"
    _, settings = _load(tmp_path, "list_separator: ';'\n")
    assert settings.list_separator == ";"


@pytest.mark.parametrize("text, hint", [("list_separator: semicolon\n", "'|' or ';'"),
                                        ("list_separator: |\n", "in quotes, '|'")])
def test_list_separator_that_would_split_words_is_refused(tmp_path, text, hint):
    message = _refused(tmp_path, text)
    assert "line 1" in message and "list_separator" in message and hint in message


def test_memory_limit_error_blames_the_setting_not_the_database(tmp_path):
    message = _refused(tmp_path, "memory_limit: lots\n")
    assert "line 1" in message and "`memory_limit`" in message and "4GB" in message
    _, settings = _load(tmp_path, "memory_limit: 500MB\n")
    assert settings.memory_limit == "500MB"


@pytest.mark.parametrize("name", ["email", "age", "consent_email", "total_given", "lead_score", "unsubscribed"])
def test_a_custom_field_named_like_a_built_in_one_is_refused_at_its_line(tmp_path, name):
    message = _refused(tmp_path, f"fields:\n  interests: {{type: text}}\n  {name}: {{type: text}}\n")
    assert "line 3" in message and f"`fields.{name}`" in message and "built-in" in message


def test_reserved_names_cover_every_built_in_field():
    from cli.fields import CONTACT_FIELDS, DERIVED_FIELDS
    from cli.importing.headers import CONTACT_SYNONYMS, PART_SYNONYMS, STATUS_SYNONYMS
    from cli.settings import RESERVED_FIELD_NAMES

    built_in = set(CONTACT_FIELDS) | set(DERIVED_FIELDS) | set(CONTACT_SYNONYMS) | set(STATUS_SYNONYMS) | set(PART_SYNONYMS)
    assert built_in <= RESERVED_FIELD_NAMES, sorted(built_in - RESERVED_FIELD_NAMES)


def test_two_external_id_fields_are_refused(tmp_path):
    # One external id per contact: two would match a member number against a HubSpot id.
    message = _refused(tmp_path, "fields:\n  member_number: {type: text, external_id: true}\n"
                                 "  hubspot_id: {type: text, external_id: true}\n")
    assert "line 3" in message and "`fields.hubspot_id.external_id`" in message and "`member_number`" in message


def test_numbers_are_select_options(tmp_path):
    _, settings = _load(tmp_path, "fields:\n  rating: {type: select, options: [1, 2, 3]}\n")
    assert settings.fields["rating"].options == ["1", "2", "3"]


@pytest.mark.parametrize("text, line, words", [
    ("fields:\n  x: text\n", 2, "mapping of keys to values"),
    ("lifecycle: 12\n", 1, "mapping of keys to values"),
    ("event_types: petition\n", 1, "should be a list"),
])
def test_wrong_shapes_are_said_in_yaml_words(tmp_path, text, line, words):
    message = _refused(tmp_path, text)
    assert f"line {line}" in message and words in message
    assert "instance of" not in message and "Value error" not in message


def test_an_unknown_weight_is_an_unknown_key_with_a_suggestion(tmp_path):
    message = _refused(tmp_path, "duplicates:\n  weights: {nam: 0.5}\n")
    assert "line 2" in message and "unknown key `duplicates.weights.nam`" in message and "`name`" in message


def test_a_list_for_a_file_is_refused(tmp_path):
    message = _refused(tmp_path, "- default_region: FR\n")
    assert "mapping of keys to values" in message and "not a list" in message


def test_segments_dir_is_relative_to_the_file_and_may_start_with_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path, settings = _load(tmp_path, "segments_dir: lists\n")
    assert settings.segments_path == (tmp_path / "lists").resolve()
    _, settings = _load(tmp_path, "segments_dir: ~/crm/segments\n")
    assert settings.segments_path == (tmp_path / "home" / "crm" / "segments").resolve()


def test_a_multiselect_option_holding_the_separator_is_refused(tmp_path):
    # Split on import into `Protection animale` and `faune`, it could never match a cell.
    text = 'fields:\n  interests:\n    type: multiselect\n    options:\n      - environnement\n      - "Protection animale, faune"\n'
    message = _refused(tmp_path, text)
    assert "line 6" in message and "`Protection animale, faune`" in message and "list_separator" in message
    _, settings = _load(tmp_path, "list_separator: '|'\n" + text)
    assert settings.fields["interests"].options[1] == "Protection animale, faune"


def test_a_settings_file_saved_as_windows_1252_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "crmseg.yaml"
    path.write_bytes("default_region: FR\n# Préférences\n".encode("cp1252"))
    with pytest.raises(ConfigError.__mro__[1]) as error:
        load_settings(path)
    assert f"{path}, line 2" in str(error.value) and "Save it as UTF-8" in str(error.value)
