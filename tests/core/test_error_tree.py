"""Bad values raise the project's exception tree, and the CLI prints them as one line.

Each case is a library call with one wrong value. It must raise the tree's class (a subclass
of ValueError too, so callers that caught ValueError keep working) with a message naming the
value; through ``codeeval-rl`` the same error is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import CodeEvalError, ConfigError, InputError
from codeeval_rl.evaluation import testscore
from codeeval_rl.evaluation.rewards import LEVELS, make_reward
from codeeval_rl.monitoring import ab, analysis
from codeeval_rl.monitoring.dashboard import DashboardServer
from codeeval_rl.monitoring.tracker import RolloutRecord
from codeeval_rl.rl import advantages, losses, rollout
from codeeval_rl.rl.curriculum import FAMILIES, build_curriculum
from codeeval_rl.rl.sft import sft_train
from codeeval_rl.rl.tiny import train_tokenizer
from codeeval_rl.types import TestCase

ROOT = Path(__file__).resolve().parents[2]
Z = torch.zeros(2, 3)
REC = RolloutRecord(task_id="t", completion="", reward=0.0, status="ok", passed=True)

CASES: list[tuple[str, Callable[[], object], type[CodeEvalError], str]] = [
    # rl/losses: settings of the loss and the KL controller
    ("loss_type", lambda: losses.get_aggregation("ppo"), ConfigError, "loss_type"),
    ("kl_estimator", lambda: losses.get_kl_estimator("k2"), ConfigError, "kl_estimator"),
    ("epsilon", lambda: losses.clipped_surrogate(Z, Z, Z, epsilon=-0.1), ConfigError, r"epsilon \(-0.1\)"),
    ("epsilon_high", lambda: losses.clipped_surrogate(Z, Z, Z, epsilon_high=-1.0), ConfigError, "epsilon_high"),
    ("fixed beta", lambda: losses.FixedKL(-1.0), ConfigError, r"beta \(-1.0\)"),
    ("adaptive KL", lambda: losses.AdaptiveKL(0.1, 0.0), ConfigError, "adaptive KL"),
    # rl/advantages
    ("group shape", lambda: advantages.group_relative(torch.zeros(4)), InputError, "num_groups"),
    ("scale", lambda: advantages.group_relative(Z, "rank"), ConfigError, "scale"),  # type: ignore[arg-type]
    ("groups of one", lambda: advantages.leave_one_out(torch.zeros(3, 1)), ConfigError, "group_size >= 2"),
    ("gae shapes", lambda: advantages.gae(Z, torch.zeros(2, 2), Z), InputError, "shapes differ"),
    # rl/rollout
    ("mask length", lambda: rollout.completion_mask_from([1, 2], [1]), InputError, "mask length"),
    ("row counts", lambda: rollout.collate([[1]], [], [], 0), InputError, "differ in length"),
    ("empty prompt", lambda: rollout.collate([[]], [[1]], [[0.0]], 0), InputError, "empty prompt"),
    ("log-prob count", lambda: rollout.collate([[1]], [[1, 2]], [[0.0]], 0), InputError, "log-probs"),
    # rl/curriculum
    ("wrong_rate", lambda: build_curriculum(wrong_rate=1.0), ConfigError, r"wrong_rate \(1.0\)"),
    ("unseen family", lambda: build_curriculum(unseen_families=FAMILIES[:1]), ConfigError, "unseen family"),
    # rl/sft and rl/tiny
    ("sft steps", lambda: sft_train(None, None, [("a", "b")], steps=0), ConfigError, r"steps \(0\)"),
    ("sft examples", lambda: sft_train(None, None, [], steps=1), InputError, "no SFT examples"),
    ("vocab_size", lambda: train_tokenizer(["x"], vocab_size=10), ConfigError, r"vocab_size \(10\)"),
    # evaluation
    ("tests vs results", lambda: testscore.tests_score([TestCase(kind="assert")], []), InputError, "1 tests but 0"),
    ("missing component", lambda: make_reward({}, True, EvaluationSettings()), InputError, "missing"),
    ("component range", lambda: make_reward(dict.fromkeys(LEVELS, 2.0), True, EvaluationSettings()),
     InputError, "outside"),
    # monitoring
    ("refresh_s", lambda: DashboardServer("no-such-store.db", refresh_s=0), ConfigError, "refresh_s"),
    ("A/B metric", lambda: ab.per_task_values([], "accuracy"), ConfigError, "accuracy"),
    ("confidence", lambda: ab.bootstrap_ci([1.0], confidence=1.0), ConfigError, "confidence"),
    ("n_boot", lambda: ab.bootstrap_ci([1.0], n_boot=0), ConfigError, "n_boot"),
    ("n_perm", lambda: ab.sign_flip_p_value([1.0] * 20, n_perm=0), ConfigError, "n_perm"),
    ("alpha", lambda: ab.paired_test({}, {}, alpha=0.0), ConfigError, "alpha"),
    ("group by", lambda: analysis.group_stats([REC], "colour"), ConfigError, "cannot group by 'colour'"),
    ("max_buckets", lambda: analysis.step_buckets([1], 0), ConfigError, "max_buckets"),
    ("quantile", lambda: analysis.quantile([1.0], 1.5), ConfigError, "1.5"),
]


@pytest.mark.parametrize(("fn", "cls", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_value_raises_the_tree_class(fn, cls, match):
    with pytest.raises(cls, match=match) as info:
        fn()
    assert isinstance(info.value, ValueError)  # callers catching ValueError still catch it


def _cli(*args: str, probe: str = "") -> subprocess.CompletedProcess[str]:
    """``codeeval-rl ARGS``; ``probe`` is the body of an extra ``probe`` command."""
    setup = ""
    if probe:
        setup = "@app.command('probe')\ndef probe() -> None:\n" + textwrap.indent(textwrap.dedent(probe), "    ")
    code = f"from codeeval_rl.cli import app, main\n{setup}\nmain()\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "60"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT, check=False)


def _one_line(p: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in p.stderr, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize(("probe", "expected"), [
    ("from codeeval_rl.monitoring.ab import bootstrap_ci\nbootstrap_ci([1.0], confidence=2.0)",
     "error: confidence (2.0) must be between 0 and 1"),
    ("import torch\nfrom codeeval_rl.rl.advantages import leave_one_out\nleave_one_out(torch.zeros(3, 1))",
     "error: leave_one_out needs group_size >= 2, got 1"),
    ("from codeeval_rl.rl.rollout import collate\ncollate([[]], [[7]], [[0.0]], 0)",
     "error: collate: row 0 has an empty prompt"),
])
def test_library_errors_reach_the_cli_user_as_one_line_with_exit_2(probe, expected):
    p = _cli("probe", probe=probe)
    assert p.returncode == 2
    assert _one_line(p).startswith(expected)


def test_a_long_multi_line_message_stays_one_line_and_our_faults_exit_1():
    p = _cli("probe", probe="from codeeval_rl.errors import TrainingError\n"
                            "raise TrainingError('the trainer stopped at a very long and winding place\\n'"
                            " + 'second line ' * 12)")
    assert p.returncode == 1
    line = _one_line(p)
    assert line.startswith("error: the trainer stopped") and line.endswith("second line")


def test_brackets_in_a_message_are_printed_literally(tmp_path):
    """A real path: a config file that does not exist, in a folder whose name looks like markup."""
    missing = tmp_path / "[red]runs" / "cfg.yaml"
    p = _cli("train", "--config", str(missing))
    assert p.returncode == 2
    assert _one_line(p) == f"error: config file not found: {missing}"
