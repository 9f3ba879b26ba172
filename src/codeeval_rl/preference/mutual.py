"""Mutual verification of programs and tests (CodeDPO's self-validation score): pure functions.

A task has ``P`` candidate programs and ``T`` candidate tests, both written by the model, and
the matrix ``M`` (``P x T``) with ``M[i][j] = 1`` when program ``i`` passes test ``j``. A
program is more likely right when tests that are themselves likely right pass it, and a test
is more likely right when programs that are likely right pass it. CodeDPO (Zhang et al.,
arXiv 2410.05605, section 3) scores both with a PageRank-style iteration, damping
``d = 0.85`` over 10 iterations. The update implemented here follows that description
(program score from the scores of the tests it passes, test score from the scores of the
programs that pass it, damping, uniform initial scores, normalised every round); it is not
copied from the paper's equation, which this module does not claim to reproduce term by term::

    p_0 = 1/P (every program),  t_0 = 1/T (every test)
    p_k = (1 - d) / P + d * (M t_{k-1}) / sum(M t_{k-1})
    t_k = (1 - d) / T + d * (M^T p_{k-1}) / sum(M^T p_{k-1})

Both vectors update from the previous round's values (simultaneously), and each sums to 1
after every round. When no program passes any test the evidence term is uniform, so every
score stays ``1/P`` (``1/T``). With no tests at all the programs keep uniform scores.

:func:`pass_count_scores` is the baseline the paper compares with: the share of the
candidate tests each program passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.errors import InputError

__all__ = ["DAMPING", "ITERATIONS", "Verification", "mutual_verification", "pass_count_scores"]

DAMPING = 0.85
ITERATIONS = 10


@dataclass(frozen=True)
class Verification:
    """Scores after the iteration: one per program (row) and one per test (column)."""

    programs: tuple[float, ...]
    tests: tuple[float, ...]


def _shape(matrix: Sequence[Sequence[bool]]) -> tuple[int, int]:
    if not matrix:
        raise InputError("mutual verification needs at least one program")
    width = len(matrix[0])
    for i, row in enumerate(matrix):
        if len(row) != width:
            raise InputError(f"matrix row {i} has {len(row)} tests, row 0 has {width}")
    return len(matrix), width


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    if total <= 0:
        return [1.0 / len(values)] * len(values)
    return [v / total for v in values]


def mutual_verification(matrix: Sequence[Sequence[bool]], damping: float = DAMPING,
                        iterations: int = ITERATIONS) -> Verification:
    """Program and test scores of ``matrix`` (``matrix[i][j]``: program ``i`` passes test ``j``);
    the update is in the module docstring. Raises :class:`InputError` for an empty or ragged
    matrix, ``damping`` outside [0, 1] or ``iterations < 0``."""
    if not 0.0 <= damping <= 1.0:
        raise InputError(f"damping ({damping}) must be in [0, 1]")
    if iterations < 0:
        raise InputError(f"iterations ({iterations}) must be >= 0")
    n_p, n_t = _shape(matrix)
    p = [1.0 / n_p] * n_p
    t = [1.0 / n_t] * n_t if n_t else []
    if n_t == 0:
        return Verification(tuple(p), ())
    m = [[1.0 if bool(v) else 0.0 for v in row] for row in matrix]
    for _ in range(iterations):
        from_tests = _normalised([sum(m[i][j] * t[j] for j in range(n_t)) for i in range(n_p)])
        from_programs = _normalised([sum(m[i][j] * p[i] for i in range(n_p)) for j in range(n_t)])
        p = [(1.0 - damping) / n_p + damping * v for v in from_tests]
        t = [(1.0 - damping) / n_t + damping * v for v in from_programs]
    return Verification(tuple(p), tuple(t))


def pass_count_scores(matrix: Sequence[Sequence[bool]]) -> tuple[float, ...]:
    """The share of the candidate tests each program passes (0 for every program when there are
    no tests)."""
    _, n_t = _shape(matrix)
    return tuple(sum(bool(v) for v in row) / n_t if n_t else 0.0 for row in matrix)
