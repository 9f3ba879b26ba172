"""``codeeval-rl``: parse arguments, build settings, call one library function.

Each command group lives in its own module of this package and registers itself on
:data:`app` through ``register(app)``; heavy imports stay inside the command bodies so
``codeeval-rl --help`` is instant. Exit codes: 0 when the command did its job (whatever
the evaluated code did), 1 for our own faults, 2 for bad arguments or input. Every
:class:`~codeeval_rl.errors.CodeEvalError` reaches the user as one line on stderr (its
message, printed literally), never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from codeeval_rl.errors import CodeEvalError, ConfigError, InputError, MissingDependency

__all__ = ["app", "main"]

app = typer.Typer(
    name="codeeval-rl",
    help="Reinforcement learning of code LLMs from execution feedback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Reinforcement learning of code LLMs from execution feedback."""


# Command modules, in help order. Each defines register(app).
COMMAND_MODULES = ("run", "datasets", "evaluate", "train", "preference", "monitor", "serve")

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"codeeval_rl.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"codeeval_rl.cli.{_name}":
            raise
        continue
    _mod.register(app)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a wrapped library error may span several), escaped
    so rich prints brackets in it (paths, lists) literally instead of reading them as markup."""
    from rich.markup import escape

    return escape(" ".join(part.strip() for part in str(exc).splitlines() if part.strip()))


def main() -> None:
    """Console entry point: maps our exceptions to messages and exit codes."""
    from rich.console import Console

    err = Console(stderr=True, soft_wrap=True)  # one line per message: paths stay whole in logs
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code instead of raising it
        if isinstance(code, int) and code:
            sys.exit(code)
    except (ConfigError, InputError) as exc:
        err.print(f"[bold red]error:[/] {_one_line(exc)}", highlight=False)
        sys.exit(2)
    except MissingDependency as exc:
        err.print(f"[bold red]missing dependency:[/] {_one_line(exc)}", highlight=False)
        sys.exit(1)
    except CodeEvalError as exc:
        err.print(f"[bold red]error:[/] {_one_line(exc)}", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        # click's usage errors (vendored by typer) carry their own message and exit code
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
