"""DDP: two CPU processes (gloo) training one model on different shards end with bitwise-equal weights.

Each rank starts from a DIFFERENT random init; DistributedDataParallel broadcasts rank 0's weights
when it wraps the model and all-reduces the gradients of every step, so the two optimizers apply the
same updates to the same values and the parameters must be bit-for-bit equal at the end. The model
has BatchNorm: its running statistics are buffers, updated by each rank from its own shard in the
forward pass, so they only agree if fit() keeps them in sync; validation, best-epoch selection and
early stopping on each rank depend on them (a rank that stops alone would leave the other waiting
in an all-reduce forever).
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

EPOCHS = 3


class Arrays(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def _bundle():
    from edgeprune.data import DataBundle

    g = torch.Generator().manual_seed(0)
    x = torch.randn(80, 1, 8, 8, generator=g)
    y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).long()  # learnable: top half brighter
    return DataBundle("synthetic", Arrays(x[:48], y[:48]), Arrays(x[48:64], y[48:64]), Arrays(x[64:], y[64:]),
                      ["lower", "upper"], (1, 8, 8), [0.0], [1.0])


def _model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 2))


def _worker(rank, world, port, out, patience):
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "EDGEPRUNE_QUIET": "1"})
    torch.set_num_threads(1)
    import torch.distributed as dist

    from edgeprune.train import TrainConfig, fit

    model = _model(seed=100 + rank)  # different inits: DDP must make them one
    init = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(epochs=EPOCHS, batch_size=8, device="cpu", lr=1e-2, patience=patience, select="val_loss")
    history = fit(model, _bundle(), cfg)
    torch.save({"state": model.state_dict(), "init": init, "best": history.best_epoch,
                "epochs": [e["epoch"] for e in history.epochs], "samples": [e["samples"] for e in history.epochs],
                "val_loss": [e["val_loss"] for e in history.epochs]}, os.path.join(out, f"rank{rank}.pt"))
    if dist.is_initialized():
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path, patience=None, timeout=150):
    import torch.multiprocessing as mp

    ctx = mp.spawn(_worker, args=(2, _free_port(), str(tmp_path), patience), nprocs=2, join=False)
    deadline = time.monotonic() + timeout
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail(f"the two DDP ranks did not finish within {timeout} s (one waiting for the other?)")
    return [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]


def test_two_ranks_end_bitwise_equal(tmp_path):
    r0, r1 = _run(tmp_path, patience=2)
    assert not all(torch.equal(r0["init"][k], r1["init"][k]) for k in r0["init"])  # really different starts
    assert r0["epochs"] == r1["epochs"] and len(r0["epochs"]) >= 2  # early stopping, if any, on both together
    assert r0["samples"] == r1["samples"] == [24] * len(r0["epochs"])  # each rank trained on its half
    params = [k for k in r0["state"] if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    buffers = [k for k in r0["state"] if k not in params]
    assert buffers and params
    for k in params:
        assert torch.equal(r0["state"][k], r1["state"][k]), f"parameter {k} differs between ranks"
        assert not torch.equal(r0["state"][k], r0["init"][k]), f"parameter {k} did not train"
    for k in buffers:  # BatchNorm statistics: each rank's forward passes update them from its own shard
        assert torch.equal(r0["state"][k], r1["state"][k]), f"buffer {k} differs between ranks"
    # equal models: both ranks see the same validation figures and keep the same best epoch
    assert np.array_equal(np.asarray(r0["val_loss"]), np.asarray(r1["val_loss"])) and r0["best"] == r1["best"]
