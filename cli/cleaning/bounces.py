"""The ``bounces`` pass: a hard bounce suppresses at once; ``soft_bounce_limit``
consecutive soft bounces with no open or click in between suppress too.

Runs of soft bounces are found set-wise: within each contact's engagement
events (soft bounces, opens, clicks) in time order, the running count of
opens and clicks numbers the stretches between them, and a stretch holding
``soft_bounce_limit`` soft bounces is a run long enough. A ``email_sent``
does not break a run (each soft bounce answers a send).
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
    SELECT contact_id, 'soft_bounce', 'longest run ' || max(run)::VARCHAR FROM (
        SELECT contact_id, stretch, count(*) FILTER (WHERE type = 'soft_bounce') AS run FROM (
            SELECT e.contact_id, e.type,
                   sum(CASE WHEN e.type = 'soft_bounce' THEN 0 ELSE 1 END)
                       OVER (PARTITION BY e.contact_id ORDER BY e.occurred_at,
                             CASE WHEN e.type = 'soft_bounce' THEN 1 ELSE 0 END, e.id
                             ROWS UNBOUNDED PRECEDING) AS stretch
            FROM events e
            WHERE e.type IN ('soft_bounce', 'email_open', 'email_click')
              AND e.contact_id IN (SELECT contact_id FROM events WHERE type = 'soft_bounce')
              AND """
    + EVENT_IN_RANGE
    + """
        ) GROUP BY contact_id, stretch
    ) runs
    JOIN contacts c ON c.id = runs.contact_id
    WHERE c.status IN ('active', 'suppressed')
    GROUP BY contact_id HAVING max(run) >= $limit
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
            why=f"hard bounce, or {limit} soft bounces in a row with no open or click between",
            details={
                "hard_bounce_suppressed": hard_changed,
                "soft_bounce_suppressed": soft_changed,
                "ledger_entries_added": hard_ledger + soft_ledger,
            },
        )
