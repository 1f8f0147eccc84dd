"""Running the cleaning passes in SPEC order, as one transaction.

``run_cleaning`` runs the selected passes inside one transaction: it commits
(and checkpoints, so erased values leave the write-ahead log) on a real run
and rolls back on ``dry_run``, so a dry run reports exactly the figures the
real run would, and keeps nothing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from cli.cleaning.base import CleaningContext, CleaningPass, PassReport
from cli.cleaning.bounces import BouncesPass
from cli.cleaning.complaints import ComplaintsPass
from cli.cleaning.duplicates import DuplicatesPass
from cli.cleaning.inactive import InactivePass
from cli.cleaning.invalid import InvalidPass
from cli.cleaning.retention import RetentionPass
from cli.cleaning.unsubscribes import UnsubscribesPass
from cli.errors import InputError
from cli.settings import Settings
from cli.store import log_action
from cli.suppression import fill_missing_keys
from cli.yamlfile import did_you_mean

PASSES: tuple[CleaningPass, ...] = (
    BouncesPass(),
    UnsubscribesPass(),
    ComplaintsPass(),
    InvalidPass(),
    DuplicatesPass(),
    InactivePass(),
    RetentionPass(),
)
PASS_NAMES = tuple(p.name for p in PASSES)


@dataclass
class CleaningResult:
    run_id: int
    as_of: date
    dry_run: bool
    reports: list[PassReport] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.reports)

    def as_dict(self) -> dict[str, Any]:
        return {
            # A dry run is rolled back: its id names no run that `clean --undo` could find.
            "run_id": None if self.dry_run else self.run_id,
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "changed": self.changed,
            "passes": [r.as_dict() for r in self.reports],
        }


def select_passes(only: list[str] | None = None, skip: list[str] | None = None) -> list[CleaningPass]:
    """The passes to run, in SPEC order; an unknown name is an ``InputError`` with a suggestion.

    Names are matched without regard to case. An ``--only`` given but naming
    nothing (``--only ""`` from a script whose variable is empty), or a
    selection that leaves no pass, is an error rather than a silent run of
    every pass (retention among them) or of none.
    """
    choices = ", ".join(PASS_NAMES)
    for option, names in (("--only", only), ("--skip", skip)):
        if names is not None and not names:
            raise InputError(f"{option} names no pass. Give pass names, comma-separated: {choices}.")
        for name in names or []:
            if name not in PASS_NAMES:
                raise InputError(
                    f"{option}: unknown pass `{name}`.{did_you_mean(name, list(PASS_NAMES))} "
                    f"The passes are: {choices}."
                )
    selected = [p for p in PASSES if (not only or p.name in only) and p.name not in (skip or [])]
    if not selected:
        raise InputError(
            f"--only {','.join(only or PASS_NAMES)} with --skip {','.join(skip or [])} leaves no pass to run. "
            "Drop the pass from --skip, or leave --skip out."
        )
    return selected


def split_names(values: list[str] | None) -> list[str] | None:
    """``--only a,b --only c`` -> ['a', 'b', 'c'] (commas, semicolons or spaces; any case).

    ``None`` when the option was not given; an empty list when it was given but named nothing.
    """
    if values is None:
        return None
    return [n.lower() for v in values for n in re.split(r"[\s,;]+", v) if n]


def run_cleaning(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: date,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    dry_run: bool = False,
) -> CleaningResult:
    """Run the selected passes in order; every change is logged in ``cleaning_changes`` and ``audit_log``."""
    passes = select_passes(only, skip)
    run_id = con.execute("SELECT nextval('clean_run_id_seq')").fetchone()[0]
    result = CleaningResult(run_id=run_id, as_of=as_of, dry_run=dry_run)
    ctx = CleaningContext(con=con, settings=settings, as_of=as_of, run_id=run_id, dry_run=dry_run)
    # DuckDB's own progress bar would write to the user's terminal in the middle of our output.
    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN TRANSACTION")
    try:
        fill_missing_keys(con)
        for cleaning_pass in passes:
            started = time.perf_counter()
            report = cleaning_pass.run(ctx)
            report.seconds = time.perf_counter() - started
            result.reports.append(report)
            log_action(con, "clean", cleaning_pass.name, {"run_id": run_id, "as_of": as_of, **report.as_dict()})
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if dry_run:
        con.execute("ROLLBACK")
    else:
        con.execute("COMMIT")
        if any(r.name == "retention" and r.changed for r in result.reports):
            con.execute("CHECKPOINT")
    return result
