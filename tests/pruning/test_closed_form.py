"""Known answers for the criteria on convolutions and coupled groups, and for the global ranking.

Every expected value here is computed in the test itself, independently of edgeprune's hooks and
per-sample machinery: a functional forward written out by hand (F.conv2d, F.batch_norm in eval mode)
in float64, gradients of the intermediate feature maps with ``torch.autograd.grad``, exact Hessians
with ``torch.autograd.functional.hessian`` over a flat parameter vector, and per-sample gradients by
looping over examples one at a time.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from edgeprune.models import ModelSpec, attach_spec
from edgeprune.pruning.criteria import CriterionConfig, get_criterion
from edgeprune.pruning.criteria.obd import hessian_diagonal
from edgeprune.pruning.graph import Graph
from edgeprune.pruning.targets import normalized


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _randomize_bn(net, seed=3):
    g = _gen(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.rand(c, generator=g) - 0.5)
    return net


def _bn(x, bn):
    """Eval-mode BatchNorm in float64, written out (not the module)."""
    d = lambda t: t.detach().double()  # noqa: E731
    return F.batch_norm(x, d(bn.running_mean), d(bn.running_var), d(bn.weight), d(bn.bias), False, 0.0, bn.eps)


def _w(t):
    return t.detach().double()


def _batches(n_per_batch, classes, shape=(1, 8, 8), seed=0):
    g = _gen(seed)
    return [(torch.randn(n, *shape, generator=g), torch.randint(0, classes, (n,), generator=g)) for n in n_per_batch]


# --- 1. Taylor on a plain conv net ------------------------------------------------------------------

def _conv_net(seed: int = 0, c1: int = 3, c2: int = 4):
    """conv(1->c1) + BN + ReLU, conv(c1->c2) + ReLU (no BN), global pool, Linear(c2->3), on 1x8x8 inputs."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
                        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c2, 3))
    return attach_spec(_randomize_bn(net).eval(), ModelSpec("toy", input_shape=(1, 8, 8)))


def _conv_net_maps(net, x):
    """(a0, a1, logits): a0 the BN output of conv 0 (3 maps), a1 conv 3's output (no BN, 4 maps)."""
    c0, bn, c1, fc = net[0], net[1], net[3], net[7]
    a0 = _bn(F.conv2d(x.double(), _w(c0.weight), _w(c0.bias), padding=1), bn).requires_grad_(True)
    a1 = F.conv2d(a0.relu(), _w(c1.weight), _w(c1.bias), padding=1)
    logits = F.linear(a1.relu().mean((2, 3)), _w(fc.weight), _w(fc.bias))
    return a0, a1, logits


def _per_example_taylor(maps_fn, net, batches):
    """{map index: (N, C) tensor of mean over space of a·dL/da}, L the CE summed over the batch."""
    rows: dict[int, list[torch.Tensor]] = {}
    for x, y in batches:
        *maps, logits = maps_fn(net, x)
        loss = F.cross_entropy(logits, y, reduction="sum")
        grads = torch.autograd.grad(loss, maps)
        for i, (a, g) in enumerate(zip(maps, grads, strict=True)):
            rows.setdefault(i, []).append((a * g).detach().mean((2, 3)))
    return {i: torch.cat(r) for i, r in rows.items()}


def test_taylor_on_conv_feature_maps_equals_hand_computation():
    net = _conv_net()
    groups = Graph(net, (1, 8, 8)).by_name()
    assert set(groups) == {"0", "3"}
    batches = _batches((5, 3), 3)  # unequal batches: the mean is over examples, not over batches
    t = _per_example_taylor(_conv_net_maps, net, batches)
    cfg = CriterionConfig()
    paper = get_criterion("taylor").fn(net, list(groups.values()), batches, cfg)
    seed = get_criterion("taylor-seed").fn(net, list(groups.values()), batches, cfg)
    for name, i in (("0", 0), ("3", 1)):  # "0": the BN's output is the feature map; "3": the conv's own
        expected_paper = t[i].abs().mean(0)  # Molchanov 2017: |.| per example, then the mean
        expected_seed = t[i].sum(0).abs() / 8  # published code: signed sum over the pass, |.| at the end
        torch.testing.assert_close(paper[name].double(), expected_paper, rtol=1e-4, atol=1e-9)
        torch.testing.assert_close(seed[name].double(), expected_seed, rtol=1e-4, atol=1e-9)
        assert not torch.allclose(expected_paper, expected_seed)  # the two variants really differ here
    # per-layer normalization before global ranking (targets.normalized): l2 and rms, by hand
    for how, scale in (("l2", lambda v: 1.0), ("rms", lambda v: math.sqrt(v.numel()))):
        got = normalized(paper, how)
        for name in ("0", "3"):
            v = paper[name].double()
            torch.testing.assert_close(got[name].double(), v / v.norm() * scale(v), rtol=1e-6, atol=0)
    assert get_criterion("taylor").normalize == "rms" and get_criterion("taylor-seed").normalize == "l2"


def test_taylor_weight_on_conv_equals_hand_computation():
    net = _conv_net()
    group = Graph(net, (1, 8, 8)).by_name()["0"]
    batches = _batches((5, 3), 3)
    got = get_criterion("taylor-weight").fn(net, [group], batches, CriterionConfig())["0"]
    c0, bn = net[0], net[1]
    own = [c0.weight, c0.bias, bn.weight, bn.bias]
    total = torch.zeros(3, dtype=torch.float64)
    grads = [torch.zeros_like(p, dtype=torch.float64) for p in own]
    for x, y in batches:
        loss = F.cross_entropy(net(x).double(), y, reduction="sum")
        for acc, g in zip(grads, torch.autograd.grad(loss, own), strict=True):
            acc += g.double()
    for p, g in zip(own, grads, strict=True):
        total += (p.detach().double() * g).flatten(1).sum(1) if p.dim() > 1 else p.detach().double() * g
    torch.testing.assert_close(got.double(), total.abs() / 8, rtol=1e-4, atol=1e-9)


# --- 2. Taylor on coupled groups: a residual sum and a depthwise pair -------------------------------

class Residual(nn.Module):
    """conv0-BN-ReLU, then relu(h + BN(conv1(h))): conv0's and conv1's output channels are one group."""

    def __init__(self):
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.conv1, self.bn1 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = torch.relu(self.bn0(self.conv0(x)))
        return self.fc(torch.relu(h + self.bn1(self.conv1(h))).mean((2, 3)))


def _residual_maps(net, x):
    a0 = _bn(F.conv2d(x.double(), _w(net.conv0.weight), _w(net.conv0.bias), padding=1), net.bn0).requires_grad_(True)
    h = a0.relu()
    a1 = _bn(F.conv2d(h, _w(net.conv1.weight), _w(net.conv1.bias), padding=1), net.bn1)
    return a0, a1, F.linear((h + a1).relu().mean((2, 3)), _w(net.fc.weight), _w(net.fc.bias))


class Depthwise(nn.Module):
    """conv0-BN-ReLU, depthwise conv-BN-ReLU, pointwise conv: the depthwise channels are tied to conv0's."""

    def __init__(self):
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.dw, self.bn1 = nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.BatchNorm2d(4)
        self.pw = nn.Conv2d(4, 3, 1)
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        h = torch.relu(self.bn0(self.conv0(x)))
        h = torch.relu(self.bn1(self.dw(h)))
        return self.fc(torch.relu(self.pw(h)).mean((2, 3)))


def _depthwise_maps(net, x):
    a0 = _bn(F.conv2d(x.double(), _w(net.conv0.weight), _w(net.conv0.bias), padding=1), net.bn0).requires_grad_(True)
    a1 = _bn(F.conv2d(a0.relu(), _w(net.dw.weight), _w(net.dw.bias), padding=1, groups=4), net.bn1)
    h = F.conv2d(a1.relu(), _w(net.pw.weight), _w(net.pw.bias)).relu()
    return a0, a1, F.linear(h.mean((2, 3)), _w(net.fc.weight), _w(net.fc.bias))


@pytest.mark.parametrize("cls,maps,root", [(Residual, _residual_maps, "conv1"), (Depthwise, _depthwise_maps, "dw")])
def test_taylor_of_a_coupled_group_is_the_sum_of_its_feature_maps(cls, maps, root):
    torch.manual_seed(1)
    net = attach_spec(_randomize_bn(cls()).eval(), ModelSpec("toy", input_shape=(1, 8, 8)))
    groups = Graph(net, (1, 8, 8)).by_name()
    group = groups[root]
    assert {m.name for m in group.feature_modules()} == {"bn0", "bn1"}  # the coupling under test
    assert "conv0" not in groups  # one group, not two scored separately
    batches = _batches((4, 2), 3, seed=5)
    t = _per_example_taylor(maps, net, batches)
    got = get_criterion("taylor").fn(net, [group], batches, CriterionConfig())[root]
    members = [t[0].abs().mean(0), t[1].abs().mean(0)]  # each feature map's own Taylor score
    torch.testing.assert_close(got.double(), members[0] + members[1], rtol=1e-4, atol=1e-9)
    assert (members[0] - members[1]).abs().max() > 1e-3 * members[0].max()  # both terms matter
    seed = get_criterion("taylor-seed").fn(net, [group], batches, CriterionConfig())[root]
    torch.testing.assert_close(seed.double(), (t[0].sum(0) + t[1].sum(0)).abs() / 6, rtol=1e-4, atol=1e-9)


# --- 3. OBD: Hessian diagonal (Hutchinson, empirical and exact Fisher) vs exact autograd -------------

def _obd_net():
    return _conv_net(seed=2, c1=2, c2=2)


def _flat(net):
    """(names, shapes, flat float64 parameter vector, fn theta,x -> logits) for exact derivatives."""
    names = [k for k, _ in net.named_parameters()]
    params = dict(net.named_parameters())
    shapes = [params[k].shape for k in names]
    theta = torch.cat([params[k].detach().double().flatten() for k in names])
    net64 = _to_double(net)
    buffers = {k: v.double() if v.is_floating_point() else v for k, v in net64.named_buffers()}

    def logits(th, x):
        parts = dict(zip(names, (p.reshape(s) for p, s in zip(th.split([s.numel() for s in shapes]), shapes,
                                                                  strict=True)), strict=True))
        return functional_call(net64, {**parts, **buffers}, (x.double(),))

    return names, shapes, theta, logits


def _to_double(net):
    import copy

    return copy.deepcopy(net).double().eval()


def _unflat(vec, names, shapes):
    return dict(zip(names, (p.reshape(s) for p, s in zip(vec.split([s.numel() for s in shapes]), shapes,
                                                          strict=True)), strict=True))


def test_hutchinson_is_the_mean_of_v_hv_and_within_its_standard_error_of_the_exact_diagonal(monkeypatch):
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    net = attach_spec(_randomize_bn(net).eval(), ModelSpec("toy", input_shape=(1, 8, 8)))
    names, _, theta, logits = _flat(net)
    batches = _batches((4, 2), 3, seed=7)
    hessians = [torch.autograd.functional.hessian(lambda th, x=x, y=y: F.cross_entropy(logits(th, x), y), theta)
                for x, y in batches]  # per batch, of its mean loss
    weights = [len(y) / 6 for _, y in batches]
    exact = sum(w * h for w, h in zip(weights, hessians, strict=True))  # Hessian of the mean loss over all 6
    drawn: list[torch.Tensor] = []
    real_randint = torch.randint

    def recording(*args, **kwargs):
        out = real_randint(*args, **kwargs)
        drawn.append(out.detach().clone())
        return out

    monkeypatch.setattr(torch, "randint", recording)
    probes = 32
    est = hessian_diagonal(net, batches, CriterionConfig(fisher="hutchinson", hutchinson_probes=probes, seed=0))
    monkeypatch.undo()
    est_flat = torch.cat([est[k].double().flatten() for k in names])
    # the probes: one per parameter tensor, per probe, per batch; Rademacher (+-1), and not all the same
    assert len(drawn) == len(batches) * probes * len(names)
    vs = torch.stack([torch.cat([(2 * d.double() - 1).flatten() for d in drawn[i:i + len(names)]])
                      for i in range(0, len(drawn), len(names))]).reshape(len(batches), probes, -1)
    assert set(vs.unique().tolist()) == {-1.0, 1.0} and len({tuple(v.tolist()) for v in vs.flatten(0, 1)}) > 1
    # (1) exactly the estimator it claims: batch-weighted mean over probes of v ⊙ Hv, H the exact Hessian
    replay = sum(w * (vs[b] * (vs[b] @ h)).mean(0) for b, (w, h) in enumerate(zip(weights, hessians, strict=True)))
    torch.testing.assert_close(est_flat, replay, rtol=1e-4, atol=1e-7)
    # (2) so it is unbiased (E[v vᵀ] = I) with variance Σ_{j≠i} H_ij² per probe: within 5 standard errors
    var = sum(w**2 * (h.pow(2).sum(1) - h.diagonal().pow(2)) for w, h in zip(weights, hessians, strict=True))
    se = (var / probes).sqrt()
    assert ((est_flat - exact.diagonal()).abs() <= 5 * se + 1e-7).all()
    assert (exact.diagonal().abs() > 2 * se).sum() >= 5  # the last layer's entries stand out of the noise


def _per_sample_grads(logits, theta, batches, label_fn):
    """[(grad of CE of one example at label c, weight)] for each example, by looping one at a time."""
    out = []
    for x, y in batches:
        for i in range(len(y)):
            for c, w in label_fn(logits, theta, x[i:i + 1], y[i:i + 1]):
                th = theta.clone().requires_grad_(True)
                (g,) = torch.autograd.grad(F.cross_entropy(logits(th, x[i:i + 1]), c), th)
                out.append((g, w))
    return out


def test_empirical_and_exact_fisher_match_per_sample_autograd():
    net = _obd_net()
    names, _, theta, logits = _flat(net)
    batches = _batches((4, 2), 3, seed=7)
    empirical = sum(w * g.pow(2) for g, w in _per_sample_grads(logits, theta, batches,
                                                                lambda *a: [(a[3], 1.0)])) / 6

    def all_classes(lg, th, x, y):
        with torch.no_grad():
            p = F.softmax(lg(th, x), 1)[0]
        return [(torch.tensor([c]), float(p[c])) for c in range(3)]

    fisher = sum(w * g.pow(2) for g, w in _per_sample_grads(logits, theta, batches, all_classes)) / 6
    # the exact Fisher is the Gauss-Newton diagonal: Σ_kl J_ki (diag p - p pᵀ)_kl J_li, from Jacobians
    ggn = torch.zeros_like(theta)
    for x, _ in batches:
        for i in range(len(x)):
            jac = torch.autograd.functional.jacobian(lambda th, xi=x[i:i + 1]: logits(th, xi)[0], theta)  # (3, P)
            p = F.softmax(logits(theta, x[i:i + 1])[0], 0)
            ggn += torch.einsum("ki,kl,li->i", jac, torch.diag(p) - torch.outer(p, p), jac)
    torch.testing.assert_close(fisher, ggn / 6, rtol=1e-9, atol=1e-12)
    for mode, expected in (("empirical", empirical), ("exact", fisher)):
        got = hessian_diagonal(net, batches, CriterionConfig(fisher=mode))
        got_flat = torch.cat([got[k].double().flatten() for k in names])
        torch.testing.assert_close(got_flat, expected, rtol=2e-4, atol=1e-8)


def test_obd_saliency_on_conv_is_half_h_w_squared_summed_over_the_channel():
    net = _obd_net()
    names, shapes, theta, logits = _flat(net)
    batches = _batches((4, 2), 3, seed=7)
    h = _unflat(sum(g.pow(2) for g, _ in _per_sample_grads(logits, theta, batches,
                                                            lambda *a: [(a[3], 1.0)])) / 6, names, shapes)
    params = {k: p.detach().double() for k, p in net.named_parameters()}
    sal = {k: 0.5 * h[k] * params[k].pow(2) for k in names}
    groups = Graph(net, (1, 8, 8)).by_name()
    got = get_criterion("obd").fn(net, list(groups.values()), batches, CriterionConfig(fisher="empirical"))
    # group "0": conv 0's filter rows and bias, and its BN's scale and shift (the channel's own parameters)
    expected0 = sal["0.weight"].sum((1, 2, 3)) + sal["0.bias"] + sal["1.weight"] + sal["1.bias"]
    expected3 = sal["3.weight"].sum((1, 2, 3)) + sal["3.bias"]  # conv 3 has no BN; the Linear's columns are not its own
    torch.testing.assert_close(got["0"].double(), expected0, rtol=2e-4, atol=1e-10)
    torch.testing.assert_close(got["3"].double(), expected3, rtol=2e-4, atol=1e-10)
    assert get_criterion("obd").normalize == "rms"


# --- 4. Global ranking across layers, with the per-layer floor and rounding ------------------------

class ThreeConvs(nn.Module):
    """Three convs of widths 4, 6, 5 in a chain; every channel is its own group member, no coupling."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 6, 3, padding=1), nn.Conv2d(6, 5, 3, padding=1)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        return self.fc(self.c(self.b(self.a(x).relu()).relu()).relu().mean((2, 3)))


SCORES = {  # distinct values; the 6 lowest overall are a3, b0, b5, c4, a0, b2 (in that order)
    "a": torch.tensor([0.50, 3.00, 4.00, 0.10]),
    "b": torch.tensor([0.20, 5.00, 0.60, 6.00, 7.00, 0.30]),
    "c": torch.tensor([8.00, 9.00, 2.00, 1.00, 0.40]),
}


def _fixed_criterion(monkeypatch, scores, normalize="none"):
    from edgeprune.pruning.criteria import CRITERIA, Criterion

    seen = {}

    def fn(model, groups, batches, cfg):
        seen["groups"] = sorted(g.name for g in groups)
        return {k: v.clone() for k, v in scores.items()}

    monkeypatch.setitem(CRITERIA, "fixed", Criterion("fixed", "scores set by the test", fn, normalize, uses_data=False))
    return seen


def _tagged_model():
    """ThreeConvs whose output channel o of each conv carries bias o + 1 (its identity)."""
    torch.manual_seed(0)
    net = ThreeConvs()
    with torch.no_grad():
        for conv in (net.a, net.b, net.c):
            conv.bias.copy_(torch.arange(conv.out_channels, dtype=torch.float32) + 1)
    return attach_spec(net.eval(), ModelSpec("toy", input_shape=(1, 8, 8)))


def _kept(model, original):
    """Per conv, the original channel indices still present (matched by the bias tag and weight rows)."""
    kept = {}
    for name in ("a", "b", "c"):
        conv, orig = getattr(model, name), getattr(original, name)
        idx = [round(float(b)) - 1 for b in conv.bias.detach()]
        for j, o in enumerate(idx):  # the surviving filter is the original one, restricted to surviving inputs
            in_keep = kept.get({"b": "a", "c": "b"}.get(name), list(range(orig.in_channels)))
            assert torch.equal(conv.weight.detach()[j], orig.weight.detach()[o][in_keep])
        kept[name] = idx
    return kept


def test_global_ranking_removes_exactly_the_lowest_channels_across_layers(monkeypatch):
    from edgeprune.pruning import prune

    seen = _fixed_criterion(monkeypatch, SCORES)
    model = _tagged_model()
    small = prune(model, "magnitude", None, ratio=6 / 15, criterion="fixed", round_to=1).model
    assert seen["groups"] == ["a", "b", "c"]
    assert _kept(small, model) == {"a": [1, 2], "b": [1, 3, 4], "c": [0, 1, 2, 3]}
    x = torch.randn(2, 1, 8, 8)
    assert small(x).shape == (2, 2)
    # uniform scope ignores the ranking across layers: round(0.4 * width) per layer, lowest first
    small = prune(model, "magnitude", None, ratio=6 / 15, criterion="fixed", round_to=1, scope="uniform").model
    assert _kept(small, model) == {"a": [1, 2], "b": [1, 2, 3, 4], "c": [0, 1, 2]}


def test_global_ranking_respects_the_floor_and_rounding(monkeypatch):
    from edgeprune.pruning import prune

    # layer a scores lowest everywhere: a pure global ranking of 5 would empty it (4 channels) and take b0
    scores = {"a": torch.tensor([0.04, 0.01, 0.03, 0.02]), "b": SCORES["b"], "c": SCORES["c"]}
    _fixed_criterion(monkeypatch, scores)
    model = _tagged_model()
    small = prune(model, "magnitude", None, ratio=5 / 15, criterion="fixed", round_to=1, min_channels=2).model
    # a keeps its floor of 2 (its two best, a0 and a2); b loses b0; nothing else is taken to make up for it
    assert _kept(small, model) == {"a": [0, 2], "b": [1, 2, 3, 4, 5], "c": [0, 1, 2, 3, 4]}
    small = prune(model, "magnitude", None, ratio=7 / 15, criterion="fixed", round_to=2, min_channels=1).model
    # the 7 lowest: all of a, b0, b5, c4. a keeps its floor of 1, rounded up to 2 (a0, a2); b keeps 4 and
    # c keeps 4, already multiples of 2
    assert _kept(small, model) == {"a": [0, 2], "b": [1, 2, 3, 4], "c": [0, 1, 2, 3]}


def test_global_ranking_uses_the_criterions_normalization(monkeypatch):
    from edgeprune.pruning import prune

    # raw scores: all of layer c is below layer b; after l2 normalization per layer, c's ranks interleave
    scores = {"a": torch.tensor([10.0, 20.0, 30.0, 40.0]), "b": torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
              "c": torch.tensor([0.01, 0.02, 0.03, 0.04, 0.05])}
    _fixed_criterion(monkeypatch, scores, normalize="l2")
    model = _tagged_model()
    small = prune(model, "magnitude", None, ratio=3 / 15, criterion="fixed", round_to=1).model
    norm = {k: v / v.norm() for k, v in scores.items()}
    flat = sorted((float(v[i]), k, i) for k, v in norm.items() for i in range(len(v)))[:3]
    expected = {k: [i for i in range(len(v)) if (k, i) not in {(n, j) for _, n, j in flat}] for k, v in scores.items()}
    assert _kept(small, model) == expected
    assert expected != {"a": [0, 1, 2, 3], "b": [0, 1, 2, 3, 4, 5], "c": [3, 4]}  # not what raw scores give
