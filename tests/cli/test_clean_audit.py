"""``crmseg clean`` and ``crmseg dupes`` as a user runs them, checked against the base itself."""

from __future__ import annotations


def test_undo_of_an_unknown_merge_names_the_option_that_lists_merges(invoke):
    result = invoke("dupes", "undo", "999")
    assert result.exit_code == 2
    assert "`crmseg dupes list --merges`" in result.stderr
    assert invoke("dupes", "list", "--merges").exit_code == 0
