"""Token log-probs: computing only the scored columns (``logits_to_keep``) changes nothing the
losses read, for any mix of prompt and completion lengths, with and without hidden states."""

from __future__ import annotations

import random

import torch

from codeeval_rl.rl.rollout import collate, first_scored_column, token_logprobs
from tests.rl.tinyfix import tiny_policy


def _batch(pad: int, seed: int):
    rng = random.Random(seed)
    prompts = [[rng.randrange(3, 200) for _ in range(rng.randint(1, 12))] for _ in range(6)]
    completions = [[rng.randrange(3, 200) for _ in range(rng.randint(0, 7))] for _ in range(6)]
    return collate(prompts, completions, [[0.0] * len(c) for c in completions], pad)


class NoKeep(torch.nn.Module):
    """The same model behind a forward that has no ``logits_to_keep``."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, output_hidden_states=False, use_cache=False):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          output_hidden_states=output_hidden_states, use_cache=use_cache)


def test_kept_columns_equal_the_full_computation_on_the_mask():
    policy = tiny_policy()
    model, pad = policy.model, policy.tokenizer.pad_token_id
    for seed in range(8):
        batch = _batch(pad, seed)
        kept, hidden = token_logprobs(model, batch, temperature=0.7, return_hidden=True)
        full, full_hidden = token_logprobs(NoKeep(model), batch, temperature=0.7, return_hidden=True)
        assert kept.shape == full.shape == batch.loss_mask.shape
        mask = batch.loss_mask.bool()
        assert torch.allclose(kept[mask], full[mask], atol=1e-5)
        assert torch.equal(kept[:, :first_scored_column(batch)], torch.zeros_like(kept[:, :first_scored_column(batch)]))
        assert torch.allclose(hidden, full_hidden)


def test_first_scored_column():
    batch = collate([[5, 6, 7], [5]], [[8, 9], [10]], [[0.0, 0.0], [0.0]], 0)
    assert first_scored_column(batch) == 0  # the one-token prompt's completion is predicted at column 0
    batch = collate([[5, 6, 7], [5, 6]], [[8], []], [[0.0], []], 0)
    assert first_scored_column(batch) == 2
