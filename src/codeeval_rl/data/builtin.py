"""The built-in task library: tiered tasks in five languages, shipped with the package.

The tasks live in ``codeeval_rl/data/library/<language>.jsonl`` in the Task JSONL format
(:mod:`codeeval_rl.data.taskfile`). Every task has a reference solution, at least five
tests with edge cases, one or two public tests (the rest hidden) and at least one
known-wrong solution (the ``wrong_solutions`` key, read by :func:`known_wrong_solutions`),
so a judge can be checked both ways: the reference passes every test, each wrong solution
fails at least one (``tests/data/test_library.py`` runs them all in the real sandbox).

Conventions: Python tasks are function-call tasks (``assert`` tests, ``entry_point`` is
the function); JavaScript, Java, C++ and Rust tasks are stdin/stdout programs (``io``
tests) whose prompt states the input and output format exactly. Java programs are a
``public class Main``; Rust is edition 2021, std only; C++ is C++17 (GNU); JavaScript
reads all input with ``require('fs').readFileSync(0, 'utf8')``.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

from codeeval_rl.data.taskfile import TIERS, read_tasks, read_wrong_solutions
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task

__all__ = ["LIBRARY_DIR", "builtin_library", "known_wrong_solutions", "library_categories", "library_summary"]

LIBRARY_DIR = Path(__file__).with_name("library")


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[Task, ...], dict[str, tuple[str, ...]]]:
    tasks: list[Task] = []
    wrong: dict[str, tuple[str, ...]] = {}
    for f in sorted(LIBRARY_DIR.glob("*.jsonl")):
        tasks.extend(read_tasks(f))
        wrong.update({k: tuple(v) for k, v in read_wrong_solutions(f).items()})
    return tuple(tasks), wrong


def library_categories() -> tuple[str, ...]:
    """The categories used in the library, sorted."""
    return tuple(sorted({t.category for t in _load()[0]}))


def builtin_library(language: str | None = None, tier: str | None = None,
                    category: str | None = None) -> list[Task]:
    """The library's tasks, optionally only one language, tier and/or category.

    Raises :class:`InputError` for a filter value the library does not have (naming the
    ones it has), so a typo never yields an empty dataset silently.
    """
    tasks = _load()[0]
    checks = (("language", language, sorted({t.language for t in tasks})),
              ("tier", tier, list(TIERS)),
              ("category", category, list(library_categories())))
    for what, value, known in checks:
        if value is not None and value not in known:
            raise InputError(f"unknown library {what} {value!r}; the library has: {', '.join(known)}")
    return [t for t in tasks
            if (language is None or t.language == language)
            and (tier is None or t.tier == tier)
            and (category is None or t.category == category)]


def known_wrong_solutions(task_id: str) -> list[str]:
    """The known-wrong solutions shipped for library task ``task_id`` (InputError if unknown)."""
    tasks, wrong = _load()
    if not any(t.id == task_id for t in tasks):
        raise InputError(f"no library task {task_id!r}")
    return list(wrong.get(task_id, ()))


def library_summary() -> dict[str, dict[str, int]]:
    """Counts of the library's tasks by language, tier and category."""
    tasks = _load()[0]
    return {
        "language": dict(sorted(Counter(t.language for t in tasks).items())),
        "tier": {k: v for k in TIERS if (v := sum(t.tier == k for t in tasks))},
        "category": dict(sorted(Counter(t.category for t in tasks).items())),
    }
