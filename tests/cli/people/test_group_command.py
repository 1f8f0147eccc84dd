"""``crmseg group``: exit codes, stdout, stderr, then the database."""

from __future__ import annotations

import json


def test_create_add_show_list_remove_delete(invoke, people, query):
    result = invoke("group", "create", "bureau", "--description", "Le bureau", "--field", "address=3 place X, Lyon")
    assert result.exit_code == 0 and "Group `bureau` created." in result.stdout
    result = invoke("group", "add", "bureau", "-e", "helene.martin@example.org", "-e", "paul.durand@example.org")
    assert result.exit_code == 0 and "2 contacts added to `bureau`" in result.stdout

    shown = invoke("--as-of", "2026-11-01", "group", "show", "bureau")
    assert shown.exit_code == 0
    assert "address: 3 place X, Lyon" in shown.stdout
    assert "helene.martin@example.org" in shown.stdout and "email_open 2026-03-02" in shown.stdout
    assert "2026-12-24" not in shown.stdout  # after --as-of

    data = json.loads(invoke("--as-of", "2026-11-01", "group", "show", "bureau", "--json").stdout)
    assert data["fields"] == {"address": "3 place X, Lyon"} and data["member_count"] == 2

    listed = json.loads(invoke("group", "list", "--json").stdout)["groups"]
    assert [(g["name"], g["members"]) for g in listed] == [("bureau", 2)]

    assert invoke("group", "remove", "bureau", "-e", "paul.durand@example.org").exit_code == 0
    assert query("SELECT contact_id FROM group_members") == [(people["helene"],)]

    refused = invoke("group", "delete", "bureau")
    assert refused.exit_code == 2 and "pass --force" in refused.stderr
    assert invoke("group", "delete", "bureau", "--force").exit_code == 0
    assert query("SELECT count(*) FROM groups") == [(0,)]


def test_update_changes_fields(invoke, people):
    invoke("group", "create", "bureau", "--field", "address=3 place X")
    result = invoke("group", "update", "bureau", "--field", "address=", "--field", "notes=monthly", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["fields"] == {"notes": "monthly"}


def test_unknown_group_exits_2_with_suggestion(invoke, people, query):
    invoke("group", "create", "bureau")
    for args in (["show", "burau"], ["add", "burau", "-e", "paul.durand@example.org"], ["delete", "burau"],
                 ["remove", "burau", "-e", "paul.durand@example.org"]):
        result = invoke("group", *args)
        assert result.exit_code == 2, args
        assert "no group `burau`. Did you mean `bureau`?" in result.stderr
    assert query("SELECT count(*) FROM group_members") == [(0,)]


def test_bad_input_exits_2(invoke, people):
    assert "exists already" in invoke("group", "create", "x").stderr + invoke("group", "create", "x").stderr
    result = invoke("group", "create", "y", "--field", "no-equals-sign")
    assert result.exit_code == 2 and "key=value" in result.stderr
    result = invoke("group", "create", " ")
    assert result.exit_code == 2 and "group name is empty" in result.stderr
    result = invoke("group", "add", "x", "-e", "nobody@example.org")
    assert result.exit_code == 2 and "no contact has the email nobody@example.org" in result.stderr


def test_skip_unknown_names_what_it_skipped(invoke, people, query, tmp_path):
    # A sheet saved by Excel (Windows-1252, `;`), with a member who has no email and a typo.
    sheet = tmp_path / "conseil.csv"
    sheet.write_bytes("Prénom;Nom;Courriel\r\nHélène;Martin;Helene.Martin@example.org\r\nJean;Sans-Mail;\r\n"
                      "Paul;Durand;paul.durand@exemple.org\r\n".encode("cp1252"))
    invoke("group", "create", "Conseil d'administration")
    refused = invoke("group", "add", "Conseil d'administration", "--file", str(sheet))
    assert refused.exit_code == 2 and "Traceback" not in refused.stderr
    assert "paul.durand@exemple.org (conseil.csv, line 4)" in refused.stderr
    assert "conseil.csv, line 3 has no email" in refused.stderr
    assert query("SELECT count(*) FROM group_members") == [(0,)]

    result = invoke("--json", "group", "add", "Conseil d'administration", "--file", str(sheet), "--skip-unknown")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["unknown_emails"]) == (1, 2)
    assert report["skipped"] == [{"email": None, "where": "conseil.csv, line 3", "erased": False},
                                 {"email": "paul.durand@exemple.org", "where": "conseil.csv, line 4", "erased": False}]
    text = invoke("group", "add", "Conseil d'administration", "--file", str(sheet), "--skip-unknown")
    assert "paul.durand@exemple.org (conseil.csv, line 4)" in text.stdout
    assert query("SELECT contact_id FROM group_members") == [(people["helene"],)]


def test_an_erased_person_does_not_come_back_into_a_group(invoke, people, query, tmp_path):
    invoke("group", "create", "bureau")
    assert invoke("group", "add", "bureau", "--email", "paul.durand@example.org").exit_code == 0
    assert invoke("gdpr", "forget", "paul.durand@example.org", "--no-compact").exit_code == 0
    assert query("SELECT count(*) FROM group_members") == [(0,)]
    # An old list still holds his address.
    sheet = tmp_path / "bureau.txt"
    sheet.write_text("email\nPaul.Durand@example.org\nhelene.martin@example.org\n")
    refused = invoke("group", "add", "bureau", "--file", str(sheet))
    assert refused.exit_code == 2
    assert "Paul.Durand@example.org (bureau.txt, line 2: erased by gdpr forget)" in refused.stderr
    result = invoke("--json", "group", "add", "bureau", "--file", str(sheet), "--skip-unknown")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["skipped"] == [
        {"email": "Paul.Durand@example.org", "where": "bureau.txt, line 2", "erased": True}]
    assert query("SELECT contact_id FROM group_members") == [(people["helene"],)]
