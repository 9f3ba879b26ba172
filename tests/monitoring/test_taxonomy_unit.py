"""Taxonomy details that real programs here cannot produce: other toolchain versions,
statuses without text, normalisation, long outputs."""

from __future__ import annotations

import pytest

from codeeval_rl.monitoring.taxonomy import (
    KIND_BY_KEY,
    KINDS,
    RULES,
    classify_error,
    error_mix,
    failure_text,
    key_message,
    normalise_message,
)
from codeeval_rl.monitoring.tracker import RolloutRecord
from codeeval_rl.types import ExecutionResult, Status


def test_every_rule_names_a_documented_kind() -> None:
    assert len({k.key for k in KINDS}) == len(KINDS)
    assert {r.kind for r in RULES} <= set(KIND_BY_KEY)


@pytest.mark.parametrize(("status", "kind"), [
    ("timeout", "timeout"), ("memory_limit", "memory"), ("output_limit", "output_limit"),
    ("sandbox_error", "sandbox_error"), ("no_code", "no_code"), ("TIMEOUT", "timeout"),
])
def test_limit_statuses_need_no_text(status: str, kind: str) -> None:
    cls = classify_error(status)
    assert cls is not None and cls.kind == kind


def test_passed_is_never_an_error() -> None:
    assert classify_error("runtime_error", "NameError: x", passed=True) is None


def test_newer_rust_panic_format_and_stack_overflow() -> None:
    text = "thread 'main' panicked at src/main.rs:2:5:\nindex out of bounds: the len is 3 but the index is 9\n"
    assert key_message(text) == "panicked at: index out of bounds: the len is 3 but the index is 9"
    assert classify_error("runtime_error", text, "rust").kind == "index_error"
    so = "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n"
    assert classify_error("runtime_error", so, "rust").kind == "recursion"


def test_python_chained_exception_uses_the_last_line() -> None:
    text = ("Traceback (most recent call last):\nKeyError: 'a'\n\nDuring handling of the above exception, "
            "another exception occurred:\n\nTraceback (most recent call last):\nValueError: bad value 3\n")
    cls = classify_error("runtime_error", text, "python")
    assert (cls.kind, cls.message) == ("value_error", "ValueError: bad value 3")


def test_signal_without_text_uses_the_exit_code() -> None:
    cls = classify_error("runtime_error", "", "c", exit_code=-11)
    assert (cls.kind, cls.message) == ("segfault", "SIGSEGV")
    assert classify_error("runtime_error", "", "cpp", exit_code=-8).kind == "zero_division"


def test_wrong_answer_versus_crash_on_a_zero_exit() -> None:
    assert classify_error("ok", "expected '3', got '4'").kind == "wrong_answer"
    assert classify_error("wrong_answer", "").kind == "wrong_answer"
    # a test harness that printed a traceback but exited 0 is still a crash, not a wrong answer
    assert classify_error("ok", "Traceback (most recent call last):\nIndexError: boom").kind == "index_error"


def test_unknown_text_gets_a_general_kind() -> None:
    assert classify_error("compile_error", "something odd happened", "java").kind == "compile_error"
    assert classify_error("runtime_error", "something odd happened", "java").kind == "runtime_error"


def test_normalise_message() -> None:
    assert normalise_message("NameError: name 'foo_1' is not defined") == "NameError: name '<name>' is not defined"
    assert normalise_message("error: ';' expected") == "error: ';' expected"  # punctuation kept
    assert normalise_message("error: expected one of `.`, `;`, found keyword `let`") == \
        "error: expected one of `.`, `;`, found keyword `<name>`"
    assert normalise_message("File \"/box/work/main.py\", line 12") == 'File "<name>", line <n>'
    assert normalise_message("at /usr/lib/x/y.so and Main.java:9 and 0x7ffd12ab") == \
        "at <path> and <file>:<n> and <hex>"
    assert normalise_message("error: ‘foo’ was not declared") == "error: '<name>' was not declared"
    assert normalise_message("Index 5 out of bounds for length -2.5") == "Index <n> out of bounds for length <n>"


def test_failure_text_keeps_both_ends() -> None:
    head = 'Exception in thread "main" java.lang.StackOverflowError\n'
    body = head + "\tat Main.f(Main.java:1)\n" * 2000
    res = ExecutionResult(status=Status.RUNTIME_ERROR, exit_code=1, stderr=body, reason="exit code 1")
    text = failure_text(res, limit=2000)
    assert len(text) <= 2000 and text.startswith("exit code 1\n" + head)
    assert classify_error("runtime_error", text, "java").kind == "recursion"


def test_error_mix_counts_in_taxonomy_order() -> None:
    recs = [RolloutRecord("t", "", 0.0, s, p, first_error=e) for s, p, e in [
        ("timeout", False, ""), ("runtime_error", False, "NameError: x"), ("ok", True, ""),
        ("runtime_error", False, "NameError: y"), ("compile_error", False, "")]]
    assert error_mix(recs) == {"name_error": 2, "compile_error": 1, "timeout": 1}


@pytest.mark.parametrize(("text", "message"), [
    ("The code does not parse: SyntaxError: '(' was never closed (line 2)",
     "SyntaxError: '(' was never closed (line 2)"),
    ("The code does not parse: IndentationError: unexpected indent (line 3)",
     "IndentationError: unexpected indent (line 3)"),
    ("Sorry: TabError: inconsistent use of tabs and spaces in indentation (main.py, line 4)",
     "TabError: inconsistent use of tabs and spaces in indentation (main.py, line 4)"),
])
def test_python_parse_errors_after_a_lead_in_are_syntax_errors(text: str, message: str) -> None:
    cls = classify_error("compile_error", text, "python")
    assert (cls.kind, cls.stage, cls.message) == ("syntax_error", "compile", message)
    assert cls.title == "syntax error"


def test_a_syntax_error_named_inside_another_exception_is_that_exception() -> None:
    cls = classify_error("runtime_error", "Traceback (most recent call last):\nValueError: SyntaxError: x\n", "python")
    assert (cls.kind, cls.message) == ("value_error", "ValueError: SyntaxError: x")
    cls = classify_error("compile_error", "The code does not parse: ValueError: source code string cannot "
                         "contain null bytes", "python")
    assert cls.kind == "compile_error"


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("Test failed: TypeError: unsupported operand type(s) for +: 'int' and 'str'", "type_error",
     "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
    ("Test failed: ValueError: not implemented", "value_error", "ValueError: not implemented"),
    ("Test failed: ZeroDivisionError: division by zero", "zero_division", "ZeroDivisionError: division by zero"),
])
def test_an_exception_a_test_raised_is_that_exception(text: str, kind: str, message: str) -> None:
    cls = classify_error("ok", text, "python")
    assert (cls.kind, cls.message) == (kind, message)


def test_a_failed_test_without_an_exception_stays_a_wrong_answer() -> None:
    assert classify_error("ok", "Test failed: assert add(1, 2) == 3").kind in ("wrong_answer", "assertion")
