"""The reward boundary of the trainers: a :class:`Scorer` turns (task, completion) pairs into
:class:`Score` values, in input order.

:class:`EvaluatorScorer` is the real one: the evaluation engine's verdict (its reward is the
multi-objective weighted sum of the evaluation config, or binary/partial by its ``shaping``).
:class:`FunctionScorer` wraps a plain function, for tests and toy tasks.
:class:`AsyncRewards` runs a scorer on a thread pool so the trainer can generate the next batch
while the sandbox scores this one, and measures how long the trainer waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from codeeval_rl.types import Task

__all__ = ["AsyncRewards", "EvaluatorScorer", "FunctionScorer", "Score", "Scorer"]


@dataclass(frozen=True)
class Score:
    """What a completion earned. ``feedback`` is what a model may read (public-test failures)."""

    reward: float
    passed: bool = False
    status: str = "ok"
    components: dict[str, float] = field(default_factory=dict)
    feedback: str = ""
    first_error: str = ""
    valid_code: bool = True
    """False when no code could be extracted or it does not parse (multi-turn's penalty)."""


@runtime_checkable
class Scorer(Protocol):
    def score(self, pairs: Sequence[tuple[Task, str]], tests: str = "hidden") -> list[Score]: ...


class FunctionScorer:
    """``fn(task, completion) -> float | Score``; a float ``r`` counts as passed when ``r > 0``."""

    def __init__(self, fn: Callable[[Task, str], float | Score]) -> None:
        self.fn = fn

    def score(self, pairs: Sequence[tuple[Task, str]], tests: str = "hidden") -> list[Score]:
        out = []
        for task, completion in pairs:
            r = self.fn(task, completion)
            out.append(r if isinstance(r, Score) else Score(float(r), passed=float(r) > 0))
        return out


class EvaluatorScorer:
    """Rewards from :class:`codeeval_rl.evaluation.Evaluator`.

    ``to_code(task, completion)`` makes the program (default: the evaluation engine's
    ``completion_to_code``); ``tests`` picks the tests scored unless a call overrides it.
    """

    def __init__(self, evaluator: Any, to_code: Callable[[Task, str], str] | None = None,
                 tests: str = "hidden") -> None:
        if to_code is None:
            from codeeval_rl.evaluation import completion_to_code

            to_code = completion_to_code
        self.evaluator = evaluator
        self.to_code = to_code
        self.tests = tests

    @classmethod
    def from_settings(cls, evaluation_settings: Any, sandbox: Any, **kwargs: Any) -> EvaluatorScorer:
        from codeeval_rl.evaluation import Evaluator

        return cls(Evaluator(evaluation_settings, sandbox), **kwargs)

    def score(self, pairs: Sequence[tuple[Task, str]], tests: str | None = None) -> list[Score]:
        which = tests or self.tests
        items = [(task, self.to_code(task, completion)) for task, completion in pairs]
        results = self.evaluator.evaluate_many(items, tests=which)
        return [_score_of(r) for r in results]


def _score_of(result: Any) -> Score:
    status = str(getattr(result, "outcome", None) or getattr(result, "status", "ok"))
    feedback = str(getattr(result, "feedback", "") or "")
    lines = [ln for ln in feedback.strip().splitlines() if ln.strip()]
    components = dict(getattr(result.reward, "components", {}) or {})
    valid = components.get("syntax", 1.0) >= 1.0 and status not in ("compile_error", "no_code")
    return Score(float(result.reward.total), bool(result.passed), status, components, feedback,
                 lines[0][:200] if lines else "", valid)


class AsyncRewards:
    """Score batches on background threads; :meth:`wait` blocks for one and adds the time
    spent blocked to ``waited_s``."""

    def __init__(self, scorer: Scorer, workers: int = 1, enabled: bool = True) -> None:
        self.scorer = scorer
        self.enabled = enabled
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="rewards") if enabled else None
        self.waited_s = 0.0

    def submit(self, pairs: Sequence[tuple[Task, str]], tests: str = "hidden") -> Future[list[Score]]:
        if self._pool is None:
            fut: Future[list[Score]] = Future()
            t0 = time.perf_counter()
            try:
                fut.set_result(self.scorer.score(list(pairs), tests))
            except BaseException as exc:  # noqa: BLE001 - re-raised by wait()
                fut.set_exception(exc)
            self.waited_s += time.perf_counter() - t0
            return fut
        return self._pool.submit(self.scorer.score, list(pairs), tests)

    def wait(self, fut: Future[list[Score]]) -> list[Score]:
        t0 = time.perf_counter()
        try:
            return fut.result()
        finally:
            self.waited_s += time.perf_counter() - t0

    def take_waited(self) -> float:
        w, self.waited_s = self.waited_s, 0.0
        return w

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

