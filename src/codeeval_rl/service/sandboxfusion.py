"""SandboxFusion's ``/run_code`` request and response, mapped to our Program, Limits and
ExecutionResult: pure functions, so the mapping is tested without a server.

Request (SandboxFusion's ``RunCodeRequest``): ``code``, ``language``, ``compile_timeout``,
``run_timeout``, ``memory_limit_MB``, ``stdin``, ``files`` (path -> base64 content),
``fetch_files``. Response (``RunCodeResponse``): ``status`` (``Success`` when every command
finished with exit code 0, ``Failed`` when one did not, ``SandboxError`` for our own fault or
unusable input), ``message``, ``compile_result`` and ``run_result`` (``CommandRunResult``:
``status`` ``Finished``/``Error``/``TimeLimitExceeded``, ``execution_time``, ``return_code``,
``stdout``, ``stderr``), ``executor_pod_name`` and ``files`` (path -> base64 content).

How each field maps:

* ``language``: SandboxFusion's ``python``, ``cpp``, ``nodejs``, ``java``, ``rust``, and our
  own names and aliases (``c``, ``javascript``, ``py``...). Any other name (``go``, ``pytest``,
  ``bash``...) is refused with SandboxFusion's error shape naming what is supported.
* ``run_timeout`` -> the wall-clock and CPU limit of the run. ``compile_timeout`` -> the
  wall-clock and CPU limit of compiling (``Limits.compile_time_s``), capped at the server's
  ``sandbox.compile_wall_time_s``. Compiles are cached and shared: a program already compiled
  (by any caller) is not compiled again and so never times out; a compile that times out is
  not cached, so a short timeout of one caller never becomes another caller's verdict.
* ``memory_limit_MB``: ``-1`` (SandboxFusion's default, unlimited there), 0 or absent -> the
  server's default; any value is capped at the server's maximum, as ``run_timeout`` is.
* ``files``: base64 content, decoded; they must be UTF-8 text at plain relative paths (our
  sandbox writes text files into the run's working directory). A value of ``null`` is skipped.
* ``fetch_files``: paths relative to the working directory (``Program.fetch_files``), read
  after the run; the response's ``files`` maps each one found to its base64 content. One that
  is missing, is not a regular file (a directory, a symbolic link: none is followed) or would
  pass the output limit (``output_bytes``, all files together) is absent, as SandboxFusion
  leaves out a file it cannot read; a path leaving the working directory is refused (400).
* Statuses: ``ok`` and ``runtime_error`` -> run ``Finished`` with the exit code (a signal ``n``
  as ``-n``); ``memory_limit`` and ``output_limit`` -> ``Finished`` with the code the kill left
  (the reason in ``message``); ``timeout`` -> ``TimeLimitExceeded``; ``compile_error`` ->
  ``compile_result`` ``Finished`` with return code 1 and the compiler's messages in ``stderr``
  (``TimeLimitExceeded`` when compilation timed out) and no ``run_result``; ``sandbox_error``
  -> ``SandboxError``. Compiled languages always carry a ``compile_result``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from codeeval_rl.errors import InputError
from codeeval_rl.sandbox.languages import ALIASES, LANGUAGES, Language
from codeeval_rl.types import ExecutionResult, Limits, Program, Status

__all__ = ["SF_LANGUAGES", "error_response", "resolve_language", "to_program", "to_response"]

SF_LANGUAGES: dict[str, str] = {"python": "python", "cpp": "cpp", "nodejs": "javascript", "java": "java",
                                "rust": "rust"}
"""SandboxFusion's language names that we run -> our language names."""


def resolve_language(name: str) -> Language:
    """Our language row for a SandboxFusion (or our own) language name; :class:`InputError`
    naming the supported ones otherwise."""
    key = name.strip().lower() if isinstance(name, str) else ""
    canonical = SF_LANGUAGES.get(key) or ALIASES.get(key) or key
    lang = LANGUAGES.get(canonical)
    if lang is None:
        raise InputError(f"language {name!r} is not supported by this server; supported: "
                         f"{', '.join(SF_LANGUAGES)} (SandboxFusion names), and "
                         f"{', '.join(sorted(LANGUAGES))} with their aliases")
    return lang


def _decode_files(files: Mapping[str, str | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, content in files.items():
        if content is None:
            continue
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"files[{name!r}] is not valid base64") from None
        try:
            out[name] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"files[{name!r}] is not UTF-8 text; this server writes text files only") from None
    return out


def to_program(request: Mapping[str, Any], default_limits: Limits, max_limits: Limits) -> tuple[Program, Limits]:
    """The program and limits of a validated request body (a mapping with SandboxFusion's
    field names). Raises :class:`InputError` naming the field for anything unusable."""
    lang = resolve_language(request["language"])
    fetch = request.get("fetch_files") or ()
    if isinstance(fetch, str) or not all(isinstance(f, str) for f in fetch):
        raise InputError("fetch_files must be a list of paths")
    run_timeout = float(request.get("run_timeout", 10))
    memory = request.get("memory_limit_MB")
    memory_mb = default_limits.memory_mb if memory is None or memory <= 0 else int(memory)
    wall = min(run_timeout, max_limits.wall_time_s)
    compile_s: float | None = None  # the sandbox's own compile limit
    if max_limits.compile_time_s is not None:
        compile_s = min(float(request.get("compile_timeout", 10)), max_limits.compile_time_s)
    limits = Limits(wall_time_s=wall, cpu_time_s=None, memory_mb=min(memory_mb, max_limits.memory_mb),
                    max_processes=default_limits.max_processes, output_bytes=default_limits.output_bytes,
                    file_size_bytes=default_limits.file_size_bytes, compile_time_s=compile_s)
    program = Program(language=lang.name, source=request["code"], stdin=request.get("stdin") or "",
                      files=_decode_files(request.get("files") or {}), fetch_files=tuple(fetch))
    return program, limits


def _encode_files(result: ExecutionResult) -> dict[str, str]:
    return {name: base64.b64encode(data).decode("ascii") for name, data in result.files.items()}


def _command(status: str, time_s: float, code: int | None, stdout: str, stderr: str) -> dict[str, Any]:
    return {"status": status, "execution_time": time_s, "return_code": code, "stdout": stdout, "stderr": stderr}


def error_response(message: str) -> dict[str, Any]:
    """SandboxFusion's shape for a request it could not run."""
    return {"status": "SandboxError", "message": message, "compile_result": None, "run_result": None,
            "executor_pod_name": None, "files": {}}


def to_response(result: ExecutionResult, language: str) -> dict[str, Any]:
    """SandboxFusion's response for one of our results (see the module docstring)."""
    if result.status is Status.SANDBOX_ERROR:
        return error_response(result.reason or "sandbox error")
    compiled = LANGUAGES[language].compiled
    compile_result = None
    if result.status is Status.COMPILE_ERROR:
        timed_out = result.compile_output.rstrip().endswith("compilation timed out")
        compile_result = _command("TimeLimitExceeded" if timed_out else "Finished", result.compile_time_s,
                                  None if timed_out else 1, "", result.compile_output)
        return {"status": "Failed", "message": result.reason, "compile_result": compile_result,
                "run_result": None, "executor_pod_name": None, "files": {}}
    if compiled:
        compile_result = _command("Finished", result.compile_time_s, 0, "", result.compile_output)
    if result.status is Status.TIMEOUT:
        run = _command("TimeLimitExceeded", result.wall_time_s, None, result.stdout, result.stderr)
    else:
        run = _command("Finished", result.wall_time_s, result.exit_code, result.stdout, result.stderr)
    ok = result.status is Status.OK and result.exit_code == 0
    return {"status": "Success" if ok else "Failed", "message": "" if ok else result.reason,
            "compile_result": compile_result, "run_result": run, "executor_pod_name": None,
            "files": _encode_files(result)}

