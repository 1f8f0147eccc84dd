"""The HTML report in a real headless Chromium: loads offline, draws every chart.

Chromium comes from Debian's package (``.ci/run`` installs it); the test is
skipped only where no Chromium is installed at all.
"""

from __future__ import annotations

import os
import shutil

import pytest

from cli.reporting.html_report import render_html, report_data, write_report

from ..unit.reporting.conftest import AS_OF, small_base  # noqa: F401 - fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def test_report_renders_offline_with_every_chart(small_base, tmp_path):
    path = write_report(tmp_path / "report.html", render_html(report_data(small_base, AS_OF)))
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri(), wait_until="load")
        charts = page.eval_on_selector_all(
            "svg.chart",
            "els => els.map(e => ({label: e.getAttribute('aria-label'), w: e.getBoundingClientRect().width,"
            " h: e.getBoundingClientRect().height, shapes: e.querySelectorAll('rect').length}))",
        )
        kpis = page.eval_on_selector_all("[data-kpi]", "els => els.map(e => e.innerText)")
        body = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        if os.environ.get("CRMSEG_SCREENSHOT"):
            page.screenshot(path=os.environ["CRMSEG_SCREENSHOT"], full_page=True)
        browser.close()

    assert requests == [path.as_uri()], "the report must load nothing but itself"
    labels = {c["label"] for c in charts}
    assert {"Lifecycle funnel", "Segment sizes", "Contacts by source",
            "Data quality (share of live contacts)"} <= labels
    assert any(label.startswith("RFM grid") for label in labels)
    for chart in charts:
        assert chart["w"] > 100 and chart["h"] > 20 and chart["shapes"] > 0, chart
    assert any("5" in k and "live contacts" in k for k in kpis)  # 5 live contacts
    assert "60%" in " ".join(kpis)  # share with a valid email
    assert "duplicate pairs awaiting review" in body
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_long_labels_stay_inside_their_chart(small_base, tmp_path):
    long_source = "Salon Animal Expo 2026 — Lyon Eurexpo, stand B12 (bénévoles du week-end)"
    small_base.execute("UPDATE contacts SET source = ? WHERE id IN (1, 2)", [long_source])
    path = write_report(tmp_path / "report.html", render_html(report_data(small_base, AS_OF)))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri(), wait_until="load")
        lefts = page.eval_on_selector_all(
            "svg.chart text",
            "els => els.map(e => e.getBoundingClientRect().left - e.ownerSVGElement.getBoundingClientRect().left)",
        )
        tooltip = page.eval_on_selector_all("svg.chart text title", "els => els.map(e => e.textContent)")
        browser.close()
    assert lefts and min(lefts) >= -0.5, "a label runs off the chart's left edge"
    assert long_source in tooltip  # the whole label on hover
