"""Best-of-N reranking: pass@1 of three choices among the same N samples of each task.

For each task, the first ``n`` samples (in sample order) are the candidates, and three
choosers pick one:

* **rm**: the sample with the highest reward-model score (the first of equal scores);
* **random**: a uniformly random sample; its pass@1 is the exact expectation, the share of
  the candidates that pass (``pass_at_k(n, c, 1)``);
* **oracle**: one that passes the hidden tests when any does (``pass_at_k(n, c, n)``), the
  ceiling any reranker of these samples can reach.

Each figure is the mean over tasks. With ``public_filter`` (AlphaCode's filtering, as in
n@k) the candidates are first cut to those that pass the task's public tests, and the rm and
random choices are made among them (a task none of whose candidates passes the public tests
counts as failed; a task without public tests keeps every candidate, as
:func:`~codeeval_rl.evaluation.metrics.n_at_k` does); those figures are reported beside the
unfiltered ones, so that the reward model's own effect stays visible. The oracle is the same
either way. The math here is pure; :func:`rerank` adds the scores and the public verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.evaluation.metrics import n_at_k, pass_at_k

__all__ = ["BestOf", "Candidate", "best_of_n", "rerank", "rm_choice"]


@dataclass(frozen=True)
class Candidate:
    """One sample of a task as the choosers see it."""

    score: float
    passed: bool
    """Passes the hidden tests."""
    public_passed: bool = True
    """Passes the public tests (True for a task without public tests)."""


@dataclass(frozen=True)
class BestOf:
    """Mean pass@1 over tasks of each choice among ``n`` samples."""

    n: int
    tasks: int
    rm: float
    random: float
    oracle: float
    filtered_rm: float | None = None
    """rm and random after the public-test filter (None without it)."""
    filtered_random: float | None = None

    def to_summary(self) -> dict[str, Any]:
        """The ``best_of`` block of RESULTS.json's summary."""
        out: dict[str, Any] = {"n": self.n, "tasks": self.tasks, "rm_pass@1": self.rm, "random_pass@1": self.random,
                               "oracle_pass@1": self.oracle}
        if self.filtered_rm is not None:
            out["public_filter"] = {"rm_pass@1": self.filtered_rm, "random_pass@1": self.filtered_random}
        return out


def rm_choice(candidates: Sequence[Candidate]) -> int:
    """Index of the highest score (the first of equal ones)."""
    if not candidates:
        raise InputError("no candidates to choose from")
    return max(range(len(candidates)), key=lambda i: (candidates[i].score, -i))


def best_of_n(groups: Sequence[Sequence[Candidate]], n: int, public_filter: bool = False) -> BestOf:
    """The three pass@1 figures (see the module docstring) over ``groups`` (one per task, in
    sample order). Raises :class:`InputError` when a task has fewer than ``n`` samples."""
    if n < 1:
        raise InputError(f"best-of n ({n}) must be >= 1")
    if not groups:
        raise InputError("best-of-N of an empty set of tasks")
    short = [i for i, g in enumerate(groups) if len(g) < n]
    if short:
        raise InputError(f"best-of-{n} needs {n} samples per task; {len(short)} task(s) have fewer "
                         f"(the first has {len(groups[short[0]])})")
    rm = rnd = oracle = f_rm = f_rnd = 0.0
    for group in groups:
        cands = list(group[:n])
        c = sum(x.passed for x in cands)
        rm += cands[rm_choice(cands)].passed
        rnd += pass_at_k(n, c, 1)
        oracle += pass_at_k(n, c, n)
        if public_filter:
            kept = [x for x in cands if x.public_passed]
            f_rm += bool(kept) and kept[rm_choice(kept)].passed
            f_rnd += n_at_k([(x.public_passed, x.passed) for x in cands], 1, n)
    k = len(groups)
    return BestOf(n=n, tasks=k, rm=rm / k, random=rnd / k, oracle=oracle / k,
                  filtered_rm=f_rm / k if public_filter else None, filtered_random=f_rnd / k if public_filter else None)


def rerank(tasks: Sequence[Any], records: list[dict[str, Any]], reward_model: Any, n: int, *,
           public_filter: bool = False, evaluator: Any = None) -> BestOf:
    """Score every evaluated sample record (``task_id``, ``completion``, ``passed``) with
    ``reward_model`` (anything with ``score(prompts, completions)``), store it as the record's
    ``rm_score`` (and, with ``public_filter``, its ``public_passed``, from one more evaluator
    batch on the public tests), and return :func:`best_of_n` over the tasks in dataset order."""
    by_id = {t.id: t for t in tasks}
    scores = reward_model.score([by_id[r["task_id"]].prompt for r in records], [r["completion"] for r in records])
    for r, s in zip(records, scores, strict=True):
        r["rm_score"] = float(s)
    if public_filter:
        if evaluator is None:
            raise InputError("the public-test filter needs an evaluator")
        todo = [i for i, r in enumerate(records) if by_id[r["task_id"]].public_tests]
        items = [(by_id[records[i]["task_id"]], evaluator.completion_to_code(by_id[records[i]["task_id"]],
                                                                             records[i]["completion"])) for i in todo]
        verdicts = {i: res.passed for i, res in zip(todo, evaluator.evaluate_many(items, tests="public"))}
        for i, r in enumerate(records):
            r["public_passed"] = bool(verdicts.get(i, True))
    groups: dict[str, list[Candidate]] = {}
    for r in records:
        groups.setdefault(r["task_id"], []).append(Candidate(r["rm_score"], bool(r["passed"]),
                                                             bool(r.get("public_passed", True))))
    ordered = [groups[t.id] for t in tasks if t.id in groups]
    return best_of_n(ordered, n, public_filter)
