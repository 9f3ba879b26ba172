"""Tasks and datasets: the Task JSONL format, benchmark loaders, the built-in library.

Every loader returns ``list[Task]`` (:class:`codeeval_rl.types.Task`). Malformed input
raises :class:`~codeeval_rl.errors.DatasetError` naming file, line and field of every
problem. Output comparison for stdin/stdout tests lives in :mod:`codeeval_rl.data.compare`.
"""

from codeeval_rl.data.compare import (
    COMPARATORS,
    COMPARE_MODES,
    compare_exact,
    compare_float,
    compare_output,
    compare_tokens,
)
from codeeval_rl.data.humaneval import load_humaneval
from codeeval_rl.data.samples import read_samples, write_samples

__all__ = [
    "COMPARATORS",
    "COMPARE_MODES",
    "compare_exact",
    "compare_float",
    "compare_output",
    "compare_tokens",
    "load_humaneval",
    "read_samples",
    "write_samples",
]
