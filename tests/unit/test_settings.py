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
