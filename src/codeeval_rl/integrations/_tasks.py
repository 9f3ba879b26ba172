"""Shared helpers: text out of completions, and the task of one dataset row.

:class:`RowTasks` finds the task a row is scored on, in this order:

1. ``task_column`` names one of the tasks given (``tasks=``);
2. ``tests_column`` holds assert statements (a list, a JSON list, or one per line), with an
   optional ``entry_point`` column; a string ``prompt`` is the code's prefix;
3. the row has the test columns of a benchmark (:mod:`codeeval_rl.data.rows`: HumanEval,
   MBPP, APPS/TACO, CodeContests), converted as the file loaders convert them;
4. ``task_column`` names a task of a built-in dataset (``HumanEval/0``, ``lib/python/...``).

Tasks found by 1 and 4 are scored on the ``tests`` selection; tasks made from the row's own
columns (2 and 3) on all their tests. Anything else is an :class:`InputError` naming the
row's columns and those accepted.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from codeeval_rl.data.load import builtin_task
from codeeval_rl.data.rows import accepted_row_columns, row_columns, row_format, row_key, task_from_row
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task, TestCase

__all__ = ["RowTasks", "completion_text", "task_from_asserts"]


def completion_text(completion: Any) -> str:
    """A completion as text: a string as it is; a list of chat messages: the assistant turns' content."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        parts = []
        for m in completion:
            if not isinstance(m, Mapping) or "content" not in m:
                raise InputError(f"a conversational completion must be a list of message dicts, got {m!r:.80}")
            if m.get("role", "assistant") == "assistant":
                parts.append(str(m["content"]))
        return "\n".join(parts)
    raise InputError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def task_from_asserts(tests: Any, *, prompt: str = "", entry_point: str = "", language: str = "python",
                      source: str = "adhoc") -> Task:
    """A task whose tests are assert statements: a list of strings, one string (one assert per
    line), or a JSON list."""
    if isinstance(tests, str):
        stripped = tests.strip()
        if stripped.startswith("["):
            try:
                tests = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise InputError(f"tests column is not a valid JSON list: {exc}") from None
        else:
            tests = [line for line in tests.splitlines() if line.strip()]
    if not isinstance(tests, Sequence) or not tests or not all(isinstance(t, str) for t in tests):
        raise InputError("tests must be a non-empty list of assert statements")
    cases = tuple(TestCase(kind="assert", code=t, id=f"t{i}") for i, t in enumerate(tests))
    return Task(id=f"{source}/{_digest(list(tests), entry_point)}", language=language, prompt=prompt,
                entry_point=entry_point, tests=cases, provenance={"source": source})


class RowTasks:
    """Finds the task of a dataset row and the tests it is scored on (order in the module
    docstring). The conversions of the last ``cache_size`` distinct rows are kept, since a
    GRPO batch repeats each row once per generation. Thread-safe."""

    def __init__(self, tasks: Mapping[str, Task] | None = None, *, tests: str = "hidden",
                 task_column: str = "task_id", tests_column: str = "tests", language: str = "python",
                 source: str = "adhoc", cache_size: int = 1024) -> None:
        self.tasks = dict(tasks or {})
        self.tests = tests
        self.task_column = task_column
        self.tests_column = tests_column
        self.language = language
        self.source = source
        self._cache: OrderedDict[str, Task] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def __call__(self, row: Mapping[str, Any]) -> tuple[Task, str]:
        tid = row.get(self.task_column)
        if isinstance(tid, str) and tid in self.tasks:
            return self.tasks[tid], self.tests
        tests = row.get(self.tests_column)
        if tests is not None:
            prompt, entry = row.get("prompt"), row.get("entry_point")
            return task_from_asserts(tests, prompt=prompt if isinstance(prompt, str) else "",
                                     entry_point=entry if isinstance(entry, str) else "",
                                     language=self.language, source=self.source), "all"
        fmt = row_format(row)
        if fmt is not None:
            key = row_key(row, fmt, self.language)
            with self._lock:
                task = self._cache.get(key)
                if task is not None:
                    self._cache.move_to_end(key)
                    return task, "all"
            task = task_from_row(row, language=self.language, fmt=fmt)
            with self._lock:
                self._cache[key] = task
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
            return task, "all"
        builtin = builtin_task(tid)
        if builtin is not None:
            return builtin, self.tests
        raise InputError(self._unmatched(row, tid))

    def _unmatched(self, row: Mapping[str, Any], tid: Any) -> str:
        head = (f"{self.task_column} {tid!r} is neither among the {len(self.tasks)} tasks given nor a built-in task, "
                f"and the row has no test columns" if tid is not None else "cannot find the tests of a row")
        return (f"{head} (its columns: {row_columns(row)}); execution rewards need {self.task_column} (a task given "
                f"in tasks= or of a built-in dataset, e.g. HumanEval/0), {self.tests_column} (assert statements), "
                f"or a benchmark's test columns: {accepted_row_columns()}")
