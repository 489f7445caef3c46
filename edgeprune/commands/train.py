"""edgeprune train: fit a model on a dataset and keep the best-validation checkpoint."""

from __future__ import annotations

import argparse

from edgeprune.commands.common import (
    add_data_args,
    add_train_args,
    check_out,
    load_data_from_args,
    train_config_from_args,
)

HELP = "train a model (best-validation checkpoint, loss history, test metrics)"
EXAMPLES = """examples:
  edgeprune train --model vgg11_bn --width 0.25 --data digits --epochs 3 --out runs/a
  edgeprune train --model vgg16 --classifier seed --weights imagenet --freeze-features \\
                  --data imagefolder:data/covid --input-size 224 --epochs 10 --out runs/covid
  torchrun --standalone --nproc-per-node 2 -m edgeprune.cli train --model vgg16_bn --data digits --out runs/ddp
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune train``."""
    g = p.add_argument_group("model")
    g.add_argument("--model", default="vgg16_bn", help="vgg11/13/16/19[_bn] or tv:<torchvision name> (default: %(default)s)")
    g.add_argument("--width", type=float, default=None, help="VGG width multiplier, e.g. 0.25")
    g.add_argument("--widths", default=None, metavar="W1,W2,...", help="explicit VGG conv widths")
    g.add_argument("--classifier", choices=("compact", "seed"), default=None,
                   help="VGG head: compact (global pool + Linear) or seed (the papers' 4096-4096 head)")
    g.add_argument("--weights", default=None, metavar="imagenet|FILE",
                   help="pretrained weights from disk: 'imagenet' (torch hub cache) or a .safetensors file")
    g.add_argument("--freeze-features", action="store_true", help="train only the classifier head (transfer learning)")
    add_data_args(p)
    add_train_args(p, epochs=10)
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")


def model_kwargs_from_args(args: argparse.Namespace) -> dict:
    """VGG options given on the command line (only those set)."""
    kwargs: dict = {}
    if args.width is not None:
        kwargs["width"] = args.width
    if args.widths:
        try:
            kwargs["widths"] = [int(w) for w in args.widths.split(",")]
        except ValueError:
            from edgeprune.errors import ConfigError

            raise ConfigError(f"--widths {args.widths!r} is not a comma-separated list of integers",
                              hint="e.g. --widths 16,32,64,64,128,128,128,128") from None
    if args.classifier:
        kwargs["classifier"] = args.classifier
    return kwargs


def run(args: argparse.Namespace) -> int:
    """Train, save ``model.safetensors`` (best epoch), ``history.json``, ``train.json`` and ``train.md``."""
    from edgeprune import api
    from edgeprune.accuracy import interval_text
    from edgeprune.train import is_main_process, seed_everything

    out = check_out(args.out)  # every option is checked before the data loads and training starts
    cfg = train_config_from_args(args, freeze_features=args.freeze_features)
    model_kwargs = model_kwargs_from_args(args)
    data = load_data_from_args(args)
    seed_everything(cfg.seed)  # the initial weights too: the same command gives the same model
    model = api.create_model(args.model, data=data, weights=args.weights, **model_kwargs)
    result = api.fit(model, data, cfg, out=out)
    if is_main_process():
        test = result.test
        print(f"test accuracy {interval_text(test['accuracy'], test['n'])} (95% Wilson) on {test['n']} images; "
              f"checkpoint {out / 'model.safetensors'}")
    return 0
