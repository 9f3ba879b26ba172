"""JavaScript stage 1: find the functions of a source tree that can be tested in isolation.

:func:`scan` walks a tree, parses every ``.js``/``.mjs``/``.cjs`` file with tree-sitter and
returns the candidates (:class:`JsCandidate`), the functions it skipped with the reason, the
files it skipped with the reason, and the literal call sites of the project (its tests
included), which stage 2 uses as inputs.

What is read
    Files ending in ``.js``, ``.mjs`` or ``.cjs``. Directories named ``node_modules``,
    ``bower_components``, ``jspm_packages``, ``dist``, ``build``, ``vendor``, ``vendors``,
    ``coverage`` are not entered (each is named once in ``skipped_files``); hidden
    directories are not entered and not named. A file is skipped and named when it is
    minified (``*.min.js``, or a line longer than :data:`MAX_LINE`), generated (a
    ``@generated`` or ``DO NOT EDIT`` marker in its first 2000 characters), compiled output (a
    ``sourceMappingURL`` comment or an ``__esModule`` marker: Babel and TypeScript), larger than
    :data:`MAX_FILE_BYTES`, unreadable, not UTF-8, or does not parse (the first error's line is
    named). Test files (under ``test``/``tests``/``__tests__``/``spec``/``__mocks__``, or named
    ``test.js``, ``*.test.js`` or ``*.spec.js``) give call sites only: none of their functions is
    selected.

What is selected
    Top-level ``function`` and ``function*`` declarations, ``const|let|var f = <arrow or
    function expression>`` (one declarator each), their ``export`` and ``export default``
    forms, and ``module.exports.f = ...``/``exports.f = ...`` with a function value (rewritten
    to ``const f = ...;``). Methods, nested functions, anonymous default exports and names
    defined twice are not, nor are functions named ``assert``, ``actual`` or ``close`` (names
    the tests bind around the call). A function whose code (helpers included, spacing ignored) is the
    same as one found before it is skipped as a duplicate.

Static purity (a function, and every helper it reaches, is skipped with the first reason)
    async functions and ``await``; ``this`` (allowed inside helper classes only); ``arguments``
    inside an arrow function; dynamic ``import()``; ``with`` and ``debugger``; JSX; the names
    in :data:`FORBIDDEN_NAMES` (I/O, timers, process, module system, console, eval, globals
    objects); ``Math.random``, ``Date.now``, ``performance.now``, ``Date()`` and ``new Date()``
    without arguments. Generators are kept (their tests consume them with ``[...f()]``).
    Printing is refused, not allowed: a function that logs is a report, not a computation,
    and its output would not be tested.

Helpers
    The top-level names a function uses (an over-approximation: every identifier it reads
    that it does not declare itself) that its file defines with ``function``, ``class`` or a
    ``const``/``let``/``var`` declarator (``let``/``var`` only when nothing in the file
    reassigns them) travel with it, transitively, as ``context_code`` in source order, with
    ES module syntax removed (``export`` dropped). A function that uses a name bound by
    ``import`` or ``require(...)``, a destructured module-level binding, a name defined
    nowhere in its file and not a JavaScript global, or a helper named like a JavaScript
    global (the tests could not tell them apart) is skipped with the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from codeeval_rl.datagen.js_syntax import (
    jsdoc_params,
    leading_doc,
    literal_args,
    node_text,
    param_types,
    parse,
    pattern_names,
    syntax_error_line,
    walk,
)
from codeeval_rl.datagen.model import Param, SourceFunction

__all__ = [
    "BUILTIN_GLOBALS",
    "FORBIDDEN_NAMES",
    "GLOBAL_NAMES",
    "MAX_FILE_BYTES",
    "MAX_LINE",
    "HelperDef",
    "JsCandidate",
    "JsScan",
    "Skip",
    "scan",
]

MAX_FILE_BYTES = 512 * 1024
"""Files larger than this are skipped (generated data, bundles)."""

MAX_LINE = 1000
"""A line longer than this marks a file as minified."""

IGNORED_DIRS: Mapping[str, str] = {
    "node_modules": "dependencies", "bower_components": "dependencies", "jspm_packages": "dependencies",
    "dist": "build output", "build": "build output", "coverage": "build output",
    "vendor": "vendored code", "vendors": "vendored code",
}
TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "__mocks__"})
_TEST_FILE = re.compile(r"\.(test|spec)\.[cm]?js$")
_EXTENSIONS = (".js", ".mjs", ".cjs")

FORBIDDEN_NAMES: Mapping[str, str] = {
    **{n: "I/O or the runtime" for n in (
        "process", "require", "module", "exports", "__dirname", "__filename", "Buffer",
        "fetch", "XMLHttpRequest", "WebSocket", "navigator", "window", "document", "localStorage",
        "sessionStorage", "indexedDB", "location", "crypto", "performance", "WebAssembly")},
    **{n: "timers" for n in (
        "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval",
        "clearImmediate", "queueMicrotask", "requestAnimationFrame")},
    "console": "prints to the console",
    "eval": "eval", "Function": "eval",
    "globalThis": "the global object", "global": "the global object", "self": "the global object",
}
"""Names whose use makes a function impure or untestable here (name -> reason)."""

BUILTIN_GLOBALS = frozenset({
    "Array", "ArrayBuffer", "Atomics", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean",
    "DataView", "Date", "Error", "EvalError", "FinalizationRegistry", "Float32Array", "Float64Array",
    "Infinity", "Int8Array", "Int16Array", "Int32Array", "Intl", "JSON", "Map", "Math", "NaN",
    "Number", "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect", "RegExp",
    "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError", "URIError",
    "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "WeakMap", "WeakRef",
    "WeakSet", "AggregateError", "decodeURI", "decodeURIComponent", "encodeURI",
    "encodeURIComponent", "escape", "unescape", "isFinite", "isNaN", "parseFloat", "parseInt",
    "undefined", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "atob", "btoa",
    "structuredClone",
})
"""Globals a pure function may use: the ECMAScript ones, and the node ones the oracle's
contexts provide (URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa,
structuredClone)."""

GLOBAL_NAMES = BUILTIN_GLOBALS | FORBIDDEN_NAMES.keys() | frozenset({
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toString", "valueOf",
    "toLocaleString", "__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__",
    "__lookupSetter__", "AbortController", "AbortSignal", "Blob", "BroadcastChannel", "Event", "EventTarget",
    "FormData", "Headers", "MessageChannel", "MessagePort", "Request", "Response", "Iterator",
})
"""Names a test program already sees as globals (or through ``Object.prototype``): a helper
with one of them cannot be told apart from the global by the tests' ``typeof`` guard."""

_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "generator_function"})
_DECLS = frozenset({"function_declaration", "generator_function_declaration"})
_FUNCTION_NODES = frozenset({"function_expression", "function_declaration", "generator_function",
                             "generator_function_declaration", "arrow_function", "method_definition"})


@dataclass(frozen=True)
class Skip:
    """Why something was not selected: a stable ``category`` (counted in the stage totals)
    and a ``detail`` naming the construct."""

    category: str
    detail: str


@dataclass(frozen=True)
class HelperDef:
    """A top-level definition a candidate reaches. ``code`` is a JavaScript *expression* that
    makes it (a function or class expression, or a declarator's initializer), so the tests
    can define a missing helper with ``globalThis.<name> = <code>``."""

    name: str
    kind: Literal["function", "class", "value"]
    code: str
    start: int


@dataclass(frozen=True)
class JsCandidate:
    """A selected function. ``function.context_code + "\\n" + function.source`` defines it;
    ``helper_defs`` are the same helpers as expressions (see :class:`HelperDef`)."""

    id: str
    function: SourceFunction
    generator: bool
    helper_defs: tuple[HelperDef, ...] = ()

    @property
    def subject(self) -> str:
        """The program text that defines the function: its helpers, then itself."""
        ctx = self.function.context_code
        return f"{ctx}\n{self.function.source}" if ctx else self.function.source

    @property
    def helper_classes(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.helper_defs if h.kind == "class")


@dataclass(frozen=True)
class JsScan:
    """The result of :func:`scan`. ``callsites`` maps a function name to the argument lists
    (source text, in the order found) of its calls with literal arguments anywhere in the
    tree. ``files_read``: the source files parsed; ``test_files``: the test files read."""

    candidates: tuple[JsCandidate, ...]
    skipped_functions: tuple[tuple[str, Skip], ...]
    skipped_files: tuple[tuple[str, str], ...]
    callsites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    files_read: int = 0
    test_files: int = 0


# ---- walking the tree --------------------------------------------------------------------------
def _is_test_path(rel: str) -> bool:
    parts = rel.split("/")
    return (any(p in TEST_DIRS for p in parts[:-1]) or bool(_TEST_FILE.search(parts[-1]))
            or parts[-1].rsplit(".", 1)[0] in ("test", "tests", "spec"))


def _files(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Relative POSIX paths of the JavaScript files under root (sorted), and the ignored
    directories (path/, reason)."""
    found: list[str] = []
    ignored: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        keep = []
        for d in sorted(dirnames):
            rel = d if rel_dir == "." else f"{rel_dir}/{d}"
            if d.startswith("."):
                continue
            if d in IGNORED_DIRS:
                ignored.append((rel + "/", f"ignored directory ({IGNORED_DIRS[d]})"))
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if f.endswith(_EXTENSIONS):
                found.append(f if rel_dir == "." else f"{rel_dir}/{f}")
    return sorted(found), ignored


def _file_problem(rel: str, data: bytes) -> str | None:
    if rel.endswith((".min.js", ".min.mjs", ".min.cjs")):
        return "minified (*.min.js)"
    if len(data) > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES} bytes"
    head = data[:2000]
    if b"@generated" in head or b"DO NOT EDIT" in head:
        return "generated (a @generated or DO NOT EDIT marker)"
    if b"//# sourceMappingURL=" in data or b'Object.defineProperty(exports, "__esModule"' in data \
            or b"exports.__esModule = true" in data:
        return "compiled output (a source map or __esModule marker)"
    if any(len(line) > MAX_LINE for line in data.splitlines()):
        return f"minified (a line longer than {MAX_LINE} characters)"
    return None


# ---- literal call sites ------------------------------------------------------------------------
def _callsites(root, into: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    for node in walk(root):
        if node.type != "call_expression":
            continue
        fn = node.child_by_field_name("function")
        if fn is None:
            continue
        if fn.type == "identifier":
            name = node_text(fn)
        elif fn.type == "member_expression":
            prop = fn.child_by_field_name("property")
            if prop is None:
                continue
            name = node_text(prop)
        else:
            continue
        args = literal_args(node)
        if args is not None and len(args) <= 500:
            seen = into.setdefault(name, [])
            if args not in seen:
                seen.append(args)


# ---- top-level definitions -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Def:
    """A top-level binding: ``kind`` says what may be done with it."""

    name: str
    kind: Literal["function", "class", "value", "mutable", "import", "require", "destructured"]
    node: object  # the defining node (declaration, or declarator)
    keyword: str = ""  # const/let/var for declarators
    start: int = 0


def _contains_require(node) -> bool:  # type: ignore[no-untyped-def]
    for n in walk(node):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and (node_text(fn) == "require" or fn.type == "import"):
                return True
    return False


def _unwrap_export(stmt):  # type: ignore[no-untyped-def]
    if stmt.type == "export_statement":
        decl = stmt.child_by_field_name("declaration")
        if decl is not None:
            return decl
        value = stmt.child_by_field_name("value")
        return value
    return stmt


def _assigned_names(root) -> set[str]:  # type: ignore[no-untyped-def]
    """Identifiers assigned (=, op=, ++/--) anywhere in the file."""
    out: set[str] = set()
    for n in walk(root):
        if n.type in ("assignment_expression", "augmented_assignment_expression"):
            left = n.child_by_field_name("left")
            if left is not None:
                out.update(pattern_names(left) if left.type != "identifier" else [node_text(left)])
        elif n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None and arg.type == "identifier":
                out.add(node_text(arg))
    return out


def _import_names(stmt) -> list[str]:  # type: ignore[no-untyped-def]
    """The local names an ``import`` statement binds."""
    out: list[str] = []
    for n in walk(stmt):
        if n.type == "import_clause" or n.type == "namespace_import":
            out.extend(node_text(c) for c in n.named_children if c.type == "identifier")
        elif n.type == "import_specifier":
            local = n.child_by_field_name("alias") or n.child_by_field_name("name")
            if local is not None:
                out.append(node_text(local))
    return out


def _top_level(root) -> tuple[dict[str, _Def], set[str]]:  # type: ignore[no-untyped-def]
    """Top-level bindings (name -> definition) and the names bound more than once."""
    defs: dict[str, _Def] = {}
    twice: set[str] = set()
    assigned = _assigned_names(root)

    def add(d: _Def) -> None:
        if d.name in defs:
            twice.add(d.name)
        else:
            defs[d.name] = d

    for stmt in root.named_children:
        if stmt.type == "import_statement":
            for name in _import_names(stmt):
                add(_Def(name, "import", stmt, start=stmt.start_byte))
            continue
        decl = _unwrap_export(stmt)
        if decl is None:
            continue
        if decl.type in _DECLS or decl.type == "class_declaration":
            name = decl.child_by_field_name("name")
            if name is not None:
                add(_Def(node_text(name), "class" if decl.type == "class_declaration" else "function", decl,
                         start=decl.start_byte))
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            keyword = node_text(decl.children[0])
            for d in decl.named_children:
                if d.type != "variable_declarator":
                    continue
                target = d.child_by_field_name("name")
                value = d.child_by_field_name("value")
                if target is None:
                    continue
                if value is not None and _contains_require(value):
                    for n in pattern_names(target):
                        add(_Def(n, "require", d, keyword, d.start_byte))
                elif target.type != "identifier":
                    for n in pattern_names(target):
                        add(_Def(n, "destructured", d, keyword, d.start_byte))
                else:
                    name = node_text(target)
                    mutable = keyword != "const" and name in assigned
                    add(_Def(name, "mutable" if mutable else "value", d, keyword, d.start_byte))
    return defs, twice


# ---- what a function uses ----------------------------------------------------------------------
def _declared(node) -> set[str]:  # type: ignore[no-untyped-def]
    out: set[str] = set()
    for n in walk(node):
        t = n.type
        if t == "variable_declarator":
            name = n.child_by_field_name("name")
            if name is not None:
                out.update(pattern_names(name))
        elif t in ("function_declaration", "generator_function_declaration", "class_declaration",
                   "function_expression", "generator_function", "class"):
            name = n.child_by_field_name("name")
            if name is not None:
                out.add(node_text(name))
        elif t == "formal_parameters":
            for c in n.named_children:
                out.update(pattern_names(c))
        elif t == "arrow_function":
            p = n.child_by_field_name("parameter")
            if p is not None:
                out.add(node_text(p))
        elif t == "catch_clause":
            p = n.child_by_field_name("parameter")
            if p is not None:
                out.update(pattern_names(p))
        elif t == "for_in_statement" and n.child_by_field_name("kind") is not None:
            left = n.child_by_field_name("left")
            if left is not None:
                out.update(pattern_names(left))
    return out


def _used(node) -> set[str]:  # type: ignore[no-untyped-def]
    """Identifiers read in ``node`` that ``node`` does not declare itself."""
    used = {node_text(n) for n in walk(node) if n.type in ("identifier", "shorthand_property_identifier")}
    return used - _declared(node)


def _member(node) -> str:  # type: ignore[no-untyped-def]
    return "".join(node_text(node).split())


def _impurity(node, allow_this: bool) -> Skip | None:  # type: ignore[no-untyped-def]
    """The first reason ``node`` is not a pure, synchronous computation, or None."""
    if any(c.type == "async" for c in node.children):
        return Skip("async", "is async")
    declared = _declared(node)
    for n in walk(node):
        t = n.type
        if t == "await_expression":
            return Skip("async", "uses await")
        if t == "this" and not allow_this:
            return Skip("uses this", "uses this")
        if t in ("with_statement", "debugger_statement"):
            return Skip("unsupported statement", f"uses {t.split('_')[0]}")
        if t.startswith("jsx_"):
            return Skip("jsx", "uses JSX")
        if t == "import":
            return Skip("imports another module", "uses import()")
        if t in _FUNCTION_NODES and n is not node and any(c.type == "async" for c in n.children):
            return Skip("async", "defines an async function")
        if t == "identifier":
            name = node_text(n)
            if name == "require" and name not in declared:
                return Skip("imports another module", "calls require")
            if name in FORBIDDEN_NAMES and name not in declared:
                reason = FORBIDDEN_NAMES[name]
                return Skip(f"impure: {reason}", f"uses {name}")
            if name == "arguments" and _arrow_scope(n, node):
                return Skip("unsupported statement", "uses arguments inside an arrow function")
        if t == "member_expression":
            m = _member(n)
            if m in ("Math.random", "Date.now", "performance.now"):
                return Skip(f"impure: {m}", f"uses {m}")
        if t in ("new_expression", "call_expression"):
            fn = n.child_by_field_name("constructor" if t == "new_expression" else "function")
            args = n.child_by_field_name("arguments")
            if fn is not None and node_text(fn) == "Date" and (
                    t == "call_expression" or args is None or not args.named_children):
                return Skip("impure: current time", "uses the current time (Date)")
    return None


def _arrow_scope(ident, top) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``arguments`` at ``ident`` belongs to an arrow function (no ordinary function
    between it and ``top``, and ``top`` itself is not an ordinary function)."""
    n = ident.parent
    while n is not None:
        if n.type in ("function_expression", "function_declaration", "generator_function",
                      "generator_function_declaration", "method_definition"):
            return False
        if n == top:
            break
        n = n.parent
    return top.type not in ("function_declaration", "generator_function_declaration")


# ---- candidates ----------------------------------------------------------------------------------
def _params(fn, doc_types: Mapping[str, str]) -> tuple[Param, ...]:  # type: ignore[no-untyped-def]
    single = fn.child_by_field_name("parameter")
    nodes = [single] if single is not None else [
        c for c in (fn.child_by_field_name("parameters").named_children if fn.child_by_field_name("parameters")
                    is not None else ()) if c.type != "comment"]
    raw: list[tuple[str, str, str]] = []  # name, default, kind
    for p in nodes:
        if p.type == "assignment_pattern":
            left = p.child_by_field_name("left")
            right = p.child_by_field_name("right")
            raw.append((node_text(left) if left is not None else node_text(p), node_text(right) if right is not None else "",
                        "positional"))
        elif p.type == "rest_pattern":
            raw.append((node_text(p)[3:].strip(), "", "varargs"))
        else:
            raw.append((node_text(p), "", "positional"))
    types = param_types(doc_types, [r[0] for r in raw])
    return tuple(Param(name, t, default, kind) for (name, default, kind), t in zip(raw, types))  # type: ignore[arg-type]


def _signature(name: str, fn, keyword: str) -> str:  # type: ignore[no-untyped-def]
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    ptext = node_text(params) if params is not None else "()"
    if not ptext.startswith("("):
        ptext = f"({ptext})"
    star = "*" if fn.type in ("generator_function_declaration", "generator_function") else ""
    if fn.type == "arrow_function":
        return f"{keyword} {name} = {ptext} =>"
    return f"function{star} {name}{ptext}"


@dataclass(frozen=True)
class _Entry:
    name: str
    fn: object  # the function node (declaration, arrow or function expression)
    stmt: object  # the top-level statement (for lines and the leading comment)
    source: str  # the function's text as a plain script declaration
    keyword: str  # const/let/var for expression forms, "" for declarations


def _entries(root, defs: Mapping[str, _Def]) -> tuple[list[_Entry], list[tuple[str, Skip]]]:  # type: ignore[no-untyped-def]
    out: list[_Entry] = []
    skipped: list[tuple[str, Skip]] = []
    for stmt in root.named_children:
        decl = _unwrap_export(stmt)
        if decl is None:
            continue
        if stmt.type == "export_statement" and decl.type in _FUNCTION_VALUES:
            skipped.append(("default", Skip("anonymous", "an anonymous default export")))
            continue
        if decl.type in _DECLS:
            name = decl.child_by_field_name("name")
            if name is not None:
                out.append(_Entry(node_text(name), decl, stmt, node_text(decl), ""))
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            keyword = node_text(decl.children[0])
            for d in decl.named_children:
                target = d.child_by_field_name("name") if d.type == "variable_declarator" else None
                value = d.child_by_field_name("value") if d.type == "variable_declarator" else None
                if target is not None and target.type == "identifier" and value is not None \
                        and value.type in _FUNCTION_VALUES:
                    out.append(_Entry(node_text(target), value, stmt, f"{keyword} {node_text(d)};", keyword))
        elif decl.type == "expression_statement":
            expr = decl.named_children[0] if decl.named_children else None
            if expr is None or expr.type != "assignment_expression":
                continue
            left = expr.child_by_field_name("left")
            right = expr.child_by_field_name("right")
            if left is None or right is None or right.type not in _FUNCTION_VALUES:
                continue
            m = re.fullmatch(r"(?:module\.exports|exports)\.([A-Za-z_$][\w$]*)", _member(left))
            if m:
                out.append(_Entry(m.group(1), right, stmt, f"const {m.group(1)} = {node_text(right)};", "const"))
    return out, skipped


def _helper_def(d: _Def) -> HelperDef:
    node = d.node
    if d.kind in ("function", "class"):
        return HelperDef(d.name, d.kind, node_text(node), d.start)  # type: ignore[arg-type]
    value = node.child_by_field_name("value")  # type: ignore[attr-defined]
    return HelperDef(d.name, "value", node_text(value) if value is not None else "undefined", d.start)


def _helper_statement(d: _Def) -> str:
    if d.kind in ("function", "class"):
        return node_text(d.node)
    return f"{d.keyword} {node_text(d.node)};"


def _closure(entry: _Entry, defs: Mapping[str, _Def], twice: set[str]) -> tuple[list[_Def], Skip | None]:
    """The helpers ``entry`` reaches (source order), or the reason it cannot travel alone."""
    seen: dict[str, _Def] = {}
    todo = [entry.fn]
    while todo:
        node = todo.pop()
        for name in sorted(_used(node)):
            if name == entry.name or name in seen:
                continue
            d = defs.get(name)
            if d is None:
                if name in BUILTIN_GLOBALS or name in FORBIDDEN_NAMES or name == "arguments":
                    continue
                return [], Skip("undefined name", f"uses {name}, defined neither in its file nor by JavaScript")
            if name in twice:
                return [], Skip("defined twice", f"uses {name}, defined more than once in its file")
            if d.kind in ("import", "require"):
                return [], Skip("imports another module", f"uses {name}, imported from another module")
            if d.kind == "destructured":
                return [], Skip("unsupported helper", f"uses {name}, a destructured module binding")
            if d.kind == "mutable":
                return [], Skip("module state", f"uses {name}, a module variable that is reassigned")
            if name in GLOBAL_NAMES:
                return [], Skip("unsupported helper", f"its helper {name} shadows a JavaScript global")
            problem = _impurity(d.node, allow_this=d.kind == "class")
            if problem is not None:
                return [], Skip(problem.category, f"its helper {name} {problem.detail}")
            seen[name] = d
            todo.append(d.node)
    return sorted(seen.values(), key=lambda d: d.start), None


def _candidate(rel: str, entry: _Entry, defs: Mapping[str, _Def], twice: set[str],
               data: bytes) -> JsCandidate | Skip:
    fn = entry.fn
    if entry.name in ("assert", "actual", "close"):
        return Skip("reserved name", f"{entry.name} is a name the tests bind themselves")
    if entry.name in twice:
        return Skip("defined twice", f"{entry.name} is defined more than once in its file")
    problem = _impurity(fn, allow_this=False)
    if problem is not None:
        return problem
    params_node = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")  # type: ignore[attr-defined]
    if params_node is None or (params_node.type == "formal_parameters" and not [
            c for c in params_node.named_children if c.type != "comment"]):
        return Skip("no parameters", "takes no parameters")
    helpers, problem = _closure(entry, defs, twice)
    if problem is not None:
        return problem
    doc = leading_doc(entry.stmt)
    types = jsdoc_params(doc) if doc.startswith("/**") else {}
    stmt = entry.stmt
    generator = fn.type in ("generator_function_declaration", "generator_function")  # type: ignore[attr-defined]
    context = "\n\n".join(_helper_statement(d) for d in helpers)
    function = SourceFunction(
        language="javascript", path=rel, name=entry.name,
        start_line=int(stmt.start_point[0]) + 1, end_line=int(stmt.end_point[0]) + 1,  # type: ignore[attr-defined]
        source=entry.source + ("\n" if not entry.source.endswith("\n") else ""),
        context_code=context + "\n" if context else "", docstring=doc,
        signature=_signature(entry.name, fn, entry.keyword or "const"),
        params=_params(fn, types), helpers=tuple(d.name for d in helpers))
    return JsCandidate(id=f"{rel}::{entry.name}", function=function, generator=generator,
                       helper_defs=tuple(_helper_def(d) for d in helpers))


def _distinct(candidates: list[JsCandidate], skipped: list[tuple[str, Skip]]) -> list[JsCandidate]:
    """The first of each group of candidates with the same code (helpers included, spacing
    ignored): copies (an ESM and a CommonJS build of one file) make one task."""
    seen: dict[str, str] = {}
    out = []
    for c in candidates:
        key = " ".join(c.subject.split())
        if key in seen:
            skipped.append((c.id, Skip("duplicate", f"the same code as {seen[key]}")))
            continue
        seen[key] = c.id
        out.append(c)
    return out


def scan(root: Path) -> JsScan:
    """Walk ``root`` and select candidates (rules in the module docstring). Never raises for
    a file: an unreadable or unparsable file is skipped and named."""
    paths, ignored = _files(root)
    candidates: list[JsCandidate] = []
    skipped_fns: list[tuple[str, Skip]] = []
    skipped_files: list[tuple[str, str]] = list(ignored)
    calls: dict[str, list[str]] = {}
    read = tests = 0
    for rel in paths:
        try:
            data = (root / rel).read_bytes()
        except OSError as exc:
            skipped_files.append((rel, f"unreadable ({exc.strerror or exc})"))
            continue
        problem = _file_problem(rel, data)
        if problem is not None:
            skipped_files.append((rel, problem))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            skipped_files.append((rel, "not UTF-8 text"))
            continue
        tree = parse(text)
        line = syntax_error_line(tree)
        if line is not None:
            skipped_files.append((rel, f"syntax error at line {line}"))
            continue
        root_node = tree.root_node
        _callsites(root_node, calls)
        if _is_test_path(rel):
            tests += 1
            continue
        read += 1
        defs, twice = _top_level(root_node)
        entries, anonymous = _entries(root_node, defs)
        skipped_fns.extend((f"{rel}::{name}", why) for name, why in anonymous)
        for entry in entries:
            got = _candidate(rel, entry, defs, twice, data)
            if isinstance(got, Skip):
                skipped_fns.append((f"{rel}::{entry.name}", got))
            else:
                candidates.append(got)
    candidates = _distinct(candidates, skipped_fns)
    return JsScan(candidates=tuple(candidates), skipped_functions=tuple(skipped_fns),
                  skipped_files=tuple(skipped_files),
                  callsites={k: tuple(v) for k, v in sorted(calls.items())},
                  files_read=read, test_files=tests)
