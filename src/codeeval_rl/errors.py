"""One exception tree for CodeEval RL's own faults.

What evaluated code does is never an exception: it is a :class:`~codeeval_rl.types.Status`.
These exceptions mean *we* (or the caller's input) failed::

    CodeEvalError
    ├── ConfigError            a setting has a wrong value (names key and value)
    ├── InputError             bad input data: unknown language, corrupt file, bad task
    │   └── DatasetError       a dataset file or line is malformed (names file, line, field)
    ├── SandboxError           the sandbox itself failed
    │   └── SandboxUnavailable the host cannot provide the isolation we promise
    ├── MissingDependency      an optional extra is not installed (carries the install hint)
    ├── TrainingError          the trainer could not continue (bad checkpoint, NaN loss...)
    └── StoreError             the run store is missing, corrupt or busy
"""

from __future__ import annotations

__all__ = [
    "CodeEvalError",
    "ConfigError",
    "DatasetError",
    "InputError",
    "MissingDependency",
    "SandboxError",
    "SandboxUnavailable",
    "StoreError",
    "TrainingError",
    "require",
]


class CodeEvalError(Exception):
    """Base of every error CodeEval RL raises on purpose."""


class ConfigError(CodeEvalError, ValueError):
    """A configuration value is wrong; the message names the key and the value."""


class InputError(CodeEvalError, ValueError):
    """Input data is unusable; the message says which and why."""


class DatasetError(InputError):
    """A dataset file is malformed; the message names file, line and field."""


class SandboxError(CodeEvalError, RuntimeError):
    """The sandbox failed (not the program in it)."""


class SandboxUnavailable(SandboxError):
    """This host cannot provide the promised isolation; the message says what is missing."""


class MissingDependency(CodeEvalError, ImportError):
    """An optional dependency is missing; the message carries the pip command."""


class TrainingError(CodeEvalError, RuntimeError):
    """Training could not go on."""


class StoreError(CodeEvalError, RuntimeError):
    """The run store is missing, corrupt or busy."""


def require(module: str, extra: str):  # type: ignore[no-untyped-def]
    """Import ``module`` or raise :class:`MissingDependency` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"{module!r} is needed for this; install it with: pip install 'codeeval-rl[{extra}]'"
        ) from exc
