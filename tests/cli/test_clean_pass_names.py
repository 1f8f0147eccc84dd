"""``crmseg clean --only/--skip`` as a volunteer types them: case, separators, empty or contradictory lists."""

from __future__ import annotations

import json


def _passes(result) -> list[str]:
    return [p["pass"] for p in json.loads(result.stdout)["passes"]]


def test_pass_names_are_read_in_any_case_and_with_any_usual_separator(invoke):
    result = invoke("--json", "clean", "--only", "Duplicates; INACTIVE", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert _passes(result) == ["duplicates", "inactive"]


def test_an_empty_only_is_an_error_not_a_run_of_every_pass(invoke):
    # `crmseg clean --only "$PASSES"` in a cron script whose variable is empty must not run retention.
    result = invoke("--json", "clean", "--only", "")
    assert result.exit_code == 2
    assert "--only names no pass" in result.stderr and "duplicates" in result.stderr
    assert json.loads(result.stdout)["error"]["exit_code"] == 2


def test_only_and_skip_that_leave_nothing_to_run_exit_2(invoke):
    result = invoke("clean", "--only", "duplicates", "--skip", "duplicates")
    assert result.exit_code == 2
    assert "leaves no pass to run" in result.stderr
    assert "Traceback" not in result.stderr
