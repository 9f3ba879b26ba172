"""Advantages and losses against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from codeeval_rl.rl.advantages import gae, group_relative, leave_one_out
from codeeval_rl.rl.losses import (
    AdaptiveKL,
    FixedKL,
    clipped_surrogate,
    get_aggregation,
    kl_k1,
    kl_k3,
    policy_loss,
    value_loss,
)


def test_group_relative_group_scale():
    r = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    a = group_relative(r, "group", eps=0.0 + 1e-12)
    # group 1: mean 0.5, unbiased std sqrt(1/3) -> +-0.5*sqrt(3)
    s = 0.5 * math.sqrt(3)
    assert torch.allclose(a[0], torch.tensor([s, -s, -s, s]), atol=1e-5)
    assert torch.equal(a[1], torch.zeros(4))  # constant group: no signal


def test_group_relative_none_and_batch():
    r = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    assert torch.allclose(group_relative(r, "none"), torch.tensor([[1.0, -1.0], [0.0, 0.0]]))
    # batch std of [2,0,1,1]: mean 1, sum sq dev 2, unbiased var 2/3
    std = math.sqrt(2 / 3)
    a = group_relative(r, "batch", eps=0.0)
    assert torch.allclose(a, torch.tensor([[1 / std, -1 / std], [0.0, 0.0]]), atol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        group_relative(r, "whatever")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_groups"):
        group_relative(torch.zeros(3))


def test_leave_one_out():
    r = torch.tensor([[1.0, 2.0, 6.0]])
    # baselines: (2+6)/2=4, (1+6)/2=3.5, (1+2)/2=1.5
    assert torch.allclose(leave_one_out(r), torch.tensor([[-3.0, -1.5, 4.5]]))
    with pytest.raises(ValueError, match="group_size >= 2"):
        leave_one_out(torch.tensor([[1.0]]))


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 0.2, 0.4]])
    mask = torch.ones(1, 3)
    adv, ret = gae(rewards, values, mask, gamma=0.9, lam=0.5)
    d2 = 1.0 - 0.4
    d1 = 0.0 + 0.9 * 0.4 - 0.2
    d0 = 0.0 + 0.9 * 0.2 - 0.5
    a2 = d2
    a1 = d1 + 0.45 * a2
    a0 = d0 + 0.45 * a1
    assert torch.allclose(adv, torch.tensor([[a0, a1, a2]]), atol=1e-6)
    assert torch.allclose(ret, adv + values)


def test_gae_masks_padding():
    rewards = torch.tensor([[1.0, 0.0]])
    values = torch.tensor([[0.25, 9.0]])
    adv, ret = gae(rewards, values, torch.tensor([[1.0, 0.0]]), gamma=1.0, lam=1.0)
    assert torch.allclose(adv, torch.tensor([[0.75, 0.0]]))  # padding value ignored
    assert torch.allclose(ret, torch.tensor([[1.0, 0.0]]))


def test_kl_estimators():
    lp = torch.tensor([math.log(0.5)])
    ref = torch.tensor([math.log(0.25)])
    assert torch.allclose(kl_k1(lp, ref), torch.tensor([math.log(2.0)]))
    d = math.log(0.5)  # ref - lp
    assert torch.allclose(kl_k3(lp, ref), torch.tensor([math.exp(d) - d - 1]))
    assert float(kl_k3(ref, ref)) == 0.0


def test_clipped_surrogate_asymmetric():
    old = torch.zeros(1, 3)
    lp = torch.log(torch.tensor([[1.5, 0.5, 1.1]]))
    loss, clipped = clipped_surrogate(lp, old, torch.tensor([1.0]), epsilon=0.2, epsilon_high=0.28)
    # positive advantage: min(r, clip(r)) -> 1.28, 0.5 (unclipped is smaller), 1.1
    assert torch.allclose(loss, -torch.tensor([[1.28, 0.5, 1.1]]), atol=1e-6)
    assert clipped.tolist() == [[1.0, 0.0, 0.0]]
    loss, _ = clipped_surrogate(lp, old, torch.tensor([-1.0]), epsilon=0.2)
    # negative advantage: min(-r, -clip(r)) -> -1.5, -0.8, -1.1
    assert torch.allclose(loss, torch.tensor([[1.5, 0.8, 1.1]]), atol=1e-6)


def test_aggregations_by_hand():
    per_token = torch.tensor([[1.0, 3.0, 0.0], [2.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert float(get_aggregation("grpo")(per_token, mask, 3)) == pytest.approx((2.0 + 2.0) / 2)
    assert float(get_aggregation("dapo")(per_token, mask, 3)) == pytest.approx(6.0 / 3)
    assert float(get_aggregation("dr_grpo")(per_token, mask, 4)) == pytest.approx(6.0 / 8)
    with pytest.raises(ValueError, match="loss_type"):
        get_aggregation("ppo2")


def test_policy_loss_adds_kl_and_reports_it():
    lp = torch.log(torch.tensor([[0.5, 0.5]]))
    ref = torch.log(torch.tensor([[0.25, 0.5]]))
    mask = torch.tensor([[1.0, 1.0]])
    out = policy_loss(lp, lp.detach(), torch.tensor([0.0]), mask, loss_type="dapo",
                      ref_logprobs=ref, beta=0.5, kl_estimator="k1")
    assert out.kl == pytest.approx(math.log(2) / 2)
    assert float(out.loss) == pytest.approx(0.5 * math.log(2) / 2)
    assert out.clip_fraction == 0.0


def test_value_loss_clipping():
    v = torch.tensor([[1.0]])
    old = torch.tensor([[0.0]])
    ret = torch.tensor([[2.0]])
    # unclipped err 1, clipped v=0.2 -> err 3.24; max -> 3.24; half -> 1.62
    assert float(value_loss(v, old, ret, torch.ones(1, 1), clip=0.2)) == pytest.approx(1.62)
    assert float(value_loss(v, old, ret, torch.ones(1, 1), clip=None)) == pytest.approx(0.5)


def test_kl_controllers():
    assert FixedKL(0.1).update(99.0) == 0.1
    c = AdaptiveKL(0.1, target=1.0, horizon=10)
    assert c.update(5.0, n_steps=1) == pytest.approx(0.1 * 1.02)  # error clipped at 0.2
    assert c.update(0.5, n_steps=1) == pytest.approx(0.1 * 1.02 * (1 - 0.02))  # -0.5 clipped to -0.2
    with pytest.raises(ValueError):
        FixedKL(-1.0)
