"""A training job for the kill -9 test: ``python -m tests.rl.resume_job OUT [--resume]``.

GRPO on the toy reward with a checkpoint every step and a slowed scorer (so the test can
kill it mid-run); the final parameters go to OUT/final_params.pt.
"""

from __future__ import annotations

import sys
import time

import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.rl.grpo import train_grpo
from codeeval_rl.rl.scoring import FunctionScorer
from tests.rl.tinyfix import digit_fraction, tiny_policy, toy_tasks


def slow(task, completion):
    time.sleep(0.01)
    return digit_fraction(task, completion)


def main() -> None:
    out = sys.argv[1]
    settings = TrainSettings(steps=10, batch_size=4, num_generations=4, learning_rate=1e-2, max_new_tokens=6,
                             output_dir=out, checkpoint_every=1, keep_checkpoints=2, beta=0.01, seed=3)
    policy = tiny_policy(seed=3)
    train_grpo(settings, policy, toy_tasks(), FunctionScorer(slow), resume="--resume" in sys.argv,
               on_step=lambda step, m: print(f"step {step}", flush=True), save_final=False)
    torch.save(policy.model.state_dict(), f"{out}/final_params.pt")


if __name__ == "__main__":
    main()
