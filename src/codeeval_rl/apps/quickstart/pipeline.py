"""The offline quickstart: a tokenizer and a tiny LM from scratch, SFT on noisy solutions,
then GRPO from execution rewards, measured on two held-out sets.

1. train a byte-level BPE tokenizer and a Llama-architecture LM of about a million parameters;
2. supervised warm start on the built-in curriculum (:mod:`codeeval_rl.rl.curriculum`), whose
   training solutions are about 30% subtly wrong, so the SFT model writes the wrong variant
   about as often;
3. GRPO with the evaluation engine's binary reward (all tests pass) from the real sandbox;
4. held-out pass@1 of the SFT model and of the RL model on two sets: *held-out constants*
   (training families with constants no training task has) and *unseen families* (task
   families no training task comes from). For each: sampled pass@1 (``eval_samples`` per task
   at the training temperature; the fraction of passing samples, the unbiased estimate) and
   greedy pass@1 (:mod:`.heldout`);
5. ``train_tasks.jsonl`` / ``heldout_tasks.jsonl`` / ``unseen_tasks.jsonl`` (Task JSONL),
   ``sft_model/`` and ``grpo/final/`` (Hugging Face format), ``report.json``, ``report.html``
   (:mod:`.page`) and the run store ``codeeval.db`` holding the GRPO run and the four held-out
   evaluations, so ``codeeval-rl report``, ``errors`` and ``compare`` work on the directory.

The unseen-family evaluations draw their samples from a forked torch RNG, so the held-out
constants' figures and the training run are what they would be without them.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codeeval_rl.apps.quickstart.heldout import HeldoutResult, evaluate_heldout, log_heldout
from codeeval_rl.apps.quickstart.page import render_html

__all__ = ["FULL_PLAN", "QUICK_PLAN", "QuickstartPlan", "run_quickstart"]


@dataclass(frozen=True)
class QuickstartPlan:
    """Sizes of each stage; :data:`FULL_PLAN` meets the published figures on 2 CPU cores."""

    sft_steps: int = 400
    sft_batch: int = 32
    sft_lr: float = 2e-3
    rl_steps: int = 100
    rl_batch: int = 16
    rl_generations: int = 8
    rl_lr: float = 4e-4
    beta: float = 0.01
    eval_samples: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 32
    hidden: int = 128
    layers: int = 4
    vocab_size: int = 512
    checkpoint_every: int = 25


FULL_PLAN = QuickstartPlan()
QUICK_PLAN = QuickstartPlan(sft_steps=150, rl_steps=6, rl_batch=8, eval_samples=2, checkpoint_every=3)


def _measure(policy: Any, cur: Any, scorer: Any, plan: QuickstartPlan, store: Any, model: str,
             seed: int) -> tuple[HeldoutResult, HeldoutResult]:
    """``(held-out constants, unseen families)`` for the policy as it is now, both logged.

    The unseen set runs first on a forked RNG (it leaves the generator as it found it); the
    held-out constants' run is logged last, so it stays the store's latest evaluation."""
    import torch

    def measure(tasks: Any) -> HeldoutResult:
        return evaluate_heldout(policy, tasks, scorer, samples=plan.eval_samples, temperature=plan.temperature,
                                max_new_tokens=plan.max_new_tokens)

    with torch.random.fork_rng(devices=[]):
        unseen = measure(cur.unseen)
    heldout = measure(cur.heldout)
    config = {"model": model, "seed": seed, "samples_per_task": plan.eval_samples, "temperature": plan.temperature}
    log_heldout(store, f"quickstart-unseen-{model}", unseen, {**config, "set": "unseen families"})
    log_heldout(store, f"quickstart-heldout-{model}", heldout, {**config, "set": "held-out constants"})
    return heldout, unseen


def _say(stage: str, heldout: HeldoutResult, unseen: HeldoutResult) -> str:
    return (f"after {stage}: held-out constants pass@1 {heldout.sampled:.3f} (greedy {heldout.greedy:.3f}); "
            f"unseen families pass@1 {unseen.sampled:.3f} (greedy {unseen.greedy:.3f})")


def run_quickstart(output: str | os.PathLike[str], *, seed: int = 0, plan: QuickstartPlan = FULL_PLAN,
                   sandbox: Any = None, log: Callable[[str], None] = print,
                   on_step: Callable[[int, Mapping[str, float]], None] | None = None) -> dict[str, Any]:
    """Run the whole quickstart into ``output``; returns what ``report.json`` holds."""
    import torch

    from codeeval_rl.config import EvaluationSettings, TrainSettings
    from codeeval_rl.data import write_tasks
    from codeeval_rl.monitoring import RunStore
    from codeeval_rl.monitoring.store import STORE_FILENAME
    from codeeval_rl.rl.curriculum import UNSEEN_FAMILIES, build_curriculum
    from codeeval_rl.rl.grpo import train_grpo
    from codeeval_rl.rl.loop import seed_everything
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer
    from codeeval_rl.rl.sft import sft_train
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer
    from codeeval_rl.sandbox import Sandbox

    started = time.perf_counter()
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    own_sandbox = sandbox is None
    sb = Sandbox(workers=2) if own_sandbox else sandbox
    store = RunStore(out / STORE_FILENAME)
    timings: dict[str, float] = {}
    try:
        scorer = EvaluatorScorer.from_settings(EvaluationSettings(shaping="binary", test_timeout=2.0), sb,
                                               tests="all")
        # 1. curriculum, tokenizer, model
        t0 = time.perf_counter()
        cur = build_curriculum(seed)
        tokenizer = train_tokenizer([i.task.prompt + i.body for i in cur.train], plan.vocab_size)
        model = build_tiny_model(len(tokenizer), hidden=plan.hidden, layers=plan.layers,
                                 intermediate=3 * plan.hidden, seed=seed,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        n_params = sum(p.numel() for p in model.parameters())
        wrong = sum(not i.correct for i in cur.train) / len(cur.train)
        log(f"curriculum: {len(cur.train)} SFT examples ({wrong:.0%} wrong) over {len(cur.train_tasks)} tasks; "
            f"held out: {len(cur.heldout)} tasks with new constants, {len(cur.unseen)} tasks of "
            f"{len(UNSEEN_FAMILIES)} unseen families; model {n_params / 1e6:.2f}M parameters, vocab {len(tokenizer)}")
        timings["build_s"] = time.perf_counter() - t0
        write_tasks(out / "train_tasks.jsonl", cur.train_tasks)
        write_tasks(out / "heldout_tasks.jsonl", cur.heldout)
        write_tasks(out / "unseen_tasks.jsonl", cur.unseen)

        # 2. SFT warm start
        t0 = time.perf_counter()
        losses = sft_train(model, tokenizer, [(i.task.prompt, i.body) for i in cur.train], steps=plan.sft_steps,
                           batch_size=plan.sft_batch, learning_rate=plan.sft_lr, seed=seed,
                           on_step=lambda s, loss: log(f"sft step {s + 1}/{plan.sft_steps} loss {loss:.3f}")
                           if (s + 1) % 100 == 0 else None)
        timings["sft_s"] = time.perf_counter() - t0
        policy = LLMAdapter.from_objects(model, tokenizer, device="cpu")
        policy.save(out / "sft_model")
        t0 = time.perf_counter()
        sft, sft_unseen = _measure(policy, cur, scorer, plan, store, "sft", seed)
        timings["eval_sft_s"] = time.perf_counter() - t0
        log(_say("SFT", sft, sft_unseen))

        # 3. GRPO from execution rewards
        t0 = time.perf_counter()
        settings = TrainSettings(
            algorithm="grpo", model="quickstart-tiny", output_dir=str(out / "grpo"), steps=plan.rl_steps,
            batch_size=plan.rl_batch, num_generations=plan.rl_generations, learning_rate=plan.rl_lr,
            temperature=plan.temperature, max_new_tokens=plan.max_new_tokens, beta=plan.beta,
            loss_type="dapo", checkpoint_every=plan.checkpoint_every, seed=seed, reward_tests="all")
        policy.name = "quickstart-tiny"
        result = train_grpo(settings, policy, list(cur.train_tasks), scorer, store, on_step=on_step)
        timings["grpo_s"] = time.perf_counter() - t0

        # 4. held-out after RL
        t0 = time.perf_counter()
        rl, rl_unseen = _measure(policy, cur, scorer, plan, store, "rl", seed)
        timings["eval_rl_s"] = time.perf_counter() - t0
        log(_say("GRPO", rl, rl_unseen))
    finally:
        store.close()
        if own_sandbox:
            sb.close()
    report = {
        "heldout_pass@1_sft": sft.sampled,
        "heldout_pass@1_rl": rl.sampled,
        "improvement_points": 100 * (rl.sampled - sft.sampled),
        "heldout_greedy_pass@1_sft": sft.greedy,
        "heldout_greedy_pass@1_rl": rl.greedy,
        "unseen_pass@1_sft": sft_unseen.sampled,
        "unseen_pass@1_rl": rl_unseen.sampled,
        "unseen_improvement_points": 100 * (rl_unseen.sampled - sft_unseen.sampled),
        "unseen_greedy_pass@1_sft": sft_unseen.greedy,
        "unseen_greedy_pass@1_rl": rl_unseen.greedy,
        "seed": seed,
        "wall_time_s": time.perf_counter() - started,
        "timings_s": timings,
        "plan": asdict(plan),
        "heldout_tasks": len(cur.heldout),
        "unseen_tasks": len(cur.unseen),
        "unseen_families": [f.name for f in UNSEEN_FAMILIES],
        "eval_samples_per_task": plan.eval_samples,
        "eval_temperature": plan.temperature,
        "train_tasks": len(cur.train_tasks),
        "sft_examples": len(cur.train),
        "sft_wrong_fraction": wrong,
        "sft_final_loss": losses[-1],
        "parameters": n_params,
        "grpo_run_id": result.run_id,
        "history": result.history,
        "host": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version()},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    return report
