"""CodeEval RL: improve code LLMs by reinforcement learning from execution feedback.

Four layers, each usable on its own: :mod:`codeeval_rl.sandbox` (run untrusted programs),
:mod:`codeeval_rl.evaluation` (rewards and benchmark scores), :mod:`codeeval_rl.rl`
(GRPO, PPO, RLOO, multi-turn repair) and :mod:`codeeval_rl.monitoring` (run store,
error patterns, A/B tests, reports). The training names are imported lazily so that
``import codeeval_rl`` never pulls in torch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["CodeEvalRL", "LLMAdapter", "__version__"]

_LAZY = {
    "CodeEvalRL": ("codeeval_rl.framework", "CodeEvalRL"),
    "LLMAdapter": ("codeeval_rl.rl.policy", "LLMAdapter"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'codeeval_rl' has no attribute {name!r}")
