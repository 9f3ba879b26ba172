"""Attacks on the output comparison modes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeeval_rl.data.compare import (
    COMPARE_MODES,
    compare_exact,
    compare_float,
    compare_output,
    compare_tokens,
)
from codeeval_rl.errors import InputError


def test_modes_table() -> None:
    assert COMPARE_MODES == ("exact", "tokens", "float")


@pytest.mark.parametrize("expected, actual, same", [
    ("1 2\n", "1 2", True),                 # missing final newline
    ("1 2\n", "1 2   \n\n\n", True),         # trailing spaces and blank lines
    ("a\r\nb\r\n", "a\nb\n", True),          # CRLF
    ("1 2\n", "1  2\n", False),              # inner spacing counts
    ("1 2\n", " 1 2\n", False),              # leading spacing counts
    ("a\n\nb", "a\nb", False),               # inner empty line counts
    ("Yes", "yes", False),                   # case counts
    ("", "", True),
    ("", "\n \n", True),
    ("", "0", False),
    ("héllo ✓", "héllo ✓\n", True),
])
def test_exact(expected: str, actual: str, same: bool) -> None:
    assert compare_exact(expected, actual) is same
    assert compare_output("exact", expected, actual) is same


@pytest.mark.parametrize("expected, actual, same", [
    ("1 2\n3", "1\n2 3", True),
    ("1 2 3", "1 2", False),
    ("1 2", "2 1", False),
    ("YES", "yes", False),
    ("1.0", "1", False),
    ("", "   \n", True),
])
def test_tokens(expected: str, actual: str, same: bool) -> None:
    assert compare_tokens(expected, actual) is same


@pytest.mark.parametrize("expected, actual, same", [
    ("0.333333", "0.3333333333", True),
    ("0.5", "0.50001", True),
    ("0.5", "0.50002", False),
    ("1", "1.000001", True),
    ("YES", "yes", True),                    # case-insensitive
    ("10", "10.0", True),
    ("12345678901234567890", "12345678901234567891", False),  # big integers stay exact
    ("1e3", "1000", True),
    ("nan", "nan", True),
    ("nan", "0", False),
    ("inf", "1e308", False),
    ("1.5 2", "1.5", False),
    ("abc", "abd", False),
    ("-0.0", "0", True),
])
def test_float(expected: str, actual: str, same: bool) -> None:
    assert compare_float(expected, actual) is same


def test_float_relative_tolerance() -> None:
    assert not compare_float("1000000.0", "1000000.5")
    assert compare_float("1000000.0", "1000000.5", rel_tol=1e-6)
    with pytest.raises(InputError, match="tolerances"):
        compare_float("1", "1", abs_tol=-1)


def test_unknown_mode_names_it() -> None:
    with pytest.raises(InputError, match="'regex'.*exact, tokens, float"):
        compare_output("regex", "a", "a")


@given(st.text())
def test_every_mode_accepts_identical_output(text: str) -> None:
    for mode in COMPARE_MODES:
        assert compare_output(mode, text, text)


@given(st.lists(st.integers(), max_size=20))
def test_tokens_ignore_layout(nums: list[int]) -> None:
    one_line = " ".join(map(str, nums))
    many_lines = "\n".join(map(str, nums)) + "\n"
    assert compare_tokens(one_line, many_lines)
    assert compare_float(one_line, many_lines)
