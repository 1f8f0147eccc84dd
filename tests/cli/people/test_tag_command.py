"""``crmseg tag``: exit codes, stdout, stderr, then the database."""

from __future__ import annotations

import json


def test_add_by_email_and_file_then_list(invoke, people, query, tmp_path):
    emails = tmp_path / "volunteers.csv"
    emails.write_text("Nom;Courriel\nDurand;PAUL.DURAND@example.org\n", encoding="utf-8")
    result = invoke("tag", "add", "benevole", "--email", "helene.martin@example.org", "--file", str(emails))
    assert result.exit_code == 0, result.stderr
    assert "added to 2 contacts" in result.stdout
    assert query("SELECT contact_id FROM contact_tags WHERE tag = 'benevole' ORDER BY 1") == sorted(
        [(people["helene"],), (people["paul"],)])
    listed = invoke("--json", "tag", "list")
    assert json.loads(listed.stdout)["tags"][0] | {"first_added": None, "last_added": None} == {
        "tag": "benevole", "contacts": 2, "share": 0.6667, "first_added": None, "last_added": None}


def test_remove_reports_counts_as_json(invoke, people):
    invoke("tag", "add", "vip", "--email", "paul.durand@example.org")
    result = invoke("tag", "remove", "vip", "--email", "paul.durand@example.org", "--email", "anne@example.org", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"tag": "vip", "contacts": 2, "removed": 1, "unchanged": 1, "unknown_emails": 0,
                                         "skipped": []}


def test_empty_tag_name_exits_2(invoke, people, query):
    result = invoke("tag", "add", "  ", "--email", "paul.durand@example.org")
    assert result.exit_code == 2
    assert "tag name is empty" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert query("SELECT count(*) FROM contact_tags") == [(0,)]


def test_unknown_email_exits_2_and_changes_nothing(invoke, people, query):
    result = invoke("tag", "add", "vip", "--email", "paul.durand@example.org", "--email", "nobody@example.org")
    assert result.exit_code == 2
    assert "no contact has the email nobody@example.org (--email)" in result.stderr
    assert query("SELECT count(*) FROM contact_tags") == [(0,)]


def test_skip_unknown_acts_on_the_others(invoke, people):
    result = invoke("tag", "add", "vip", "-e", "paul.durand@example.org", "-e", "nobody@example.org", "--skip-unknown")
    assert result.exit_code == 0
    assert "1 emails matched no contact" in result.stdout


def test_no_target_and_missing_file_exit_2(invoke, people, tmp_path):
    result = invoke("tag", "add", "vip")
    assert result.exit_code == 2 and "--email EMAIL, --file FILE or --segment NAME" in result.stderr
    result = invoke("tag", "add", "vip", "--file", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2 and "nope.txt: no such file" in result.stderr


def test_removing_an_unknown_tag_exits_2(invoke, people):
    result = invoke("tag", "remove", "ghost", "--email", "paul.durand@example.org")
    assert result.exit_code == 2 and "no contact has the tag `ghost`" in result.stderr


def test_unknown_segment_exits_2(invoke, people, tmp_path):
    (tmp_path / "segments").mkdir()
    result = invoke("tag", "add", "vip", "--segment", "ghost")
    assert result.exit_code == 2
    assert "segment" in result.stderr and "Traceback" not in result.stderr


def test_stats_advises_turning_a_common_tag_into_a_field(invoke, db_path):
    from cli.store import open_database
    from tests.unit.people.helpers import add_contact

    con = open_database(db_path, wait=0, memory_limit="1GB")
    ids = [add_contact(con, email=f"p{i}@example.org") for i in range(20)]
    con.close()
    path = db_path.parent / "list.txt"
    path.write_text("\n".join(f"p{i}@example.org" for i in range(10)))
    assert invoke("tag", "add", "newsletter", "--file", str(path)).exit_code == 0
    result = invoke("stats")
    assert "the tag `newsletter` is on 50% of live contacts" in result.stdout
    figures = json.loads(invoke("stats", "--json").stdout)
    assert figures["tag_advice"][0]["tag"] == "newsletter"
    assert len(ids) == 20
