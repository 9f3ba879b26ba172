"""Level 4, quality: static checks on the host, in [0, 1]. The tools only read the code (they
never import or run it); each runs once per batch over a temporary directory of files, with
a timeout. A tool that fails or times out is left out of the mean (and named in ``notes``).

Python::

    style      = 1 - min(1, 2 * ruff_issues / max(lines, 10))     ruff: E, W (PEP 8), F, B (bugs); when enable_pep8
    complexity = mean over functions of min(1, max_complexity / cc)  radon cyclomatic complexity
    security   = 1 / (1 + sum(severity))   bandit, LOW 0.25, MEDIUM 0.5, HIGH 1 (B101 assert_used skipped);
                                           when security_checks

Other languages::

    complexity = as above, with lizard's cyclomatic complexity
    warnings   = 1 / (1 + compiler warnings in the build output)

``quality`` is the mean of the sub-scores computed; code with no function counts complexity 1.

bandit and radon can run ahead of the batch in an analyser process of their own
(:class:`QualityStream`, used by the evaluator as each passing submission finishes); what it
found is handed to :func:`quality_reports` as :class:`Analysis` objects, and the scores are
the same as when the batch computes them.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from codeeval_rl.config import CodeQualitySettings
from codeeval_rl.evaluation._quality_server import radon_complexity
from codeeval_rl.sandbox.languages import ALIASES, LANGUAGES

__all__ = ["BANDIT_SEVERITY", "RUFF_RULES", "Analysis", "QualityReport", "QualityStream", "quality_reports",
           "shared_stream"]

RUFF_RULES = "E,W,F,B"
BANDIT_SEVERITY = {"LOW": 0.25, "MEDIUM": 0.5, "HIGH": 1.0}
TOOL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class QualityReport:
    """The quality score of one source and the sub-scores and findings behind it."""

    score: float
    parts: dict[str, float] = field(default_factory=dict)
    findings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _lines(code: str) -> int:
    return sum(1 for ln in code.splitlines() if ln.strip())


def _complexity_score(values: Sequence[int], max_complexity: int) -> float:
    if not values:
        return 1.0
    return sum(min(1.0, max_complexity / max(1, v)) for v in values) / len(values)


def _ruff(paths: dict[str, int], folder: str) -> dict[int, list[str]] | str:
    exe = shutil.which("ruff") or os.path.join(os.path.dirname(sys.executable), "ruff")
    try:
        proc = subprocess.run(
            [exe, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
             "--select", RUFF_RULES, folder],
            capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
        items = json.loads(proc.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return f"ruff unavailable: {exc}"
    out: dict[int, list[str]] = {}
    for it in items:
        idx = paths.get(os.path.realpath(it.get("filename", "")))
        if idx is not None:
            row = (it.get("location") or {}).get("row", 0)
            out.setdefault(idx, []).append(f"{it.get('code')} line {row}: {it.get('message')}")
    return out


def _bandit(paths: dict[str, int]) -> dict[int, list[tuple[str, str]]] | str:
    """bandit over the files ``paths`` names; results are matched back by real path."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bandit", "-q", "-f", "json", "-s", "B101", *sorted(paths)],
            capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
        data = json.loads(proc.stdout or "{}")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return f"bandit unavailable: {exc}"
    out: dict[int, list[tuple[str, str]]] = {}
    for it in data.get("results", []):
        idx = paths.get(os.path.realpath(os.path.join(os.getcwd(), it.get("filename", ""))))
        if idx is None:
            idx = paths.get(os.path.realpath(it.get("filename", "")))
        if idx is not None:
            out.setdefault(idx, []).append(
                (it.get("issue_severity", "LOW"),
                 f"{it.get('test_id')} line {it.get('line_number')}: {it.get('issue_text')}"))
    return out


@dataclass(frozen=True)
class Analysis:
    """bandit's and radon's findings on one Python source, computed ahead of the batch.

    ``bandit``: (severity, text) per finding, or why bandit could not run (a string).
    ``complexity``: radon's cyclomatic complexity per function, or None when it cannot parse.
    """

    bandit: tuple[tuple[str, str], ...] | str
    complexity: tuple[int, ...] | None


class QualityStream:
    """Analyses Python sources with bandit and radon in a process of its own, as they arrive.

    :meth:`submit` never blocks (a writer thread feeds the process); :meth:`collect` waits for
    the named tickets and returns the analyses that arrived. The process starts on the first
    :meth:`submit` (or :meth:`start`) and lives until :meth:`close`, so bandit's start-up is paid
    once per stream, not once per batch. If the process cannot start or dies, ``collect`` returns
    what it has and the caller computes the rest itself (``quality_reports`` does so for every
    source it is not given an analysis for). Thread-safe. Most callers want the process-wide
    one, :func:`shared_stream`, so that many evaluators cost one analyser process.
    """

    def __init__(self, timeout_s: float = TOOL_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self.pid = os.getpid()
        self._tickets = itertools.count()
        self._done: dict[int, Analysis] = {}
        self._cond = threading.Condition()
        self._outbox: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._proc: subprocess.Popen[str] | None = None
        self._dead = False
        self._folder = ""
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the analyser process now (its imports then overlap whatever the caller does)."""
        with self._start_lock:
            if self._proc is not None or self._dead:
                return
            try:
                self._folder = tempfile.mkdtemp(prefix="codeeval-quality-")
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "codeeval_rl.evaluation._quality_server", self._folder],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    text=True, encoding="utf-8", bufsize=1)
            except OSError:
                self._mark_dead()
                return
            threading.Thread(target=self._write, args=(self._proc,), daemon=True,
                             name="quality-writer").start()
            threading.Thread(target=self._read, args=(self._proc,), daemon=True,
                             name="quality-reader").start()

    def submit(self, code: str, security_checks: bool = True) -> int:
        """Queue ``code`` for analysis (bandit only with ``security_checks``); returns its
        ticket for :meth:`collect`."""
        self.start()
        ticket = next(self._tickets)
        self._outbox.put(json.dumps({"id": ticket, "code": code, "bandit": security_checks}) + "\n")
        return ticket

    @property
    def alive(self) -> bool:
        """False once the process failed to start, died or was closed."""
        return not self._dead

    def collect(self, tickets: Iterable[int]) -> dict[int, Analysis]:
        """Wait (at most ``timeout_s``) for ``tickets``; the analyses that arrived, by ticket.
        Each ticket is handed out once."""
        wanted = set(tickets)
        with self._cond:
            self._cond.wait_for(lambda: self._dead or wanted <= self._done.keys(), timeout=self.timeout_s)
            return {t: self._done.pop(t) for t in wanted if t in self._done}

    def close(self) -> None:
        """Stop the analyser process at once (pending tickets are dropped; it holds nothing
        that needs a clean exit) and remove its scratch directory."""
        proc, self._proc = self._proc, None
        self._outbox.put(None)
        if proc is not None:
            proc.kill()
            proc.wait()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._mark_dead()

    def _mark_dead(self) -> None:
        with self._cond:
            self._dead = True
            self._cond.notify_all()

    def _write(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdin is not None
        try:
            while (line := self._outbox.get()) is not None:
                proc.stdin.write(line)
                proc.stdin.flush()
        except (OSError, ValueError):
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                reply = json.loads(line)
                bandit = reply.get("bandit", ())
                cc = reply.get("cc")
                analysis = Analysis(
                    bandit=bandit if isinstance(bandit, str) else tuple((str(a), str(b)) for a, b in bandit),
                    complexity=None if cc is None else tuple(int(v) for v in cc))
            except (ValueError, TypeError, AttributeError):
                continue
            with self._cond:
                self._done[int(reply["id"])] = analysis
                self._cond.notify_all()
        self._mark_dead()


_shared: QualityStream | None = None
_shared_lock = threading.Lock()


def shared_stream() -> QualityStream:
    """The process-wide analyser stream, started on first use and stopped at exit. A new one
    replaces it after a fork (the child has none of the parent's threads) or once it died."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.pid != os.getpid() or not _shared.alive:
            if _shared is None:
                atexit.register(_close_shared)
            _shared = QualityStream()
        return _shared


def _close_shared() -> None:
    stream = _shared
    if stream is not None and stream.pid == os.getpid():
        stream.close()


def _extension(language: str) -> str:
    """The language row's canonical source suffix (lizard picks its parser by it)."""
    lang = LANGUAGES.get(ALIASES.get(language, language))
    return lang.extensions[0] if lang is not None and lang.extensions else ".txt"


def _lizard(language: str, code: str) -> list[int] | None:
    try:
        import lizard

        info = lizard.analyze_file.analyze_source_code(f"main{_extension(language)}", code)
    except Exception:  # noqa: BLE001
        return None
    return [f.cyclomatic_complexity for f in info.function_list]


def quality_reports(items: Sequence[tuple[str, str, str]], settings: CodeQualitySettings,
                    analyses: Mapping[int, Analysis] | None = None) -> list[QualityReport]:
    """Quality of each ``(language, code, build_output)``; ``build_output`` is the compiler's
    output for the source (warnings are counted from it; "" when none). ``analyses``: bandit's
    and radon's findings already computed for some Python items (by index, e.g. from a
    :class:`QualityStream`); the rest are computed here, bandit in one run over all of them."""
    given = dict(analyses or {})
    reports: list[QualityReport | None] = [None] * len(items)
    py = [i for i, (lang, _, _) in enumerate(items) if lang == "python"]
    ruff: dict[int, list[str]] | str = {}
    bandit: dict[int, list[tuple[str, str]]] | str = {}
    scan = [i for i in py if i not in given] if settings.security_checks else []
    if (py and settings.enable_pep8) or scan:
        with tempfile.TemporaryDirectory(prefix="codeeval-quality-") as folder:
            paths: dict[str, int] = {}
            for i in py:
                path = os.path.join(folder, f"s{i}.py")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(items[i][1])
                paths[os.path.realpath(path)] = i
            if settings.enable_pep8:
                ruff = _ruff(paths, folder)
            if scan:
                chosen = set(scan)
                bandit = _bandit({p: i for p, i in paths.items() if i in chosen})
    for i, (lang, code, build_output) in enumerate(items):
        parts: dict[str, float] = {}
        findings: list[str] = []
        notes: list[str] = []
        if lang == "python":
            if settings.enable_pep8:
                if isinstance(ruff, str):
                    notes.append(ruff)
                else:
                    issues = ruff.get(i, [])
                    findings.extend(issues)
                    parts["style"] = 1.0 - min(1.0, 2 * len(issues) / max(_lines(code), 10))
            pre = given.get(i)
            if pre is None:  # not analysed ahead: this batch's bandit run and radon here
                cc = radon_complexity(code)
                pre = Analysis(bandit if isinstance(bandit, str) else tuple(bandit.get(i, ())),
                               None if cc is None else tuple(cc))
            if pre.complexity is None:
                notes.append("radon could not parse the code")
            else:
                parts["complexity"] = _complexity_score(pre.complexity, settings.max_complexity)
            if settings.security_checks:
                if isinstance(pre.bandit, str):
                    notes.append(pre.bandit)
                else:
                    findings.extend(text for _, text in pre.bandit)
                    parts["security"] = 1.0 / (1.0 + sum(BANDIT_SEVERITY.get(sev, 0.25) for sev, _ in pre.bandit))
        else:
            cc = _lizard(lang, code)
            if cc is None:
                notes.append("lizard could not analyse the code")
            else:
                parts["complexity"] = _complexity_score(cc, settings.max_complexity)
            warnings = sum(1 for ln in build_output.splitlines() if "warning" in ln.lower())
            parts["warnings"] = 1.0 / (1.0 + warnings)
        score = sum(parts.values()) / len(parts) if parts else 0.0
        reports[i] = QualityReport(score=score, parts=parts, findings=tuple(findings), notes=tuple(notes))
    return [r for r in reports if r is not None]
