"""The demo's people stage: skips on an empty base, writes one export otherwise."""

from __future__ import annotations

import json
from datetime import date

from cli.demo import DemoContext, DemoReport, _stage_people
from cli.settings import Settings
from tests.unit.people.helpers import small_base


def _context(con, tmp_path):
    report = DemoReport(database=tmp_path / "x.duckdb", out_dir=tmp_path, as_of=date(2026, 11, 1))
    return DemoContext(con=con, settings=Settings(), sample_dir=tmp_path, out_dir=tmp_path, as_of=date(2026, 11, 1),
                       report=report)


def test_people_stage_skips_an_empty_base(con, tmp_path):
    ctx = _context(con, tmp_path)
    _stage_people(ctx)
    assert ctx.report.steps[0].summary.startswith("skipped")
    assert ctx.report.outputs == []


def test_people_stage_writes_an_export(con, tmp_path):
    small_base(con)
    ctx = _context(con, tmp_path)
    _stage_people(ctx)
    (path,) = ctx.report.outputs
    assert json.loads(path.read_text())["email"] == "helene.martin@example.org"
