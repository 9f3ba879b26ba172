"""Output comparison for stdin/stdout tests: pure functions, one per ``TestCase.compare`` mode.

Every function takes ``(expected, actual)`` as text and returns ``True`` when ``actual`` is
an accepted answer. Line endings are normalised first everywhere (``\\r\\n`` and ``\\r`` read
as ``\\n``), so a program's platform never decides a verdict.

``exact``
    Equal after removing trailing whitespace at the end of every line and trailing empty
    lines. Leading whitespace, inner spaces, empty lines inside the output and case all
    count. This is what most judges call an exact match: a missing final newline is not an
    error, a different spacing inside a line is.
``tokens``
    The whitespace-separated tokens are equal, in order, case-sensitive. Line structure
    does not matter (``"1 2\\n3"`` equals ``"1\\n2 3"``).
``float``
    The convention of CodeContests (and, within the tolerance, APPS): tokens compared
    case-insensitively; two tokens that both read as finite numbers are equal when
    ``|a - b| <= abs_tol`` (default 1e-5) or ``|a - b| <= rel_tol * |expected|`` (default 0,
    i.e. off). Two integers (no dot, no exponent) are compared exactly as integers, so
    huge integers are never rounded through a float. ``nan``/``inf`` only match
    themselves as text.

Use :func:`compare_output` to pick the function from the mode name (a table, not a chain
of string comparisons); :data:`COMPARATORS` is that table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from codeeval_rl.errors import InputError

__all__ = [
    "COMPARATORS",
    "COMPARE_MODES",
    "FLOAT_ABS_TOL",
    "compare_exact",
    "compare_float",
    "compare_output",
    "compare_tokens",
    "normalize_newlines",
]

FLOAT_ABS_TOL = 1e-5
"""Absolute tolerance of the ``float`` mode (CodeContests' 1e-5)."""

_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exact_form(text: str) -> str:
    lines = [line.rstrip() for line in normalize_newlines(text).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def compare_exact(expected: str, actual: str) -> bool:
    """Equal up to trailing whitespace on each line and trailing empty lines."""
    return _exact_form(expected) == _exact_form(actual)


def compare_tokens(expected: str, actual: str) -> bool:
    """Equal whitespace-separated token sequences (case-sensitive)."""
    return expected.split() == actual.split()


def _numbers_close(e: str, a: str, abs_tol: float, rel_tol: float) -> bool:
    if _INT.match(e) and _INT.match(a):
        return int(e) == int(a)
    if not (_NUMBER.match(e) and _NUMBER.match(a)):
        return False
    try:
        x, y = float(e), float(a)
    except (ValueError, OverflowError):  # pragma: no cover - the regex admits only numbers
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    diff = abs(x - y)
    return diff <= abs_tol or diff <= rel_tol * abs(x)


def compare_float(expected: str, actual: str, abs_tol: float = FLOAT_ABS_TOL, rel_tol: float = 0.0) -> bool:
    """Token-wise, case-insensitive, numbers equal within ``abs_tol`` (or ``rel_tol``)."""
    if abs_tol < 0 or rel_tol < 0:
        raise InputError(f"tolerances must be >= 0 (abs_tol={abs_tol}, rel_tol={rel_tol})")
    exp_tokens, act_tokens = expected.split(), actual.split()
    if len(exp_tokens) != len(act_tokens):
        return False
    for e, a in zip(exp_tokens, act_tokens):
        if e == a or e.lower() == a.lower():
            continue
        if not _numbers_close(e, a, abs_tol, rel_tol):
            return False
    return True


COMPARATORS: dict[str, Callable[[str, str], bool]] = {
    "exact": compare_exact,
    "tokens": compare_tokens,
    "float": compare_float,
}
"""Mode name (``TestCase.compare``) -> comparison function."""

COMPARE_MODES: tuple[str, ...] = tuple(COMPARATORS)


def compare_output(mode: str, expected: str, actual: str) -> bool:
    """Compare with the function of ``mode``; :class:`InputError` for an unknown mode."""
    try:
        fn = COMPARATORS[mode]
    except KeyError:
        raise InputError(f"unknown compare mode {mode!r}; expected one of {', '.join(COMPARE_MODES)}") from None
    return fn(expected, actual)
