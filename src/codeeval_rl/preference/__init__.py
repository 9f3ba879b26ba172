"""Learned rewards and verified preferences (``codeeval-rl rm`` and ``codeeval-rl dpo``).

Two ways to reach beyond what a task's tests decide (docs/preference.md):

* **AceCoder reward models**: programs sampled per task are ranked by their test pass rates;
  :mod:`.pairs` keeps the pairs the paper's rule allows, :mod:`.reward_model` trains a
  Bradley-Terry reward model on them (TRL's ``RewardTrainer``) and scores (question, program)
  inputs with it; :mod:`.best_of` reranks N samples by it, :mod:`.reward_mix` mixes it into a
  training reward.
* **CodeDPO**: the model writes programs and tests, :mod:`.verify` runs every program on every
  test in one sandbox batch and scores both by :mod:`.mutual` verification, then builds
  correctness and efficiency pairs; :mod:`.dpo` trains on them with TRL's ``DPOTrainer``.

The math (:mod:`.pairs`' rule, :mod:`.loss`, :mod:`.mutual`, :mod:`.correlation`) is pure;
:mod:`.sampling` samples and scores programs in seeded, resumable chunks for both methods.
Importing this package does not import torch.
"""

from __future__ import annotations

from codeeval_rl.preference.correlation import spearman
from codeeval_rl.preference.loss import bradley_terry_loss, pair_accuracy
from codeeval_rl.preference.mutual import Verification, mutual_verification, pass_count_scores
from codeeval_rl.preference.pairs import PairRule, read_pairs, select_pairs, write_pairs

__all__ = ["PairRule", "Verification", "bradley_terry_loss", "mutual_verification", "pair_accuracy",
           "pass_count_scores", "read_pairs", "select_pairs", "spearman", "write_pairs"]
