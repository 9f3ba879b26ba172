"""Tasks and datasets: the Task JSONL format, benchmark loaders, the built-in library.

Every loader returns ``list[Task]`` (:class:`codeeval_rl.types.Task`). Malformed input
raises :class:`~codeeval_rl.errors.DatasetError` naming file, line and field of every
problem; :func:`task_from_row` turns one benchmark row (a training dataset's) into a Task
with the same conversions. Output comparison for stdin/stdout tests lives in
:mod:`codeeval_rl.data.compare` (pure functions the judge uses). See ``docs/datasets.md``.
"""

from codeeval_rl.data.apps import load_apps
from codeeval_rl.data.builtin import builtin_library, known_wrong_solutions, library_summary
from codeeval_rl.data.codecontests import load_codecontests
from codeeval_rl.data.compare import (
    COMPARATORS,
    COMPARE_MODES,
    FLOAT_ABS_TOL,
    compare_exact,
    compare_float,
    compare_output,
    compare_tokens,
)
from codeeval_rl.data.hf import load_hf
from codeeval_rl.data.humaneval import load_humaneval
from codeeval_rl.data.load import KNOWN_DATASETS, builtin_task, load_dataset
from codeeval_rl.data.mbpp import load_mbpp
from codeeval_rl.data.rows import task_from_row
from codeeval_rl.data.samples import read_samples, write_samples
from codeeval_rl.data.taskfile import (
    read_tasks,
    read_wrong_solutions,
    task_from_dict,
    task_to_dict,
    validate_task_file,
    write_tasks,
)

__all__ = [
    "COMPARATORS",
    "COMPARE_MODES",
    "FLOAT_ABS_TOL",
    "KNOWN_DATASETS",
    "builtin_library",
    "builtin_task",
    "compare_exact",
    "compare_float",
    "compare_output",
    "compare_tokens",
    "known_wrong_solutions",
    "library_summary",
    "load_apps",
    "load_codecontests",
    "load_dataset",
    "load_hf",
    "load_humaneval",
    "load_mbpp",
    "read_samples",
    "read_tasks",
    "read_wrong_solutions",
    "task_from_dict",
    "task_from_row",
    "task_to_dict",
    "validate_task_file",
    "write_samples",
    "write_tasks",
]
