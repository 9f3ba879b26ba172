"""A realistic synthetic training run for report, dashboard and CLI tests.

Error texts are the messages the real toolchains print (captured from the sandbox); the
taxonomy's own tests run real programs instead.
"""

from __future__ import annotations

import math
import random

from codeeval_rl.monitoring import RolloutRecord, RunStore

LANGS = ("python", "javascript", "java", "cpp", "c", "rust")
CATEGORIES = ("strings", "math", "arrays", "graphs", "dp")
TIERS = ("easy", "medium", "hard")
FAILURES = {
    "python": [("runtime_error", ("Traceback (most recent call last):\n  File \"/box/work/main.py\", line 3, in <module>\n"
                "    print(x[5])\nIndexError: list index out of range")),
               ("runtime_error", ("Traceback (most recent call last):\n  File \"/box/work/main.py\", line 1\n"
                "NameError: name 'helper' is not defined")),
               ("runtime_error", "AssertionError: candidate(3) == 6"),
               ("timeout", "wall time limit of 5s exceeded")],
    "javascript": [("runtime_error", "/box/work/main.js:1\n\nReferenceError: solve is not defined\n    at Object.<anonymous>"),
                   ("runtime_error", "TypeError: Cannot read properties of undefined (reading 'length')")],
    "java": [("compile_error", "Main.java:4: error: cannot find symbol\n  symbol:   variable count\n1 error"),
             ("runtime_error", ("Exception in thread \"main\" java.lang.ArrayIndexOutOfBoundsException: "
                               "Index 7 out of bounds for length 7\n\tat Main.main(Main.java:9)"))],
    "cpp": [("compile_error", "main.cpp: In function 'int main()':\nmain.cpp:5:9: error: 'res' was not declared in this scope"),
            ("runtime_error", "killed by SIGSEGV")],
    "c": [("compile_error", "main.c:2:26: error: expected ';' before 'return'")],
    "rust": [("compile_error", "error[E0308]: mismatched types\n --> main.rs:3:17"),
             ("runtime_error", "thread 'main' panicked at 'attempt to subtract with overflow', main.rs:4:13")],
}


def make_run(store: RunStore, name: str = "grpo-demo", steps: int = 12, tasks: int = 30, samples: int = 4,
             seed: int = 0, skill: float = 0.0, finish: bool = True, kind: str = "train") -> str:
    """Write a run whose pass rate rises over ``steps``; ``skill`` shifts it up."""
    rng = random.Random(seed)
    run = store.start_run(kind, name, {"algorithm": "grpo", "learning_rate": 1e-5, "beta": 0.04,
                                        "num_generations": samples, "model": "tiny-qwen2"})
    for step in range(steps):
        batch = []
        for t in range(tasks):
            lang = LANGS[t % len(LANGS)]
            cat = CATEGORIES[t % len(CATEGORIES)]
            tier = TIERS[t % len(TIERS)]
            p = min(0.95, max(0.02, 0.2 + skill + 0.05 * step - 0.1 * TIERS.index(tier)))
            for s in range(samples):
                ok = rng.random() < p
                status, err = ("ok", "") if ok else rng.choice(FAILURES[lang])
                if not ok and rng.random() < 0.3:
                    status, err = "ok", f"test 2: expected '{rng.randint(1, 99)}', got '{rng.randint(1, 99)}'"
                quality = rng.uniform(0.5, 1.0)
                eff = rng.uniform(0.3, 1.0) if ok else 0.0
                comps = {"syntax": 0.0 if status == "compile_error" else 1.0,
                         "execution": 1.0 if status == "ok" else 0.0,
                         "tests": 1.0 if ok else rng.choice([0.0, 0.25, 0.5]), "quality": quality,
                         "efficiency": eff}
                reward = 0.2 * comps["syntax"] + 0.3 * comps["execution"] + 0.3 * comps["tests"] \
                    + 0.1 * quality + 0.1 * eff
                batch.append(RolloutRecord(
                    task_id=f"{cat}-{t:03d}", completion=f"def solve(xs):\n    return sorted(xs)[{s}]\n",
                    reward=reward, status=status, passed=ok, step=step, sample_index=s, language=lang,
                    category=cat, tier=tier, components=comps, first_error=err))
        store.log_rollouts(run, batch)
        store.log_metrics(run, step, {"loss": 0.9 * math.exp(-step / 6) + rng.uniform(0, 0.05),
                                      "kl": 0.002 * step + rng.uniform(0, 0.002),
                                      "reward_mean": sum(r.reward for r in batch) / len(batch),
                                      "grad_norm": rng.uniform(0.5, 1.5)})
    if finish:
        store.finish_run(run)
    return run
