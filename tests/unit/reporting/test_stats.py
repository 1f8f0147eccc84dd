"""Every figure of stats and the report against the hand-made base."""

from __future__ import annotations

from cli.reporting.overlap import last_run_overlap
from cli.reporting.stats import collect_stats


def test_counts_and_statuses(small_base):
    stats = collect_stats(small_base)
    assert stats["counts"]["contacts"] == 6
    assert stats["counts"]["events"] == 6
    assert stats["contacts_by_status"] == {"active": 4, "merged": 1, "suppressed": 1}


def test_data_quality_over_live_contacts(small_base):
    quality = collect_stats(small_base)["data_quality"]
    # live: 1..5 (6 is merged). Valid email: 1, 2, 3 (role is still valid; 4 is disposable; 5 has none).
    assert quality["live_contacts"] == 5
    assert quality["valid_email"] == 0.6
    assert quality["phone"] == 0.2
    assert quality["postal_address"] == 0.6  # 1, 2, 5 have street + postal code + city
    assert quality["birth_date"] == 0.8
    assert quality["invalid_addresses"] == 1
    assert quality["role_addresses"] == 1
    assert quality["pending_duplicate_pairs"] == 1


def test_stages_in_funnel_order(small_base):
    stages = collect_stats(small_base)["contacts_by_stage"]
    assert list(stages.items()) == [("prospect", 2), ("active_customer", 1), ("inactive_customer", 1)]


def test_segment_sizes_are_from_the_last_run(small_base):
    segments = collect_stats(small_base)["segments"]
    assert [(s["segment"], s["members"]) for s in segments] == [("b", 3), ("a", 1)]


def test_overlap_uses_last_runs(small_base):
    overlap = last_run_overlap(small_base)
    assert overlap["segments"] == ["a", "b"]
    # a's last run holds only contact 2; b holds 1, 2, 3.
    assert overlap["matrix"] == [[1, 1], [1, 3]]


def test_every_unusable_quality_the_invalid_pass_sets_counts_as_invalid(small_base):
    small_base.execute(
        "INSERT INTO contacts (email, status, email_quality) VALUES "
        "('marie@example.org', 'suppressed', 'reserved_domain'), ('x@nodot', 'suppressed', 'invalid_domain')"
    )
    quality = collect_stats(small_base)["data_quality"]
    assert quality["live_contacts"] == 7
    assert quality["invalid_addresses"] == 3  # disposable, reserved, impossible domain
    assert quality["valid_email"] == round(3 / 7, 4)


def test_overlap_matrix_equals_set_intersections(small_base):
    import random

    rng = random.Random(4)
    members = {f"s{i}": {rng.randrange(1_000, 60_000) for _ in range(rng.choice([0, 1, 500, 5_000]))} for i in range(6)}
    for run_id, (name, ids) in enumerate(members.items(), start=100):
        small_base.execute(
            "INSERT INTO segment_runs (id, segment, as_of, member_count) VALUES (?, ?, DATE '2026-01-01', ?)",
            [run_id, name, len(ids)],
        )
        small_base.execute("INSERT INTO segment_members SELECT ?, unnest(?::BIGINT[])", [run_id, sorted(ids)])
    overlap = last_run_overlap(small_base)
    names = overlap["segments"]
    expected = {"a": {2}, "b": {1, 2, 3}, **members}
    assert overlap["matrix"] == [[len(expected[x] & expected[y]) for y in names] for x in names]


def test_events_after_as_of_are_counted_apart(small_base):
    from .conftest import AS_OF

    stats = collect_stats(small_base, AS_OF)
    assert stats["counts"]["events"] == 5  # the gift of 25 December is after the as-of date
    assert stats["counts"]["events_after_as_of"] == 1
    assert stats["events_by_type"] == {"donation": 3, "email_open": 2}


def test_segment_sizes_join_the_folder_and_the_runs(small_base):
    folder = {"a": None, "c": None, "d": "d.yaml, line 2: unknown field `x`"}
    segments = {s["segment"]: s for s in collect_stats(small_base, folder=folder)["segments"]}
    assert [s for s in segments] == ["b", "a", "c", "d"]  # largest first, never-run ones last
    assert segments["b"]["in_folder"] is False  # ran once, its file is gone
    assert segments["a"]["members"] == 1 and segments["a"]["in_folder"] is True
    assert segments["c"]["members"] is None and segments["c"]["error"] is None
    assert segments["d"]["error"].startswith("d.yaml, line 2")


def test_report_sources_beyond_the_top_are_summed_so_the_bars_add_up(small_base):
    from cli.reporting.html_report import TOP_SOURCES, report_data

    from .conftest import AS_OF

    small_base.execute(
        "INSERT INTO contacts (id, email, source, status) "
        "SELECT 100 + i, 's' || i || '@exemple.fr', 'salon-' || (i % 15), 'active' FROM range(30) t(i)"
    )
    sources = report_data(small_base, AS_OF)["sources"]
    assert len(sources) == TOP_SOURCES
    assert sources[-1]["source"] == f"({15 + 3 - (TOP_SOURCES - 1)} other sources)"  # 15 salons, crm, web, none
    live = collect_stats(small_base)["data_quality"]["live_contacts"]
    assert sum(s["contacts"] for s in sources) == live


def test_report_writes_numbers_and_shares_one_way(con):
    from cli.reporting.html_report import render_html, report_data

    from .conftest import AS_OF

    # 1,500 live contacts, two in three with an email: 67% everywhere, 1 500 everywhere.
    con.execute(
        "INSERT INTO contacts (email, status) "
        "SELECT CASE WHEN i % 3 <> 0 THEN 'p' || i || '@exemple.fr' END, 'active' FROM range(1500) t(i)"
    )
    html = render_html(report_data(con, AS_OF))
    kpis = html[html.index('class="kpis"'):html.index('class="grid"')]
    assert "<b>1\u202f500</b>live contacts" in kpis
    assert "<b>67%</b>with a valid email" in kpis
    quality = html[html.index('id="quality"'):]
    assert ">67%</text>" in quality and "66.7" not in quality


def test_each_data_quality_share_comes_with_its_count(small_base):
    quality = collect_stats(small_base)["data_quality"]
    assert quality["counts"] == {"valid_email": 3, "phone": 1, "postal_address": 3, "birth_date": 4}
    for name, count in quality["counts"].items():
        assert quality[name] == round(count / quality["live_contacts"], 4)
