"""veRL's compute_score on APPS/TACO-shaped ground truth and the other benchmarks' row shapes."""

from __future__ import annotations

import json

import pytest

from codeeval_rl.config import EvaluationSettings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import Evaluator
from codeeval_rl.integrations.verl import compute_score, last_python_block
from tests.integrations.benchmark_rows import Case, all_cases


@pytest.fixture(scope="module")
def evaluator(sandbox):
    return Evaluator(EvaluationSettings(shaping="partial"), sandbox)


def test_last_python_block_wins():
    text = "try:\n```python\nprint(1)\n```\nbetter:\n```py\nprint(2)\n```\n"
    assert last_python_block(text).strip() == "print(2)"
    assert last_python_block("print(3)") == "print(3)"


def test_stdin_problem_json_string(evaluator):
    gt = json.dumps({"inputs": ["1 2\n", "5 7\n"], "outputs": ["3\n", "12\n"]})
    good = "Here:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    out = compute_score("apps", good, gt, evaluator=evaluator)
    assert out["score"] == 1.0 and out["pass_fraction"] == 1.0 and out["num_tests"] == 2
    wrong = "```python\na, b = map(int, input().split())\nprint(a * b if a == 1 else a + b)\n```"
    out = compute_score("apps", wrong, gt, evaluator=evaluator)
    assert out["score"] == 0.0 and out["pass_fraction"] == 0.5
    assert compute_score("apps", wrong, gt, {"partial": True}, evaluator=evaluator)["score"] == 0.5


def test_call_based_problem_with_wrapped_outputs(evaluator):
    gt = {"fn_name": "double", "inputs": [[2], [5]], "outputs": [[4], [10]]}
    out = compute_score("taco", "```python\ndef double(x):\n    return 2 * x\n```", gt, evaluator=evaluator)
    assert out["score"] == 1.0
    out = compute_score("taco", "```python\ndef double(x):\n    return x + 2\n```", gt, evaluator=evaluator)
    assert out["score"] == 0.0 and out["pass_fraction"] == 0.5


def test_max_tests_and_bad_ground_truth(evaluator):
    gt = {"inputs": [f"{i}\n" for i in range(20)], "outputs": [f"{i}\n" for i in range(20)]}
    assert compute_score("x", "print(input())", gt, evaluator=evaluator)["num_tests"] == 10
    assert compute_score("x", "print(input())", gt, {"max_tests": 3}, evaluator=evaluator)["num_tests"] == 3
    with pytest.raises(InputError, match="JSON"):
        compute_score("x", "", "{not json", evaluator=evaluator)
    with pytest.raises(InputError, match="inputs"):
        compute_score("x", "", {"outputs": []}, evaluator=evaluator)


CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_row_shape_as_ground_truth(case: Case, evaluator):
    """The row shapes the TRL reward reads, as a JSON ground truth; early exits earn nothing."""
    gt = json.dumps({"task_id": case.row["task_id"]} if case.name == "builtin" else case.row)
    scores = [compute_score("x", c, gt, {"partial": True}, evaluator=evaluator)
              for c in (case.good, case.bad, *case.attacks)]
    assert scores[0]["score"] == 1.0 and scores[0]["outcome"] == "passed"
    assert scores[1]["pass_fraction"] == pytest.approx(case.bad_fraction)
    assert [s["score"] for s in scores[2:]] == [0.0] * len(case.attacks)


def test_unknown_shapes_name_the_keys(evaluator):
    with pytest.raises(InputError, match=r"columns: question\).*input_output \(APPS/TACO\)"):
        compute_score("x", "", {"question": "q"}, evaluator=evaluator)
    with pytest.raises(InputError, match="JSON object"):
        compute_score("x", "", "[1, 2]", evaluator=evaluator)
    with pytest.raises(InputError, match="max_tests"):
        compute_score("x", "", {"inputs": ["1"], "outputs": ["1"]}, {"max_tests": 0}, evaluator=evaluator)
