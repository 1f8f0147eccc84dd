"""The pass protocol shared by every cleaning pass, and the bookkeeping they share.

A pass is an object with a ``name`` and a ``run(ctx)`` that changes the base
set-wise in SQL and returns a ``PassReport`` (how many contacts it looked at,
how many it changed, and why). Every change goes to ``cleaning_changes`` with
the value before and after, so it can be undone; the runner writes one audit
line per pass. Passes never print, and never commit: the runner owns the
transaction, which is how ``--dry-run`` gives the same figures and keeps none.

Candidates are staged in the temporary table ``_clean_targets`` so each pass
is a handful of set-wise statements whatever the size of the base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import duckdb

from cli.settings import Settings
from cli.store import rows_changed

LIVE_STATUSES = ("active", "suppressed")
# Staging table for a pass's candidates (contact_id, reason, detail); a constant name.
TARGETS = "_clean_targets"


@dataclass
class PassReport:
    """What one pass did: ``looked_at`` contacts, ``changed`` of them, and why."""

    name: str
    looked_at: int = 0
    changed: int = 0
    why: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pass": self.name,
            "looked_at": self.looked_at,
            "changed": self.changed,
            "why": self.why,
            "details": self.details,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class CleaningContext:
    """What a pass gets: the open base (inside the runner's transaction), settings, date, run id."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    as_of: date
    run_id: int
    dry_run: bool = False

    @property
    def params(self) -> dict[str, Any]:
        """Bound parameters most pass queries use."""
        return {"as_of": self.as_of}


class CleaningPass(Protocol):
    """One cleaning pass."""

    name: str

    def run(self, ctx: CleaningContext) -> PassReport:  # pragma: no cover - protocol
        ...


# Events on or before the as-of date count; later ones are ignored everywhere.
EVENT_IN_RANGE = "e.occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY"


def stage_targets(ctx: CleaningContext, select_sql: str, params: dict[str, Any] | None = None) -> int:
    """Replace ``_clean_targets`` with the rows of ``select_sql`` (contact_id, reason, detail)."""
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _clean_targets (contact_id BIGINT, reason VARCHAR, detail VARCHAR)"
    )
    # The query text is one of the passes' constants; values are bound.
    ctx.con.execute("INSERT INTO _clean_targets " + select_sql, params if params is not None else ctx.params)
    return ctx.con.execute("SELECT count(DISTINCT contact_id) FROM _clean_targets").fetchone()[0]


def suppress_targets(ctx: CleaningContext, pass_name: str, reason: str) -> tuple[int, int]:
    """Suppress the staged targets with ``reason``: ledger entries, then status.

    Returns (ledger entries added, contacts whose status changed). Each status
    change is recorded in ``cleaning_changes`` with the status before.
    """
    con = ctx.con
    source = f"clean:{pass_name}"
    added = con.execute(
        """
        INSERT INTO suppressions (key, kind, reason, source, contact_id)
        SELECT DISTINCT ON (k) k, kind, $reason, $source, id FROM (
            SELECT coalesce(c.email_key, c.phone_key) AS k,
                   CASE WHEN c.email_key IS NOT NULL THEN 'email' ELSE 'phone' END AS kind, c.id
            FROM contacts c SEMI JOIN _clean_targets t ON t.contact_id = c.id
            WHERE coalesce(c.email_key, c.phone_key) IS NOT NULL
        ) x
        WHERE NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.key = x.k AND s.reason = $reason)
        """,
        {"reason": reason, "source": source},
    ).fetchall()[0][0]
    con.execute(
        """
        INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
        SELECT $run_id, $pass, c.id, 'suppressed',
               to_json({'status': c.status, 'status_reason': c.status_reason}),
               to_json({'status': 'suppressed', 'status_reason': $reason})
        FROM contacts c SEMI JOIN _clean_targets t ON t.contact_id = c.id
        WHERE c.status = 'active'
        """,
        {"run_id": ctx.run_id, "pass": pass_name, "reason": reason},
    )
    changed = rows_changed(
        con,
        """
        UPDATE contacts SET status = 'suppressed', status_reason = $reason, updated_at = current_timestamp
        WHERE status = 'active' AND id IN (SELECT contact_id FROM _clean_targets)
        """,
        {"reason": reason},
    )
    if added:
        con.execute(
            """
            INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value)
            VALUES ($run_id, $pass, NULL, 'ledger_entries', NULL, to_json({'reason': $reason, 'added': $n}))
            """,
            {"run_id": ctx.run_id, "pass": pass_name, "reason": reason, "n": added},
        )
    return added, changed


def changed_contacts(ctx: CleaningContext, pass_name: str) -> int:
    """How many distinct contacts this run's ``pass_name`` changed (from ``cleaning_changes``)."""
    return ctx.con.execute(
        "SELECT count(DISTINCT contact_id) FROM cleaning_changes WHERE run_id = ? AND pass = ?",
        [ctx.run_id, pass_name],
    ).fetchone()[0]
