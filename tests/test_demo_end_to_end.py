"""End to end over sample_data/: what `make demo` runs, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_runs_the_pipeline_on_the_sample_association(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "--json", "demo", "--out-dir", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    steps = {step["step"] for step in summary["steps"]}
    assert "report" in steps
    assert (out / "crmseg.duckdb").exists()
    assert (out / "report.html").exists()
    assert str(out / "report.html") in summary["outputs"]
