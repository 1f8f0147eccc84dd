"""`crmseg init` as a new user runs it: twice, with --config elsewhere, on a project already set up."""

from __future__ import annotations

import json

from cli.settings import load_settings


def test_init_twice_keeps_the_users_files(invoke, tmp_path):
    assert invoke("init").exit_code == 0
    config = tmp_path / "crmseg.yaml"
    segment = next((tmp_path / "segments").glob("*.yaml"))
    config.write_text("default_region: BE\n")
    segment.write_text("# mine\n")
    again = invoke("--json", "init")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["created"] == []
    assert config.read_text() == "default_region: BE\n"
    assert segment.read_text() == "# mine\n"


def test_the_generated_settings_load_and_every_segment_validates(invoke, tmp_path):
    assert invoke("init").exit_code == 0
    settings = load_settings(tmp_path / "crmseg.yaml")
    assert settings.segments_path == (tmp_path / "segments").resolve()
    result = invoke("segment", "validate")
    assert result.exit_code == 0, result.stderr


def test_init_with_config_in_a_folder_that_does_not_exist(invoke, tmp_path):
    config = tmp_path / "conf" / "my.yaml"
    result = invoke("--config", str(config), "init")
    assert result.exit_code == 0, result.stderr  # was an internal error (FileNotFoundError)
    assert config.exists()
    assert any((tmp_path / "conf" / "segments").glob("*.yaml"))
    assert f"--config {config}" in result.stdout  # the next command to type


def test_init_fills_the_segments_folder_an_existing_config_names(invoke, tmp_path):
    (tmp_path / "crmseg.yaml").write_text("segments_dir: lists/definitions\n")
    result = invoke("init")
    assert result.exit_code == 0, result.stderr
    assert any((tmp_path / "lists" / "definitions").glob("*.yaml"))
    assert not (tmp_path / "segments").exists()


def test_init_reports_a_broken_existing_config_before_creating_anything(invoke, tmp_path, db_path):
    (tmp_path / "crmseg.yaml").write_text("cleaning:\n  soft_bounce_limt: 3\n")
    result = invoke("init")
    assert result.exit_code == 2
    assert "line 2" in result.stderr and "soft_bounce_limit" in result.stderr
    assert not db_path.exists()
