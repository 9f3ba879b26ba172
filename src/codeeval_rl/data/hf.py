"""Hugging Face Hub datasets, used only when asked for (``hf:<name>``).

Needs the ``hf`` extra (``datasets``). The rows are converted with the same converters as
local files (the format is detected from the column names, or given as ``format=``), so a
Hub copy of HumanEval, MBPP, APPS or CodeContests gives the same Tasks as the local file.
``datasets`` downloads on first use and caches under ``~/.cache/huggingface``; offline,
only cached datasets load, and anything else raises :class:`DatasetError` saying so.
"""

from __future__ import annotations

from typing import Any

from codeeval_rl.data._records import convert_all
from codeeval_rl.data.formats import detect_format, get_format
from codeeval_rl.errors import DatasetError, InputError, require
from codeeval_rl.types import Task

__all__ = ["load_hf"]


def load_hf(name: str, *, split: str = "test", config: str | None = None, format: str | None = None,
            limit: int | None = None, **load_kwargs: Any) -> list[Task]:
    """Load the Hub dataset ``name`` (``split``, optional ``config``) as Tasks.

    ``format`` forces one of :data:`~codeeval_rl.data.formats.FORMATS`; otherwise it is
    detected from the first row. Raises :class:`MissingDependency` without ``datasets``,
    :class:`DatasetError` when the dataset cannot be fetched (offline, unknown name, bad
    split) or its rows are malformed (every bad row and field named).
    """
    name = name.removeprefix("hf:")
    if not name:
        raise InputError("empty Hugging Face dataset name (use hf:<owner>/<name>)")
    datasets = require("datasets", "hf")
    try:
        ds = datasets.load_dataset(name, config, split=split, **load_kwargs)
    except Exception as exc:  # noqa: BLE001 - datasets raises many unrelated types here
        text = f"{type(exc).__name__}: {exc}"
        offline = any(w in text.lower() for w in ("offline", "connection", "resolve", "network", "timed out",
                                                  "couldn't reach", "max retries"))
        hint = (" This machine seems to be offline: load it once with network access (it is then cached "
                "under ~/.cache/huggingface) or point at a local file instead.") if offline else ""
        raise DatasetError(f"cannot load Hugging Face dataset {name!r} (split {split!r}): {text}.{hint}") from None
    rows = ds if limit is None else ds.select(range(min(max(limit, 0), len(ds))))
    first = rows[0] if len(rows) else None
    if first is None:
        return []
    fmt = get_format(format) if format else get_format(detect_format(first))
    return convert_all(f"hf:{name}[{split}]", ((f"row {i}", dict(r)) for i, r in enumerate(rows)), fmt.convert)
