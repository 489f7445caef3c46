"""Pruning criteria compared at equal MACs and equal fine-tuning: edgeprune's own against Torch-Pruning's.

On Fashion-MNIST (6000/1000/1000 stratified subsets, 32 px), one VGG16-BN (width 0.25, compact head)
is trained per seed, then pruned by every method to the same fractions of its MACs, in the same
number of steps, with the same fine-tuning (epochs, batch size, lr, seed) after each step:

- edgeprune: random, magnitude, taylor, obd, reg+obd (``edgeprune.pruning.prune``);
- Torch-Pruning 1.6.1: MagnitudeImportance (p=2), TaylorImportance, HessianImportance in a global
  ``BasePruner``, its ratio bisected to reach the same MACs (see benchmarks/_criteria_tp.py).

Test accuracy over seeds (mean ± sd), MACs kept and params go to OUT/criteria.md (also printed);
every (seed, method, target) cell is written to OUT/results.json as it finishes and a rerun skips
finished cells (base models are saved as OUT/seed-N/base/model.safetensors and reused).

Example (the full run, about an hour on 2 cores; --quick checks the script in about 2 minutes):

    nice -n 19 .venv/bin/python benchmarks/criteria.py --out runs/criteria
    .venv/bin/python benchmarks/criteria.py --quick --methods magnitude,tp-magnitude
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

EP_METHODS = ("random", "magnitude", "taylor", "obd", "reg+obd")


TP_METHODS = ("tp-magnitude", "tp-taylor", "tp-hessian")
METHODS = EP_METHODS + TP_METHODS
LABELS = {
    "random": "edgeprune random", "magnitude": "edgeprune magnitude", "taylor": "edgeprune taylor",
    "obd": "edgeprune obd", "reg+obd": "edgeprune reg+obd",
    "tp-magnitude": "Torch-Pruning magnitude (L2)", "tp-taylor": "Torch-Pruning taylor",
    "tp-hessian": "Torch-Pruning hessian",
}
QUICK = {"seeds": "0", "targets": "0.25", "sizes": "600,100,200", "base_epochs": 1, "steps": 1, "finetune_epochs": 0,
         "score_samples": 64, "out": "runs/criteria-quick"}
# Settings that change what a finished cell means: a results.json made with others is refused.
SETTINGS = ("sizes", "width", "base_epochs", "steps", "finetune_epochs", "batch_size", "lr", "score_samples")


def _csv(kind):
    return lambda text: [kind(t) for t in text.split(",") if t.strip()]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="benchmarks/criteria.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/criteria", help="folder for checkpoints, results.json, criteria.md")
    ap.add_argument("--seeds", type=_csv(int), default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--targets", type=_csv(float), default="0.25,0.10",
                    help="fractions of the base MACs kept (default 0.25,0.10)")
    ap.add_argument("--methods", type=_csv(str), default=",".join(METHODS),
                    help=f"comma-separated, from: {', '.join(METHODS)} (default: all)")
    ap.add_argument("--steps", type=int, default=2, help="pruning steps (default 2)")
    ap.add_argument("--finetune-epochs", type=int, default=2, help="fine-tuning epochs after each step (default 2)")
    ap.add_argument("--base-epochs", type=int, default=6, help="epochs of the base model (default 6)")
    ap.add_argument("--width", type=float, default=0.25, help="VGG16-BN width multiplier (default 0.25)")
    ap.add_argument("--sizes", type=_csv(int), default="6000,1000,1000", help="train,val,test sizes")
    ap.add_argument("--batch-size", type=int, default=64, help="training batch size, all methods (default 64)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate, all methods (default 1e-3)")
    ap.add_argument("--score-samples", type=int, default=512,
                    help="training samples the data-driven criteria score on (default 512)")
    ap.add_argument("--data-root", default=None, help="folder holding the Fashion-MNIST idx files "
                    "(default: edgeprune's search, e.g. /usr/share/datasets/fashion-mnist)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--quick", action="store_true",
                    help="check the script runs: 1 seed, target 0.25, 600/100/200 images, 1 base epoch, 1 step, "
                         "no fine-tuning, 64 scoring samples, --out runs/criteria-quick (explicit options still win)")
    return ap


def parse(argv: list[str]) -> argparse.Namespace:
    ap = parser()
    if "--quick" in argv:
        ap.set_defaults(**QUICK)
    args = ap.parse_args(argv)
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    if len(args.sizes) != 3:
        ap.error("--sizes needs three numbers: train,val,test")
    if not all(0 < t < 1 for t in args.targets):
        ap.error("--targets are fractions of the MACs kept, in (0, 1)")
    return args


def _key(seed: int, method: str, target: float) -> str:
    return f"{seed}/{method}/{target:g}"


def _settings(args: argparse.Namespace) -> dict:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(args).items() if k in SETTINGS}


def _load_results(path: Path, settings: dict) -> dict:
    from edgeprune.fileio import read_json

    if not path.is_file():
        return {"settings": settings, "base": {}, "cells": {}, "seconds": 0.0}
    results = read_json(path)
    if results.get("settings") != settings:
        raise SystemExit(f"{path} was made with other settings ({results.get('settings')}); "
                         "use another --out or delete it")
    return results


def _base_model(args, seed: int, data, out: Path, results: dict, log):
    """Train (or reuse) the base model of one seed; record its test accuracy, MACs and params."""
    import edgeprune as ep
    from edgeprune.models import count_macs, count_params
    from edgeprune.train import evaluate, seed_everything

    ckpt = out / f"seed-{seed}" / "base" / "model.safetensors"
    if ckpt.is_file():
        log(f"seed {seed}: reusing {ckpt}")
        model = ep.load(ckpt)
    else:
        log(f"seed {seed}: training the base model ({args.base_epochs} epochs)")
        seed_everything(seed)
        model = ep.create_model("vgg16_bn", data=data, width=args.width, classifier="compact")
        ep.fit(model, data, ep.TrainConfig(epochs=args.base_epochs, batch_size=args.batch_size, lr=args.lr,
                                           device="cpu", seed=seed))
        ep.save(model.cpu().eval(), ckpt)
    acc = evaluate(model, data.loader("test", 256, shuffle=False), "cpu")
    results["base"][str(seed)] = {"accuracy": acc.accuracy, "n": acc.n, "macs": count_macs(model, tuple(data.input_shape)),
                                  "params": count_params(model)}
    return model, ckpt


def _run_cell(args, seed: int, method: str, target: float, base, ckpt: Path, data, out: Path, log) -> dict:
    """Prune one base model with one method to one MACs target; evaluate it."""
    import dataclasses

    from edgeprune.models import count_macs, count_params
    from edgeprune.pruning import prune
    from edgeprune.pruning.config import scores_on_data
    from edgeprune.train import TrainConfig, evaluate

    shape = tuple(data.input_shape)
    cfg = TrainConfig(epochs=args.finetune_epochs, batch_size=args.batch_size, lr=args.lr, device="cpu", seed=seed)
    t0 = time.perf_counter()
    extra: dict = {}
    if method in EP_METHODS:
        pruned = prune(ckpt, method, data, target_macs=target, steps=args.steps, finetune_epochs=args.finetune_epochs,
                       train_config=cfg, out=out / f"seed-{seed}" / f"{method}-{target:g}",
                       seed=seed, **({"samples": args.score_samples} if scores_on_data(method) else {})).model
    else:
        from _criteria_tp import tp_prune

        pruned, history = tp_prune(base, method.removeprefix("tp-"), data, target, args.steps,
                                   dataclasses.replace(cfg, epochs=args.finetune_epochs),
                                   samples=args.score_samples, seed=seed, log=log)
        extra["history"] = history
    acc = evaluate(pruned, data.loader("test", 256, shuffle=False), "cpu")
    base_macs = count_macs(base, shape)
    return {"seed": seed, "method": method, "target": target, "accuracy": acc.accuracy, "n": acc.n,
            "macs_kept": count_macs(pruned, shape) / base_macs, "params": count_params(pruned),
            "params_kept": count_params(pruned) / count_params(base), "seconds": round(time.perf_counter() - t0, 1),
            **extra}


def _table(results: dict, args: argparse.Namespace, command: str, wall: float, hessian_ok: bool | None) -> str:
    from edgeprune.accuracy import interval_text, spread

    cells = results["cells"]
    seeds = [s for s in args.seeds if str(s) in results["base"]]
    lines = ["# Pruning criteria at equal MACs: edgeprune vs Torch-Pruning", "",
             f"Command: `{command}`", "",
             f"Fashion-MNIST, {'/'.join(map(str, args.sizes))} train/val/test images (stratified, drawn per seed), "
             f"32 px; VGG16-BN width {args.width:g}, compact head, {args.base_epochs} base epoch(s); every method: "
             f"{args.steps} pruning step(s) to the same MACs target (geometric per step), {args.finetune_epochs} "
             f"fine-tuning epoch(s) after each (Adam lr {args.lr:g}, batch {args.batch_size}, best val loss kept); "
             f"data-driven criteria score on {args.score_samples} training samples. Wall time {wall / 60:.1f} min "
             f"(this invocation; all cells {results['seconds'] / 60:.1f} min).", ""]
    base = [f"seed {s}: {interval_text(results['base'][str(s)]['accuracy'], results['base'][str(s)]['n'])}"
            for s in seeds]
    if seeds:
        b0 = results["base"][str(seeds[0])]
        lines += [f"Base models (test accuracy, 95% Wilson): {'; '.join(base)}; {b0['params']:,} params, "
                  f"{b0['macs']:,} MACs.", ""]
    head = "| method | " + " | ".join(f"acc % @ {t:g} MACs | MACs kept" for t in args.targets) + " |"
    sd_note = (f"mean ± sd over {len(seeds)} seeds, %" if len(seeds) > 1 else
               "1 seed only: the ± 0.0 is no spread estimate, %")
    lines += [f"## Test accuracy ({sd_note})", "", head,
              "|---|" + "---:|---:|" * len(args.targets)]
    for m in args.methods:
        row = [LABELS[m]]
        for t in args.targets:
            done = [cells[_key(s, m, t)] for s in seeds if _key(s, m, t) in cells]
            if not done:
                row += ["–", "–"]
                continue
            acc = spread([c["accuracy"] for c in done])
            macs = spread([c["macs_kept"] for c in done])
            n = f" (n={len(done)})" if len(done) != len(seeds) else ""
            row += [acc.text() + n, f"{macs.mean:.3f}"]
        lines.append("| " + " | ".join(row) + " |")
    head = "| method | seed | " + " | ".join(f"acc % @ {t:g} | MACs kept | params" for t in args.targets) + " |"
    lines += ["", "## Per seed", "", head, "|---|---:|" + "---:|---:|---:|" * len(args.targets)]
    for m in args.methods:
        for s in seeds:
            row = [LABELS[m], str(s)]
            for t in args.targets:
                c = cells.get(_key(s, m, t))
                row += ([f"{100 * c['accuracy']:.1f}", f"{c['macs_kept']:.3f}", f"{c['params']:,}"] if c
                        else ["–", "–", "–"])
            lines.append("| " + " | ".join(row) + " |")
    n_test = args.sizes[2]
    hess = ("not checked in this invocation" if hessian_ok is None else
            "it does accumulate here" if hessian_ok else
            "checked at run time: it does not accumulate (each call overwrites the sum and resets the count to 1)")
    lines += ["", "Notes:", "",
              f"- Accuracies are on {n_test} test images per seed; one run's 95% interval is about "
              f"±{100 * 1.96 * (0.9 * 0.1 / n_test) ** 0.5:.1f} points at 90%, so differences under ~2 points "
              "between rows are not resolved by this table.",
              "- edgeprune: global ranking, widths rounded up to multiples of 8, BN statistics re-estimated after "
              "each step; reg+obd first retrains with HSQGL12 for max(1, fine-tune epochs) epochs before pruning "
              "(part of that method, so it gets that much more training than the others).",
              "- Torch-Pruning: `BasePruner(global_pruning=True, iterative_steps=1, ignored_layers=[final Linear])` "
              "per step, importances with their defaults (group mean, mean-normalized per group), no rounding; "
              "its channel ratio is bisected on deep copies to the largest model within the step's MACs goal "
              "(its own `iterative_steps` schedule is linear in channels and cannot aim at MACs). The same BN "
              "re-estimation and `edgeprune.train.fit` fine-tuning follow each step.",
              "- Torch-Pruning 1.6.1 defects: `HessianImportance.accumulate_grad` keys its sums by tensor but "
              f"checks by name ({hess}); so it is not used: the squared per-sample gradients (true labels, eval "
              "mode, `torch.func.vmap`) are averaged by this script and written into `.grad`, which "
              "`HessianImportance` then scores as `w²·grad` (its fallback when nothing was accumulated), i.e. "
              "empirical-Fisher OBD. `TaylorImportance` never scores BatchNorm (it tests BN against the GroupNorm "
              "pruning function): left as is, so TP taylor ranks on conv/linear `|w·dL/dw|` only. "
              "DependencyGraph built with grad enabled (it fails under no_grad).",
              "- edgeprune obd uses the sampled Fisher (labels drawn from the model), TP hessian the empirical "
              "one (true labels); edgeprune taylor scores activations (Molchanov 2017), TP taylor weights."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    command = shlex.join(sys.argv) if argv is None else shlex.join(["benchmarks/criteria.py", *argv])
    args = parse(sys.argv[1:] if argv is None else list(argv))
    os.environ.setdefault("EDGEPRUNE_QUIET", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    t_start = time.perf_counter()

    import torch

    import edgeprune as ep
    from edgeprune.fileio import write_json, write_text

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = _load_results(results_path, _settings(args))

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)

    hessian_ok = None
    if "tp-hessian" in args.methods:
        from _criteria_tp import hessian_accumulates

        hessian_ok = hessian_accumulates()
        log(f"torch-pruning HessianImportance.accumulate_grad accumulates: {hessian_ok}")
    for seed in args.seeds:
        data = ep.load_data("fashionmnist", root=args.data_root, input_size=32, sizes=tuple(args.sizes), seed=seed)
        base, ckpt = _base_model(args, seed, data, out, results, log)
        write_json(results_path, results)
        log(f"seed {seed}: base test accuracy {results['base'][str(seed)]['accuracy']:.4f}")
        for method in args.methods:
            for target in args.targets:
                key = _key(seed, method, target)
                if key in results["cells"]:
                    continue
                log(f"{key}: pruning")
                cell = _run_cell(args, seed, method, target, base, ckpt, data, out, log)
                results["cells"][key] = cell
                results["seconds"] = results.get("seconds", 0.0) + cell["seconds"]
                write_json(results_path, results)
                log(f"{key}: accuracy {cell['accuracy']:.4f}, MACs kept {cell['macs_kept']:.4f}, "
                    f"params {cell['params']:,} ({cell['seconds']:.0f}s)")
    text = _table(results, args, command, time.perf_counter() - t_start, hessian_ok)
    write_text(out / "criteria.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
