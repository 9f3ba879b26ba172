"""From a Python source tree to verified tasks: the stages of ``datasets generate``, in order.

For each function :mod:`~codeeval_rl.datagen.discover` keeps (in tree order, until
``limit`` tasks are written):

1. inputs from every maker (:mod:`~codeeval_rl.datagen.inputs`), and with a model, the
   model's question and asserts (AceCoder's prompt shape);
2. the original runs on every input twice in the sandbox (:mod:`~codeeval_rl.datagen.oracle`);
   the inputs both runs agree on become candidate tests
   (:func:`~codeeval_rl.datagen.testgen.frozen_test_code`);
3. **oracle check**: the candidates (and the model's asserts) run against the original
   through the evaluator, the same harness that scores models later; a candidate the
   original fails there is dropped, so every kept test is one our evaluator can pass;
4. about ``max_tests`` tests are chosen by the coverage they add; mutants of the function
   (:mod:`~codeeval_rl.datagen.mutation`) run against every candidate, and while the chosen
   tests kill less than ``mutation_target`` of them, the candidate that kills the most
   survivors is added (up to twice ``max_tests``); a task still under the target is dropped;
5. the prompt (:mod:`~codeeval_rl.datagen.question`), a tier, the context and the provenance;
6. secrets and personal data are masked in every field (:mod:`~codeeval_rl.datagen.secrets`);
7. **final check**: the reference solution, sent as a model sends it (a fenced block, through
   the evaluator's completion extraction), must pass every test; failing tests are dropped,
   and a task left with fewer than ``min_tests`` is dropped.

The tree's code runs only in the sandbox: everything else reads its source text (``ast``,
``symtable``), so nothing of it is imported or executed on the host.

Every drop is counted with its reason in the :class:`Generation`'s stage table. The run is
deterministic for a given tree, settings and seed (inputs, choices and mutant samples are
seeded; the oracle keeps only inputs on which two runs agree).

Tiers without a model (static measures of the original): ``easy`` when its cyclomatic
complexity (radon) is at most 2 and it has at most 12 lines and no helpers; ``hard`` when the
complexity is at least 8, or it has 40 lines or more, or it needs 3 or more helpers;
``medium`` otherwise. With a model: its pass rate over ``tier_samples`` samples on the hidden
tests: at least 0.7 ``easy``, at least 0.3 ``medium``, else ``hard``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeeval_rl.config import check_ranges
from codeeval_rl.datagen.discover import select_functions, walk_python
from codeeval_rl.datagen.inputs import Input, collect_call_sites, make_inputs
from codeeval_rl.datagen.model import Frozen, SourceFunction, StageCount
from codeeval_rl.datagen.mutation import mutants
from codeeval_rl.datagen.oracle import freeze_program, freeze_results, oracle_limits
from codeeval_rl.datagen.testgen import add_for_mutants, choose_by_coverage, choose_public, frozen_test_code
from codeeval_rl.errors import ConfigError, InputError, SandboxError
from codeeval_rl.types import Task, TestCase

__all__ = ["GenerateSettings", "Generation", "generate"]

STAGES = ("files", "functions", "inputs", "oracle", "tests", "mutation", "question", "masking", "check", "written")


@dataclass(frozen=True)
class GenerateSettings:
    """What ``datasets generate`` does; every field is a CLI option of the same name."""

    language: str = "python"
    seed: int = 0
    limit: int | None = None
    max_inputs: int = 200
    max_tests: int = 20
    min_tests: int = 5
    public_tests: int = 3
    mutation_target: float = 0.8
    max_mutants: int = 30
    static_methods: bool = False
    include_private: bool = True
    tier_samples: int = 4
    test_timeout: float = 10.0
    mutant_timeout: float = 3.0

    def __post_init__(self) -> None:
        if self.language not in ("python", "javascript"):
            raise ConfigError(f"language {self.language!r}: must be python or javascript")
        checks = [("max_inputs", self.max_inputs >= 1), ("max_tests", self.max_tests >= 1),
                  ("min_tests", 1 <= self.min_tests <= self.max_tests),
                  ("public_tests", 0 <= self.public_tests < self.min_tests),
                  ("mutation_target", 0.0 <= self.mutation_target <= 1.0),
                  ("max_mutants", self.max_mutants >= 1), ("tier_samples", self.tier_samples >= 1),
                  ("limit", self.limit is None or self.limit >= 1),
                  ("test_timeout", self.test_timeout > 0), ("mutant_timeout", self.mutant_timeout > 0)]
        check_ranges("datasets generate", self, dict(checks))


@dataclass(frozen=True)
class Generation:
    """What a run made: the tasks, each stage's counts, the files left out, what was masked
    (``masked[path][kind]``, never the secrets), the overall mutant figures of the written
    tasks, and the source's identity (``commit`` or ``sha256``)."""

    tasks: tuple[Task, ...]
    stages: tuple[StageCount, ...]
    skipped_files: tuple[tuple[str, str], ...]
    masked: dict[str, dict[str, int]] = field(default_factory=dict)
    mutants_total: int = 0
    mutants_killed: int = 0
    identity: tuple[str, str] = ("", "")
    licence: str = "unknown"
    interrupted: bool = False
    """The run was interrupted (Ctrl-C): ``tasks`` are those finished before, all checked."""

    @property
    def mutation_score(self) -> float:
        return self.mutants_killed / self.mutants_total if self.mutants_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": len(self.tasks),
            "stages": [{"stage": s.stage, "kept": s.kept, "dropped": s.dropped, "reasons": dict(s.reasons)}
                       for s in self.stages],
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped_files],
            "masked": self.masked,
            "mutants": {"total": self.mutants_total, "killed": self.mutants_killed,
                        "score": round(self.mutation_score, 4)},
            "source": {self.identity[0]: self.identity[1]} if self.identity[0] else {},
            "licence": self.licence,
            "interrupted": self.interrupted,
        }


class _Tally:
    def __init__(self) -> None:
        self.kept: Counter[str] = Counter()
        self.dropped: dict[str, Counter[str]] = {s: Counter() for s in STAGES}

    def keep(self, stage: str, n: int = 1) -> None:
        self.kept[stage] += n

    def drop(self, stage: str, reason: str, n: int = 1) -> None:
        self.dropped[stage][_reason_class(reason)] += n

    def stages(self) -> tuple[StageCount, ...]:
        return tuple(StageCount(s, self.kept[s], sum(self.dropped[s].values()),
                                tuple(sorted(self.dropped[s].items(), key=lambda kv: (-kv[1], kv[0]))))
                     for s in STAGES)


def _reason_class(reason: str) -> str:
    """A reason without its specifics (names, numbers), so that the table groups them."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "X", reason)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return text[:90]


# ---- the per-function steps


def _program(fn: SourceFunction, source: str | None = None) -> str:
    ctx = fn.context_code
    if ctx and not ctx.endswith("\n"):
        ctx += "\n"
    return ctx + (source if source is not None else fn.source)


def _probe(fn: SourceFunction, tests: Sequence[TestCase]) -> Task:
    return Task(id=f"{fn.path}::{fn.name}", language="python", prompt=fn.signature or fn.name,
                entry_point=fn.name, tests=tuple(tests))


def _verdicts(results: Sequence[Any]) -> list[list[bool]]:
    return [[r.passed for r in res.test_results] for res in results]


def _tier_static(fn: SourceFunction) -> str:
    try:
        from radon.complexity import cc_visit

        blocks = cc_visit(fn.source)
        cc = max((b.complexity for b in blocks), default=1)
    except Exception:  # noqa: BLE001 - radon cannot read it: count branches ourselves
        tree = ast.parse(fn.source)
        cc = 1 + sum(isinstance(n, (ast.If, ast.For, ast.While, ast.IfExp, ast.BoolOp, ast.ExceptHandler,
                                    ast.comprehension)) for n in ast.walk(tree))
    lines = fn.end_line - fn.start_line + 1
    if cc >= 8 or lines >= 40 or len(fn.helpers) >= 3:
        return "hard"
    if cc <= 2 and lines <= 12 and not fn.helpers:
        return "easy"
    return "medium"


def _usable_question(text: str) -> bool:
    """A model's question is used when it reads as prose: at least 5 words of letters."""
    return len(re.findall(r"[A-Za-z]{2,}", text or "")) >= 5


def _tier_from_rate(rate: float) -> str:
    return "easy" if rate >= 0.7 else "medium" if rate >= 0.3 else "hard"


def _context(fn: SourceFunction, readme: str) -> str:
    parts: list[str] = []
    imports = [line for line in fn.context_code.splitlines() if line.startswith(("import ", "from "))]
    if imports:
        parts.append("Imports of the module:\n" + "\n".join(imports))
    helper_lines: list[str] = []
    try:
        tree = ast.parse(fn.context_code)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                head = f"def {node.name}({ast.unparse(node.args)})" if isinstance(node, ast.FunctionDef) \
                    else f"class {node.name}"
                doc = (ast.get_docstring(node) or "").strip().splitlines()
                helper_lines.append(head + (f"  # {doc[0][:100]}" if doc else ""))
    except SyntaxError:
        pass
    if helper_lines:
        parts.append("Helpers defined before the function (you may call them):\n" + "\n".join(helper_lines))
    if fn.module_doc.strip():
        parts.append(f"Module {fn.path}:\n" + _shorten(fn.module_doc, 600))
    if readme:
        parts.append("Project documentation (shortened):\n" + readme)
    return "\n\n".join(parts)


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _readme(root: Path) -> str:
    """The project's README (or, for an installed package, its metadata's description), shortened."""
    base = root if root.is_dir() else root.parent
    for d in (base, base.parent):
        for name in ("README.md", "README.rst", "README.txt", "README"):
            p = d / name
            if p.is_file():
                try:
                    return _shorten(p.read_text(encoding="utf-8", errors="replace"), 1500)
                except OSError:
                    return ""
    for meta in sorted(base.parent.glob(f"{base.name}-*.dist-info/METADATA")):
        try:
            text = meta.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        _, _, body = text.partition("\n\n")
        return _shorten(body, 1500)
    return ""


@dataclass
class _Built:
    task: Task | None
    reason: str = ""
    stage: str = ""
    mutants: int = 0
    killed: int = 0
    tests_dropped: int = 0


class _Runner:
    """Holds the evaluators and the writer for one run; one method per stage."""

    def __init__(self, settings: GenerateSettings, sandbox: Any, writer: Any, tally: _Tally) -> None:
        from codeeval_rl.config import EvaluationSettings
        from codeeval_rl.evaluation import Evaluator

        base: dict[str, Any] = {"shaping": "binary", "quality_weight": 0.0, "efficiency_weight": 0.0,
                                "deduplicate": False}
        self.settings = settings
        self.sandbox = sandbox
        self.checker = Evaluator(EvaluationSettings(test_timeout=settings.test_timeout, **base), sandbox=sandbox)
        self.mutant_checker = Evaluator(EvaluationSettings(test_timeout=settings.mutant_timeout, **base),
                                        sandbox=sandbox)
        self.writer = writer
        self.tally = tally

    def oracle(self, fn: SourceFunction, inputs: Sequence[Input]
               ) -> tuple[list[Frozen], dict[str, tuple[str, ...]], str]:
        program = freeze_program(fn, inputs)
        first, second = self.sandbox.run_many([program, program], oracle_limits(len(inputs)))
        run = freeze_results(inputs, first, second)
        if run.rejected:
            return [], {}, run.rejected
        for reason, n in (run.unusable or {}).items():
            self.tally.drop("oracle", reason, n)
        if run.nondeterministic:
            self.tally.drop("oracle", "the two runs disagree", run.nondeterministic)
        return list(run.frozen), run.imports, ""

    def build(self, fn: SourceFunction, sites: Any, readme: str, identity: Any, licence: str,
              source_name: str) -> _Built:
        s = self.settings
        inputs = make_inputs(fn, sites, seed=s.seed, max_inputs=s.max_inputs)
        self.tally.keep("inputs", len(inputs))
        question = None
        if self.writer is not None:
            question = self.writer.write(fn)
        frozen, imports, problem = self.oracle(fn, inputs)
        if problem:
            return _Built(None, problem, "oracle")
        self.tally.keep("oracle", len(frozen))
        codes = [frozen_test_code(fn.name, f, imports.get(f.args, ())) for f in frozen]
        model_asserts = list(question.asserts) if question is not None else []
        if question is not None:
            for p in question.problems:
                self.tally.drop("tests", "model assert: " + p.split(":", 1)[-1].strip())
        pool_tests = [TestCase(kind="assert", code=c, id=f"c{i}") for i, c in enumerate(codes + model_asserts)]
        if not pool_tests:
            return _Built(None, "no input gave a usable result", "tests")
        # 3. the oracle check, through the evaluator's harness
        original = _program(fn)
        (verdicts,) = _verdicts(self.checker.evaluate_many([(_probe(fn, pool_tests), original)], tests="all"))
        keep = [i for i, ok in enumerate(verdicts) if ok]
        dropped = len(pool_tests) - len(keep)
        if dropped:
            self.tally.drop("tests", "the original fails it under the harness", dropped)
        pool: list[Frozen] = []
        pool_codes: list[str] = []
        for i in keep:
            if i < len(frozen):
                pool.append(frozen[i])
            else:  # a model's assert: no arcs, ranked after the oracle's own inputs
                pool.append(Frozen(args=model_asserts[i - len(frozen)], outcome="return", value="",
                                   source="model"))
            pool_codes.append(pool_tests[i].code)
        if len(pool) < s.min_tests:
            return _Built(None, f"fewer than {s.min_tests} tests pass on the original", "tests",
                          tests_dropped=dropped)
        # 4. coverage, then mutants
        # the model's asserts that hold on the original come first (AceCoder's tests), then
        # the oracle's inputs by coverage for the remaining places
        model_idx = [i for i, f in enumerate(pool) if f.source == "model"][: s.max_tests]
        oracle_idx = [i for i, f in enumerate(pool) if f.source != "model"]
        picked = choose_by_coverage([pool[i] for i in oracle_idx], s.max_tests - len(model_idx), s.seed,
                                    s.min_tests - len(model_idx))
        chosen = model_idx + [oracle_idx[k] for k in picked]
        muts = mutants(fn.source, max_mutants=s.max_mutants, seed=s.seed)
        if not muts:
            return _Built(None, "no mutant can be made (too small to test)", "mutation")
        candidates = [TestCase(kind="assert", code=c, id=f"c{i}") for i, c in enumerate(pool_codes)]
        results = self.mutant_checker.evaluate_many(
            [(_probe(fn, candidates), _program(fn, m.source)) for m in muts], tests="all")
        kills: list[set[int]] = [set() for _ in candidates]
        for m, verdict in enumerate(_verdicts(results)):
            for j, ok in enumerate(verdict):
                if not ok:
                    kills[j].add(m)
        chosen = add_for_mutants(chosen, [frozenset(k) for k in kills], len(muts), s.mutation_target,
                                 max_tests=2 * s.max_tests)
        killed = set().union(*(kills[j] for j in chosen)) if chosen else set()
        score = len(killed) / len(muts)
        if score < s.mutation_target:
            return _Built(None, f"mutation score {score:.2f} under the target {s.mutation_target:.2f}",
                          "mutation", len(muts), len(killed))
        self.tally.keep("mutation")
        self.tally.keep("tests", len(chosen))
        if len(pool) > len(chosen):
            self.tally.drop("tests", "not chosen (adds no coverage, result or mutant kill)", len(pool) - len(chosen))
        # 5. the question, tier, context, provenance
        public = choose_public(pool, [i for i in chosen if pool[i].source != "model"], s.public_tests)
        order = public + [i for i in chosen if i not in public]
        tests = tuple(TestCase(kind="assert", code=pool_codes[i], id=f"t{k + 1}") for k, i in enumerate(order))
        public_ids = tuple(f"t{k + 1}" for k in range(len(public)))
        from codeeval_rl.datagen.question import example_from_frozen, model_question_prompt, oracle_question

        examples = [e for e in (example_from_frozen(fn.name, pool[i]) for i in public) if e is not None]
        try:
            model_id = model_prompt = None
            if question is not None:
                from codeeval_rl.datagen.question import acecoder_messages

                model_id, model_prompt = self.writer.generator_id, self.writer.backend.render(acecoder_messages(fn))
            if question is not None and _usable_question(question.question):
                prompt = model_question_prompt(fn, question, examples)
            else:
                if question is not None:
                    self.tally.drop("question", "the model's question is unusable: the original's docstring is used")
                prompt = oracle_question(fn, examples)
        except InputError as exc:
            return _Built(None, str(exc), "question")
        self.tally.keep("question")
        reference = _program(fn)
        tests_dropped = len(pool_tests) - len(tests)
        from codeeval_rl.datagen.provenance import provenance_record

        task = Task(
            id=f"{fn.path}::{fn.name}", language="python", prompt=prompt, entry_point=fn.name, tests=tests,
            public_test_ids=public_ids, reference_solution=reference, tier=_tier_static(fn),
            category=Path(fn.path).stem if Path(fn.path).stem != "__init__" else Path(fn.path).parent.name or "module",
            context=_context(fn, readme),
            provenance=provenance_record(
                source=source_name, identity=identity, path=fn.path, lines=(fn.start_line, fn.end_line),
                licence=licence, tests_kept=len(tests), tests_dropped=tests_dropped, mutation_score=score,
                model_id=model_id, prompt=model_prompt))
        if self.writer is not None:
            task = replace(task, tier=self.tier_by_model(task))
        return _Built(task, "", "", len(muts), len(killed), tests_dropped)

    def tier_by_model(self, task: Task) -> str:
        """The tier from the model's pass rate over ``tier_samples`` samples on the hidden tests."""
        messages = [{"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Complete this Python function. Answer with the whole function "
                                                f"in a ```python block.\n\n```python\n{task.prompt}```"}]
        try:
            replies = self.writer.complete(messages, n=self.settings.tier_samples, temperature=0.8)
        except InputError:
            return task.tier
        items = [(task, self.checker.completion_to_code(task, r)) for r in replies]
        results = self.checker.evaluate_many(items, tests="hidden")
        rate = sum(r.passed for r in results) / max(1, len(results))
        return _tier_from_rate(rate)

    def final_check(self, tasks: Sequence[Task], strict: bool = False) -> list[tuple[Task | None, str]]:
        """Each task's reference, sent in a fenced block, through completion extraction: every
        test must pass; failing tests are dropped (the task too, under ``min_tests``). With
        ``strict`` (a task whose fields were masked) any failing test drops the task."""
        items = [(t, self.checker.completion_to_code(t, f"```python\n{t.reference_solution}```")) for t in tasks]
        out: list[tuple[Task | None, str]] = []
        for task, verdict in zip(tasks, _verdicts(self.checker.evaluate_many(items, tests="all")), strict=True):
            if all(verdict):
                out.append((task, ""))
                continue
            keep = tuple(t for t, ok in zip(task.tests, verdict, strict=True) if ok)
            if strict:
                out.append((None, "the masked reference fails its tests"))
                continue
            if len(keep) < self.settings.min_tests:
                out.append((None, f"the reference passes only {len(keep)} of {len(task.tests)} tests"))
                continue
            ids = {t.id for t in keep}
            prov = dict(task.provenance)
            prov["tests_kept"] = str(len(keep))
            prov["tests_dropped"] = str(int(prov.get("tests_dropped", "0")) + len(task.tests) - len(keep))
            out.append((replace(task, tests=keep, public_test_ids=tuple(i for i in task.public_test_ids if i in ids),
                                provenance=prov), ""))
        return out


def generate(root: str | Path, settings: GenerateSettings | None = None, *, writer: Any = None,
             sandbox: Any = None, progress: Callable[[str, int, int], None] | None = None) -> Generation:
    """Run every stage on the tree at ``root`` (a directory or one file) and return what was
    made; nothing is written here (the CLI writes the file and the audit record).

    ``writer``: a :class:`~codeeval_rl.datagen.question.ModelQuestionWriter` for the model
    path, else the questions are written from the original. ``sandbox``: a started
    :class:`~codeeval_rl.sandbox.Sandbox` to reuse, else one is started and stopped here.
    ``progress(label, done, total)`` is called as functions are processed.
    """
    settings = settings or GenerateSettings()
    root = Path(root)
    if not root.exists():
        raise InputError(f"{root}: no such file or directory")
    if settings.language == "javascript":
        return _generate_javascript(root, settings, sandbox, writer, progress)
    from codeeval_rl.datagen.provenance import detect_licence, source_identity
    from codeeval_rl.datagen.secrets import Masker

    tally = _Tally()
    files = walk_python(root)
    for _path, reason in files.skipped:
        tally.drop("files", reason)
    tally.keep("files", len(files.sources))
    selection = select_functions(files, static_methods=settings.static_methods,
                                 include_private=settings.include_private)
    for skip in selection.skipped:
        tally.drop("functions", skip.reason)
    tally.keep("functions", len(selection.functions))
    base = root if root.is_dir() else root.parent
    ident = source_identity(base)
    licence = detect_licence(base)
    readme = _readme(root)
    sites = collect_call_sites(files.sources + files.tests)
    masker = Masker()
    own_sandbox = sandbox is None
    if sandbox is None:
        from codeeval_rl.sandbox import Sandbox

        sandbox = Sandbox()
    runner = _Runner(settings, sandbox, writer, tally)
    tasks: list[Task] = []
    masked: dict[str, dict[str, int]] = {}
    mutants_total = mutants_killed = 0
    interrupted = False
    try:
        functions = selection.functions
        for n, fn in enumerate(functions):
            if settings.limit is not None and len(tasks) >= settings.limit:
                break
            if progress is not None:
                progress(f"{fn.path}::{fn.name}", n, len(functions))
            try:
                built = runner.build(fn, sites, readme, ident, licence, str(root))
            except SandboxError:
                raise
            except KeyboardInterrupt:
                interrupted = True
                break
            except Exception as exc:  # noqa: BLE001 - one odd function never ends the run
                built = _Built(None, f"could not be processed ({type(exc).__name__}: {str(exc)[:120]})", "functions")
            if built.task is None:
                tally.drop(built.stage, built.reason)
                continue
            masked_task = masker.mask_task(built.task)
            task, findings = masked_task.task, masked_task.findings
            for f in findings:
                masked.setdefault(fn.path, {}).setdefault(f.kind, 0)
                masked[fn.path][f.kind] += 1
            tally.keep("masking")
            checked = runner.final_check([task], strict=bool(findings))[0]
            if checked[0] is None:
                tally.drop("check", checked[1])
                continue
            tally.keep("check")
            tasks.append(checked[0])
            mutants_total += built.mutants
            mutants_killed += built.killed
        if progress is not None:
            progress("done", len(selection.functions), len(selection.functions))
    finally:
        runner.checker.close()
        runner.mutant_checker.close()
        if own_sandbox:
            sandbox.close()
    tally.keep("written", len(tasks))
    return Generation(tuple(tasks), tally.stages(), files.skipped, masked, mutants_total, mutants_killed,
                      (ident.kind, ident.value), licence, interrupted)


def _generate_javascript(root: Path, settings: GenerateSettings, sandbox: Any, writer: Any,
                         progress: Callable[[str, int, int], None] | None) -> Generation:
    """The JavaScript path (:func:`~codeeval_rl.datagen.javascript.javascript_tasks`), then the
    same last stages as Python: provenance in the shared keys, secrets masked, and the final
    check of each masked task's reference through the evaluator."""
    from codeeval_rl.datagen.javascript import javascript_tasks
    from codeeval_rl.datagen.provenance import detect_licence, provenance_record, source_identity
    from codeeval_rl.datagen.secrets import Masker

    if writer is not None:
        raise ConfigError("--model and --endpoint write Python questions only; the JavaScript path writes "
                          "its questions from the JSDoc and the public tests (leave them out)")
    base = root if root.is_dir() else root.parent
    ident = source_identity(base)
    licence = detect_licence(base)
    own_sandbox = sandbox is None
    if sandbox is None:
        from codeeval_rl.sandbox import Sandbox

        sandbox = Sandbox()
    tally = _Tally()
    masker = Masker()
    masked: dict[str, dict[str, int]] = {}
    tasks: list[Task] = []
    mutants_total = mutants_killed = 0
    try:
        js = javascript_tasks(root, seed=settings.seed, limit=settings.limit,
                              mutation_target=settings.mutation_target, max_tests=settings.max_tests,
                              sandbox=sandbox, progress=progress, max_mutants=settings.max_mutants)
        runner = _Runner(settings, sandbox, None, tally)
        for task in js.tasks:
            prov = task.provenance
            start, _, end = prov.get("lines", "1-1").partition("-")
            killed, _, total = prov.get("mutants", "0/0").partition("/")
            record = provenance_record(
                source=str(root), identity=ident, path=prov["path"], lines=(int(start), int(end or start)),
                licence=licence, tests_kept=len(task.tests), tests_dropped=int(prov.get("tests_dropped", "0")),
                mutation_score=int(killed) / int(total) if int(total or 0) else 1.0)
            masked_task = masker.mask_task(replace(task, provenance=record))
            for f in masked_task.findings:
                masked.setdefault(record["path"], {}).setdefault(f.kind, 0)
                masked[record["path"]][f.kind] += 1
            tally.keep("masking")
            if masked_task.findings:
                checked, reason = runner.final_check([masked_task.task], strict=True)[0]
                if checked is None:
                    tally.drop("check", reason)
                    continue
            tally.keep("check")
            tasks.append(masked_task.task)
            mutants_total += int(total or 0)
            mutants_killed += int(killed or 0)
        runner.checker.close()
        runner.mutant_checker.close()
    finally:
        if own_sandbox:
            sandbox.close()
    # The JavaScript path's own stage counts, then ours for the stages run here (masking, the
    # check of masked tasks, added to the path's own check) and the tasks written.
    tally.keep("written", len(tasks))
    ours = {s.stage: s for s in tally.stages()}
    theirs = {s.stage: s for s in js.stages}
    if "check" in theirs:
        reasons = Counter(dict(ours["check"].reasons)) + Counter(dict(theirs["check"].reasons))
        ours["check"] = StageCount("check", len(tasks), ours["check"].dropped + theirs["check"].dropped,
                                   tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))))
    ours["question"] = StageCount("question", len(js.tasks))
    stages = [ours[st] if st in ("question", "masking", "check", "written") else theirs.get(st, ours[st])
              for st in STAGES]
    stages.extend(s for s in js.stages if s.stage in ("selection", "mutants"))
    return Generation(tuple(tasks), tuple(stages), js.skipped_files, masked, mutants_total, mutants_killed,
                      (ident.kind, ident.value), licence)


def settings_hash(settings: GenerateSettings) -> str:
    """A stable hash of the settings (for the audit record's inputs hash)."""
    return hashlib.sha256(json.dumps(settings.__dict__, sort_keys=True, default=str).encode()).hexdigest()
