"""What an emailing tool says about an address (unsubscribed, cleaned, blocklisted) and the legal basis.

QA's cases: Mailchimp's unsubscribed and cleaned audience exports, a Brevo
file with ``BLACKLISTED``, a HubSpot export with ``Unsubscribed from all
email`` and ``Email hard bounce reason``. None of them may reach an email
list, right after the import and before any ``clean``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

MC_UNSUB = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,"
    "GMTOFF,DSTOFF,TIMEZONE,CC,REGION,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,"
    "UNSUB_REASON_OTHER,LEID,EUID,NOTES,TAGS\n"
    "unsub@mc-user.fr,Uma,Unsub,1,2023-01-01 10:00:00,,2023-01-01 10:01:00,,,,,,,FR,,2024-05-05 10:00:00,"
    "Newsletter mai,abc123,NORMAL,,1,a,,newsletter\n"
)
MC_CLEANED = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,"
    "GMTOFF,DSTOFF,TIMEZONE,CC,REGION,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID,LEID,EUID,NOTES,TAGS\n"
    "cleaned@mc-user.fr,Cleo,Cleaned,1,2023-01-01 10:00:00,,2023-01-01 10:01:00,,,,,,,FR,,2024-05-05 10:00:00,"
    "Newsletter mai,abc123,1,a,,newsletter\n"
)
BREVO_BL = "EMAIL;PRENOM;NOM;OPT_IN;BLACKLISTED\ndave@brevo-user.fr;Dave;Blk;Yes;Yes\nok@brevo-user.fr;Ok;Fine;Yes;No\n"
HUBSPOT = (
    "First Name,Last Name,Email,Marketing contact status,Unsubscribed from all email,Email hard bounce reason,"
    "Legal basis for processing contact's data\n"
    "Hub,Unsub,hub-unsub@hub-test.com,Marketing contact,true,,Freely given consent from contact\n"
    "Hub,Bounce,hub-bounce@hub-test.com,Marketing contact,,550 mailbox does not exist,Legitimate interest \u2013 existing customer\n"
    "Hub,Fine,hub-fine@hub-test.com,Marketing contact,false,,Legitimate interest \u2013 prospect/lead\n"
    "Hub,Billing,hub-billing@hub-test.com,Non-marketing contact,false,,Performance of a contract\n"
)
EMAIL_ALL = "name: everyone\npurpose: email\nwhere: {all: []}\n"


@pytest.fixture
def segment_out(invoke, project: Path, tmp_path: Path):
    """Run an email-purpose segment of everyone; return the exported emails."""
    (project / "segments").mkdir(exist_ok=True)
    (project / "segments" / "everyone.yaml").write_text(EMAIL_ALL, encoding="utf-8")

    def _run() -> list[str]:
        out = tmp_path / "everyone.csv"
        result = invoke("segment", "run", "everyone", "--out", str(out))
        assert result.exit_code == 0, result.stderr
        with open(out, encoding="utf-8-sig", newline="") as handle:
            return sorted(row["email"] for row in csv.DictReader(handle))

    return _run


def _import(invoke, path: Path, *extra: str) -> dict:
    result = invoke("import", "contacts", str(path), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["imports"][0]


def test_mailchimp_unsubscribed_export_is_suppressed_at_once(invoke, write, query, segment_out):
    _import(invoke, write("mc_unsub.csv", MC_UNSUB))
    assert segment_out() == []
    assert query("SELECT status, status_reason, consent_email, consent_withdrawn_at::VARCHAR FROM contacts") == [
        ("suppressed", "unsubscribe", False, "2024-05-05 10:00:00")
    ]
    assert query("SELECT type, occurred_at::VARCHAR, campaign FROM events") == [
        ("unsubscribe", "2024-05-05 10:00:00", "Newsletter mai")
    ]
    assert query("SELECT reason, source FROM suppressions") == [("unsubscribe", "import:1")]


def test_mailchimp_cleaned_export_records_a_hard_bounce(invoke, write, query, segment_out):
    _import(invoke, write("mc_cleaned.csv", MC_CLEANED))
    assert segment_out() == []
    assert query("SELECT status, status_reason FROM contacts") == [("suppressed", "hard_bounce")]
    assert query("SELECT type, occurred_at::VARCHAR FROM events") == [("hard_bounce", "2024-05-05 10:00:00")]
    assert query("SELECT reason FROM suppressions") == [("hard_bounce",)]


def test_brevo_blocklisted_contact_is_unsubscribed_the_others_stay(invoke, write, query, segment_out):
    _import(invoke, write("brevo_bl.csv", BREVO_BL))
    assert segment_out() == ["ok@brevo-user.fr"]
    rows = query("SELECT email, status, consent_email, consent_withdrawn_at IS NOT NULL FROM contacts ORDER BY email")
    assert rows == [("dave@brevo-user.fr", "suppressed", False, True), ("ok@brevo-user.fr", "active", True, False)]
    assert query("SELECT count(*) FROM events WHERE type = 'unsubscribe'") == [(1,)]


def test_unsubscribe_export_suppresses_a_contact_already_in_the_base(invoke, write, query, segment_out):
    _import(invoke, write("audience.csv", "Email Address,First Name,OPTIN_TIME\nunsub@mc-user.fr,Uma,2023-01-01 10:00:00\n"))
    assert segment_out() == ["unsub@mc-user.fr"]
    # --on-conflict keep leaves the fields alone, never the unsubscribe.
    _import(invoke, write("mc_unsub.csv", MC_UNSUB), "--on-conflict", "keep")
    assert segment_out() == []
    assert query("SELECT count(*), min(status) FROM contacts") == [(1, "suppressed")]
    # A later audience export that still lists the address as subscribed does not bring it back.
    _import(invoke, write("audience2.csv", "Email Address,First Name,OPTIN_TIME\nunsub@mc-user.fr,Uma,2023-01-01 10:00:00\n\n"))
    assert segment_out() == []


def test_hubspot_status_columns_and_legal_basis(invoke, write, query, segment_out):
    _import(invoke, write("hubspot.csv", HUBSPOT), "--preset", "hubspot")
    rows = query("SELECT email, status, status_reason, consent_email, consent_basis FROM contacts ORDER BY email")
    assert rows == [
        ("hub-billing@hub-test.com", "active", None, False, "contract"),
        ("hub-bounce@hub-test.com", "suppressed", "hard_bounce", None, "legitimate_interest"),
        ("hub-fine@hub-test.com", "active", None, None, "legitimate_interest"),
        ("hub-unsub@hub-test.com", "suppressed", "unsubscribe", False, "consent"),
    ]
    # Legitimate interest makes an address emailable; a non-marketing contact is not.
    assert segment_out() == ["hub-fine@hub-test.com"]


def test_status_column_values_in_several_languages(invoke, write, query, segment_out):
    text = (
        "e-mail;voornaam;status\n"
        "a@nl-test.nl;A;afgemeld\nb@nl-test.nl;B;ingeschreven\nc@nl-test.nl;C;cleaned\nd@nl-test.nl;D;vielleicht\n"
    )
    summary = _import(invoke, write("nl.csv", text))
    assert summary["issues"] == 1
    assert query("SELECT email, status_reason FROM contacts WHERE status = 'suppressed' ORDER BY 1") == [
        ("a@nl-test.nl", "unsubscribe"), ("c@nl-test.nl", "hard_bounce")
    ]
    assert query("SELECT value, reason LIKE 'not an email status%' FROM import_issues") == [("vielleicht", True)]


def test_french_unsubscribe_date_column_withdraws_consent(invoke, write, query):
    text = "email;prénom;opt-in;date de désinscription\nx@fr-test.fr;X;oui;12/03/2025\ny@fr-test.fr;Y;oui;\n"
    _import(invoke, write("fr.csv", text))
    assert query("SELECT email, status, consent_email, consent_withdrawn_at::VARCHAR FROM contacts ORDER BY 1") == [
        ("x@fr-test.fr", "suppressed", False, "2025-03-12 00:00:00"), ("y@fr-test.fr", "active", True, None),
    ]


def test_dry_run_of_an_unsubscribe_export_changes_nothing(invoke, write, query):
    result = invoke("import", "contacts", str(write("mc_unsub.csv", MC_UNSUB)), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert query("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM suppressions), (SELECT count(*) FROM events)") == [(0, 0, 0)]


def test_legal_basis_column_values_are_normalised_and_unknown_ones_are_issues(invoke, write, query):
    text = (
        "email;base légale\n"
        "m1@asso-test.fr;adhésion\nm2@asso-test.fr;Intérêt légitime\nm3@asso-test.fr;contrat\n"
        "m4@asso-test.fr;Consentement\nm5@asso-test.fr;on verra\n"
    )
    summary = _import(invoke, write("basis.csv", text))
    assert summary["issues"] == 1
    assert query("SELECT email, consent_basis FROM contacts ORDER BY 1") == [
        ("m1@asso-test.fr", "membership"), ("m2@asso-test.fr", "legitimate_interest"), ("m3@asso-test.fr", "contract"),
        ("m4@asso-test.fr", "consent"), ("m5@asso-test.fr", None),
    ]
    assert query("SELECT column_name, value FROM import_issues") == [("base légale", "on verra")]


def test_legal_basis_and_withdrawal_in_dutch_and_german(invoke, write, query):
    text = "E-mailadres\tRechtsgrond\tconsent withdrawn at\np@nl-test.nl\tlidmaatschap\t2025-01-02\n"
    _import(invoke, write("nl.tsv", text))
    assert query("SELECT consent_basis, consent_withdrawn_at::VARCHAR FROM contacts") == [("membership", "2025-01-02 00:00:00")]
    _import(invoke, write("de.csv", "E-Mail-Adresse;Rechtsgrundlage\nq@de-test.de;Berechtigtes Interesse\n"))
    assert query("SELECT consent_basis FROM contacts WHERE email = 'q@de-test.de'") == [("legitimate_interest",)]


def test_legal_basis_fill_and_update(invoke, write, query):
    _import(invoke, write("a.csv", "email;opt-in\nz@fr-test.fr;oui\n"))
    assert query("SELECT consent_basis FROM contacts") == [("consent",)]
    _import(invoke, write("b.csv", "email;legal basis\nz@fr-test.fr;membership\n"))
    assert query("SELECT consent_basis FROM contacts") == [("consent",)]
    _import(invoke, write("c.csv", "email;legal basis\nz@fr-test.fr;membership\n\n"), "--on-conflict", "update")
    assert query("SELECT consent_basis FROM contacts") == [("membership",)]


def test_crm_opt_out_flags_withdraw_consent(invoke, write, query):
    # CiviCRM (Do Not Email, No Bulk Emails), Salesforce (Email Opt Out), NationBuilder (do_not_contact):
    # a flagged person was stored as an active, mailable contact.
    civicrm = (
        "Contact ID,Contact Type,Display Name,First Name,Last Name,Email,Do Not Email,Do Not Phone,"
        "No Bulk Emails (User Opt Out),Is Deceased\n"
        "12,Individual,John Smith,John,Smith,john@civi-test.org,0,0,1,0\n"
        "13,Individual,Ann Lee,Ann,Lee,ann@civi-test.org,1,0,0,0\n"
        "14,Individual,Ok Fine,Ok,Fine,ok@civi-test.org,0,0,0,0\n"
    )
    s = _import(invoke, write("civicrm.csv", civicrm))
    assert s["mapped_columns"]["Do Not Email"] == "blocklisted"
    assert s["mapped_columns"]["No Bulk Emails (User Opt Out)"] == "unsubscribed"
    salesforce = "First Name,Last Name,Email,Email Opt Out\nJane,Doe,jane@sf-test.com,1\nJoe,Roe,joe@sf-test.com,0\n"
    _import(invoke, write("salesforce.csv", salesforce))
    nation = "first_name,last_name,email,email_opt_in,do_not_contact\nRaj,Patel,raj@nb-test.com,false,true\n"
    _import(invoke, write("nationbuilder.csv", nation))
    assert query("SELECT email, consent_email FROM contacts WHERE status = 'suppressed' ORDER BY 1") == [
        ("ann@civi-test.org", False), ("jane@sf-test.com", False), ("john@civi-test.org", False), ("raj@nb-test.com", False)
    ]
    assert query("SELECT email FROM contacts WHERE status = 'active' ORDER BY 1") == [("joe@sf-test.com",), ("ok@civi-test.org",)]
    assert query("SELECT count(*) FROM events WHERE type = 'unsubscribe'") == [(4,)]


def test_a_spam_flag_alone_withdraws_email_consent(invoke, write, query, segment_out):
    # Mailjet's flags, no status column: the complaint withdraws consent as the README says.
    text = "Email,unsub,Spam\nspam@mj-test.fr,false,true\nok@mj-test.fr,false,false\n"
    _import(invoke, write("mailjet.csv", text))
    assert query("SELECT email, status, status_reason, consent_email, consent_withdrawn_at IS NOT NULL FROM contacts "
                 "ORDER BY email") == [
        ("ok@mj-test.fr", "active", None, None, False), ("spam@mj-test.fr", "suppressed", "spam_complaint", False, True),
    ]
    assert query("SELECT type FROM events") == [("spam_complaint",)]
