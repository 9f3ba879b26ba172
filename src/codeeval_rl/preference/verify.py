"""``dpo pairs``: CodeDPO's preference pairs from a model's own programs and tests.

For each task, in seeded, resumable chunks (:func:`~.sampling.run_chunks`):

1. **Programs.** The model writes ``codes`` completions (its own prompt format).
2. **Tests.** With ``tests_from`` ``model`` (or ``both``) it is asked, separately, for assert
   statements that test the task's function (:func:`ask_for_tests`, ``test_samples`` replies);
   :func:`~codeeval_rl.datagen.question.parse_reply` keeps the single, constant asserts that
   call the entry point, and at most ``tests`` distinct ones are kept. With ``task`` (or
   ``both``) the task's own public tests (``task_tests="all"``: all its tests) join them, for
   a small model that was never taught to write tests.
3. **Matrix.** Every program runs against every candidate test in ONE evaluator batch for the
   whole chunk (one sandbox ``run_many``; a Python program runs all its candidate asserts in
   one harness process, each judged on its own), together with the programs' runs on the
   task's real tests (the *truth*: its hidden tests, or all of them when none are hidden),
   used only to measure how good the verification is.
4. **Scores.** :func:`~.mutual.mutual_verification` (damping ``d``, ``iterations``) scores
   programs and tests; the formula and its source are in that module.
5. **Correctness pair.** The highest-scored program against the lowest-scored one, skipped
   when they are near-ties (``hi - lo < min_gap * hi``) or the same text.
6. **Efficiency pair.** *Trusted* tests are the task's own tests plus the model's tests
   whose score is at least ``trust`` times the best model test's. Among the programs that
   pass every trusted test, the fastest against the slowest by CPU time in the sandbox
   summed over the trusted tests (for Python, the harness times each test with
   ``process_time``). A single timing is noisy on a busy host (one-line programs measured
   0.1 ms in one run and up to 9 ms in another beside a loaded machine), so the two candidates
   run ``timing_repeats`` (3) more times on the trusted tests, in one more batch per chunk, and
   each one's time is the least of its runs; the pair is kept when
   ``(t_slow + 5 ms) / (t_fast + 5 ms) >= min_speedup`` still holds (the 5 ms floor is the
   efficiency level's).

**Verification quality.** Over tasks whose truth tests exist, Spearman's rho between each
program's mutual-verification score and its true pass rate: the mean over tasks where rho is
defined (some programs differ in both), and pooled over every program of those tasks; the
same for the baseline, the share of candidate tests a program passes
(:func:`~.mutual.pass_count_scores`). CodeDPO reports 0.86 against 0.77 for the baseline.
With ``task_tests="all"`` the borrowed tests include the truth, so the figure is then no
independent measure.

Limits: a candidate test that loops forever makes that harness run time out, and the tests
after it in the run count as failed for that program; a task without an entry point gets no
model-written tests.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from codeeval_rl.config import check_ranges
from codeeval_rl.evaluation.efficiency import TIME_FLOOR_S
from codeeval_rl.evaluation.evaluator import select_tests
from codeeval_rl.preference.correlation import spearman
from codeeval_rl.preference.mutual import mutual_verification, pass_count_scores
from codeeval_rl.preference.sampling import check_tasks_have_tests, run_chunks, seed_chunk
from codeeval_rl.types import Task, TestCase

__all__ = [
    "CodeDpoSettings",
    "DpoPairs",
    "ask_for_tests",
    "build_dpo_pairs",
    "correctness_pair",
    "efficiency_pair",
    "timed_speedup",
    "verification_report",
]


@dataclass(frozen=True)
class CodeDpoSettings:
    """``codeeval-rl dpo pairs``' settings (see the module docstring)."""

    codes: int = 15
    tests: int = 15
    tests_from: Literal["model", "task", "both"] = "model"
    task_tests: Literal["public", "all"] = "public"
    test_samples: int = 2
    """Replies sampled per task when the model writes tests (their asserts are pooled)."""
    damping: float = 0.85
    iterations: int = 10
    min_gap: float = 0.1
    trust: float = 0.5
    min_speedup: float = 1.5
    timing_repeats: int = 3
    """Runs more of the two efficiency candidates; each one's CPU time is the least of its runs."""
    seed: int = 0
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    test_max_new_tokens: int = 512

    def __post_init__(self) -> None:
        checks = {"codes": self.codes >= 2, "tests": self.tests >= 1, "test_samples": self.test_samples >= 1,
                  "tests_from": self.tests_from in ("model", "task", "both"),
                  "task_tests": self.task_tests in ("public", "all"), "damping": 0 <= self.damping <= 1,
                  "iterations": self.iterations >= 0, "min_gap": 0 <= self.min_gap <= 1, "trust": 0 <= self.trust <= 1,
                  "min_speedup": self.min_speedup >= 1, "timing_repeats": self.timing_repeats >= 0,
                  "temperature": self.temperature >= 0,
                  "top_p": 0 < self.top_p <= 1, "max_new_tokens": self.max_new_tokens >= 1,
                  "test_max_new_tokens": self.test_max_new_tokens >= 1}
        check_ranges("dpo pairs", self, checks)


def ask_for_tests(task: Task, k: int) -> str:
    """The request for tests: the task, then ``k`` assert statements of its entry point."""
    return (f"{task.prompt}\n\nWrite {k} test cases for the function `{task.entry_point}` above, as Python assert "
            f"statements, one per line, each calling `{task.entry_point}` with constant arguments and comparing the "
            "result with the expected value.")


def _model_tests(texts: Sequence[str], entry_point: str, limit: int) -> list[str]:
    from codeeval_rl.datagen.question import parse_reply

    kept: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for src in parse_reply(text, entry_point).asserts:
            key = ast.dump(ast.parse(src))
            if key not in seen and len(kept) < limit:
                seen.add(key)
                kept.append(src)
    return kept


def correctness_pair(scores: Sequence[float], texts: Sequence[str], min_gap: float) -> tuple[int, int] | None:
    """``(highest, lowest)`` scored program indices (the first highest, the last lowest), or None
    for equal scores, a near-tie (``hi - lo < min_gap * hi``) or the same text. Pure."""
    hi = max(range(len(scores)), key=lambda i: (scores[i], -i))
    lo = min(range(len(scores)), key=lambda i: (scores[i], -i))
    gap = scores[hi] - scores[lo]
    if texts[hi] == texts[lo] or gap <= 0 or gap < min_gap * scores[hi]:
        return None
    return hi, lo


def efficiency_pair(cpu_s: Sequence[float], eligible: Sequence[bool], texts: Sequence[str],
                    min_speedup: float) -> tuple[int, int] | None:
    """``(fastest, slowest)`` among the ``eligible`` programs, or None when fewer than two
    differ or ``(t_slow + 5 ms) / (t_fast + 5 ms) < min_speedup``. Pure."""
    idx = [i for i, ok in enumerate(eligible) if ok]
    if len({texts[i] for i in idx}) < 2:
        return None
    fast = min(idx, key=lambda i: (cpu_s[i], i))
    slow = max(idx, key=lambda i: (cpu_s[i], -i))
    if texts[fast] == texts[slow] or (cpu_s[slow] + TIME_FLOOR_S) / (cpu_s[fast] + TIME_FLOOR_S) < min_speedup:
        return None
    return fast, slow


def _truth(task: Task) -> tuple[TestCase, ...]:
    return task.hidden_tests or task.tests


def _analyse(task: Task, texts: list[str], tests: list[TestCase], from_task: int, results: Sequence[Any],
             truth: Sequence[Any], s: CodeDpoSettings, source: dict[str, Any]) -> dict[str, Any]:
    """One task's record: scores, the verification figures' inputs and its pairs."""
    matrix = [[bool(tr.passed) for tr in r.test_results] for r in results] if tests else [[] for _ in texts]
    v = mutual_verification(matrix, s.damping, s.iterations)
    pairs: list[dict[str, Any]] = []
    base = {"task_id": task.id, "prompt": task.prompt, "source": source}
    cp = correctness_pair(v.programs, texts, s.min_gap) if tests else None
    if cp is not None:
        hi, lo = cp
        pairs.append({**base, "chosen": texts[hi], "rejected": texts[lo], "kind": "correctness",
                      "chosen_score": v.programs[hi], "rejected_score": v.programs[lo]})
    model_scores = v.tests[from_task:]
    best = max(model_scores, default=0.0)
    trusted = [j for j in range(len(tests)) if j < from_task or v.tests[j] >= s.trust * best]
    cpu = [sum(r.test_results[j].execution.cpu_time_s for j in trusted) for r in results] if tests else []
    candidate = None
    if trusted:
        eligible = [all(matrix[i][j] for j in trusted) for i in range(len(texts))]
        ep = efficiency_pair(cpu, eligible, texts, s.min_speedup)
        if ep is not None:
            fast, slow = ep
            candidate = {**base, "chosen": texts[fast], "rejected": texts[slow], "kind": "efficiency",
                         "chosen_cpu_s": cpu[fast], "rejected_cpu_s": cpu[slow],
                         "chosen_score": v.programs[fast], "rejected_score": v.programs[slow],
                         "trusted": [tests[j] for j in trusted]}
    return {"task_id": task.id, "tests": [t.code for t in tests], "model_tests": len(tests) - from_task,
            "scores": list(v.programs), "test_scores": list(v.tests), "pass_count": list(pass_count_scores(matrix)),
            "truth": [r.num_passed / r.num_tests for r in truth] if truth else [], "pairs": pairs,
            "candidate": candidate}


def timed_speedup(fast_s: Sequence[float], slow_s: Sequence[float]) -> float:
    """``(min(slow) + 5 ms) / (min(fast) + 5 ms)``: the speed-up the least CPU time of each
    program's runs shows (the least is the run the fewest interruptions slowed). Pure."""
    return (min(slow_s) + TIME_FLOOR_S) / (min(fast_s) + TIME_FLOOR_S)


def _confirm(evaluator: Any, tasks: Sequence[Task], records: list[dict[str, Any]], s: CodeDpoSettings) -> None:
    """Time each efficiency candidate's two programs ``timing_repeats`` more times on the trusted
    tests (one evaluator batch for the chunk; the repeats are told apart so none is deduplicated),
    keep the pair when :func:`timed_speedup` over all runs still reaches ``min_speedup``."""
    items: list[tuple[Task, str]] = []
    owners = []
    for task, rec in zip(tasks, records, strict=True):
        cand = rec["candidate"]
        if cand is None or s.timing_repeats == 0:
            continue
        for k in range(s.timing_repeats):
            timing = replace(task, id=f"{task.id}#timing{k}", tests=tuple(cand["trusted"]), public_test_ids=())
            items += [(timing, evaluator.completion_to_code(task, cand["chosen"])),
                      (timing, evaluator.completion_to_code(task, cand["rejected"]))]
            owners.append(rec)
    results = evaluator.evaluate_many(items, tests="all") if items else []
    runs: dict[int, tuple[list[float], list[float]]] = {}
    for n, rec in enumerate(owners):
        fast, slow = results[2 * n], results[2 * n + 1]
        times = runs.setdefault(id(rec), ([rec["candidate"]["chosen_cpu_s"]], [rec["candidate"]["rejected_cpu_s"]]))
        if fast.passed:
            times[0].append(sum(t.execution.cpu_time_s for t in fast.test_results))
        if slow.passed:
            times[1].append(sum(t.execution.cpu_time_s for t in slow.test_results))
    for rec in records:
        cand = rec.pop("candidate")
        if cand is None:
            continue
        del cand["trusted"]
        fast_s, slow_s = runs.get(id(rec), ([cand["chosen_cpu_s"]], [cand["rejected_cpu_s"]]))
        if timed_speedup(fast_s, slow_s) >= s.min_speedup:
            rec["pairs"].append({**cand, "chosen_cpu_s": min(fast_s), "rejected_cpu_s": min(slow_s)})


@dataclass(frozen=True)
class DpoPairs:
    """The pairs, per kind, and how good the verification was."""

    rows: list[dict[str, Any]]
    tasks: int
    correctness: int
    efficiency: int
    model_tests_mean: float
    """Usable model-written tests per task, on average."""
    report: dict[str, Any]


def verification_report(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Spearman's rho of the verification score and of the pass-count baseline against the true
    pass rates (see the module docstring). Pure."""
    out: dict[str, Any] = {}
    with_truth = [r for r in records if r["truth"] and r["tests"]]
    for name, field in (("mutual_verification", "scores"), ("pass_count", "pass_count")):
        per_task = [rho for r in with_truth if (rho := spearman(r[field], r["truth"])) is not None]
        pooled = spearman([x for r in with_truth for x in r[field]], [x for r in with_truth for x in r["truth"]])
        out[name] = {"mean_task_spearman": sum(per_task) / len(per_task) if per_task else None,
                     "tasks_defined": len(per_task), "pooled_spearman": pooled}
    out["tasks_with_truth"] = len(with_truth)
    return out


def build_dpo_pairs(policy: Any, tasks: Sequence[Task], evaluator: Any, settings: CodeDpoSettings = CodeDpoSettings(),
                    *, model_name: str = "", chunk_size: int = 8, journal: str | os.PathLike[str] | None = None,
                    on_chunk: Callable[[int, int], None] | None = None) -> DpoPairs:
    """Programs, tests, matrix, scores and pairs for ``tasks``; see the module docstring."""
    from codeeval_rl.rl.generation import generate_samples

    s = settings
    if s.tests_from == "task":
        check_tasks_have_tests(tasks, s.task_tests)
    source = {"model": model_name, "seed": s.seed}

    def chunk_fn(index: int, chunk: Sequence[Task]) -> list[dict[str, Any]]:
        seed_chunk(s.seed, index)
        rows = generate_samples(policy, chunk, n=s.codes, temperature=s.temperature, top_p=s.top_p,
                                max_new_tokens=s.max_new_tokens, batch_size=len(chunk))
        texts = [[r["completion"] for r in rows[i * s.codes:(i + 1) * s.codes]] for i in range(len(chunk))]
        written: list[list[str]] = [[] for _ in chunk]
        if s.tests_from in ("model", "both"):
            askable = [i for i, t in enumerate(chunk) if t.entry_point]
            replies = policy.generate([ask_for_tests(chunk[i], s.tests) for i in askable], n=s.test_samples,
                                      temperature=s.temperature, top_p=s.top_p, max_new_tokens=s.test_max_new_tokens)
            for i, row in zip(askable, replies, strict=True):
                written[i] = _model_tests([x.text for x in row], chunk[i].entry_point, s.tests)
        items: list[tuple[Task, str]] = []
        layout = []
        for task, progs, model_tests in zip(chunk, texts, written, strict=True):
            borrowed = list(select_tests(task, s.task_tests)) if s.tests_from in ("task", "both") else []
            tests = [replace(t, id=f"task:{t.id}") for t in borrowed]
            tests += [TestCase(kind="assert", code=src, id=f"model:{k}") for k, src in enumerate(model_tests)]
            vtask = replace(task, tests=tuple(tests), public_test_ids=())
            truth = _truth(task)
            ttask = replace(task, tests=truth, public_test_ids=())
            codes = [evaluator.completion_to_code(task, c) for c in progs]
            start = len(items)
            if tests:
                items += [(vtask, c) for c in codes]
            if truth:
                items += [(ttask, c) for c in codes]
            layout.append((start, bool(tests), bool(truth), tests, len(borrowed)))
        results = evaluator.evaluate_many(items, tests="all") if items else []
        out = []
        for task, progs, (start, has_tests, has_truth, tests, n_task) in zip(chunk, texts, layout, strict=True):
            k = len(progs)
            ver = results[start:start + k] if has_tests else []
            tru = results[start + (k if has_tests else 0):start + (k if has_tests else 0) + k] if has_truth else []
            out.append(_analyse(task, progs, tests, n_task, ver, tru, s, source))
        _confirm(evaluator, chunk, out, s)
        return out

    key = {**asdict(s), "model": model_name, "chunk_size": chunk_size, "tasks": len(tasks)}
    records = run_chunks(tasks, chunk_size, chunk_fn, journal=journal, key=key, on_chunk=on_chunk)
    rows = [p for r in records for p in r["pairs"]]
    return DpoPairs(rows=rows, tasks=len(tasks), correctness=sum(p["kind"] == "correctness" for p in rows),
                    efficiency=sum(p["kind"] == "efficiency" for p in rows),
                    model_tests_mean=sum(r["model_tests"] for r in records) / max(1, len(records)),
                    report=verification_report(records))
