"""Runs of soft bounces as an emailing tool's log gives them: sends, deliveries, opens, ties."""

from __future__ import annotations

from datetime import datetime

from .conftest import add_contact, clean, status_of


def add_log(con, contact_id: int, *rows: tuple[str, str, str | None]) -> None:
    """Insert (type, 'YYYY-MM-DD[ HH:MM]', campaign) events, as an events import stores them."""
    for kind, when, campaign in rows:
        con.execute(
            "INSERT INTO events (contact_id, type, occurred_at, campaign) VALUES (?, ?, ?, ?)",
            [contact_id, kind, datetime.fromisoformat(when), campaign],
        )


def _campaigns(months, bounced):
    """Each month's campaign: sent, then soft-bounced if in ``bounced``, else delivered (Brevo's log)."""
    rows = []
    for m in months:
        name = f"NL 2026-{m:02d}"
        rows.append(("email_sent", f"2026-{m:02d}-05 09:00", name))
        if m in bounced:
            rows.append(("soft_bounce", f"2026-{m:02d}-05 11:00", name))
        else:
            rows.append(("email_sent", f"2026-{m:02d}-05 09:01", name))  # `delivered` maps to email_sent
    return rows


def test_a_delivered_campaign_between_soft_bounces_breaks_the_run(con):
    broken = add_contact(con, email="broken@orange.fr")
    run = add_contact(con, email="run@orange.fr")
    add_log(con, broken, *_campaigns(range(1, 7), bounced={1, 2, 3, 5, 6}))
    add_log(con, run, *_campaigns(range(1, 6), bounced={1, 2, 3, 4, 5}))
    clean(con, only=["bounces"])
    assert status_of(con, broken) == ("active", None)
    assert status_of(con, run) == ("suppressed", "soft_bounce")


def test_sends_without_campaigns_do_not_break_a_run(con):
    plain = add_contact(con, email="plain@orange.fr")
    for m in range(1, 6):
        add_log(con, plain, ("email_sent", f"2026-0{m}-05 09:00", None), ("soft_bounce", f"2026-0{m}-05 11:00", None))
    # Bounces that name no campaign: a send of a named campaign proves no delivery.
    unnamed = add_contact(con, email="unnamed@orange.fr")
    for m in range(1, 6):
        add_log(con, unnamed, ("email_sent", f"2026-0{m}-05 09:00", f"NL {m}"), ("soft_bounce", f"2026-0{m}-05 11:00", None))
    clean(con, only=["bounces"])
    assert status_of(con, plain) == ("suppressed", "soft_bounce")
    assert status_of(con, unnamed) == ("suppressed", "soft_bounce")


def test_an_open_on_the_same_day_as_a_soft_bounce_counts_on_neither_side(con):
    # A date-only log: the open and a soft bounce both at midnight, first or last of five.
    first = add_contact(con, email="first@orange.fr")
    last = add_contact(con, email="last@orange.fr")
    days = [f"2026-0{m}-05" for m in range(1, 6)]
    add_log(con, first, ("email_open", days[0], None), *[("soft_bounce", d, None) for d in days])
    add_log(con, last, *[("soft_bounce", d, None) for d in days], ("email_open", days[-1], None))
    clean(con, only=["bounces"])
    assert status_of(con, first) == ("active", None)
    assert status_of(con, last) == ("active", None)
    # A sixth soft bounce makes five in a row after the open.
    add_log(con, first, ("soft_bounce", "2026-06-05", None))
    clean(con, only=["bounces"])
    assert status_of(con, first) == ("suppressed", "soft_bounce")
