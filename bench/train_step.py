"""Time one GRPO step: ours vs TRL's GRPOTrainer, same tiny model, prompts and batch.

Both train the same freshly built Llama-architecture model (the quickstart's size) on the same
quickstart curriculum tasks, with the same batch (``--prompts`` x ``--generations`` completions
of up to ``--max-new-tokens`` tokens), temperature 1, one optimisation pass per batch, and the
same reward: the evaluation engine's binary verdict from the real sandbox (TRL calls it through
``codeeval_rl.integrations.trl.reward_function``, synchronously as TRL does; ours scores a batch
while the next one generates). The first ``--warmup`` steps of each are discarded; the median
of the rest is reported, with our reward-wait fraction (time blocked on rewards / step time).

    python bench/train_step.py [--steps 12] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time


def build(seed: int):
    from codeeval_rl.rl.curriculum import build_curriculum
    from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer

    cur = build_curriculum(seed)
    tok = train_tokenizer([i.task.prompt + i.body for i in cur.train], 512)
    model = build_tiny_model(len(tok), hidden=128, layers=4, intermediate=384, seed=seed,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return cur, tok, model


def ours(args, sandbox) -> dict:
    from codeeval_rl.config import EvaluationSettings, TrainSettings
    from codeeval_rl.rl.grpo import train_grpo
    from codeeval_rl.rl.policy import LLMAdapter
    from codeeval_rl.rl.scoring import EvaluatorScorer

    cur, tok, model = build(args.seed)
    policy = LLMAdapter.from_objects(model, tok, device="cpu")
    scorer = EvaluatorScorer.from_settings(EvaluationSettings(shaping="binary"), sandbox, tests="all")
    with tempfile.TemporaryDirectory() as out:
        s = TrainSettings(steps=args.steps, batch_size=args.prompts, num_generations=args.generations,
                          learning_rate=1e-4, max_new_tokens=args.max_new_tokens, temperature=1.0, beta=0.0,
                          output_dir=out, checkpoint_every=0, reward_tests="all", seed=args.seed)
        result = train_grpo(s, policy, list(cur.train_tasks), scorer, save_final=False)
    hist = result.history[args.warmup:]
    return {"step_s": statistics.median(h["step_time_s"] for h in hist),
            "reward_wait_fraction": statistics.mean(h["reward_wait_fraction"] for h in hist)}


def trl_steps(args, sandbox) -> dict:
    import datasets
    import transformers
    import trl

    from codeeval_rl.config import EvaluationSettings
    from codeeval_rl.integrations.trl import reward_function

    cur, tok, model = build(args.seed)
    tasks = list(cur.train_tasks)[: args.prompts * args.steps]
    reward = reward_function(EvaluationSettings(shaping="binary"), sandbox, tasks=tasks, tests="all")
    wait = []

    def timed(prompts, completions, **kw):
        t0 = time.perf_counter()
        out = reward(prompts, completions, **kw)
        wait.append(time.perf_counter() - t0)
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
                             learning_rate=1e-4, temperature=1.0, beta=0.0, logging_steps=1, report_to=[],
                             use_cpu=True, save_strategy="no", disable_tqdm=True, seed=args.seed)
        trainer = trl.GRPOTrainer(model=model, reward_funcs=[timed], args=cfg, train_dataset=ds, processing_class=tok,
                                  callbacks=[Clock()])
        trainer.train()
    steps = [stamps[i + 1] - stamps[i] for i in range(0, len(stamps) - 1, 2)][args.warmup:]
    waits = wait[args.warmup:]
    return {"step_s": statistics.median(steps),
            "reward_wait_fraction": statistics.mean(w / s for w, s in zip(waits, steps))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--generations", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    import torch

    from codeeval_rl.sandbox import Sandbox

    torch.set_num_threads(2)
    with Sandbox(workers=2) as sb:
        a = ours(args, sb)
        b = trl_steps(args, sb)
    res = {"ours_step_s": a["step_s"], "trl_step_s": b["step_s"], "ratio_ours_over_trl": a["step_s"] / b["step_s"],
           "ours_reward_wait_fraction": a["reward_wait_fraction"], "trl_reward_wait_fraction": b["reward_wait_fraction"],
           "batch": f"{args.prompts} prompts x {args.generations} completions, <= {args.max_new_tokens} tokens",
           "steps_timed": args.steps - args.warmup}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:28s} {v:.3f}" if isinstance(v, float) else f"{k:28s} {v}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
