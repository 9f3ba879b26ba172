"""The question a task shows: the HumanEval-style prompt, written from the original or by a model.

**Without a model**, :func:`oracle_question` writes the prompt from the function itself: its
context (imports, constants, helpers), its ``def`` line, and a docstring made
of the original docstring (cleaned, its own doctest examples removed so no hidden test
leaks) followed by ``>>>`` examples from the public tests. No body follows, so
:func:`~codeeval_rl.evaluation.extract.completion_to_code` treats it as a HumanEval task: a
completion that is a body gives ``prompt + completion``; one that redefines the function
runs after the prompt's preamble (the context). ``prompt + "    pass\\n"`` always
parses. Decorators are left out: a decorator line before the stub would decorate whatever a
redefining completion puts first (often an ``import``), so a function whose decorator changes
its results should not become a task. The docstring is quoted so that any text
(``\"\"\"``, backslashes, control characters) round-trips exactly.

**With a model** (AceCoder, Zeng et al. 2025), :class:`ModelQuestionWriter` sends
:func:`acecoder_messages` (the snippet; asks for a self-contained question and about 20
independent constant ``assert`` tests, as JSON) to a :mod:`~codeeval_rl.datagen.llm` backend
and :func:`parse_reply` keeps the asserts that could be tests. The pipeline then runs them
against the original and drops those that fail; :func:`model_question_prompt` is the task
prompt with the model's question as the docstring.

Python only. The JavaScript path writes its own prompt (JSDoc above a stub); here any other
language is an :class:`~codeeval_rl.errors.InputError`.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import json
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codeeval_rl.datagen.llm import (
    ChatBackend,
    ChatEndpoint,
    LocalModel,
    Message,
    PromptTooLong,
    RequestRejected,
)
from codeeval_rl.datagen.model import Frozen, SourceFunction
from codeeval_rl.errors import ConfigError, InputError

__all__ = [
    "SYSTEM_MESSAGE",
    "ModelQuestion",
    "ModelQuestionWriter",
    "acecoder_messages",
    "check_assert",
    "example_from_frozen",
    "model_question_prompt",
    "oracle_question",
    "parse_reply",
    "raises",
]

_PYTHON = frozenset({"python", "py", "python3"})
_INDENT = "    "


# --- the HumanEval-style prompt ---------------------------------------------------------------------


def raises(exception: str, message: str = "") -> str:
    """The doctest form of an exception, for the expected side of a public example:
    ``Traceback (most recent call last):\\n    ...\\nValueError: message``."""
    tail = f"{exception}: {message}" if message else exception
    return f"Traceback (most recent call last):\n    ...\n{tail}"


def example_from_frozen(entry_point: str, frozen: Frozen) -> tuple[str, str] | None:
    """A public example ``(call_source, expected)`` from an input frozen against the original:
    a return gives its value (an ``iterable`` result is shown through ``list(...)``), a raise
    gives :func:`raises` of the type name; an ``unusable`` outcome gives ``None``."""
    call = f"{entry_point}({frozen.args})"
    if frozen.outcome == "return":
        return (f"list({call})" if frozen.kind == "iterable" else call), frozen.value
    if frozen.outcome == "raise":
        return call, raises(frozen.value)
    return None


def _check_python(language: str, fn: SourceFunction) -> None:
    for what, value in (("language", language), (f"{fn.path}:{fn.name} language", fn.language)):
        if value.strip().lower() not in _PYTHON:
            raise InputError(f"{what} {value!r}: this module writes Python prompts only "
                             "(the JavaScript path writes its own)")


def _function_node(fn: SourceFunction) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(textwrap.dedent(fn.source))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn.name:
            return node
    return None


def _params_signature(fn: SourceFunction) -> str:
    """``(a: int, *args, b=1, **kw)`` from ``fn.params`` ("" when there are none)."""
    if not fn.params:
        return ""
    parts: list[str] = []
    star = False
    for p in fn.params:
        ann = f": {p.annotation}" if p.annotation else ""
        default = (" = " if ann else "=") + p.default if p.default else ""
        if p.kind == "varargs":
            parts.append(f"*{p.name}{ann}")
            star = True
        elif p.kind == "varkw":
            parts.append(f"**{p.name}{ann}")
        else:
            if p.kind == "keyword" and not star:
                parts.append("*")
                star = True
            parts.append(f"{p.name}{ann}{default}")
    return f"({', '.join(parts)})"


def _header(fn: SourceFunction) -> tuple[str, str]:
    """(``def name(args) -> ret:``, the signature ``(args) -> ret``); decorators are left out."""
    node = _function_node(fn)
    if isinstance(node, ast.AsyncFunctionDef):
        raise InputError(f"{fn.path}:{fn.name} is a coroutine function; tasks need a plain function")
    if node is not None:
        type_params = getattr(node, "type_params", None)
        tp = f"[{', '.join(ast.unparse(t) for t in type_params)}]" if type_params else ""
        sig = f"{tp}({ast.unparse(node.args)})" + (f" -> {ast.unparse(node.returns)}" if node.returns else "")
        return f"def {fn.name}{sig}:", sig
    sig = fn.signature.strip().removesuffix(":") or _params_signature(fn)
    if not sig:
        raise InputError(f"{fn.path}:{fn.name}: the source does not parse and there is no signature")
    sig = sig.removeprefix("def ").strip()
    if sig.startswith(fn.name) and sig[len(fn.name):].lstrip().startswith(("(", "[")):
        sig = sig[len(fn.name):].lstrip()  # "name(args) -> ret", as discovery writes it
    if not sig.startswith(("(", "[")):
        sig = f"({sig})"
    header = f"def {fn.name}{sig}:"
    try:
        ast.parse(header + "\n    pass\n")
    except SyntaxError:
        raise InputError(f"{fn.path}:{fn.name}: cannot build a def line: the source does not parse "
                         f"and the signature {fn.signature!r} is not valid Python") from None
    return header, sig


_EXAMPLE_HEADING = re.compile(r"^\s*(examples?|for example|usage|doctests?)\s*:{0,2}\s*$|^\s*[-=~]{3,}\s*$",
                              re.IGNORECASE)


def _strip_doctests(text: str) -> str:
    """``text`` without its ``>>>`` examples (each with its continuation and expected lines)
    and without a heading left dangling at the end (``Examples:``, a numpydoc underline)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("..."):
            i += 1
        while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(">>>"):
            i += 1
    while out and (not out[-1].strip() or _EXAMPLE_HEADING.match(out[-1])):
        out.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _clean(text: str) -> str:
    return inspect.cleandoc(text.replace("\r\n", "\n").replace("\r", "\n"))


def _synthesised(fn: SourceFunction, sig: str, has_examples: bool) -> str:
    text = f"Implement ``{fn.name}{sig}``."
    return text + (" The examples below show its behaviour." if has_examples else "")


def _examples_text(entry_point: str, public_examples: Sequence[tuple[str, str]]) -> str:
    blocks: list[str] = []
    for i, example in enumerate(public_examples):
        if not (isinstance(example, tuple | list) and len(example) == 2
                and all(isinstance(x, str) for x in example)):
            raise InputError(f"public example {i} must be a (call_source, expected) pair of strings, "
                             f"got {example!r:.100}")
        call, expected = (x.replace("\r\n", "\n").strip("\n") for x in example)
        try:
            ast.parse(call.strip(), mode="eval")
        except SyntaxError:
            raise InputError(f"public example {i}: the call {call!r:.100} is not a Python expression") from None
        call_lines = textwrap.dedent(call).strip().split("\n")
        lines = [">>> " + call_lines[0], *("... " + line for line in call_lines[1:])]
        lines += [line if line.strip() else "<BLANKLINE>" for line in expected.split("\n")] if expected else []
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _docstring_literal(text: str) -> str:
    """``text`` as the indented docstring literal of a function body (a string that ``ast``
    reads back as exactly the indented text)."""
    lines = text.split("\n")
    body = lines[0] + "".join("\n" + (_INDENT + line if line.strip() else "") for line in lines[1:])
    body += "\n" + _INDENT
    controls = any((ord(c) < 32 and c not in "\n\t") or c == "\x7f" for c in body)
    prefix = "r" if "\\" in body else ""
    if not controls:
        for quote in ('"""', "'''"):
            if quote not in body:
                return f"{prefix}{quote}{body}{quote}"
    escaped = body.replace("\\", "\\\\")
    escaped = "".join(f"\\x{ord(c):02x}" if (ord(c) < 32 and c not in "\n\t") or c == "\x7f" else c
                      for c in escaped)
    return '"""' + escaped.replace('"""', '""\\"') + '"""'


def _prompt(fn: SourceFunction, description: str, public_examples: Sequence[tuple[str, str]],
            language: str) -> str:
    _check_python(language, fn)
    header, sig = _header(fn)
    examples = _examples_text(fn.name, public_examples)
    description = _strip_doctests(_clean(description)) if description.strip() else ""
    if not description:
        description = _synthesised(fn, sig, bool(examples))
    doc = description + ("\n\n" + examples if examples else "")
    context = fn.context_code.strip("\n")
    prompt = (context + "\n\n\n" if context else "") + header + "\n" + _INDENT + _docstring_literal(doc) + "\n"
    try:
        ast.parse(prompt + _INDENT + "pass\n")
    except SyntaxError as exc:
        raise InputError(f"{fn.path}:{fn.name}: the prompt is not valid Python (its context code, "
                         f"line {exc.lineno}: {exc.msg})") from None
    return prompt


def oracle_question(fn: SourceFunction, public_examples: Sequence[tuple[str, str]], *,
                    language: str = "python") -> str:
    """The task prompt written from the original (layout in the module docstring).

    ``public_examples``: ``(call_source, expected)`` pairs such as ``("camelize('a_b')",
    "'AB'")``; ``expected`` is a repr, or an exception in doctest form (see :func:`raises`),
    written under the call as a doctest would show it. The original docstring's own ``>>>``
    examples are left out; without a docstring, a sentence is written from the signature.
    Raises :class:`~codeeval_rl.errors.InputError` for another language, a coroutine, a
    malformed example, or context code that does not parse."""
    docstring = fn.docstring
    if not docstring.strip():
        node = _function_node(fn)
        docstring = (ast.get_docstring(node, clean=False) or "") if node is not None else ""
    return _prompt(fn, docstring, public_examples, language)


def model_question_prompt(fn: SourceFunction, question: ModelQuestion | str,
                          public_examples: Sequence[tuple[str, str]], *, language: str = "python") -> str:
    """The task prompt when a model wrote the question: :func:`oracle_question`'s layout with
    the model's question as the docstring text (then the public examples)."""
    text = question.question if isinstance(question, ModelQuestion) else question
    return _prompt(fn, text, public_examples, language)


# --- the model's question ---------------------------------------------------------------------------


SYSTEM_MESSAGE = "You are a helpful assistant."

_USER_TEMPLATE = """\
Here is a Python code snippet{helpers}:

```python
{code}
```

Turn it into a programming problem with tests.

1. Write a self-contained, LeetCode-style question that asks for a Python function with exactly \
this signature:

    def {name}{sig}

Describe the behaviour completely (the inputs, the result, the edge cases and any exception \
raised) so that someone who never saw the snippet could write the function. Do not mention or \
refer to the snippet.

2. Write about 20 test cases for that function. Each test is one independent Python `assert` \
statement that calls `{name}` with constant arguments and compares the result with a constant \
expected value, for example `assert {name}(...) == ...`. Use no variables, imports, helper \
functions or randomness; every test must pass on the snippet's function.

Answer with a single JSON object and nothing else, in this format:
{{"question": "<the question>", "tests": ["assert {name}(...) == ...", "..."]}}
"""


@dataclass(frozen=True)
class ModelQuestion:
    """A model's question and the asserts kept from its reply. ``problems`` says why each
    dropped assert was dropped (``"dropped `assert ...`: reason"``) and what else was wrong
    (no question, no asserts, the model not asked)."""

    question: str
    asserts: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def acecoder_messages(fn: SourceFunction) -> list[dict[str, str]]:
    """The chat that asks for ``fn``'s question and tests: a system message, and a user
    message with the snippet (its context code first when it has one), the exact signature,
    and the JSON answer format :func:`parse_reply` reads. Pure."""
    _check_python("python", fn)
    _, sig = _header(fn)
    context = fn.context_code.strip("\n")
    code = (context + "\n\n\n" if context else "") + textwrap.dedent(fn.source).strip("\n")
    helpers = " (with the imports and helpers it uses)" if context else ""
    user = _USER_TEMPLATE.format(helpers=helpers, code=code, name=fn.name, sig=sig)
    return [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": user}]


_SAFE_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - {
    "open", "exec", "eval", "compile", "input", "breakpoint", "exit", "quit", "help", "globals",
    "locals", "vars", "id", "hash", "memoryview", "setattr", "delattr", "print", "copyright",
    "credits", "license", "aiter", "anext",
}


def _bound_names(tree: ast.AST) -> set[str]:
    """Names an expression binds itself: comprehension targets, lambda parameters, ``:=`` targets."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda):
            a = node.args
            bound |= {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if p}
        elif isinstance(node, ast.NamedExpr):
            bound.add(node.target.id)
    return bound


def check_assert(source: str, entry_point: str) -> str | None:
    """Why ``source`` cannot be a test of ``entry_point``, or ``None`` when it can: it must
    be a single ``assert`` statement that compiles, calls ``entry_point`` and reads no name
    but ``entry_point``, safe builtins (not ``open``, ``eval``, ``id``, ``hash``, ``print``...)
    and names it binds itself (comprehension variables, lambda parameters). Pure."""
    try:
        tree = ast.parse(source)
        compile(tree, "<assert>", "exec")
    except (SyntaxError, ValueError) as exc:
        return f"syntax error: {getattr(exc, 'msg', exc)}"
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return "not a single assert statement"
    if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == entry_point
               for n in ast.walk(tree)):
        return f"does not call {entry_point}"
    allowed = _SAFE_BUILTINS | _bound_names(tree) | {entry_point}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)):
            return "not constant: awaits or yields"
        if isinstance(node, ast.Name) and node.id not in allowed:
            return f"not constant: uses the name {node.id!r}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            return f"not constant: uses the attribute {node.attr!r}"
    return None


_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_LABEL = re.compile(r"^\s*(#+\s*)?(\*\*)?\s*(\d[.)]\s*)?(question|problem|tests?|test cases?)\s*:?\s*(\*\*)?\s*:?\s*$",
                    re.IGNORECASE)
_LABEL_PREFIX = re.compile(r"^\s*(\*\*)?(question|problem)\s*:\s*(\*\*)?\s*", re.IGNORECASE)


def _json_object(text: str) -> dict[str, Any] | None:
    candidates = [text.strip()]
    fences = list(_FENCE.finditer(text))
    candidates += [m.group(2) for m in reversed(fences) if m.group(1).lower() == "json"]
    candidates += [m.group(2) for m in reversed(fences) if m.group(1).lower() != "json"]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate, strict=False)
        except (json.JSONDecodeError, ValueError):
            continue
        if isinstance(value, dict) and ({"question", "tests", "test_cases", "asserts"} & value.keys()):
            return value
    return None


def _split_statements(item: str) -> list[str]:
    """An item holding several assert statements (one per line) as one item per statement."""
    src = textwrap.dedent(item).strip()
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return [src]
    if len(tree.body) > 1 and all(isinstance(s, ast.Assert) for s in tree.body):
        return [ast.get_source_segment(src, s) or ast.unparse(s) for s in tree.body]
    return [src]


def _fallback(text: str) -> tuple[str, list[str]]:
    """(the paragraphs before the first assert, the assert statements, multi-line ones joined)."""
    lines = text.replace("\r\n", "\n").split("\n")
    asserts: list[str] = []
    first = None
    i = 0
    while i < len(lines):
        if not re.match(r"^\s*assert\b", lines[i]):
            i += 1
            continue
        first = i if first is None else first
        taken = lines[i].strip()
        for j in range(i + 1, min(i + 20, len(lines))):  # a statement spread over lines
            try:
                ast.parse(taken)
                break
            except SyntaxError:
                if re.match(r"^\s*(assert\b|```)", lines[j]):
                    break
                taken += "\n" + lines[j]
                i = j
        asserts.append(textwrap.dedent(taken).strip())
        i += 1
    head = lines[:first] if first is not None else lines
    kept = [line for line in head if not line.strip().startswith("```") and not _LABEL.match(line)]
    question = "\n".join(kept).strip()
    question = _LABEL_PREFIX.sub("", question, count=1).strip()
    return question, asserts


def parse_reply(text: str, entry_point: str) -> ModelQuestion:
    """The question and usable asserts in a model's reply. Pure.

    Read in this order: the reply as a JSON object (``{"question": ..., "tests": [...]}``;
    ``test_cases``/``asserts`` are read as ``tests``), a JSON object in a fenced block or
    between the first ``{`` and the last ``}``; else plain text: the paragraphs before the
    first line starting with ``assert`` are the question, every ``assert`` line (with its
    continuation lines) a test. Each test goes through :func:`check_assert`; duplicates (the
    same syntax tree) are dropped; each drop is recorded in ``problems``. Without a question
    or without any kept assert, ``problems`` says so."""
    problems: list[str] = []
    obj = _json_object(text)
    items: list[Any]
    if obj is not None:
        question = obj.get("question", "")
        if not isinstance(question, str):
            problems.append(f"the question is not text: {type(question).__name__}")
            question = ""
        raw: Any = next((obj[k] for k in ("tests", "test_cases", "asserts") if k in obj), [])
        items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        if not isinstance(raw, (list, str)):
            problems.append(f"the tests are not a list: {type(raw).__name__}")
    else:
        question, items = _fallback(text)
    kept: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            problems.append(f"dropped {item!r:.80}: not text")
            continue
        for src in _split_statements(item):
            if not src:
                continue
            shown = src if len(src) <= 120 else src[:117] + "..."
            reason = check_assert(src, entry_point)
            if reason is None:
                key = ast.dump(ast.parse(src))
                reason = "duplicate" if key in seen else None
                seen.add(key)
            if reason is None:
                kept.append(src)
            else:
                problems.append(f"dropped `{shown}`: {reason}")
    question = question.strip()
    if not question:
        problems.append("no question found")
    if not kept:
        problems.append("no usable assert found")
    return ModelQuestion(question=question, asserts=tuple(kept), problems=tuple(problems))


class ModelQuestionWriter:
    """Writes questions and tests with a model (``--model`` or ``--endpoint``).

    ``temperature`` (0: greedy), ``seed`` and ``max_tokens`` apply to :meth:`write`.
    Build with :meth:`from_model`, :meth:`from_endpoint` or :meth:`create` (the CLI's
    options), or around any :class:`~codeeval_rl.datagen.llm.ChatBackend`."""

    def __init__(self, backend: ChatBackend, *, temperature: float = 0.0, seed: int = 0,
                 max_tokens: int = 2048) -> None:
        if temperature < 0:
            raise ConfigError(f"temperature ({temperature}) must be >= 0")
        if max_tokens < 1:
            raise ConfigError(f"max_tokens ({max_tokens}) must be >= 1")
        self.backend = backend
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens

    @classmethod
    def from_model(cls, path_or_id: str | os.PathLike[str], *, device: str | None = None,
                   dtype: str | None = None, temperature: float = 0.0, seed: int = 0,
                   max_new_tokens: int = 2048) -> ModelQuestionWriter:
        """A local Hugging Face causal LM, loaded offline (:class:`~codeeval_rl.datagen.llm.LocalModel`)."""
        return cls(LocalModel(path_or_id, device=device, dtype=dtype), temperature=temperature, seed=seed,
                   max_tokens=max_new_tokens)

    @classmethod
    def from_endpoint(cls, url: str, *, model: str = "default", timeout: float = 120.0, retries: int = 4,
                      backoff: float = 1.0, temperature: float = 0.0, seed: int = 0,
                      max_tokens: int = 2048) -> ModelQuestionWriter:
        """An OpenAI-compatible chat endpoint (:class:`~codeeval_rl.datagen.llm.ChatEndpoint`)."""
        return cls(ChatEndpoint(url, model=model, timeout=timeout, retries=retries, backoff=backoff),
                   temperature=temperature, seed=seed, max_tokens=max_tokens)

    @classmethod
    def create(cls, *, model: str | None = None, endpoint: str | None = None,
               endpoint_model: str = "default", device: str | None = None, temperature: float = 0.0,
               seed: int = 0, max_tokens: int = 2048, timeout: float = 120.0) -> ModelQuestionWriter:
        """From the CLI's ``--model PATH_OR_ID`` or ``--endpoint URL [--endpoint-model NAME]``:
        exactly one of ``model`` and ``endpoint`` (else :class:`~codeeval_rl.errors.ConfigError`)."""
        if (model is None) == (endpoint is None):
            raise ConfigError("give exactly one of --model and --endpoint "
                              f"(got model={model!r}, endpoint={endpoint!r})")
        if model is not None:
            return cls.from_model(model, device=device, temperature=temperature, seed=seed,
                                  max_new_tokens=max_tokens)
        assert endpoint is not None
        return cls.from_endpoint(endpoint, model=endpoint_model, timeout=timeout, temperature=temperature,
                                 seed=seed, max_tokens=max_tokens)

    @property
    def generator_id(self) -> str:
        """The model path or hub id, or ``model@endpoint``."""
        return self.backend.id

    def prompt_hash(self, fn: SourceFunction) -> str:
        """Hex sha256 of the prompt the backend sends for ``fn`` (the chat template's text for
        a local model, the messages' canonical JSON for an endpoint)."""
        return hashlib.sha256(self.backend.render(acecoder_messages(fn)).encode()).hexdigest()

    def generator(self, fn: SourceFunction) -> str:
        """The provenance label ``"<generator_id> prompt:<first 12 hex of prompt_hash>"``."""
        return f"{self.generator_id} prompt:{self.prompt_hash(fn)[:12]}"

    def write(self, fn: SourceFunction) -> ModelQuestion:
        """The model's question and kept asserts for ``fn``. A prompt the model cannot take
        (too long for a local model; rejected by the endpoint as a bad request) gives an empty
        :class:`ModelQuestion` whose ``problems`` say why; an unusable backend (unreachable,
        refusing, answering garbage) raises :class:`~codeeval_rl.datagen.llm.EndpointError`."""
        try:
            (reply,) = self.backend.complete(acecoder_messages(fn), n=1, temperature=self.temperature,
                                             seed=self.seed, max_tokens=self.max_tokens)
        except (PromptTooLong, RequestRejected) as exc:
            return ModelQuestion(question="", problems=(f"model not asked: {exc}",))
        return parse_reply(reply, fn.name)

    def complete(self, messages: Sequence[Message], n: int = 1, temperature: float | None = None,
                 seed: int | None = None) -> list[str]:
        """``n`` raw replies to any chat (e.g. solutions to a task, for tiering by pass rate);
        ``temperature``/``seed`` default to the writer's, ``max_tokens`` is the writer's."""
        return self.backend.complete(messages, n=n, temperature=self.temperature if temperature is None
                                     else temperature, seed=self.seed if seed is None else seed,
                                     max_tokens=self.max_tokens)
