"""A network's latency on one runtime, predicted from a table of its layers' measured latencies.

A :class:`LatencyTable` holds the times of single layers (a Conv2d or Linear with its ReLU, at its
real feature-map size, in a stand-in for its network) measured on one runtime at chosen (input,
output) widths, in units of a reference layer; between measured widths it interpolates bilinearly. A
whole network is predicted as the sum of its layers plus the rest (pools, reorders, the call), fitted
on whole networks of the same model and interpolated in their weight bytes.

:func:`plan_latency` removes channels, per group, down to the widths the table measured (where the
runtime's latency drops), least important first, until the prediction meets a target. Measuring is done
by :mod:`edgeprune.bench.latency`; this module only predicts and plans.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.models.complexity import forward_hooked
from edgeprune.pruning.graph import ChannelGroup

SCHEMA = "edgeprune.latency/5"  # 4: a point's context is the network thinned to its widths; 5: the rest is fitted on wall time


@dataclass(frozen=True)
class Geometry:
    """What a layer's latency depends on besides its widths: op, input size, kernel, stride, padding."""

    op: str  # "conv" | "dwconv" (depthwise: one width) | "linear"
    size: tuple[int, int] = (1, 1)
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1  # a grouped (not depthwise) conv keeps its widths: pruning skips it
    relu: bool = True

    @property
    def key(self) -> str:
        """A stable text key (the table's and the cache's)."""
        f = "x".join
        return (f"{self.op} {f(map(str, self.size))} k{f(map(str, self.kernel))} s{f(map(str, self.stride))} "
                f"p{f(map(str, self.padding))} d{f(map(str, self.dilation))} g{self.groups}{' relu' if self.relu else ''}")

    @property
    def out_size(self) -> tuple[int, int]:
        """Output feature-map size (1x1 for a Linear)."""
        return tuple(  # type: ignore[return-value]
            (s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, k, st, p, d in zip(self.size, self.kernel, self.stride, self.padding, self.dilation, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Geometry:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass
class Layer:
    """One Conv2d or Linear of a model: geometry, widths, and the channel groups that set them."""

    name: str
    geometry: Geometry
    c_in: int
    c_out: int
    in_group: str | None = None
    out_group: str | None = None
    in_parts: dict[str, int] = field(default_factory=dict)  # group -> input columns it owns (a concat has several)

    @property
    def weight_bytes(self) -> int:
        """float32 weight bytes at these widths."""
        g = self.geometry
        per = self.c_in // (self.c_out if g.op == "dwconv" else g.groups)
        return 4 * self.c_out * max(1, per) * g.kernel[0] * g.kernel[1]


def layers_of(model: nn.Module, input_shape: tuple[int, ...], groups: list[ChannelGroup] | None = None) -> list[Layer]:
    """Every Conv2d and Linear in execution order, with its feature-map size and (given ``groups``) its groups."""
    found: list[Layer] = []
    names = {m: n for n, m in model.named_modules()}
    modules = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    relu_after = _followed_by_relu(model, modules)

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        x = inp[0]
        if isinstance(m, nn.Conv2d):
            depthwise = m.groups > 1 and m.groups == m.in_channels == m.out_channels
            geo = Geometry("dwconv" if depthwise else "conv", tuple(x.shape[-2:]), tuple(m.kernel_size),
                           tuple(m.stride), tuple(m.padding) if not isinstance(m.padding, str) else (0, 0),
                           tuple(m.dilation), 1 if depthwise else m.groups, m in relu_after)
            found.append(Layer(names[m], geo, m.in_channels, m.out_channels))
        else:
            found.append(Layer(names[m], Geometry("linear", relu=m in relu_after), m.in_features, m.out_features))

    forward_hooked(model, input_shape, dict.fromkeys(modules, hook))
    if groups is not None:
        by_layer_out = {mem.name: g.name for g in groups for mem in g.members if mem.kind == "out"}
        parts: dict[str, dict[str, int]] = {}
        for g in groups:
            for mem in g.members:
                if mem.kind == "in":
                    parts.setdefault(mem.name, {})[g.name] = parts.get(mem.name, {}).get(g.name, 0) + len(mem.idxs)
        for layer in found:
            layer.out_group = by_layer_out.get(layer.name)
            layer.in_parts = parts.get(layer.name, {})
            layer.in_group = next(iter(layer.in_parts), layer.out_group if layer.geometry.op == "dwconv" else None)
    return found


def _followed_by_relu(model: nn.Module, modules: list[nn.Module]) -> set[nn.Module]:
    """Layers whose next module in registration order (BN skipped) is a ReLU: the runtime fuses the two."""
    order = [m for m in model.modules() if not list(m.children())]
    out = set()
    for i, m in enumerate(order):
        if m not in modules:
            continue
        j = i + 1
        while j < len(order) and isinstance(order[j], (nn.BatchNorm2d, nn.BatchNorm1d)):
            j += 1
        if j < len(order) and isinstance(order[j], (nn.ReLU, nn.ReLU6)):
            out.add(m)
    return out


@dataclass
class LatencyTable:
    """One runtime's measured layer latencies, and the rest of the network fitted on one model.

    Times are in units of a reference layer (:data:`edgeprune.bench.latency.REF`) profiled in the same
    inferences, so a machine whose speed wanders keeps its ratios; ``unit_ms`` converts to
    milliseconds as the reference ran when the table was fitted. ``points[geometry key]["cin,cout"]``
    is one layer's time as the runtime's profiler reports it in a stand-in for its network (see
    :func:`edgeprune.bench.latency.layer_onnx`): fed by a layer, followed by one, its weights evicted
    by a network's worth of others (the network thinned to its widths: a narrow layer runs in a narrow
    network, whose weights may stay in the cache). Alone, run after run, a layer keeps its weights in the cache and
    the 2x2 layers of VGG16-BN at 32 px look 3.5x faster than they run in their network. ``rest`` holds
    ``[weight bytes, units]`` pairs fitted on whole networks: what a network takes beyond its layers
    (pools, reorders, the call; less than nothing for a small one whose weights stay in the cache),
    interpolated in log bytes.
    """

    runtime: str
    machine: dict[str, Any]
    points: dict[str, dict[str, float]] = field(default_factory=dict)
    geometries: dict[str, dict[str, Any]] = field(default_factory=dict)
    rest: list[list[float]] = field(default_factory=list)
    unit_ms: float = 1.0
    group_steps: dict[str, list[int]] = field(default_factory=dict)  # the grid's widths per group, of the last model
    calibration: list[dict[str, Any]] = field(default_factory=list)

    def has(self, geo: Geometry, c_in: int, c_out: int) -> bool:
        """Whether that point is measured."""
        return f"{c_in},{c_out}" in self.points.get(geo.key, {})

    def add(self, geo: Geometry, c_in: int, c_out: int, units: float) -> None:
        """Record one measured point."""
        self.geometries.setdefault(geo.key, geo.to_dict())
        self.points.setdefault(geo.key, {})[f"{c_in},{c_out}"] = float(units)

    def axes(self, geo: Geometry) -> tuple[list[int], list[int]]:
        """The measured input and output widths of a geometry, sorted."""
        pts = self.points.get(geo.key, {})
        cache = self.__dict__.setdefault("_axes_cache", {})
        if cache.get(geo.key, (None, -1))[1] != len(pts):
            pairs = [tuple(map(int, k.split(","))) for k in pts]
            cache[geo.key] = ((sorted({a for a, _ in pairs}), sorted({b for _, b in pairs})), len(pts))
        return cache[geo.key][0]

    def rest_units(self, weight_bytes: float) -> float:
        """The fitted time beyond the layers, for a network of ``weight_bytes`` (0 before a fit)."""
        return _interpolate(self.rest, weight_bytes, log=True) if self.rest else 0.0

    def layer_ms(self, geo: Geometry, c_in: int, c_out: int) -> float:
        """One layer's time in reference units: bilinear between measured widths, constant beyond them."""
        pts = self.points.get(geo.key)
        if not pts:
            raise ConfigError(f"the latency table for {self.runtime} has no measurement of a {geo.key} layer",
                              hint="build the table on this model (edgeprune.bench.latency.latency_table)")
        ins, outs = self.axes(geo)
        if geo.op == "dwconv":  # measured on the diagonal only: one width
            c0, c1, t = _bracket(outs, c_out)
            return max(0.0, pts[f"{c0},{c0}"] * (1 - t) + pts[f"{c1},{c1}"] * t)
        (i0, i1, ti), (o0, o1, to) = _bracket(ins, c_in), _bracket(outs, c_out)

        def at(a: int, b: int) -> float:
            v = pts.get(f"{a},{b}")
            if v is None:  # a corner the grid lacks: the nearest measured point, scaled by MACs
                k = min(pts, key=lambda t: abs(int(t.split(",")[0]) - a) + abs(int(t.split(",")[1]) - b))
                ka, kb = map(int, k.split(","))
                v = pts[k] * a * b / (ka * kb)
            return v

        top = at(i0, o0) * (1 - to) + at(i0, o1) * to
        bottom = at(i1, o0) * (1 - to) + at(i1, o1) * to
        return max(0.0, top * (1 - ti) + bottom * ti)

    def predict(self, layers: list[Layer]) -> float:
        """Whole-network time in reference units: its layers and the rest (never below half the layers)."""
        units = sum(self.layer_ms(la.geometry, la.c_in, la.c_out) for la in layers)
        return max(0.5 * units, units + self.rest_units(sum(la.weight_bytes for la in layers)))

    def predict_ms(self, layers: list[Layer]) -> float:
        """Whole-network milliseconds: :meth:`predict` times the reference layer's time when the table was fitted."""
        return self.predict(layers) * self.unit_ms

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the cache file's content)."""
        return {"schema": SCHEMA, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatencyTable:
        """Inverse of :meth:`to_dict`; another schema, or points that are not numbers, is a ValueError."""
        if isinstance(d, dict) and str(d.get("schema", "")).startswith("edgeprune.latency/") and d["schema"] != SCHEMA:
            raise ValueError(f"schema {d['schema']}, not {SCHEMA}")
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError(f"not an {SCHEMA} table")
        names = {f.name for f in dataclasses.fields(cls)}
        table = cls(**{k: v for k, v in d.items() if k in names})
        number = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)  # noqa: E731
        ok = (isinstance(table.points, dict) and all(isinstance(v, dict) and all(number(x) for x in v.values())
                                                     for v in table.points.values())
              and isinstance(table.machine, dict) and isinstance(table.calibration, list)
              and all(isinstance(x, list) and len(x) == 2 and all(map(number, x)) for x in table.rest))
        if not ok:
            raise ValueError("points are not numbers")
        return table


def _interpolate(pts: list[list[float]], x: float, log: bool = False) -> float:
    """Piecewise-linear through sorted ``[x, y]`` pairs (in log x with ``log``), constant beyond the ends."""
    pts = sorted(pts)
    f = (lambda v: math.log(max(v, 1e-12))) if log else float
    xs, t = [f(p[0]) for p in pts], f(x)
    if t <= xs[0]:
        return pts[0][1]
    if t >= xs[-1]:
        return pts[-1][1]
    j = bisect.bisect_left(xs, t)
    w = (t - xs[j - 1]) / (xs[j] - xs[j - 1]) if xs[j] > xs[j - 1] else 0.0
    return pts[j - 1][1] * (1 - w) + pts[j][1] * w


def _bracket(axis: list[int], x: int) -> tuple[int, int, float]:
    """The measured widths around ``x`` and the interpolation weight (the end points beyond the ends)."""
    if len(axis) == 1 or x >= axis[-1]:
        return axis[-1], axis[-1], 0.0
    j = bisect.bisect_left(axis, x)
    if j == 0:
        return axis[0], axis[0], 0.0
    lo, hi = axis[j - 1], axis[j]
    return lo, hi, (x - lo) / (hi - lo)


class LatencyModel:
    """Predicted latency of one model as its groups' widths change (the planner's view of the table)."""

    def __init__(self, table: LatencyTable, model: nn.Module, groups: list[ChannelGroup],
                 input_shape: tuple[int, ...]) -> None:
        self.table = table
        self.layers = layers_of(model, input_shape, groups)
        self.sizes = {g.name: g.size for g in groups}
        self.touching: dict[str, list[int]] = {g: [] for g in self.sizes}
        for i, la in enumerate(self.layers):
            for g in ({la.in_group, la.out_group} | set(la.in_parts)) - {None}:
                self.touching[g].append(i)

    def at(self, la: Layer, keep: dict[str, int]) -> Layer:
        """The layer with its widths when each group keeps ``keep[group]`` channels."""
        c_in, c_out = la.c_in, la.c_out
        if la.out_group is not None:
            c_out = round(la.c_out * keep[la.out_group] / self.sizes[la.out_group])
        if la.in_parts:  # each feeding group's share of the inputs shrinks with it (concat, flatten)
            c_in = round(la.c_in - sum((self.sizes[g] - keep[g]) * n / self.sizes[g] for g, n in la.in_parts.items()))
        elif la.in_group is not None:  # a depthwise conv: its input is its own group
            c_in = round(la.c_in * keep[la.in_group] / self.sizes[la.in_group])
        return dataclasses.replace(la, c_in=c_in, c_out=c_out)

    def predict(self, keep: dict[str, int] | None = None) -> float:
        """Time (reference units) of the model with ``keep`` channels per group (None: as it is)."""
        return self.table.predict([self.at(la, keep or self.sizes) for la in self.layers])

    def saved(self, keep: dict[str, int], group: str, width: int) -> float:
        """Time (reference units) saved by taking ``group`` from ``keep[group]`` down to ``width`` channels."""
        after = {**keep, group: width}
        layers = [self.layers[i] for i in self.touching[group]]
        ms = self.table.layer_ms
        return sum(ms(la.geometry, b.c_in, b.c_out) - ms(la.geometry, a.c_in, a.c_out)
                   for la in layers for b, a in [(self.at(la, keep), self.at(la, after))])

    def steps(self, group: str) -> list[int]:
        """The widths the table's grid settled on for a group, ascending, up to its size (where the planner may stop)."""
        axis = self.table.group_steps.get(group)
        if not axis:
            raise ConfigError(f"the latency table for {self.table.runtime} has no width steps for layer {group}",
                              hint="build the table on this model (edgeprune.bench.latency.latency_table)")
        return sorted({w for w in axis if 0 < w <= self.sizes[group]} | {self.sizes[group]})


def plan_latency(scores: dict[str, torch.Tensor], latency: LatencyModel, target: float,
                 min_channels: int = 1, weight: float = 0.0) -> dict[str, int]:
    """Kept widths meeting ``target`` (reference units): cut groups to measured widths, least important first.

    ``scores`` are per-layer normalized channel importances; a move cuts one group to a lower measured
    width and costs the sum of the scores it removes, over ``time saved ** weight * channels removed **
    (1 - weight)``. With ``weight`` 0 that is the mean score removed, the order of a MACs target's global
    ranking: the table decides only where widths land and when to stop. With 1 it is importance per unit
    of time saved, which on Fashion-MNIST cut the full-resolution convolutions of VGG16-BN 0.25 to the
    floor and cost 1-3 points at equal speed (normalized scores are no loss, to be traded against time).
    Every group may drop to any lower measured width, so a plateau (fewer channels, no faster) is jumped
    over rather than paid for. When no move saves time the plan stops.
    """
    sizes = latency.sizes
    keep = dict(sizes)
    cum = {g: torch.cat([torch.zeros(1, dtype=torch.float64),
                         torch.cumsum(torch.sort(scores[g].double().clamp_min(0)).values, 0)]) for g in sizes}
    steps = {g: latency.steps(g) for g in sizes}
    current = latency.predict(keep)
    while current > target:
        best: tuple[float, str, int] | None = None
        for g in sizes:
            removed = sizes[g] - keep[g]
            for w in steps[g]:
                if w >= keep[g] or w < min_channels:
                    continue
                saved = latency.saved(keep, g, w)
                if saved <= 1e-12:
                    continue
                cut = keep[g] - w
                ratio = float(cum[g][sizes[g] - w] - cum[g][removed]) / (saved ** weight * cut ** (1 - weight))
                tie = best is not None and abs(ratio - best[0]) <= 1e-9 * max(abs(best[0]), 1e-30)
                if best is None or (ratio < best[0] and not tie) or (tie and w > best[2]):
                    best = (ratio, g, w)  # on a tie, the smaller cut
        if best is None:
            break
        _, g, w = best
        for wider in sorted((x for x in steps[g] if w < x < keep[g]), reverse=True):
            if latency.predict({**keep, g: wider}) <= target:  # the chosen cut overshoots: cut only as far as needed
                w = wider
                break
        keep[g] = w
        current = latency.predict(keep)
    return keep
