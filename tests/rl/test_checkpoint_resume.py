"""Checkpoints are atomic, and a run killed with SIGKILL resumes to the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from codeeval_rl.errors import TrainingError
from codeeval_rl.rl.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def test_partial_checkpoint_is_ignored_and_cleaned(tmp_path):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(1)}, {}, {"x": 1})
    # a kill during the next save leaves a temp dir and maybe a directory without all files
    (tmp_path / ".tmp-step-000002-999").mkdir()
    broken = tmp_path / "step-000003"
    broken.mkdir()
    (broken / "model.pt").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step-000001"
    save_checkpoint(tmp_path, 4, {"w": torch.zeros(1)}, {}, {"x": 2}, keep=5)
    assert not list(tmp_path.glob(".tmp-*"))
    model, _, state = load_checkpoint(latest_checkpoint(tmp_path))
    assert state["step"] == 4 and state["x"] == 2 and torch.equal(model["w"], torch.zeros(1))


def test_corrupt_checkpoint_is_a_training_error(tmp_path):
    path = save_checkpoint(tmp_path, 1, {"w": torch.ones(1)}, {}, {})
    (path / "state.pt").write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="unreadable"):
        load_checkpoint(path)


def test_keep_prunes_old_checkpoints(tmp_path):
    for step in range(1, 6):
        save_checkpoint(tmp_path, step, {}, {}, {}, keep=2)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-000004", "step-000005"]


def _job(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "tests.rl.resume_job", str(out), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    full = tmp_path / "full"
    p = _job(full)
    assert p.wait(timeout=240) == 0, p.stdout.read()
    reference = torch.load(full / "final_params.pt")

    killed = tmp_path / "killed"
    p = _job(killed)
    deadline = time.time() + 240
    while time.time() < deadline:
        ckpt = latest_checkpoint(killed / "checkpoints")
        if ckpt is not None and int(ckpt.name.split("-")[1]) >= 4:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (killed / "final_params.pt").exists()  # it really died mid-run
    done_before = int(latest_checkpoint(killed / "checkpoints").name.split("-")[1])
    assert 4 <= done_before < 10

    p = _job(killed, "--resume")
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out
    steps = [int(line.split()[1]) for line in out.splitlines() if line.startswith("step ")]
    assert steps == list(range(done_before + 1, 11))  # continued, did not start over
    resumed = torch.load(killed / "final_params.pt")
    for k in reference:
        assert torch.allclose(reference[k], resumed[k], atol=1e-6), k
