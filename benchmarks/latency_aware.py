"""Latency-aware against MACs-targeted pruning at equal measured speedup, same criterion, same fine-tuning.

For each seed, the base model and the MACs-targeted model of benchmarks/criteria.py (``OUT/seed-N/base`` and
``OUT/seed-N/CRITERION-MACS``, same data subsets) are read; the MACs-targeted model's speedup over its base is
measured on the runtime (``--on``); then the base is pruned again with the same criterion, steps, fine-tuning
and scoring samples to that measured speedup as its target (``target_speedup``: the runtime's latency table
sets the widths channels are cut to and when to stop, each step's candidate is timed on the runtime and re-aimed until its median speedup lands
within 8% above the target; the benchmark aims at the median, not at the lower bound ``edgeprune prune`` makes
sure of, so that both models end at the same measured speed rather than the latency-aware one faster).
All three are timed interleaved in one session; both pruned models are evaluated on the same test images and
compared paired (exact McNemar interval of the accuracy difference). Per seed and as a mean over seeds: MACs
kept, the table's predicted speedup (free of timing noise), measured speedup with its 95% bootstrap interval,
efficiency (speedup x MACs kept), accuracy.

With ``--aim predicted`` the target is the table's prediction of the MACs-targeted model's speedup and nothing
is timed while pruning: the planner's order of the channels (``--latency-weight``) is compared free of timing noise.

Example (after benchmarks/criteria.py has run; about 3 minutes per seed on 2 cores, plus the table once):

    .venv/bin/python benchmarks/latency_aware.py --criteria-out runs/criteria --on ort:2 --out runs/latency-aware
    .venv/bin/python benchmarks/latency_aware.py --aim predicted --latency-weight 1 --out runs/latency-aware-w1
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="benchmarks/latency_aware.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--criteria-out", default="runs/criteria", help="the --out of benchmarks/criteria.py")
    ap.add_argument("--out", default="runs/latency-aware", help="folder for the latency-aware models and results")
    ap.add_argument("--on", default="ort:2", help="runtime and threads (default ort:2)")
    ap.add_argument("--criterion", default="taylor", help="method of both models (default taylor)")
    ap.add_argument("--macs", type=float, default=0.25, help="the MACs target of the criteria run (default 0.25)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--cache", default=None, help="latency cache folder (default: edgeprune's)")
    ap.add_argument("--data-root", default=None, help="Fashion-MNIST folder, as given to benchmarks/criteria.py")
    ap.add_argument("--aim", choices=("measured", "predicted"), default="measured",
                    help="the latency-aware model's target: the MACs-targeted model's measured speedup, each candidate "
                         "timed (default), or the table's prediction of it, nothing timed while pruning (free of "
                         "timing noise: the order of the channels alone is compared)")
    ap.add_argument("--latency-weight", type=float, default=None,
                    help="the planner's channel order, 0 (importance alone) to 1 (per millisecond saved); "
                         "default: edgeprune's")
    return ap


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    import torch

    import edgeprune as ep
    from edgeprune.accuracy import interval_text, paired, spread
    from edgeprune.bench.latency import latency_table, measure_networks, speedup_meter
    from edgeprune.fileio import read_json, write_json
    from edgeprune.models import count_macs, spec_of
    from edgeprune.pruning import prune
    from edgeprune.pruning.config import scores_on_data
    from edgeprune.pruning.latency import layers_of
    from edgeprune.train import TrainConfig

    torch.set_num_threads(2)
    src, out = Path(args.criteria_out), Path(args.out)
    settings = read_json(src / "results.json")["settings"]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    results = {}
    t_start = time.perf_counter()
    for seed in seeds:
        base_ckpt = src / f"seed-{seed}" / "base" / "model.safetensors"
        macs_ckpt = src / f"seed-{seed}" / f"{args.criterion}-{args.macs:g}" / "model.safetensors"
        if not (base_ckpt.is_file() and macs_ckpt.is_file()):
            raise SystemExit(f"{base_ckpt} or {macs_ckpt} is missing: run benchmarks/criteria.py --out {src} first")
        base, by_macs = ep.load(base_ckpt), ep.load(macs_ckpt)
        shape = tuple(spec_of(base).input_shape)
        data = ep.load_data("fashionmnist", root=args.data_root, input_size=shape[1], sizes=tuple(settings["sizes"]), seed=seed)
        table = latency_table(base, args.on, cache=args.cache)
        if args.aim == "measured":
            target = measure_networks([base, by_macs], args.on, shape, "full")[1]["speedup"]
        else:
            target = table.predict(layers_of(base, shape)) / table.predict(layers_of(by_macs, shape))
        cfg = TrainConfig(epochs=settings["finetune_epochs"], batch_size=settings["batch_size"], lr=settings["lr"],
                          device="cpu", seed=seed)
        weight = {} if args.latency_weight is None else {"latency_weight": args.latency_weight}
        folder = out / f"seed-{seed}" / (f"{args.criterion}-{target:.2f}x-{args.on.replace(':', '')}-{args.aim}"
                                         + "".join(f"-w{w:g}" for w in weight.values()))
        meter = speedup_meter(base, args.on)
        by_latency = prune(base_ckpt, args.criterion, data, target_speedup=target, latency=table, **weight,
                           measure=(lambda candidate, meter=meter: meter(candidate)[0])  # the median: equal speed, not a sure bound
                           if args.aim == "measured" else None, steps=settings["steps"], finetune_epochs=settings["finetune_epochs"], train_config=cfg,
                           out=folder, seed=seed, **({"samples": settings["score_samples"]} if scores_on_data(args.criterion) else {})).model
        timed = measure_networks([base, by_macs, by_latency], args.on, shape, "full")
        x, y = next(iter(data.loader("test", len(data.test), shuffle=False)))
        with torch.no_grad():
            right = {k: (m.eval()(x).argmax(1) == y).tolist() for k, m in (("macs", by_macs), ("latency", by_latency))}
        diff = paired(right["macs"], right["latency"])  # accuracy(latency-aware) - accuracy(MACs-targeted)
        base_macs = count_macs(base, shape)
        row = {"seed": seed, "n": len(y), "target_speedup": target, "paired": diff.to_dict(),
               "paired_text": diff.text()}
        for key, model, t in (("macs", by_macs, timed[1]), ("latency", by_latency, timed[2])):
            kept = count_macs(model, shape) / base_macs
            predicted = table.predict(layers_of(base, shape)) / table.predict(layers_of(model, shape))
            row[key] = {"macs_kept": kept, "predicted": predicted, "speedup": t["speedup"], "speedup_ci": t["speedup_ci"],
                        "efficiency": t["speedup"] * kept, "accuracy": sum(right[key]) / len(y)}
        results[str(seed)] = row
        write_json(out / "results.json", {"args": vars(args), "settings": settings, "seeds": results})
        print(f"seed {seed}: {json.dumps(row)}", file=sys.stderr)
    lines = [f"# Latency-aware vs MACs-targeted {args.criterion} at equal measured speedup on {args.on}", "",
             f"Command: `.venv/bin/python benchmarks/latency_aware.py {shlex.join(argv)}`", "",
             f"Fashion-MNIST {'/'.join(map(str, settings['sizes']))}, VGG16-BN width {settings['width']:g} bases of "
             f"benchmarks/criteria.py; both models: {settings['steps']} steps, {settings['finetune_epochs']} fine-tuning "
             f"epochs after each, {settings['score_samples']} scoring samples. The latency-aware model's target is the "
             f"MACs-targeted model's {args.aim} speedup"
             + (f", planner latency_weight {args.latency_weight:g}" if args.latency_weight is not None else "")
             + ". Speedups: base, MACs-targeted and latency-aware timed "
             "interleaved in one session, 95% bootstrap; efficiency = speedup x MACs kept.", "",
             "| seed | model | MACs kept | predicted speedup | measured speedup (95% CI) | efficiency | accuracy (95% CI) |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for seed, r in results.items():
        for key, label in (("macs", f"MACs-targeted ({args.macs:g})"), ("latency", f"latency-aware ({r['target_speedup']:.2f}x)")):
            m = r[key]
            lines.append(f"| {seed} | {label} | {m['macs_kept']:.1%} | {m['predicted']:.2f}x | {m['speedup']:.2f}x [{m['speedup_ci'][0]:.2f}, "
                         f"{m['speedup_ci'][1]:.2f}] | {m['efficiency']:.2f} | {interval_text(m['accuracy'], r['n'])} |")
    lines += ["", "| | MACs-targeted | latency-aware | latency-aware − MACs-targeted |", "|---|---:|---:|---:|"]
    for what, fmt in (("predicted", "{:.2f}x"), ("speedup", "{:.2f}x"), ("efficiency", "{:.2f}"), ("accuracy", "{:.1%}")):
        a = spread([r["macs"][what] for r in results.values()])
        b = spread([r["latency"][what] for r in results.values()])
        lines.append(f"| mean ± sd {what} | {fmt.format(a.mean)} ± {fmt.format(a.sd)} | {fmt.format(b.mean)} ± "
                     f"{fmt.format(b.sd)} | {fmt.format(b.mean - a.mean)} |")
    lines += ["", "Paired per seed (latency-aware − MACs-targeted, same test images, exact McNemar 95%):", ""]
    lines += [f"- seed {s}: {r['paired_text']}" for s, r in results.items()]
    lines += ["", f"{time.perf_counter() - t_start:.0f} s in all."]
    text = "\n".join(lines) + "\n"
    (out / "latency_aware.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
