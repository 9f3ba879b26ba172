"""Execution rewards for Hugging Face TRL's ``GRPOTrainer`` (and ``RLOOTrainer``)::

    from codeeval_rl.integrations.trl import reward_function
    trainer = GRPOTrainer(model=..., reward_funcs=[reward_function(tasks=my_tasks)], train_dataset=ds)

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` are the dataset's other columns (plus ``trainer_state`` and a few more); it
expects one float per completion. Completions are strings, or lists of message dicts for
conversational datasets. With no arguments, ``reward_function()`` scores rows kept in the
published shape of a benchmark as they are; each row's task is, in this order:

* ``task_id`` (``task_column``) naming one of ``tasks`` (Task objects or a dataset name/path);
* ``tests`` (``tests_column``): assert statements (a list, a JSON list, or one per line), with
  an optional ``entry_point`` column;
* the row's own test columns: HumanEval (``test`` defining ``check(candidate)``,
  ``entry_point``; the prompt, when a string, is the code's prefix), MBPP (``test_list``,
  ``test_setup_code``, ``challenge_test_list``), APPS/TACO (``input_output``, a JSON string,
  with or without ``fn_name``), CodeContests (``public_tests`` / ``private_tests`` /
  ``generated_tests``), converted as the file loaders convert them
  (:mod:`codeeval_rl.data.rows`); a column holding ``None`` counts as absent;
* ``task_id`` naming a task of a built-in dataset (``HumanEval/0``, ``lib/python/...``).

Tasks from ``tasks`` or a built-in dataset are scored on the ``tests`` selection, tasks from
the row's own columns on all their tests. A row that matches nothing raises
:class:`~codeeval_rl.errors.InputError` naming its columns and the accepted ones.
``language`` is the language of stdin/stdout rows (APPS without ``fn_name``, CodeContests).

All completions of a call are scored in one batched, parallel sandbox call: on this machine, or
with ``ray=`` (or a ``ray:`` section in the training config) on a Ray cluster's CPU nodes, so
that the GPU nodes only generate. The reward is the
evaluation engine's (the evaluation config's weights and ``shaping``); an early exit, or output
printed instead of a return value, earns no test credit (the harness and judge decide from
their own records, see :mod:`codeeval_rl.evaluation.judge`). Limit: for a stdin/stdout test
the output is the answer, so a program that prints a test's expected output unconditionally
passes that test (and only the tests that expect the same output).

Runtime profiles: a task's programs run in its ``runtime``, else the evaluation config's
``profile``. A completion whose profile lacks a package it imports (outcome
``missing_dependency``) is not the model's failure: with ``missing_dependency: neutral`` (the
default) it gets the mean reward of the judged completions of the same task in the call (0
when none is judged), so GRPO's group advantage of it is 0; with ``missing_dependency: fail``
it is rewarded as a runtime error. ``reward.last_results`` holds the last call's
:class:`~codeeval_rl.evaluation.EvaluationResult` objects (their ``missing`` and ``judged``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.integrations._tasks import RowTasks, completion_text
from codeeval_rl.types import Task

__all__ = ["reward_function"]

_NOT_COLUMNS = frozenset({"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"})
"""Keyword arguments TRL passes beside the dataset columns."""


def _rows(prompts: Sequence[Any], columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per completion: every column's value for it, and its prompt. Keyword arguments
    that are not lists (TRL's ``trainer_state`` and the like) are not columns."""
    n = len(prompts)
    cols: dict[str, Sequence[Any]] = {}
    for name, values in columns.items():
        if name in _NOT_COLUMNS or not isinstance(values, (list, tuple)):
            continue
        if len(values) != n:
            raise InputError(f"column {name!r} must hold one value per completion ({n}), got {len(values)} values")
        cols[name] = values
    return [{**{name: values[i] for name, values in cols.items()}, "prompt": prompts[i]} for i in range(n)]


def reward_function(evaluation_config: Any = None, sandbox: Any = None, *,
                    tasks: Iterable[Task] | Mapping[str, Task] | str | os.PathLike[str] | None = None,
                    tests: str = "hidden", task_column: str = "task_id", tests_column: str = "tests",
                    language: str = "python", name: str = "codeeval_execution",
                    ray: Any = None) -> Callable[..., list[float]]:
    """Build the reward callable. ``evaluation_config``: settings or YAML path (default: the
    defaults). ``sandbox``: a shared Sandbox (default: one started on first call). ``ray``: run
    the programs on a Ray cluster's CPU nodes instead (:class:`~codeeval_rl.config.RaySettings`,
    a mapping of its fields, or an address such as ``"auto"``; not with ``sandbox``); the
    callable's ``sandbox`` attribute is then that :class:`~codeeval_rl.distributed.RaySandbox`,
    which its ``close()`` stops."""
    from codeeval_rl.evaluation import Evaluator, completion_to_code

    if ray is not None:
        if sandbox is not None:
            raise InputError("give sandbox or ray, not both")
        from codeeval_rl.distributed import RaySandbox

        sandbox = RaySandbox(cluster=ray)
        sandbox.connect()

    if isinstance(tasks, (str, os.PathLike)):
        from codeeval_rl.data import load_dataset

        tasks = load_dataset(tasks)
    by_id: dict[str, Task] = dict(tasks) if isinstance(tasks, Mapping) else {t.id: t for t in (tasks or ())}
    resolve = RowTasks(by_id, tests=tests, task_column=task_column, tests_column=tests_column, language=language,
                       source="trl")
    evaluator = Evaluator(evaluation_config, sandbox)

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        if len(prompts) != len(completions):
            raise InputError(f"{len(prompts)} prompts but {len(completions)} completions")
        resolved = [resolve(row) for row in _rows(prompts, columns)]
        texts = [completion_text(c) for c in completions]
        groups: dict[str, list[int]] = {}
        for i, (_, which) in enumerate(resolved):
            groups.setdefault(which, []).append(i)
        out = [0.0] * len(texts)
        results: list[Any] = [None] * len(texts)
        for which, idx in groups.items():
            items = [(resolved[i][0], completion_to_code(resolved[i][0], texts[i])) for i in idx]
            for i, r in zip(idx, evaluator.evaluate_many(items, tests=which)):  # type: ignore[arg-type]
                out[i] = float(r.reward.total)
                results[i] = r
        reward.last_results = results  # type: ignore[attr-defined]
        return out

    reward.__name__ = name
    reward.evaluator = evaluator  # type: ignore[attr-defined]
    reward.last_results = []  # type: ignore[attr-defined]
    if ray is not None:
        reward.sandbox = sandbox  # type: ignore[attr-defined]
        reward.close = sandbox.close  # type: ignore[attr-defined]
    return reward
