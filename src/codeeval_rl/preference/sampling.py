"""Sample programs for tasks and score them on the tasks' tests, in seeded, resumable chunks.

Both pair builders (reward-model pairs and CodeDPO pairs) run a long job
of the same shape: for a chunk of tasks, generate with the policy, run the sandbox, keep
plain JSON per task. :func:`run_chunks` runs such a job chunk by chunk and appends each
finished chunk to a journal (JSON Lines next to the output), so a killed run started again
with the same settings skips the chunks it finished. Every chunk reseeds Python's and
torch's generators from ``(seed, chunk index)``, so a resumed run samples exactly what an
uninterrupted one does, and the results do not depend on which chunks ran before.

:func:`sample_and_score` is the reward-model job: ``n`` completions per task (the policy's
own prompt format, :func:`~codeeval_rl.rl.generation.generate_samples`) and, for each, the
share of the task's tests it passes (:class:`~codeeval_rl.evaluation.Evaluator`, one batch
per chunk).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.evaluation.evaluator import select_tests
from codeeval_rl.types import Task

__all__ = ["ScoredProgram", "check_tasks_have_tests", "chunk_seed", "run_chunks", "sample_and_score", "seed_chunk"]

ChunkFn = Callable[[int, Sequence[Task]], list[dict[str, Any]]]


@dataclass(frozen=True)
class ScoredProgram:
    """One sampled completion and how it did on the task's tests."""

    completion: str
    passed: bool
    num_passed: int
    num_tests: int

    @property
    def pass_rate(self) -> float:
        return self.num_passed / self.num_tests if self.num_tests else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"completion": self.completion, "passed": self.passed, "num_passed": self.num_passed,
                "num_tests": self.num_tests}


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of a job seeded ``seed`` (distinct chunks, distinct seeds)."""
    return (seed * 1_000_003 + chunk * 7919) % (2**31 - 1)


def seed_chunk(seed: int, chunk: int) -> None:
    """Seed Python's and (when installed) torch's generators for one chunk."""
    s = chunk_seed(seed, chunk)
    random.seed(s)
    try:
        import torch
    except ImportError:  # a scripted policy needs no torch
        return
    torch.manual_seed(s)


def check_tasks_have_tests(tasks: Sequence[Task], tests: str) -> None:
    """Raise one :class:`InputError` naming the tasks that have no ``tests`` tests."""
    if not tasks:
        raise InputError("no tasks")
    empty = [t.id for t in tasks if not select_tests(t, tests)]
    if empty:
        shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        raise InputError(f"{len(empty)} task(s) have no {tests} tests to score programs with: {shown}")


def _read_journal(path: Path, key: Mapping[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """The finished chunks of a journal. A last line cut by a kill is dropped from the file, so
    the next chunk appended starts on a line of its own."""
    done: dict[int, list[dict[str, Any]]] = {}
    if not path.is_file():
        return done
    want = json.loads(json.dumps(dict(key)))
    good = 0
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break  # a line cut by a kill: the chunks before it are whole
            if not raw.endswith(b"\n"):
                break
            if rec.get("key") != want:
                changed = sorted(k for k in set(want) | set(rec.get("key") or {})
                                 if (rec.get("key") or {}).get(k) != want.get(k))
                raise InputError(f"{path}: line {number} was written with other settings ({', '.join(changed)}); "
                                 "delete it to start over, or run with the settings it was written with")
            done[int(rec["chunk"])] = rec["items"]
            good += len(raw)
    if good != path.stat().st_size:
        with open(path, "r+b") as fh:
            fh.truncate(good)
    return done


def run_chunks(tasks: Sequence[Task], chunk_size: int, fn: ChunkFn, *, journal: str | os.PathLike[str] | None = None,
               key: Mapping[str, Any] | None = None,
               on_chunk: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """``fn(chunk_index, tasks)`` over consecutive chunks of ``tasks``; returns its per-task
    records in task order. With ``journal``, finished chunks are appended to that file and a
    rerun with the same ``key`` (the settings that decide the results) reuses them; a journal
    written with another key raises :class:`InputError` naming the settings that differ.
    ``on_chunk(tasks_done, tasks_total)`` reports progress."""
    if chunk_size < 1:
        raise InputError(f"chunk size ({chunk_size}) must be >= 1")
    path = Path(journal) if journal is not None else None
    key = dict(key or {})
    done = _read_journal(path, key) if path is not None else {}
    out: list[dict[str, Any]] = []
    starts = range(0, len(tasks), chunk_size)
    for index, start in enumerate(starts):
        chunk = tasks[start:start + chunk_size]
        items = done.get(index)
        if items is None or len(items) != len(chunk):
            items = fn(index, chunk)
            if len(items) != len(chunk):
                raise InputError(f"chunk {index}: {len(items)} records for {len(chunk)} tasks")
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "chunk": index, "items": items}, ensure_ascii=False) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
        out.extend(items)
        if on_chunk is not None:
            on_chunk(min(start + chunk_size, len(tasks)), len(tasks))
    return out


def sample_and_score(policy: Any, tasks: Sequence[Task], evaluator: Any, *, n: int, seed: int = 0,
                     temperature: float = 1.0, top_p: float = 1.0, max_new_tokens: int = 512, tests: str = "all",
                     chunk_size: int = 16, journal: str | os.PathLike[str] | None = None,
                     key: Mapping[str, Any] | None = None,
                     on_chunk: Callable[[int, int], None] | None = None) -> list[list[ScoredProgram]]:
    """``n`` completions per task, each scored on the task's ``tests`` tests: one list per task,
    in task order, each in sampling order. ``policy`` is any
    :class:`~codeeval_rl.rl.policy.Policy`; ``key`` adds to the journal's settings (the model's
    name, say). Raises :class:`InputError` for tasks without such tests, before sampling."""
    from codeeval_rl.rl.generation import generate_samples

    if n < 1:
        raise InputError(f"n ({n}) must be >= 1")
    check_tasks_have_tests(tasks, tests)

    def chunk_fn(index: int, chunk: Sequence[Task]) -> list[dict[str, Any]]:
        seed_chunk(seed, index)
        rows = generate_samples(policy, chunk, n=n, temperature=temperature, top_p=top_p,
                                max_new_tokens=max_new_tokens, batch_size=len(chunk))
        owners = [task for task in chunk for _ in range(n)]  # generate_samples: n rows per task, in order
        items = [(task, evaluator.completion_to_code(task, r["completion"])) for task, r in zip(owners, rows, strict=True)]
        results = evaluator.evaluate_many(items, tests=tests)
        scored = [ScoredProgram(r["completion"], bool(res.passed), int(res.num_passed), int(res.num_tests)).to_dict()
                  for r, res in zip(rows, results, strict=True)]
        return [{"task_id": t.id, "samples": scored[i * n:(i + 1) * n]} for i, t in enumerate(chunk)]

    settings = {"n": n, "seed": seed, "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens,
                "tests": tests, "chunk_size": chunk_size, "tasks": len(tasks), **dict(key or {})}
    records = run_chunks(tasks, chunk_size, chunk_fn, journal=journal, key=settings, on_chunk=on_chunk)
    return [[ScoredProgram(**s) for s in r["samples"]] for r in records]
