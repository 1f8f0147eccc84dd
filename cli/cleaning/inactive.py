"""The ``inactive`` pass: no activity for ``inactive_months`` sets ``is_inactive``.

Activity is any event of ``cleaning.activity_types`` on or before the as-of
date; a consent given or a record created in the window counts too, so a
newcomer who has not yet had the time to open anything is not flagged. A contact with neither is
inactive. The flag is reversible by construction: the pass sets it to what
the history says, so it becomes false again once activity arrives.
"""

from __future__ import annotations

from cli.cleaning.base import EVENT_IN_RANGE, CleaningContext, PassReport

_STATE = (
    """
    WITH last AS (
        SELECT e.contact_id, max(e.occurred_at) AS at FROM events e
        WHERE list_contains($types, e.type) AND """
    + EVENT_IN_RANGE
    + """
        GROUP BY e.contact_id
    )
    SELECT c.id, c.is_inactive AS before,
           coalesce(greatest(l.at,
                             CASE WHEN c.consent_at < CAST($as_of AS DATE) + INTERVAL 1 DAY THEN c.consent_at END,
                             CASE WHEN c.created_at < CAST($as_of AS DATE) + INTERVAL 1 DAY THEN c.created_at END)
                    < CAST($as_of AS DATE) - to_months($months), true) AS after
    FROM contacts c LEFT JOIN last l ON l.contact_id = c.id
    WHERE c.status IN ('active', 'suppressed')
    """
)


class InactivePass:
    """Flags contacts with no activity in the last ``inactive_months`` (and unflags active ones)."""

    name = "inactive"

    def run(self, ctx: CleaningContext) -> PassReport:
        con = ctx.con
        cleaning = ctx.settings.cleaning
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _inactive_state AS " + _STATE,
            {"as_of": ctx.as_of, "types": list(cleaning.activity_types), "months": cleaning.inactive_months},
        )
        looked_at, now_inactive = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE after) FROM _inactive_state"
        ).fetchone()
        con.execute(
            """
            INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
            SELECT $run_id, $pass, id, CASE WHEN after THEN 'flagged_inactive' ELSE 'active_again' END,
                   to_json({'is_inactive': before}), to_json({'is_inactive': after})
            FROM _inactive_state WHERE before <> after
            """,
            {"run_id": ctx.run_id, "pass": self.name},
        )
        con.execute(
            "UPDATE contacts c SET is_inactive = s.after, updated_at = current_timestamp "
            "FROM _inactive_state s WHERE s.id = c.id AND s.before <> s.after"
        )
        flips = dict(
            con.execute("SELECT after, count(*) FROM _inactive_state WHERE before <> after GROUP BY after").fetchall()
        )
        flagged, unflagged = flips.get(True, 0), flips.get(False, 0)
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=flagged + unflagged,
            why=f"no {', '.join(cleaning.activity_types)} in the last {cleaning.inactive_months} months",
            details={"flagged": flagged, "active_again": unflagged, "inactive_now": now_inactive},
        )
