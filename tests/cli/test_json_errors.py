"""`--json` failures and usage errors, as a script reading stdout sees them.

SPEC §3: under `--json` every command prints one JSON document on stdout.
A failed command prints `{"error": {"exit_code", "message"}}` there (the
message also goes to stderr as usual), never nothing and never two documents.
"""

from __future__ import annotations

import json
import os
import re

import pytest


def _error_document(result) -> dict:
    document = json.loads(result.stdout)  # exactly one document, nothing else
    return document["error"]


def test_an_input_error_under_json_is_one_document_on_stdout(invoke):
    result = invoke("--json", "contacts", "show", "nobody@example.org")
    assert result.exit_code == 2
    error = _error_document(result)
    assert error["exit_code"] == 2
    assert "nobody@example.org" in error["message"]
    assert "nobody@example.org" in result.stderr


def test_json_given_after_the_command_also_gives_the_error_document(invoke):
    result = invoke("gdpr", "export", "nobody@example.org", "--json")
    assert result.exit_code == 2
    assert _error_document(result)["exit_code"] == 2


@pytest.mark.parametrize("args", [
    ["--json", "--as-of", "2026-13-01", "stats"],
    ["--json", "--nope", "stats"],
    ["--json", "stats", "--nope"],
    ["--json", "import", "contacts"],
])
def test_a_usage_error_under_json_is_one_document_on_stdout(invoke, args):
    result = invoke(*args)
    assert result.exit_code == 2
    assert _error_document(result)["exit_code"] == 2


def test_a_command_that_printed_its_document_adds_no_second_one(invoke, tmp_path):
    (tmp_path / "segments").mkdir()
    result = invoke("--json", "segment", "run", "nosuch")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert "error" not in document and document["runs"][0]["segment"] == "nosuch"


def test_an_internal_error_under_json_gives_the_log(invoke, monkeypatch):
    import cli.reporting.stats as stats_module

    def broken(con, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(stats_module, "collect_stats", broken)
    result = invoke("--json", "stats")
    assert result.exit_code == 1
    error = _error_document(result)
    assert error["exit_code"] == 1 and "bug in crmseg" in error["message"]
    assert "RuntimeError: boom" in open(error["log"], encoding="utf-8").read()


def test_a_bad_as_of_names_the_option(invoke):
    for value in ("2026-13-01", "31/12/2026", "today"):
        result = invoke("--as-of", value, "stats")
        assert result.exit_code == 2
        assert "'--as-of'" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_a_global_option_last_without_its_value_says_so(invoke):
    result = invoke("stats", "--as-of")
    assert result.exit_code == 2
    assert "'--as-of'" in result.stderr and "needs a value" in result.stderr
    assert "No such option" not in result.stderr


def test_internal_error_still_short_when_the_usual_log_folder_is_not_usable(invoke, monkeypatch, tmp_path):
    # On a shared machine another user may own the log folder; here a file takes its name.
    import tempfile

    import cli.reporting.stats as stats_module

    def broken(con, *args, **kwargs):
        raise RuntimeError("boom")

    uid = os.getuid() if hasattr(os, "getuid") else "user"
    temp = tmp_path / "tmp"
    temp.mkdir()
    (temp / "crmseg").write_text("another user's folder")
    (temp / f"crmseg-{uid}").write_text("in the way")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(temp))
    monkeypatch.setattr(stats_module, "collect_stats", broken)
    result = invoke("stats")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    match = re.search(r"details are in (\S+\.log)", result.stderr)
    assert match, result.stderr
    assert "RuntimeError: boom" in open(match.group(1), encoding="utf-8").read()
