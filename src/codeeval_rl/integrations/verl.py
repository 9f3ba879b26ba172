"""Execution rewards for veRL: ``compute_score(data_source, solution_str, ground_truth, extra_info)``.

Point veRL's ``custom_reward_function.path`` at this module (``name: compute_score``).
``ground_truth`` is the APPS/TACO shape, a dict or JSON string ``{"inputs": [...], "outputs": [...]}``
for stdin/stdout problems, plus ``"fn_name"`` for call-based ones (inputs are argument lists).
The code is the last fenced python block of ``solution_str`` (the whole string if there is none).
At most ``max_tests`` tests run (default 10, as veRL's local code scorer; ``extra_info`` may set
``max_tests``). Returns a dict: ``score`` (1.0 when every test passes, else 0.0, or the pass
fraction with ``extra_info["partial"]``), and ``pass_fraction``, ``num_tests``, ``outcome``
logged by veRL as extra keys. The sandbox starts on first use and stops at exit.
"""

from __future__ import annotations

import atexit
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.integrations._tasks import task_from_io

__all__ = ["compute_score", "last_python_block"]

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_lock = threading.Lock()
_evaluator: Any = None


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
    if not isinstance(ground_truth, Mapping) or "inputs" not in ground_truth or "outputs" not in ground_truth:
        raise InputError("ground_truth must have 'inputs' and 'outputs' (APPS/TACO shape)")
    return ground_truth


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  *, evaluator: Any = None) -> dict[str, Any]:
    """Score one response; see the module docstring. ``evaluator`` overrides the shared one."""
    info = dict(extra_info or {})
    gt = _parse(ground_truth)
    task = task_from_io(gt["inputs"], gt["outputs"], fn_name=gt.get("fn_name") or None,
                        source=f"verl/{data_source}", max_tests=int(info.get("max_tests", 10)))
    code = last_python_block(solution_str)
    result = (evaluator or _get_evaluator()).evaluate(task, code, tests="all")
    frac = result.num_passed / result.num_tests if result.num_tests else 0.0
    score = frac if info.get("partial") else (1.0 if result.passed else 0.0)
    return {"score": score, "pass_fraction": frac, "num_tests": result.num_tests, "outcome": result.outcome}
