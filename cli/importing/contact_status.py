"""What an emailing tool's contact export says about an address, turned into facts.

An unsubscribe, a hard bounce (Mailchimp's cleaned), a spam complaint or a
blocklisting becomes an event, withdrawn consent and an entry in the
suppression ledger, so the address leaves every email list at once. A CRM's
deceased flag (or date of death) suppresses the contact with reason
``deceased``, which also keeps it out of postal and phone lists.
"""

from __future__ import annotations

from cli.event_summary import refresh_event_summary
from cli.importing.headers import ColumnMapping
from cli.importing.runs import PipelineContext
from cli.suppression import suppress_contacts


# The file columns ``status_facts`` reads (see ``build_staging``'s ``st_*`` columns).
STATUS_COLUMNS = (
    "unsubscribed", "unsubscribed_at", "hard_bounced", "hard_bounced_at", "blocklisted", "spam_complained",
    "email_status", "deceased", "deceased_at",
)


def status_facts(ctx: PipelineContext, mapping: ColumnMapping) -> None:
    """Turn what the emailing tool said (unsubscribed, cleaned/hard-bounced, complained, blocklisted) into facts.

    For each contact of the import that some row marks so: an ``unsubscribe``
    event (at the unsubscribe time, else the import time) with consent
    withdrawn, a ``spam_complaint`` event (at the import time) with consent
    withdrawn, or a ``hard_bounce`` event, and an entry in the suppression
    ledger at once (source ``import:<id>``), so the address leaves every email
    list before any ``clean``. A blocklisted address counts as unsubscribed.
    HubSpot's ``Non-marketing contact`` sets email consent to no. A deceased
    person is suppressed with reason ``deceased``, whatever else they were.
    Applies whatever ``--on-conflict`` says: it is about the address, not a field.
    """
    if not any(name in mapping.fields for name in STATUS_COLUMNS):
        return  # the file says nothing about unsubscribes or bounces
    con = ctx.con
    # A file without a status column has st_status NULL: `coalesce` keeps each flag true or false,
    # so that `NOT t.unsub` below holds for a Mailjet row that only complained.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_status AS
        SELECT inc.id AS contact_id,
               bool_or(coalesce(s.st_unsub, false) OR coalesce(s.st_unsub_given, false) OR coalesce(s.st_block, false)
                       OR coalesce(s.st_status IN ('unsubscribe', 'blocklist'), false)) AS unsub,
               max(s.st_unsub_at) AS unsub_at,
               any_value(s.st_unsub_campaign) FILTER (WHERE s.st_unsub_campaign IS NOT NULL) AS unsub_campaign,
               any_value(s.st_unsub_reason) FILTER (WHERE s.st_unsub_reason IS NOT NULL) AS unsub_reason,
               bool_or(coalesce(s.st_block, false) OR coalesce(s.st_status = 'blocklist', false)) AS blocked,
               bool_or(coalesce(s.st_bounce, false) OR coalesce(s.st_bounce_given, false)
                       OR coalesce(s.st_status = 'hard_bounce', false)) AS bounce,
               max(s.st_bounce_at) AS bounce_at,
               any_value(s.st_bounce_campaign) FILTER (WHERE s.st_bounce_campaign IS NOT NULL) AS bounce_campaign,
               bool_or(coalesce(s.st_complaint, false) OR coalesce(s.st_status = 'spam_complaint', false)) AS complaint,
               coalesce(bool_or(s.st_status = 'non_marketing'), false) AS non_marketing,
               -- A date of death that is not a date still counts, unless the deceased flag says no.
               bool_or(coalesce(s.st_deceased, false) OR s.st_deceased_at IS NOT NULL
                       OR (s.st_deceased IS NULL AND coalesce(s.st_deceased_given, false))) AS deceased
        FROM import_rows s JOIN import_keys k USING (gk) JOIN import_incoming inc USING (fk)
        GROUP BY inc.id
        HAVING unsub OR bounce OR complaint OR non_marketing OR deceased
        """
    )
    if not con.execute("SELECT count(*) FROM import_status").fetchall()[0][0]:
        return
    params = {"id": ctx.import_id, "file": ctx.source.path.name}
    added = con.execute(
        """
        INSERT INTO events (contact_id, type, occurred_at, campaign, channel, details, import_id)
        SELECT t.contact_id, 'unsubscribe', coalesce(t.unsub_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               t.unsub_campaign, 'email',
               coalesce(t.unsub_reason, CASE WHEN t.blocked THEN 'blocklisted' ELSE 'unsubscribed' END)
               || ' (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.unsub AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'unsubscribe'
              AND (t.unsub_at IS NULL OR e.occurred_at = t.unsub_at))
        UNION ALL
        SELECT t.contact_id, 'spam_complaint', date_trunc('second', current_timestamp::TIMESTAMP), NULL, 'email',
               'marked an email as spam (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.complaint AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'spam_complaint')
        UNION ALL
        SELECT t.contact_id, 'hard_bounce', coalesce(t.bounce_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               t.bounce_campaign, 'email', 'hard bounce / cleaned address (import of ' || $file || ')', $id
        FROM import_status t
        WHERE t.bounce AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.contact_id = t.contact_id AND e.type = 'hard_bounce'
              AND (t.bounce_at IS NULL OR e.occurred_at = t.bounce_at))
        RETURNING contact_id
        """,
        params,
    ).fetchall()
    con.execute(
        """
        UPDATE contacts c SET consent_email = false,
               consent_withdrawn_at = greatest(c.consent_withdrawn_at,
                   coalesce(t.unsub_at, date_trunc('second', current_timestamp::TIMESTAMP))),
               updated_at = current_timestamp
        FROM import_status t WHERE c.id = t.contact_id AND t.unsub
        """
    )
    con.execute(
        """
        UPDATE contacts c SET consent_email = false,
               consent_withdrawn_at = coalesce(c.consent_withdrawn_at, date_trunc('second', current_timestamp::TIMESTAMP)),
               updated_at = current_timestamp
        FROM import_status t WHERE c.id = t.contact_id AND t.complaint AND NOT t.unsub
        """
    )
    con.execute(
        "UPDATE contacts c SET consent_email = false, updated_at = current_timestamp FROM import_status t "
        "WHERE c.id = t.contact_id AND t.non_marketing AND NOT t.unsub AND c.consent_email IS DISTINCT FROM false"
    )
    source = "import:" + str(ctx.import_id)
    unsub = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE unsub ORDER BY 1").fetchall()]
    bounce = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE bounce ORDER BY 1").fetchall()]
    complaint = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE complaint ORDER BY 1").fetchall()]
    # The strictest reason first: a contact both unsubscribed and bounced keeps `unsubscribe` as its status reason.
    suppress_contacts(con, complaint, "spam_complaint", source)
    suppress_contacts(con, unsub, "unsubscribe", source)
    suppress_contacts(con, bounce, "hard_bounce", source)
    deceased = [r[0] for r in con.execute("SELECT contact_id FROM import_status WHERE deceased ORDER BY 1").fetchall()]
    suppress_contacts(con, deceased, "deceased", source)
    if added:
        refresh_event_summary(con, sorted({r[0] for r in added}))
