"""The quality analyser process: bandit and radon loaded once, one source analysed per request.

Run as ``python -m codeeval_rl.evaluation._quality_server DIR`` (DIR: a private directory
for the one scratch file bandit reads; the host owns and removes it). Reads one JSON object a line on
stdin, ``{"id": N, "code": "...", "bandit": true}``, and answers each with one line on stdout,
``{"id": N, "bandit": [[severity, "B602 line 9: ..."], ...] | "why it failed", "cc": [3, 1] | null}``
(``cc``: radon's cyclomatic complexity of each function and method; null when radon cannot
parse the code). Exits at end of input.

Why a process of its own: the evaluator sends each passing submission here as soon as its
tests finish, so the analysis overlaps the sandbox batch instead of following it, without
holding the host's GIL (the host's threads drive the sandbox) and without paying bandit's
start-up (about 0.2 s) per batch. The source is only parsed, never imported or run. Findings
are the same as ``bandit -s B101`` on the file (B101, assert_used, is skipped: tests assert).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any


class _Bandit:
    """bandit's manager, built once; each call scans one file with a fresh result list."""

    def __init__(self, folder: str) -> None:
        from bandit.core import config, manager, metrics

        self._metrics = metrics
        self._manager = manager.BanditManager(config.BanditConfig(), "file", quiet=True,
                                              profile={"include": [], "exclude": ["B101"]})
        self._path = os.path.join(folder, "s.py")

    def scan(self, code: str) -> list[list[str]]:
        m = self._manager
        with open(self._path, "w", encoding="utf-8") as f:
            f.write(code)
        m.results, m.skipped, m.scores, m.files_list = [], [], [], []
        m.metrics = self._metrics.Metrics()
        m.discover_files([self._path])
        m.run_tests()
        return [[i.severity, f"{i.test_id} line {i.lineno}: {i.text}"] for i in m.get_issue_list()]


def radon_complexity(code: str) -> list[int] | None:
    """radon's cyclomatic complexity of each function and method; None when it cannot parse."""
    try:
        from radon.complexity import cc_visit

        blocks = cc_visit(code)
    except Exception:  # noqa: BLE001 - radon parses; unparsable code has no complexity
        return None
    return [b.complexity for b in blocks if getattr(b, "letter", "F") in ("F", "M")]


def main() -> int:
    bandit: _Bandit | None = None
    bandit_error = ""
    try:
        bandit = _Bandit(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="codeeval-quality-"))
    except Exception as exc:  # noqa: BLE001 - reported per request; the host notes it
        bandit_error = f"bandit unavailable: {exc}"
    out = sys.stdout
    for line in sys.stdin:
        try:
            req = json.loads(line)
            ident, code = req["id"], req["code"]
        except (ValueError, KeyError, TypeError):
            continue
        reply: dict[str, Any] = {"id": ident, "cc": radon_complexity(code)}
        if req.get("bandit", True):
            if bandit is None:
                reply["bandit"] = bandit_error
            else:
                try:
                    reply["bandit"] = bandit.scan(code)
                except Exception as exc:  # noqa: BLE001 - one bad source must not end the server
                    reply["bandit"] = f"bandit failed: {exc}"
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
