"""Execution rewards for Hugging Face TRL's ``GRPOTrainer`` (and ``RLOOTrainer``)::

    from codeeval_rl.integrations.trl import reward_function
    trainer = GRPOTrainer(model=..., reward_funcs=[reward_function(tasks=my_tasks)], train_dataset=ds)

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` are the dataset's other columns (plus ``trainer_state`` and a few more); it
expects one float per completion. Completions are strings, or lists of message dicts for
conversational datasets. Each completion's task is found from a column:

* ``task_id`` (``task_column``): looked up in ``tasks`` (Task objects or a dataset name/path);
* ``tests`` (``tests_column``): assert statements (a list, a JSON list, or one per line), with
  an optional ``entry_point`` column; the prompt, when it is a string, is the code's prefix
  (HumanEval style).

All completions of a call are scored in one batched, parallel sandbox call. The reward is the
evaluation engine's (the evaluation config's weights and ``shaping``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.integrations._tasks import completion_text, task_from_asserts
from codeeval_rl.types import Task

__all__ = ["reward_function"]


def reward_function(evaluation_config: Any = None, sandbox: Any = None, *,
                    tasks: Iterable[Task] | Mapping[str, Task] | str | os.PathLike[str] | None = None,
                    tests: str = "hidden", task_column: str = "task_id", tests_column: str = "tests",
                    language: str = "python", name: str = "codeeval_execution") -> Callable[..., list[float]]:
    """Build the reward callable. ``evaluation_config``: settings or YAML path (default: the
    defaults). ``sandbox``: a shared Sandbox (default: one started on first call)."""
    from codeeval_rl.evaluation import Evaluator, completion_to_code

    if isinstance(tasks, (str, os.PathLike)):
        from codeeval_rl.data import load_dataset

        tasks = load_dataset(tasks)
    by_id: dict[str, Task] = dict(tasks) if isinstance(tasks, Mapping) else {t.id: t for t in (tasks or ())}
    evaluator = Evaluator(evaluation_config, sandbox)

    def resolve(i: int, prompt: Any, columns: Mapping[str, Any]) -> tuple[Task, str]:
        if task_column in columns and columns[task_column] is not None:
            tid = columns[task_column][i]
            if tid not in by_id:
                raise InputError(f"{task_column} {tid!r} is not among the {len(by_id)} tasks given to reward_function")
            return by_id[tid], tests
        if tests_column in columns and columns[tests_column] is not None:
            entry = columns.get("entry_point")
            task = task_from_asserts(columns[tests_column][i], prompt=prompt if isinstance(prompt, str) else "",
                                     entry_point=entry[i] if entry else "", language=language, source="trl")
            return task, "all"
        raise InputError(f"the dataset needs a {task_column!r} or a {tests_column!r} column for execution rewards")

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        if len(prompts) != len(completions):
            raise InputError(f"{len(prompts)} prompts but {len(completions)} completions")
        resolved = [resolve(i, p, columns) for i, p in enumerate(prompts)]
        texts = [completion_text(c) for c in completions]
        groups: dict[str, list[int]] = {}
        for i, (_, which) in enumerate(resolved):
            groups.setdefault(which, []).append(i)
        out = [0.0] * len(texts)
        for which, idx in groups.items():
            items = [(resolved[i][0], completion_to_code(resolved[i][0], texts[i])) for i in idx]
            for i, r in zip(idx, evaluator.evaluate_many(items, tests=which)):  # type: ignore[arg-type]
                out[i] = float(r.reward.total)
        return out

    reward.__name__ = name
    reward.evaluator = evaluator  # type: ignore[attr-defined]
    return reward
