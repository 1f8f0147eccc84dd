"""Running segments: membership, run records, exports, explain, diff, overlap.

A run evaluates a segment's compiled query (its ``where`` and its purpose
rules) and records the members (``segment_runs`` + ``segment_members``)
set-wise, inside one transaction that also covers the export: the file is
written (atomically) before the run commits, so a failed export leaves no
run behind and ``--changes-only`` never skips anyone; it compares with the
last run of an earlier as-of date, so re-running a day writes the same list. Runs of several
segments are independent: one failing does not stop the others.

Scores are refreshed first when they are stale and a segment reads one
(``ensure_inputs``): a score field, a stage, a ``stage_change`` condition,
directly, through ``in_segment`` or among the export columns.

Segment queries run with DuckDB's ``enable_external_access`` off
(``restrict_external_access``): the setting is global to the database
instance and cannot be turned back on, so commands call it once they have
opened the base; exports are written by Python (Polars, xlsxwriter), not by
DuckDB.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sqlglot import exp

from cli.errors import CrmsegError, InputError, SegmentError
from cli.exporting import apply_preset, format_for_path, write_export
from cli.exporting.presets import preset_columns, preset_headers
from cli.reporting.overlap import overlap_matrix
from cli.segmenting.compiler import EMAIL_STOP_EVENTS, SCORE_FIELDS, Compiler, CompiledQuery, _all, _col, compile_segment
from cli.segmenting.loader import SegmentLibrary, definition_hash
from cli.segmenting.model import (
    AllOf,
    AnyOf,
    EventCondition,
    FieldCondition,
    GroupCondition,
    Node,
    NotOf,
    SegmentReference,
    SegmentSpec,
    StageChange,
    TagCondition,
    hint,
    walk,
)
from cli.settings import Settings
from cli.store import transaction

DEFAULT_COLUMNS = {
    "email": ["email", "first_name", "last_name"],
    "postal": ["first_name", "last_name", "organisation", "street", "postal_code", "city", "country"],
    "phone": ["first_name", "last_name", "phone"],
    "analysis": ["id", "email", "first_name", "last_name", "city"],
}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple]:
    """Execute and fetch fully (DuckDB 2 keeps a connection busy until its result is consumed)."""
    return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def restrict_external_access(con: duckdb.DuckDBPyConnection) -> None:
    """Turn DuckDB's file and network access off for the rest of this process (irreversible)."""
    _run(con, "SET enable_external_access = false")


@dataclass
class RunResult:
    """What happened to one segment in a run."""

    segment: str
    purpose: str | None = None
    run_id: int | None = None
    members: int | None = None
    joined: int | None = None
    left: int | None = None
    exported: int | None = None
    output: Path | None = None
    error: str | None = None
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment, "purpose": self.purpose, "run_id": self.run_id, "members": self.members,
            "joined": self.joined, "left": self.left, "exported": self.exported,
            "output": str(self.output) if self.output else None, "error": self.error,
            "duration_ms": self.duration_ms,
        }


def reads_scores(spec: SegmentSpec, library: SegmentLibrary | None = None, *, columns: bool = True) -> bool:
    """Whether evaluating ``spec`` reads ``contact_scores`` or ``stage_history`` (``in_segment`` followed)."""
    pending: list[tuple[SegmentSpec, bool]] = [(spec, columns)]
    seen: set[str] = set()
    while pending:
        current, with_columns = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if with_columns and any(c in SCORE_FIELDS for c in (current.export.columns or ())):
            return True
        for node, _ in walk(current.where):
            if isinstance(node, StageChange) or (isinstance(node, FieldCondition) and node.field in SCORE_FIELDS):
                return True
            if isinstance(node, SegmentReference) and library is not None and node.segment in library.segments:
                pending.append((library.segments[node.segment], False))
    return False


def ensure_inputs(con: duckdb.DuckDBPyConnection, specs: list[SegmentSpec], *, settings: Settings, as_of: date,
                  library: SegmentLibrary | None = None) -> bool:
    """Bring what these segments read up to date; return whether the event summary answers at ``as_of``.

    The scores are refreshed when one of the segments reads a score and they
    are stale; the event summary is rebuilt when a writer left it behind.
    """
    from cli.event_summary import prepare_summary

    summary = prepare_summary(con, as_of)
    if any(reads_scores(spec, library) for spec in specs):
        from cli.scoring import ensure_fresh_scores

        ensure_fresh_scores(con, settings, as_of)
    return summary


def export_columns(spec: SegmentSpec, preset: str | None = None) -> list[str]:
    """The columns a segment's export holds (its ``export.columns`` or the purpose's default)."""
    columns = list(spec.export.columns or DEFAULT_COLUMNS[spec.purpose])
    return preset_columns(columns) if preset else columns


def phone_columns(columns: list[str], settings: Settings) -> set[str]:
    """Columns holding validated E.164 phones (written unchanged)."""
    return {c for c in columns if c == "phone" or (c in settings.fields and settings.fields[c].type == "phone")}


def previous_run(con: duckdb.DuckDBPyConnection, segment: str, before: int | None = None) -> int | None:
    """The id of the latest run of ``segment`` (before run ``before``), None if none."""
    row = con.execute(
        "SELECT max(id) FROM segment_runs WHERE segment = ? AND (? IS NULL OR id < ?)", [segment, before, before]
    ).fetchall()[0]
    return row[0] if row else None


def baseline_run(con: duckdb.DuckDBPyConnection, segment: str, as_of: date) -> int | None:
    """The run ``--changes-only`` compares with: the latest run of ``segment`` at an earlier as-of date.

    Not simply the latest run: a cron job retried the same day (or a run by
    hand after it) would then find that nobody joined since and overwrite
    the day's list with an empty one, and those people would never be
    exported. Runs of the same day all start from the last earlier day.
    """
    row = con.execute(
        "SELECT max(id) FROM segment_runs WHERE segment = ? AND as_of < ?", [segment, as_of]
    ).fetchall()[0]
    return row[0] if row else None


def member_frame(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date, run_id: int,
                 columns: list[str], *, only_new_since: int | None = None,
                 summary: bool | None = None, emailable_only: bool = False,
                 include_inactive: bool = False) -> pl.DataFrame:
    """The export columns of the members of run ``run_id`` (only those absent from run ``only_new_since``).

    ``emailable_only``: the ``email`` column holds only addresses the email
    purpose rules allow (``include_inactive`` as in a segment); the others are null.
    """
    compiler = Compiler(settings, as_of, con=con, summary=summary)
    values = [(name, compiler.field_value(name)) for name in columns]
    if emailable_only:
        allowed = _all([rule for _, rule in compiler.purpose_rules("email", include_inactive)])
        values = [(name, exp.Case().when(allowed, value) if name == "email" else value) for name, value in values]
    members = exp.select(_col("contact_id")).from_(exp.to_table("segment_members"))\
        .where(exp.EQ(this=_col("run_id"), expression=compiler.param(run_id)))
    conditions = [_col("id", "c").isin(query=members)]
    if only_new_since is not None:
        before = exp.select(_col("contact_id")).from_(exp.to_table("segment_members"))\
            .where(exp.EQ(this=_col("run_id"), expression=compiler.param(only_new_since)))
        conditions.append(exp.not_(_col("id", "c").isin(query=before)))
    query = compiler.select(values, _all(conditions), order=True)
    compiled = compiler.render(query, pretty=False)
    # Polars reads DuckDB's Arrow stream directly (``.pl()`` would import pyarrow first: ~80 ms).
    return pl.DataFrame(con.sql(compiled.sql, params=compiled.params))


def _record_run(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, compiled: CompiledQuery, as_of: date) -> int:
    run_id = con.execute(
        "INSERT INTO segment_runs (segment, as_of, definition_hash, member_count) VALUES (?, ?, ?, 0) RETURNING id",
        [spec.name, as_of, definition_hash(spec.definition)],
    ).fetchall()[0][0]
    # The compiled query is built from the schema and bound parameters only.
    insert = "INSERT INTO segment_members (run_id, contact_id) SELECT $run_id, contact_id FROM (" + compiled.sql + ")"
    params = dict(compiled.params, run_id=run_id)
    try:
        _run(con, insert, params)
    except duckdb.Error as e:
        raise SegmentError(f"{spec.locate(('where',))}: the segment query failed in DuckDB "
                           f"({str(e).splitlines()[0]}).") from e
    count = con.execute("SELECT count(*) FROM segment_members WHERE run_id = ?", [run_id]).fetchall()[0][0]
    _run(con, "UPDATE segment_runs SET member_count = ? WHERE id = ?", [count, run_id])
    return run_id


def _changes(con: duckdb.DuckDBPyConnection, run_id: int, before: int | None) -> tuple[int | None, int | None]:
    if before is None:
        return None, None
    joined, left = con.execute(
        """
        SELECT
          (SELECT count(*) FROM segment_members m WHERE m.run_id = $now
             AND m.contact_id NOT IN (SELECT contact_id FROM segment_members WHERE run_id = $before)),
          (SELECT count(*) FROM segment_members m WHERE m.run_id = $before
             AND m.contact_id NOT IN (SELECT contact_id FROM segment_members WHERE run_id = $now))
        """,
        {"now": run_id, "before": before},
    ).fetchall()[0]
    return joined, left


def run_segment(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, *, settings: Settings, as_of: date,
                library: SegmentLibrary | None = None, out: Path | None = None, fmt: str | None = None,
                preset: str | None = None, changes_only: bool = False, summary: bool | None = None) -> RunResult:
    """Run one segment: record its members and, with ``out``, write its list. Raises on failure.

    ``summary``: whether the event summary may answer (``ensure_inputs``); None checks it.
    """
    started = time.perf_counter()
    result = RunResult(segment=spec.name, purpose=spec.purpose)
    compiled = compile_segment(spec, settings=settings, as_of=as_of, library=library, con=con, summary=summary)
    preset = preset or spec.export.preset
    if out is not None:
        implied = format_for_path(out)
        if fmt and implied and fmt != implied:
            raise InputError(f"{out}: --format {fmt} does not fit a file named .{out.suffix.lstrip('.').lower()}; "
                             f"name it .{fmt}, or drop --format.")
        if not (fmt or implied or spec.export.format) and out.suffix:
            # `list.tsv`, `list.xls` or `list.docx` would get comma-separated text under a name that promises more.
            raise InputError(f"{out}: crmseg writes .csv (comma-separated), .xlsx, .json or .parquet files; "
                             "name the file so, or say which with --format.")
        fmt = fmt or implied or spec.export.format or "csv"
    with transaction(con):
        before = previous_run(con, spec.name)
        run_id = _record_run(con, spec, compiled, as_of)
        result.run_id = run_id
        result.members = con.execute("SELECT member_count FROM segment_runs WHERE id = ?", [run_id]).fetchall()[0][0]
        result.joined, result.left = _changes(con, run_id, before)
        if out is not None:
            columns = export_columns(spec, preset)
            # A preset makes a file for an emailing tool: whatever the segment's purpose (a postal or
            # phone list, an analysis), no address the email rules leave out may reach it.
            frame = member_frame(con, settings, as_of, run_id, columns,
                                 only_new_since=baseline_run(con, spec.name, as_of) if changes_only else None,
                                 summary=summary,
                                 emailable_only=bool(preset) and spec.purpose != "email",
                                 include_inactive=spec.include_inactive)
            phones = phone_columns(columns, settings)
            if preset:
                headers = preset_headers(frame.columns, preset)
                phones = {headers[c] for c in phones}
                frame = apply_preset(frame, preset)
            result.exported = write_export(frame, out, fmt, phone_columns=phones)
            result.output = out
            _run(con, "UPDATE segment_runs SET output = ? WHERE id = ?", [str(out), run_id])
    result.duration_ms = int((time.perf_counter() - started) * 1000)
    return result


def run_segments(con: duckdb.DuckDBPyConnection, library: SegmentLibrary, names: list[str], *,
                 settings: Settings, as_of: date, out: Path | None = None, out_dir: Path | None = None,
                 fmt: str | None = None, preset: str | None = None, changes_only: bool = False) -> list[RunResult]:
    """Run each named segment; failures are returned in their result, the others still run."""
    if out is not None and len(names) != 1:
        raise InputError("--out writes one list: give one segment, or use --out-dir DIR for several.")
    if out_dir is not None:
        if Path(out_dir).exists() and not Path(out_dir).is_dir():
            raise InputError(f"{out_dir}: --out-dir names a file, not a folder.")
        # A cron job's first run should not fail for want of its folder.
        try:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{out_dir}: cannot create the --out-dir folder ({e.strerror or e}).") from e
    results = []
    for name in names:
        try:
            spec = library.get(name)
            summary = ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
            target = out
            if out_dir is not None:
                extension = fmt or spec.export.format or "csv"
                target = Path(out_dir) / f"{spec.name}.{extension}"
            results.append(run_segment(con, spec, settings=settings, as_of=as_of, library=library, out=target,
                                       fmt=fmt, preset=preset, changes_only=changes_only, summary=summary))
        except CrmsegError as e:
            results.append(RunResult(segment=name, error=str(e)))
    return results


# --- reading the base ---------------------------------------------------------

def count_members(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, *, settings: Settings, as_of: date,
                  library: SegmentLibrary | None = None) -> int:
    """How many contacts the segment holds now (purpose rules applied), without recording a run."""
    summary = ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
    compiled = compile_segment(spec, settings=settings, as_of=as_of, library=library, con=con, summary=summary)
    rows = compiled.execute(con)
    return len(rows)


def current_members(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, *, settings: Settings, as_of: date,
                    library: SegmentLibrary | None = None, fresh: bool | None = None) -> set[int]:
    """The contact ids the segment holds now.

    ``fresh``: the caller already called ``ensure_inputs``, which said whether the summary answers.
    """
    summary = fresh
    if fresh is None:
        summary = ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
    compiled = compile_segment(spec, settings=settings, as_of=as_of, library=library, con=con, summary=summary)
    return {r[0] for r in compiled.execute(con)}


def last_runs(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """The latest run of every segment: size, time, as-of."""
    rows = con.execute(
        "SELECT segment, member_count, run_at, as_of FROM segment_runs "
        "QUALIFY row_number() OVER (PARTITION BY segment ORDER BY id DESC) = 1"
    ).fetchall()
    return {r[0]: {"members": r[1], "run_at": r[2], "as_of": r[3]} for r in rows}


def diff_runs(con: duckdb.DuckDBPyConnection, segment: str, limit: int | None = None,
              known: list[str] | None = None) -> dict[str, Any]:
    """Who joined and who left between the two latest runs of ``segment`` (the first ``limit`` of each, by id).

    ``joined_count`` and ``left_count`` count all of them. After a single run
    there is nothing to compare with: ``first_run`` is true, ``previous`` is
    None and every member of that run counts as joined (as ``run
    --changes-only`` exports everyone on a first run). ``known``: the segment
    names of the folder, to tell a misspelt name from a segment not run yet.
    """
    latest = previous_run(con, segment)
    if latest is None:
        ran = [r[0] for r in con.execute("SELECT DISTINCT segment FROM segment_runs").fetchall()]
        names = sorted(set(ran) | set(known or ()))
        if known is not None and segment not in names:
            raise InputError(f"unknown segment `{segment}`"
                             f"{hint(segment, names) or ' (`crmseg segment list` shows them).'}")
        raise InputError(f"segment `{segment}` has not run yet, so there is nothing to compare: run it "
                         f"(`crmseg segment run {segment}`), and `diff` then says who joined and left at each run.")
    before = previous_run(con, segment, before=latest)
    runs = {r[0]: r[1:] for r in con.execute(
        "SELECT id, run_at, as_of, member_count, definition_hash FROM segment_runs WHERE id IN (?, ?)",
        [latest, before]).fetchall()}

    only_in_a = """
        FROM contacts c
        WHERE c.id IN (SELECT contact_id FROM segment_members WHERE run_id = $a)
          AND c.id NOT IN (SELECT contact_id FROM segment_members WHERE run_id = $b)
    """

    def people(a: int, b: int | None) -> list[dict[str, Any]]:
        rows = con.execute(
            "SELECT c.id, c.email, c.first_name, c.last_name " + only_in_a + " ORDER BY c.id LIMIT $limit",
            {"a": a, "b": b, "limit": limit},
        ).fetchall()
        return [{"id": r[0], "email": r[1], "first_name": r[2], "last_name": r[3]} for r in rows]

    def count(a: int, b: int | None) -> int:
        return con.execute("SELECT count(*) " + only_in_a, {"a": a, "b": b}).fetchall()[0][0]

    def run(run_id: int) -> dict[str, Any]:
        # `gdpr forget` removes a person from past runs too: count the members still held, so that
        # previous + joined - left = latest, and say how many of the recorded ones were erased since.
        held = con.execute("SELECT count(*) FROM segment_members WHERE run_id = ?", [run_id]).fetchall()[0][0]
        return {"run_id": run_id, "run_at": runs[run_id][0], "as_of": runs[run_id][1], "members": held,
                "erased_since": max(runs[run_id][2] - held, 0)}

    first = before is None
    return {
        "segment": segment,
        "first_run": first,
        "previous": None if first else run(before),
        "latest": run(latest),
        # A changed definition explains joins and leaves that the data alone would not.
        "definition_changed": False if first else runs[before][3] != runs[latest][3],
        "joined": people(latest, -1 if first else before),
        "left": [] if first else people(before, latest),
        "joined_count": count(latest, -1 if first else before),
        "left_count": 0 if first else count(before, latest),
    }


def overlap(con: duckdb.DuckDBPyConnection, library: SegmentLibrary, *, settings: Settings,
            as_of: date) -> dict[str, Any]:
    """How many contacts each pair of segments share now, purpose rules applied.

    A segment that cannot be compiled (an invalid file, an ``in_segment``
    cycle or unknown reference, an unknown group) is left out of the matrix
    and its error listed under ``failed``, so one broken file does not hide
    the others.
    """
    summary = ensure_inputs(con, list(library.segments.values()), settings=settings, as_of=as_of, library=library)
    failed = dict(library.errors)
    queries: dict[str, CompiledQuery] = {}
    for name in sorted(library.segments):
        try:
            queries[name] = compile_segment(library.segments[name], settings=settings, as_of=as_of, library=library,
                                            con=con, summary=summary)
        except SegmentError as e:
            failed[name] = str(e)
    names = sorted(queries)
    # Each segment's members go to a temporary table, compared there set-wise (see overlap_matrix).
    con.execute("CREATE OR REPLACE TEMP TABLE _segment_overlap (segment VARCHAR, contact_id BIGINT)")
    try:
        for name in names:
            compiled = queries[name]
            try:
                con.execute("INSERT INTO _segment_overlap SELECT $overlap_segment, contact_id FROM (" + compiled.sql + ")",
                            {**compiled.params, "overlap_segment": name})
            except duckdb.Error as e:
                raise SegmentError(f"the segment query failed in DuckDB ({str(e).splitlines()[0]}).") from e
        matrix = overlap_matrix(con, "SELECT segment, contact_id FROM _segment_overlap", names)
    finally:
        con.execute("DROP TABLE IF EXISTS _segment_overlap")
    return {"segments": names, "sizes": {n: matrix[i][i] for i, n in enumerate(names)}, "matrix": matrix,
            "pairs": overlap_pairs(names, matrix), "failed": dict(sorted(failed.items()))}


def overlap_pairs(names: list[str], matrix: list[list[int]]) -> list[dict[str, Any]]:
    """Each pair of segments that shares members, most shared first, with the share of each side.

    A share is None for a segment of no members (nothing to divide by).

    >>> overlap_pairs(["a", "b", "c"], [[4, 2, 0], [2, 8, 0], [0, 0, 0]])
    [{'a': 'a', 'b': 'b', 'shared': 2, 'share_of_a': 0.5, 'share_of_b': 0.25}]
    """
    pairs = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            shared = matrix[i][j]
            if shared:
                size_a, size_b = matrix[i][i], matrix[j][j]
                pairs.append({"a": a, "b": names[j], "shared": shared,
                              "share_of_a": round(shared / size_a, 4) if size_a else None,
                              "share_of_b": round(shared / size_b, 4) if size_b else None})
    return sorted(pairs, key=lambda p: (-p["shared"], p["a"], p["b"]))


# --- explain ----------------------------------------------------------------------

def describe(node: Node) -> str:
    """A one-line reading of a condition node."""
    if isinstance(node, AllOf):
        return "all of" if node.items else "all: [] (everyone)"
    if isinstance(node, AnyOf):
        return "any of" if node.items else "any: [] (no one)"
    if isinstance(node, NotOf):
        return "not"
    if isinstance(node, FieldCondition):
        return " and ".join(f"{node.field} {o.op} {_show(o.operand)}" for o in node.operations) or node.field
    if isinstance(node, TagCondition):
        return f"tag {node.tag}"
    if isinstance(node, GroupCondition):
        return f"in group {node.group}"
    if isinstance(node, SegmentReference):
        return f"in segment {node.segment}"
    if isinstance(node, StageChange):
        parts = [f"from {node.from_}" if node.from_ else "", f"to {node.to}" if node.to else "",
                 f"within {node.within}" if node.within else ""]
        return "stage change " + " ".join(p for p in parts if p)
    if isinstance(node, EventCondition):
        parts = []
        if node.types:
            parts.append("type " + "|".join(node.types))
        for key in ("within", "since", "until"):
            value = getattr(node, key)
            if value is not None:
                parts.append(f"{key} {value}")
        for key in ("campaign", "channel", "payment_method"):
            values = getattr(node, key)
            if values:
                parts.append(f"{key} " + "|".join(values))
        for key in ("count", "sum"):
            for o in getattr(node, key):
                parts.append(f"{key} {o.op} {_show(o.operand)}")
        return "event " + ", ".join(parts)
    return type(node).__name__


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


@dataclass
class ExplainLine:
    depth: int
    condition: str
    holds: bool
    seen: Any = None
    reads: bool = True  # whether the line looked at a value (`all`, `not`, `in_segment` do not)


@dataclass
class Explanation:
    segment: str
    contact_id: int
    member: bool
    conditions: list[ExplainLine] = field(default_factory=list)
    purpose: list[ExplainLine] = field(default_factory=list)
    purpose_name: str = "email"

    @property
    def why(self) -> str:
        """One sentence: in, or out and because of what (the conditions, or which purpose rules)."""
        failed = [line.condition for line in self.purpose if not line.holds]
        where_holds = bool(self.conditions) and self.conditions[0].holds
        if self.member:
            return "IN the segment: its conditions hold and so do the purpose rules."
        if not where_holds and not failed:
            return "NOT IN the segment: its conditions do not hold."
        rules = ", ".join(f"`{name}`" for name in failed)
        plural = "s" if len(failed) > 1 else ""
        if where_holds:
            return (f"NOT IN the segment: its conditions hold, but the {self.purpose_name} purpose rule{plural} "
                    f"{rules} fail{'' if plural else 's'}.")
        return (f"NOT IN the segment: its conditions do not hold, and the {self.purpose_name} purpose rule{plural} "
                f"{rules} fail{'' if plural else 's'} too.")


def _seen_expression(compiler: Compiler, node: Node) -> exp.Expression | None:
    if isinstance(node, FieldCondition):
        return compiler.field_value(node.field)
    if isinstance(node, TagCondition):
        return compiler.field_value("tags")
    if isinstance(node, EventCondition):
        filters = compiler.event_filters(node)
        filters.insert(0, exp.EQ(this=_col("contact_id"), expression=_col("id", "c")))
        # Missing amounts count 0, as in `sum:` (and no event at all sums to 0).
        amount = exp.func("coalesce", exp.Sum(this=exp.func("coalesce", _col("amount"), exp.Literal.number(0))),
                          exp.Literal.number(0))
        query = exp.select(exp.func("struct_pack", exp.PropertyEQ(this=exp.to_identifier("count"), expression=exp.Count(this=exp.Star())),
                                    exp.PropertyEQ(this=exp.to_identifier("sum"), expression=amount)))\
            .from_(exp.to_table("events").as_("e", quoted=True)).where(_all(filters))
        return exp.Subquery(this=query)
    if isinstance(node, GroupCondition):
        query = exp.select(exp.func("list", _col("name", "gr"))).from_(exp.to_table("group_members").as_("gm", quoted=True))\
            .join(exp.to_table("groups").as_("gr", quoted=True), on=exp.EQ(this=_col("id", "gr"), expression=_col("group_id", "gm")))\
            .where(exp.EQ(this=_col("contact_id", "gm"), expression=_col("id", "c")))
        return exp.Subquery(this=query)
    if isinstance(node, StageChange):
        # The contact's recorded stage changes up to the as-of date (sorted in Python).
        change = exp.func("struct_pack",
                          exp.PropertyEQ(this=exp.to_identifier("from"), expression=_col("previous_stage", "h")),
                          exp.PropertyEQ(this=exp.to_identifier("to"), expression=_col("stage", "h")),
                          exp.PropertyEQ(this=exp.to_identifier("on"), expression=_col("changed_at", "h")))
        query = exp.select(exp.func("list", change)).from_(exp.to_table("stage_history").as_("h", quoted=True))\
            .where(exp.and_(exp.EQ(this=_col("contact_id", "h"), expression=_col("id", "c")),
                            exp.LTE(this=_col("changed_at", "h"), expression=compiler.as_of_param)))
        return exp.Subquery(this=query)
    return None


def _suppression_reason(compiler: Compiler, key_column: str) -> exp.Expression:
    query = exp.select(exp.func("min", _col("reason", "sx"))).from_(exp.to_table("suppressions").as_("sx", quoted=True))\
        .where(exp.EQ(this=_col("key", "sx"), expression=_col(key_column, "c")))
    return exp.Subquery(this=query)


def _rule_seen(compiler: Compiler, rule: str) -> exp.Expression | None:
    """What a purpose rule looked at, so that explain can say why it fails (None: the rule says it all)."""
    def pack(**columns: exp.Expression) -> exp.Expression:
        return exp.func("struct_pack", *[exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in columns.items()])

    if rule in ("status active", "not merged or erased", "not deceased"):
        return pack(status=_col("status", "c"), reason=_col("status_reason", "c"))
    if rule == "has an email":
        return _col("email", "c")
    if rule == "consents to email":
        return pack(consent_email=_col("consent_email", "c"), basis=_col("consent_basis", "c"),
                    consent_at=_col("consent_at", "c"), withdrawn_at=_col("consent_withdrawn_at", "c"))
    if rule == "email not suppressed":
        return pack(key=exp.not_(exp.Is(this=_col("email_key", "c"), expression=exp.Null())),
                    suppressed=_suppression_reason(compiler, "email_key"))
    if rule == "email not invalid":
        return _col("email_quality", "c")
    if rule.startswith("no unsubscribe"):
        stops = [compiler.named(f"stop_type_{i + 1}", t) for i, t in enumerate(EMAIL_STOP_EVENTS)]
        when = _col("occurred_at", "se")
        query = exp.select(pack(type=exp.func("arg_max", _col("type", "se"), when), on=exp.func("max", when)))\
            .from_(exp.to_table("events").as_("se", quoted=True))\
            .where(exp.and_(
                exp.EQ(this=_col("contact_id", "se"), expression=_col("id", "c")),
                _col("type", "se").isin(*stops),
                exp.LT(this=when, expression=compiler.as_of_end),
                exp.or_(exp.Is(this=_col("consent_at", "c"), expression=exp.Null()),
                        exp.GT(this=when, expression=_col("consent_at", "c"))),
            ))
        return exp.Subquery(this=query)
    if rule in ("not flagged inactive", INACTIVE_ALLOWED):
        return _col("is_inactive", "c")
    if rule == "has a postal address":
        return pack(street=_col("street", "c"), postal_code=_col("postal_code", "c"), city=_col("city", "c"))
    if rule == "has a phone":
        return _col("phone", "c")
    if rule == "phone not suppressed":
        return _suppression_reason(compiler, "phone_key")
    return None


INACTIVE_ALLOWED = "inactive contacts allowed (include_inactive: true)"


def _explained_nodes(spec: SegmentSpec, library: SegmentLibrary):
    """Every node of ``spec``'s ``where``, depth first, with its depth and the chain of segments it belongs to;
    an ``in_segment`` node is followed by the named segment's own conditions, one level deeper."""
    def visit(node: Node, depth: int, chain: list[SegmentSpec]):
        yield node, depth, chain
        if isinstance(node, (AllOf, AnyOf)):
            for child in node.items:
                yield from visit(child, depth + 1, chain)
        elif isinstance(node, NotOf):
            yield from visit(node.item, depth + 1, chain)
        elif isinstance(node, SegmentReference) and node.segment in library.segments \
                and node.segment not in [s.name for s in chain]:
            named = library.segments[node.segment]
            yield from visit(named.where, depth + 1, [*chain, named])

    yield from visit(spec.where, 0, [spec])


def explain(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, contact_id: int, *, settings: Settings,
            as_of: date, library: SegmentLibrary | None = None) -> Explanation:
    """Each condition of the segment, true or false for one contact, with the values it saw."""
    found = explain_contacts(con, spec, [contact_id], settings=settings, as_of=as_of, library=library)
    if not found:
        raise InputError(f"no contact with id {contact_id}.")
    return found[0]


def _plain(value: Any) -> Any:
    """A value read from DuckDB as JSON would want it: amounts as numbers, stage changes in date order."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        if items and all(isinstance(v, dict) and "on" in v for v in items):
            items.sort(key=lambda v: (v["on"] is None, v["on"]))
        return items
    return value


def explain_contacts(con: duckdb.DuckDBPyConnection, spec: SegmentSpec, contact_ids: list[int] | None, *,
                     settings: Settings, as_of: date, library: SegmentLibrary | None = None) -> list[Explanation]:
    """``explain`` for several contacts at once (every contact row when ``contact_ids`` is None), by id.

    One query evaluates every condition node and purpose rule for each contact,
    compiled by the same ``Compiler`` as ``segment run``, so the verdict is the
    run's by construction; checks compare the two over a whole base with it.
    The conditions of a segment named by ``in_segment`` are listed under it.
    """
    summary = ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
    compiler = Compiler(settings, as_of, library=library, con=con, summary=summary)
    nodes = []
    columns: list[tuple[str, exp.Expression]] = [("contact_id", _col("id", "c"))]
    for index, (node, depth, chain) in enumerate(_explained_nodes(spec, compiler.library)):
        compiler.stack[:] = chain  # errors name the file the node comes from; cycles are found as in a run
        columns.append((f"holds_{index}", compiler.condition(node)))
        seen = _seen_expression(compiler, node)
        columns.append((f"seen_{index}", seen if seen is not None else exp.null()))
        nodes.append((node, depth, seen is not None))
    compiler.stack[:] = [spec]
    rules = compiler.purpose_rules(spec.purpose, spec.include_inactive)
    shown = list(rules)
    if spec.purpose == "email" and spec.include_inactive:
        shown.append((INACTIVE_ALLOWED, exp.true()))
    rule_reads = []
    for index, (name, rule) in enumerate(shown):
        columns.append((f"rule_{index}", rule))
        seen = _rule_seen(compiler, name)
        columns.append((f"rule_seen_{index}", seen if seen is not None else exp.null()))
        rule_reads.append(seen is not None)
    if contact_ids is None:
        where: exp.Expression = exp.true()
    else:
        where = _col("id", "c").isin(*[compiler.param(int(i)) for i in contact_ids]) if contact_ids else exp.false()
    compiled = compiler.render(compiler.select(columns, where, order=True), pretty=False)
    try:
        rows = con.execute(compiled.sql, compiled.params).fetchall()
    except duckdb.Error as e:
        raise SegmentError(f"explaining `{spec.name}` failed in DuckDB ({str(e).splitlines()[0]}).") from e
    results = []
    for row in rows:
        result = Explanation(segment=spec.name, contact_id=row[0], member=False, purpose_name=spec.purpose)
        for index, (node, depth, reads) in enumerate(nodes):
            seen = _plain(row[2 + 2 * index])
            if seen is None and isinstance(node, (GroupCondition, StageChange)):
                seen = []
            result.conditions.append(ExplainLine(depth, describe(node), bool(row[1 + 2 * index]), seen, reads))
        offset = 1 + 2 * len(nodes)
        for index, (name, _) in enumerate(shown):
            seen = _plain(row[offset + 2 * index + 1])
            result.purpose.append(ExplainLine(0, name, bool(row[offset + 2 * index]), seen, rule_reads[index]))
        result.member = bool(row[1]) and all(line.holds for line in result.purpose)
        results.append(result)
    return results


def show_seen(value: Any) -> str:
    """A value explain saw, as a person reads it (``null`` for no value: it satisfies no comparison).

    >>> show_seen({"count": 2, "sum": 35.0}), show_seen(["newsletter", "vip"]), show_seen(None)
    ('2 events, sum 35', 'newsletter, vip', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.2f}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "to" in v for v in value):
            return "; ".join(f"{v['from'] or '(none)'} -> {v['to']} on {show_seen(v['on'])}" for v in value)
        return ", ".join(show_seen(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        if set(value) == {"count", "sum"}:
            if not value["count"]:
                return "no matching event"
            events = "1 event" if value["count"] == 1 else f"{value['count']} events"
            return f"{events}, sum {show_seen(value['sum'])}"
        if set(value) == {"status", "reason"}:
            return value["status"] + (f" ({value['reason']})" if value["reason"] else "")
        if set(value) == {"key", "suppressed"}:
            if not value["key"]:
                return "no key computed for this email"
            return f"suppressed ({value['suppressed']})" if value["suppressed"] else "not in the ledger"
        if set(value) == {"type", "on"}:
            return "none" if value["type"] is None else f"{value['type']} on {show_seen(value['on'])}"
        return ", ".join(f"{k.replace('_', ' ')} {show_seen(v)}" for k, v in value.items())
    return str(value)
