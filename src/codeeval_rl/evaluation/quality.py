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
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from codeeval_rl.config import CodeQualitySettings
from codeeval_rl.sandbox.languages import ALIASES, LANGUAGES

__all__ = ["BANDIT_SEVERITY", "RUFF_RULES", "QualityReport", "quality_reports"]

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
            capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
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


def _bandit(paths: dict[str, int], folder: str) -> dict[int, list[tuple[str, str]]] | str:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bandit", "-q", "-f", "json", "-s", "B101", "-r", folder],
            capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
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


def _radon(code: str) -> list[int] | None:
    try:
        from radon.complexity import cc_visit

        blocks = cc_visit(code)
    except Exception:  # noqa: BLE001 - radon parses; unparsable code has no complexity
        return None
    return [b.complexity for b in blocks if getattr(b, "letter", "F") in ("F", "M")]


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


def quality_reports(items: Sequence[tuple[str, str, str]], settings: CodeQualitySettings) -> list[QualityReport]:
    """Quality of each ``(language, code, build_output)``; ``build_output`` is the compiler's
    output for the source (warnings are counted from it; "" when none)."""
    reports: list[QualityReport | None] = [None] * len(items)
    py = [i for i, (lang, _, _) in enumerate(items) if lang == "python"]
    ruff: dict[int, list[str]] | str = {}
    bandit: dict[int, list[tuple[str, str]]] | str = {}
    if py and (settings.enable_pep8 or settings.security_checks):
        with tempfile.TemporaryDirectory(prefix="codeeval-quality-") as folder:
            paths: dict[str, int] = {}
            for i in py:
                path = os.path.join(folder, f"s{i}.py")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(items[i][1])
                paths[os.path.realpath(path)] = i
            if settings.enable_pep8:
                ruff = _ruff(paths, folder)
            if settings.security_checks:
                bandit = _bandit(paths, folder)
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
            cc = _radon(code)
            if cc is None:
                notes.append("radon could not parse the code")
            else:
                parts["complexity"] = _complexity_score(cc, settings.max_complexity)
            if settings.security_checks:
                if isinstance(bandit, str):
                    notes.append(bandit)
                else:
                    found = bandit.get(i, [])
                    findings.extend(text for _, text in found)
                    parts["security"] = 1.0 / (1.0 + sum(BANDIT_SEVERITY.get(sev, 0.25) for sev, _ in found))
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
