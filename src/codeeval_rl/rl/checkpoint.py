"""Checkpoints that survive ``kill -9``: written to a temporary directory, flushed, then renamed.

A checkpoint is a directory ``step-000042`` holding ``model.pt`` (the trainable state dict),
``optimizer.pt``, and ``state.pt`` (step, data position, RNG states, anything the trainer adds).
A rename is atomic on POSIX, so a checkpoint directory either exists complete or not at all;
a kill during a write leaves only a ``.tmp-*`` directory, which the next save removes.
:func:`latest_checkpoint` picks the highest complete step.
"""

from __future__ import annotations

import os
import pickle  # nosec B403 - only to catch its error type
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from codeeval_rl.errors import TrainingError

__all__ = ["latest_checkpoint", "load_checkpoint", "rng_state", "save_checkpoint", "set_rng_state"]

_FILES = ("model.pt", "optimizer.pt", "state.pt")


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states (CUDA too when present)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(directory: str | os.PathLike[str], step: int, model_state: dict[str, Any],
                    optimizer_state: dict[str, Any], state: dict[str, Any], keep: int = 2) -> Path:
    """Write checkpoint ``step`` under ``directory`` atomically; keep the newest ``keep``."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    final = root / f"step-{step:06d}"
    tmp = root / f".tmp-step-{step:06d}-{os.getpid()}"
    tmp.mkdir()
    for name, obj in zip(_FILES, (model_state, optimizer_state, {**state, "step": step})):
        with open(tmp / name, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
    _fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync_dir(root)
    for old in sorted(root.glob("step-*"))[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(directory: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint under ``directory``, or ``None``."""
    root = Path(directory)
    if not root.is_dir():
        return None
    done = [p for p in root.glob("step-*") if p.is_dir() and all((p / f).is_file() for f in _FILES)]
    return max(done, key=lambda p: p.name) if done else None


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(model_state, optimizer_state, state)`` of the checkpoint at ``path``."""
    p = Path(path)
    try:
        return tuple(torch.load(p / name, map_location="cpu", weights_only=False) for name in _FILES)  # type: ignore[return-value]
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise TrainingError(f"checkpoint {p} is unreadable: {exc}") from None
