"""Latency tables: measured on the real runtime, cached per machine and runtime, rebuilt when damaged or foreign."""

from __future__ import annotations

import json

import pytest

import edgeprune as ep
from edgeprune.bench import latency as lat
from edgeprune.errors import ConfigError
from edgeprune.pruning.latency import Geometry, layers_of

SHAPE = (1, 32, 32)


@pytest.fixture(scope="module")
def small_vgg():
    import torch

    torch.manual_seed(0)
    return ep.create_model("vgg11_bn", input_size=32, in_channels=1, num_classes=4, width=0.125).eval()


class Counting:
    """A stand-in for the runtime: every point costs c_in * c_out thousandths; calls are counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, geo: Geometry, c_in: int, c_out: int) -> float:
        self.calls += 1
        return c_in * c_out * 1e-3


def test_on_parses_runtime_and_threads_and_refuses_the_rest():
    assert lat.parse_on("ort:2") == ("ort", 2)
    assert lat.parse_on("openvino") == ("openvino", 1)
    for bad, match in (("web:2", "browser"), ("tvm:1", "not supported"), ("ort:0", "positive"), ("ort:x", "positive")):
        with pytest.raises(ConfigError, match=match):
            lat.parse_on(bad)


@pytest.mark.parametrize("arch", ["vgg", "resnet18", "mobilenet_v2"])
def test_the_grid_covers_every_width_a_plan_can_reach(small_vgg, arch, tmp_path):
    """Every step of every group lands on measured points of every layer it touches (residual partners,
    depthwise convs and the flattened Linear included), so a plan never leans on a guess."""
    import torchvision

    from edgeprune.pruning.graph import Graph
    from edgeprune.pruning.latency import LatencyModel

    model = small_vgg if arch == "vgg" else getattr(torchvision.models, arch)(num_classes=4).eval()
    shape = SHAPE if arch == "vgg" else (3, 32, 32)
    graph = Graph(model, shape)
    table = lat.latency_table(model, "ort:1", input_shape=shape, cache=tmp_path, calibrate=False, measure=Counting())
    latency = LatencyModel(table, model, graph.groups, shape)
    for g in graph.groups:
        steps = latency.steps(g.name)
        assert steps[-1] == g.size and steps[0] >= 1
        for w in steps:
            keep = {**latency.sizes, g.name: w}
            for i in latency.touching[g.name]:
                la = latency.at(latency.layers[i], keep)
                assert table.has(la.geometry, la.c_in, la.c_out), (g.name, w, la.name, la.c_in, la.c_out)


def test_a_second_run_measures_nothing_and_a_damaged_or_foreign_cache_is_rebuilt(small_vgg, tmp_path, capsys):
    first = Counting()
    table = lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=first)
    assert first.calls > 20
    files = list(tmp_path.glob("ort-1-*.json"))
    assert len(files) == 1
    capsys.readouterr()

    second = Counting()
    again = lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=second)
    assert second.calls == 0
    assert again.points == table.points
    assert "from the cache" in capsys.readouterr().err

    files[0].write_text("{ not json")
    third = Counting()
    lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=third)
    err = [line for line in capsys.readouterr().err.splitlines() if "latency cache" in line]
    assert len(err) == 1 and "damaged" in err[0] and "rebuilding" in err[0]
    assert third.calls == first.calls

    foreign = json.loads(files[0].read_text())
    foreign["machine"] = {**foreign["machine"], "cpu": "Some Other CPU"}
    files[0].write_text(json.dumps(foreign))
    fourth = Counting()
    lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=fourth)
    err = [line for line in capsys.readouterr().err.splitlines() if "latency cache" in line]
    assert len(err) == 1 and "another machine" in err[0] and "Some Other CPU" in err[0]
    assert fourth.calls == first.calls

    older = json.loads(files[0].read_text())
    files[0].write_text(json.dumps({**older, "schema": "edgeprune.latency/1"}))
    fifth = Counting()
    lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=fifth)
    err = [line for line in capsys.readouterr().err.splitlines() if "latency cache" in line]
    assert len(err) == 1 and "another edgeprune version" in err[0] and "edgeprune.latency/1" in err[0]
    assert fifth.calls == first.calls


def test_another_thread_count_is_another_table(small_vgg, tmp_path):
    lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, measure=Counting())
    other = Counting()
    lat.latency_table(small_vgg, "ort:2", cache=tmp_path, calibrate=False, measure=other)
    assert other.calls > 0
    assert sorted(p.name.split("-")[1] for p in tmp_path.glob("*.json")) == ["1", "2"]


def test_a_points_stand_in_reads_the_weights_of_the_network_thinned_to_its_widths(small_vgg, tmp_path, monkeypatch):
    """A narrow layer runs in a narrow network, whose weights may stay in the cache: its stand-in reads the
    network's bytes scaled by its widths' fractions (one prunable side squared), not the whole network's,
    which made every narrow layer pay a cold start it never pays (VGG16-BN at 10% MACs predicted 3x slow)."""
    contexts: dict[tuple[str, int, int], int] = {}

    def fake_onnx(geo, c_in, c_out, context_bytes=0, seed=0):
        contexts[(geo.key, c_in, c_out)] = context_bytes
        import onnx
        return onnx.ModelProto()

    monkeypatch.setattr(lat, "layer_onnx", fake_onnx)
    monkeypatch.setattr(lat, "profile_nodes", lambda path, on, runs=lat.RUNS: [("layer", True, [1.0]), ("ref_layer", True, [2.0])])
    lat.latency_table(small_vgg, "ort:1", cache=tmp_path, calibrate=False, refine=False)
    layers = layers_of(small_vgg, SHAPE)
    network = lat.context_bytes(layers)
    first, second, last = layers[0], layers[1], layers[-1]  # image -> conv, conv -> conv, Linear -> classes
    assert contexts[(second.geometry.key, second.c_in, second.c_out)] == network  # the unpruned model's layer
    assert contexts[(second.geometry.key, second.c_in // 2, second.c_out // 2)] == network // 4
    assert contexts[(first.geometry.key, first.c_in, first.c_out // 2)] == network // 4  # one side: squared
    assert contexts[(last.geometry.key, last.c_in // 2, last.c_out)] == network // 4
    assert min(contexts.values()) < max(contexts.values()) == network


@pytest.mark.parametrize("runtime", ["ort", "openvino"])
def test_a_layer_is_timed_on_the_real_runtime_in_reference_units(runtime):
    conv = Geometry("conv", (8, 8), (3, 3), (1, 1), (1, 1))
    with lat._PointTimer(f"{runtime}:1", 1 << 20) as timer:
        ref = timer.layer_ms(conv, 64, 64)  # the reference layer's geometry, its weights evicted
        small = timer.layer_ms(conv, 8, 8)
        fc = timer.layer_ms(Geometry("linear"), 128, 64)
    assert ref > 0 and small > 0 and fc > 0
    assert small < ref  # 64x fewer MACs and weights: it is faster on any machine


def test_a_real_table_predicts_a_thinned_model_faster_and_its_cache_is_reused(tiny_ckpt, latency_cache, short_timing):
    model = ep.load(tiny_ckpt)  # the session's shared cache: the prune CLI test reuses this table
    table = lat.latency_table(model, "ort:1", cache=latency_cache)
    assert len(table.rest) == len(lat.CALIBRATION)
    assert table.unit_ms > 0
    half = lat.thinned(model, SHAPE, 0.5)
    assert table.predict(layers_of(half, SHAPE)) < table.predict(layers_of(model, SHAPE))
    counting = Counting()
    lat.latency_table(model, "ort:1", cache=latency_cache, measure=counting)
    assert counting.calls == 0  # points and the network's fit both come from the cache


def test_verify_speedup_times_two_models_interleaved(small_vgg):
    half = lat.thinned(small_vgg, SHAPE, 0.5)
    v = lat.verify_speedup(small_vgg, half, "ort:1", SHAPE)
    assert v["on"] == "ort:1" and v["base_ms"] > 0 and v["pruned_ms"] > 0
    lo, hi = v["speedup_ci"]
    assert lo <= v["speedup"] <= hi


def test_a_candidate_measured_with_a_wide_interval_is_measured_again_longer(small_vgg, monkeypatch):
    calls = []

    def fake_verify(base, pruned, on, shape, preset="quick"):
        calls.append(preset)
        ci = [1.0, 3.0] if preset == "quick" else [1.9, 2.1]  # quick: 2x with an interval of +-50%
        return {"speedup": 2.0, "speedup_ci": ci}

    monkeypatch.setattr(lat, "verify_speedup", fake_verify)
    assert lat.speedup_meter(small_vgg, "ort:1")(small_vgg) == (2.0, 1.9, 2.1)
    assert calls == ["quick", "full"]
    calls.clear()
    monkeypatch.setattr(lat, "verify_speedup", lambda *a, **k: calls.append(1) or {"speedup": 2.0, "speedup_ci": [1.9, 2.1]})
    assert lat.speedup_meter(small_vgg, "ort:1")(small_vgg) == (2.0, 1.9, 2.1) and calls == [1]  # narrow: once


def test_the_rest_is_fitted_on_the_wall_clock_each_copy_timed_against_the_model(small_vgg, tmp_path, monkeypatch):
    from edgeprune.models import count_macs

    pairs = []

    def clock(models, on, shape, preset="quick", paths=None):  # a copy runs as much faster as it has fewer MACs
        pairs.append(len(models))
        s = count_macs(models[0], shape) / count_macs(models[1], shape)
        return [{"p50_ms": 4.0, "speedup": 1.0, "speedup_ci": [1.0, 1.0]}, {"p50_ms": 4 / s, "speedup": s, "speedup_ci": [s, s]}]

    def profiler(path, on, runs=11):  # the reference takes 0.1 ms; the profiler puts every copy at 20 units
        return [("ref_layer", True, [0.1] * runs), ("conv", True, [2.0] * runs)]

    monkeypatch.setattr(lat, "measure_networks", clock)
    monkeypatch.setattr(lat, "profile_nodes", profiler)
    table = lat.latency_table(small_vgg, "ort:1", cache=tmp_path, measure=Counting())
    assert pairs == [2] * (len(lat.CALIBRATION) - 1)  # each copy against the model, not all six together
    fit = table.calibration[-1]["fit"]
    assert [row["network_units"] for row in fit] == pytest.approx([40 / row["speedup"] for row in fit])  # 4 ms / 0.1 ms
    assert table.predict_ms(layers_of(small_vgg, SHAPE)) == pytest.approx(4.0)  # the clock's milliseconds
    half = lat.thinned(small_vgg, SHAPE, 0.5)
    predicted = table.predict(layers_of(small_vgg, SHAPE)) / table.predict(layers_of(half, SHAPE))
    assert predicted == pytest.approx(count_macs(small_vgg, SHAPE) / count_macs(half, SHAPE))  # the clock's 3.x, not 1x
