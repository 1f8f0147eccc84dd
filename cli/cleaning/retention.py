"""The ``retention`` pass (off unless ``retention_months`` is set): erase old prospects.

A prospect is a live contact with no event of ``scoring.purchase_types``.
It is erased (``cli.erasure.erase_contacts``: only its suppression key is
kept) when neither an activity of its own — a click, a gift, a purchase, an
attendance, a meeting, any ``activity_types`` but an open — nor its consent
nor its creation in the base falls within the last ``retention_months``.
This is the one pass that cannot be undone; ``--dry-run`` shows its count.
For that reason activity dated after ``--as-of`` also keeps a contact.
"""

from __future__ import annotations

from cli.cleaning.base import CleaningContext, PassReport
from cli.erasure import erase_contacts

PASSIVE_TYPES = ("email_open", "email_sent", "web_visit", "hard_bounce", "soft_bounce")

_CANDIDATES = (
    """
    WITH own AS (
        SELECT e.contact_id, max(e.occurred_at) AS at,
               bool_or(list_contains($purchase, e.type)) AS bought
        FROM events e
        -- Every date, even after --as-of: an erasure cannot be undone, so a replay at an earlier
        -- date must not erase someone who has been active (or given) since.
        WHERE list_contains($own, e.type) OR list_contains($purchase, e.type)
        GROUP BY e.contact_id
    )
    SELECT c.id FROM contacts c LEFT JOIN own o ON o.contact_id = c.id
    WHERE c.status IN ('active', 'suppressed') AND NOT coalesce(o.bought, false)
      AND coalesce(greatest(o.at, c.consent_at, c.created_at), CAST($as_of AS DATE))
          < CAST($as_of AS DATE) - to_months($months)
    ORDER BY c.id
    """
)


def own_activity_types(ctx: CleaningContext) -> list[str]:
    """Event types that are a contact's own doing: activity types but passive ones, and a click."""
    types = [t for t in ctx.settings.cleaning.activity_types if t not in PASSIVE_TYPES]
    return sorted(set(types) | {"email_click"})


class RetentionPass:
    """Erases prospects with no activity of their own for ``retention_months`` (off by default)."""

    name = "retention"

    def run(self, ctx: CleaningContext) -> PassReport:
        months = ctx.settings.cleaning.retention_months
        if months is None:
            return PassReport(self.name, why="off (set cleaning.retention_months to enable)",
                              details={"enabled": False})
        con = ctx.con
        purchase = list(ctx.settings.scoring.purchase_types)
        ids = [
            r[0]
            for r in con.execute(
                _CANDIDATES,
                {"as_of": ctx.as_of, "own": own_activity_types(ctx), "purchase": purchase, "months": months},
            ).fetchall()
        ]
        looked_at = con.execute(
            "SELECT count(*) FROM contacts WHERE status IN ('active', 'suppressed')"
        ).fetchone()[0]
        erased = erase_contacts(con, ids, source="clean:retention") if ids else 0
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=len(ids),
            why=f"prospect with no activity of its own for {months} months: erased (not reversible)",
            details={"enabled": True, "erased_contacts": len(ids), "erased_rows_with_merged": erased},
        )
