"""``crmseg contacts show|find``."""

from __future__ import annotations

import json


def test_show_prints_fields_consent_and_events(invoke, people):
    result = invoke("--as-of", "2026-11-01", "contacts", "show", "Helene.Martin@Example.org")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Hélène" in out and "Besançon" in out
    assert "Mailchimp OPTIN_TIME" in out and "yes: opted in, not suppressed" in out
    assert "donation" in out and "email_click" not in out  # the click is after --as-of


def test_show_json_has_every_section(invoke, people):
    data = json.loads(invoke("--as-of", "2026-11-01", "contacts", "show", "anne@example.org", "--json").stdout)
    assert set(data) >= {"contact", "custom", "tags", "groups", "consent", "scores", "last_events", "segments"}
    assert data["consent"]["emailable"] is False
    assert data["consent"]["emailable_reason"] == "status suppressed (hard_bounce)"


def test_show_unknown_email_exits_2(invoke, people):
    result = invoke("contacts", "show", "nobody@example.org")
    assert result.exit_code == 2
    assert "no contact with the email nobody@example.org" in result.stderr
    assert result.stdout == ""


def test_find_is_accent_and_case_insensitive(invoke, people):
    result = invoke("contacts", "find", "HELENE besancon")
    assert result.exit_code == 0 and "helene.martin@example.org" in result.stdout
    data = json.loads(invoke("contacts", "find", "lyon", "--json").stdout)
    assert sorted(c["last_name"] for c in data["contacts"]) == ["Durand", "Leroy"]
    assert "No contact matches" in invoke("contacts", "find", "zzz").stdout


def test_find_empty_text_exits_2(invoke, people):
    result = invoke("contacts", "find", " ")
    assert result.exit_code == 2 and "give some text" in result.stderr


def test_find_by_phone_whatever_its_spacing(invoke, people):
    for typed in ("06 11 11 11 11", "+33 6 11 11 11 11", "06.11.11.11.11", "11 11 11"):
        data = json.loads(invoke("contacts", "find", typed, "--json").stdout)
        assert [c["email"] for c in data["contacts"]] == ["helene.martin@example.org"], typed
    table = invoke("contacts", "find", "06 11 11 11 11").stdout
    assert f"#{people['helene']}" in table and "+33611111111" in table


def test_show_by_id_or_phone_for_a_contact_without_email(invoke, people, query):
    query("INSERT INTO contacts (first_name, last_name, street, city, phone) "
          "VALUES ('Odette', 'Postal', '3 rue Haute', 'Dole', '+33384000000')")
    odette = query("SELECT id FROM contacts WHERE last_name = 'Postal'")[0][0]
    # `contacts find` gives the id; `show` takes it (with or without #) or the phone.
    assert f"#{odette}" in invoke("contacts", "find", "odette").stdout
    for typed in (f"#{odette}", str(odette), "03 84 00 00 00"):
        data = json.loads(invoke("contacts", "show", typed, "--json").stdout)
        assert data["contact"]["last_name"] == "Postal", typed
    # A merged-away id leads to the contact that absorbed it, and says so.
    query(f"UPDATE contacts SET status = 'merged', merged_into = {people['helene']} WHERE id = {people['paul']}")
    data = json.loads(invoke("contacts", "show", f"#{people['paul']}", "--json").stdout)
    assert data["contact"]["email"] == "helene.martin@example.org" and "merged into" in data["note"]
    for typed, message in (("#99999", "no live contact with the id 99999"), ("Odette", "not an email address, a contact id"),
                           ("04 99 99 99 99", "no contact with the phone +33499999999")):
        result = invoke("contacts", "show", typed)
        assert result.exit_code == 2 and message in result.stderr, typed


def test_show_scores_what_was_imported_since_the_last_scoring(invoke, tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Email;Prénom\nann@example.org;Ann\n", encoding="utf-8")
    gifts = tmp_path / "gifts.csv"
    gifts.write_text("Email;Type;Date;Montant\nann@example.org;don;2026-11-10;50\n", encoding="utf-8")
    assert invoke("import", "contacts", str(contacts)).exit_code == 0
    assert invoke("--as-of", "2026-11-20", "score", "lifecycle").exit_code == 0
    assert invoke("import", "events", str(gifts)).exit_code == 0
    result = invoke("--as-of", "2026-11-20", "--json", "contacts", "show", "ann@example.org")
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)["scores"]
    assert (scores["as_of"], scores["lifecycle_stage"]) == ("2026-11-20", "new_customer")
