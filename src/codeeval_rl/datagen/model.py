"""Values shared by the stages that turn a source tree into tasks (``codeeval_rl.datagen``).

Every stage takes and returns these frozen values; nothing here runs code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Frozen", "Param", "SourceFunction", "StageCount"]


@dataclass(frozen=True)
class Param:
    """One parameter of a function, as written in the source (text, never evaluated).
    ``kind``: ``positional`` (may be passed by position), ``keyword`` (keyword-only),
    ``varargs`` (``*args``/``...rest``) or ``varkw`` (``**kwargs``)."""

    name: str
    annotation: str = ""
    default: str = ""
    kind: Literal["positional", "keyword", "varargs", "varkw"] = "positional"


@dataclass(frozen=True)
class SourceFunction:
    """A function found in the tree that can be tested in isolation.

    ``path`` is relative to the source root (POSIX separators); ``start_line``/``end_line``
    are 1-based and inclusive (decorators included). ``source`` is the function's own text,
    dedented; ``context_code`` is what must run before it (the imports, constants and helper
    definitions of its module it reaches, in source order), so ``context_code + source`` is a
    self-contained program defining the function. ``helpers`` names the helper definitions in
    ``context_code``."""

    language: str
    path: str
    name: str
    start_line: int
    end_line: int
    source: str
    context_code: str = ""
    docstring: str = ""
    signature: str = ""
    params: tuple[Param, ...] = ()
    helpers: tuple[str, ...] = ()
    module_doc: str = ""


@dataclass(frozen=True)
class Frozen:
    """One input run through the original (the oracle), with its outcome frozen.

    ``args`` is the call's argument list as source text (``"3, 'a', sep='-'"``).
    ``outcome``: ``return`` (``value`` is a source expression equal to the result, that
    round-trips), ``raise`` (``value`` is the exception's type name) or ``unusable`` (a
    result that cannot be written as a test; ``value`` says why). ``kind`` tells how the
    result compares: ``exact``, ``float`` (within a tolerance) or ``iterable`` (the result
    is consumed with ``list()``). ``arcs`` are the coverage arcs (Python: line pairs; other
    languages: block ids) the call executed in the original; ``source`` names the input maker
    (``doctest``, ``callsite``, ``hypothesis``, ``boundary``, ``model``)."""

    args: str
    outcome: Literal["return", "raise", "unusable"]
    value: str
    kind: Literal["exact", "float", "iterable"] = "exact"
    arcs: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    source: str = ""


@dataclass(frozen=True)
class StageCount:
    """What one stage kept and dropped, with the reasons for the drops (reason -> count)."""

    stage: str
    kept: int = 0
    dropped: int = 0
    reasons: tuple[tuple[str, int], ...] = ()
