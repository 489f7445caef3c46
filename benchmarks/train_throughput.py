"""Training throughput (images/s) with edgeprune's tensor data vs torchvision's PIL-per-image pipeline.

Same model (VGG16-BN width 0.5, 32 px, Fashion-MNIST), same batches, same threads; each pipeline first
alone (data loading only), then with a training step. Prints a table and the command that made it.

    .venv/bin/python benchmarks/train_throughput.py --batches 30
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def _pil_dataset(folder: Path, size: int):
    """The pre-tensor pipeline: torchvision FashionMNIST decoding PIL images one at a time every epoch."""
    import torchvision.datasets as tvd

    from edgeprune.data.vision import STATS, channel_stats, image_transform

    raw = Path(tempfile.mkdtemp()) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for f in folder.iterdir():
        if f.name.endswith(".gz"):
            with gzip.open(f) as src, open(raw / f.name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
    mean, std = channel_stats(STATS["fashionmnist"], 1)
    ds = tvd.FashionMNIST(str(raw.parents[1]), train=True, transform=image_transform(size, 1, mean, std))
    return torch.utils.data.Subset(ds, range(6000)), raw.parents[1]


def _rate(loader, model=None, opt=None, batches: int = 30) -> float:
    seen, t0 = 0, time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if i == batches:
            break
        if model is not None:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        seen += len(y)
    return seen / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    import edgeprune as ep
    from edgeprune.data.idx import find_idx_files

    t0 = time.perf_counter()
    data = ep.load_data("fashionmnist", input_size=32, sizes=(6000, 1000, 1000))
    load_s = time.perf_counter() - t0
    pil, tmp = _pil_dataset(find_idx_files("fashionmnist")["train"][0].parent, 32)
    loaders = {"tensor (edgeprune)": data.loader("train", args.batch_size),
               "PIL per image (before)": torch.utils.data.DataLoader(pil, args.batch_size, shuffle=True)}
    rows = []
    for name, loader in loaders.items():
        torch.manual_seed(0)
        model = ep.create_model("vgg16_bn", data=data, width=0.5).train()
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        _rate(loader, model, opt, batches=2)  # warm-up
        rows.append((name, _rate(loader, batches=args.batches), _rate(loader, model, opt, batches=args.batches)))
    shutil.rmtree(tmp, ignore_errors=True)
    print("| data pipeline | loading only (images/s) | training VGG16-BN w0.5 32 px (images/s) |")
    print("|---|---:|---:|")
    for name, load_rate, train_rate in rows:
        print(f"| {name} | {load_rate:,.0f} | {train_rate:,.0f} |")
    print(f"\ndecoding the 6,000/1,000/1,000 subsets into tensors once: {load_s:.2f} s; {args.threads} threads, "
          f"batch {args.batch_size}, {args.batches} batches each")
    print("command: .venv/bin/python benchmarks/train_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
