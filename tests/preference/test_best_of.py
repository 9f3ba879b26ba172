"""Best-of-N: the three choices against hand-computed figures, the public-test filter as n@k
counts it, and `evaluate --best-of N --rm DIR` with --model and with --samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.preference.best_of import Candidate, best_of_n, rerank, rm_choice
from codeeval_rl.types import Task, TestCase

ROOT = Path(__file__).resolve().parents[2]

# task A: the RM prefers a wrong sample; task B: a tie between a right and a wrong one goes to the first
A = [Candidate(0.1, True, True), Candidate(0.9, False, False), Candidate(0.5, True, True)]
B = [Candidate(0.2, False, False), Candidate(0.7, True, False), Candidate(0.7, False, False)]


def test_three_choices_by_hand():
    b = best_of_n([A, B], 3)
    assert (b.rm, b.random, b.oracle) == pytest.approx((0.5, (2 / 3 + 1 / 3) / 2, 1.0))
    assert b.filtered_rm is None and b.to_summary() == {"n": 3, "tasks": 2, "rm_pass@1": 0.5,
                                                        "random_pass@1": pytest.approx(0.5), "oracle_pass@1": 1.0}
    # only the first n samples of each task are candidates
    b2 = best_of_n([A, B], 2)
    assert (b2.rm, b2.random, b2.oracle) == pytest.approx((0.5, 0.5, 1.0))
    assert rm_choice(B) == 1


def test_public_filter_chooses_among_public_passers_and_fails_a_task_with_none():
    b = best_of_n([A, B], 3, public_filter=True)
    # A keeps samples 0 and 2 (both right): rm and random 1; B keeps none: 0
    assert (b.filtered_rm, b.filtered_random) == pytest.approx((0.5, 0.5))
    assert (b.rm, b.oracle) == pytest.approx((0.5, 1.0))  # the unfiltered figures stay as they were
    assert b.to_summary()["public_filter"] == {"rm_pass@1": 0.5, "random_pass@1": pytest.approx(0.5)}


def test_the_oracle_bounds_both_choices_and_a_perfect_rm_reaches_it():
    groups = [[Candidate(float(i), i % 3 == 0, True) for i in range(6)], [Candidate(-i, False) for i in range(6)]]
    perfect = [[Candidate(float(c.passed), c.passed) for c in g] for g in groups]
    b, p = best_of_n(groups, 6), best_of_n(perfect, 6)
    assert b.rm <= b.oracle and b.random <= b.oracle
    assert p.rm == p.oracle == 0.5


def test_short_tasks_and_bad_n_are_refused():
    with pytest.raises(InputError, match="best-of-4 needs 4 samples per task; 1 task"):
        best_of_n([A, B[:2] + B], 4)
    with pytest.raises(InputError, match=">= 1"):
        best_of_n([A], 0)
    with pytest.raises(InputError, match="empty"):
        best_of_n([], 1)


class LengthRM:
    """Prefers longer programs."""

    def score(self, prompts, completions):
        return [float(len(c)) for c in completions]


def test_rerank_scores_records_and_runs_the_public_tests(sandbox):
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.evaluation import Evaluator

    tests = (TestCase(kind="assert", code="assert dbl(2) == 4", id="p"),
             TestCase(kind="assert", code="assert dbl(3) == 6", id="h"))
    task = Task(id="dbl", language="python", prompt="def dbl(x):\n", entry_point="dbl", tests=tests,
                public_test_ids=("p",))
    no_public = Task(id="sq", language="python", prompt="def sq(x):\n", entry_point="sq",
                     tests=(TestCase(kind="assert", code="assert sq(3) == 9", id="h"),))
    records = [  # hidden verdicts as evaluate computed them
        {"task_id": "dbl", "completion": "    return x + x\n", "passed": True},
        {"task_id": "dbl", "completion": "    return x * 2 if x != 3 else 0\n", "passed": False},  # public only
        {"task_id": "sq", "completion": "    return x * x\n", "passed": True},
        {"task_id": "sq", "completion": "    return x ** 2 + 0 * 1000000\n", "passed": True},
    ]
    ev = Evaluator(EvaluationSettings(shaping="binary"), sandbox)
    b = rerank([task, no_public], records, LengthRM(), 2, public_filter=True, evaluator=ev)
    assert [r["rm_score"] for r in records] == [float(len(r["completion"])) for r in records]
    assert [r["public_passed"] for r in records] == [True, True, True, True]
    # dbl: the RM picks the longer, wrong program; sq: both right
    assert (b.rm, b.random, b.oracle) == pytest.approx((0.5, 0.75, 1.0))
    assert (b.filtered_rm, b.filtered_random) == pytest.approx((0.5, 0.75))
    with pytest.raises(InputError, match="needs an evaluator"):
        rerank([task], records[:2], LengthRM(), 2, public_filter=True)


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", "from codeeval_rl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


def test_best_of_options_are_checked_before_any_work(tmp_path, task_file):
    base = ("evaluate", "--dataset", str(task_file), "--output", str(tmp_path / "r.json"), "--samples",
            str(task_file))
    p = _cli(*base, "--best-of", "4", timeout=60)
    assert p.returncode == 2 and "--best-of needs --rm" in p.stderr
    p = _cli(*base, "--best-of", "4", "--rm", str(tmp_path / "missing"), timeout=60)
    assert p.returncode == 2 and "model path does not exist" in p.stderr and "missing" in p.stderr
    p = _cli("evaluate", "--dataset", str(task_file), "--output", str(tmp_path / "r.json"), "--model", "m",
             "--n", "2", "--best-of", "4", "--rm", str(tmp_path), timeout=60)
    assert p.returncode == 2 and "needs --n 4" in p.stderr
    p = _cli(*base, "--best-of", "2", "--rm", str(tmp_path), "--best-of-filter", "tests", timeout=60)
    assert p.returncode == 2 and "--best-of-filter" in p.stderr


@pytest.mark.train
@pytest.mark.slow
def test_evaluate_best_of_with_model_then_with_its_samples(code_model_dir, task_file, tmp_path, full_run):
    import torch

    from codeeval_rl.preference.reward_model import RewardTrainSettings, train_reward_model

    torch.set_num_threads(1)
    pairs = [{"task_id": f"t{i % 6}", "prompt": "def f(x):\n", "chosen": f"    return x + {i}\n",
              "rejected": f"    return x - {i}\n"} for i in range(24)]
    rm_dir = tmp_path / "rm"
    train_reward_model(pairs, str(code_model_dir), rm_dir, RewardTrainSettings(learning_rate=1e-3, batch_size=8,
                                                                               eval_fraction=0.0), progress=False)
    n = "8" if full_run else "4"
    out = tmp_path / "r.json"
    p = _cli("evaluate", "--model", str(code_model_dir), "--dataset", str(task_file), "--n", n, "--seed", "3",
             "--max-new-tokens", "24", "--temperature", "1.0", "--best-of", n, "--rm", str(rm_dir),
             "--best-of-filter", "public", "--output", str(out), "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    b = data["summary"]["best_of"]
    assert b["n"] == int(n) and b["tasks"] == 12 and b["filter"] == "public"
    assert 0 <= b["random_pass@1"] <= b["oracle_pass@1"] <= 1 and 0 <= b["rm_pass@1"] <= b["oracle_pass@1"]
    assert b["random_pass@1"] == pytest.approx(data["summary"]["pass_at_k"]["pass@1"])
    assert set(b["public_filter"]) == {"rm_pass@1", "random_pass@1"}
    assert all("rm_score" in s and "public_passed" in s for s in data["samples"])
    # the same samples given as a file: the same figures
    samples = out.with_suffix(".samples.jsonl")
    out2 = tmp_path / "r2.json"
    p = _cli("evaluate", "--samples", str(samples), "--dataset", str(task_file), "--best-of", n, "--rm", str(rm_dir),
             "--best-of-filter", "public", "--output", str(out2), "--json")
    assert p.returncode == 0, p.stderr
    again = json.loads(out2.read_text())["summary"]["best_of"]
    assert again == b
