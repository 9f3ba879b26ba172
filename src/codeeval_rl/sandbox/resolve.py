"""Import resolution: which packages a program needs, and which of them its runtime profile lacks.

A Python import name is, in order:

1. **standard library**: in ``sys.stdlib_module_names`` (never a dependency);
2. **provided**: importable in the profile (its ``packages_distributions()`` table, recorded
   in the profile's manifest when it was built, see :mod:`codeeval_rl.sandbox.profiles`);
3. **known**: a PyPI distribution we can name, from the shipped import-to-distribution table
   (``import_names.json``: pipreqs' mapping, ``sklearn`` -> ``scikit-learn``, with our own
   additions such as ``cv2`` -> ``opencv-python``, and a list of packages whose import name is
   their distribution name, ``numpy`` -> ``numpy``);
4. **unknown**: anything else: a module of the program's own, a misspelling, or a package the
   table does not list.

Only *known* names that the profile lacks make a run ``missing_dependency``. An unknown name
fails as the interpreter says (``ModuleNotFoundError``: a ``runtime_error``), because a model
could otherwise import an invented module to turn any failure into a status that does not
count against it. So a real package missing from the table counts as the program's error
until the table lists it.

The sandbox detects missing imports while a program runs (the fork server's import hook, in
``_server.py``, knows the *known* names, :func:`known_python_imports`), which also covers code
that a harness receives as data and dynamic imports; :func:`python_imports` and
:func:`resolve_python` give the same answer from the source alone, for planning (``--resolve``,
reports). JavaScript and Java failures are read from the runtime's and the compiler's messages
(:func:`missing_from_output`).
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ImportRef",
    "Resolution",
    "distribution_for",
    "known_python_imports",
    "missing_from_output",
    "python_imports",
    "resolve_python",
    "stdlib_names",
]

TABLE_FILE = Path(__file__).with_name("import_names.json")

# Handlers that catch a failed import: the import is optional for the program.
_IMPORT_HANDLERS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class ImportRef:
    """One absolute import of a top-level module: ``name``, its line, and ``guarded``: it sits
    in a ``try`` whose handlers catch a failed import (the program has a fallback)."""

    name: str
    line: int
    guarded: bool = False


@dataclass(frozen=True)
class Resolution:
    """How a program's imports resolve in one profile. ``missing`` are distribution names
    (sorted, unique); ``unknown`` the import names nobody provides or lists."""

    stdlib: tuple[str, ...] = ()
    provided: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@functools.cache
def _table() -> dict[str, Any]:
    data = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):  # pragma: no cover - a corrupt install
        raise RuntimeError(f"{TABLE_FILE} is not a JSON object")
    return data


def stdlib_names() -> frozenset[str]:
    """The standard library's top-level module names (this interpreter's; the sandbox's own
    Python has the same minor version in every supported set-up)."""
    return frozenset(sys.stdlib_module_names)


@functools.cache
def _python_known() -> dict[str, str]:
    table = _table()
    known: dict[str, str] = {name: name for name in table.get("python_same_name", ())}
    known.update(table.get("python_mapping", {}))
    known.update(table.get("python_mapping_extra", {}))
    std = stdlib_names()
    return {k: v for k, v in known.items() if k not in std}


def known_python_imports() -> frozenset[str]:
    """Import names that name a known distribution (what the sandbox's import hook watches)."""
    return frozenset(_python_known())


def distribution_for(import_name: str, language: str = "python") -> str | None:
    """The distribution (PyPI), package (npm) or artifact (Java) behind ``import_name``, or
    None when the table does not know it."""
    top = import_name.split(".")[0]
    table = _table()
    if language == "python":
        dist = _python_known().get(top)
        return _normal(dist) if dist else None
    if language == "javascript":
        name = _npm_package(import_name)
        return name if name in set(table.get("npm", ())) else None
    if language == "java":
        packages: Mapping[str, str] = table.get("java_packages", {})
        for prefix, artifact in packages.items():
            if import_name == prefix or import_name.startswith(prefix + "."):
                return artifact
        return None
    return None


def _normal(dist: str) -> str:
    """PEP 503 normal form of a distribution name (``scikit_learn`` -> ``scikit-learn``)."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def python_imports(source: str) -> list[ImportRef]:
    """The absolute imports of ``source`` (``import a.b`` and ``from a.b import c`` give ``a``;
    ``__import__('a')`` and ``importlib.import_module('a')`` with a literal name too), in order.
    Relative imports are the program's own. Source that does not parse has none."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    refs: list[ImportRef] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            catches = any(_catches_import_error(h) for h in node.handlers)  # type: ignore[attr-defined]
            for child in node.body:  # type: ignore[attr-defined]
                visit(child, guarded or catches)
            for part in (node.handlers, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                for child in part:
                    visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            refs.extend(ImportRef(a.name.split(".")[0], node.lineno, guarded) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            refs.append(ImportRef(node.module.split(".")[0], node.lineno, guarded))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and _is_dynamic_import(node.func):
            refs.append(ImportRef(node.args[0].value.split(".")[0], node.lineno, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return [r for r in refs if r.name]


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_HANDLERS
               or isinstance(n, ast.Attribute) and n.attr in _IMPORT_HANDLERS for n in names)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def resolve_python(source: str, provided: Iterable[str] = (), local: Iterable[str] = ()) -> Resolution:
    """Resolve the unguarded imports of ``source`` against a profile that ``provided`` the
    given import names; ``local`` are the program's own modules (its extra files)."""
    have = set(provided) | set(local)
    std = stdlib_names()
    out: dict[str, set[str]] = {"stdlib": set(), "provided": set(), "missing": set(), "unknown": set()}
    for ref in python_imports(source):
        if ref.guarded:
            continue
        if ref.name in std:
            out["stdlib"].add(ref.name)
        elif ref.name in have:
            out["provided"].add(ref.name)
        else:
            dist = distribution_for(ref.name)
            if dist is None:
                out["unknown"].add(ref.name)
            else:
                out["missing"].add(dist)
    return Resolution(**{k: tuple(sorted(v)) for k, v in out.items()})


# ---- other languages: what the runtime or compiler says ------------------------------------
_NODE_MISSING = re.compile(r"Cannot find (?:module|package) '([^']+)'")
_JAVA_MISSING = re.compile(r"error: package ([\w.]+) does not exist")


def _npm_package(specifier: str) -> str:
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def missing_from_output(language: str, output: str) -> tuple[str, ...]:
    """Known packages a failed JavaScript run (``Cannot find module 'lodash'``) or Java build
    (``package com.google.common.collect does not exist``) asked for, from its messages."""
    found: set[str] = set()
    if language == "javascript":
        for spec in _NODE_MISSING.findall(output):
            if spec.startswith((".", "/", "node:")):
                continue
            name = distribution_for(spec, "javascript")
            if name:
                found.add(name)
    elif language == "java":
        for package in _JAVA_MISSING.findall(output):
            artifact = distribution_for(package, "java")
            if artifact:
                found.add(artifact)
    return tuple(sorted(found))
