"""Level 5, efficiency: time and peak memory against the task's reference solution on the
same tests, in [0, 1]::

    time_score   = min(1, (t_ref + 5 ms) / (t + 5 ms))
    memory_score = min(1, (m_ref + 4 MiB) / (m + 4 MiB))
    efficiency   = (time_score + memory_score) / 2

``t`` is the CPU time of the tests (for Python assert tests the harness times each test with
``time.process_time``, excluding interpreter start; otherwise the runs' CPU time), ``m``
the largest peak memory of the runs. The floors (5 ms, 4 MiB) keep timer, page-fault and allocator noise
from dominating tiny programs; CPU time rather than wall time keeps the score steadier on a
loaded host. The reference's figures are cached per task by the evaluator. Without a
reference (or when it fails its own tests) efficiency is not measurable and counts 1.
Growth over scaled inputs is not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.types import TestResult

__all__ = ["MEMORY_FLOOR_BYTES", "TIME_FLOOR_S", "Figures", "efficiency_score", "figures_of"]

TIME_FLOOR_S = 5e-3
MEMORY_FLOOR_BYTES = 4 << 20


@dataclass(frozen=True)
class Figures:
    """What a solution cost on a set of tests."""

    cpu_time_s: float
    peak_memory_bytes: int


def figures_of(results: Sequence[TestResult]) -> Figures:
    """Figures of a set of test results: CPU times summed, the largest peak memory."""
    time_s = sum(r.execution.cpu_time_s for r in results)
    memory = max((r.execution.peak_memory_bytes for r in results), default=0)
    return Figures(cpu_time_s=time_s, peak_memory_bytes=memory)


def efficiency_score(own: Figures, reference: Figures | None) -> float:
    """The score of ``own`` against ``reference`` (1 when there is no reference)."""
    if reference is None:
        return 1.0
    t = min(1.0, (reference.cpu_time_s + TIME_FLOOR_S) / (max(0.0, own.cpu_time_s) + TIME_FLOOR_S))
    m = min(1.0, (reference.peak_memory_bytes + MEMORY_FLOOR_BYTES)
            / (max(0, own.peak_memory_bytes) + MEMORY_FLOOR_BYTES))
    return (t + m) / 2
