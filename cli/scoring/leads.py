"""Lead points (the Kombiz seed): rules of ``scoring.leads`` in ``crmseg.yaml``.

Each rule is ``{points: N, when: CONDITION, name: optional}``, where the
condition is a segment condition (SPEC §5) compiled by the segment engine
(``cli.segmenting.compile_condition``). A contact's ``lead_score`` is the sum
of the points of the rules it meets (points may be negative). Its
``lead_stage`` is ``decision`` at or above ``decision_threshold``, else
``evaluation`` at or above ``evaluation_threshold``, else ``none``.

Unsubscribed contacts (an ``unsubscribe`` event or a consent withdrawal, with
no later opt-in) and suppressed ones leave the scheme: ``lead_score`` is null
(no score, so neither ``lead_score: {gte: 30}`` nor ``{lt: 30}`` picks them)
and ``lead_stage`` is ``none``, whatever rules they meet.

Rules run after RFM, engagement and the lifecycle stage are stored, so a
rule may use them (``rfm_segment``, ``lifecycle_stage``...), but not
``lead_score`` or ``lead_stage`` themselves, not even through ``in_segment``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from cli.errors import ConfigError, SegmentError
from cli.settings import LeadRule, Settings

LEAD_STAGES: tuple[str, ...] = ("none", "evaluation", "decision")
_SELF_FIELDS = ("lead_score", "lead_stage")


@dataclass(frozen=True)
class RuleHits:
    """How many live contacts one rule gave its points to (before the unsubscribe exit)."""

    index: int
    label: str
    points: int
    contacts: int


def rule_label(rule: LeadRule) -> str:
    """The rule's name, else its condition as compact JSON."""
    return rule.name or json.dumps(rule.when, ensure_ascii=False, separators=(",", ":"), default=str)


def _mentions(condition: Any, names: tuple[str, ...]) -> str | None:
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key in names:
                return key
            found = _mentions(value, names)
            if found:
                return found
    elif isinstance(condition, list):
        for item in condition:
            found = _mentions(item, names)
            if found:
                return found
    return None


def _compiler():
    # Imported here: the segment engine imports cli.scoring to refresh scores.
    from cli.segmenting import compile_condition

    return compile_condition


def _segments_named(condition: Any) -> list[str]:
    if isinstance(condition, dict):
        return [n for k, v in condition.items()
                for n in ([v] if k == "in_segment" and isinstance(v, str) else _segments_named(v))]
    if isinstance(condition, list):
        return [n for item in condition for n in _segments_named(item)]
    return []


def _self_reference(condition: Any, library: Any) -> str | None:
    """How a rule reads what lead rules compute, itself or through ``in_segment``; None when it does not."""
    field = _mentions(condition, _SELF_FIELDS)
    if field:
        return f"`{field}`"
    if library is None:
        return None
    from cli.segmenting.model import FieldCondition, SegmentReference, walk

    pending, seen = _segments_named(condition), set()
    while pending:
        name = pending.pop()
        if name in seen or name not in library.segments:
            continue  # an unknown segment is the compiler's error
        seen.add(name)
        for node, _ in walk(library.segments[name].where):
            if isinstance(node, FieldCondition) and node.field in _SELF_FIELDS:
                return f"`{node.field}` (through the segment `{name}`)"
            if isinstance(node, SegmentReference):
                pending.append(node.segment)
    return None


def score_leads(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date) -> list[RuleHits]:
    """Fill ``lead_score`` and ``lead_stage`` of ``contact_scores``; return each rule's hits.

    Needs ``_score_facts`` and the fresh ``contact_scores`` (see ``refresh_scores``).
    """
    leads = settings.scoring.leads
    con.execute("CREATE OR REPLACE TEMP TABLE _lead_points (contact_id BIGINT, rule INTEGER, points INTEGER)")
    library = None
    if leads.rules:
        compile_condition = _compiler()
        if any(_segments_named(rule.when) for rule in leads.rules):
            from cli.segmenting.loader import library_for

            library = library_for(settings)
    for index, rule in enumerate(leads.rules):
        where = f"{settings.where(('scoring', 'leads', 'rules', index))}: scoring.leads.rules[{index}]"
        if rule.name:
            where += f" ({rule.name})"
        reads = _self_reference(rule.when, library)
        if reads:
            raise ConfigError(f"{where}: a lead rule cannot use {reads}, which lead rules compute.")
        try:
            compiled = compile_condition(rule.when, settings=settings, as_of=as_of, con=con)
        except SegmentError as e:
            raise ConfigError(f"{where}: {e}") from e
        # Only validated integers are formatted into the text; the rule's own
        # values stay bound parameters of the compiled query.
        insert = (
            "INSERT INTO _lead_points SELECT DISTINCT contact_id, "
            + str(int(index))
            + ", "
            + str(int(rule.points))
            + " FROM ("
            + compiled.sql
            + ") AS rule_hits WHERE contact_id IN (SELECT contact_id FROM _score_facts)"
        )
        con.execute(insert, compiled.params)
    con.execute(
        """
        UPDATE contact_scores SET
            lead_score = x.score,
            lead_stage = CASE WHEN x.score >= $decision THEN 'decision'
                              WHEN x.score >= $evaluation THEN 'evaluation'
                              ELSE 'none' END
        FROM (
            SELECT f.contact_id,
                CASE WHEN f.status = 'suppressed' OR f.unsubscribed_at IS NOT NULL THEN NULL
                     ELSE coalesce(p.total, 0) END AS score
            FROM _score_facts f
            LEFT JOIN (SELECT contact_id, sum(points)::INTEGER AS total FROM _lead_points GROUP BY contact_id) p
              ON p.contact_id = f.contact_id
        ) x
        WHERE contact_scores.contact_id = x.contact_id
        """,
        {"decision": leads.decision_threshold, "evaluation": leads.evaluation_threshold},
    )
    counts = dict(con.execute("SELECT rule, count(*) FROM _lead_points GROUP BY rule").fetchall())
    con.execute("DROP TABLE IF EXISTS _lead_points")
    return [
        RuleHits(index=i, label=rule_label(rule), points=rule.points, contacts=counts.get(i, 0))
        for i, rule in enumerate(leads.rules)
    ]
