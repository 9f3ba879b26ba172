"""``datasets generate`` on real libraries' source, as installed from their PyPI packages.

For each library (default: inflection 0.5.1 and boltons 26.2.0, both in the ``dev`` extra),
the script finds the installed package's source directory, runs the shipped CLI on it with
the shipped defaults and no model, and prints: functions found, tasks written, tests per
task, the mutation score of the written tasks (killed / generated mutants), the share of
written tasks whose reference passes every test through ``codeeval-rl evaluate``, and the
wall time.

    python bench/datagen_libraries.py [--library NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).parent / "codeeval-rl")


def _source_dir(name: str) -> Path:
    module = importlib.import_module(name)
    return Path(module.__file__).parent  # type: ignore[arg-type]


def _version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:  # noqa: BLE001
        return "?"


def measure(name: str, workdir: Path) -> dict[str, Any]:
    src = _source_dir(name)
    out = workdir / f"{name}.jsonl"
    start = time.perf_counter()
    run = subprocess.run([CLI, "datasets", "generate", str(src), "--output", str(out), "--json"], check=False,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{name}: generate failed: {run.stderr.strip()}")
    summary = json.loads(run.stdout)
    tasks = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    samples = workdir / f"{name}.samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t["id"], "completion": f"```python\n{t['reference_solution']}```"})
                               + "\n" for t in tasks))
    report = workdir / f"{name}.r.json"
    ev = subprocess.run([CLI, "evaluate", "--dataset", str(out), "--samples", str(samples), "--output", str(report),
                         "--k", "1", "--json"], capture_output=True, text=True, check=False)
    passed = json.loads(report.read_text())["summary"]["pass_at_k"]["pass@1"] if ev.returncode == 0 and tasks else 0.0
    stages = {s["stage"]: s for s in summary["stages"]}
    return {
        "library": f"{name} {_version(name)}", "functions": stages["functions"]["kept"],
        "tasks": summary["tasks"], "tests_per_task": round(sum(len(t["tests"]) for t in tasks) / max(1, len(tasks)), 1),
        "mutants": summary["mutants"]["total"], "killed": summary["mutants"]["killed"],
        "mutation_score": summary["mutants"]["score"], "references_pass": passed,
        "tiers": {tier: sum(t.get("tier") == tier for t in tasks) for tier in ("easy", "medium", "hard")},
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", action="append", help="An installed library (repeatable).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.library or ["inflection", "boltons"]:
            rows.append(measure(name, Path(tmp)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'library':22} {'functions':>9} {'tasks':>5} {'tests/task':>10} {'mutants killed':>15} "
          f"{'refs pass':>9} {'seconds':>7}")
    for r in rows:
        print(f"{r['library']:22} {r['functions']:>9} {r['tasks']:>5} {r['tests_per_task']:>10} "
              f"{r['killed']:>6}/{r['mutants']:<4} {r['mutation_score']:.3f} {r['references_pass']:>9.3f} "
              f"{r['seconds']:>7}")


if __name__ == "__main__":
    main()
