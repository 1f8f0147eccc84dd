"""Golden segment cases: YAML fixtures holding a segment and the SQL it compiles
to (with its parameters), or the error it must raise. To update a SQL fixture
after an intended compiler change, run this file with GOLDEN_UPDATE=1 and
review the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import yaml

from cli.errors import SegmentError
from cli.segmenting import compile_segment, load_segment_text
from cli.segmenting.loader import SegmentLibrary
from tests.unit.segmenting.conftest import make_settings

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "segments" / "golden"
AS_OF = date(2026, 6, 15)
CASES = sorted(GOLDEN.glob("*.yaml"))


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (segments, SQL) as readable literal blocks."""


_BlockDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


def _compile(case: dict, tmp_path: Path):
    settings = make_settings(tmp_path)
    library = SegmentLibrary(folder=None)
    for name, text in (case.get("others") or {}).items():
        other = load_segment_text(text, settings, Path(f"{name}.yaml"))
        library.add(other)
    spec = load_segment_text(case["segment"], settings)
    library.add(spec)
    return compile_segment(spec, settings=settings, as_of=AS_OF, library=library)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path, tmp_path: Path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "error" in case:
        with pytest.raises(SegmentError) as raised:
            _compile(case, tmp_path)
        assert case["error"] in str(raised.value)
        return
    compiled = _compile(case, tmp_path)
    params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in compiled.params.items()}
    if os.environ.get("GOLDEN_UPDATE"):
        case["sql"] = compiled.sql + "\n"
        case["params"] = params
        path.write_text(yaml.dump(case, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    assert compiled.sql == case["sql"].rstrip("\n")
    assert params == case["params"]


def test_values_never_reach_the_sql_text(tmp_path: Path):
    case = yaml.safe_load((GOLDEN / "injection-values.yaml").read_text(encoding="utf-8"))
    compiled = _compile(case, tmp_path)
    for needle in ("DROP", "DELETE", "a'b", "c;d"):
        assert needle not in compiled.sql
    assert "x'); DROP TABLE contacts; --" in compiled.params.values()
