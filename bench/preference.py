"""Learned rewards and verified preferences on the quickstart's SFT model and tasks.

For each seed (default 0, 1, 2), from the quickstart's SFT model of that seed (trained here with
the quickstart's recipe, ``FULL_PLAN``: the same tokenizer, model and 400 SFT steps as
``codeeval-rl quickstart --seed S``), its training tasks and its held-out-constants tasks:

1. **Reward model (AceCoder).** ``rm pairs`` on the training tasks (``--rm-n`` samples per task
   at temperature 1, all of each task's tests, the paper's thresholds), then ``rm train`` from
   the SFT model (``--rm-lr``, ``--rm-epochs``; 10% of the tasks' pairs held out for the pair
   accuracy).
2. **Best-of-8.** 8 samples per held-out task at temperature 1, evaluated as
   ``codeeval-rl evaluate`` does (the hidden tests), reranked by the reward model:
   pass@1 of the RM's choice, of a random choice (its expectation) and of the oracle; also
   with the public-test filter.
3. **CodeDPO.** ``dpo pairs`` on the training tasks (``--codes`` programs per task; the tiny
   model was never taught to write tests, so it borrows the tasks' public tests:
   ``--tests-from task``), then ``dpo train`` from the SFT model (``--dpo-lr``, ``--dpo-beta``,
   ``--rpo-alpha``); held-out pass@1 of the SFT and the DPO model as the quickstart measures it
   (8 samples per task at temperature 1 on all the task's tests, and greedy).
4. **Verification.** Spearman's rho between the mutual-verification score and the true pass
   rate (the hidden tests) of the ``dpo pairs`` programs, against counting the tests passed.

Prints one line per seed and the means; ``--json`` prints everything. Every library call is
the one the commands make (``build_reward_pairs``, ``train_reward_model``, ``evaluate_samples``
+ ``rerank``, ``build_dpo_pairs``, ``train_dpo``, ``evaluate_heldout``).

    python bench/preference.py [--seeds 0,1,2] [--output runs/bench_preference] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sft_model(seed: int, out: Path) -> tuple[Any, Any]:
    """The quickstart's SFT model of ``seed`` (saved to ``out``) and its curriculum."""
    from codeeval_rl.apps.quickstart.pipeline import FULL_PLAN as plan
    from codeeval_rl.rl.curriculum import build_curriculum
    from codeeval_rl.rl.loop import seed_everything
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.sft import sft_train
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    seed_everything(seed)
    cur = build_curriculum(seed)
    tok = train_tokenizer([i.task.prompt + i.body for i in cur.train], plan.vocab_size)
    model = build_tiny_model(len(tok), hidden=plan.hidden, layers=plan.layers, intermediate=3 * plan.hidden,
                             seed=seed, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    sft_train(model, tok, [(i.task.prompt, i.body) for i in cur.train], steps=plan.sft_steps,
              batch_size=plan.sft_batch, learning_rate=plan.sft_lr, seed=seed)
    policy = LLMAdapter.from_objects(model, tok, device="cpu")
    policy.save(out)
    return policy, cur


def run_seed(seed: int, args: argparse.Namespace, root: Path, sandbox: Any) -> dict[str, Any]:
    from codeeval_rl.apps.quickstart.heldout import evaluate_heldout
    from codeeval_rl.cli.evaluate import evaluate_samples
    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.evaluation import Evaluator
    from codeeval_rl.preference.best_of import rerank
    from codeeval_rl.preference.dpo import DpoTrainSettings, train_dpo
    from codeeval_rl.preference.reward_model import RewardModel, RewardTrainSettings, train_reward_model
    from codeeval_rl.preference.reward_pairs import build_reward_pairs
    from codeeval_rl.preference.sampling import seed_chunk
    from codeeval_rl.preference.verify import CodeDpoSettings, build_dpo_pairs
    from codeeval_rl.rl.generation import generate_samples
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer

    out = root / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    policy, cur = sft_model(seed, out / "sft_model")
    train = list(cur.train_tasks)[::args.train_stride]
    heldout = list(cur.heldout)
    times["sft_s"] = time.perf_counter() - t0
    ev = Evaluator(EvaluationSettings(shaping="binary", test_timeout=2.0), sandbox)
    tokens = args.max_new_tokens

    # 1. AceCoder reward model
    t0 = time.perf_counter()
    pairs = build_reward_pairs(policy, train, ev, n=args.rm_n, seed=seed, model_name="quickstart-sft",
                               max_new_tokens=tokens, journal=out / "rm_pairs.partial.jsonl")
    times["rm_pairs_s"] = time.perf_counter() - t0
    log(f"seed {seed}: {len(pairs.rows)} RM pairs from {pairs.tasks_with_pairs}/{pairs.tasks} tasks "
        f"(mean pass rate {pairs.mean_pass_rate:.3f})")
    t0 = time.perf_counter()
    rm_result = train_reward_model(pairs.rows, out / "sft_model", out / "rm", RewardTrainSettings(
        epochs=args.rm_epochs, batch_size=32, learning_rate=args.rm_lr, eval_fraction=0.1, seed=seed,
        save_steps=10_000), progress=False)
    times["rm_train_s"] = time.perf_counter() - t0
    log(f"seed {seed}: RM held-out pair accuracy {rm_result.heldout_accuracy:.3f} on {rm_result.heldout_pairs} pairs")

    # 2. best-of-8 on the held-out tasks, as `codeeval-rl evaluate --best-of 8 --rm` computes it
    t0 = time.perf_counter()
    seed_chunk(seed, 0)
    samples = generate_samples(policy, heldout, n=8, temperature=1.0, max_new_tokens=tokens, batch_size=len(heldout))
    records = evaluate_samples(heldout, samples, ev)
    rm = RewardModel(out / "rm", device="cpu")
    best = rerank(heldout, records, rm, 8, public_filter=True, evaluator=ev)
    times["best_of_s"] = time.perf_counter() - t0
    log(f"seed {seed}: best-of-8 pass@1 rm {best.rm:.3f}, random {best.random:.3f}, oracle {best.oracle:.3f}")

    # 3. CodeDPO
    t0 = time.perf_counter()
    dpo_pairs = build_dpo_pairs(policy, train, ev, CodeDpoSettings(
        codes=args.codes, tests_from="task", task_tests="public", seed=seed, max_new_tokens=tokens),
        model_name="quickstart-sft", journal=out / "dpo_pairs.partial.jsonl")
    times["dpo_pairs_s"] = time.perf_counter() - t0
    log(f"seed {seed}: {dpo_pairs.correctness} correctness and {dpo_pairs.efficiency} efficiency DPO pairs")
    t0 = time.perf_counter()
    dpo_result = train_dpo(dpo_pairs.rows, out / "sft_model", out / "dpo", DpoTrainSettings(
        epochs=args.dpo_epochs, batch_size=16, learning_rate=args.dpo_lr, beta=args.dpo_beta,
        rpo_alpha=args.rpo_alpha, seed=seed, save_steps=10_000), progress=False)
    times["dpo_train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scorer = EvaluatorScorer(ev, tests="all")
    seed_chunk(seed, 1)
    before = evaluate_heldout(policy, heldout, scorer, samples=8, temperature=1.0, max_new_tokens=tokens)
    seed_chunk(seed, 1)
    after = evaluate_heldout(LLMAdapter(str(out / "dpo"), device="cpu"), heldout, scorer, samples=8,
                             temperature=1.0, max_new_tokens=tokens)
    times["heldout_s"] = time.perf_counter() - t0
    log(f"seed {seed}: held-out pass@1 SFT {before.sampled:.3f} -> DPO {after.sampled:.3f} "
        f"(greedy {before.greedy:.3f} -> {after.greedy:.3f})")
    mv, pc = dpo_pairs.report["mutual_verification"], dpo_pairs.report["pass_count"]
    return {
        "seed": seed, "train_tasks": len(train), "heldout_tasks": len(heldout),
        "rm_pairs": len(pairs.rows), "rm_tasks_with_pairs": pairs.tasks_with_pairs,
        "rm_sample_pass_rate": pairs.mean_pass_rate, "rm_train_pairs": rm_result.train_pairs,
        "rm_heldout_pairs": rm_result.heldout_pairs, "rm_heldout_accuracy": rm_result.heldout_accuracy,
        "best_of": best.to_summary(),
        "dpo_correctness_pairs": dpo_pairs.correctness, "dpo_efficiency_pairs": dpo_pairs.efficiency,
        "dpo_train_loss": dpo_result.train_loss,
        "heldout_pass@1_sft": before.sampled, "heldout_pass@1_dpo": after.sampled,
        "heldout_greedy_sft": before.greedy, "heldout_greedy_dpo": after.greedy,
        "verification": dpo_pairs.report,
        "spearman_mutual_task_mean": mv["mean_task_spearman"], "spearman_count_task_mean": pc["mean_task_spearman"],
        "spearman_mutual_pooled": mv["pooled_spearman"], "spearman_count_pooled": pc["pooled_spearman"],
        "timings_s": times,
    }


MEANS = ("rm_pairs", "rm_heldout_accuracy", "best_of.rm_pass@1", "best_of.random_pass@1", "best_of.oracle_pass@1",
         "best_of.public_filter.rm_pass@1", "best_of.public_filter.random_pass@1", "dpo_correctness_pairs",
         "dpo_efficiency_pairs", "heldout_pass@1_sft", "heldout_pass@1_dpo", "heldout_greedy_sft",
         "heldout_greedy_dpo", "spearman_mutual_task_mean", "spearman_count_task_mean", "spearman_mutual_pooled",
         "spearman_count_pooled")


def dig(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        d = d[part]
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--output", default="runs/bench_preference")
    ap.add_argument("--rm-n", type=int, default=16, help="samples per training task for rm pairs")
    ap.add_argument("--rm-lr", type=float, default=5e-4)
    ap.add_argument("--rm-epochs", type=float, default=4.0)
    ap.add_argument("--codes", type=int, default=15, help="programs per training task for dpo pairs")
    ap.add_argument("--dpo-lr", type=float, default=1e-4)
    ap.add_argument("--dpo-beta", type=float, default=0.1)
    ap.add_argument("--dpo-epochs", type=float, default=1.0)
    ap.add_argument("--rpo-alpha", type=float, default=1.0, help="SFT weight of RPO; negative for plain DPO")
    ap.add_argument("--max-new-tokens", type=int, default=32, help="the quickstart's completion budget")
    ap.add_argument("--train-stride", type=int, default=1, help="use every k-th training task (1: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.rpo_alpha < 0:
        args.rpo_alpha = None

    import torch

    from codeeval_rl.sandbox import Sandbox

    torch.set_num_threads(args.threads)
    root = Path(args.output)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    started = time.perf_counter()
    with Sandbox(workers=2) as sandbox:
        runs = [run_seed(seed, args, root, sandbox) for seed in seeds]
    means = {}
    for key in MEANS:
        values = [dig(r, key) for r in runs]
        values = [v for v in values if v is not None]
        means[key] = statistics.fmean(values) if values else None
    report = {"settings": vars(args), "runs": runs, "means": means, "wall_s": time.perf_counter() - started}
    root.mkdir(parents=True, exist_ok=True)
    (root / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for r in runs:
        b = r["best_of"]
        print(f"seed {r['seed']}: RM {r['rm_pairs']} pairs, held-out accuracy {r['rm_heldout_accuracy']:.3f}; "
              f"best-of-8 pass@1 RM {b['rm_pass@1']:.3f} random {b['random_pass@1']:.3f} oracle "
              f"{b['oracle_pass@1']:.3f}; DPO {r['dpo_correctness_pairs']}+{r['dpo_efficiency_pairs']} pairs, "
              f"held-out pass@1 {r['heldout_pass@1_sft']:.3f} -> {r['heldout_pass@1_dpo']:.3f}; Spearman "
              f"{r['spearman_mutual_task_mean']} (count {r['spearman_count_task_mean']})")
    print("means: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in means.items()))
    print(f"{report['wall_s']:.0f} s; report: {root / 'report.json'}")


if __name__ == "__main__":
    main()
