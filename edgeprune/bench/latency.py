"""Measure a latency table on a real runtime: each layer in a stand-in for its network, on a width grid
refined where latency jumps.

``latency_table(model, "ort:2")`` returns the :class:`~edgeprune.pruning.latency.LatencyTable` that
predicts ``model`` and its pruned variants on onnxruntime with 2 threads. Each point is one layer
(Conv2d + ReLU, or Linear) built directly in ONNX at its real feature-map size (:func:`layer_onnx`)
and read from the runtime's profiler, in units of a reference layer run in the same inferences; the
rest of the network is fitted on the model and five uniformly thinned copies, timed whole by the wall clock. Tables
are cached on disk per CPU, flags, runtime version and threads, and reused: a second run measures
only what the first did not.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from edgeprune.bench.backends import Artifact, get_backend
from edgeprune.bench.stats import speedup
from edgeprune.errors import ConfigError
from edgeprune.fileio import write_json
from edgeprune.pruning.latency import Geometry, LatencyTable, Layer, layers_of
from edgeprune.runtime.timing import PRESETS, Preset, measure_interleaved
from edgeprune.ui import log, track

__all__ = ["RUNTIMES", "cache_dir", "latency_table", "measure_networks", "parse_on", "record_speedup", "speedup_meter",
           "verify_speedup"]

RUNTIMES = ("ort", "openvino")
WARMUP, RUNS = 2, 11  # per table point: a short warm-up, then the median of a few profiled runs
LADDER = (1.0, 7 / 8, 3 / 4, 5 / 8, 1 / 2, 3 / 8, 1 / 4, 3 / 16, 1 / 8, 1 / 16)
REFINE_TOL = 0.10  # a midpoint more than 10% off the straight line between its neighbours is kept, and refined
WIDE_CI = 0.2  # a candidate's speedup interval wider than 20% of the speedup is measured again, longer
CALIBRATION = (1.0, 0.75, 0.5, 0.35, 0.25, 0.125)  # width fractions of the networks the rest is fitted on


def parse_on(on: str) -> tuple[str, int]:
    """``"ort:2"`` -> ("ort", 2): the runtime and its thread count."""
    name, _, threads = str(on).partition(":")
    if name not in RUNTIMES:
        extra = " (per-layer tables in the browser or over ssh are not built yet)" if name in ("web", "ssh") else ""
        raise ConfigError(f"latency target runtime {name!r} is not supported{extra}",
                          hint=f"one of {', '.join(f'{r}:THREADS' for r in RUNTIMES)}, e.g. ort:2")
    try:
        n = int(threads or 1)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"latency target {on!r}: threads must be a positive integer", hint="e.g. ort:2")
    return name, n


def cache_dir() -> Path:
    """Where tables live: $EDGEPRUNE_CACHE/latency, else $XDG_CACHE_HOME (~/.cache)/edgeprune/latency."""
    root = os.environ.get("EDGEPRUNE_CACHE")
    if root:
        return Path(root) / "latency"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgeprune" / "latency"


def machine_key(on: str) -> dict[str, Any]:
    """What a table is valid for: CPU model and flags, runtime and its version, threads."""
    from edgeprune.runtime.machine import cpu_flags, cpu_model

    name, threads = parse_on(on)
    return {"cpu": cpu_model(), "flags": cpu_flags(), "runtime": name,
            "version": get_backend(name).version(), "threads": threads}


def _cache_file(folder: Path, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return folder / f"{key['runtime']}-{key['threads']}-{digest}.json"


def load_cached(path: Path, key: dict[str, Any]) -> LatencyTable | None:
    """The cached table at ``path`` if it is one and of this machine; a damaged or foreign file says so and is ignored."""
    if not path.is_file():
        return None
    try:
        table = LatencyTable.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as e:
        why = "of another edgeprune version" if str(e).startswith("schema ") else "damaged"
        log(f"latency cache {path} is {why} ({type(e).__name__}: {e}); rebuilding it")
        return None
    if table.machine != key:
        log(f"latency cache {path} is of another machine or runtime ({table.machine.get('cpu')}, "
            f"{table.machine.get('runtime')} {table.machine.get('version')}); rebuilding it")
        return None
    return table


def context_bytes(layers: list[Layer], cap: int = 64 << 20) -> int:
    """Weight bytes a layer's stand-in context reads: the network's, up to a power of two (tables are shared), capped."""
    total = sum(la.weight_bytes for la in layers)
    return min(cap, 1 << max(0, (total - 1).bit_length())) if total > 0 else 0


def full_widths(layers: list[Layer]) -> dict[str, list[tuple[int | None, int | None]]]:
    """Per geometry, the widths of the model's layers on it; None for a side pruning never changes (the
    image's channels, the classes)."""
    out: dict[str, list[tuple[int | None, int | None]]] = {}
    for la in layers:
        wide_in = la.in_group is not None or bool(la.in_parts)
        full = (la.c_in if wide_in else None, la.c_out if la.out_group is not None else None)
        if full not in out.setdefault(la.geometry.key, []):
            out[la.geometry.key].append(full)
    return out


def point_context(network: int, full: list[tuple[int | None, int | None]] | None, c_in: int, c_out: int) -> int:
    """Weight bytes the stand-in of one point reads: those of the network thinned to the point's widths.

    A network pruned to a quarter of its widths reads a sixteenth of its weights between two runs of a
    layer; at 10% of the MACs VGG16-BN's fit in a core's L2, so its layers run warm. Measured after the
    whole network's bytes, each narrow layer paid a cold start it never pays in its network (on
    OpenVINO and onnxruntime alike, 15-20 us a layer here: 2x the in-network time of a 2x2 or 4x4 layer).
    ``network`` is scaled by the layer's width fractions, squared where one side is prunable, up to a
    power of two; where several layers share the geometry, the least thinned reading of the point counts
    (every layer of the unpruned model keeps the whole network's context).
    """
    def share(f_in: int | None, f_out: int | None) -> float:
        fractions = [min(1.0, w / f) for w, f in ((c_in, f_in), (c_out, f_out)) if f]
        if not fractions:
            return 1.0
        return fractions[0] ** 2 if len(fractions) == 1 else fractions[0] * fractions[1]

    if network <= 0 or not full:
        return network
    scaled = max(1, round(network * max(share(*f) for f in full)))
    return min(network, 1 << (scaled - 1).bit_length())


def network_key(layers: list[Layer]) -> str:
    """A network's identity for its fitted overhead: its layers' geometries and widths."""
    text = json.dumps([[la.geometry.key, la.c_in, la.c_out] for la in layers])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def latency_table(model: nn.Module, on: str, *, input_shape: tuple[int, ...] | None = None,
                  cache: str | os.PathLike[str] | None = None, calibrate: bool = True,
                  measure: Callable[[Geometry, int, int], float] | None = None,
                  ladder: tuple[float, ...] = LADDER, refine: bool = True) -> LatencyTable:
    """The table predicting ``model`` (and any pruning of it) on ``on``, measured where the cache lacks points.

    ``ladder``: the width fractions measured per group before refinement (a shorter one for big models);
    ``measure`` replaces the runtime (tests).
    """
    from edgeprune.models import spec_of
    from edgeprune.pruning.graph import Graph

    name, _ = parse_on(on)
    missing = get_backend(name).missing()
    if missing:
        raise ConfigError(f"cannot measure latency on {on}: {missing}")
    shape = tuple(input_shape or spec_of(model).input_shape)
    work = copy.deepcopy(model).cpu().eval()
    groups = Graph(work, shape).groups
    layers = layers_of(work, shape, groups)
    key = {**machine_key(on), "context_bytes": context_bytes(layers)}
    folder = Path(cache) if cache is not None else cache_dir()
    path = _cache_file(folder, key)
    table = load_cached(path, key) or LatencyTable(runtime=on, machine=key)
    with _PointTimer(on, key["context_bytes"], full_widths(layers)) as timer:
        measure = measure or timer.layer_ms
        wanted, table.group_steps = _grid(table, layers, groups, measure, ladder, refine)
        todo = [p for p in wanted if not table.has(*p)]
        if todo:
            log(f"latency table {on}: measuring {len(todo)} layer points ({len(wanted) - len(todo)} cached)")
        else:
            log(f"latency table {on}: all {len(wanted)} layer points from the cache {path}")
        for geo, c_in, c_out in track(todo, f"latency {on}", total=len(todo)):
            table.add(geo, c_in, c_out, measure(geo, c_in, c_out))
            if sum(map(len, table.points.values())) % 50 == 0:
                _save(path, table)  # an interrupted build keeps what it measured
    net = network_key(layers)
    fitted = next((c for c in table.calibration if isinstance(c, dict) and c.get("network") == net
                   and {"rest", "unit_ms"} <= set(c)), None)
    if fitted is None and calibrate:
        fitted = _calibrate(table, work, shape, on, net)
        table.calibration.append(fitted)
    if fitted is not None:
        for k in ("rest", "unit_ms"):
            setattr(table, k, fitted[k])
    _save(path, table)
    return table


def _save(path: Path, table: LatencyTable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, table.to_dict())


def axis_for(size: int, ladder: tuple[float, ...] = LADDER) -> list[int]:
    """The coarse widths measured for a group of ``size`` channels: a ladder of multiples of 8 (quarters, if small)."""
    if size <= 16:
        return sorted({size, *range(max(1, size // 4), size, max(1, size // 4))})
    return sorted({size, *(max(8, round(size * f / 8) * 8) for f in ladder if size * f >= 4)} - {0})


def _grid(table: LatencyTable, layers: list[Layer], groups, measure, ladder: tuple[float, ...] = LADDER,
          refine: bool = True) -> tuple[list[tuple[Geometry, int, int]], dict[str, list[int]]]:
    """Every point the planner may ask for (per geometry, the product of its layers' width axes), and the
    (refined) width axis of every group: the widths the planner may stop at."""
    sizes = {g.name: g.size for g in groups}
    axes = {g: axis_for(s, ladder) for g, s in sizes.items()}
    for g in axes if refine else ():  # refine each group's axis on its root layer (full input width) where latency jumps
        root = next((la for la in layers if la.name == g), None)
        if root is not None and root.geometry.op != "linear":
            axes[g] = _refine(table, root, axes[g], measure)

    def scaled(la: Layer, group: str | None, full: int) -> list[int]:
        if group is None:
            return [full]
        return sorted({max(1, round(full * w / sizes[group])) for w in axes[group]})

    by_geo: dict[str, tuple[Geometry, set[int], set[int]]] = {}
    for la in layers:
        ins = scaled(la, la.in_group, la.c_in)
        outs = scaled(la, la.out_group, la.c_out)
        if la.geometry.op == "dwconv":
            ins = outs
        geo, i, o = by_geo.setdefault(la.geometry.key, (la.geometry, set(), set()))
        i.update(ins)
        o.update(outs)
    points = []
    for geo, ins, outs in by_geo.values():
        if geo.op == "dwconv":
            points += [(geo, c, c) for c in sorted(outs)]
        else:
            points += [(geo, a, b) for a in sorted(ins) for b in sorted(outs)]
    return points, axes


def _refine(table: LatencyTable, root: Layer, axis: list[int], measure) -> list[int]:
    """Add midpoints (multiples of 8) along the output width where the measured latency leaves the straight line."""
    def ms(c_out: int) -> float:
        c_in = c_out if root.geometry.op == "dwconv" else root.c_in
        if not table.has(root.geometry, c_in, c_out):
            table.add(root.geometry, c_in, c_out, measure(root.geometry, c_in, c_out))
        return table.points[root.geometry.key][f"{c_in},{c_out}"]

    out, stack = set(axis), list(itertools.pairwise(axis))
    while stack:
        a, b = stack.pop()
        mid = (a + b) // 2 // 8 * 8
        if mid <= a or mid >= b:
            continue
        line = ms(a) + (ms(b) - ms(a)) * (mid - a) / (b - a)
        if abs(ms(mid) - line) > REFINE_TOL * max(ms(mid), 1e-6):
            out.add(mid)
            stack += [(a, mid), (mid, b)]
    return sorted(out)


REF = (Geometry("conv", (8, 8), (3, 3), (1, 1), (1, 1)), 64, 64)  # the unit every point is measured against
LAYER_OPS = {"ort": {"Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul"},
             "openvino": {"Convolution", "GroupConvolution", "FullyConnected", "MatMul"}}


def _chain(prefix: str, geo: Geometry, c_in: int, c_out: int, context: int, rng: np.random.Generator):
    """Nodes, weights, input and output of one layer as it runs in a network (see :func:`layer_onnx`)."""
    from onnx import TensorProto, helper, numpy_helper

    inits: list[Any] = []
    n = f"{prefix}layer"

    def param(name: str, *shape: int, dtype: Any = np.float32, value: Any = None) -> str:
        arr = np.asarray(value, dtype=dtype) if value is not None else rng.uniform(-0.05, 0.05, shape).astype(dtype)
        inits.append(numpy_helper.from_array(arr, prefix + name))
        return prefix + name

    def node(op: str, ins: list[str], out: str, **kw: Any) -> Any:
        return helper.make_node(op, ins, [prefix + out], name=f"{prefix}{out}", **kw)

    linear = geo.op == "linear"
    x = prefix + "x"
    x_shape = [1, c_in] if linear else [1, c_in, *geo.size]
    nodes = [node("Relu", [x], "a")] if linear else [
        node("Conv", [x, param("w0", c_in, c_in, 1, 1), param("b0", c_in)], "a0"), node("Relu", [prefix + "a0"], "a")]
    src = prefix + "a"
    if context > 0:  # e = Gemm(mean(a) broadcast to 1024) reads the weights; a + 0*mean(e) runs it first
        nodes += [node("ReduceMean", [src], "evict_m", keepdims=0),
                  node("Reshape", [prefix + "evict_m", param("one", dtype=np.int64, value=[1, 1])], "evict_m2"),
                  node("Expand", [prefix + "evict_m2", param("wide", dtype=np.int64, value=[1, 1024])], "evict_m3"),
                  node("Gemm", [prefix + "evict_m3", param("we", max(1, context // 4096), 1024)], "evict_e", transB=1),
                  node("ReduceMean", [prefix + "evict_e"], "evict_e2", keepdims=1),
                  node("Mul", [prefix + "evict_e2", param("zero", dtype=np.float32, value=[0.0])], "evict_e3"),
                  node("Add", [src, prefix + "evict_e3"], "evict_s")]
        src = prefix + "evict_s"
    act = "Relu" if geo.relu else "Identity"
    if linear:  # nothing after it: a Linear needs no layout, and a following Gemm may be fused into it
        nodes += [helper.make_node("Gemm", [src, param("w", c_out, c_in), param("b", c_out)], [prefix + "layer_z"],
                                   name=n, transB=1),
                  helper.make_node(act, [prefix + "layer_z"], [prefix + "y"], name=f"{prefix}layer_out")]
        y_shape = [1, c_out]
    else:
        groups = c_in if geo.op == "dwconv" else geo.groups
        nodes += [helper.make_node("Conv", [src, param("w", c_out, c_in // groups, *geo.kernel), param("b", c_out)],
                                   [prefix + "layer_z"], name=n, kernel_shape=list(geo.kernel),
                                   strides=list(geo.stride), pads=[*geo.padding, *geo.padding],
                                   dilations=list(geo.dilation), group=groups),
                  helper.make_node(act, [prefix + "layer_z"], [prefix + "layer_out"], name=f"{prefix}layer_out"),
                  node("Conv", [prefix + "layer_out", param("w2", c_out, c_out, 1, 1)], "y")]
        y_shape = [1, c_out, *geo.out_size]
    return (nodes, inits, helper.make_tensor_value_info(x, TensorProto.FLOAT, x_shape),
            helper.make_tensor_value_info(prefix + "y", TensorProto.FLOAT, y_shape))


def layer_onnx(geo: Geometry, c_in: int, c_out: int, context_bytes: int = 0, seed: int = 0) -> Any:
    """One layer as it runs in a network, beside the reference layer, as one ONNX model.

    A 1x1 conv (a ReLU before a Linear) feeds the layer and a 1x1 conv follows it, so the runtime
    picks the kernel and layout it would between layers (the addition that orders the context first
    may cost a reorder into that layout, which is not counted); before the layer a Gemm reads
    ``context_bytes`` of weights, as the network's other layers do between two runs of it (the table
    passes the network's bytes thinned to the point's widths, :func:`point_context`). A Linear is the last node. An independent chain around :data:`REF` runs in the same inference: the profiler's time of
    the layer over the reference's, run by run, is the point's value, so a machine that slows down
    for a while (a shared core runs at half speed for tenths of a second here) slows both alike.
    """
    import onnx
    from onnx import helper

    rng = np.random.default_rng(seed)
    parts = [_chain("", geo, c_in, c_out, context_bytes, rng), _chain("ref_", *REF, 0, rng)]
    graph = helper.make_graph([n for p in parts for n in p[0]], "layer", [p[2] for p in parts], [p[3] for p in parts],
                              [i for p in parts for i in p[1]])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=onnx.IR_VERSION_2021_7_30)


def with_reference(network: Any, seed: int = 0) -> Any:
    """An exported network with the :data:`REF` chain beside it (two inputs, two outputs), to profile in units."""
    import onnx
    from onnx import helper

    nodes, inits, x, y = _chain("ref_", *REF, 0, np.random.default_rng(seed))
    g = network.graph
    graph = helper.make_graph([*g.node, *nodes], g.name, [*g.input, x], [*g.output, y], [*g.initializer, *inits],
                              value_info=list(g.value_info))
    model = helper.make_model(graph, opset_imports=list(network.opset_import), ir_version=network.ir_version)
    onnx.checker.check_model(model)
    return model


def profile_nodes(path: Path, on: str, runs: int = RUNS) -> list[tuple[str, bool, list[float]]]:
    """Per node, in execution order: name, whether it is a Conv/Gemm, and its milliseconds in each run."""
    import onnx

    name, threads = parse_on(on)
    rng = np.random.default_rng(0)
    model = onnx.load(str(path), load_external_data=False)
    feeds = {i.name: rng.standard_normal([1, *[d.dim_value for d in i.type.tensor_type.shape.dim[1:]]])
             .astype(np.float32) for i in model.graph.input}
    order: dict[str, bool] = {}  # node -> is a Conv/Gemm, in execution order
    per_run: list[dict[str, float]] = []  # one dict per timed run: node -> milliseconds (summed within the run)

    def record(run: int, node: str, is_layer: bool, ms: float) -> None:
        order.setdefault(node, is_layer)
        while len(per_run) <= run:
            per_run.append({})
        per_run[run][node] = per_run[run].get(node, 0.0) + ms

    if name == "ort":
        import onnxruntime as ort

        from edgeprune.runtime.ort import PROVIDERS, session_options

        opts = session_options(threads)
        opts.enable_profiling = True
        with tempfile.TemporaryDirectory(prefix="edgeprune-profile-") as tmp:
            opts.profile_file_prefix = str(Path(tmp) / "profile")
            session = ort.InferenceSession(str(path), opts, providers=PROVIDERS)
            for _ in range(WARMUP + runs):
                session.run(None, feeds)
            events = json.loads(Path(session.end_profiling()).read_text())
        spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("name") == "model_run")
        for e in events:
            if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
                continue
            run = next((i for i, (t0, t1) in enumerate(spans) if t0 <= e["ts"] <= t1), None)
            if run is not None and run >= WARMUP:
                record(run - WARMUP, e["name"][: -len("_kernel_time")],
                       e.get("args", {}).get("op_name") in LAYER_OPS["ort"], e["dur"] / 1e3)
    else:
        import openvino as ov

        from edgeprune.runtime.openvino import openvino_cpu_config

        compiled = ov.Core().compile_model(str(path), "CPU", {**openvino_cpu_config(threads), "PERF_COUNT": True})
        request = compiled.create_infer_request()
        inputs = [feeds[i.get_any_name()] for i in compiled.inputs]
        for i in range(WARMUP + runs):
            request.infer(inputs)
            if i >= WARMUP:
                for info in request.get_profiling_info():
                    if info.status == info.Status.EXECUTED:
                        record(i - WARMUP, info.node_name, info.node_type in LAYER_OPS["openvino"],
                               info.real_time.total_seconds() * 1e3)
    per_node = {n: [r.get(n, 0.0) for r in per_run] for n in order}  # a node a run skipped took no time in it
    return [(n, is_layer, per_node[n]) for n, is_layer in order.items()]


def _is_ref(node: str) -> bool:
    return "ref_" in node


def _layer_samples(nodes: list[tuple[str, bool, list[float]]], ref: bool) -> np.ndarray:
    """Per-run milliseconds of the layer of a :func:`layer_onnx` chain: its nodes, as the runtime named them.

    Both runtimes keep "layer" in the names of the nodes they made from it (onnxruntime's fused
    "fused layer" or "layer_out_nchwc", OpenVINO's "layer/WithoutBiases"; a reorder into the layer's
    layout is not the layer, an unfused ReLU is); where a runtime fused the
    whole chain into one subgraph (OpenVINO, small Linears), the chain's nodes after its input count.
    """
    chain = [(n, is_layer, s) for n, is_layer, s in nodes
             if _is_ref(n) == ref and "evict" not in n and not n.startswith(("Reorder", "ref_x", "x_"))]
    named = [s for n, is_layer, s in chain if "layer" in n and (is_layer or n.endswith("layer_out"))]
    picked = named or [s for _, _, s in chain[1:]]
    if not picked:
        raise ConfigError("the profiler shows no node of the layer being timed")
    return np.sum(np.asarray(picked, dtype=float), axis=0)


class _PointTimer:
    """Profiles single layers in their stand-in context on one runtime, in units of the reference layer."""

    def __init__(self, on: str, context_bytes: int,
                 widths: dict[str, list[tuple[int | None, int | None]]] | None = None) -> None:
        self.on, self.context_bytes, self.widths = on, context_bytes, widths or {}
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> _PointTimer:
        self._tmp = tempfile.TemporaryDirectory(prefix="edgeprune-latency-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def layer_ms(self, geo: Geometry, c_in: int, c_out: int) -> float:
        """The layer's time in reference units: the median of run-by-run ratios."""
        import onnx

        path = Path(self._tmp.name) / "layer.onnx"
        context = point_context(self.context_bytes, self.widths.get(geo.key), c_in, c_out)
        onnx.save(layer_onnx(geo, c_in, c_out, context), str(path))
        try:
            nodes = profile_nodes(path, self.on)
        except Exception as e:  # a runtime's own exception types
            raise ConfigError(f"timing a {geo.key} layer on {self.on} failed: {type(e).__name__}: {e}") from e
        return float(np.median(_layer_samples(nodes, ref=False) / np.maximum(_layer_samples(nodes, ref=True), 1e-6)))


def thinned(model: nn.Module, shape: tuple[int, ...], fraction: float) -> nn.Module:
    """A copy of ``model`` with every prunable group cut to ``fraction`` of its width (multiples of 8)."""
    from edgeprune.pruning.graph import Graph
    from edgeprune.pruning.targets import PlanConfig, rounded_keep

    work = copy.deepcopy(model).cpu().eval()
    if fraction >= 1:
        return work
    graph = Graph(work, shape)
    cfg = PlanConfig()
    plan = {g.name: list(range(g.size - rounded_keep(g.size, round(g.size * fraction), cfg))) for g in graph.groups}
    return graph.apply(plan)


@contextlib.contextmanager
def _onnx_files(models: list[nn.Module], shape: tuple[int, ...]) -> Iterator[list[Path]]:
    from edgeprune.export.onnx import export_onnx

    with tempfile.TemporaryDirectory(prefix="edgeprune-latency-") as tmp:
        yield [export_onnx(m, Path(tmp) / f"m{i}.onnx", input_shape=shape) for i, m in enumerate(models)]


def measure_networks(models: list[nn.Module], on: str, shape: tuple[int, ...], preset: str | Preset = "quick",
                     paths: list[Path] | None = None) -> list[dict[str, Any]]:
    """Whole networks timed interleaved with the bench's protocol: p50 ms, and speedup over the first with its interval.

    ``paths``: the models' ONNX files when the caller has them already.
    """
    name, threads = parse_on(on)
    backend = get_backend(name)
    preset = PRESETS[preset] if isinstance(preset, str) else preset
    with contextlib.nullcontext(paths) if paths else _onnx_files(models, shape) as paths:
        sessions = [backend.load(Artifact(f"m{i}", p, backend.form, shape), threads, 1) for i, p in enumerate(paths)]
        raws = measure_interleaved([(f"m{i}", s.run, s.init_ms) for i, s in enumerate(sessions)], preset)
        for s in sessions:
            if s.close:
                s.close()
    out = []
    for raw in raws:
        if raw.error:
            raise ConfigError(f"timing a network on {on} failed: {raw.error}")
        sp = speedup(raws[0].rounds, raw.rounds)
        out.append({"p50_ms": float(np.median(raw.samples)), "speedup": sp.ratio, "speedup_ci": [sp.ci_low, sp.ci_high]})
    return out


def verify_speedup(base: nn.Module, pruned: nn.Module, on: str, shape: tuple[int, ...],
                   preset: str | Preset = "quick") -> dict[str, Any]:
    """The measured speedup of ``pruned`` over ``base`` on ``on`` (interleaved, bench protocol) with its interval."""
    b, p = measure_networks([base, pruned], on, shape, preset)
    return {"on": on, "preset": preset if isinstance(preset, str) else preset.name, "base_ms": b["p50_ms"],
            "pruned_ms": p["p50_ms"], "speedup": p["speedup"], "speedup_ci": p["speedup_ci"]}


def speedup_meter(base: nn.Module, on: str, shape: tuple[int, ...] | None = None,
                  preset: str | Preset = "quick") -> Callable[[nn.Module], tuple[float, float, float]]:
    """A function of a candidate: its measured speedup over ``base`` on ``on`` and the speedup's 95% interval
    (for ``prune(measure=...)``); an interval wider than :data:`WIDE_CI` of the speedup is measured again with
    the full preset."""
    from edgeprune.models import spec_of

    shape = tuple(shape or spec_of(base).input_shape)

    def meter(candidate: nn.Module) -> tuple[float, float, float]:
        v = verify_speedup(base, candidate, on, shape, preset)
        if v["speedup_ci"][1] - v["speedup_ci"][0] > WIDE_CI * v["speedup"] and preset != "full":
            v = verify_speedup(base, candidate, on, shape, "full")  # noise: measure longer, rather than prune more
        return v["speedup"], *v["speedup_ci"]

    return meter


def record_speedup(folder: str | os.PathLike[str], base: nn.Module, pruned: nn.Module, on: str,
                   preset: str | Preset = "full") -> dict[str, Any]:
    """Verify a speedup-targeted prune run: time it against its base (the full preset: this is the number
    reported) and add the measurement to its prune.json."""
    from edgeprune.fileio import read_json
    from edgeprune.models import spec_of

    path = Path(folder) / "prune.json"
    report = read_json(path)
    v = verify_speedup(base, pruned, on, tuple(spec_of(base).input_shape), preset)
    report["latency"]["verified"] = v
    write_json(path, report)
    log(f"on {on}: predicted {report['latency']['predicted_speedup']:.2f}x faster, measured {v['speedup']:.2f}x "
        f"[{v['speedup_ci'][0]:.2f}, {v['speedup_ci'][1]:.2f}] (95% bootstrap, interleaved with the base: "
        f"{v['base_ms']:.3f} -> {v['pruned_ms']:.3f} ms)")
    return report


def _calibrate(table: LatencyTable, model: nn.Module, shape: tuple[int, ...], on: str, net: str) -> dict[str, Any]:
    """Fit the rest of the network (what it takes beyond its layers' points) on thinned copies of the model.

    Each copy is profiled with the reference chain beside it, for the reference layer's time (the unit),
    then timed by the wall clock against the model, the two interleaved, as a candidate's speedup is
    measured (:func:`verify_speedup`, quick preset; on a machine as noisy as ort:2 here, one pair in a
    build can still be far off). The model is its median wall time in units, a copy that over its
    speedup; minus its layers' points, that is the rest. The profiler's sum of node times is no measure
    of a thin copy: it charges every node a few microseconds of bookkeeping, so on onnxruntime with 1
    thread it put VGG16-BN 0.25 at 32 px 2.9x faster at 25% of the MACs where the clock says 3.8x. Nor
    are the six timed together: their weights crowd each other out of the cache, and the model ran
    2.4-2.7 ms among them, 1.3-1.7 ms against one copy.
    """
    import onnx

    nets = [thinned(model, shape, f) for f in CALIBRATION]
    log(f"latency table {on}: profiling {len(nets)} widths of the model whole")
    rest, fit, units = [], [], []
    with _onnx_files(nets, shape) as paths:
        pairs = [measure_networks([nets[0], nets[i]], on, shape, "quick", paths=[paths[0], paths[i]])
                 for i in range(1, len(nets))]
        for f, path, m in zip(CALIBRATION, paths, nets, strict=True):
            layers = layers_of(m, shape)
            both = path.with_name(path.stem + "-ref.onnx")
            onnx.save(with_reference(onnx.load(str(path))), str(both))
            nodes = profile_nodes(both, on, runs=max(RUNS, 15))
            ref = _layer_samples(nodes, ref=True)
            total = float(np.median(np.sum([np.asarray(s, dtype=float) for n, _, s in nodes if not _is_ref(n)], axis=0)
                                    / np.maximum(ref, 1e-6)))
            inside = sum(table.layer_ms(la.geometry, la.c_in, la.c_out) for la in layers)
            units.append(float(np.median(ref)))
            fit.append({"fraction": f, "profiled_units": total, "layers_units": inside, "unit_ms": units[-1],
                        "weight_bytes": float(sum(la.weight_bytes for la in layers))})
    unit_ms = float(np.median(units))
    model_ms = float(np.median([pair[0]["p50_ms"] for pair in pairs]))
    for row, speed in zip(fit, [1.0] + [pair[1]["speedup"] for pair in pairs], strict=True):
        row.update(speedup=speed, network_units=model_ms / unit_ms / speed)
        row["rest_units"] = row["network_units"] - row["layers_units"]
        rest.append([row["weight_bytes"], row["rest_units"]])
    return {"network": net, "rest": sorted(rest), "unit_ms": unit_ms, "model_ms": model_ms, "fit": fit}
