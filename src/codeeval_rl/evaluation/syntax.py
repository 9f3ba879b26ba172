"""Level 1, syntax: how much of the source is well-formed, in [0, 1].

Python (on the host, with :mod:`ast`; nothing runs)::

    syntax = 1                                  if the source parses
           = (first_error_line - 1) / lines     otherwise (the fraction of lines before the error)

Other languages: the compiler's syntax-only mode (``syntax_argv`` of
:mod:`codeeval_rl.sandbox.languages`, run in the sandbox by :func:`syntax_check_program`; the
evaluator runs it only when the build failed, since a program that compiled is well-formed;
Java has no syntax-only mode and uses its compile output). With ``e >= 1`` error
messages, the first at line ``l``::

    syntax = ((l - 1) / lines) / e

and 0 when the compiler failed without naming a line. Compilers' syntax-only modes differ in
reach: ``g++ -fsyntax-only`` also checks names and types, ``node --check`` only parses. When
the check prints nothing (the build failed at link time, say) syntax is 1.
"""

from __future__ import annotations

import ast
import re

from codeeval_rl.sandbox.languages import get_language
from codeeval_rl.types import Program

__all__ = ["compiler_syntax_score", "count_lines", "python_syntax", "syntax_check_program"]


def count_lines(code: str) -> int:
    """Lines of ``code`` (at least 1)."""
    return max(1, code.count("\n") + (0 if code.endswith("\n") else 1))


def python_syntax(code: str) -> tuple[float, str]:
    """``(score, message)``: 1 and "" when ``code`` parses, else the graded score and the error."""
    try:
        ast.parse(code)
        return 1.0, ""
    except SyntaxError as exc:
        line = exc.lineno or 1
        score = min(1.0, max(0.0, (line - 1) / count_lines(code)))
        return score, f"SyntaxError: {exc.msg} (line {line})"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return 0.0, f"{type(exc).__name__}: {exc}"


# file:line[:col]: error  (gcc, g++, javac, node)   |   --> file:line:col  (rustc)
_LOCATED = re.compile(r"(?:main|Main|\w+)\.(?:c|cpp|java|js|rs):(\d+)(?::\d+)?")
_ERROR_LINE = re.compile(r"\berror\b|SyntaxError", re.IGNORECASE)


def compiler_syntax_score(output: str, code: str) -> tuple[float, int, int | None]:
    """``(score, errors, first_error_line)`` from a compiler's or checker's messages."""
    lines = output.splitlines()
    errors = sum(1 for ln in lines if _ERROR_LINE.search(ln) and not ln.lstrip().startswith(("note", "|")))
    first: int | None = None
    for i, ln in enumerate(lines):
        if not _ERROR_LINE.search(ln):
            continue
        # the location is on this line (gcc, javac) or on one of the next two (rustc's -->, node)
        for cand in lines[max(0, i - 1): i + 3]:
            m = _LOCATED.search(cand)
            if m:
                first = int(m.group(1))
                break
        if first is not None:
            break
    if first is None:
        return 0.0, max(errors, 1), None
    errors = max(errors, 1)
    frac = min(1.0, max(0.0, (first - 1) / count_lines(code)))
    return frac / errors, errors, first


_RUNNER = (
    "import subprocess, sys\n"
    "r = subprocess.run({argv!r}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)\n"
    "sys.stdout.write(r.stdout.decode('utf-8', 'replace'))\n"
)


def syntax_check_program(language: str, code: str, python: str = "/usr/bin/python3") -> Program | None:
    """A sandbox program that runs the language's syntax-only check on ``code`` and prints
    the checker's messages; ``None`` when the language has no such mode."""
    lang = get_language(language)
    if lang.syntax_argv is None or lang.name == "python":
        return None
    src = lang.source_file.format(main="Main")
    argv = [a.format(src=src, python=python) for a in lang.syntax_argv]
    return Program(language="python", source=_RUNNER.format(argv=argv), files={src: code})
