"""The datasets a client may name, and tasks a client brings.

A client names a dataset, never a path: ``humaneval``, ``library`` (with its
``library:<language>:<tier>:<category>`` filters), or a name the operator mapped to a task file
(``serve --dataset NAME=PATH``). Hub datasets (``hf:``) are not offered: a server downloads
nothing. Loaded datasets are kept in memory, keyed by name.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from codeeval_rl.errors import CodeEvalError, InputError
from codeeval_rl.types import Task

__all__ = ["DatasetCatalog", "tasks_from_dicts"]


def tasks_from_dicts(raw: Sequence[Mapping[str, Any]]) -> list[Task]:
    """Tasks in the Task format (``docs/datasets.md``); :class:`InputError` names the first bad one
    and its problem, and duplicate ids are refused."""
    from codeeval_rl.data._records import RecordError
    from codeeval_rl.data.taskfile import task_from_dict

    tasks: list[Task] = []
    seen: set[str] = set()
    for i, rec in enumerate(raw):
        try:
            task = task_from_dict(rec)
        except (RecordError, CodeEvalError, ValueError, TypeError, KeyError) as exc:
            raise InputError(f"tasks[{i}]: {exc}") from None
        if task.id in seen:
            raise InputError(f"tasks[{i}]: task id {task.id!r} appears twice")
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise InputError("tasks is empty")
    return tasks


class DatasetCatalog:
    """Names -> tasks, for jobs. Thread-safe; each dataset is loaded once."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self.extra = dict(extra or {})
        self._loaded: dict[str, list[Task]] = {}
        self._lock = threading.Lock()

    def describe(self) -> list[dict[str, str]]:
        from codeeval_rl.data.load import KNOWN_DATASETS

        out = [{"name": n, "description": d} for n, d in KNOWN_DATASETS.items() if not n.startswith("hf:")]
        out += [{"name": n, "description": "a task file this server offers"} for n in sorted(self.extra)]
        return out

    def check_name(self, name: str) -> None:
        """:class:`InputError` unless ``name`` is one a client may use."""
        if name in self.extra or name == "humaneval" or name == "library" or name.startswith("library:"):
            return
        offered = ", ".join(["humaneval", "library[:filters]", *sorted(self.extra)])
        raise InputError(f"unknown dataset {name!r}; this server offers: {offered}")

    def tasks(self, name: str) -> list[Task]:
        self.check_name(name)
        with self._lock:
            if name not in self._loaded:
                from codeeval_rl.data import load_dataset

                self._loaded[name] = load_dataset(self.extra.get(name, name))
            return self._loaded[name]
