"""Regularizers: closed-form values and HSQGL12 shrinking group norms during training."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.pruning.regularizers import list_regularizers, make_regularizer


def test_hsqgl12_closed_form_both_groupings():
    conv = nn.Conv2d(2, 3, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 4.0], [9.0, 0.0], [0.0, 16.0]]).reshape(3, 2, 1, 1))
    net = nn.Sequential(conv)
    # R = Σ_groups (Σ_kernels sqrt(‖kernel‖₁))², each 1x1 kernel one weight
    # neuron-wise, groups are rows: (1 + 2)² + (3 + 0)² + (0 + 4)² = 34
    assert make_regularizer("hsqgl12", 1.0)(net).item() == pytest.approx(34.0, rel=1e-5)
    # feature-wise, groups are columns: (1 + 3 + 0)² + (2 + 0 + 4)² = 52
    assert make_regularizer("hsqgl12", 2.0, grouping="feature")(net).item() == pytest.approx(2 * 52.0, rel=1e-5)
    # a 3x3 kernel counts with its whole L1 norm under one square root: (sqrt(9 * 4))² = 36
    k3 = nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        k3.weight.fill_(4.0)
    assert make_regularizer("hsqgl12", 1.0)(nn.Sequential(k3)).item() == pytest.approx(36.0, rel=1e-5)
    assert make_regularizer("l1", 1.0)(net).item() == pytest.approx(30.0)
    assert make_regularizer("group-lasso", 1.0)(net).item() == pytest.approx(17**0.5 + 9 + 16)
    assert set(list_regularizers()) == {"l1", "group-lasso", "hsqgl12"}


def test_linear_only_with_include_linear():
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(2, 2))
    a = make_regularizer("l1", 1.0)(net).item()
    b = make_regularizer("l1", 1.0, include_linear=True)(net).item()
    assert b == pytest.approx(a + net[2].weight.abs().sum().item())


def test_hsqgl12_lowers_group_norms():
    torch.manual_seed(0)
    x = torch.randn(32, 2, 5, 5)
    y = torch.randint(0, 3, (32,))

    def train(reg):
        torch.manual_seed(1)
        net = nn.Sequential(nn.Conv2d(2, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(20):
            loss = F.cross_entropy(net(x), y) + (reg(net) if reg else 0)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return net[0].weight.detach().flatten(1).norm(dim=1)

    plain = train(None)
    reg = train(make_regularizer("hsqgl12", 3e-2))
    assert reg.sum() < 0.8 * plain.sum()
    assert (reg < plain).all()


@pytest.mark.parametrize("kw", [{"name": "nope", "lam": 1.0}, {"name": "l1", "lam": -1.0},
                                {"name": "l1", "lam": 1.0, "grouping": "rows"}])
def test_bad_regularizer_options(kw):
    with pytest.raises(ConfigError):
        make_regularizer(**kw)
