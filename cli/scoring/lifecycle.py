"""Lifecycle stages (the Kombiz cycle) and their history.

The stage of a live contact at the as-of date, with ``P`` = the event types
of ``scoring.purchase_types`` (a gift, a membership or a purchase), first
match wins:

1. it has a ``P`` event:
   - ``lost`` if it unsubscribed after its last ``P`` (a ``P`` at or after
     the unsubscription keeps it a customer), or its last ``P`` is older than
     ``lifecycle.lost_months``;
   - ``inactive_customer`` if its last ``P`` is older than ``inactive_months``;
   - ``new_customer`` if its first ``P`` is within ``new_customer_days``;
   - ``active_customer`` otherwise;
2. it never had one: ``lost`` if it unsubscribed; ``prospect`` if it can be
   reached (an email, a phone, or a street with a postal code or a city);
   ``visitor`` otherwise (known only through anonymous interactions).

"Older than N months" means before the as-of date minus N calendar months
and "within N days" on or after the as-of date minus N days, as in segments.
Stages are recomputed from the events on every run, so they move both ways:
a lost donor who gives again is a customer again.

History: a row ``(contact, stage, previous_stage, changed_at)`` is appended
whenever the computed stage differs from the contact's latest recorded one.
``changed_at`` is the day the stage began when the events tell it (the first
purchase for ``new_customer``; the day after the new period for
``active_customer``, or the purchase that revived a lapsed or unsubscribed
customer; the day after the inactivity or loss threshold was crossed; the
unsubscription), kept between the previous recorded change and the as-of
date; otherwise (``visitor``, ``prospect``) the as-of date. So a first run
already knows who became inactive last month. History only moves forward:
a run at an as-of date before a contact's latest recorded change leaves its
history alone.
"""

from __future__ import annotations

from datetime import date

import duckdb

from cli.settings import Settings

LIFECYCLE_STAGES: tuple[str, ...] = (
    "visitor",
    "prospect",
    "new_customer",
    "active_customer",
    "inactive_customer",
    "lost",
)

# The stage of a row ``f`` of ``_score_facts``; parameters $as_of, $lost_months,
# $inactive_months, $new_days.
STAGE_SQL = """
CASE
    WHEN f.last_purchase_at IS NOT NULL THEN CASE
        WHEN f.unsubscribed_at > f.last_purchase_at THEN 'lost'
        WHEN f.last_purchase_on < ($as_of - to_months($lost_months))::DATE THEN 'lost'
        WHEN f.last_purchase_on < ($as_of - to_months($inactive_months))::DATE THEN 'inactive_customer'
        WHEN f.first_purchase_on >= $as_of - $new_days THEN 'new_customer'
        ELSE 'active_customer' END
    WHEN f.unsubscribed_at IS NOT NULL THEN 'lost'
    WHEN f.reachable THEN 'prospect'
    ELSE 'visitor'
END"""

_CHANGES_SQL = """
CREATE OR REPLACE TEMP TABLE _stage_changes AS
WITH latest AS (
    SELECT contact_id, arg_max(stage, seq) AS stage, max(changed_at) AS changed_at
    FROM stage_history
    GROUP BY contact_id
)
SELECT s.contact_id, s.lifecycle_stage AS stage, l.stage AS previous_stage, l.changed_at AS previous_changed_at
FROM contact_scores s LEFT JOIN latest l ON l.contact_id = s.contact_id
WHERE s.lifecycle_stage IS DISTINCT FROM l.stage
  AND (l.changed_at IS NULL OR l.changed_at <= $as_of)
"""

# For contacts becoming active: the latest purchase that followed a lapse
# (the one before it older than inactive_months) or the first purchase at or
# after the unsubscription.
_INSERT_SQL = """
INSERT INTO stage_history (contact_id, stage, previous_stage, changed_at, seq)
WITH purchases AS (
    SELECT e.contact_id, e.occurred_at, e.occurred_at::DATE AS d,
        lag(e.occurred_at) OVER (PARTITION BY e.contact_id ORDER BY e.occurred_at) AS prev_at
    FROM events e
    WHERE e.contact_id IN (SELECT contact_id FROM _stage_changes WHERE stage = 'active_customer')
      AND e.occurred_at < $as_of + 1
      AND list_contains($purchase_types, e.type)
),
revived AS (
    SELECT p.contact_id, max(p.d) AS revived_on
    FROM purchases p JOIN _score_facts f ON f.contact_id = p.contact_id
    WHERE p.prev_at::DATE < (p.d - to_months($inactive_months))::DATE
       OR (f.unsubscribed_at IS NOT NULL AND p.occurred_at >= f.unsubscribed_at
           AND (p.prev_at IS NULL OR p.prev_at < f.unsubscribed_at))
    GROUP BY p.contact_id
),
dated AS (
    SELECT ch.contact_id, ch.stage, ch.previous_stage, ch.previous_changed_at,
        CASE ch.stage
            WHEN 'new_customer' THEN f.first_purchase_on
            WHEN 'active_customer' THEN greatest(f.first_purchase_on + $new_days + 1, r.revived_on)
            WHEN 'inactive_customer' THEN (f.last_purchase_on + to_months($inactive_months))::DATE + 1
            WHEN 'lost' THEN least(
                CASE WHEN f.unsubscribed_at IS NOT NULL
                      AND (f.last_purchase_at IS NULL OR f.unsubscribed_at > f.last_purchase_at)
                     THEN f.unsubscribed_at::DATE END,
                CASE WHEN f.last_purchase_on < ($as_of - to_months($lost_months))::DATE
                     THEN (f.last_purchase_on + to_months($lost_months))::DATE + 1 END)
            ELSE $as_of
        END AS began_on
    FROM _stage_changes ch
    JOIN _score_facts f ON f.contact_id = ch.contact_id
    LEFT JOIN revived r ON r.contact_id = ch.contact_id
)
SELECT contact_id, stage, previous_stage,
    least($as_of, greatest(coalesce(began_on, $as_of), previous_changed_at)),
    nextval('stage_history_seq')
FROM dated
ORDER BY contact_id
"""


def lifecycle_params(settings: Settings, as_of: date) -> dict[str, object]:
    """The parameters of ``STAGE_SQL``."""
    cycle = settings.lifecycle
    return {
        "as_of": as_of,
        "lost_months": cycle.lost_months,
        "inactive_months": cycle.inactive_months,
        "new_days": cycle.new_customer_days,
    }


def record_stage_changes(
    con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date
) -> list[dict[str, object]]:
    """Append the stage changes ``contact_scores`` shows to ``stage_history``.

    Needs ``_score_facts`` and the fresh ``contact_scores``. Returns the
    changes grouped as ``{"from", "to", "contacts"}``.
    """
    con.execute(_CHANGES_SQL, {"as_of": as_of})
    params = lifecycle_params(settings, as_of)
    params["purchase_types"] = list(settings.scoring.purchase_types)
    con.execute(_INSERT_SQL, params)
    rows = con.execute(
        "SELECT previous_stage, stage, count(*) FROM _stage_changes GROUP BY ALL ORDER BY 3 DESC, 1 NULLS FIRST, 2"
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _stage_changes")
    return [{"from": prev, "to": stage, "contacts": n} for prev, stage, n in rows]
