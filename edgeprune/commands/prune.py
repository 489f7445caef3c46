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
    method, _, opts, _ = check_prune(args.method, steps=args.steps, finetune_epochs=args.finetune_epochs, **targets,
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
    model = prune(args.checkpoint, args.method, data, steps=args.steps, finetune_epochs=args.finetune_epochs,
                  train_config=train_config, out=args.out, **targets, **options)
    from pathlib import Path

    from edgeprune.accuracy import interval_text
    from edgeprune.fileio import read_json

    report = read_json(Path(args.out) / "prune.json")
    print(f"{args.method}: params {count_params(model):,} ({report['after']['params'] / report['before']['params']:.1%}), "
          f"MACs {count_macs(model, spec.input_shape):,} ({report['after']['macs'] / report['before']['macs']:.1%}), "
          f"test accuracy {interval_text(report['accuracy_before'], report['test_n'])} -> "
          f"{interval_text(report['accuracy_final'], report['test_n'])} (95% Wilson); "
          f"checkpoint {Path(args.out) / 'model.safetensors'}")
    return 0
