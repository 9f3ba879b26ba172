"""Helpers shared by the trainer tests: a tiny random policy and a learnable toy reward."""

from __future__ import annotations

import torch

from codeeval_rl.rl.policy import LLMAdapter
from codeeval_rl.rl.scoring import FunctionScorer, Score
from codeeval_rl.rl.tiny import build_tiny_model, train_tokenizer
from codeeval_rl.types import Task, TestCase

CORPUS = [f"def f{i}(x):\n    return x + {i}\n" for i in range(50)]


def tiny_policy(seed: int = 0, hidden: int = 32, layers: int = 1) -> LLMAdapter:
    torch.set_num_threads(1)
    tok = train_tokenizer(CORPUS, vocab_size=300)
    model = build_tiny_model(len(tok), hidden=hidden, layers=layers, heads=2, intermediate=2 * hidden, seed=seed,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return LLMAdapter.from_objects(model, tok, device="cpu")


def toy_tasks(n: int = 4) -> list[Task]:
    return [Task(id=f"toy/{i}", language="python", prompt=f"def f{i}(x):\n", entry_point=f"f{i}",
                 tests=(TestCase(kind="assert", code=f"assert f{i}(1) == {1 + i}", id="t0"),),
                 public_test_ids=("t0",)) for i in range(n)]


def digit_fraction(task: Task, completion: str) -> Score:
    """A reward a random tiny model can learn fast: the share of digits in its output."""
    r = sum(ch.isdigit() for ch in completion) / max(1, len(completion))
    return Score(r, passed=r > 0.5, components={"digits": r})


DIGITS = FunctionScorer(digit_fraction)


def params_of(policy: LLMAdapter) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in policy.model.state_dict().items()}
