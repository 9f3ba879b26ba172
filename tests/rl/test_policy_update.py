"""The one clipped update every algorithm shares: micro-batching never changes the gradient.

Each case compares the gradient :meth:`Trainer.policy_update` accumulates over micro-batches of
one row with the gradient of the full-batch loss written out by hand, on rows of very different
lengths (where weighting micro-batches by rows instead of tokens would be wrong for ``dapo``).
"""

from __future__ import annotations

import pytest
import torch

from codeeval_rl.config import TrainSettings
from codeeval_rl.rl.loop import Critic, Trainer
from codeeval_rl.rl.losses import policy_loss, value_loss
from codeeval_rl.rl.ppo import ValueHead
from codeeval_rl.rl.rollout import collate, token_logprobs
from tests.rl.tinyfix import tiny_policy, toy_tasks

LENGTHS = (1, 9, 2, 6)  # completion tokens per row: a row is not a fixed number of tokens


def _batch(pad: int):
    g = torch.Generator().manual_seed(0)
    prompts = [[5, 6, 7]] * len(LENGTHS)
    completions = [torch.randint(10, 200, (n,), generator=g).tolist() for n in LENGTHS]
    old = [(-torch.rand(n, generator=g) * 3).tolist() for n in LENGTHS]
    return collate(prompts, completions, old, pad)


def _trainer(tmp_path, head=None, **kw):
    settings = TrainSettings(output_dir=str(tmp_path), batch_size=2, num_generations=2, num_iterations=1,
                             max_grad_norm=1e9, **kw)
    policy = tiny_policy()
    extra = {"extra_modules": {"value_head": head}, "extra_params": list(head.parameters())} if head else {}
    return Trainer(settings, policy, toy_tasks(2), **extra)


def _grads(tr: Trainer, head: torch.nn.Module | None) -> torch.Tensor:
    params = [p for p in tr.model.parameters() if p.requires_grad] + (list(head.parameters()) if head else [])
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in params])


def _captured_update(tr: Trainer, head, tokens, adv, ref_lp, beta, critic) -> torch.Tensor:
    """The gradient ``policy_update`` hands the optimizer (the step itself is skipped)."""
    seen = []

    def capture() -> float:
        seen.append(_grads(tr, head).clone())
        tr.optimizer.zero_grad(set_to_none=True)
        return 0.0

    tr.clip_and_step = capture  # type: ignore[method-assign]
    tr.policy_update(tokens, adv, ref_lp, beta, critic=critic)
    (grad,) = seen
    return grad


@pytest.mark.parametrize("loss_type", ["dapo", "grpo", "dr_grpo"])
@pytest.mark.parametrize("with_critic", [False, True], ids=["grpo-rloo", "ppo"])
def test_micro_batches_accumulate_the_full_batch_gradient(tmp_path, loss_type, with_critic):
    torch.manual_seed(0)
    head = None
    if with_critic:
        head = ValueHead(32)
        torch.nn.init.normal_(head.linear.weight, std=0.5)  # non-zero, so values reach the trunk too
    tr = _trainer(tmp_path, head, loss_type=loss_type, micro_batch_size=1, vf_coef=0.5, epsilon=0.1)
    tokens = _batch(tr.policy.tokenizer.pad_token_id)
    mask = tokens.loss_mask
    adv = torch.randn(mask.shape) if with_critic else torch.tensor([1.0, -2.0, 0.5, 3.0])
    ref_lp = tokens.old_logprobs - 0.1 * mask
    critic = Critic(head, torch.randn(mask.shape) * mask, torch.randn(mask.shape) * mask) if head else None
    beta = 0.0 if with_critic else 0.3

    got = _captured_update(tr, head, tokens, adv, ref_lp, beta, critic)

    # the same loss on the whole batch at once, by hand
    tr.optimizer.zero_grad(set_to_none=True)
    s = tr.settings
    lp, hidden = token_logprobs(tr.model, tokens, s.temperature, return_hidden=True)
    loss = policy_loss(lp, tokens.old_logprobs, adv, mask, loss_type=loss_type, epsilon=s.epsilon,
                       ref_logprobs=ref_lp, beta=beta, kl_estimator=s.kl_estimator, max_tokens=mask.shape[1]).loss
    if critic is not None:
        loss = loss + s.vf_coef * value_loss(head(hidden), critic.old_values, critic.returns, mask,
                                             clip=s.value_clip)
    loss.backward()
    want = _grads(tr, head)
    assert want.abs().sum() > 0
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_ppo_and_grpo_take_the_same_policy_step_under_dapo(tmp_path):
    """With ``vf_coef`` 0 the critic contributes nothing: PPO's update is GRPO's, token-weighted."""
    head = ValueHead(32)
    torch.nn.init.normal_(head.linear.weight, std=0.5)
    grads = []
    for critic_on in (False, True):
        tr = _trainer(tmp_path / str(critic_on), head, loss_type="dapo", micro_batch_size=3, vf_coef=0.0)
        tokens = _batch(tr.policy.tokenizer.pad_token_id)
        mask = tokens.loss_mask
        adv = torch.linspace(-1, 1, mask.numel()).view(mask.shape)
        critic = Critic(head, torch.zeros(mask.shape), torch.ones(mask.shape)) if critic_on else None
        grads.append(_captured_update(tr, head, tokens, adv, tokens.old_logprobs, 0.0, critic))
    n_policy = sum(p.numel() for p in tiny_policy().model.parameters())
    torch.testing.assert_close(grads[0][:n_policy], grads[1][:n_policy], rtol=1e-5, atol=1e-7)
    assert grads[0][:n_policy].abs().sum() > 0
