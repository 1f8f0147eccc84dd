"""The CLI contract: what lands on stdout, on stderr, and the exit code.

Modelled on harlequin's test_hsql.py: data only on stdout (``--json``
parses), errors as one paragraph on stderr with the right code, no ANSI
escapes when not on a terminal, and never a traceback for an input error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from cli import __version__
from cli.store import open_database

ANSI = re.compile(r"\x1b\[")


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"crmseg {__version__}"


def test_json_stats_is_one_document_on_stdout(invoke):
    result = invoke("--json", "stats")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["contacts"] == 0
    assert result.stderr == ""


def test_global_options_may_follow_the_command(invoke):
    result = invoke("stats", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["events"] == 0


def test_plain_output_has_no_ansi_escapes(invoke):
    result = invoke("stats")
    assert result.exit_code == 0
    assert "contacts" in result.stdout
    assert not ANSI.search(result.stdout + result.stderr)


def test_quiet_prints_nothing(invoke):
    result = invoke("--quiet", "stats")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_bad_settings_file_is_exit_2_on_stderr(invoke, tmp_path):
    config = tmp_path / "crmseg.yaml"
    config.write_text("cleaning:\n  soft_bounce_limt: 3\n")
    result = invoke("--config", str(config), "stats")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "line 2" in result.stderr and "soft_bounce_limit" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_beside_the_database_are_read(invoke, tmp_path):
    (tmp_path / "crmseg.yaml").write_text("default_region: XXL\n")
    result = invoke("stats")
    assert result.exit_code == 2
    assert "default_region" in result.stderr


def test_bad_as_of_is_a_usage_error(invoke):
    result = invoke("--as-of", "31/12/2026", "stats")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_missing_database_folder_is_exit_2(invoke, tmp_path):
    result = invoke("stats", db=tmp_path / "no" / "such" / "base.duckdb")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_internal_error_prints_log_path_not_traceback(invoke, monkeypatch):
    import cli.reporting.stats as stats_module

    def broken(con, *args, **kwargs):
        secret = "marie.dupont@example.org"  # a local that must not leak
        raise RuntimeError("boom")

    monkeypatch.setattr(stats_module, "collect_stats", broken)
    result = invoke("stats")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    match = re.search(r"details are in (\S+\.log)", result.stderr)
    assert match, result.stderr
    log = open(match.group(1), encoding="utf-8").read()
    assert "RuntimeError: boom" in log
    assert "marie.dupont" not in log  # tracebacks never show local variables


def test_init_creates_project_and_keeps_existing_files(invoke, tmp_path, db_path):
    result = invoke("init")
    assert result.exit_code == 0, result.stderr
    assert db_path.exists()
    assert (tmp_path / "crmseg.yaml").exists()
    assert any((tmp_path / "segments").glob("*.yaml"))
    (tmp_path / "crmseg.yaml").write_text("default_region: BE\n")
    again = invoke("--json", "init")
    assert again.exit_code == 0
    assert str(tmp_path / "crmseg.yaml") in json.loads(again.stdout)["kept"]
    assert (tmp_path / "crmseg.yaml").read_text() == "default_region: BE\n"


def test_second_writer_waits_then_exits_3(db_path):
    holder = open_database(db_path, wait=0)
    try:
        env = dict(os.environ, NO_COLOR="1")
        result = subprocess.run(
            [sys.executable, "-m", "cli", "--db", str(db_path), "--wait", "0.5", "stats"],
            capture_output=True, text=True, timeout=120, env=env,
        )
    finally:
        holder.close()
    assert result.returncode == 3, result.stderr
    assert "busy" in result.stderr
    assert "--wait" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_real_process_output_is_plain_when_piped(db_path):
    result = subprocess.run(
        [sys.executable, "-m", "cli", "--db", str(db_path), "stats"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not ANSI.search(result.stdout)


def test_init_creates_the_project_folder(invoke, tmp_path):
    target = tmp_path / "base" / "crmseg.duckdb"
    result = invoke("init", db=target)
    assert result.exit_code == 0, result.stderr
    assert target.exists() and (tmp_path / "base" / "crmseg.yaml").exists()


def test_a_reader_that_goes_away_is_not_an_error(db_path):
    # `crmseg stats | head -1`: the pipe closes before crmseg writes; exit 1 is kept for bugs.
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    for args in (["stats"], ["--json", "stats"]):
        child = subprocess.Popen(
            [sys.executable, "-m", "cli", "--db", str(db_path), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        child.stdout.close()  # the reader is gone before anything is written
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert err == b""


def test_segment_validate_with_no_segments_says_so(invoke, tmp_path):
    result = invoke("segment", "validate")
    assert result.exit_code == 0
    assert "No segments in" in result.stdout and str(tmp_path / "segments") in result.stdout


def test_a_long_import_off_a_terminal_writes_nothing_on_stderr(invoke, tmp_path):
    # From cron any output is mailed: the progress bar is for terminals only (it left a blank line).
    big = tmp_path / "big.csv"
    rows = [f"person{i}@example.org,Prénom{i},Nom{i},{i:05d} rue de la République,Lyon" for i in range(9000)]
    big.write_text("email,first_name,last_name,street,city\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert big.stat().st_size > 512 * 1024
    result = invoke("import", "contacts", str(big))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_crmseg_db_and_config_may_start_with_home(tmp_path, monkeypatch):
    # A crontab's `CRMSEG_DB=~/asso/crmseg.duckdb` reaches crmseg unexpanded.
    from typer.testing import CliRunner

    from cli.main import app

    home = tmp_path / "home"
    (home / "asso").mkdir(parents=True)
    (home / "asso" / "other.yaml").write_text("default_region: BE\n")
    env = {"HOME": str(home), "CRMSEG_DB": "~/asso/crmseg.duckdb", "NO_COLOR": "1"}
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)  # unexpanded, `~` would be a folder here
    result = CliRunner().invoke(app, ["--config", "~/asso/other.yaml", "--json", "init"], env=env)
    assert result.exit_code == 0, result.stderr
    assert (home / "asso" / "crmseg.duckdb").exists()
    assert not (tmp_path / "~").exists()


def test_a_count_of_one_contact_is_singular(invoke, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email\nsolo@count-test.fr\n", encoding="utf-8")
    invoke("import", "contacts", str(people))
    result = invoke("tag", "add", "benevole", "--email", "solo@count-test.fr")
    assert result.exit_code == 0 and "Tag `benevole` added to 1 contact (0 unchanged)." in result.stdout
