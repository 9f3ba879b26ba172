"""The CodeEvalRL facade, and the train command's argument checks."""

from __future__ import annotations

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


def test_train_command_rejects_bad_config(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("train:\n  algorithm: sarsa\n  model: x\n  dataset: y\n")
    p = _cli("train", "--config", str(cfg), timeout=120)
    assert p.returncode == 2 and "train.algorithm" in p.stderr
    cfg.write_text("train:\n  dataset: y\n")
    p = _cli("train", "--config", str(cfg), timeout=120)
    assert p.returncode == 2 and "train.model is required" in p.stderr
