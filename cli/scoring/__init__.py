"""Scores and stages (SPEC §6): RFM, engagement, lead points, lifecycle with history.

Everything is computed set-wise in DuckDB at an as-of date by
``refresh_scores`` and stored in ``contact_scores`` (one row per live
contact), which the segment engine reads for the derived fields
``rfm_r``, ``rfm_f``, ``rfm_m``, ``rfm_segment``, ``engagement_score``,
``lead_score``, ``lead_stage`` and ``lifecycle_stage``; stage changes go to
``stage_history`` for ``stage_change`` conditions.
"""

from cli.scoring.leads import LEAD_STAGES, RuleHits
from cli.scoring.lifecycle import LIFECYCLE_STAGES
from cli.scoring.refresh import (
    ScoreRun,
    ensure_fresh_scores,
    lead_distribution,
    lifecycle_distribution,
    refresh_scores,
    rfm_distribution,
)
from cli.scoring.rfm import RFM_SEGMENT_GRID, RFM_SEGMENTS

__all__ = [
    "LEAD_STAGES",
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "RFM_SEGMENT_GRID",
    "RuleHits",
    "ScoreRun",
    "ensure_fresh_scores",
    "lead_distribution",
    "lifecycle_distribution",
    "refresh_scores",
    "rfm_distribution",
]
