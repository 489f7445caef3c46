"""Argument groups shared by several subcommands (kept free of heavy imports)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from edgeprune.train_config import OPTIMIZERS, TrainConfig


def add_data_args(parser: argparse.ArgumentParser, default: str | None = "digits") -> None:
    """--data, --data-root, --input-size, --channels, --fraction, --download, --seed."""
    g = parser.add_argument_group("data")
    g.add_argument("--data", default=default, metavar="NAME",
                   help="digits (embedded), mnist, fashionmnist, cifar10, stl10 or imagefolder:PATH (default: %(default)s)")
    g.add_argument("--data-root", default=None, metavar="DIR",
                   help="where datasets live; searched before $EDGEPRUNE_DATA, ./data and /usr/share/datasets "
                        "(Debian's dataset-fashion-mnist)")
    g.add_argument("--input-size", type=int, default=None, metavar="PX", help="resize inputs to PX x PX (default: 32; 224 for imagefolder)")
    g.add_argument("--channels", type=int, choices=(1, 3), default=None, help="input channels (default: the dataset's own)")
    g.add_argument("--fraction", type=float, default=1.0, help="stratified fraction of the dataset to use (papers: 0.1)")
    g.add_argument("--sizes", type=_sizes, default=None, metavar="TRAIN,VAL,TEST",
                   help="stratified subsets of exactly these sizes, val carved from train (the Reg+OBD paper: 6000,1000,1000)")
    g.add_argument("--download", action="store_true", help="allow torchvision to download the dataset (needs a network)")
    g.add_argument("--seed", type=int, default=0, help="seed for splits, init and shuffling (default: %(default)s)")


def _sizes(text: str) -> tuple[int, int, int]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) != 3 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not three positive integers TRAIN,VAL,TEST (e.g. 6000,1000,1000)")
    return sizes  # type: ignore[return-value]


def check_out(out: str | os.PathLike[str]) -> Path:
    """``--out`` as a folder that can be created or written, checked before any work starts."""
    from edgeprune.errors import ConfigError

    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file, not a directory", hint="pass a folder (new or existing) for --out")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {path}: {parent} is a file, not a directory", hint="pass a folder for --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {path}: {parent} is not writable (permission denied)",
                          hint="pass a folder you can write to for --out")
    return path


# load_data parameter -> the argparse dest of its flag, where they differ
DATA_DESTS = {"root": "data_root"}


def load_data_from_args(args: argparse.Namespace, **overrides):
    """Load the DataBundle the data arguments describe."""
    from edgeprune.data import load_data
    from edgeprune.errors import EdgepruneError

    kwargs = {"root": args.data_root, "input_size": args.input_size, "channels": args.channels,
              "seed": args.seed, "fraction": args.fraction, "download": args.download, "sizes": args.sizes}
    kwargs.update(overrides)
    try:
        return load_data(args.data, **kwargs)
    except EdgepruneError as e:  # load_data's parameters whose flags have other names
        if not set(e.params) & set(DATA_DESTS):
            raise
        message, hint = e.in_terms_of(DATA_DESTS)
        raise type(e)(message, hint, params=tuple(DATA_DESTS.get(p, p) for p in e.params)) from None


def add_train_args(parser: argparse.ArgumentParser, epochs: int = 10, title: str = "training") -> None:
    """--epochs, --batch-size, --optimizer, --lr, --weight-decay, --patience, --device, --workers."""
    g = parser.add_argument_group(title)
    g.add_argument("--epochs", type=int, default=epochs, help="epochs (default: %(default)s)")
    g.add_argument("--batch-size", type=int, default=default_of(TrainConfig, "batch_size"),
                   help="batch size (default: %(default)s)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=default_of(TrainConfig, "optimizer"),
                   help="optimizer (default: %(default)s)")
    g.add_argument("--lr", type=float, default=default_of(TrainConfig, "lr"), help="learning rate (default: %(default)s)")
    g.add_argument("--weight-decay", type=float, default=default_of(TrainConfig, "weight_decay"),
                   help="weight decay (default: %(default)s)")
    g.add_argument("--patience", type=int, default=default_of(TrainConfig, "patience"),
                   help="stop after this many epochs without validation improvement")
    g.add_argument("--device", default=default_of(TrainConfig, "device"),
                   help="auto (CUDA when present), cpu or cuda[:N] (default: %(default)s)")
    g.add_argument("--workers", dest="num_workers", type=int, default=default_of(TrainConfig, "num_workers"),
                   help="data loader worker processes (default: %(default)s)")


def default_of(cls: type, name: str) -> Any:
    """The default of field ``name`` of dataclass ``cls`` (the CLI's defaults are the configs')."""
    return cls.__dataclass_fields__[name].default


def train_config_from_args(args: argparse.Namespace, **overrides):
    """The TrainConfig the training arguments describe."""
    kwargs = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
              "weight_decay": args.weight_decay, "patience": args.patience, "device": args.device,
              "seed": getattr(args, "seed", 0), "num_workers": args.num_workers}
    kwargs.update(overrides)
    return TrainConfig(**kwargs)
