"""One test per cleaning rule, on hand-made contact and event histories."""

from __future__ import annotations

from datetime import date

from cli.cleaning import run_cleaning
from cli.settings import CleaningSettings, Settings
from cli.suppression import apply_suppressions, refresh_contact_keys

from .conftest import AS_OF, add_contact, add_events, clean, status_of


def ledger_reasons(con, contact_id):
    return sorted(
        r[0]
        for r in con.execute(
            "SELECT s.reason FROM suppressions s JOIN contacts c ON s.key = c.email_key WHERE c.id = ?", [contact_id]
        ).fetchall()
    )


def test_hard_bounce_suppresses_at_once(con):
    bounced = add_contact(con, email="anne@orange.fr")
    fine = add_contact(con, email="paul@orange.fr")
    add_events(con, bounced, ("email_sent", "2026-10-01"), ("hard_bounce", "2026-10-01"))
    add_events(con, fine, ("email_sent", "2026-10-01"))
    report = clean(con, only=["bounces"]).reports[0]
    assert status_of(con, bounced) == ("suppressed", "hard_bounce")
    assert status_of(con, fine) == ("active", None)
    assert ledger_reasons(con, bounced) == ["hard_bounce"]
    assert report.changed == 1


def test_bounce_after_the_as_of_date_is_ignored(con):
    later = add_contact(con, email="anne@orange.fr")
    add_events(con, later, ("hard_bounce", "2026-12-01"))
    clean(con, only=["bounces"])
    assert status_of(con, later) == ("active", None)


def test_five_soft_bounces_in_a_row_suppress_four_do_not(con):
    four = add_contact(con, email="four@orange.fr")
    five = add_contact(con, email="five@orange.fr")
    add_events(con, four, *[("soft_bounce", f"2026-0{m}-01") for m in range(1, 5)])
    add_events(con, five, *[("soft_bounce", f"2026-0{m}-01") for m in range(1, 6)])
    clean(con, only=["bounces"])
    assert status_of(con, four) == ("active", None)
    assert status_of(con, five) == ("suppressed", "soft_bounce")


def test_an_open_between_soft_bounces_breaks_the_run(con):
    broken = add_contact(con, email="broken@orange.fr")
    add_events(
        con, broken,
        *[("soft_bounce", f"2026-0{m}-01") for m in range(1, 4)],
        ("email_open", "2026-03-15"),
        *[("soft_bounce", f"2026-0{m}-01") for m in range(4, 7)],
    )
    clean(con, only=["bounces"])
    assert status_of(con, broken) == ("active", None)
    limit_three = Settings(cleaning=CleaningSettings(soft_bounce_limit=3))
    clean(con, limit_three, only=["bounces"])
    assert status_of(con, broken) == ("suppressed", "soft_bounce")


def test_unsubscribe_suppresses_and_withdraws_consent(con):
    gone = add_contact(con, email="gone@free.fr", consent_email=True)
    add_events(con, gone, ("email_open", "2026-05-01"), ("unsubscribe", "2026-06-02"))
    clean(con, only=["unsubscribes"])
    assert status_of(con, gone) == ("suppressed", "unsubscribe")
    consent, withdrawn = con.execute(
        "SELECT consent_email, consent_withdrawn_at::DATE FROM contacts WHERE id = ?", [gone]
    ).fetchone()
    assert consent is False and withdrawn == date(2026, 6, 2)
    assert ledger_reasons(con, gone) == ["unsubscribe"]


def test_spam_complaint_suppresses(con):
    angry = add_contact(con, email="angry@free.fr", consent_email=True)
    add_events(con, angry, ("spam_complaint", "2026-09-09"))
    clean(con, only=["complaints"])
    assert status_of(con, angry) == ("suppressed", "spam_complaint")
    assert ledger_reasons(con, angry) == ["spam_complaint"]


def test_activity_seven_months_ago_is_inactive_five_months_is_not(con):
    old = add_contact(con, email="old@free.fr", consent_at=None)
    recent = add_contact(con, email="recent@free.fr", consent_at=None)
    add_events(con, old, ("donation", "2026-04-20"))       # 7 months before 2026-11-20
    add_events(con, recent, ("email_click", "2026-06-20"))  # 5 months before
    report = clean(con, only=["inactive"]).reports[0]
    inactive = dict(con.execute("SELECT id, is_inactive FROM contacts").fetchall())
    assert inactive == {old: True, recent: False}
    assert report.details["flagged"] == 1
    # Reversible: activity arrives, the flag goes.
    add_events(con, old, ("email_open", "2026-11-01"))
    report = clean(con, only=["inactive"]).reports[0]
    assert con.execute("SELECT is_inactive FROM contacts WHERE id = ?", [old]).fetchone()[0] is False
    assert report.details["active_again"] == 1


def test_sent_emails_alone_are_not_activity(con):
    passive = add_contact(con, email="passive@free.fr", consent_at=None)
    add_events(con, passive, ("email_sent", "2026-11-01"), ("web_visit", "2026-11-02"))
    clean(con, only=["inactive"])
    assert con.execute("SELECT is_inactive FROM contacts").fetchone()[0] is True


def test_disposable_reserved_and_impossible_domains_are_invalid(con):
    ids = {
        email: add_contact(con, email=email)
        for email in ["x@mailinator.com", "y@example.com", "z@shop.test", "w@localhost", "v@printer.local",
                      "u@nodot", "t@orange.fr"]
    }
    clean(con, only=["invalid"])
    quality = dict(con.execute("SELECT email, email_quality FROM contacts").fetchall())
    assert quality == {
        "x@mailinator.com": "disposable", "y@example.com": "reserved_domain", "z@shop.test": "reserved_domain",
        "w@localhost": "invalid_domain", "v@printer.local": "reserved_domain", "u@nodot": "invalid_domain",
        "t@orange.fr": None,
    }
    for email, cid in ids.items():
        expected = ("active", None) if email == "t@orange.fr" else ("suppressed", "invalid")
        assert status_of(con, cid) == expected


def test_role_address_is_flagged_or_suppressed_per_settings(con):
    role = add_contact(con, email="info@asso-des-amis.fr")
    person = add_contact(con, email="marie.info@asso-des-amis.fr")
    clean(con, only=["invalid"])
    assert con.execute("SELECT email_quality FROM contacts WHERE id = ?", [role]).fetchone()[0] == "role"
    assert status_of(con, role) == ("active", None)
    assert con.execute("SELECT email_quality FROM contacts WHERE id = ?", [person]).fetchone()[0] is None
    clean(con, Settings(cleaning=CleaningSettings(role_addresses="suppress")), only=["invalid"])
    assert status_of(con, role) == ("suppressed", "role")


def test_retention_erases_old_prospects_only(con):
    settings = Settings(cleaning=CleaningSettings(retention_months=36))
    opener = add_contact(con, email="opener@free.fr", consent_at=None, created_at="2020-01-01")
    clicker = add_contact(con, email="clicker@free.fr", consent_at=None, created_at="2020-01-01")
    donor = add_contact(con, email="donor@free.fr", consent_at=None, created_at="2020-01-01")
    add_events(con, opener, ("email_open", "2026-10-01"))     # an open is not one's own activity
    add_events(con, clicker, ("email_click", "2025-01-01"))
    add_events(con, donor, ("donation", "2019-01-01"))        # a donor is no prospect
    assert clean(con, only=["retention"]).reports[0].changed == 0  # off by default
    report = clean(con, settings, only=["retention"]).reports[0]
    assert report.changed == 1
    assert {r[0] for r in con.execute("SELECT email FROM contacts").fetchall()} == {"clicker@free.fr", "donor@free.fr"}
    erased_key = con.execute("SELECT crmseg_key('opener@free.fr')").fetchone()[0]
    assert con.execute("SELECT reason FROM suppressions WHERE key = ?", [erased_key]).fetchall() == [("erased",)]


def test_retention_replayed_at_an_earlier_date_spares_who_has_been_active_since(con):
    # An erasure cannot be undone: a gift or a click after --as-of keeps the contact, though scores ignore it.
    settings = Settings(cleaning=CleaningSettings(retention_months=36))
    later_donor = add_contact(con, email="later@free.fr", consent_at=None, created_at="2020-01-01")
    later_clicker = add_contact(con, email="click@free.fr", consent_at=None, created_at="2020-01-01")
    idle = add_contact(con, email="idle@free.fr", consent_at=None, created_at="2020-01-01")
    add_events(con, later_donor, ("donation", "2026-12-15"))
    add_events(con, later_clicker, ("email_click", "2027-01-10"))
    add_events(con, idle, ("email_open", "2027-01-10"))  # an open is not one's own activity, then or now
    report = clean(con, settings, only=["retention"]).reports[0]
    assert report.changed == 1
    assert {r[0] for r in con.execute("SELECT email FROM contacts").fetchall()} == {"later@free.fr", "click@free.fr"}


def test_exact_duplicates_are_merged(con):
    first = add_contact(con, email="marie@free.fr", first_name="Marie")
    second = add_contact(con, email="marie@free.fr", last_name="Dupont", phone="+33612345678")
    add_events(con, first, ("donation", "2026-10-01"))
    report = clean(con, only=["duplicates"]).reports[0]
    assert report.details["exact_merged"] == 1
    live = con.execute("SELECT id, first_name, last_name, phone FROM contacts WHERE status = 'active'").fetchall()
    assert len(live) == 1 and live[0][1:] == ("Marie", "Dupont", "+33612345678")
    assert con.execute("SELECT count(*) FROM events WHERE contact_id = ?", [live[0][0]]).fetchone()[0] == 1
    merged = con.execute("SELECT id, merged_into FROM contacts WHERE status = 'merged'").fetchall()
    assert {merged[0][0], merged[0][1]} == {first, second} and merged[0][1] == live[0][0]


def test_fuzzy_duplicates_merge_or_wait_for_review_households_do_not(con):
    base = dict(street="12 rue des Lilas", postal_code="75011", city="Paris")
    marie = add_contact(con, email="marie@free.fr", first_name="Marie", last_name="Dupont", phone="+33612345678",
                        birth_date=date(1980, 1, 2), **base)
    swapped = add_contact(con, email="m.dupont@gmail.com", first_name="DUPONT", last_name="Marie",
                          phone="+33612345678", birth_date=date(1980, 1, 2), **base)
    typo = add_contact(con, email=None, first_name="Marie", last_name="Dupond", **base)
    husband = add_contact(con, email="pierre@free.fr", first_name="Pierre", last_name="Dupont",
                          phone="+33612345678", birth_date=date(1978, 5, 6), **base)
    report = clean(con, only=["duplicates"]).reports[0]
    assert report.details["fuzzy_merged"] >= 1
    statuses = dict(con.execute("SELECT id, status FROM contacts").fetchall())
    assert statuses[husband] == "active"
    assert sorted([statuses[marie], statuses[swapped]]) == ["active", "merged"]
    pending = con.execute("SELECT contact_a, contact_b, score FROM duplicate_pairs WHERE status = 'pending'").fetchall()
    # Marie Dupond with no phone, email or birth date: likely the same person, left for review.
    assert statuses[typo] == "active"
    assert [p for p in pending if typo in p[:2]] and all(0.8 <= p[2] < 0.95 for p in pending)
    assert not any(husband in pair[:2] for pair in pending)


def _base_with_every_rule(con):
    a = add_contact(con, email="hard@orange.fr")
    add_events(con, a, ("hard_bounce", "2026-10-01"))
    b = add_contact(con, email="soft@orange.fr")
    add_events(con, b, *[("soft_bounce", f"2026-0{m}-01") for m in range(1, 6)])
    c = add_contact(con, email="unsub@orange.fr", consent_email=True)
    add_events(con, c, ("unsubscribe", "2026-10-01"))
    d = add_contact(con, email="spam@orange.fr")
    add_events(con, d, ("spam_complaint", "2026-10-01"))
    add_contact(con, email="x@yopmail.com")
    add_contact(con, email="contact@asso.fr")
    old = add_contact(con, email="old@orange.fr", consent_at=None)
    add_events(con, old, ("email_open", "2025-01-01"))
    add_contact(con, email="twin@orange.fr", first_name="Anne")
    add_contact(con, email="twin@orange.fr", last_name="Martin")
    base = dict(street="3 place Gambetta", postal_code="33000", city="Bordeaux", phone="+33698765432")
    add_contact(con, email="luc@free.fr", first_name="Luc", last_name="Bernard", birth_date=date(1970, 3, 3), **base)
    add_contact(con, email="lb@gmail.com", first_name="Bernard", last_name="Luc", birth_date=date(1970, 3, 3), **base)


def _table_contents(con):
    tables = ["contacts", "contact_tags", "custom_values", "events", "suppressions", "duplicate_pairs", "merges",
              "cleaning_changes"]
    # Table names are the constants above.
    return {t: sorted(map(repr, con.execute("SELECT * FROM " + t).fetchall())) for t in tables}


def test_second_clean_changes_nothing(con):
    _base_with_every_rule(con)
    first = clean(con)
    assert first.changed > 0
    second = clean(con)
    assert second.changed == 0, second.as_dict()
    assert con.execute("SELECT count(*) FROM cleaning_changes WHERE run_id = ?", [second.run_id]).fetchone()[0] == 0


def test_dry_run_reports_what_a_real_run_then_does_and_writes_nothing(con):
    _base_with_every_rule(con)
    before = _table_contents(con)
    dry = clean(con, dry_run=True)
    assert _table_contents(con) == before
    real = clean(con)
    assert [(r.name, r.looked_at, r.changed, r.details) for r in dry.reports] == [
        (r.name, r.looked_at, r.changed, r.details) for r in real.reports
    ]


def test_every_change_is_recorded_with_before_and_after_and_audited(con):
    _base_with_every_rule(con)
    result = clean(con)
    rows = con.execute(
        "SELECT pass, change, before_value, after_value FROM cleaning_changes WHERE run_id = ? AND contact_id IS NOT NULL",
        [result.run_id],
    ).fetchall()
    assert {r[0] for r in rows} >= {"bounces", "unsubscribes", "complaints", "invalid", "duplicates", "inactive"}
    assert all(r[2] is not None and r[3] is not None for r in rows)
    audited = {r[0] for r in con.execute("SELECT action FROM audit_log WHERE command = 'clean'").fetchall()}
    assert audited == {"bounces", "unsubscribes", "complaints", "invalid", "duplicates", "inactive", "retention"}


def test_a_suppressed_address_reimported_stays_suppressed(con):
    bounced = add_contact(con, email="anne@orange.fr")
    add_events(con, bounced, ("hard_bounce", "2026-10-01"))
    clean(con)
    # The contact row goes (erased by hand here), then an old file brings the address back.
    con.execute("DELETE FROM events WHERE contact_id = ?", [bounced])
    con.execute("DELETE FROM contacts WHERE id = ?", [bounced])
    again = add_contact(con, email=" Anne@Orange.fr ".strip().lower(), first_name="Anne")
    refresh_contact_keys(con)
    assert apply_suppressions(con) == 1
    assert status_of(con, again) == ("suppressed", "hard_bounce")
    # And cleaning does not bring it back either.
    clean(con)
    assert status_of(con, again) == ("suppressed", "hard_bounce")


def test_only_and_skip_select_passes(con):
    names = [r.name for r in run_cleaning(con, Settings(), AS_OF, skip=["duplicates", "retention"]).reports]
    assert names == ["bounces", "unsubscribes", "complaints", "invalid", "inactive"]
    assert [r.name for r in run_cleaning(con, Settings(), AS_OF, only=["inactive", "bounces"]).reports] == [
        "bounces", "inactive"]
