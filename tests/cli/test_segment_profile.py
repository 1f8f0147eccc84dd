"""`crmseg segment profile`: the persona of a segment, from the command line."""

from __future__ import annotations

import json

from tests.unit.reporting.conftest import small_base  # noqa: F401 - fixture


def test_profile_of_a_segment(small_base, invoke, tmp_path):  # noqa: F811
    small_base.close()
    (tmp_path / "crmseg.yaml").write_text(
        "fields:\n  interests: {type: multiselect, options: [animaux, education, environnement]}\n"
    )
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "donors.yaml").write_text(
        "description: people who gave\npurpose: analysis\nwhere: {gift_count: {gte: 1}}\n"
    )
    result = invoke("--as-of", "2026-11-20", "--json", "segment", "profile", "donors")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["size"] == 2  # Anne and Béa gave before the as-of date
    assert data["giving"]["median_gift"] == 30.0
    assert data["persona"].startswith("Mostly women (100%)")

    plain = invoke("--as-of", "2026-11-20", "segment", "profile", "donors")
    assert plain.exit_code == 0
    assert "Persona: Mostly women" in plain.stdout


def test_profile_of_an_unknown_segment_is_exit_2(invoke, tmp_path):
    (tmp_path / "segments").mkdir()
    result = invoke("segment", "profile", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr
