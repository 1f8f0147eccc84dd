"""Per-contact facts every score reads, gathered in one pass over the events.

``build_facts`` makes the temporary table ``_score_facts``: one row per live
contact (not merged, not erased) with its purchases, its last unsubscription
and its engagement, counting only events dated on or before the as-of date.
RFM, engagement and the lifecycle stage are then plain expressions over it,
so the ten-million-event table is scanned once per refresh.

A contact counts as unsubscribed from the latest of its ``unsubscribe``
events and its consent withdrawal (both at or before the as-of date), unless
it opted in again later (``consent_email`` true with a later ``consent_at``).
"""

from __future__ import annotations

from datetime import date

import duckdb

from cli.scoring.engagement import CLICK_WEIGHT, ENGAGEMENT_SUM_SQL, OPEN_WEIGHT
from cli.settings import Settings

FACTS_TABLE = "_score_facts"

# A contact row crmseg scores: merged-away and erased records are not people any more.
LIVE_STATUS_SQL = "c.status NOT IN ('merged', 'erased')"

# Built from constants only (no user value): the engagement aggregate and the live filter.
FACTS_SQL = (
    """
CREATE OR REPLACE TEMP TABLE _score_facts AS
WITH kinds AS (
    -- The event types scoring reads; joining on this small table is faster than a
    -- per-row list test over millions of events.
    SELECT type, bool_or(is_purchase) AS is_purchase
    FROM (
        SELECT unnest($purchase_types) AS type, true AS is_purchase
        UNION ALL
        SELECT unnest(['unsubscribe', 'email_open', 'email_click']), false
    )
    GROUP BY type
),
ev AS (
    SELECT contact_id,
        min(occurred_at) FILTER (WHERE is_purchase) AS first_purchase_at,
        max(occurred_at) FILTER (WHERE is_purchase) AS last_purchase_at,
        count(*) FILTER (WHERE is_purchase) AS purchase_count,
        sum(amount) FILTER (WHERE is_purchase) AS purchase_total,
        max(occurred_at) FILTER (WHERE type = 'unsubscribe') AS last_unsubscribe_at,
        """
    + ENGAGEMENT_SUM_SQL
    + """ AS engagement
    FROM (
        SELECT e.contact_id, e.type, e.occurred_at, e.amount, k.is_purchase
        FROM events e JOIN kinds k ON k.type = e.type
        WHERE e.occurred_at < $as_of + 1
    )
    GROUP BY contact_id
),
joined AS (
    SELECT c.id AS contact_id,
        c.status,
        (c.email IS NOT NULL OR c.phone IS NOT NULL
         OR (c.street IS NOT NULL AND (c.postal_code IS NOT NULL OR c.city IS NOT NULL))) AS reachable,
        ev.first_purchase_at,
        ev.last_purchase_at,
        ev.first_purchase_at::DATE AS first_purchase_on,
        ev.last_purchase_at::DATE AS last_purchase_on,
        coalesce(ev.purchase_count, 0) AS purchase_count,
        coalesce(ev.purchase_total, 0)::DOUBLE AS purchase_total,
        coalesce(round(ev.engagement, 2), 0)::DOUBLE AS engagement,
        greatest(ev.last_unsubscribe_at,
                 CASE WHEN c.consent_withdrawn_at < $as_of + 1 THEN c.consent_withdrawn_at END) AS unsub_raw,
        c.consent_email,
        c.consent_at
    FROM contacts c LEFT JOIN ev ON ev.contact_id = c.id
    WHERE """
    + LIVE_STATUS_SQL
    + """
)
SELECT * EXCLUDE (unsub_raw, consent_email, consent_at),
    CASE WHEN unsub_raw IS NOT NULL
          AND NOT coalesce(consent_email AND consent_at > unsub_raw AND consent_at < $as_of + 1, false)
         THEN unsub_raw END AS unsubscribed_at
FROM joined
"""
)


def build_facts(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date) -> None:
    """(Re)create ``_score_facts`` for ``as_of``."""
    scoring = settings.scoring
    con.execute(
        FACTS_SQL,
        {
            "as_of": as_of,
            "purchase_types": list(scoring.purchase_types),
            "half_life": float(scoring.engagement_half_life_days),
            "open_weight": OPEN_WEIGHT,
            "click_weight": CLICK_WEIGHT,
        },
    )


def drop_facts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS _score_facts")
