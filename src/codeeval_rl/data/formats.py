"""Which published format a record is in, told by its keys; one converter per format.

A table, not a chain of string comparisons: :data:`FORMATS` maps a format name to the
keys that identify it and the function turning one record into a Task. Detection looks
at the first record and takes the first format whose keys it all has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from codeeval_rl.data._records import RecordError
from codeeval_rl.data.apps import apps_record_to_task
from codeeval_rl.data.codecontests import codecontests_record_to_task
from codeeval_rl.data.humaneval import humaneval_check
from codeeval_rl.data.mbpp import mbpp_record_to_task
from codeeval_rl.data.taskfile import task_from_dict
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task

__all__ = ["FORMATS", "Format", "detect_format", "get_format", "humaneval_record_to_task"]


def humaneval_record_to_task(rec: dict[str, Any]) -> Task:
    """One HumanEval record (task_id, prompt, canonical_solution, test, entry_point) -> Task."""
    bad = [(k, "missing" if k not in rec else "must be a string")
           for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point")
           if not isinstance(rec.get(k), str)]
    if bad:
        raise RecordError(bad)
    return Task(
        id=rec["task_id"], language="python", prompt=rec["prompt"], entry_point=rec["entry_point"],
        tests=(humaneval_check(rec["test"], rec["entry_point"]),),
        reference_solution=rec["prompt"] + rec["canonical_solution"], tier="medium", category="humaneval",
        provenance={"source": "openai/human-eval", "licence": "MIT", "task_id": rec["task_id"]},
    )


@dataclass(frozen=True)
class Format:
    """A dataset format: the keys that identify its records and the record converter."""

    name: str
    keys: tuple[str, ...]
    convert: Callable[[dict[str, Any]], Task]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("tasks", ("id", "language", "prompt", "tests"), task_from_dict),
        Format("humaneval", ("task_id", "prompt", "canonical_solution", "test", "entry_point"),
               humaneval_record_to_task),
        Format("mbpp", ("task_id", "code", "test_list"), mbpp_record_to_task),
        Format("apps", ("question", "input_output"), apps_record_to_task),
        Format("codecontests", ("name", "description"), codecontests_record_to_task),
    )
}


def detect_format(record: Mapping[str, Any]) -> str:
    """The name of the first format whose identifying keys ``record`` has; InputError if none."""
    if not isinstance(record, Mapping):
        raise InputError(f"expected a JSON object, got {type(record).__name__}")
    for fmt in FORMATS.values():
        if all(k in record for k in fmt.keys):
            return fmt.name
    if "task_id" in record and "completion" in record:
        raise InputError("this is a sample file (task_id, completion), not a task dataset")
    shown = ", ".join(sorted(record)[:12])
    raise InputError(
        f"cannot tell the dataset format from the keys ({shown}); pass format= one of {', '.join(FORMATS)}"
    )


def get_format(name: str) -> Format:
    """The :class:`Format` called ``name``; InputError listing the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(f"unknown dataset format {name!r}; known: {', '.join(FORMATS)}") from None
