"""End to end over sample_data/: what `make demo` runs, as a user would run it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import duckdb


def test_demo_runs_the_pipeline_on_the_sample_association(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "--json", "demo", "--out-dir", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    # Under --json, stderr stays empty to the end (no teardown noise from the bindings either).
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    steps = {step["step"]: step["summary"] for step in summary["steps"]}
    assert list(steps) == ["import", "clean", "score", "segments", "profile", "people", "stats", "report"]
    # 1962: phone-only rows whose first name has a typo (Sylie for Sylvie) are not folded at import;
    # `clean` merges them or leaves them for review.
    assert "contacts_crm.csv: 1962 in" in steps["import"]
    assert "8 lists written" in steps["segments"]
    # The stats line counts the people held now, the records merged away apart.
    con = duckdb.connect(str(out / "crmseg.duckdb"), read_only=True)
    live, merged = con.execute(
        "SELECT count(*) FILTER (WHERE status IN ('active', 'suppressed')), count(*) FILTER (WHERE status = 'merged') "
        "FROM contacts").fetchone()
    con.close()
    assert merged and steps["stats"].startswith(f"{live} contacts ({merged} merged away), ")
    assert steps["profile"].startswith("relance-animaux")
    assert (out / "report.html").exists()
    assert str(out / "report.html") in summary["outputs"]

    # No email list holds an address the ledger suppresses, or one no active contact has.
    con = duckdb.connect(str(out / "crmseg.duckdb"), read_only=True)
    blocked = {r[0] for r in con.execute(
        "SELECT email FROM contacts WHERE email IS NOT NULL AND (email_key IN (SELECT key FROM suppressions) "
        "OR email NOT IN (SELECT email FROM contacts WHERE status = 'active' AND email IS NOT NULL))").fetchall()}
    con.close()
    assert blocked  # the sample plants bounces, unsubscribes and complaints
    listed = set()
    for name in ("relance-animaux", "nouveaux-donateurs", "donateurs-a-risque", "inactifs-a-relancer"):
        with open(out / "lists" / f"{name}.csv", encoding="utf-8") as handle:
            listed |= {row["email"] for row in csv.DictReader(handle)}
    assert listed and not (listed & blocked)
