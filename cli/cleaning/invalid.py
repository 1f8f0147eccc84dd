"""The ``invalid`` pass: addresses that cannot receive mail, and role addresses.

An address is suppressed with reason ``invalid`` when its domain cannot exist
(no dot, characters or labels no domain may have), is reserved or special-use
(RFC 2606, 6761, 6762, 7686, 8375, 9476: ``example.com``, ``.test``,
``.invalid``, ``.localhost``, ``.local``, ``.onion``, ``.home.arpa``, ...)
or belongs to a disposable-address service (the maintained list of the
``disposable-email-domains`` package, a domain or any sub-domain of it).
Role addresses (``info@``, ``contact@``, ``noreply@``, ...) are flagged, or
suppressed with reason ``role`` under ``role_addresses: suppress``.

``contacts.email_quality`` says which rule matched (``invalid_domain``,
``reserved_domain``, ``disposable``, ``role``); the pass clears a quality it
set once the address no longer matches (e.g. after a correction), and lifts
the ``invalid`` or ``role`` suppression it made when nothing else holds the
contact: its new address is in no ledger entry, and no entry of another
reason names it (the old address keeps its entry).
"""

from __future__ import annotations

import disposable_email_domains

from cli.cleaning.base import CleaningContext, PassReport, changed_contacts, stage_targets, suppress_targets
from cli.fields import UNUSABLE_EMAIL_QUALITIES
from cli.store import rows_changed

RESERVED_DOMAINS = (
    "example", "example.com", "example.net", "example.org", "test", "invalid", "localhost",
    "local", "onion", "alt", "internal", "home.arpa",
)
ROLE_LOCAL_PARTS = (
    "abuse", "accueil", "accounting", "admin", "administrateur", "administration", "billing", "bureau",
    "compta", "comptabilite", "contact", "contacts", "direction", "dpo", "enquiries", "facturation", "hello",
    "help", "helpdesk", "hostmaster", "hr", "info", "infos", "information", "informations", "mail",
    "mailer-daemon", "marketing", "news", "newsletter", "no-reply", "noreply", "do-not-reply", "donotreply",
    "office", "postmaster", "presse", "press", "rh", "root", "sales", "secretariat", "secretaire", "service",
    "support", "team", "webmaster", "welcome", "vente", "ventes",
)
QUALITIES = (*UNUSABLE_EMAIL_QUALITIES, "role")

_DOMAIN_SHAPE = r"^([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)+([a-z]([a-z0-9-]*[a-z0-9])?|xn--[a-z0-9-]+)$"

_QUALITY = """
    WITH parts AS (
        SELECT id, email, email_quality,
               lower(regexp_extract(email, '@([^@]*)$', 1)) AS domain,
               lower(regexp_extract(email, '^(.*)@[^@]*$', 1)) AS local
        FROM contacts
        WHERE email IS NOT NULL AND status IN ('active', 'suppressed')
    )
    SELECT id, email_quality AS before, CASE
        WHEN domain = '' OR NOT contains(domain, '.') OR NOT regexp_matches(domain, $shape) THEN 'invalid_domain'
        WHEN list_contains($reserved, domain)
             OR list_contains($reserved, regexp_extract(domain, '\\.([^.]+)$', 1))
             OR list_contains($reserved, regexp_extract(domain, '\\.([^.]+\\.[^.]+)$', 1)) THEN 'reserved_domain'
        WHEN domain IN (SELECT domain FROM _disposable)
             OR regexp_extract(domain, '^[^.]+\\.(.+)$', 1) IN (SELECT domain FROM _disposable) THEN 'disposable'
        WHEN list_contains($roles, regexp_replace(local, '[+].*$', '')) THEN 'role'
        ELSE NULL END AS after
    FROM parts
"""


# Contacts suppressed by this pass whose address no longer earns it (a corrected address), with
# nothing else to keep them suppressed.
_LIFTED = """
    SELECT q.id, c.status_reason, NULL FROM _email_quality q JOIN contacts c ON c.id = q.id
    WHERE c.status = 'suppressed' AND c.status_reason IN ('invalid', 'role')
      AND (q.after IS NULL OR (q.after = 'role' AND NOT $suppress_roles))
      AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.key = coalesce(c.email_key, c.phone_key))
      AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.contact_id = c.id AND s.reason NOT IN ('invalid', 'role'))
"""


def lift_targets(ctx: CleaningContext, pass_name: str) -> int:
    """Make the staged targets active again; each change is recorded with the status before."""
    con = ctx.con
    con.execute(
        """
        INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
        SELECT $run_id, $pass, c.id, 'unsuppressed',
               to_json({'status': c.status, 'status_reason': c.status_reason}),
               to_json({'status': 'active', 'status_reason': NULL::VARCHAR})
        FROM contacts c SEMI JOIN _clean_targets t ON t.contact_id = c.id
        """,
        {"run_id": ctx.run_id, "pass": pass_name},
    )
    return rows_changed(
        con,
        "UPDATE contacts SET status = 'active', status_reason = NULL, updated_at = current_timestamp "
        "WHERE id IN (SELECT contact_id FROM _clean_targets)",
    )


def load_disposable_domains(con) -> None:
    """The package's blocklist (minus its allowlist) as the temporary table ``_disposable``."""
    allowed = set(disposable_email_domains.allowlist)
    domains = sorted(d.lower() for d in disposable_email_domains.blocklist if d not in allowed)
    con.execute("CREATE OR REPLACE TEMP TABLE _disposable AS SELECT unnest($d::VARCHAR[]) AS domain", {"d": domains})


class InvalidPass:
    """Impossible, reserved and disposable domains suppress; role addresses are flagged or suppressed."""

    name = "invalid"

    def run(self, ctx: CleaningContext) -> PassReport:
        con = ctx.con
        load_disposable_domains(con)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _email_quality AS " + _QUALITY,
            {"shape": _DOMAIN_SHAPE, "reserved": list(RESERVED_DOMAINS), "roles": list(ROLE_LOCAL_PARTS)},
        )
        looked_at = con.execute("SELECT count(*) FROM _email_quality").fetchone()[0]
        # A quality this pass did not set (another tool's) is left alone when nothing matches.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _quality_changes AS
            SELECT id, before, after FROM _email_quality
            WHERE before IS DISTINCT FROM after AND (after IS NOT NULL OR list_contains($q, before))
            """,
            {"q": list(QUALITIES)},
        )
        con.execute(
            """
            INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
            SELECT $run_id, $pass, id, 'email_quality',
                   to_json({'email_quality': before}), to_json({'email_quality': after})
            FROM _quality_changes
            """,
            {"run_id": ctx.run_id, "pass": self.name},
        )
        con.execute(
            "UPDATE contacts c SET email_quality = q.after, updated_at = current_timestamp "
            "FROM _quality_changes q WHERE q.id = c.id"
        )
        counts = dict(
            con.execute(
                "SELECT after, count(*) FROM _email_quality WHERE after IS NOT NULL GROUP BY after"
            ).fetchall()
        )
        suppress_roles = ctx.settings.cleaning.role_addresses == "suppress"
        stage_targets(ctx, _LIFTED, {"suppress_roles": suppress_roles})
        lifted = lift_targets(ctx, self.name)
        stage_targets(
            ctx,
            "SELECT id, after, NULL FROM _email_quality "
            "WHERE after IN ('invalid_domain', 'reserved_domain', 'disposable')",
            {},
        )
        ledger, suppressed = suppress_targets(ctx, self.name, "invalid")
        role_suppressed = 0
        if suppress_roles:
            stage_targets(ctx, "SELECT id, after, NULL FROM _email_quality WHERE after = 'role'", {})
            role_ledger, role_suppressed = suppress_targets(ctx, self.name, "role")
            ledger += role_ledger
        role_action = ctx.settings.cleaning.role_addresses
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=changed_contacts(ctx, self.name),
            why=f"impossible, reserved or disposable domain: suppressed; role address: {role_action}",
            details={
                "invalid_domain": counts.get("invalid_domain", 0),
                "reserved_domain": counts.get("reserved_domain", 0),
                "disposable": counts.get("disposable", 0),
                "role": counts.get("role", 0),
                "suppressed": suppressed + role_suppressed,
                "unsuppressed": lifted,
                "ledger_entries_added": ledger,
            },
        )
