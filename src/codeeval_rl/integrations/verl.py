"""Execution rewards for veRL: ``compute_score(data_source, solution_str, ground_truth, extra_info)``.

Point veRL's ``custom_reward_function.path`` at this module (``name: compute_score``).
``ground_truth`` is a dict or a JSON string in any of the shapes the TRL reward reads from a
row (:mod:`codeeval_rl.integrations._tasks`): the APPS/TACO test object ``{"inputs": [...],
"outputs": [...]}`` for stdin/stdout problems, plus ``"fn_name"`` for call-based ones (inputs
are argument lists; an expected value wrapped in a one-item list also matches); a row's test
columns of HumanEval (``test``, ``entry_point``, optional ``prompt``), MBPP (``test_list``...),
APPS/TACO (``input_output``) or CodeContests (``public_tests``...); or ``{"task_id": ...}``
naming a built-in task (``HumanEval/0``). Outputs compare as the benchmarks do: tokens, numbers
within 1e-5. ``data_source`` is not needed to tell them apart.

The code is the last fenced python block of ``solution_str`` (the whole string if there is
none); for a HumanEval ground truth with a ``prompt``, a bare function body continues it. At
most ``max_tests`` tests run (default 10, as veRL's local code scorer; ``extra_info`` may set
``max_tests``). Returns a dict: ``score`` (1.0 when every test passes, else 0.0, or the pass
fraction with ``extra_info["partial"]``), and ``pass_fraction``, ``num_tests``, ``outcome``
logged by veRL as extra keys. The sandbox starts on first use and stops at exit.
"""

from __future__ import annotations

import atexit
import json
import operator
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.integrations._tasks import RowTasks

__all__ = ["compute_score", "last_python_block"]

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_lock = threading.Lock()
_evaluator: Any = None
_rows = RowTasks(source="verl")


def last_python_block(text: str) -> str:
    """The last fenced python (or untagged) block of ``text``; ``text`` itself when there is none."""
    blocks = _FENCE.findall(text)
    return blocks[-1] if blocks else text


def _get_evaluator() -> Any:
    global _evaluator
    with _lock:
        if _evaluator is None:
            from codeeval_rl.config import EvaluationSettings
            from codeeval_rl.evaluation import Evaluator

            _evaluator = Evaluator(EvaluationSettings(shaping="partial"))
            atexit.register(_evaluator.close)
        return _evaluator


def _parse(ground_truth: Any) -> Mapping[str, Any]:
    if isinstance(ground_truth, (str, bytes)):
        try:
            ground_truth = json.loads(ground_truth)
        except json.JSONDecodeError as exc:
            raise InputError(f"ground_truth is not valid JSON: {exc}") from None
    if not isinstance(ground_truth, Mapping):
        raise InputError(f"ground_truth must be a JSON object (e.g. the APPS/TACO shape with 'inputs' and "
                         f"'outputs'), got {type(ground_truth).__name__}")
    return ground_truth


def _max_tests(value: Any) -> int:
    try:
        n = operator.index(value)  # numpy integers from a parquet row count too
    except TypeError:
        n = 0
    if isinstance(value, bool) or n < 1:
        raise InputError(f"extra_info max_tests must be an integer >= 1, got {value!r}")
    return n


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  *, evaluator: Any = None) -> dict[str, Any]:
    """Score one response; see the module docstring. ``evaluator`` overrides the shared one."""
    from codeeval_rl.evaluation import completion_to_code, select_tests

    info = dict(extra_info or {})
    task, which = _rows(_parse(ground_truth))
    max_tests = _max_tests(info.get("max_tests", 10))
    task = replace(task, tests=select_tests(task, which)[:max_tests], public_test_ids=())
    code = completion_to_code(task, last_python_block(solution_str))
    result = (evaluator or _get_evaluator()).evaluate(task, code, tests="all")
    frac = result.num_passed / result.num_tests if result.num_tests else 0.0
    score = frac if info.get("partial") else (1.0 if result.passed else 0.0)
    return {"score": score, "pass_fraction": frac, "num_tests": result.num_tests, "outcome": result.outcome}
