"""Record-to-Task conversion with every problem collected, shared by all loaders.

A converter takes one record (a dict from a JSONL line, a Hub row, a problem directory)
and returns a :class:`~codeeval_rl.types.Task` or raises :class:`RecordError` listing
``(field, message)`` pairs. :func:`convert_all` runs it over many records and raises one
:class:`~codeeval_rl.errors.DatasetError` naming the source, the location (``line 3``,
``row 7``, a directory) and the field of every problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from codeeval_rl.data._jsonl import Line, raise_collected
from codeeval_rl.types import Task

__all__ = ["Problems", "RecordError", "convert_all", "convert_lines"]


class RecordError(Exception):
    """One record is unusable; ``problems`` are ``(field, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


class Problems:
    """Collects ``(field, message)`` pairs for one record; :meth:`check` raises if any."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))

    def string(self, rec: Mapping[str, Any], key: str, *, required: bool = True, nonempty: bool = False,
               default: str = "") -> str:
        """``rec[key]`` as a string, recording a problem (and returning ``default``) if not."""
        if key not in rec or rec[key] is None:
            if required:
                self.add(key, "missing")
            return default
        value = rec[key]
        if not isinstance(value, str):
            self.add(key, f"must be a string, got {type(value).__name__}")
            return default
        if nonempty and not value.strip():
            self.add(key, "must not be empty")
        return value

    def check(self) -> None:
        if self.items:
            raise RecordError(self.items)


Converter = Callable[[Any], Task]


def convert_all(source: str | os.PathLike[str], records: Iterable[tuple[str, Any]],
                convert: Converter, *, unique_ids: bool = True) -> list[Task]:
    """Convert ``(location, record)`` pairs; raise one DatasetError for all problems."""
    tasks: list[Task] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for where, rec in records:
        if not isinstance(rec, dict):
            errors.append(f"{where}: expected a JSON object, got {type(rec).__name__}")
            continue
        try:
            task = convert(rec)
        except RecordError as exc:
            errors.extend(f"{where}: {field}: {msg}" for field, msg in exc.problems)
            continue
        if unique_ids:
            if task.id in seen:
                errors.append(f"{where}: id: duplicate {task.id!r} (first at {seen[task.id]})")
                continue
            seen[task.id] = where
        tasks.append(task)
    raise_collected(source, errors)
    return tasks


def convert_lines(source: str | os.PathLike[str], lines: Iterable[Line], convert: Converter,
                  *, unique_ids: bool = True) -> list[Task]:
    """:func:`convert_all` over JSONL lines; JSON syntax errors are reported with the rest."""
    errors: list[str] = []

    def records() -> Iterable[tuple[str, Any]]:
        for line in lines:
            if line.error:
                errors.append(f"line {line.number}: {line.error}")
            else:
                yield f"line {line.number}", line.value

    try:
        tasks = convert_all(source, records(), convert, unique_ids=unique_ids)
    except Exception as exc:
        collected = getattr(exc, "errors", None)
        if collected is None:
            raise
        errors.extend(collected)
        errors.sort(key=_line_key)
        raise_collected(source, errors)
        raise  # pragma: no cover - raise_collected always raises here
    raise_collected(source, errors)
    return tasks


def _line_key(message: str) -> int:
    head = message.split(":", 1)[0]
    parts = head.split()
    return int(parts[1]) if len(parts) == 2 and parts[0] == "line" and parts[1].isdigit() else 0
