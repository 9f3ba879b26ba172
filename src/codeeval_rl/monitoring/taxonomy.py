"""Error taxonomy: every failed rollout gets one kind, and similar messages one pattern.

:func:`classify_error` maps a status (an :class:`~codeeval_rl.types.Status` value, or
``wrong_answer``/``failed``/``no_code``) and the program's error text (compiler output or
stderr) to an :class:`ErrorClass`: a kind from :data:`KINDS`, the stage it happened at,
and the one line of the text that says what went wrong (:func:`key_message`). The kinds
are shared across languages: Python's ``NameError``, Node's ``ReferenceError``, javac's
``cannot find symbol``, g++'s ``was not declared in this scope`` and rustc's ``E0425`` are
all ``name_error``; the stage (``compile`` or ``runtime``) and the language keep them apart
where that matters. A new message is a new row in :data:`RULES`.

:func:`error_patterns` groups failures by kind and *template*: the key message with
numbers, quoted names, paths and line numbers replaced (:func:`normalise_message`), so
``name 'foo' is not defined`` and ``name 'bar' is not defined`` count as one pattern.

Limits: the classification reads text; a program that prints a convincing fake
traceback to stderr and exits non-zero is classified by what it printed. Kinds are
heuristics over the messages of CPython 3.11, Node 18-22, OpenJDK 17, GCC 12 and rustc
1.63-1.8x; an unrecognised message still gets a kind (``runtime_error``,
``compile_error``), never an exception.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from codeeval_rl.monitoring.tracker import RolloutRecord
from codeeval_rl.types import ExecutionResult

__all__ = [
    "KINDS",
    "KIND_BY_KEY",
    "RULES",
    "ErrorClass",
    "ErrorKind",
    "ErrorPattern",
    "Rule",
    "classify_error",
    "classify_record",
    "classify_result",
    "error_mix",
    "error_patterns",
    "failure_text",
    "key_message",
    "normalise_message",
]


@dataclass(frozen=True)
class ErrorKind:
    """One class of failure. ``stage``: where it is usually found (``compile``, ``runtime``,
    ``tests``, ``limit``, ``harness``, ``environment``); a rule may place a kind at another stage."""

    key: str
    title: str
    stage: str
    description: str


KINDS: tuple[ErrorKind, ...] = (
    ErrorKind("no_code", "no code", "harness", "the completion held no code block to run"),
    ErrorKind("syntax_error", "syntax error", "compile",
              "the code does not parse (SyntaxError, javac/gcc 'expected ...', rustc 'expected one of')"),
    ErrorKind("name_error", "name error", "runtime",
              "an undefined name (NameError, ReferenceError, javac 'cannot find symbol', "
              "g++ 'was not declared', gcc 'undeclared', ld 'undefined reference', rustc E0425)"),
    ErrorKind("import_error", "import error", "runtime",
              "a module, package, header or crate that is not there"),
    ErrorKind("type_error", "type error", "runtime",
              "a value of the wrong type (TypeError, 'incompatible types', 'cannot convert', rustc E0308)"),
    ErrorKind("attribute_error", "attribute error", "runtime",
              "a missing attribute, member, field or method (AttributeError, 'has no member', rustc E0599)"),
    ErrorKind("null_reference", "null reference", "runtime",
              "use of None/null/undefined (NullPointerException, 'of undefined', 'NoneType', unwrap on None)"),
    ErrorKind("index_error", "index error", "runtime",
              "an index out of range (IndexError, IndexOutOfBoundsException, 'index out of bounds', std::out_of_range)"),
    ErrorKind("key_error", "key error", "runtime", "a missing dictionary key (KeyError)"),
    ErrorKind("value_error", "value error", "runtime",
              "a value of the right type but wrong content (ValueError, NumberFormatException, ParseIntError)"),
    ErrorKind("zero_division", "division by zero", "runtime",
              "division or remainder by zero (ZeroDivisionError, '/ by zero', SIGFPE)"),
    ErrorKind("overflow", "arithmetic overflow", "runtime", "an integer or float overflow the language reports"),
    ErrorKind("recursion", "recursion too deep", "runtime",
              "unbounded or too deep recursion (RecursionError, StackOverflowError, 'Maximum call stack')"),
    ErrorKind("assertion", "failed assertion", "tests",
              "an assert failed: in the tests (a wrong answer) or in the code itself"),
    ErrorKind("wrong_answer", "wrong answer", "tests", "the program ran but its output or result was wrong"),
    ErrorKind("segfault", "segmentation fault", "runtime", "an invalid memory access (SIGSEGV, SIGBUS)"),
    ErrorKind("panic", "panic / uncaught exception", "runtime",
              "a panic, abort or uncaught exception of no finer kind"),
    ErrorKind("exit_nonzero", "non-zero exit", "runtime", "the program exited non-zero without an error message"),
    ErrorKind("runtime_error", "other runtime error", "runtime", "a runtime failure of no finer kind"),
    ErrorKind("compile_error", "other compile error", "compile", "a compile or link failure of no finer kind"),
    ErrorKind("timeout", "timeout", "limit", "the wall-clock or CPU time limit was hit"),
    ErrorKind("memory", "out of memory", "limit",
              "the memory limit was hit (killed, MemoryError, OutOfMemoryError, bad_alloc)"),
    ErrorKind("output_limit", "output limit", "limit", "the program wrote more than the output limit"),
    ErrorKind("sandbox_error", "sandbox error", "harness", "the sandbox failed, not the program"),
    ErrorKind("missing_dependency", "missing dependency", "environment",
              "the task's runtime profile lacks a package the program imports (status missing_dependency); "
              "not the program's failure unless evaluation.missing_dependency is fail"),
)
KIND_BY_KEY = {k.key: k for k in KINDS}


@dataclass(frozen=True)
class ErrorClass:
    """The classification of one failure. ``message`` is the key line of the error text
    (``""`` when there was none); ``template`` its normalised form."""

    kind: str
    stage: str
    language: str = ""
    message: str = ""

    @property
    def title(self) -> str:
        return KIND_BY_KEY[self.kind].title

    @property
    def template(self) -> str:
        return normalise_message(self.message) if self.message else f"<{self.title}>"

    @property
    def label(self) -> str:
        """``name error (compile, java)``: kind, stage and language for tables."""
        where = ", ".join(x for x in (self.stage, self.language) if x)
        return f"{self.title} ({where})" if where else self.title


@dataclass(frozen=True)
class Rule:
    """``pattern`` (a regex, searched case-sensitively in the key message, then in the whole
    text) means ``kind``. ``languages`` limits the rule to those languages (empty: all)."""

    kind: str
    pattern: str
    languages: tuple[str, ...] = ()


# An exception class name at the start of the key message, optionally qualified
# (java.lang.X) and optionally with Node's [ERR_CODE] tag.
def _exc(names: str) -> str:
    return rf"^(?:[\w$]+\.)*(?:{names})\b"


RULES: tuple[Rule, ...] = (
    # Order matters: the first rule that matches wins; specific before general.
    Rule("assertion", _exc(r"AssertionError")),
    Rule("assertion", r"Assertion `.*' failed|assertion failed|assertion `left == right` failed"
                      r"|assertion failed: `\(left == right\)`|ERR_ASSERTION"),
    Rule("recursion", _exc(r"RecursionError|StackOverflowError")),
    Rule("recursion", r"Maximum call stack size exceeded|has overflowed its stack|stack overflow"),
    Rule("memory", _exc(r"MemoryError|OutOfMemoryError")),
    Rule("memory", r"std::bad_alloc|heap out of memory|memory allocation of \d+ bytes failed"
                   r"|Cannot allocate memory"),
    Rule("null_reference", _exc(r"NullPointerException")),
    Rule("null_reference", r"'NoneType' object|Cannot (?:read|set) propert(?:y|ies) of (?:undefined|null)"
                           r"|of (?:undefined|null) \(reading|on a `None` value|is null\b|is undefined\b"),
    Rule("zero_division", _exc(r"ZeroDivisionError")),
    Rule("zero_division", r"/ by zero|divide by zero|division by zero|with a divisor of zero|SIGFPE"
                          r"|Floating point exception"),
    Rule("overflow", _exc(r"OverflowError")),
    Rule("overflow", r"with overflow|integer overflow"),
    Rule("syntax_error", _exc(r"SyntaxError|IndentationError|TabError")),
    Rule("import_error", _exc(r"ModuleNotFoundError|ImportError")),
    Rule("import_error", r"Cannot find module|package [\w.]+ does not exist|fatal error: [^:\n]+: No such file"
                         r"|error\[E0432\]|error\[E0463\]|unresolved import|can't find crate"),
    Rule("name_error", _exc(r"NameError|UnboundLocalError|ReferenceError")),
    Rule("name_error", r"cannot find symbol|was not declared in this scope|undeclared \(first use"
                       r"|undefined reference to|has not been declared|error\[E0425\]|error\[E0412\]"
                       r"|error\[E0433\]|cannot find (?:value|function|type|macro)|is not defined\b"
                       r"|implicit declaration of function|use of undeclared identifier"),
    Rule("attribute_error", _exc(r"AttributeError")),
    Rule("attribute_error", r"has no member named|error\[E0599\]|error\[E0609\]|error\[E0560\]"
                            r"|no (?:field|method) named"),
    Rule("key_error", _exc(r"KeyError")),
    Rule("index_error", _exc(r"IndexError|\w*IndexOutOfBoundsException")),
    Rule("index_error", r"index out of (?:bounds|range)|std::out_of_range|out of range for slice"
                        r"|range end index|range start index"),
    Rule("value_error", _exc(r"ValueError|NumberFormatException|InputMismatchException"
                             r"|IllegalArgumentException|UnicodeDecodeError|UnicodeEncodeError")),
    Rule("value_error", r"ParseIntError|ParseFloatError|std::invalid_argument|Invalid array length"
                        r"|invalid digit"),
    Rule("type_error", _exc(r"TypeError|ClassCastException")),
    Rule("type_error", r"incompatible types|cannot be converted|bad operand types?|cannot convert"
                       r"|invalid conversion|conversion from .* requested|no matching function for call"
                       r"|invalid operands|error\[E0308\]|error\[E0277\]|mismatched types|is not a function"),
    Rule("syntax_error", r"expected .* before|expected (?:';'|'\)'|'\('|'\}'|'\{'|declaration|expression"
                         r"|identifier|primary-expression|unqualified-id)"
                         r"|';' expected|'\)' expected|<identifier> expected|illegal start of"
                         r"|reached end of file while parsing|not a statement|unclosed string literal"
                         r"|class, interface, enum, or record expected|stray '\\\\?\d*' in program"
                         r"|missing terminating|^error: expected|unexpected closing delimiter"
                         r"|unclosed delimiter|mismatched closing delimiter|Unexpected token"
                         r"|Unexpected end of input|Unexpected identifier|Invalid or unexpected token"),
    Rule("segfault", r"SIGSEGV|SIGBUS|Segmentation fault|Bus error|core dumped"),
    Rule("panic", r"panicked at|terminate called|SIGABRT|Aborted|^Exception in thread|Uncaught"
                  r"|^(?:[\w$]+\.)*\w*(?:Error|Exception)\b"),
)

_COMPILED = tuple((r, re.compile(r.pattern, re.MULTILINE)) for r in RULES)

_STATUS_KIND = {
    "timeout": "timeout",
    "memory_limit": "memory",
    "output_limit": "output_limit",
    "sandbox_error": "sandbox_error",
    "no_code": "no_code",
    "missing_dependency": "missing_dependency",
}
_PASSING = {"ok", "passed", "pass", "success"}

# ------------------------------------------------------------------ key message
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RUSTC = re.compile(r"^error(?:\[E\d{4}\])?: (?!aborting due to)(?!could not compile).*$", re.MULTILINE)
_CC = re.compile(r"^[^\s:][^:\n]*:\d+(?::\d+)?: (?:fatal )?error: (.*)$", re.MULTILINE)
_LD = re.compile(r"undefined reference to .*$", re.MULTILINE)
_JAVA_UNCAUGHT = re.compile(r'^Exception in thread "[^"]*" (.*)$', re.MULTILINE)
_RUST_PANIC_OLD = re.compile(r"^thread '[^']*' panicked at '(.*)', \S+$", re.MULTILINE)
_RUST_PANIC_NEW = re.compile(r"^thread '[^']*' panicked at \S+:\n(.+)$", re.MULTILINE)
_RUST_OVERFLOW = re.compile(r"^thread '[^']*' has overflowed its stack$", re.MULTILINE)
_CPP_TERMINATE = re.compile(r"terminate called after throwing an instance of '([^']*)'(?:\n\s*what\(\):\s*(.*))?")
_C_ASSERT = re.compile(r"Assertion `.*' failed\.")
_EXC_LINE = re.compile(r"^(?:[\w$]+\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Iteration|Warning)"
                       r"(?: \[[A-Z_0-9]+\])?(?::.*)?$", re.MULTILINE)
# Python's parse errors after a lead-in, as the evaluator ("The code does not parse: SyntaxError:
# ...") and py_compile ("Sorry: IndentationError: ...") report them; a lead-in that is itself an
# exception name ("ValueError: ...") is an exception line, not this.
_PY_SYNTAX = re.compile(r"^(?![\w.]*(?:Error|Exception)\b)[^:\n]+: ((?:SyntaxError|IndentationError|TabError)\b.*)$",
                        re.MULTILINE)
# The evaluator's own lead-in before the error a test raised ("Test failed: TypeError: ...").
_TEST_FAILED = re.compile(r"^Test failed: (?=[\w.]*(?:Error|Exception|Exit|Interrupt|Iteration|Warning)\b)",
                          re.MULTILINE)
_SIGNAL = re.compile(r"\b(?:killed by )?(SIG[A-Z]+)\b")
_NOISE = re.compile(r"^(?:Node\.js v|note:|\s+at |For more information|\s*\||\s*\d+ \||Traceback|\s*\^|\s*~"
                    r"|exit code -?\d+$|\d+ errors?$)")


def _terminate(m: re.Match[str]) -> str:
    what = f": {m.group(2).strip()}" if m.group(2) else ""
    return f"terminate called after throwing {m.group(1)}{what}"


# (pattern, the key line it yields), tried in order by key_message.
_KEY_LINES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_RUSTC, lambda m: m.group(0)),
    (_CC, lambda m: "error: " + m.group(1)),
    (_LD, lambda m: m.group(0)),
    (_JAVA_UNCAUGHT, lambda m: m.group(1)),
    (_RUST_PANIC_OLD, lambda m: "panicked at: " + m.group(1)),
    (_RUST_PANIC_NEW, lambda m: "panicked at: " + m.group(1)),
    (_RUST_OVERFLOW, lambda m: m.group(0)),
    (_CPP_TERMINATE, _terminate),
    (_C_ASSERT, lambda m: m.group(0)),
    (_PY_SYNTAX, lambda m: m.group(1)),
)


def key_message(text: str, language: str = "") -> str:
    """The one line of an error text that says what went wrong, or ``""``.

    Tries, in order: rustc's ``error[E....]:``, gcc/g++/javac's ``file:line: error:``
    (without the location), the linker's ``undefined reference``, Java's uncaught
    exception, Rust's panic message, C++'s ``terminate called``, C's ``assert``, Python's
    ``SyntaxError``/``IndentationError``/``TabError`` after a lead-in (without it), an
    exception line (also after the evaluator's "Test failed: " lead-in) (the first in JavaScript, whose stack follows it; the last elsewhere,
    as Python's traceback ends with it), a signal, then the last line that is not noise.
    """
    if not text:
        return ""
    text = _TEST_FAILED.sub("", _ANSI.sub("", text).replace("\r\n", "\n"))
    for rx, key in _KEY_LINES:
        m = rx.search(text)
        if m:
            return _clip(key(m))
    lines = _EXC_LINE.findall(text)
    if lines:
        return _clip(lines[0] if language == "javascript" else lines[-1])
    m = _SIGNAL.search(text)
    if m:
        return m.group(1)
    for line in reversed(text.splitlines()):
        if line.strip() and not _NOISE.match(line):
            return _clip(line.strip())
    return ""


def _clip(line: str, n: int = 300) -> str:
    line = line.strip()
    return line if len(line) <= n else line[: n - 1] + "…"


# ------------------------------------------------------------------ classification
def classify_error(status: str, text: str = "", language: str = "", *, passed: bool = False,
                   exit_code: int | None = None) -> ErrorClass | None:
    """Classify one failure; ``None`` when ``passed``.

    ``status``: a :class:`Status` value (``ok``, ``compile_error``, ``runtime_error``,
    ``timeout``, ``memory_limit``, ``output_limit``, ``sandbox_error``, ``missing_dependency``) or one of
    ``wrong_answer``, ``failed``, ``no_code``. ``text``: the compiler output or stderr (or
    the rollout's ``first_error``). A run that exited normally but did not pass is a
    ``wrong_answer`` unless its text shows a failed assertion or an error.
    """
    if passed:
        return None
    st = str(status).strip().lower()
    language = (language or "").strip().lower()
    message = key_message(text, language)
    if st in _STATUS_KIND:
        kind = _STATUS_KIND[st]
        return ErrorClass(kind, KIND_BY_KEY[kind].stage, language, message)
    if exit_code is not None and exit_code < 0 and not message:
        message = _signal_name(-exit_code)
    if st == "compile_error":
        kind = _match(message, text, language) or "compile_error"
        if kind in ("panic", "segfault", "runtime_error"):
            kind = "compile_error"
        return ErrorClass(kind, "compile", language, message)
    found = _match(message, text, language)
    if (st in _PASSING or st in ("wrong_answer", "failed", "")) and found in (None, "panic") \
            and not _looks_like_crash(text):
        return ErrorClass("wrong_answer", "tests", language, message)
    if found is None:
        found = "exit_nonzero" if not message else "runtime_error"
    stage = "compile" if found == "syntax_error" else KIND_BY_KEY[found].stage
    if found in ("memory",):
        stage = "runtime"
    return ErrorClass(found, stage, language, message)


def _looks_like_crash(text: str) -> bool:
    return bool(_EXC_LINE.search(text) or "panicked at" in text or "Exception in thread" in text)


def _match(message: str, text: str, language: str) -> str | None:
    for hay in (message, text):
        if not hay:
            continue
        for rule, rx in _COMPILED:
            if rule.languages and language not in rule.languages:
                continue
            if rx.search(hay):
                return rule.kind
    return None


_SIGNALS = {4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}


def _signal_name(sig: int) -> str:
    return _SIGNALS.get(sig, f"signal {sig}")


def failure_text(result: ExecutionResult, limit: int = 4000) -> str:
    """What to store as a rollout's ``first_error`` for a failed run: the status reason,
    then the compiler output or stderr, cut to ``limit`` characters keeping both ends
    (the head names Java's uncaught exception, the tail Python's)."""
    body = result.compile_output or result.stderr
    parts = [p for p in (result.reason, body) if p]
    text = "\n".join(parts)
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return text[:half] + "\n…\n" + text[-half:]


def classify_result(result: ExecutionResult, language: str = "", *, passed: bool = False) -> ErrorClass | None:
    """:func:`classify_error` for an :class:`ExecutionResult` (``None`` when it passed)."""
    return classify_error(result.status.value, failure_text(result), language, passed=passed,
                          exit_code=result.exit_code)


def classify_record(record: RolloutRecord) -> ErrorClass | None:
    """:func:`classify_error` for a stored rollout."""
    return classify_error(record.status, record.first_error, record.language, passed=record.passed)


# ------------------------------------------------------------------ patterns
# Quoted text with a letter or digit in it; quoted punctuation (javac's "';' expected") is kept.
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`")
_WORD = re.compile(r"\w")
_PATH = re.compile(r"(?<![\w<])(?:[A-Za-z]:)?(?:/[\w.\-<>$]+){2,}")
_FILE = re.compile(r"\b[\w\-]+\.(?:py|js|mjs|java|cpp|cc|cxx|c|h|hpp|rs|o)\b")
_LINE = re.compile(r"\bline \d+")
_LOC = re.compile(r":\d+(?::\d+)?\b")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUM = re.compile(r"(?<![\w<])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """The template of an error message: quoted text becomes ``'<name>'`` (keeping the
    quote character; quoted punctuation stays), paths ``<path>``, source file names ``<file>``, line and column
    numbers ``line <n>`` / ``:<n>``, hex addresses ``<hex>``, other numbers ``<n>``;
    typographic quotes become ASCII ones and whitespace runs one space."""
    s = message.replace("‘", "'").replace("’", "'").replace("“", '"').replace("”", '"')
    s = _QUOTED.sub(lambda m: f"{m.group(0)[0]}<name>{m.group(0)[-1]}" if _WORD.search(m.group(0))
                    else m.group(0), s)
    s = _PATH.sub("<path>", s)
    s = _FILE.sub("<file>", s)
    s = _LINE.sub("line <n>", s)
    s = _LOC.sub(":<n>", s)
    s = _HEX.sub("<hex>", s)
    s = _NUM.sub("<n>", s)
    return _SPACE.sub(" ", s).strip()


@dataclass(frozen=True)
class ErrorPattern:
    """Failures that share a kind and a message template.

    ``count``: failures in the pattern; ``share``: of all failures given; ``examples``:
    up to a few distinct original messages; ``tasks``: distinct task ids; ``languages``:
    the languages seen, most frequent first."""

    kind: str
    stage: str
    template: str
    count: int
    share: float
    tasks: int
    languages: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def title(self) -> str:
        return KIND_BY_KEY[self.kind].title

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "title": self.title, "stage": self.stage, "template": self.template,
                "count": self.count, "share": self.share, "tasks": self.tasks,
                "languages": list(self.languages), "examples": list(self.examples)}


def error_patterns(records: Iterable[RolloutRecord], top: int | None = None,
                   examples: int = 3) -> list[ErrorPattern]:
    """Group the failed rollouts among ``records`` by (kind, stage, template), most
    frequent first (ties: by kind, then template). Passed rollouts are ignored."""
    groups: dict[tuple[str, str, str], list[tuple[RolloutRecord, ErrorClass]]] = {}
    total = 0
    for rec in records:
        cls = classify_record(rec)
        if cls is None:
            continue
        total += 1
        groups.setdefault((cls.kind, cls.stage, cls.template), []).append((rec, cls))
    out = []
    for (kind, stage, template), items in groups.items():
        seen: list[str] = []
        for _, cls in items:
            msg = cls.message or f"<{cls.title}>"
            if msg not in seen:
                seen.append(msg)
            if len(seen) >= examples:
                break
        langs = Counter(r.language for r, _ in items if r.language)
        out.append(ErrorPattern(
            kind=kind, stage=stage, template=template, count=len(items), share=len(items) / total,
            tasks=len({r.task_id for r, _ in items}),
            languages=tuple(lang for lang, _ in langs.most_common()), examples=tuple(seen)))
    out.sort(key=lambda p: (-p.count, p.kind, p.template))
    return out[:top] if top is not None else out


def error_mix(records: Sequence[RolloutRecord] | Iterable[RolloutRecord]) -> dict[str, int]:
    """Failures per kind, in :data:`KINDS` order (kinds with no failure left out)."""
    counts: Counter[str] = Counter()
    for rec in records:
        cls = classify_record(rec)
        if cls is not None:
            counts[cls.kind] += 1
    return {k.key: counts[k.key] for k in KINDS if counts[k.key]}
