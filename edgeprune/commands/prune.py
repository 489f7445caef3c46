"""edgeprune prune: shrink a checkpoint structurally with a named method, fine-tune, report."""

from __future__ import annotations

import argparse

from edgeprune.commands.common import (
    add_data_args,
    add_train_args,
    check_out,
    default_of,
    load_data_from_args,
    train_config_from_args,
)
from edgeprune.pruning.config import (
    FISHER_MODES,
    GROUPINGS,
    METHODS,
    NORMALIZATIONS,
    NORMS,
    SCOPES,
    MagnitudeOptions,
    OBDOptions,
    PruneConfig,
    RegOptions,
    ScheduleOptions,
    ScoringOptions,
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


# flag dests that are PruneConfig options (sent to PruneConfig.from_options when given)
OPTIONS = ("criterion", "samples", "fisher", "norm", "scope", "normalize", "round_to", "min_channels", "latency_weight",
           "per_step", "final_epochs", "reg", "lam", "grouping", "include_linear", "reg_epochs")


def _method_defaults(option: str) -> str:
    """'seed: 5' for the methods that set their own default of ``option``."""
    return "; ".join(f"{n}: {m.defaults[option]}" for n, m in METHODS.items() if option in m.defaults)


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune prune``."""
    p.add_argument("checkpoint", help="edgeprune checkpoint (.safetensors) to prune")
    p.add_argument("--method", required=True, metavar="METHOD",
                   help=f"pruning method: {', '.join(METHODS)} (edgeprune list methods)")
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
    s.add_argument("--steps", type=int, default=None,
                   help=f"prune/fine-tune iterations (default: 1; {_method_defaults('steps')})")
    s.add_argument("--finetune-epochs", type=int, default=default_of(PruneConfig, "finetune_epochs"),
                   help="fine-tune epochs after each step (default: %(default)s)")
    s.add_argument("--final-epochs", type=int, default=default_of(ScheduleOptions, "final_epochs"),
                   help="extra fine-tune epochs at the end (default: %(default)s)")
    s.add_argument("--scope", choices=SCOPES, default=default_of(ScheduleOptions, "scope"),
                   help="rank across layers or per layer (default: %(default)s)")
    s.add_argument("--normalize", choices=NORMALIZATIONS, default=None,
                   help="per-layer score normalization: l2 (Molchanov), rms (l2 x sqrt(width)), none "
                        "(default: the criterion's: l2 for taylor-seed, rms otherwise)")
    s.add_argument("--round-to", type=int, default=None,
                   help=f"keep widths multiples of N (default: 8; {_method_defaults('round_to')})")
    s.add_argument("--min-channels", type=int, default=default_of(ScheduleOptions, "min_channels"),
                   help="never keep fewer channels in a layer (default: the width multiple, 8; a speedup target keeps "
                        "the same floor)")
    s.add_argument("--latency-weight", type=float, default=None, metavar="W",
                   help="a speedup target's channel order: 0 by importance alone, as a MACs target ranks, the table "
                        "only deciding where widths land and when to stop; 1 by importance per millisecond saved "
                        f"(default: {default_of(ScheduleOptions, 'latency_weight'):g})")
    c = p.add_argument_group("criterion")
    c.add_argument("--criterion", default=None, help="override the method's criterion (edgeprune list criteria)")
    c.add_argument("--samples", type=int, default=None,
                   help=f"training examples used for scoring (default: {default_of(ScoringOptions, 'samples')})")
    c.add_argument("--fisher", choices=FISHER_MODES, default=None,
                   help=f"OBD Hessian-diagonal estimator (default: {default_of(OBDOptions, 'fisher')})")
    c.add_argument("--norm", choices=NORMS, default=None,
                   help=f"magnitude norm (default: {default_of(MagnitudeOptions, 'norm')})")
    r = p.add_argument_group(f"regularization ({', '.join(n for n, m in METHODS.items() if m.regularize)})")
    r.add_argument("--reg", default=None,
                   help=f"regularizer (edgeprune list regularizers; default: {default_of(RegOptions, 'reg')})")
    r.add_argument("--reg-lambda", dest="lam", metavar="LAMBDA", type=float, default=None,
                   help="regularization strength (default: auto, 1/penalty of the model, so the penalty starts at 1)")
    r.add_argument("--grouping", choices=GROUPINGS, default=None,
                   help=f"weight groups (default: {default_of(RegOptions, 'grouping')}; {_method_defaults('grouping')})")
    r.add_argument("--include-linear", action="store_true", default=None, help="regularize Linear layers too")
    r.add_argument("--reg-epochs", type=int, default=None, help="regularized training epochs (default: fine-tune epochs)")
    add_data_args(p)
    add_train_args(p, epochs=0, title="fine-tuning")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (re-run the same command to resume)")


def run(args: argparse.Namespace) -> int:
    """Prune, write ``model.safetensors``, ``prune.json`` and ``prune.md`` under ``--out``."""
    import dataclasses
    from pathlib import Path

    from edgeprune.errors import ConfigError
    from edgeprune.models import read_header
    from edgeprune.pruning import prune

    check_out(args.out)  # every option is checked before the data loads and pruning starts
    options = {k: getattr(args, k) for k in OPTIONS if getattr(args, k) is not None}  # unset: the method's default
    latency_target = _check_latency_args(args)
    # the speedup of a --target-latency is measured later: 2.0 stands in for it while checking
    config = PruneConfig.from_options(args.method, ratio=args.ratio, target_macs=args.target_macs,
                                      target_params=args.target_params,
                                      target_speedup=2.0 if latency_target else None, steps=args.steps,
                                      finetune_epochs=args.finetune_epochs, seed=args.seed, **options)
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
        config = dataclasses.replace(config, target_speedup=latency.pop("target_speedup"))
    result = prune(args.checkpoint, config, data, train_config=train_config, out=args.out, **latency)
    from edgeprune.accuracy import interval_text

    if latency_target:
        from edgeprune.bench.latency import record_speedup
        from edgeprune.fileio import read_json
        from edgeprune.models import load_checkpoint

        record_speedup(args.out, load_checkpoint(args.checkpoint), result.model, args.on)
        result.latency = read_json(Path(args.out) / "prune.json")["latency"]  # with the verified measurement
    print(f"{args.method}: params {result.params:,} ({result.params_kept:.1%}), "
          f"MACs {result.macs:,} ({result.macs_kept:.1%}), "
          f"test accuracy {interval_text(result.accuracy_before, result.test_n)} -> "
          f"{interval_text(result.accuracy_final, result.test_n)} (95% Wilson); checkpoint {result.checkpoint}")
    if latency_target:
        lat, v = result.latency, result.latency["verified"]
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
