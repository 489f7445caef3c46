"""How well a latency table predicts whole networks: dense and pruned VGGs, predicted against measured.

For each model and runtime, the table is built (or read from the cache), then the dense model and pruned
copies (magnitude, to fractions of the MACs, and latency-aware to speedups) are timed whole, interleaved,
with the bench's protocol. Printed per network: MACs kept, predicted and measured p50 (ms), the relative
error, and the predicted against the measured speedup with its 95% bootstrap interval. "anchored" rescales
the prediction by the dense model measured in the same session, which removes the drift of the machine
between the table's fit and the measurement (the ratios a planner uses are immune to it anyway).

Random weights are enough: latency does not depend on the values.

Examples (on 2 cores: the 32 px model takes about 4 minutes per runtime the first time, seconds after;
VGG16 at 224 px about 15 minutes per runtime):

    .venv/bin/python benchmarks/latency_model.py --models vgg16_bn-32 --on ort:1,ort:2,openvino:1
    .venv/bin/python benchmarks/latency_model.py --models vgg16-224 --on ort:1 --repeats 1
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

MODELS = {
    # name: (create_model arguments, input shape, ladder of width fractions measured per group)
    "vgg16_bn-32": ({"name": "vgg16_bn", "input_size": 32, "in_channels": 1, "num_classes": 10, "width": 0.5},
                    (1, 32, 32), None),
    "vgg16-224": ({"name": "vgg16", "input_size": 224, "in_channels": 3, "num_classes": 1000, "width": 1.0,
                   "classifier": "seed"}, (3, 224, 224), (1.0, 3 / 4, 1 / 2, 3 / 8, 1 / 4, 1 / 8)),
}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="benchmarks/latency_model.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="vgg16_bn-32", help=f"comma-separated, from: {', '.join(MODELS)}")
    ap.add_argument("--on", default="ort:1,ort:2,openvino:1", help="comma-separated runtimes (RUNTIME:THREADS)")
    ap.add_argument("--macs", default="0.5,0.25,0.1", help="MACs fractions of the magnitude-pruned copies")
    ap.add_argument("--speedups", default="2,3", help="speedup targets of the latency-aware copies (empty: none)")
    ap.add_argument("--repeats", type=int, default=2, help="measurement sessions per runtime (default 2)")
    ap.add_argument("--cache", default=None, help="latency cache folder (default: edgeprune's)")
    return ap


def _csv(text: str, kind=str) -> list:
    return [kind(t) for t in text.split(",") if t.strip()]


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    import torch

    import edgeprune as ep
    from edgeprune.bench.latency import latency_table, measure_networks
    from edgeprune.models import count_macs
    from edgeprune.pruning import prune
    from edgeprune.pruning.latency import layers_of

    rows, errors = [], []
    for key in _csv(args.models):
        if key not in MODELS:
            raise SystemExit(f"unknown model {key!r}; known: {', '.join(MODELS)}")
        kwargs, shape, ladder = MODELS[key]
        torch.manual_seed(0)
        model = ep.create_model(**kwargs).eval()
        base_macs = count_macs(model, shape)
        for on in _csv(args.on):
            t0 = time.perf_counter()
            table = latency_table(model, on, cache=args.cache, **({"ladder": ladder, "refine": False} if ladder else {}))
            built = time.perf_counter() - t0
            nets = [("dense", model)]
            nets += [(f"magnitude {f:g} MACs", prune(model, "magnitude", None, target_macs=f).model) for f in _csv(args.macs, float)]
            nets += [(f"latency-aware {s:g}x", prune(model, "magnitude", None, target_speedup=s, latency=table).model)
                     for s in _csv(args.speedups, float)]
            layers = [layers_of(n, shape) for _, n in nets]
            predicted = [table.predict_ms(la) for la in layers]
            for rep in range(args.repeats):
                measured = measure_networks([n for _, n in nets], on, shape)
                for (label, net), pred, m in zip(nets, predicted, measured, strict=True):
                    anchored = pred / predicted[0] * measured[0]["p50_ms"]
                    err = pred / m["p50_ms"] - 1
                    rows.append((key, on, rep + 1, label, count_macs(net, shape) / base_macs, pred, m["p50_ms"], err,
                                 anchored / m["p50_ms"] - 1, predicted[0] / pred, m["speedup"], *m["speedup_ci"]))
                    errors.append(abs(err))
            print(f"{key} on {on}: table {sum(map(len, table.points.values()))} points, built or read in {built:.0f} s",
                  file=sys.stderr)
    print("| model | on | session | network | MACs | predicted ms | measured ms | error | anchored error | "
          "predicted speedup | measured speedup (95% CI) |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | {r[7]:+.1%} | {r[8]:+.1%} | "
              f"{r[9]:.2f}x | {r[10]:.2f}x [{r[11]:.2f}, {r[12]:.2f}] |")
    print(f"\nlargest |error| {max(errors):.1%}; within 15%: {sum(e <= 0.15 for e in errors)} of {len(errors)}")
    print(f"command: .venv/bin/python benchmarks/latency_model.py {shlex.join(argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
