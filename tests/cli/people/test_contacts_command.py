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
