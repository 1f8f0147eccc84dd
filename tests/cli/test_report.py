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


def test_report_refuses_a_name_that_is_not_html_and_keeps_the_file(invoke, tmp_path):
    assert invoke("init").exit_code == 0
    settings = tmp_path / "crmseg.yaml"
    before = settings.read_text(encoding="utf-8")
    for target in (settings, tmp_path / "contacts.csv"):
        result = invoke("report", "--html", str(target))
        assert result.exit_code == 2, result.stdout
        assert ".html" in result.stderr and "Traceback" not in result.stderr
    assert settings.read_text(encoding="utf-8") == before  # the settings file is not replaced by a web page
    assert not (tmp_path / "contacts.csv").exists()
    assert invoke("report", "--html", str(tmp_path / "RAPPORT.HTM")).exit_code == 0


def test_report_to_a_folder_or_the_database_is_exit_2_with_a_json_error(invoke, tmp_path, db_path):
    _import(invoke, tmp_path)
    for target in (tmp_path, db_path):
        result = invoke("--json", "report", "--html", str(target))
        assert result.exit_code == 2
        assert json.loads(result.stdout)["error"]["exit_code"] == 2
    assert db_path.read_bytes()[8:12] == b"DUCK"


def test_stats_counts_events_up_to_as_of(invoke, tmp_path):
    _import(invoke, tmp_path)
    events = tmp_path / "dons.csv"
    events.write_text("Email;Date;Montant\nanne@exemple.fr;2026-01-10;50\nanne@exemple.fr;2026-03-10;20\n"
                      "paul@exemple.fr;2026-03-11;10\n", encoding="utf-8")
    assert invoke("import", "events", str(events), "--type", "donation").exit_code == 0
    data = json.loads(invoke("--json", "--as-of", "2026-03-10", "stats").stdout)
    assert data["counts"]["events"] == 2  # the gift of 11 March is after the as-of date
    assert data["counts"]["events_after_as_of"] == 1
    assert data["events_by_type"] == {"donation": 2}
    report = json.loads(invoke("--json", "--as-of", "2026-03-10", "report", "--html",
                               str(tmp_path / "r.html")).stdout)
    assert report["stats"]["counts"]["events"] == 2


def _broken_segments(tmp_path):
    folder = tmp_path / "segments"
    folder.mkdir(exist_ok=True)
    (folder / "a.yaml").write_text("where:\n  in_segment: b\n", encoding="utf-8")
    (folder / "b.yaml").write_text("where:\n  in_segment: a\n", encoding="utf-8")
    (folder / "c.yaml").write_text("where: [\n", encoding="utf-8")
    (folder / "d.yaml").write_text('where:\n  "<img src=x onerror=alert(1)>": 1\n', encoding="utf-8")
    (folder / "ok.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")
    (folder / "later.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")


def test_stats_and_report_name_the_segments_that_cannot_run(invoke, tmp_path):
    _import(invoke, tmp_path)
    _broken_segments(tmp_path)
    assert invoke("segment", "run", "ok").exit_code == 0
    result = invoke("--json", "stats")
    assert result.exit_code == 0, result.stderr
    segments = {s["segment"]: s for s in json.loads(result.stdout)["segments"]}
    assert segments["ok"]["members"] == 2 and segments["ok"]["error"] is None
    assert segments["later"]["members"] is None and segments["later"]["error"] is None  # never run
    assert "cycle" in segments["a"]["error"] and "b.yaml" in segments["a"]["error"]
    assert "c.yaml, line" in segments["c"]["error"]
    text = invoke("stats")
    assert text.exit_code == 0
    assert "Segment c cannot run:" in text.stdout and "never run" in text.stdout

    target = tmp_path / "r.html"
    result = invoke("report", "--html", str(target))
    assert result.exit_code == 0, result.stderr
    html = target.read_text(encoding="utf-8")
    assert "<b>a</b>: " in html and "makes a cycle" in html and "Never run: later." in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_stats_counts_erased_records_and_the_report_holds_nothing_of_them(invoke, tmp_path):
    _import(invoke, tmp_path)
    assert invoke("gdpr", "forget", "paul@exemple.fr").exit_code == 0
    data = json.loads(invoke("--json", "stats").stdout)
    assert data["contacts_by_status"] == {"active": 1, "erased": 1}
    assert data["counts"]["contacts"] == 1 and data["data_quality"]["live_contacts"] == 1
    target = tmp_path / "r.html"
    result = invoke("--json", "report", "--html", str(target))
    assert result.exit_code == 0
    for text in (target.read_text(encoding="utf-8"), result.stdout):
        assert "paul" not in text.lower() and "roux" not in text.lower()


def test_report_escapes_text_from_the_base(invoke, tmp_path):
    rows = "".join(f'p{i}@exemple.fr;<script>alert(1)</script>;"""><img src=x onerror=alert(2)>";'
                   f'</style><b>x</b>;<svg onload=alert(3)>{i % 2}\n' for i in range(3))
    source = tmp_path / "contacts.csv"
    source.write_text("Email;Prénom;Nom;Tags;Source\n" + rows, encoding="utf-8")
    assert invoke("import", "contacts", str(source)).exit_code == 0
    target = tmp_path / "r.html"
    assert invoke("report", "--html", str(target)).exit_code == 0
    html = target.read_text(encoding="utf-8")
    assert "&lt;svg onload=alert(3)&gt;0" in html  # the source, as text
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert html.count("</style>") == 1
    # Offline: the page names no URL at all (no script, font, image or stylesheet to fetch).
    assert "http:" not in html and "https:" not in html and "url(" not in html and "src=" not in html


def test_report_data_quality_of_an_empty_base_says_there_is_no_data(invoke, tmp_path):
    assert invoke("init").exit_code == 0
    target = tmp_path / "r.html"
    assert invoke("report", "--html", str(target)).exit_code == 0
    html = target.read_text(encoding="utf-8")
    quality = html[html.index('id="quality"'):]
    assert "Data quality (share of live contacts): no data yet." in quality


def test_segment_sizes_in_stats_are_the_members_exported_and_leave_out_suppressed(invoke, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("Email;Prénom;Consentement\n" + "".join(
        f"p{i}@exemple.fr;P{i};oui\n" for i in range(5)), encoding="utf-8")
    assert invoke("import", "contacts", str(source)).exit_code == 0
    events = tmp_path / "bounces.csv"
    events.write_text("Email;Date\np0@exemple.fr;2026-01-10\n", encoding="utf-8")
    assert invoke("import", "events", str(events), "--type", "hard_bounce").exit_code == 0
    assert invoke("--as-of", "2026-02-01", "clean").exit_code == 0
    (tmp_path / "segments").mkdir(exist_ok=True)
    (tmp_path / "segments" / "tous.yaml").write_text("where: {all: []}\n", encoding="utf-8")
    out = tmp_path / "tous.csv"
    run = invoke("--as-of", "2026-02-01", "segment", "run", "tous", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    exported = out.read_text(encoding="utf-8").strip().splitlines()[1:]
    assert "p0@exemple.fr" not in " ".join(exported)
    data = json.loads(invoke("--json", "--as-of", "2026-02-01", "stats").stdout)
    assert data["contacts_by_status"]["suppressed"] == 1
    assert [(s["segment"], s["members"]) for s in data["segments"]] == [("tous", len(exported))]


def test_stats_shows_the_count_behind_each_share(invoke, tmp_path):
    _import(invoke, tmp_path)
    result = invoke("stats")
    assert result.exit_code == 0
    assert "100% (2)" in result.stdout
