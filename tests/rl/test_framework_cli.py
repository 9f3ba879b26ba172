"""The CodeEvalRL facade and the quickstart command end to end (shortened form)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.framework import CodeEvalRL
from codeeval_rl.monitoring.tracker import RecordingTracker
from codeeval_rl.types import Task, TestCase
from tests.rl.tinyfix import tiny_policy

ROOT = Path(__file__).resolve().parents[2]


def _tasks():
    return [Task(id=f"inc{i}", language="python", prompt=f"def inc{i}(x):\n", entry_point=f"inc{i}",
                 tests=(TestCase(kind="assert", code=f"assert inc{i}(1) == {i + 1}", id="t0"),
                        TestCase(kind="assert", code=f"assert inc{i}(2) == {i + 2}", id="t1")),
                 public_test_ids=("t0",)) for i in range(3)]


def test_facade_train_evaluate_generate(tmp_path, sandbox):
    tracker = RecordingTracker()
    fw = CodeEvalRL(model_adapter=tiny_policy(), evaluation_config=EvaluationSettings(), sandbox=sandbox,
                    tracker=tracker, train_settings={"output_dir": str(tmp_path), "num_generations": 2,
                                                     "max_new_tokens": 6, "checkpoint_every": 0})
    result = fw.train(dataset_path=_tasks(), epochs=2, batch_size=3, learning_rate=1e-3)
    assert result.steps == 2 and len(result.history) == 2
    report = fw.evaluate(test_dataset=_tasks(), max_new_tokens=6)
    text = report.summary()
    assert "pass@1: 0.000" in text and "tasks: 3" in text
    assert [r["kind"] for r in tracker.runs.values()] == ["train", "eval"]
    code = fw.generate_code(prompt="Write a function", language="python", max_new_tokens=6)
    assert isinstance(code, str)
    with pytest.raises(ValueError, match="prompt is empty"):
        fw.generate_code(prompt="  ")
    with pytest.raises(ValueError, match="batch_size"):
        fw.train(dataset_path=_tasks(), batch_size=0)


def _cli(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


@pytest.mark.slow
def test_quickstart_quick_end_to_end(tmp_path, full_run):
    out = tmp_path / "qs"
    args = ["quickstart", "--output", str(out), "--json"] + ([] if full_run else ["--quick"])
    p = _cli(*args, timeout=1200 if full_run else 400)
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    for key in ("heldout_pass@1_sft", "heldout_pass@1_rl", "seed", "wall_time_s", "history"):
        assert key in report
    assert 0.0 <= report["heldout_pass@1_sft"] <= 1.0 and 0.0 <= report["heldout_pass@1_rl"] <= 1.0
    assert len(report["history"]) == report["plan"]["rl_steps"]
    assert all("kl" in h and "reward_mean" in h for h in report["history"])
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 3 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert (out / "sft_model" / "config.json").is_file() and (out / "grpo" / "final" / "config.json").is_file()
    assert (out / "heldout_tasks.jsonl").is_file()
    if full_run:
        assert report["heldout_pass@1_rl"] - report["heldout_pass@1_sft"] >= 0.10
    # the run store works with the monitoring commands
    p = _cli("runs", "--store", str(out), "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    kinds = sorted(r["kind"] for r in json.loads(p.stdout))
    assert kinds == ["eval", "eval", "train"]
    p = _cli("errors", str(out), timeout=120)
    assert p.returncode == 0, p.stderr


def test_train_command_rejects_bad_config(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("train:\n  algorithm: sarsa\n  model: x\n  dataset: y\n")
    p = _cli("train", "--config", str(cfg), timeout=120)
    assert p.returncode == 2 and "train.algorithm" in p.stderr
    cfg.write_text("train:\n  dataset: y\n")
    p = _cli("train", "--config", str(cfg), timeout=120)
    assert p.returncode == 2 and "train.model is required" in p.stderr
