"""The ``bounces`` pass: a hard bounce suppresses at once; ``soft_bounce_limit``
consecutive soft bounces with no open, click or delivered campaign in between suppress too.

Runs of soft bounces are found set-wise: within each contact's soft bounces
and the events that break a run, in time order, the running count of breaks
numbers the stretches between them, and a stretch holding
``soft_bounce_limit`` soft bounces is a run long enough.

What breaks a run: an open, a click, and — as Brevo counts consecutive
campaigns — a campaign that reached the address: an ``email_sent`` (Brevo's
`sent`/`delivered`) whose campaign did not bounce for this contact. A send
says nothing when its campaign is unknown, or when the contact's soft bounces
do not name theirs (each soft bounce answers a send). A soft bounce at the
very time of a break (a date-only log puts a day's events at midnight)
belongs to neither side: when the order is unknown, nothing is suppressed.
"""

from __future__ import annotations

from cli.cleaning.base import EVENT_IN_RANGE, CleaningContext, PassReport, stage_targets, suppress_targets

_HARD = (
    "SELECT DISTINCT e.contact_id, 'hard_bounce', NULL FROM events e "
    "JOIN contacts c ON c.id = e.contact_id "
    "WHERE e.type = 'hard_bounce' AND c.status IN ('active', 'suppressed') AND " + EVENT_IN_RANGE
)

_SOFT = (
    """
    WITH ev AS (
        SELECT e.contact_id, e.type, e.occurred_at, e.campaign FROM events e
        WHERE e.type IN ('soft_bounce', 'hard_bounce', 'email_open', 'email_click', 'email_sent')
          AND e.contact_id IN (SELECT contact_id FROM events WHERE type = 'soft_bounce')
          AND """
    + EVENT_IN_RANGE
    + """
    ),
    -- Contacts whose every soft bounce names its campaign: for them a send that did not bounce was delivered.
    named AS (SELECT contact_id FROM ev WHERE type = 'soft_bounce' GROUP BY contact_id HAVING count(campaign) = count(*)),
    bounced AS (SELECT DISTINCT contact_id, campaign FROM ev WHERE type IN ('soft_bounce', 'hard_bounce')),
    breaks AS (
        SELECT contact_id, occurred_at FROM ev WHERE type IN ('email_open', 'email_click')
        UNION ALL
        SELECT s.contact_id, s.occurred_at FROM ev s SEMI JOIN named n ON n.contact_id = s.contact_id
        WHERE s.type = 'email_sent' AND s.campaign IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM bounced b WHERE b.contact_id = s.contact_id AND b.campaign = s.campaign)
    ),
    marks AS (
        SELECT contact_id, occurred_at, 1 AS is_break FROM breaks
        UNION ALL
        SELECT s.contact_id, s.occurred_at, 0 FROM ev s WHERE s.type = 'soft_bounce'
          AND NOT EXISTS (SELECT 1 FROM breaks b WHERE b.contact_id = s.contact_id AND b.occurred_at = s.occurred_at)
    ),
    runs AS (
        SELECT contact_id, stretch, count(*) FILTER (WHERE is_break = 0) AS run FROM (
            SELECT contact_id, is_break,
                   sum(is_break) OVER (PARTITION BY contact_id ORDER BY occurred_at, is_break DESC
                                       ROWS UNBOUNDED PRECEDING) AS stretch
            FROM marks
        ) GROUP BY contact_id, stretch
    )
    SELECT runs.contact_id, 'soft_bounce', 'longest run ' || max(run)::VARCHAR FROM runs
    JOIN contacts c ON c.id = runs.contact_id
    WHERE c.status IN ('active', 'suppressed')
    GROUP BY runs.contact_id HAVING max(run) >= $limit
    """
)


class BouncesPass:
    """Hard bounces, and runs of soft bounces, suppress the address."""

    name = "bounces"

    def run(self, ctx: CleaningContext) -> PassReport:
        con = ctx.con
        looked_at = con.execute(
            "SELECT count(DISTINCT e.contact_id) FROM events e JOIN contacts c ON c.id = e.contact_id "
            "WHERE e.type IN ('hard_bounce', 'soft_bounce') AND c.status IN ('active', 'suppressed') AND "
            + EVENT_IN_RANGE,
            ctx.params,
        ).fetchone()[0]
        stage_targets(ctx, _HARD)
        hard_ledger, hard_changed = suppress_targets(ctx, self.name, "hard_bounce")
        limit = ctx.settings.cleaning.soft_bounce_limit
        stage_targets(ctx, _SOFT, {"as_of": ctx.as_of, "limit": limit})
        soft_ledger, soft_changed = suppress_targets(ctx, self.name, "soft_bounce")
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=hard_changed + soft_changed,
            why=f"hard bounce, or {limit} soft bounces in a row with no open, click or delivered campaign between",
            details={
                "hard_bounce_suppressed": hard_changed,
                "soft_bounce_suppressed": soft_changed,
                "ledger_entries_added": hard_ledger + soft_ledger,
            },
        )
