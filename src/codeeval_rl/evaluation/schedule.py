"""The order in which a batch's programs go to the sandbox: pure functions.

A batch ends when its slowest run ends, and the slowest runs are runaways that spin until
the wall limit. Such a run costs the limit in wall-clock time wherever it sits in the batch,
but only the time until it starts adds to the batch's length: one that starts late (say at
75% of the batch) ends the batch a whole limit later, while one that starts first overlaps
its limit with everything else (the sandbox moves it to idle priority after
``sandbox.yield_after_s`` and starts the next run beside it).

Which program will run away cannot be known before it runs; what can be seen is whether it
*can*: a program without an unbounded loop construct terminates or fails quickly on the
inputs of typical tests (straight-line code, ``for`` over a collection, recursion, which hits
Python's recursion limit or the stack), and the usual runaway in generated code is a
``while`` loop whose condition never turns false (both runaways of the HumanEval throughput
benchmark are). So the batch is dispatched
longest-processing-time first, with this test as the estimate: programs with an unbounded
loop first, the rest after, each group in input order. This is only an order; verdicts,
results and their order are unchanged. The test reads the text, so a ``while`` in a comment
or string counts too: that costs nothing but a place in the queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["dispatch_order", "has_unbounded_loop"]

# ``while`` (every language here, also do-while), C-family ``for (;;)``, Rust's ``loop {``.
_UNBOUNDED = re.compile(r"\bwhile\b|\bfor\s*\(\s*;\s*;|\bloop\s*\{")


def has_unbounded_loop(code: str) -> bool:
    """Whether ``code``'s text holds a loop without a fixed trip count (see the module doc)."""
    return _UNBOUNDED.search(code) is not None


def dispatch_order(codes: Sequence[str]) -> list[int]:
    """Indices of ``codes`` in dispatch order: those with an unbounded loop first, then the
    rest; a stable order within each group. A permutation of ``range(len(codes))``."""
    first: list[int] = []
    rest: list[int] = []
    for i, code in enumerate(codes):
        (first if has_unbounded_loop(code) else rest).append(i)
    return first + rest
