"""Closed-form checks of the criteria: OBD's Hessian diagonal, Taylor by hand, zeroed channels."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgeprune.models import ModelSpec, attach_spec
from edgeprune.pruning.criteria import CRITERIA, CriterionConfig, get_criterion
from edgeprune.pruning.criteria.obd import hessian_diagonal
from edgeprune.pruning.graph import Graph


def _data(n=64, d=5, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, k, (n,), generator=g)


@pytest.mark.parametrize("mode,tol", [("exact", 1e-4), ("sampled", 0.05)])
def test_obd_hessian_diagonal_matches_autograd_for_single_linear(mode, tol):
    torch.manual_seed(0)
    lin = nn.Linear(5, 3)
    x, y = _data()
    reps = 1 if mode == "exact" else 400
    xs, ys = x.repeat(reps, 1), y.repeat(reps)
    cfg = CriterionConfig(fisher=mode, samples=len(xs), batch_size=len(xs))
    h = hessian_diagonal(lin, [(xs, ys)], cfg)

    def loss_w(w):
        return F.cross_entropy(F.linear(x, w, lin.bias.detach()), y)

    true = torch.autograd.functional.hessian(loss_w, lin.weight.detach()).reshape(15, 15).diagonal().reshape(3, 5)
    rel = (h["weight"] - true).abs().max() / true.abs().max()
    assert rel < tol


def test_obd_score_is_half_h_w_squared():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3))  # no nonlinearity: Gauss-Newton = Hessian for layer 0
    attach_spec(net, ModelSpec("toy", input_shape=(5,)))
    x, y = _data()
    graph = Graph(net, (5,))
    (group,) = [g for g in graph.groups if g.name == "0"]
    cfg = CriterionConfig(fisher="exact", samples=64, batch_size=64)
    scores = get_criterion("obd").fn(net, [group], [(x, y)], cfg)["0"]
    w1, b1 = net[0].weight.detach(), net[0].bias.detach()

    def loss(w, b):
        return F.cross_entropy(net[1](F.linear(x, w, b)), y)

    hw = torch.autograd.functional.hessian(lambda w: loss(w, b1), w1).reshape(20, 20).diagonal().reshape(4, 5)
    hb = torch.autograd.functional.hessian(lambda b: loss(w1, b), b1).diagonal()
    expected = 0.5 * (hw * w1**2).sum(1) + 0.5 * hb * b1**2
    torch.testing.assert_close(scores, expected, rtol=1e-3, atol=1e-8)


def test_taylor_equals_hand_computation():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))
    x, y = _data(n=16)
    graph = Graph(net, (5,))
    group = graph.by_name()["0"]
    scores = get_criterion("taylor").fn(net, [group], [(x[:8], y[:8]), (x[8:], y[8:])], CriterionConfig())["0"]
    with torch.no_grad():
        a = net[0](x)
        p = F.softmax(net[2](a.relu()), dim=1)
        dz = p - F.one_hot(y, 3).float()
        da = (dz @ net[2].weight) * (a > 0).float()  # per-example dL/da of the summed loss
        expected = (a * da).abs().mean(0)
    torch.testing.assert_close(scores, expected, rtol=1e-4, atol=1e-7)
    signed = get_criterion("taylor-seed").fn(net, [group], [(x, y)], CriterionConfig())["0"]
    torch.testing.assert_close(signed, (a * da).sum(0).abs() / 16, rtol=1e-4, atol=1e-7)


class SmallCNN(nn.Module):
    """conv-BN-ReLU x2, pool, linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


def _zeroed_cnn():
    torch.manual_seed(1)
    net = SmallCNN()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    conv, bn = net.features[0], net.features[1]
    with torch.no_grad():
        for p in (conv.weight[3], conv.bias[3:4], bn.weight[3:4], bn.bias[3:4]):
            p.zero_()
    return attach_spec(net.eval(), ModelSpec("toy", input_shape=(1, 8, 8)))


@pytest.mark.parametrize("name", sorted(set(CRITERIA) - {"random"}))
def test_zeroed_channel_scores_lowest(name):
    net = _zeroed_cnn()
    graph = Graph(net, (1, 8, 8))
    g = graph.by_name()["features.0"]
    x = torch.randn(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 4, (32,), generator=torch.Generator().manual_seed(1))
    s = get_criterion(name).fn(net, [g], [(x, y)], CriterionConfig(samples=32))["features.0"]
    assert int(torch.argmin(s)) == 3
    assert s[3] < s[torch.arange(8) != 3].min()


def test_pruning_zeroed_channel_leaves_outputs_unchanged():
    net = _zeroed_cnn()
    x = torch.randn(4, 1, 8, 8)
    before = net(x)
    small = copy.deepcopy(net)
    Graph(small, (1, 8, 8)).apply({"features.0": [3]})
    assert small.features[0].out_channels == 7 and small.features[3].in_channels == 7
    assert (small(x) - before).abs().max() < 1e-5


def test_obd_and_taylor_rank_differently_on_trained_vgg(tiny_ckpt, digits):
    from edgeprune.models import load_checkpoint
    from edgeprune.pruning.schedule import scoring_batches

    model = load_checkpoint(tiny_ckpt)
    graph = Graph(model, (1, 32, 32))
    cfg = CriterionConfig(samples=64)
    batches = scoring_batches(digits, cfg)
    obd = get_criterion("obd").fn(model, graph.groups, batches, cfg)
    taylor = get_criterion("taylor").fn(model, graph.groups, batches, cfg)
    differs = [not torch.equal(torch.argsort(obd[k]), torch.argsort(taylor[k])) for k in obd]
    assert all(differs)
    # and across layers (the global ranking) they differ too
    flat = lambda s: torch.argsort(torch.cat([s[k] / s[k].norm() for k in sorted(s)]))  # noqa: E731
    assert not torch.equal(flat(obd)[:20], flat(taylor)[:20])
