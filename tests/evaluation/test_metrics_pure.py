"""pass@k against a brute-force count over all k-subsets; n@k against brute force too."""

from __future__ import annotations

import itertools
from math import comb

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import mean_pass_at_k, n_at_k, pass_at_k


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_matches_brute_force(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k), abs=1e-12)


def test_pass_at_k_closed_form_and_edges():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(200, 13, 10) == pytest.approx(1 - comb(187, 10) / comb(200, 10))
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 5, 1) == 1.0
    assert mean_pass_at_k([(2, 1), (2, 0)], 1) == pytest.approx(0.25)
    with pytest.raises(InputError, match="at least 3 samples"):
        pass_at_k(2, 1, 3)
    with pytest.raises(InputError):
        pass_at_k(2, 3, 1)


def brute_n_at_k(samples, n, k):
    total = 0.0
    subsets = list(itertools.combinations(range(len(samples)), k))
    for s in subsets:
        passers = [i for i in s if samples[i][0]]
        m = min(n, len(passers))
        if m == 0:
            continue
        choices = list(itertools.combinations(passers, m))
        total += sum(any(samples[i][1] for i in ch) for ch in choices) / len(choices)
    return total / len(subsets)


@pytest.mark.parametrize("pattern", [
    [(True, True), (True, False), (False, False), (False, True)],
    [(True, False), (True, False), (True, True), (False, False), (True, True)],
    [(False, False)] * 3,
    [(True, True)] * 4,
    [(True, False), (True, False), (True, False), (True, True), (False, True), (True, False)],
])
def test_n_at_k_matches_brute_force(pattern):
    for k in range(1, len(pattern) + 1):
        for n in range(1, k + 1):
            assert n_at_k(pattern, n, k) == pytest.approx(brute_n_at_k(pattern, n, k), abs=1e-12)


def test_n_at_k_filters_by_public_tests():
    # Two samples pass public tests, one of them hidden too; 1@2 over exactly these 2 samples: 0.5.
    assert n_at_k([(True, True), (True, False)], 1, 2) == pytest.approx(0.5)
    # A sample that fails the public tests is never submitted, even if it would pass hidden.
    assert n_at_k([(False, True), (True, False)], 1, 2) == 0.0
    with pytest.raises(InputError):
        n_at_k([(True, True)], 2, 1)
