"""Spearman's rank correlation: a pure function.

``rho`` is Pearson's correlation of the two rank vectors, tied values taking the mean of the
ranks they span (the definition ``scipy.stats.spearmanr`` uses). Without ties it equals
``1 - 6 * sum(d_i^2) / (n * (n^2 - 1))``. It is undefined (``None``) when either vector is
constant or has fewer than two values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from codeeval_rl.errors import InputError

__all__ = ["average_ranks", "spearman"]


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; equal values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho of ``x`` and ``y`` (same length), or ``None`` when it is undefined."""
    if len(x) != len(y):
        raise InputError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return None
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = math.fsum((a - mx) ** 2 for a in rx)
    vy = math.fsum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return cov / math.sqrt(vx * vy)
