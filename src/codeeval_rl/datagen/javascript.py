"""The JavaScript path of ``codeeval_rl.datagen``: a source tree in, verified tasks out.

:func:`javascript_tasks` runs the stages in order; each lives in its own module:

1. select functions (:mod:`~codeeval_rl.datagen.js_select`): tree-sitter, static purity,
   helpers carried as context, ES module syntax removed;
2. make inputs (:mod:`~codeeval_rl.datagen.js_inputs`): call sites, defaults, JSDoc types,
   boundaries, seeded random values;
3. oracle (:mod:`~codeeval_rl.datagen.js_oracle`): the original runs every input twice in the
   sandbox (node), results frozen as JavaScript literals, block coverage measured;
4. tests (:mod:`~codeeval_rl.datagen.js_tasks`): about ``max_tests`` asserts chosen greedily by
   coverage, then by distinct results, 3 of them public;
5. mutation score (:mod:`~codeeval_rl.datagen.js_mutate` and the oracle's driver): at most
   ``max_mutants`` mutants; when the tests kill fewer than ``mutation_target`` of them, tests
   that kill survivors are added from the other frozen inputs (greedy, up to
   ``max_tests * 3 // 2`` tests in all), and the task is dropped when the target stays out of
   reach. A function without any mutant scores 1.0 (``mutants`` says ``0/0``);
6. question and 7. tier (:mod:`~codeeval_rl.datagen.js_tasks`), without a model;
8. check: each task's reference solution, sent as a model would send it (in a
   ```javascript fence, through the evaluator's completion extraction), and the function
   alone (so the tests' helper definitions are exercised), must pass every test through
   :meth:`Evaluator.evaluate_many` with ``tests="all"``. Failing tests are dropped once and
   the task checked again (it must still have :data:`~codeeval_rl.datagen.js_tasks.MIN_TESTS`
   tests and meet the mutation target); a task that still fails is dropped.

Determinism: the same tree, seed and options give the same tasks: every choice is ordered
or drawn from ``random.Random`` seeded by the seed and the function's id, and no choice
depends on timing except one: an input whose run time is near the per-call limit
(:data:`~codeeval_rl.datagen.js_oracle.CALL_TIMEOUT_MS`), or one that a host too busy to give
it any CPU time starves through every restart, may be kept in one run and dropped in
another.

Stage counts (``JsGeneration.stages``), each with its unit: ``files`` (source files read /
files and directories skipped), ``functions`` (candidates / functions skipped), ``inputs``
(argument lists made), ``oracle`` (inputs with a frozen result / unusable ones),
``selection`` (functions with enough usable results / too few), ``tests`` (tests in the
written tasks / usable inputs not used), ``mutants`` (killed / surviving mutants of the
written tasks), ``mutation`` (functions meeting the target / below it), ``check`` (tasks
passing the evaluator / failing), ``tasks`` (tasks written).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeeval_rl.datagen import js_tasks
from codeeval_rl.datagen.js_inputs import JsInput, make_inputs
from codeeval_rl.datagen.js_mutate import Mutant, mutants
from codeeval_rl.datagen.js_oracle import MutantRun, OracleResult, coverage_points, run_mutants, run_oracle
from codeeval_rl.datagen.js_select import JsCandidate, JsScan, scan
from codeeval_rl.datagen.model import Frozen, StageCount
from codeeval_rl.errors import InputError
from codeeval_rl.types import Task, TestCase

__all__ = ["MAX_INPUTS", "JsGeneration", "javascript_tasks"]

MAX_INPUTS = 64
"""Argument lists made per function."""

_MAX_EXTRA_CHECKS = 40
_CHECK_TIMEOUT_S = 30.0
_CHUNK = 16
_STAGES = ("files", "functions", "inputs", "oracle", "selection", "tests", "mutants", "mutation", "check", "tasks")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class JsGeneration:
    """What :func:`javascript_tasks` made. ``tasks``: verified tasks, in the order of their
    files and lines. ``stages``: the count of each stage (units in the module docstring).
    ``skipped_files``: (path, reason) of every file or ignored directory not read as source.
    ``skipped_functions``: (function id, reason) of every function found that did not become a
    task, whatever the stage."""

    tasks: tuple[Task, ...]
    stages: tuple[StageCount, ...]
    skipped_files: tuple[tuple[str, str], ...]
    skipped_functions: tuple[tuple[str, str], ...] = ()


@dataclass
class _Counts:
    kept: Counter[str] = field(default_factory=Counter)
    dropped: dict[str, Counter[str]] = field(default_factory=dict)

    def keep(self, stage: str, n: int = 1) -> None:
        self.kept[stage] += n

    def drop(self, stage: str, reason: str, n: int = 1) -> None:
        if n:
            self.dropped.setdefault(stage, Counter())[reason] += n

    def stages(self) -> tuple[StageCount, ...]:
        out = []
        for s in _STAGES:
            reasons = self.dropped.get(s, Counter())
            out.append(StageCount(stage=s, kept=self.kept[s], dropped=sum(reasons.values()),
                                  reasons=tuple(sorted(reasons.items()))))
        return tuple(out)


@dataclass(frozen=True)
class _Plan:
    """One function between the oracle and the check: its frozen usable inputs, the checks of
    its kept tests and of the extra inputs, its mutants and what the checks did to them."""

    cand: JsCandidate
    inputs: int
    usable: tuple[Frozen, ...]
    kept: tuple[int, ...]  # indices into usable, in test order
    extra: tuple[int, ...]  # indices into usable: the other inputs, candidates for more tests
    mutants: tuple[Mutant, ...]
    blocks: int
    kills: tuple[frozenset[int] | None, ...] = ()  # per mutant: usable indices that kill it

    def score(self, kept: Sequence[int] | None = None) -> tuple[int, int]:
        chosen = set(self.kept if kept is None else kept)
        valid = [k for k in self.kills if k is not None]
        killed = sum(1 for k in valid if -1 in k or k & chosen)
        return killed, len(valid)


def _seed(seed: int, ident: str, salt: str) -> int:
    digest = hashlib.sha256(f"{seed}\0{ident}\0{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _ratio(killed: int, total: int) -> float:
    return killed / total if total else 1.0


def _check(plan: _Plan, index: int) -> str:
    c = plan.cand
    return js_tasks.check_code(c.function.name, plan.usable[index], c.generator, c.helper_classes)


def _plans(cands: Sequence[JsCandidate], found: JsScan, results: Sequence[OracleResult],
           inputs: Sequence[Sequence[JsInput]], seed: int, max_tests: int, max_mutants: int,
           counts: _Counts, skipped: list[tuple[str, str]]) -> list[_Plan]:
    plans = []
    for cand, res, ins in zip(cands, results, inputs):
        if res.fatal:
            counts.drop("selection", "the function does not run")
            skipped.append((cand.id, res.fatal))
            continue
        usable = tuple(f for f in res.frozen if f.outcome != "unusable")
        counts.keep("oracle", len(usable))
        for why, n in sorted(res.reasons.items()):
            counts.drop("oracle", why, n)
        distinct = {(f.outcome, f.value) for f in usable}
        if len(usable) < js_tasks.MIN_TESTS:
            reason = f"fewer than {js_tasks.MIN_TESTS} inputs with a usable result"
        elif len(distinct) < 2:
            reason = "the same result for every input"
        else:
            reason = ""
        if reason:
            counts.drop("selection", reason)
            skipped.append((cand.id, reason))
            continue
        counts.keep("selection")
        kept = js_tasks.choose_tests(usable, max_tests)
        chosen = set(kept)
        extra = [i for i in js_tasks.rank_order(usable) if i not in chosen][:_MAX_EXTRA_CHECKS]
        plans.append(_Plan(cand, len(ins), usable, tuple(kept), tuple(extra),
                           mutants(cand.function.source, seed=_seed(seed, cand.id, "mutants"), cap=max_mutants),
                           len(coverage_points(cand.subject))))
    return plans


def _strengthen(plan: _Plan, run: MutantRun, target: float, cap: int) -> _Plan:
    """Record the kills (as usable indices), drop checks the original fails, and add extra
    tests that kill survivors while the score is below ``target``."""
    order = list(plan.kept) + list(plan.extra)  # check index -> usable index
    bad = {order[j] for j in run.original_failures if 0 <= j < len(order)}
    kills = tuple(None if m is None else frozenset(order[j] if j >= 0 else -1 for j in m if j < len(order))
                  for m in run.mutants)
    kept = [i for i in plan.kept if i not in bad]
    extra = [i for i in plan.extra if i not in bad]
    plan = replace(plan, kills=kills, kept=tuple(kept), extra=tuple(extra))
    while len(kept) < cap:
        killed, total = plan.score(kept)
        if _ratio(killed, total) >= target:
            break
        survivors = [k for k in kills if k is not None and -1 not in k and not (k & set(kept))]
        best, gain = None, 0
        for i in extra:
            g = sum(1 for k in survivors if i in k)
            if g > gain:
                best, gain = i, g
        if best is None:
            break
        kept.append(best)
        extra.remove(best)
    return replace(plan, kept=tuple(kept), extra=tuple(extra))


def _task(plan: _Plan, kept: Sequence[int]) -> Task:
    cand, fn = plan.cand, plan.cand.function
    frozen = [plan.usable[i] for i in kept]
    public = js_tasks.choose_public(frozen)
    preamble = js_tasks.helper_preamble(cand.helper_defs)
    tests = tuple(TestCase(kind="assert", code=js_tasks.test_code(_check(plan, i), preamble), id=f"t{n + 1}")
                  for n, i in enumerate(kept))
    killed, total = plan.score(kept)
    measures = js_tasks.measures(cand, plan.blocks)
    return Task(
        id=cand.id, language="javascript", prompt=js_tasks.prompt(cand, [frozen[i] for i in public]),
        entry_point=fn.name, tests=tests, public_test_ids=tuple(f"t{i + 1}" for i in public),
        reference_solution=cand.subject, tier=js_tasks.tier(measures), category=js_tasks.category(frozen),
        context=fn.context_code,
        provenance={
            "path": fn.path, "lines": f"{fn.start_line}-{fn.end_line}", "function": fn.name,
            "tests_kept": str(len(kept)), "tests_dropped": str(plan.inputs - len(kept)),
            "mutation_score": f"{_ratio(killed, total):.2f}", "mutants": f"{killed}/{total}",
            "inputs": str(plan.inputs), "complexity": str(measures.complexity),
            "coverage_blocks": str(plan.blocks),
        })


def _fence(code: str) -> str:
    return f"```javascript\n{code.rstrip()}\n```\n"


def _failing(evaluator: Any, checked: Sequence[tuple[_Plan, Task]], progress: Progress | None) -> list[set[str]]:
    """Per task, the ids of the tests failed by its reference solution or by the function
    alone, each sent in a fence through the evaluator's completion extraction."""
    items = []
    for plan, task in checked:
        for code in (task.reference_solution, plan.cand.function.source):
            items.append((task, evaluator.completion_to_code(task, _fence(code))))
    done = itertools.count(1)

    def tick(_i: int, _r: object) -> None:
        if progress is not None:
            progress("check", next(done), len(items))

    results = evaluator.evaluate_many(items, tests="all", on_result=tick) if items else []
    out: list[set[str]] = []
    for n in range(len(checked)):
        failed: set[str] = set()
        for r in results[2 * n: 2 * n + 2]:
            failed |= {tr.test_id for tr in r.test_results if not tr.passed}
        out.append(failed)
    return out


def _verified(plans: Sequence[_Plan], evaluator: Any, target: float, counts: _Counts,
              skipped: list[tuple[str, str]], progress: Progress | None) -> list[tuple[_Plan, list[int], Task]]:
    pending = [(p, list(p.kept)) for p in plans]
    passed: list[tuple[_Plan, list[int], Task]] = []
    for attempt in range(2):
        tasks = [_task(p, kept) for p, kept in pending]
        failing = _failing(evaluator, [(p, t) for (p, _), t in zip(pending, tasks)], progress)
        retry = []
        for (plan, kept), task, failed in zip(pending, tasks, failing):
            if not failed:
                passed.append((plan, kept, task))
                continue
            remaining = [i for n, i in enumerate(kept) if f"t{n + 1}" not in failed]
            killed, total = plan.score(remaining)
            if attempt == 0 and len(remaining) >= js_tasks.MIN_TESTS and _ratio(killed, total) >= target:
                counts.drop("tests", "failed the evaluator check", len(kept) - len(remaining))
                retry.append((plan, remaining))
                continue
            reason = "the reference solution fails its tests"
            counts.drop("check", reason)
            skipped.append((plan.cand.id, f"{reason} ({', '.join(sorted(failed, key=lambda t: int(t[1:])))})"))
        pending = retry
    counts.keep("check", len(passed))
    position = {p.cand.id: n for n, p in enumerate(plans)}
    return sorted(passed, key=lambda item: position[item[0].cand.id])


def _chunk(cands: Sequence[JsCandidate], found: JsScan, *, seed: int, mutation_target: float, max_tests: int,
           max_mutants: int, sandbox: Any, evaluator: Any, counts: _Counts, skipped: list[tuple[str, str]],
           progress: Progress | None) -> list[Task]:
    inputs = []
    for n, cand in enumerate(cands):
        fn = cand.function
        inputs.append(make_inputs(fn.params, found.callsites.get(fn.name, ()), fn.source,
                                  seed=_seed(seed, cand.id, "inputs"), limit=MAX_INPUTS, doc=fn.docstring))
        if progress is not None:
            progress("inputs", n + 1, len(cands))
    counts.keep("inputs", sum(map(len, inputs)))
    results = run_oracle(sandbox, list(zip(cands, inputs)),
                         progress=(lambda d, t: progress("oracle", d, t)) if progress else None)
    plans = _plans(cands, found, results, inputs, seed, max_tests, max_mutants, counts, skipped)
    work = [(p.cand.function.context_code, p.cand.function.source, [m.source for m in p.mutants],
             [_check(p, i) for i in (*p.kept, *p.extra)], len(p.kept)) for p in plans]
    runs = run_mutants(sandbox, work, progress=(lambda d, t: progress("mutants", d, t)) if progress else None)
    strong = []
    cap = max(max_tests * 3 // 2, js_tasks.MIN_TESTS)
    for plan, run in zip(plans, runs):
        plan = _strengthen(plan, run, mutation_target, cap)
        killed, total = plan.score()
        if len(plan.kept) < js_tasks.MIN_TESTS:
            reason = "too few tests pass on the original in the mutation run"
        elif _ratio(killed, total) < mutation_target:
            reason = f"mutation score below the target {mutation_target:.2f}"
        else:
            counts.keep("mutation")
            strong.append(plan)
            continue
        counts.drop("mutation", reason)
        skipped.append((plan.cand.id, f"{reason} ({killed}/{total} mutants killed)"))
    verified = _verified(strong, evaluator, mutation_target, counts, skipped, progress)
    for plan, kept, task in verified:
        killed, total = plan.score(kept)
        counts.keep("mutants", killed)
        counts.drop("mutants", "survived", total - killed)
        counts.keep("tests", len(kept))
        counts.drop("tests", "not chosen", len(plan.usable) - len(plan.kept))
    return [task for _, _, task in verified]


def _validate(root: Path, seed: int, limit: int | None, mutation_target: float, max_tests: int,
              max_mutants: int) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory (the JavaScript path reads a source tree)")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed = {seed!r}: expected an integer")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InputError(f"limit = {limit!r}: expected a non-negative integer or None")
    if not 0.0 <= mutation_target <= 1.0:
        raise InputError(f"mutation_target = {mutation_target!r}: expected a number from 0 to 1")
    if isinstance(max_tests, bool) or not isinstance(max_tests, int) or max_tests < js_tasks.MIN_TESTS:
        raise InputError(f"max_tests = {max_tests!r}: expected an integer of at least {js_tasks.MIN_TESTS}")
    if isinstance(max_mutants, bool) or not isinstance(max_mutants, int) or max_mutants < 0:
        raise InputError(f"max_mutants = {max_mutants!r}: expected a non-negative integer")
    return root


def _file_reason(reason: str) -> str:
    return reason.split(" (")[0].split(" at line")[0]


def javascript_tasks(root: Path, *, seed: int = 0, limit: int | None = None, mutation_target: float = 0.8,
                     max_tests: int = 20, sandbox: Any = None, progress: Progress | None = None,
                     max_mutants: int = 30) -> JsGeneration:
    """Turn the JavaScript files under ``root`` into verified tasks (stages in the module
    docstring).

    ``seed``: every random choice derives from it. ``limit``: at most this many tasks (the
    first ones in file and line order). ``mutation_target``: the share of mutants the tests
    must kill. ``max_tests``: tests chosen per task before strengthening. ``sandbox``: a
    :class:`~codeeval_rl.sandbox.Sandbox` to run node in (``None``: one is started and
    closed here). ``progress(stage, done, total)`` is called as work completes (stages
    ``scan``, ``inputs``, ``oracle``, ``mutants``, ``check``; possibly from worker threads).
    ``max_mutants``: mutants per function (a seeded sample when there are more).

    Raises :class:`~codeeval_rl.errors.InputError` for bad arguments and what the sandbox
    raises when it cannot start (:class:`~codeeval_rl.errors.SandboxUnavailable`); a bad
    file or function is never an exception: it is skipped and named.
    """
    root = _validate(root, seed, limit, mutation_target, max_tests, max_mutants)
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.evaluation import Evaluator

    found = scan(root)
    if progress is not None:
        progress("scan", 1, 1)
    counts = _Counts()
    counts.keep("files", found.files_read)
    for _, reason in found.skipped_files:
        counts.drop("files", _file_reason(reason))
    counts.keep("functions", len(found.candidates))
    skipped: list[tuple[str, str]] = []
    for ident, why in found.skipped_functions:
        counts.drop("functions", why.category)
        skipped.append((ident, why.detail))
    owned = sandbox is None
    if owned:
        from codeeval_rl.sandbox import Sandbox

        sandbox = Sandbox()
    # A generous per-test limit: every test's input ran in under SLOW_CPU_MS in the oracle, so
    # a test that times out here met a busy host, not a slow solution.
    evaluator = Evaluator(EvaluationSettings(shaping="binary", test_timeout=_CHECK_TIMEOUT_S), sandbox=sandbox)
    tasks: list[Task] = []
    try:
        cands = list(found.candidates)
        pos = 0
        while pos < len(cands) and (limit is None or len(tasks) < limit):
            size = _CHUNK if limit is None else limit - len(tasks)
            chunk = cands[pos:pos + size]
            pos += len(chunk)
            tasks.extend(_chunk(chunk, found, seed=seed, mutation_target=mutation_target, max_tests=max_tests,
                                max_mutants=max_mutants, sandbox=sandbox, evaluator=evaluator, counts=counts,
                                skipped=skipped, progress=progress))
    finally:
        if owned:
            sandbox.close()
    if limit is not None:
        tasks = tasks[:limit]
    counts.keep("tasks", len(tasks))
    return JsGeneration(tasks=tuple(tasks), stages=counts.stages(), skipped_files=found.skipped_files,
                        skipped_functions=tuple(skipped))
