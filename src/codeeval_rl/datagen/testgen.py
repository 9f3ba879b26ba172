"""Tests from frozen oracle results, and the choice of which to keep (stages 3 and 4).

Each :class:`~codeeval_rl.datagen.model.Frozen` input becomes one ``assert`` test:

* a return value: ``assert f(<args>) == <expected>``;
* a float: ``assert math.isclose(f(<args>), <expected>, rel_tol=1e-6, abs_tol=1e-9)``;
* an iterator: ``assert list(f(<args>)) == <expected>``;
* an exception: ``try: f(<args>)`` / ``except <Type>: pass`` / ``else: raise AssertionError``.

Choosing (pure functions, deterministic for a seed):

* :func:`choose_by_coverage`: greedy set cover over the coverage arcs each input executed
  in the original: take the input that adds the most new arcs (ties: the input maker's rank,
  doctest first, then shorter arguments), until no input adds any; then fill up to
  ``max_tests`` with inputs whose results differ from those already chosen (new outcomes
  first: another exception type, another value), seeded.
  When that gives fewer than ``min_tests``, the best-ranked remaining inputs fill up.
* :func:`add_for_mutants`: while the mutation score is under the target, add the unchosen
  test that kills the most surviving mutants.
* :func:`choose_public`: a few chosen tests shown to the model: doctest examples first, then
  the shortest returning calls.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from codeeval_rl.datagen.inputs import SOURCE_RANK
from codeeval_rl.datagen.model import Frozen

__all__ = ["add_for_mutants", "choose_by_coverage", "choose_public", "frozen_test_code"]

FLOAT_TOLERANCE = "rel_tol=1e-6, abs_tol=1e-9"


def frozen_test_code(entry_point: str, frozen: Frozen, imports: Sequence[str] = ()) -> str:
    """The ``assert`` test for one frozen input (rules in the module docstring)."""
    call = f"{entry_point}({frozen.args})"
    lines = list(dict.fromkeys(imports))
    if frozen.outcome == "raise":
        lines += [
            "try:",
            f"    {call}",
            f"except {frozen.value}:",
            "    pass",
            "else:",
            f"    raise AssertionError({('expected ' + frozen.value)!r})",
        ]
    elif frozen.kind == "float":
        if "import math" not in lines:
            lines.insert(0, "import math")
        lines.append(f"assert math.isclose({call}, {frozen.value}, {FLOAT_TOLERANCE})")
    elif frozen.kind == "iterable":
        lines.append(f"assert list({call}) == {frozen.value}")
    else:
        lines.append(f"assert {call} == {frozen.value}")
    return "\n".join(lines) + "\n"


def _rank(f: Frozen) -> tuple[int, int, str]:
    return SOURCE_RANK.get(f.source, 9), len(f.args), f.args


def choose_by_coverage(pool: Sequence[Frozen], max_tests: int, seed: int = 0, min_tests: int = 0) -> list[int]:
    """Indices into ``pool`` of at most ``max_tests`` tests (rules in the module docstring);
    when coverage and distinct results give fewer than ``min_tests``, the best-ranked other
    inputs fill up to it."""
    chosen: list[int] = []
    covered: set[tuple[int, int]] = set()
    remaining = set(range(len(pool)))
    while remaining and len(chosen) < max_tests:
        best = max(remaining, key=lambda i: (len(pool[i].arcs - covered), [-x for x in _rank(pool[i])[:2]],
                                             -i))
        if not pool[best].arcs - covered:
            break
        chosen.append(best)
        covered |= pool[best].arcs
        remaining.discard(best)
    rng = random.Random(f"{seed}:fill")
    seen_results = {(pool[i].outcome, pool[i].value) for i in chosen}
    seen_outcomes = {(pool[i].outcome, pool[i].value if pool[i].outcome == "raise" else "") for i in chosen}
    rest = sorted(remaining, key=lambda i: _rank(pool[i]))
    rng.shuffle(rest)
    # new outcomes first (another exception type, returning at all), then new values
    rest.sort(key=lambda i: (
        (pool[i].outcome, pool[i].value if pool[i].outcome == "raise" else "") in seen_outcomes,
        (pool[i].outcome, pool[i].value) in seen_results))
    for i in rest:
        if len(chosen) >= max_tests:
            break
        key = (pool[i].outcome, pool[i].value)
        if key in seen_results:
            continue
        chosen.append(i)
        seen_results.add(key)
    for i in sorted(set(range(len(pool))) - set(chosen), key=lambda i: _rank(pool[i])):
        if len(chosen) >= min(min_tests, max_tests):
            break
        chosen.append(i)
    return chosen


def add_for_mutants(chosen: Sequence[int], kills: Sequence[frozenset[int]], n_mutants: int, target: float,
                    max_tests: int) -> list[int]:
    """``chosen`` plus tests that kill surviving mutants, greedily, until the share of killed
    mutants reaches ``target`` or ``max_tests`` tests are chosen or no test helps.
    ``kills[j]`` is the set of mutants test ``j`` kills."""
    out = list(chosen)
    killed = set().union(*(kills[j] for j in out)) if out else set()
    while n_mutants and len(killed) / n_mutants < target and len(out) < max_tests:
        candidates = [j for j in range(len(kills)) if j not in out]
        if not candidates:
            break
        best = max(candidates, key=lambda j: (len(kills[j] - killed), -j))
        gain = kills[best] - killed
        if not gain:
            break
        out.append(best)
        killed |= gain
    return out


def choose_public(pool: Sequence[Frozen], chosen: Sequence[int], n: int = 3) -> list[int]:
    """``n`` of ``chosen`` to show the model: doctest examples first, then short returning calls."""
    order = sorted(chosen, key=lambda i: (pool[i].source != "doctest", pool[i].outcome != "return",
                                          len(pool[i].args) + len(pool[i].value), i))
    return order[:n]
