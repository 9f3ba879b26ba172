"""Reinforcement learning from execution feedback: policy, advantages, losses, trainers.

Names load on first use, so importing this package does not import torch::

    from codeeval_rl.rl import LLMAdapter, train_grpo, train_ppo, train_rloo, train_multiturn
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ALGORITHMS",
    "EvaluatorScorer",
    "FakePolicy",
    "FunctionScorer",
    "LLMAdapter",
    "Policy",
    "Sample",
    "Score",
    "Scorer",
    "TrainResult",
    "generate_samples",
    "get_trainer",
    "train_grpo",
    "train_multiturn",
    "train_ppo",
    "train_rloo",
]

_WHERE = {
    "LLMAdapter": "policy", "Policy": "policy", "FakePolicy": "policy", "Sample": "policy",
    "train_grpo": "grpo", "train_ppo": "ppo", "train_rloo": "rloo", "train_multiturn": "multiturn",
    "get_trainer": "generation", "ALGORITHMS": "generation", "generate_samples": "generation",
    "Scorer": "scoring", "Score": "scoring", "EvaluatorScorer": "scoring", "FunctionScorer": "scoring",
    "TrainResult": "loop",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'codeeval_rl.rl' has no attribute {name!r}")
    return getattr(importlib.import_module(f"codeeval_rl.rl.{_WHERE[name]}"), name)
