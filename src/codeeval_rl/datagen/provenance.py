"""Where a generated task came from: the source tree's identity, its licence, and the
provenance record every generated task carries.

``source_identity(root)``: the git commit when ``root`` holds tracked files of a git work
tree (with a ``dirty`` flag for uncommitted changes under ``root``), else the SHA-256 of the
tree's relative paths and file contents.

``detect_licence(root)``: an SPDX id, looked up in this order, stopping at the first hit:
for ``root``, then its parent, then its grandparent (``d`` below):

1. a licence file in ``d`` (``LICENSE``, ``LICENCE``, ``COPYING``, ``UNLICENSE``, with any
   suffix such as ``.txt``/``.md``/``-MIT``), matched on the licence text's key sentences;
2. package metadata in ``d``: ``pyproject.toml`` (``project.license`` as a string, a
   ``{text = ...}`` or ``{file = ...}`` table, or ``project.license-expression``; then
   ``tool.poetry.license``; then the licence classifiers), ``setup.cfg`` (``[metadata]
   license``, classifiers), ``setup.py`` (a literal ``license=`` or classifiers passed to
   ``setup()``, read with ``ast``, never run), ``PKG-INFO``/``METADATA``
   (``License-Expression``, ``License``, ``Classifier: License :: ...``), ``package.json``
   (``license``, ``licenses``), ``Cargo.toml`` (``package.license``);
3. an installed distribution beside ``d``: ``<name>-*.dist-info`` or ``<name>*.egg-info`` in
   ``d``'s parent whose name or ``top_level.txt`` matches ``d``'s name (so
   ``site-packages/inflection/`` finds ``site-packages/inflection-0.5.1.dist-info/``): the
   licence files in it and its ``licenses/`` folder, then its METADATA/PKG-INFO.

else ``"unknown"``. Several different licences found at the same step are joined with
`` AND `` (you must honour all of them); a named licence that is not one of the known SPDX
ids is returned as ``LicenseRef-<name>``.

``provenance_record(...)``: the task's ``provenance`` mapping, string values only.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import json
import math
import os
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from codeeval_rl.errors import InputError

__all__ = [
    "PROVENANCE_KEYS",
    "SourceIdentity",
    "detect_licence",
    "generator_label",
    "provenance_record",
    "source_identity",
    "tree_sha256",
]

# --------------------------------------------------------------------------- source identity

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".tox", ".nox", ".venv", "venv", "node_modules", ".eggs", ".idea", ".vscode",
})
"""Directories :func:`tree_sha256` leaves out, wherever they are in the tree."""
SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class SourceIdentity:
    """``kind`` is ``commit`` (``value``: the 40-hex HEAD sha) or ``sha256`` (``value``: the
    tree hash). ``dirty``: a commit, but ``root`` had uncommitted or untracked changes, so the
    files read may differ from the commit (always False for ``sha256``). Unpacks as
    ``kind, value = identity``."""

    kind: str
    value: str
    dirty: bool = False

    def __iter__(self) -> Iterator[str]:
        return iter((self.kind, self.value))


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `git status` must not write the index of a tree we only read
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _check_dir(root: Path, what: str) -> Path:
    if not isinstance(root, str | os.PathLike):
        raise InputError(f"{what}: expected a directory path, got {type(root).__name__}")
    p = Path(root)
    if not p.exists():
        raise InputError(f"{what}: no such directory: {p}")
    if not p.is_dir():
        raise InputError(f"{what}: not a directory: {p}")
    return p


def source_identity(root: Path) -> SourceIdentity:
    """The identity of the tree at ``root``. Deterministic: the same tree gives the same value.

    ``commit`` when ``git`` is installed, ``root`` is inside a work tree with a commit, and
    ``root`` holds tracked files (an ignored folder inside a repository, such as a virtual
    environment, is hashed instead: the commit does not contain it). ``dirty`` is set when
    ``git status`` shows changes or untracked files under ``root``. Otherwise ``sha256`` of
    :func:`tree_sha256`. Raises InputError when ``root`` is not a directory.
    """
    p = _check_dir(root, "source_identity")
    head = _git(p, "rev-parse", "--verify", "--quiet", "HEAD")
    if head is not None and head.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", head.stdout.strip()):
        tracked = _git(p, "ls-files", "--error-unmatch", "--", ".")
        if tracked is not None and tracked.returncode == 0:
            status = _git(p, "status", "--porcelain", "--untracked-files=normal", "--", ".")
            dirty = status is None or status.returncode != 0 or bool(status.stdout.strip())
            return SourceIdentity("commit", head.stdout.strip(), dirty)
    return SourceIdentity("sha256", tree_sha256(p))


def _tree_files(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):  # symlinked directories are not followed
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        base = Path(dirpath)
        for name in filenames:
            if not name.endswith(SKIPPED_SUFFIXES):
                path = base / name
                yield path.relative_to(root).as_posix(), path


def tree_sha256(root: Path) -> str:
    """SHA-256 over the tree's files in sorted order of their POSIX relative paths: for each,
    the path (UTF-8), a NUL, a type byte and the SHA-256 of its contents (of the link text
    for a symbolic link, which is never followed). Skips SKIPPED_DIRS and compiled Python.
    File modes and times do not count. Raises InputError naming a file it cannot read."""
    p = _check_dir(root, "tree_sha256")
    outer = hashlib.sha256()
    for rel, path in sorted(_tree_files(p)):
        if path.is_symlink():
            kind, digest = b"l", hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).digest()
        else:
            inner = hashlib.sha256()
            try:
                with path.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        inner.update(chunk)
            except OSError as exc:
                raise InputError(f"cannot read {path} to hash the source tree: {exc.strerror or exc}") from exc
            kind, digest = b"f", inner.digest()
        outer.update(rel.encode("utf-8", "surrogateescape") + b"\0" + kind + digest)
    return outer.hexdigest()


# --------------------------------------------------------------------------- licence texts


def _norm(text: str) -> str:
    """Lower case, punctuation except ``.`` and parentheses turned to spaces, spaces collapsed:
    a licence reads the same whatever its line breaks, comment markers or quote style."""
    return " ".join(re.sub(r"[^a-z0-9.()]+", " ", text.lower()).split())


_OR_LATER = _norm("or (at your option) any later version")


def _or_later(text: str, base: str) -> str:
    """``-or-later`` when a notice says so; the full GNU texts carry that sentence in their
    "How to Apply These Terms" appendix, which does not count."""
    cut = text.find(_norm("how to apply these terms"))
    body = text if cut < 0 else text[:cut]
    return f"{base}-or-later" if _OR_LATER in body else f"{base}-only"


_GNU_TITLES = (
    ("gnu affero general public license", {"3": "AGPL-3.0"}),
    ("gnu lesser general public license", {"2.1": "LGPL-2.1", "3": "LGPL-3.0"}),
    ("gnu library general public license", {"2": "LGPL-2.0"}),
    ("gnu general public license", {"2": "GPL-2.0", "3": "GPL-3.0"}),
)


def _gnu(t: str) -> list[tuple[int, str]]:
    """The GNU licences named in ``t``, each with the version right after its title."""
    out = []
    for title, versions in _GNU_TITLES:
        at = t.find(title)
        if at < 0:
            continue
        m = re.search(r"version (\d+(?:\.\d+)?)", t[at + len(title): at + len(title) + 200])
        base = versions.get(m.group(1).removesuffix(".0")) if m else None
        if base:
            out.append((at, _or_later(t, base)))
    return out


def _bsd(w: str) -> str:
    if _norm("all advertising materials mentioning features or use of this software") in w:
        return "BSD-4-Clause"
    if "neither the name" in w or "the name of the author may not be used" in w:
        return "BSD-3-Clause"
    return "BSD-2-Clause"


def _mit(w: str) -> str:
    return "MIT" if _norm("the above copyright notice and this permission notice shall be included") in w else "MIT-0"


def _isc(w: str) -> str:
    return "ISC" if _norm("provided that the above copyright notice and this permission notice appear") in w else "0BSD"


# (the sentence that starts a licence text, its SPDX id, or a function of the 3000
# characters from that sentence on that tells the variant)
_TEXT_RULES: tuple[tuple[str, str | Callable[[str], str]], ...] = (
    ("apache license version 2.0", "Apache-2.0"),
    ("licensed under the apache license version 2.0", "Apache-2.0"),
    ("apache.org/licenses/license-2.0", "Apache-2.0"),
    ("mozilla public license version 2.0", "MPL-2.0"),
    ("mozilla public license, v. 2.0", "MPL-2.0"),
    ("eclipse public license - v 2.0", "EPL-2.0"),
    ("boost software license - version 1.0", "BSL-1.0"),
    ("this is free and unencumbered software released into the public domain", "Unlicense"),
    ("cc0 1.0 universal", "CC0-1.0"),
    ("redistribution and use in source and binary forms, with or without modification, are permitted", _bsd),
    ("permission is hereby granted, free of charge, to any person obtaining a copy", _mit),
    ("for any purpose with or without fee is hereby granted", _isc),
    ("the origin of this software must not be misrepresented", "Zlib"),
    ("python software foundation license", "PSF-2.0"),
)


def licence_from_text(text: str) -> str | None:
    """The SPDX id of a licence text (a LICENSE file's contents), or None. When the file
    holds several licences (a project's own, then bundled ones), the one whose text starts
    first wins."""
    t = _norm(text)
    hits = _gnu(t)
    for phrase, spdx in _TEXT_RULES:
        at = t.find(_norm(phrase))
        if at >= 0:
            hits.append((at, spdx if isinstance(spdx, str) else spdx(t[at: at + 3000])))
    return min(hits)[1] if hits else None


# --------------------------------------------------------------------------- licence names

KNOWN_IDS = frozenset({
    "0BSD", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause",
    "BSD-4-Clause", "BSL-1.0", "CC-BY-4.0", "CC0-1.0", "EPL-2.0", "GPL-2.0-only", "GPL-2.0-or-later",
    "GPL-3.0-only", "GPL-3.0-or-later", "ISC", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "MIT", "MIT-0", "MPL-2.0", "PSF-2.0",
    "Python-2.0", "Unlicense", "Zlib",
})
_ID_BY_LOWER = {i.lower(): i for i in KNOWN_IDS}
# deprecated SPDX ids and common free-form names -> SPDX id
_ALIASES = {
    "gpl-2.0": "GPL-2.0-only", "gpl-2.0+": "GPL-2.0-or-later", "gpl-3.0": "GPL-3.0-only",
    "gpl-3.0+": "GPL-3.0-or-later", "lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3.0": "LGPL-3.0-only", "lgpl-3.0+": "LGPL-3.0-or-later", "agpl-3.0": "AGPL-3.0-only",
    "gplv2": "GPL-2.0-only", "gplv2+": "GPL-2.0-or-later", "gplv3": "GPL-3.0-only", "gplv3+": "GPL-3.0-or-later",
    "lgplv3": "LGPL-3.0-only", "lgplv3+": "LGPL-3.0-or-later", "lgplv2+": "LGPL-2.0-or-later",
    "mit license": "MIT", "the mit license": "MIT", "expat": "MIT",
    "apache": "Apache-2.0", "apache license": "Apache-2.0", "apache 2.0 license": "Apache-2.0",
    "apache-2.0 license": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache 2": "Apache-2.0", "apache2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0", "apache license version 2.0": "Apache-2.0", "asl 2.0": "Apache-2.0",
    "bsd-2": "BSD-2-Clause", "bsd 2-clause": "BSD-2-Clause", "simplified bsd": "BSD-2-Clause",
    "bsd-3": "BSD-3-Clause", "bsd 3-clause": "BSD-3-Clause", "new bsd": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause", "isc license": "ISC", "iscl": "ISC",
    "mpl 2.0": "MPL-2.0", "mozilla public license 2.0": "MPL-2.0", "the unlicense": "Unlicense",
    "public domain": "LicenseRef-Public-Domain", "bsd": "LicenseRef-BSD", "bsd license": "LicenseRef-BSD", "psf": "PSF-2.0", "zlib/libpng": "Zlib",
}
_CLASSIFIERS = {
    "mit license": "MIT", "mit no attribution license (mit-0)": "MIT-0",
    "apache software license": "Apache-2.0", "isc license (iscl)": "ISC",
    "gnu general public license v2 (gplv2)": "GPL-2.0-only",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 (gplv3)": "GPL-3.0-only",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu lesser general public license v2 (lgplv2)": "LGPL-2.0-only",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
    "gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
    "gnu affero general public license v3": "AGPL-3.0-only",
    "gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0", "the unlicense (unlicense)": "Unlicense",
    "boost software license 1.0 (bsl-1.0)": "BSL-1.0", "zlib/libpng license": "Zlib",
    "python software foundation license": "PSF-2.0", "eclipse public license 2.0 (epl-2.0)": "EPL-2.0",
    "bsd license": "LicenseRef-BSD",
}
_EXPR_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9.+-]+")
_UNKNOWN_VALUES = {"", "unknown", "none", "n/a", "na", "other", "other/proprietary license", "see license",
                   "see license file", "see licence", "file license", "license.txt"}


def licence_from_name(name: str) -> str | None:
    """An SPDX id or expression for a licence named in metadata (``"MIT"``, ``"Apache 2.0"``,
    ``"GPL-3.0-or-later OR MIT"``, a full licence text...), ``LicenseRef-<name>`` for a name
    that is not known, None for an empty or placeholder value (``UNKNOWN``)."""
    value = " ".join(name.split())
    if value.lower() in _UNKNOWN_VALUES:
        return None
    if len(value) > 80 or "\n" in name.strip():  # a licence text in a metadata field
        return licence_from_text(name)
    lower = value.lower()
    if lower in _ID_BY_LOWER:
        return _ID_BY_LOWER[lower]
    if lower in _ALIASES:
        return _ALIASES[lower]
    tokens = _EXPR_TOKEN.findall(value)
    operators = {t.upper() for t in tokens} & {"AND", "OR", "WITH"}
    ids = [t for t in tokens if t.upper() not in ("AND", "OR", "WITH") and t not in "()"]
    if operators and ids and "".join(tokens) == value.replace(" ", ""):
        out = []
        for tok in tokens:
            up = tok.upper()
            if up in ("AND", "OR", "WITH") or tok in "()":
                out.append(up if up in ("AND", "OR", "WITH") else tok)
            elif tok.lower() in _ID_BY_LOWER or tok.lower() in _ALIASES:
                out.append(_ID_BY_LOWER.get(tok.lower()) or _ALIASES[tok.lower()])
            elif (out and out[-1] == "WITH") or re.fullmatch(r"[A-Za-z][A-Za-z0-9.+-]*", tok):
                out.append(tok)  # a licence exception or an SPDX id not listed here, as written
            else:
                break
        else:
            return " ".join(out).replace("( ", "(").replace(" )", ")")
    ref = re.sub(r"[^A-Za-z0-9.]+", "-", value).strip("-")[:60]
    return f"LicenseRef-{ref}" if ref else None


def _from_classifiers(classifiers: Iterable[object]) -> str | None:
    found = []
    for c in classifiers:
        if isinstance(c, str) and c.startswith("License ::"):
            leaf = c.split("::")[-1].strip().lower()
            spdx = _CLASSIFIERS.get(leaf)
            if spdx:
                found.append(spdx)
    return _join(found)


def _join(ids: Iterable[str | None]) -> str | None:
    distinct = sorted({i for i in ids if i})
    if not distinct:
        return None
    return " AND ".join(f"({i})" if " " in i and len(distinct) > 1 else i for i in distinct)


# --------------------------------------------------------------------------- licence lookup

_LICENCE_FILE = re.compile(r"^(?:UN)?(?:LICEN[CS]E|COPYING)(?:[-_.].*)?$", re.IGNORECASE)
_MAX_TEXT = 256 * 1024


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return fh.read(_MAX_TEXT).decode("utf-8", "replace")
    except OSError:
        return None


def _licence_files(directory: Path) -> str | None:
    try:
        names = sorted(e.name for e in directory.iterdir() if _LICENCE_FILE.match(e.name) and e.is_file())
    except OSError:
        return None
    return _join(licence_from_text(_read(directory / n) or "") for n in names)


def _pyproject(path: Path) -> str | None:
    try:
        data = tomllib.loads(_read(path) or "")
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    lic = project.get("license")
    if isinstance(lic, str):
        return licence_from_name(lic)
    if isinstance(lic, dict):
        if isinstance(lic.get("text"), str) and (found := licence_from_name(lic["text"])):
            return found
        if isinstance(lic.get("file"), str):
            text = _read(path.parent / lic["file"])
            if text and (found := licence_from_text(text)):
                return found
    if isinstance(project.get("license-expression"), str):
        return licence_from_name(project["license-expression"])
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("license"), str):
        return licence_from_name(poetry["license"])
    classifiers = project.get("classifiers") or (poetry.get("classifiers") if isinstance(poetry, dict) else None)
    return _from_classifiers(classifiers) if isinstance(classifiers, list) else None


def _setup_cfg(path: Path) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_read(path) or "")
    except configparser.Error:
        return None
    if not parser.has_section("metadata"):
        return None
    lic = parser.get("metadata", "license", fallback="")
    if lic.strip() and (found := licence_from_name(lic.strip())):
        return found
    return _from_classifiers(line.strip() for line in parser.get("metadata", "classifiers", fallback="").splitlines())


def _setup_py(path: Path) -> str | None:
    try:
        tree = ast.parse(_read(path) or "")
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "setup":
            continue
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        lic = kwargs.get("license")
        if isinstance(lic, ast.Constant) and isinstance(lic.value, str) and (found := licence_from_name(lic.value)):
            return found
        cls = kwargs.get("classifiers")
        if isinstance(cls, ast.List | ast.Tuple):
            return _from_classifiers(e.value for e in cls.elts if isinstance(e, ast.Constant))
    return None


def _pkg_info(path: Path) -> str | None:
    msg = HeaderParser().parsestr(_read(path) or "")
    expr = msg.get("License-Expression")
    if expr and (found := licence_from_name(str(expr))):
        return found
    lic = msg.get("License")
    if lic and (found := licence_from_name(str(lic))):
        return found
    return _from_classifiers(str(c) for c in msg.get_all("Classifier") or [])


def _package_json(path: Path) -> str | None:
    try:
        data = json.loads(_read(path) or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lic = data.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if isinstance(lic, str):
        return licence_from_name(lic)
    many = data.get("licenses")
    if isinstance(many, list):
        return _join(licence_from_name(x.get("type", "")) for x in many
                     if isinstance(x, dict) and isinstance(x.get("type"), str))
    return None


def _cargo_toml(path: Path) -> str | None:
    try:
        data = tomllib.loads(_read(path) or "")
    except tomllib.TOMLDecodeError:
        return None
    pkg = data.get("package")
    if isinstance(pkg, dict) and isinstance(pkg.get("license"), str):
        return licence_from_name(pkg["license"])
    return None


_METADATA_FILES = (
    ("pyproject.toml", _pyproject), ("setup.cfg", _setup_cfg), ("setup.py", _setup_py),
    ("PKG-INFO", _pkg_info), ("METADATA", _pkg_info), ("package.json", _package_json),
    ("Cargo.toml", _cargo_toml),
)


def _metadata(directory: Path) -> str | None:
    for name, reader in _METADATA_FILES:
        path = directory / name
        if path.is_file() and (found := reader(path)):
            return found
    return None


def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed_beside(directory: Path) -> str | None:
    """The licence of the installed distribution that ``directory`` belongs to, from the
    ``.dist-info`` / ``.egg-info`` folders next to it."""
    parent, want = directory.parent, _dist_name(directory.name)
    try:
        infos = sorted(e for e in parent.iterdir()
                       if e.is_dir() and e.name.endswith((".dist-info", ".egg-info")))
    except OSError:
        return None

    def owns(info: Path) -> bool:
        stem = info.name.rsplit(".", 1)[0]
        if _dist_name(stem.split("-", 1)[0]) == want:
            return True
        top = _read(info / "top_level.txt") or ""
        return want in {_dist_name(line.strip()) for line in top.splitlines() if line.strip()}

    for info in filter(owns, infos):
        metas = [info / m for m in ("METADATA", "PKG-INFO") if (info / m).is_file()]
        for meta in metas:  # a declared SPDX expression is the authors' own statement
            expr = HeaderParser().parsestr(_read(meta) or "").get("License-Expression")
            if expr and (found := licence_from_name(str(expr))):
                return found
        found = _licence_files(info) or (_licence_files(info / "licenses") if (info / "licenses").is_dir() else None)
        if found:
            return found
        for meta in metas:
            if found := _pkg_info(meta):
                return found
    return None


def detect_licence(root: Path) -> str:
    """The SPDX licence of the tree at ``root``, or ``"unknown"`` (the order is in the module
    docstring). Reads files only; never runs ``setup.py``. Raises InputError when ``root``
    is not a directory."""
    p = _check_dir(root, "detect_licence").resolve()
    for directory in dict.fromkeys((p, p.parent, p.parent.parent)):  # "/" is its own parent
        for step in (_licence_files, _metadata, _installed_beside):
            found = step(directory)
            if found:
                return found
    return "unknown"


# --------------------------------------------------------------------------- provenance record

PROVENANCE_KEYS = ("source", "commit|sha256", "path", "lines", "licence", "generator",
                   "tests_kept", "tests_dropped", "mutation_score")
"""The keys of :func:`provenance_record`'s mapping, in order (one of ``commit``/``sha256``)."""


def generator_label(model_id: str | None = None, prompt: str | None = None) -> str:
    """``"oracle"`` when no model wrote the task, else ``"<model id> prompt:<first 12 hex of
    the prompt's SHA-256>"``. A model id needs its prompt, and may not contain spaces."""
    if model_id is None:
        if prompt is not None:
            raise InputError("generator: a prompt was given without the model id that used it")
        return "oracle"
    if not isinstance(model_id, str) or not model_id.strip() or any(c.isspace() for c in model_id):
        raise InputError(f"generator: model id must be a non-empty name without spaces, got {model_id!r}")
    if not isinstance(prompt, str) or not prompt:
        raise InputError(f"generator: model {model_id!r} needs the prompt it was given")
    return f"{model_id} prompt:{hashlib.sha256(prompt.encode('utf-8')).hexdigest()[:12]}"


def _count(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"provenance: {name} must be a count (an integer >= 0), got {value!r}")
    return str(value)


def provenance_record(
    *,
    source: str | os.PathLike[str],
    identity: SourceIdentity,
    path: str,
    lines: tuple[int, int],
    licence: str,
    tests_kept: int,
    tests_dropped: int,
    mutation_score: float,
    model_id: str | None = None,
    prompt: str | None = None,
) -> dict[str, str]:
    """The ``provenance`` of one generated task, with exactly these keys, all strings:

    ``source``: the root as given, or a display name; ``commit`` (when ``identity.kind`` is
    ``commit``; ``"<sha>-dirty"`` when the tree had uncommitted changes, so the task never
    claims a commit it was not generated from) or ``sha256``; ``path``: the file, relative
    to the root with ``/`` separators; ``lines``: ``"start-end"`` (1-based, inclusive);
    ``licence``; ``generator``: :func:`generator_label` of ``model_id`` and ``prompt``;
    ``tests_kept`` / ``tests_dropped``: counts; ``mutation_score``: between 0 and 1, with 3
    decimals (``"0.875"``).

    Raises InputError naming the first argument that is wrong.
    """
    if not isinstance(source, str | os.PathLike) or not str(source).strip():
        raise InputError(f"provenance: source must be a non-empty path or name, got {source!r}")
    if not isinstance(identity, SourceIdentity) or identity.kind not in ("commit", "sha256"):
        raise InputError(f"provenance: identity must be a SourceIdentity of kind commit or sha256, got {identity!r}")
    if not re.fullmatch(r"[0-9a-f]{40,64}", identity.value or ""):
        raise InputError(f"provenance: identity value must be a hex digest, got {identity.value!r}")
    if identity.kind == "sha256" and len(identity.value) != 64:
        raise InputError(f"provenance: a sha256 identity must be 64 hex digits, got {identity.value!r}")
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or re.match(r"^[A-Za-z]:", path):
        raise InputError(f"provenance: path must be relative to the source root with / separators, got {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise InputError(f"provenance: path must be a plain relative path (no '..', '.' or empty parts), got {path!r}")
    if (not isinstance(lines, tuple) or len(lines) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in lines)
            or not 1 <= lines[0] <= lines[1]):
        raise InputError(f"provenance: lines must be (start, end) with 1 <= start <= end, got {lines!r}")
    if not isinstance(licence, str) or not licence.strip():
        raise InputError(f"provenance: licence must be a non-empty string (use 'unknown'), got {licence!r}")
    if (isinstance(mutation_score, bool) or not isinstance(mutation_score, int | float)
            or not math.isfinite(mutation_score) or not 0 <= mutation_score <= 1):
        raise InputError(f"provenance: mutation_score must be a number between 0 and 1, got {mutation_score!r}")
    value = identity.value + ("-dirty" if identity.kind == "commit" and identity.dirty else "")
    return {
        "source": str(source),
        identity.kind: value,
        "path": path,
        "lines": f"{lines[0]}-{lines[1]}",
        "licence": licence.strip(),
        "generator": generator_label(model_id, prompt),
        "tests_kept": _count("tests_kept", tests_kept),
        "tests_dropped": _count("tests_dropped", tests_dropped),
        "mutation_score": f"{float(mutation_score):.3f}",
    }
