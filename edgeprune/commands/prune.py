"""edgeprune prune: shrink a checkpoint structurally with a named method, fine-tune, report."""

from __future__ import annotations

import argparse

from edgeprune.commands.common import (
    add_data_args,
    add_train_args,
    check_out,
    load_data_from_args,
    train_config_from_args,
)

HELP = "prune a checkpoint structurally (taylor, obd, reg+obd, ...) and fine-tune it"
EXAMPLES = """examples:
  edgeprune prune runs/a/model.safetensors --method obd --target-macs 0.25 --finetune-epochs 2 --out runs/a-obd
  edgeprune prune runs/a/model.safetensors --method reg+obd --target-params 0.4 --out runs/a-regobd
  edgeprune prune runs/a/model.safetensors --method taylor --ratio 0.5 --steps 5 --finetune-epochs 1 --out runs/a-t
  edgeprune prune runs/vgg/model.safetensors --method seed --per-step 512 --steps 5 --finetune-epochs 3 --out runs/seed
  edgeprune prune runs/a/model.safetensors --method taylor --target-speedup 3 --on ort:2 --steps 2 --finetune-epochs 2 --out runs/a-3x
  edgeprune prune runs/a/model.safetensors --method obd --target-latency 1.5 --on openvino:1 --out runs/a-1.5ms
  edgeprune list methods
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune prune``."""
    p.add_argument("checkpoint", help="edgeprune checkpoint (.safetensors) to prune")
    p.add_argument("--method", required=True, help="pruning method (edgeprune list methods)")
    t = p.add_argument_group("target (exactly one, or --per-step)")
    t.add_argument("--ratio", type=float, default=None, help="fraction of prunable channels to remove, e.g. 0.5")
    t.add_argument("--target-macs", type=float, default=None, help="fraction of MACs to keep, e.g. 0.25")
    t.add_argument("--target-params", type=float, default=None, help="fraction of parameters to keep")
    t.add_argument("--per-step", type=int, default=None, help="remove this many filters per step (the seed pipeline)")
    t.add_argument("--target-speedup", type=float, default=None, metavar="S",
                   help="prune until the model is S times faster on --on: the latency table picks the channels, "
                        "each step's plan is timed on the runtime, e.g. 3")
    t.add_argument("--target-latency", type=float, default=None, metavar="MS",
                   help="prune until the model runs in MS milliseconds on --on (the base is timed once)")
    t.add_argument("--on", default=None, metavar="RUNTIME:THREADS",
                   help="the runtime a speedup or latency target is for: ort:N or openvino:N (e.g. ort:2)")
    t.add_argument("--latency-cache", default=None, metavar="DIR",
                   help="where latency tables are kept (default: $EDGEPRUNE_CACHE/latency or ~/.cache/edgeprune/latency)")
    s = p.add_argument_group("schedule")
    s.add_argument("--steps", type=int, default=None, help="prune/fine-tune iterations (default: 1; seed: 5)")
    s.add_argument("--finetune-epochs", type=int, default=0, help="fine-tune epochs after each step (default: 0)")
    s.add_argument("--final-epochs", type=int, default=0, help="extra fine-tune epochs at the end (default: 0)")
    s.add_argument("--scope", choices=("global", "uniform"), default="global", help="rank across layers or per layer")
    s.add_argument("--normalize", choices=("l2", "rms", "none"), default=None,
                   help="per-layer score normalization: l2 (Molchanov), rms (l2 x sqrt(width)), none "
                        "(default: the criterion's: l2 for taylor-seed, rms otherwise)")
    s.add_argument("--round-to", type=int, default=None, help="keep widths multiples of N (default: 8; seed: 1)")
    s.add_argument("--min-channels", type=int, default=1, help="never keep fewer channels in a layer (default: 1)")
    c = p.add_argument_group("criterion")
    c.add_argument("--criterion", default=None, help="override the method's criterion (edgeprune list criteria)")
    c.add_argument("--samples", type=int, default=None, help="training examples used for scoring (default: 512)")
    c.add_argument("--fisher", choices=("sampled", "exact", "empirical", "hutchinson"), default=None,
                   help="OBD Hessian-diagonal estimator (default: sampled)")
    c.add_argument("--norm", choices=("l1", "l2"), default=None, help="magnitude norm (default: l1)")
    r = p.add_argument_group("regularization (reg+obd, reg+taylor, obd+reg, seed)")
    r.add_argument("--reg", default=None, help="regularizer (edgeprune list regularizers; default: hsqgl12)")
    r.add_argument("--reg-lambda", type=float, default=None,
                   help="regularization strength (default: auto, 1/penalty of the model, so the penalty starts at 1)")
    r.add_argument("--grouping", choices=("neuron", "feature"), default=None, help="neuron (default) or feature (seed)")
    r.add_argument("--include-linear", action="store_true", help="regularize Linear layers too")
    r.add_argument("--reg-epochs", type=int, default=None, help="regularized training epochs (default: fine-tune epochs)")
    add_data_args(p)
    add_train_args(p, epochs=0, title="fine-tuning")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (re-run the same command to resume)")


def run(args: argparse.Namespace) -> int:
    """Prune, write ``model.safetensors``, ``prune.json`` and ``prune.md`` under ``--out``."""
    from edgeprune.errors import ConfigError
    from edgeprune.models import count_macs, count_params, read_header
    from edgeprune.pruning import prune
    from edgeprune.pruning.criteria import get_criterion
    from edgeprune.pruning.methods import check_prune

    check_out(args.out)  # every option is checked before the data loads and pruning starts
    options = {"reg": args.reg, "lam": args.reg_lambda, "include_linear": args.include_linear or None,
               "reg_epochs": args.reg_epochs, "criterion": args.criterion, "samples": args.samples,
               "fisher": args.fisher, "norm": args.norm, "scope": args.scope, "normalize": args.normalize,
               "min_channels": args.min_channels, "per_step": args.per_step, "final_epochs": args.final_epochs,
               "grouping": args.grouping, "round_to": args.round_to}
    options = {k: v for k, v in options.items() if v is not None}  # unset: the method's default
    options["seed"] = args.seed
    targets = {"ratio": args.ratio, "target_macs": args.target_macs, "target_params": args.target_params}
    latency_target = _check_latency_args(args)
    checked = {**targets, "target_speedup": 2.0 if latency_target else None}  # the speedup itself is known later
    method, _, opts, _ = check_prune(args.method, steps=args.steps, finetune_epochs=args.finetune_epochs, **checked,
                                     **options)
    criterion = opts.criterion or method.criterion
    if args.samples is not None and not get_criterion(criterion).uses_data:
        raise ConfigError(f"--samples does not apply to method {args.method!r}: criterion {criterion} scores "
                          "without data", hint="drop --samples")
    train_config = train_config_from_args(args)
    spec, _ = read_header(args.checkpoint)
    channels, size = spec.input_shape[0], spec.input_shape[1]
    if args.input_size is not None and args.input_size != size:
        raise ConfigError(f"--input-size {args.input_size}: the model was trained at {size} px; pruning scores and "
                          "fine-tunes it at its own input size", hint="drop --input-size")
    if args.channels is not None and args.channels != channels:
        raise ConfigError(f"--channels {args.channels}: the model takes {channels} channel(s) "
                          f"(input shape {tuple(spec.input_shape)})", hint="drop --channels")
    data = load_data_from_args(args, input_size=size, channels=channels)
    latency = {}
    if latency_target:
        latency = _latency_target(args, spec)
    model = prune(args.checkpoint, args.method, data, steps=args.steps, finetune_epochs=args.finetune_epochs,
                  train_config=train_config, out=args.out, **targets, **latency, **options)
    from pathlib import Path

    from edgeprune.accuracy import interval_text
    from edgeprune.fileio import read_json

    if latency_target:
        from edgeprune.bench.latency import record_speedup
        from edgeprune.models import load_checkpoint

        record_speedup(args.out, load_checkpoint(args.checkpoint), model, args.on)
    report = read_json(Path(args.out) / "prune.json")
    print(f"{args.method}: params {count_params(model):,} ({report['after']['params'] / report['before']['params']:.1%}), "
          f"MACs {count_macs(model, spec.input_shape):,} ({report['after']['macs'] / report['before']['macs']:.1%}), "
          f"test accuracy {interval_text(report['accuracy_before'], report['test_n'])} -> "
          f"{interval_text(report['accuracy_final'], report['test_n'])} (95% Wilson); "
          f"checkpoint {Path(args.out) / 'model.safetensors'}")
    if latency_target:
        lat, v = report["latency"], report["latency"]["verified"]
        print(f"on {args.on}: predicted {lat['predicted_speedup']:.2f}x faster, measured {v['speedup']:.2f}x "
              f"[{v['speedup_ci'][0]:.2f}, {v['speedup_ci'][1]:.2f}] (95% bootstrap, interleaved with the base)")
    return 0


def _check_latency_args(args: argparse.Namespace) -> bool:
    """A speedup or latency target needs --on; --on and --latency-cache need one of them. True with a latency target."""
    from edgeprune.bench.latency import parse_on
    from edgeprune.errors import ConfigError

    wanted = [f for f, v in (("--target-speedup", args.target_speedup), ("--target-latency", args.target_latency))
              if v is not None]
    if len(wanted) > 1:
        raise ConfigError("give --target-speedup or --target-latency, not both")
    if not wanted:
        for flag, value in (("--on", args.on), ("--latency-cache", args.latency_cache)):
            if value is not None:
                raise ConfigError(f"{flag} applies only to --target-speedup or --target-latency",
                                  hint="e.g. --target-speedup 3 --on ort:2")
        return False
    if any(v is not None for v in (args.ratio, args.target_macs, args.target_params, args.per_step)):
        raise ConfigError(f"{wanted[0]} and --ratio/--target-macs/--target-params/--per-step exclude each other",
                          hint="give exactly one target")
    if args.on is None:
        raise ConfigError(f"{wanted[0]} needs --on RUNTIME:THREADS, the runtime to be faster on",
                          hint="e.g. --on ort:2 (onnxruntime, 2 threads) or --on openvino:1")
    if args.round_to is not None:
        raise ConfigError("--round-to does not apply to a speedup or latency target: widths land where the "
                          "runtime's measured latency drops", hint="drop --round-to")
    value = args.target_speedup if args.target_speedup is not None else args.target_latency
    if not (value > 0 and value != float("inf")):
        raise ConfigError(f"{wanted[0]} must be a positive, finite number, got {value}")
    if args.target_speedup is not None and value <= 1:
        raise ConfigError(f"--target-speedup must be above 1, got {value}", hint="e.g. --target-speedup 3")
    parse_on(args.on)
    return True


def _latency_target(args: argparse.Namespace, spec) -> dict:
    """The latency table of the checkpoint on --on, the speedup to reach (from --target-latency, measured), a meter."""
    from edgeprune.bench.latency import latency_table, measure_networks, speedup_meter
    from edgeprune.errors import ConfigError
    from edgeprune.models import load_checkpoint

    base = load_checkpoint(args.checkpoint)
    table = latency_table(base, args.on, cache=args.latency_cache)
    speedup = args.target_speedup
    if speedup is None:  # measured once: a re-run after an interruption resumes with the same target
        from pathlib import Path

        from edgeprune.fileio import read_json, write_json

        saved, asked = Path(args.out) / "latency-target.json", {"target_latency_ms": args.target_latency, "on": args.on}
        previous = read_json(saved) if saved.is_file() else {}
        if {k: previous.get(k) for k in asked} == asked:
            speedup = previous["speedup"]
        else:
            base_ms = measure_networks([base], args.on, tuple(spec.input_shape))[0]["p50_ms"]
            if base_ms <= args.target_latency:
                raise ConfigError(f"--target-latency {args.target_latency} ms: the model already runs in "
                                  f"{base_ms:.3f} ms on {args.on}", hint="no pruning is needed for that budget")
            speedup = base_ms / args.target_latency
            saved.parent.mkdir(parents=True, exist_ok=True)
            write_json(saved, {**asked, "base_ms": base_ms, "speedup": speedup})
    return {"target_speedup": speedup, "latency": table, "measure": speedup_meter(base, args.on)}
