"""JSON Lines plumbing shared by the dataset readers: gzip by extension, line numbers kept.

Readers never stop at the first bad line: :func:`iter_jsonl` yields every line's record or
its parse error so callers can collect all problems of a file into one
:class:`~codeeval_rl.errors.DatasetError`.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from codeeval_rl.errors import DatasetError

__all__ = ["MAX_ERRORS_SHOWN", "Line", "iter_jsonl", "iter_string_records", "open_text", "raise_collected",
           "write_jsonl"]

MAX_ERRORS_SHOWN = 50
"""A DatasetError lists at most this many problems (and says how many more there were)."""


@dataclass(frozen=True)
class Line:
    """One non-blank line: its 1-based number, and either the parsed value or the error."""

    number: int
    value: Any = None
    error: str = ""


def open_text(path: str | os.PathLike[str], mode: str = "r") -> IO[str]:
    """Open a text file for reading (``"r"``) or writing (``"w"``), gzip when it ends in ``.gz``."""
    p = Path(path).expanduser()
    if p.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(p, mode + "b"), encoding="utf-8", newline="\n")  # type: ignore[arg-type,type-var]
    return open(p, mode, encoding="utf-8", newline="\n")


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[Line]:
    """Yield each non-blank line of a (possibly gzipped) JSONL file, parsed or with its error.

    Raises :class:`DatasetError` when the file cannot be opened, is not gzip when named
    ``.gz``, or is not UTF-8.
    """
    p = Path(path).expanduser()
    try:
        with open_text(p) as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    yield Line(number, json.loads(raw))
                except json.JSONDecodeError as exc:
                    yield Line(number, error=f"invalid JSON: {exc.msg} (column {exc.colno})")
    except FileNotFoundError:
        raise DatasetError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{p}: is a directory, expected a .jsonl file") from None
    except OSError as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{p}: cannot read: {exc}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{p}: not UTF-8 text (byte {exc.start} of a line)") from None
    except EOFError:
        raise DatasetError(f"{p}: truncated gzip file") from None


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Write one JSON object per line (gzip when the name ends in ``.gz``); return the count.

    The file is written to a temporary name and renamed, so a failure never leaves half a file.
    """
    p = Path(path).expanduser()
    tmp = p.with_name(p.name + ".tmp" + (".gz" if p.name.endswith(".gz") else ""))
    n = 0
    try:
        with open_text(tmp, "w") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def raise_collected(path: str | os.PathLike[str], errors: list[str]) -> None:
    """Raise one :class:`DatasetError` listing ``errors`` (``"line N: field: why"``), if any."""
    if not errors:
        return
    shown = errors[:MAX_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    head = f"{path}: {len(errors)} error{'s' if len(errors) != 1 else ''}"
    body = "\n".join(f"  {e}" for e in shown)
    tail = f"\n  ... and {more} more" if more else ""
    err = DatasetError(f"{head}\n{body}{tail}")
    err.errors = list(errors)  # type: ignore[attr-defined]
    raise err


def iter_string_records(path: str | os.PathLike[str], fields: Sequence[str],
                        errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` for each line of ``path`` that is a JSON object whose ``fields``
    are all strings; every other line adds one message per problem to ``errors`` (naming the
    line and the field) and is skipped."""
    for line in iter_jsonl(path):
        if line.error:
            errors.append(f"line {line.number}: {line.error}")
            continue
        rec = line.value
        if not isinstance(rec, dict):
            errors.append(f"line {line.number}: expected a JSON object, got {type(rec).__name__}")
            continue
        bad = [f for f in fields if not isinstance(rec.get(f), str)]
        for f in bad:
            why = "missing" if f not in rec else f"must be a string, got {type(rec[f]).__name__}"
            errors.append(f"line {line.number}: {f}: {why}")
        if not bad:
            yield line.number, rec
