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
fraction with ``extra_info["partial"]``), and ``pass_fraction``, ``num_tests``, ``outcome``,
``missing`` (the packages the runtime profile lacks, comma-separated) and ``judged`` logged
by veRL as extra keys. The sandbox starts on first use and stops at exit.

Runtime profiles: a ground truth's ``runtime`` key (or the task's own, for a built-in task)
names the profile its programs run in. A response whose profile lacks a package it imports
(outcome ``missing_dependency``) is not the model's failure (``missing_dependency: neutral``):
:func:`compute_score_batch` (veRL's ``reward_model.reward_manager=batch``) gives it the mean
score of the judged responses to the same task in the batch, so GRPO's group advantage of it is
0. :func:`compute_score` sees one response and no group: it scores such a response 0 with
``judged`` false, so use the batch manager where missing packages can occur.
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

__all__ = ["compute_score", "compute_score_batch", "last_python_block"]

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


def _item(solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None) -> tuple[Any, str, bool]:
    """The task (its tests cut to ``max_tests``), the code, and whether the score is partial."""
    from codeeval_rl.evaluation import completion_to_code, select_tests

    info = dict(extra_info or {})
    parsed = _parse(ground_truth)
    task, which = _rows(parsed)
    max_tests = _max_tests(info.get("max_tests", 10))
    runtime = parsed.get("runtime") or task.runtime
    if not isinstance(runtime, str):
        raise InputError(f"ground_truth runtime must be a profile name, got {runtime!r}")
    task = replace(task, tests=select_tests(task, which)[:max_tests], public_test_ids=(), runtime=runtime)
    return task, completion_to_code(task, last_python_block(solution_str)), bool(info.get("partial"))


def _scored(result: Any, partial: bool) -> dict[str, Any]:
    frac = result.num_passed / result.num_tests if result.num_tests else 0.0
    score = frac if partial else (1.0 if result.passed else 0.0)
    if not result.judged:
        score = 0.0  # compute_score_batch replaces it with its task's neutral score
    return {"score": score, "pass_fraction": frac, "num_tests": result.num_tests, "outcome": result.outcome,
            "missing": ",".join(result.missing), "judged": result.judged}


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  *, evaluator: Any = None) -> dict[str, Any]:
    """Score one response; see the module docstring. ``evaluator`` overrides the shared one."""
    task, code, partial = _item(solution_str, ground_truth, extra_info)
    return _scored((evaluator or _get_evaluator()).evaluate(task, code, tests="all"), partial)


def compute_score_batch(data_sources: Any, solution_strs: Any, ground_truths: Any, extra_infos: Any = None,
                        *, evaluator: Any = None) -> list[dict[str, Any]]:
    """Score a batch of responses in one sandbox batch (veRL's batch reward manager calls it
    with these keyword arguments): one dict per response, as :func:`compute_score` returns;
    an unjudged response (a missing package) gets the mean score of the judged responses to the
    same task in the batch (0 when none is judged). ``evaluator`` overrides the shared one."""
    from codeeval_rl.evaluation.rewards import neutral_rewards

    solutions = list(solution_strs)
    truths = list(ground_truths)
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solutions)
    if not len(solutions) == len(truths) == len(infos) == len(list(data_sources)):
        raise InputError(f"{len(solutions)} responses, {len(truths)} ground truths, {len(infos)} extra_infos and "
                         f"{len(list(data_sources))} data sources: expected one of each per response")
    items = [_item(s, g, i) for s, g, i in zip(solutions, truths, infos)]
    results = (evaluator or _get_evaluator()).evaluate_many([(t, c) for t, c, _ in items], tests="all")
    out = [_scored(r, partial) for r, (_, _, partial) in zip(results, items)]
    groups = [json.dumps(g, sort_keys=True, default=str) if not isinstance(g, (str, bytes)) else g for g in truths]
    scores = neutral_rewards([o["score"] for o in out], groups,
                             ["missing_dependency" if not o["judged"] else "judged" for o in out])
    for o, score in zip(out, scores):
        o["score"] = score
    return out
