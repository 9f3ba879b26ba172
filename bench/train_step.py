"""Time one GRPO step: ours vs TRL's GRPOTrainer, same model, prompts, batch and precision.

Both start from the same supervised warm start, the quickstart's SFT model (``--sft-model DIR``,
e.g. ``runs/quickstart/sft_model`` after ``make quickstart``; without it the script trains one
with the quickstart's recipe first, about a minute), so rewards are real and vary within groups.
Both train it on the quickstart's training tasks with the same batch (``--prompts`` x
``--generations`` completions of up to ``--max-new-tokens`` tokens) and these matched settings:

* fp32 on CPU for both: TRL's ``GRPOConfig`` defaults to ``bf16=True`` and
  ``gradient_checkpointing=True``; this script sets both to False (these CPUs have no bf16 and
  checkpointing recomputes the forward pass), which is what our trainer does;
* temperature 1, top-p 1, learning rate 1e-4, max grad norm 1, no KL term (``beta=0``, TRL's
  default: no reference model on either side), loss ``dapo``, clip 0.2 / 0.28 (``epsilon_high``
  set on TRL's side), advantages scaled per group, one optimisation pass per batch (TRL:
  ``num_iterations=1``, ``steps_per_generation=1``), no dropout change, no logging of completions;
* the same reward: the evaluation engine's binary verdict from the real sandbox (TRL calls it
  through ``codeeval_rl.integrations.trl.reward_function``, synchronously as TRL calls a sync
  reward; ours scores a batch while the next one generates, as it ships);
* the same 2 torch threads.

Each side runs ``--rounds`` times in alternating order (ours, TRL, TRL, ours, ...), each run a
fresh model from the SFT weights; the first ``--warmup`` steps of each run are discarded and the
median over the rest of all its runs is reported (with each run's own median), with the fraction
of each step spent waiting on rewards and the mean reward of the timed steps.

    python bench/train_step.py [--sft-model DIR] [--steps 12] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def sft_model(args, folder: str) -> str:
    """The quickstart's SFT model: ``--sft-model`` when given, else trained now with its recipe."""
    if args.sft_model:
        if not (Path(args.sft_model) / "config.json").is_file():
            raise SystemExit(f"--sft-model {args.sft_model}: no Hugging Face model there (config.json missing)")
        return args.sft_model
    from codeeval_rl.apps.quickstart.pipeline import FULL_PLAN as plan
    from codeeval_rl.rl.curriculum import build_curriculum
    from codeeval_rl.rl.loop import seed_everything
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.sft import sft_train
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    seed_everything(args.seed)
    cur = build_curriculum(args.seed)
    tok = train_tokenizer([i.task.prompt + i.body for i in cur.train], plan.vocab_size)
    model = build_tiny_model(len(tok), hidden=plan.hidden, layers=plan.layers, intermediate=3 * plan.hidden,
                             seed=args.seed, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    print(f"training the quickstart's SFT model ({plan.sft_steps} steps)...", file=sys.stderr)
    sft_train(model, tok, [(i.task.prompt, i.body) for i in cur.train], steps=plan.sft_steps,
              batch_size=plan.sft_batch, learning_rate=plan.sft_lr, seed=args.seed)
    path = str(Path(folder) / "sft_model")
    LLMAdapter.from_objects(model, tok, device="cpu").save(path)
    return path


def train_tasks(seed: int):
    from codeeval_rl.rl.curriculum import build_curriculum

    return list(build_curriculum(seed).train_tasks)


def ours(args, sandbox, model_dir: str) -> dict:
    from codeeval_rl.config import EvaluationSettings, TrainSettings
    from codeeval_rl.rl.grpo import train_grpo
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer

    policy = LLMAdapter(model_dir, device="cpu", use_vllm=False)
    scorer = EvaluatorScorer.from_settings(EvaluationSettings(shaping="binary"), sandbox, tests="all")
    with tempfile.TemporaryDirectory() as out:
        s = TrainSettings(steps=args.steps, batch_size=args.prompts, num_generations=args.generations,
                          learning_rate=1e-4, max_new_tokens=args.max_new_tokens, temperature=1.0, beta=0.0,
                          loss_type="dapo", epsilon=0.2, epsilon_high=0.28, scale_rewards="group",
                          output_dir=out, checkpoint_every=0, reward_tests="all", seed=args.seed,
                          async_rewards=args.async_rewards)
        result = train_grpo(s, policy, train_tasks(args.seed), scorer, save_final=False)
    hist = result.history[args.warmup:]
    return {"step_s": statistics.median(h["step_time_s"] for h in hist), "steps": [h["step_time_s"] for h in hist],
            "reward_wait_fraction": statistics.mean(h["reward_wait_fraction"] for h in hist),
            "mean_reward": statistics.mean(h["reward_mean"] for h in hist)}


def trl_steps(args, sandbox, model_dir: str) -> dict:
    import datasets
    import transformers
    import trl

    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.integrations.trl import reward_function

    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir)
    tasks = train_tasks(args.seed)  # the same pool ours draws from, each side in its own seeded order
    reward = reward_function(EvaluationSettings(shaping="binary"), sandbox, tasks=tasks, tests="all")
    wait: list[float] = []
    rewards: list[float] = []

    def timed(prompts, completions, **kw):
        t0 = time.perf_counter()
        out = reward(prompts, completions, **kw)
        wait.append(time.perf_counter() - t0)
        rewards.append(statistics.mean(out))
        return out

    timed.__name__ = "codeeval"
    ds = datasets.Dataset.from_dict({"prompt": [t.prompt for t in tasks], "task_id": [t.id for t in tasks]})
    stamps: list[float] = []

    class Clock(transformers.TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            stamps.append(time.perf_counter())

        def on_step_end(self, a, state, control, **kw):
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        cfg = trl.GRPOConfig(output_dir=out, max_steps=args.steps, per_device_train_batch_size=args.prompts * args.generations,
                             num_generations=args.generations, max_completion_length=args.max_new_tokens,
                             learning_rate=1e-4, temperature=1.0, top_p=1.0, beta=0.0, loss_type="dapo",
                             epsilon=0.2, epsilon_high=0.28, scale_rewards="group", num_iterations=1,
                             steps_per_generation=1, max_grad_norm=1.0, logging_steps=1, report_to=[],
                             use_cpu=True, bf16=False, gradient_checkpointing=False, save_strategy="no",
                             disable_tqdm=True, seed=args.seed)
        trainer = trl.GRPOTrainer(model=model, reward_funcs=[timed], args=cfg, train_dataset=ds, processing_class=tok,
                                  callbacks=[Clock()])
        with contextlib.redirect_stdout(io.StringIO()):  # TRL prints every step's log dict
            trainer.train()
    steps = [stamps[i + 1] - stamps[i] for i in range(0, len(stamps) - 1, 2)][args.warmup:]
    waits = wait[args.warmup:]
    return {"step_s": statistics.median(steps), "steps": steps,
            "reward_wait_fraction": statistics.mean(w / s for w, s in zip(waits, steps)),
            "mean_reward": statistics.mean(rewards[args.warmup:])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--generations", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sft-model", default=None, help="the quickstart's sft_model directory (default: train one now)")
    p.add_argument("--async-rewards", default="auto", type=lambda v: v if v == "auto" else v == "true",
                   help="ours: auto (the shipped default; on the CPU, synchronous), true or false")
    p.add_argument("--rounds", type=int, default=2, help="runs of each side, in alternating order (default 2)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    import torch

    from codeeval_rl.sandbox import Sandbox

    torch.set_num_threads(2)
    runs: dict[str, list[dict]] = {"ours": [], "trl": []}
    order = [("ours", "trl"), ("trl", "ours")]
    with tempfile.TemporaryDirectory() as folder, Sandbox(workers=2) as sb:
        model_dir = sft_model(args, folder)
        for r in range(args.rounds):  # A B, B A, ...: neither side always runs first on a drifting VM
            for side in order[r % 2]:
                runs[side].append((ours if side == "ours" else trl_steps)(args, sb, model_dir))
    a, b = ({"step_s": statistics.median(t for run in runs[side] for t in run["steps"]),
             "reward_wait_fraction": statistics.mean(run["reward_wait_fraction"] for run in runs[side]),
             "mean_reward": statistics.mean(run["mean_reward"] for run in runs[side])} for side in ("ours", "trl"))
    res = {"ours_step_s": a["step_s"], "trl_step_s": b["step_s"], "ratio_ours_over_trl": a["step_s"] / b["step_s"],
           "ours_step_s_per_round": [run["step_s"] for run in runs["ours"]],
           "trl_step_s_per_round": [run["step_s"] for run in runs["trl"]],
           "ours_reward_wait_fraction": a["reward_wait_fraction"], "trl_reward_wait_fraction": b["reward_wait_fraction"],
           "ours_mean_reward": a["mean_reward"], "trl_mean_reward": b["mean_reward"],
           "precision": "fp32 both (TRL: bf16=False, gradient_checkpointing=False)",
           "batch": f"{args.prompts} prompts x {args.generations} completions, <= {args.max_new_tokens} tokens",
           "steps_timed": args.steps - args.warmup}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            shown = f"{v:.3f}" if isinstance(v, float) else (
                " ".join(f"{x:.3f}" for x in v) if isinstance(v, list) else str(v))
            print(f"{k:30s} {shown}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
