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
