"""`crmseg report --html` and `crmseg stats` from the command line."""

from __future__ import annotations

import json


def _import(invoke, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("Email;Prénom;Nom\nanne@exemple.fr;Anne;Martin\npaul@exemple.fr;Paul;Roux\n", encoding="utf-8")
    assert invoke("import", "contacts", str(source)).exit_code == 0


def test_report_scores_a_fresh_import_and_writes_one_file(invoke, tmp_path):
    _import(invoke, tmp_path)
    target = tmp_path / "report.html"
    result = invoke("--json", "report", "--html", str(target))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["report"] == str(target)
    assert data["stats"]["contacts_by_stage"] == {"prospect": 2}  # scored without `crmseg score`
    html = target.read_text(encoding="utf-8")
    assert ">prospect</text>" in html and "<script" not in html


def test_report_to_a_missing_folder_is_exit_2(invoke, tmp_path):
    result = invoke("report", "--html", str(tmp_path / "nope" / "r.html"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_stats_shows_stages_and_quality(invoke, tmp_path):
    _import(invoke, tmp_path)
    result = invoke("--json", "stats")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["contacts_by_stage"] == {"prospect": 2}
    assert data["data_quality"]["valid_email"] == 1.0
    assert data["recent_imports"][0]["inserted"] == 2


def test_text_from_the_base_is_printed_as_it_is_not_as_rich_markup(invoke, tmp_path):
    # 20 contacts at least, so that stats advises on the tag everyone carries.
    rows = "".join(f"p{i}@exemple.fr;[bold]Ann[/bold];[/x];[/oops] tag\n" for i in range(20))
    source = tmp_path / "contacts.csv"
    source.write_text("Email;Prénom;Nom;Tags\n" + rows, encoding="utf-8")
    assert invoke("import", "contacts", str(source)).exit_code == 0
    stats = invoke("stats")
    assert stats.exit_code == 0, stats.stderr
    assert "the tag `[/oops] tag` is on 100% of live contacts" in stats.stdout
    show = invoke("contacts", "show", "p1@exemple.fr")
    assert show.exit_code == 0, show.stderr
    assert "[bold]Ann[/bold]" in show.stdout and "[/x]" in show.stdout
