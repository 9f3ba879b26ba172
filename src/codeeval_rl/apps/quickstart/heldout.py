"""One held-out evaluation of the quickstart: sampled and greedy pass@1 of a policy on a task
set, and its record in the run store.

Sampled pass@1 is the unbiased estimate from ``samples`` completions per task at the given
temperature: the fraction of completions that pass every test. Greedy pass@1 is the fraction
of tasks whose one temperature-0 completion passes. Both are scored by the same scorer, on
all of each task's tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.errors import InputError, TrainingError
from codeeval_rl.monitoring.tracker import RolloutRecord, Tracker
from codeeval_rl.types import Task

__all__ = ["HeldoutResult", "evaluate_heldout", "log_heldout"]


@dataclass(frozen=True)
class HeldoutResult:
    """Pass@1 of one policy on one task set."""

    sampled: float
    """Fraction of the ``tasks * samples_per_task`` sampled completions that passed."""
    greedy: float
    """Fraction of the tasks whose greedy completion passed."""
    tasks: int
    samples_per_task: int
    records: tuple[RolloutRecord, ...]
    """The sampled completions as scored (the greedy ones are only counted)."""


def evaluate_heldout(policy: Any, tasks: Sequence[Task], scorer: Any, *, samples: int, temperature: float,
                     max_new_tokens: int) -> HeldoutResult:
    """Generate ``samples`` completions per task at ``temperature`` and one greedy completion,
    score them all in one batch and count the passes.

    Raises :class:`ValueError` for an empty task set or ``samples < 1``, and
    :class:`TrainingError` when any run was a sandbox error: a held-out figure with our own
    failures in it would be meaningless."""
    if not tasks:
        raise InputError("the held-out task set is empty")
    if samples < 1:
        raise InputError(f"samples ({samples}) must be >= 1")
    prompts = [policy.encode(t.prompt) for t in tasks]
    sampled = policy.generate_ids(prompts, n=samples, temperature=temperature, max_new_tokens=max_new_tokens)
    greedy = policy.generate_ids(prompts, n=1, temperature=0.0, max_new_tokens=max_new_tokens)
    pairs = [(t, s.text) for t, row in zip(tasks, sampled, strict=True) for s in row]
    scores = scorer.score(pairs + [(t, row[0].text) for t, row in zip(tasks, greedy, strict=True)], "all")
    broken = [sc for sc in scores if sc.status == "sandbox_error"]
    if broken:
        raise TrainingError(f"{len(broken)} of {len(scores)} held-out runs were sandbox errors "
                            f"(first: {broken[0].first_error or 'no detail'}); check `codeeval-rl doctor`")
    sampled_scores, greedy_scores = scores[:len(pairs)], scores[len(pairs):]
    records = tuple(RolloutRecord(
        task_id=t.id, completion=c, reward=sc.reward, status=sc.status, passed=sc.passed, sample_index=i % samples,
        language=t.language, category=t.category, tier=t.tier, components=dict(sc.components),
        first_error=sc.first_error) for i, ((t, c), sc) in enumerate(zip(pairs, sampled_scores, strict=True)))
    return HeldoutResult(
        sampled=sum(sc.passed for sc in sampled_scores) / len(sampled_scores),
        greedy=sum(sc.passed for sc in greedy_scores) / len(greedy_scores),
        tasks=len(tasks), samples_per_task=samples, records=records)


def log_heldout(tracker: Tracker, name: str, result: HeldoutResult, config: Mapping[str, Any]) -> str:
    """Record ``result`` as a finished ``eval`` run named ``name``: its sampled completions, and
    ``pass@1``, ``greedy_pass@1`` and ``reward_mean`` at step 0. Returns the run id."""
    run_id = tracker.start_run("eval", name, dict(config))
    tracker.log_rollouts(run_id, list(result.records))
    rewards = [r.reward for r in result.records]
    tracker.log_metrics(run_id, 0, {"pass@1": result.sampled, "greedy_pass@1": result.greedy,
                                    "reward_mean": sum(rewards) / max(1, len(rewards))})
    tracker.finish_run(run_id)
    return run_id
