"""``codeeval-rl quickstart`` end to end (the shortened form unless CODEEVAL_FULL=1), then the
monitoring commands on its output directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


@pytest.mark.slow
def test_quickstart_end_to_end(tmp_path, full_run):
    out = tmp_path / "qs"
    args = ["quickstart", "--output", str(out), "--json"] + ([] if full_run else ["--quick"])
    p = _cli(*args, timeout=1200 if full_run else 400)
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    for key in ("seed", "wall_time_s", "history", "heldout_tasks", "unseen_tasks", "unseen_families"):
        assert key in report
    for s in ("heldout", "unseen"):
        for mode in ("", "greedy_"):
            for model in ("sft", "rl"):
                assert 0.0 <= report[f"{s}_{mode}pass@1_{model}"] <= 1.0
    assert report["unseen_tasks"] == 4 * len(report["unseen_families"]) > 0
    assert len(report["history"]) == report["plan"]["rl_steps"]
    assert all("kl" in h and "reward_mean" in h for h in report["history"])
    html = (out / "report.html").read_text()
    assert html.count('<svg class="chart"') == 4 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert (out / "sft_model" / "config.json").is_file() and (out / "grpo" / "final" / "config.json").is_file()
    assert (out / "heldout_tasks.jsonl").is_file() and (out / "unseen_tasks.jsonl").is_file()
    if full_run:
        assert report["heldout_pass@1_rl"] - report["heldout_pass@1_sft"] >= 0.10
    # the run store works with the monitoring commands
    p = _cli("runs", "--store", str(out), "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    runs = json.loads(p.stdout)
    assert [r["name"] for r in runs] == ["quickstart-unseen-sft", "quickstart-heldout-sft", "grpo-quickstart-tiny",
                                         "quickstart-unseen-rl", "quickstart-heldout-rl"]
    p = _cli("report", str(out), "-o", str(tmp_path / "r.html"), "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["run"] == report["grpo_run_id"]
    p = _cli("errors", str(out), timeout=120)
    assert p.returncode == 0, p.stderr
