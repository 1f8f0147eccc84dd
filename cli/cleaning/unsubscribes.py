"""The ``unsubscribes`` pass: an unsubscribe suppresses the address and withdraws consent.

The withdrawal is dated by the latest unsubscribe on or before the as-of
date; consent given again afterwards does not lift the suppression (the
ledger outlives it), as emailing tools also keep an unsubscribe for good.
"""

from __future__ import annotations

from cli.cleaning.base import (
    EVENT_IN_RANGE,
    CleaningContext,
    PassReport,
    changed_contacts,
    stage_targets,
    suppress_targets,
)

_TARGETS = (
    "SELECT e.contact_id, 'unsubscribe', max(e.occurred_at)::VARCHAR FROM events e "
    "JOIN contacts c ON c.id = e.contact_id "
    "WHERE e.type = $type AND c.status IN ('active', 'suppressed') AND " + EVENT_IN_RANGE + " GROUP BY e.contact_id"
)


def withdraw_consent(ctx: CleaningContext, pass_name: str) -> int:
    """Withdraw email consent of the staged targets (detail = the date); record each change."""
    con = ctx.con
    con.execute(
        """
        INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
        SELECT $run_id, $pass, c.id, 'consent_withdrawn',
               to_json({'consent_email': c.consent_email, 'consent_withdrawn_at': c.consent_withdrawn_at}),
               to_json({'consent_email': false,
                        'consent_withdrawn_at': coalesce(c.consent_withdrawn_at, t.detail::TIMESTAMP)})
        FROM contacts c JOIN _clean_targets t ON t.contact_id = c.id
        WHERE c.consent_withdrawn_at IS NULL OR c.consent_email IS DISTINCT FROM false
        """,
        {"run_id": ctx.run_id, "pass": pass_name},
    )
    changed = con.execute(
        """
        UPDATE contacts c SET consent_email = false,
               consent_withdrawn_at = coalesce(c.consent_withdrawn_at, t.detail::TIMESTAMP),
               updated_at = current_timestamp
        FROM _clean_targets t
        WHERE t.contact_id = c.id AND (c.consent_withdrawn_at IS NULL OR c.consent_email IS DISTINCT FROM false)
        """
    ).fetchall()[0][0]
    return changed


class UnsubscribesPass:
    """Unsubscribes suppress the address (reason ``unsubscribe``) and withdraw consent."""

    name = "unsubscribes"
    event_type = "unsubscribe"
    reason = "unsubscribe"
    why = "unsubscribed: suppressed and email consent withdrawn"

    def run(self, ctx: CleaningContext) -> PassReport:
        looked_at = stage_targets(ctx, _TARGETS, {"as_of": ctx.as_of, "type": self.event_type})
        withdrawn = withdraw_consent(ctx, self.name)
        ledger, changed = suppress_targets(ctx, self.name, self.reason)
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=changed_contacts(ctx, self.name),
            why=self.why,
            details={"suppressed": changed, "consent_withdrawn": withdrawn, "ledger_entries_added": ledger},
        )
