"""The report and the live dashboard in headless Chromium: plots render, no console errors,
the dashboard follows a run that is still being written. Saves screenshots under
docs/screenshots/latest/ (ignored by git; the reviewed copies in docs/screenshots/ are committed,
refresh them with CODEEVAL_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeeval_rl.monitoring import DashboardServer, RolloutRecord, RunStore, write_report

from .synthetic import make_run

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
if os.environ.get("CODEEVAL_UPDATE_SCREENSHOTS") != "1":
    SHOTS = SHOTS / "latest"
SHOTS.mkdir(parents=True, exist_ok=True)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is absent (Debian package 'chromium'; `make setup` installs it)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    return page, errors


_CHARTS_JS = """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  return {title: svg.querySelector('title').textContent, width: box.width, height: box.height,
          marks: svg.querySelectorAll('rect.bar, polyline, polygon, circle, rect[fill]').length};
})"""


def _assert_plots_rendered(page, at_least: int) -> None:
    # one evaluation: the live page replaces its charts while a test looks at them
    charts = page.evaluate(_CHARTS_JS)
    assert len(charts) >= at_least
    for c in charts:
        assert c["width"] > 100 and c["height"] > 50, c
        assert c["marks"] > 0, f"chart {c['title']!r} drew nothing"


def test_report_renders_offline(browser, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    run = make_run(store, name="grpo-demo", steps=12)
    out = write_report(store, run, tmp_path / "report.html")
    html = out.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    page, errors = _page(browser)
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(("file:", "data:"))
               else route.continue_())
    page.goto(out.as_uri())
    _assert_plots_rendered(page, at_least=12)
    for title in ("Reward distribution over steps", "Pass rate by category", "Pass rate by language",
                  "Error mix over steps", "Reward components over steps (mean)", "KL divergence (kl)"):
        assert page.locator("svg.chart > title", has_text=title).count() == 1, title
    assert page.locator(".sample").count() >= 5
    assert page.locator("table.patterns tbody tr").count() >= 5
    assert errors == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 1750},
                    full_page=True)
    page.close()


def test_dashboard_follows_a_running_training(browser, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    make_run(store, name="finished-baseline", steps=4, seed=1)
    run = make_run(store, name="grpo-live", steps=3, finish=False, seed=2)
    with DashboardServer(tmp_path / "runs.db", port=0, refresh_s=0.5) as server:
        page, errors = _page(browser)
        page.goto(server.url)
        assert page.locator("table.patterns tbody tr").count() == 2
        page.click("text=grpo-live")
        page.wait_for_url(f"**/run/{run}")
        _assert_plots_rendered(page, at_least=10)
        assert "still running at step 2" in page.locator(".note").text_content()
        # the trainer keeps writing; the open page picks it up without a reload
        for step in (3, 4, 5):
            store.log_rollouts(run, [RolloutRecord(f"late-{step}-{i}", "print(1)", 1.0, "ok", True, step=step,
                                                   language="python", category="math") for i in range(8)])
            store.log_metrics(run, step, {"kl": 0.05, "loss": 0.1})
        page.wait_for_function("document.querySelector('.note') && "
                               "document.querySelector('.note').textContent.includes('at step 5')", timeout=10_000)
        assert "updated" in page.locator("#live").text_content()
        _assert_plots_rendered(page, at_least=10)
        page.screenshot(path=str(SHOTS / "dashboard.png"))
        store.finish_run(run)
        page.wait_for_function("!document.querySelector('.note')", timeout=10_000)
        assert errors == []
        page.close()
