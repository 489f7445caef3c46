"""The latency table's arithmetic and the latency-aware planner, on hand-made tables with known answers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.pruning.latency import Geometry, LatencyModel, LatencyTable, Layer, layers_of, plan_latency

CONV = Geometry("conv", (8, 8), (3, 3), (1, 1), (1, 1))


def table_with(points: dict[tuple[int, int], float], geo: Geometry = CONV, **kw) -> LatencyTable:
    table = LatencyTable(runtime="ort:1", machine={"cpu": "test"}, **kw)
    for (a, b), v in points.items():
        table.add(geo, a, b, v)
    return table


def test_geometry_output_size_is_the_conv_formula():
    assert Geometry("conv", (32, 32), (3, 3), (1, 1), (1, 1)).out_size == (32, 32)
    assert Geometry("conv", (32, 31), (3, 3), (2, 2), (1, 1)).out_size == (16, 16)
    assert Geometry("conv", (7, 7), (5, 5), (1, 1), (0, 0), (2, 2)).out_size == (-1, -1)  # kernel wider than input
    assert Geometry("linear").out_size == (1, 1)


def test_layer_time_is_bilinear_between_measured_widths():
    t = table_with({(8, 8): 1.0, (8, 16): 2.0, (16, 8): 3.0, (16, 16): 4.0})
    assert t.layer_ms(CONV, 8, 8) == 1.0
    assert t.layer_ms(CONV, 12, 12) == pytest.approx(2.5)  # the mean of the four corners
    assert t.layer_ms(CONV, 16, 12) == pytest.approx(3.5)
    assert t.layer_ms(CONV, 10, 16) == pytest.approx(2.5)
    assert t.layer_ms(CONV, 32, 32) == 4.0  # beyond the grid: the widest point
    assert t.layer_ms(CONV, 4, 8) == 1.0  # below it: the narrowest


def test_network_prediction_adds_the_rest_at_the_networks_weight_bytes():
    t = table_with({(8, 8): 1.0}, rest=[[1000.0, 0.0], [100000.0, 1.0]], unit_ms=0.25)
    small = [Layer("a", CONV, 8, 8)]  # 4 * 8 * 8 * 9 = 2304 bytes: between the fitted weights, in log bytes
    import math

    rest = (math.log(2304) - math.log(1000)) / (math.log(100000) - math.log(1000))
    assert t.rest_units(2304) == pytest.approx(rest)
    assert t.predict(small) == pytest.approx(1.0 + rest)
    assert t.predict_ms(small) == pytest.approx((1.0 + rest) * 0.25)
    cached = table_with({(8, 8): 1.0}, rest=[[1.0, -5.0]])  # a small network faster than its layers alone
    assert cached.predict(small) == 0.5  # never below half its layers


def test_a_layer_the_table_never_measured_is_a_clear_error():
    with pytest.raises(ConfigError, match="no measurement of a linear"):
        table_with({(8, 8): 1.0}).layer_ms(Geometry("linear"), 8, 8)


def test_table_round_trips_through_json_and_refuses_foreign_content():
    t = table_with({(8, 8): 1.0}, rest=[[1.0, 0.1]], unit_ms=0.2)
    back = LatencyTable.from_dict(t.to_dict())
    assert back.to_dict() == t.to_dict()
    with pytest.raises(ValueError):
        LatencyTable.from_dict({**t.to_dict(), "schema": "edgeprune.latency/0"})
    with pytest.raises(ValueError):
        LatencyTable.from_dict({**t.to_dict(), "points": {CONV.key: {"8,8": "fast"}}})


class TwoConvs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(8, 16, 3, padding=1)
        self.b = nn.Conv2d(16, 16, 5, padding=2)  # its own geometry: a table keys points by geometry
        self.c = nn.Conv2d(16, 16, 3, padding=1)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.a(x))
        x = torch.relu(self.b(x))
        x = torch.relu(self.c(x))
        return self.head(x.mean((2, 3)))


def test_a_concatenation_shrinks_with_each_group_that_feeds_it_and_a_depthwise_conv_is_one_width():
    from torchvision.models import squeezenet1_1

    from edgeprune.pruning.graph import Graph

    model = squeezenet1_1(num_classes=4).eval()
    groups = Graph(model, (3, 64, 64)).groups
    table = LatencyTable(runtime="ort:1", machine={"cpu": "test"})
    lat = LatencyModel(table, model, groups, (3, 64, 64))
    squeeze = next(la for la in lat.layers if la.name == "features.4.squeeze")  # fed by expand1x1 ++ expand3x3
    assert squeeze.in_parts == {"features.3.expand1x1": 64, "features.3.expand3x3": 64}
    keep = {**lat.sizes, "features.3.expand1x1": 32}
    assert lat.at(squeeze, keep).c_in == 96
    keep["features.3.expand3x3"] = 16
    assert lat.at(squeeze, keep).c_in == 48
    assert "features.4.squeeze" in [lat.layers[i].name for i in lat.touching["features.3.expand3x3"]]

    dw = Geometry("dwconv", (8, 8), (3, 3), (1, 1), (1, 1))
    t = table_with({(8, 8): 1.0, (16, 16): 3.0, (32, 32): 7.0}, geo=dw)
    assert t.layer_ms(dw, 24, 24) == pytest.approx(5.0)  # along the diagonal, not from missing corners
    assert t.layer_ms(dw, 12, 12) == pytest.approx(2.0)


def test_layers_of_reads_sizes_widths_and_groups():
    from edgeprune.pruning.graph import Graph

    model = TwoConvs().eval()
    groups = Graph(model, (8, 8, 8)).groups
    layers = {la.name: la for la in layers_of(model, (8, 8, 8), groups)}
    assert [n for n in layers] == ["a", "b", "c", "head"]
    assert layers["a"].geometry == Geometry("conv", (8, 8), (3, 3), (1, 1), (1, 1), relu=False)
    assert (layers["b"].c_in, layers["b"].c_out, layers["b"].in_group, layers["b"].out_group) == (16, 16, "a", "b")
    assert (layers["head"].in_group, layers["head"].out_group) == ("c", None)
    assert layers["b"].weight_bytes == 4 * 16 * 16 * 25


def every_width(model: nn.Module, shape) -> dict[str, list[int]]:
    """Each group's steps: every width from 1 to its size."""
    from edgeprune.pruning.graph import Graph

    return {g.name: list(range(1, g.size + 1)) for g in Graph(model, shape).groups}


def synthetic(model: nn.Module, shape, cost) -> LatencyTable:
    """A table whose every point costs ``cost(layer, c_in, c_out)``."""
    table = LatencyTable(runtime="ort:1", machine={"cpu": "test"}, group_steps=every_width(model, shape))
    for la in layers_of(model, shape):
        widths = range(1, 17)
        for a in (widths if la.in_group is not None or la.geometry.op != "linear" else [la.c_in]):
            for b in widths:
                table.add(la.geometry, a, b, cost(la, a, b))
        table.add(la.geometry, la.c_in, la.c_out, cost(la, la.c_in, la.c_out))
    return table


def planner_for(cost, scores):
    from edgeprune.pruning.graph import Graph

    model = TwoConvs().eval()
    groups = Graph(model, (8, 8, 8)).groups
    table = synthetic(model, (8, 8, 8), cost)
    return LatencyModel(table, model, groups, (8, 8, 8)), {g.name: scores[g.name] for g in groups}


def test_planner_removes_where_importance_per_millisecond_saved_is_lowest():
    # Every layer costs c_in * c_out; group "a" is unimportant, "b" and "c" matter a lot.
    lat, scores = planner_for(lambda la, a, b: float(a * b), {
        "a": torch.full((16,), 0.01), "b": torch.full((16,), 10.0), "c": torch.full((16,), 10.0)})
    base = lat.predict()
    keep = plan_latency(scores, lat, 0.8 * base)
    assert keep["b"] == 16 and keep["c"] == 16  # only the cheap group was cut
    assert keep["a"] < 16
    assert lat.predict(keep) <= 0.8 * base
    one_more = {**keep, "a": keep["a"] + 1}
    assert lat.predict(one_more) > 0.8 * base  # and no further than needed


def test_planner_jumps_over_a_plateau_where_fewer_channels_are_not_faster():
    # Layer b's time steps: 16 -> 9 channels cost the same, 8 and fewer cost half; the others are free.
    def cost(la, a, b):
        if la.geometry.kernel == (5, 5):  # layer b
            return 10.0 if b > 8 else 5.0
        return 0.0
    lat, scores = planner_for(cost, {g: torch.linspace(0.1, 1.6, 16) for g in ("a", "b", "c")})
    keep = plan_latency(scores, lat, 0.6 * lat.predict())
    assert keep["b"] == 8  # straight to the step, not one channel at a time through the plateau
    assert keep["a"] == 16 and keep["c"] == 16  # no time to gain there


def test_planner_stops_at_the_floor_when_the_target_is_out_of_reach():
    lat, scores = planner_for(lambda la, a, b: 1.0 + a * b, {g: torch.ones(16) for g in ("a", "b", "c")})
    keep = plan_latency(scores, lat, 0.0, min_channels=4)
    assert keep == {"a": 4, "b": 4, "c": 4}  # every group cut to the floor, none below it


def macs_table_vgg() -> tuple[nn.Module, tuple[int, ...], LatencyTable]:
    """A small VGG and a full table where every layer costs its MACs (microseconds per million)."""
    import edgeprune as ep

    torch.manual_seed(0)  # magnitude scores of the same weights: the same plans in every run
    model = ep.create_model("vgg11_bn", input_size=32, in_channels=1, num_classes=4, width=0.125)
    shape = (1, 32, 32)
    table = LatencyTable(runtime="ort:1", machine={"cpu": "test"}, group_steps=every_width(model, shape))
    for la in layers_of(model, shape):
        for a in range(1, la.c_in + 1):
            for b in range(1, la.c_out + 1):
                table.add(la.geometry, a, b, a * b * la.geometry.size[0] * la.geometry.size[1] * 1e-6)
    return model, shape, table


def test_prune_to_a_speedup_meets_the_prediction_and_records_it(tmp_path):
    from edgeprune.fileio import read_json
    from edgeprune.pruning import prune

    model, shape, table = macs_table_vgg()
    small = prune(model, "magnitude", None, target_speedup=3.0, latency=table, steps=2, out=tmp_path).model
    base, after = table.predict(layers_of(model, shape)), table.predict(layers_of(small, shape))
    assert base / after >= 3.0
    report = read_json(tmp_path / "prune.json")
    assert report["latency"]["predicted_speedup"] == pytest.approx(base / after)
    assert report["target"] == {"kind": "latency", "value": pytest.approx(1 / 3)}
    assert [round(h["predicted_speedup"], 6) for h in report["history"]][-1] == pytest.approx(base / after, rel=1e-6)
    assert report["history"][0]["predicted_speedup"] == pytest.approx(3 ** 0.5, rel=0.25)  # geometric steps


def test_prune_to_a_speedup_without_a_table_is_refused():
    import edgeprune as ep
    from edgeprune.pruning import prune

    model = ep.create_model("vgg11_bn", input_size=32, in_channels=1, num_classes=4, width=0.125)
    with pytest.raises(ConfigError, match="needs the latency table"):
        prune(model, "magnitude", None, target_speedup=3.0)
    with pytest.raises(ConfigError, match="above 1"):
        prune(model, "magnitude", None, target_speedup=1.0, latency=LatencyTable("ort:1", {}))


def test_a_measured_step_is_re_aimed_until_the_measurement_reaches_the_target(tmp_path, capsys):
    from edgeprune.pruning import prune

    model, shape, table = macs_table_vgg()
    base = table.predict(layers_of(model, shape))
    seen = []

    def runtime_faster_than_the_table(candidate):  # the runtime gains 40% more than the table predicts
        seen.append(1.4 * base / table.predict(layers_of(candidate, shape)))
        return seen[-1]

    small = prune(model, "magnitude", None, target_speedup=3.0, latency=table, measure=runtime_faster_than_the_table,
                  out=tmp_path).model
    measured = 1.4 * base / table.predict(layers_of(small, shape))
    assert 3.0 <= measured <= 3.0 * 1.08  # on target as measured, not as predicted
    assert len(seen) >= 2 and seen[0] > 3.0 * 1.08  # the first candidate, aimed by the table alone, overshot
    assert "candidate 2 measured" in capsys.readouterr().err


def test_a_noisy_measurement_counts_only_as_far_as_its_interval_vouches(tmp_path, capsys):
    from edgeprune.pruning import prune
    from edgeprune.pruning.schedule import SURE, surely

    assert surely(3.1) == (3.1, 3.1, 3.1, 3.1)
    assert surely((3.1, 2.5, 3.6))[3] == pytest.approx(2.5 / SURE)  # the median reaches 3x, its interval does not
    assert surely((3.1, 3.0, 3.2))[3] == 3.1
    model, shape, table = macs_table_vgg()
    base = table.predict(layers_of(model, shape))
    seen = []

    def wide_interval(candidate):  # the table is right, but every interval reaches 20% below the median
        ratio = base / table.predict(layers_of(candidate, shape))
        seen.append(ratio)
        return ratio, 0.8 * ratio, 1.2 * ratio

    small = prune(model, "magnitude", None, target_speedup=3.0, latency=table, measure=wide_interval, min_channels=1,
                  out=tmp_path).model
    kept = base / table.predict(layers_of(small, shape))
    assert 0.8 * kept >= SURE * 3.0  # pruned until the lower bound, not the median, is near the target
    assert seen[0] < 3.0 / (0.8 / SURE) and len(seen) >= 2  # the first candidate's median was on target, its bound was not
    assert "[" in capsys.readouterr().err


def test_a_speedup_target_keeps_a_macs_targets_floor_unless_told_otherwise():
    from edgeprune.pruning import prune
    from edgeprune.pruning.targets import PlanConfig

    assert PlanConfig().min_channels == 8 and PlanConfig(round_to=1).min_channels == 1
    assert PlanConfig(min_channels=3).min_channels == 3
    model, shape, table = macs_table_vgg()  # the table has a step at every width, 1 to the layer's size
    widths = lambda m: [la.c_out for la in layers_of(m, shape)][:-1]  # noqa: E731  (the classifier's 4 stay)
    floored = prune(model, "magnitude", None, target_speedup=4.0, latency=table).model
    thin = prune(model, "magnitude", None, target_speedup=4.0, latency=table, min_channels=1).model
    assert min(widths(floored)) == 8  # the first conv (8 wide) is never cut: it is at the floor
    assert min(widths(thin)) < 8  # with the floor lowered, the planner takes the table's narrower steps


def test_a_plan_already_timed_is_not_timed_again(tmp_path, capsys):
    from edgeprune.pruning import prune
    from edgeprune.pruning.schedule import MEASURED_TRIES

    model, shape, table = macs_table_vgg()
    seen = []

    def never_faster(candidate):  # a runtime on which pruning gains nothing: every aim is too slow
        seen.append(tuple(la.c_out for la in layers_of(candidate, shape)))
        return 1.0

    prune(model, "magnitude", None, target_speedup=3.0, latency=table, measure=never_faster, out=tmp_path)
    assert len(seen) == len(set(seen)) < MEASURED_TRIES  # down to the floor, each plan timed once, then no more
    assert min(seen[-1][:-1]) == 8  # the last one is at the floor
    assert "no candidate surely reached" in capsys.readouterr().err


def test_a_runtime_a_little_slower_than_the_table_is_re_aimed_into_the_window_at_once(tmp_path):
    from edgeprune.pruning import prune
    from edgeprune.pruning.schedule import OVERSHOOT

    model, shape, table = macs_table_vgg()
    base = table.predict(layers_of(model, shape))
    seen = []

    def slower(candidate):  # the runtime gains 3% less than the table predicts, with no noise
        seen.append(0.97 * base / table.predict(layers_of(candidate, shape)))
        return seen[-1]

    prune(model, "magnitude", None, target_speedup=3.0, latency=table, measure=slower, out=tmp_path)
    assert seen[0] < 3.0  # aimed by the table alone, the first candidate fell short
    assert len(seen) == 2 and 3.0 <= seen[1] <= 3.0 * OVERSHOOT  # the second, aimed inside the window, is on target


def test_the_planner_ranks_by_importance_alone_unless_told_to_weigh_the_time_saved():
    # Layer b costs 10 per output channel, the others 1; b's channels matter most (2.0), then c's (1.0), a's least.
    lat, scores = planner_for(lambda la, a, b: (10.0 if la.geometry.kernel == (5, 5) else 1.0) * b, {
        "a": torch.full((16,), 0.5), "b": torch.full((16,), 2.0), "c": torch.full((16,), 1.0)})
    base = lat.predict()
    assert base == pytest.approx(16 + 160 + 16 + 4)
    by_importance = plan_latency(scores, lat, base - 20, min_channels=1)
    assert by_importance == {"a": 1, "b": 16, "c": 11}  # a's 15 channels save 15, then c's least important 5
    per_ms = plan_latency(scores, lat, base - 20, min_channels=1, weight=1.0)
    assert per_ms == {"a": 16, "b": 14, "c": 16}  # 0.2 of importance per unit saved in b, 0.5 in a, 1.0 in c
    half = plan_latency(scores, lat, base - 20, min_channels=1, weight=0.5)
    assert half == {"a": 1, "b": 15, "c": 16}  # a first (0.5 per channel), then b (2 / sqrt(10) = 0.63) before c (1.0)
