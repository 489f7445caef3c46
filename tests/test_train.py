"""Training: learns digits, keeps the best epoch, freezes features on request, runs under torchrun DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

import edgeprune as ep
from edgeprune.train import EvalResult, TrainConfig, fit


def test_training_learns_digits_and_saves_the_best_epoch(digits, tiny_ckpt):
    model = ep.load(tiny_ckpt)
    result = ep.evaluate(model, digits, "test", device="cpu")
    assert result.accuracy >= 0.9
    summary = json.loads((tiny_ckpt.parent / "train.json").read_text())
    best = summary["history"]["epochs"][summary["best_epoch"] - 1]
    assert best["val_loss"] == min(e["val_loss"] for e in summary["history"]["epochs"])
    # the checkpoint on disk is the best epoch's weights: its val loss matches the history
    val = ep.evaluate(model, digits, "val", device="cpu")
    assert abs(val.loss - best["val_loss"]) < 1e-4
    assert summary["test"]["accuracy"] == result.accuracy


def test_same_seed_same_weights(digits):
    a = ep.create_model("vgg11_bn", data=digits, width=0.125)
    b = ep.create_model("vgg11_bn", data=digits, width=0.125)
    cfg = TrainConfig(epochs=1, device="cpu", seed=7)
    torch.manual_seed(0)
    a.load_state_dict(b.state_dict())
    fit(a, digits, cfg)
    fit(b, digits, cfg)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_freeze_features_trains_only_the_head(digits):
    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, digits, TrainConfig(epochs=1, device="cpu", freeze_features=True, lr=1e-2))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("classifier.") for k in changed)


def test_confusion_rates_closed_form():
    r = EvalResult(loss=0.0, accuracy=0.75, n=8, confusion=[[3, 1], [1, 3]]).rates()
    assert r == {"tpr": 0.75, "tnr": 0.75, "fpr": 0.25, "fnr": 0.25}


def test_ddp_with_two_cpu_processes(tmp_path, digits):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EDGEPRUNE_QUIET": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "edgeprune.cli", "train", "--model", "vgg11_bn", "--width", "0.125", "--data", "digits",
           "--epochs", "1", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "train.json").read_text())
    # each rank saw half of the training split (DistributedSampler), rank 0 alone wrote the files
    assert proc.stdout.count("test accuracy") == 1
    assert summary["history"]["epochs"][0]["samples"] == (len(digits.train) + 1) // 2
    assert ep.load(out / "model.safetensors") is not None


def test_ctrl_c_leaves_the_last_good_checkpoint(tmp_path, digits):
    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    calls = {"n": 0}
    batches_per_epoch = -(-len(digits.train) // 64)

    def interrupt_in_epoch_two(_model):
        calls["n"] += 1
        if calls["n"] > batches_per_epoch + 3:
            raise KeyboardInterrupt
        return torch.zeros(())

    try:
        ep.fit(model, digits, epochs=3, device="cpu", out=tmp_path, regularizer=interrupt_in_epoch_two)
    except KeyboardInterrupt:
        pass
    else:  # pragma: no cover
        raise AssertionError("the interrupt did not propagate")
    history = json.loads((tmp_path / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1]
    saved = ep.load(tmp_path / "model.safetensors")
    val = ep.evaluate(saved, digits, "val", device="cpu")
    assert abs(val.loss - history["epochs"][0]["val_loss"]) < 1e-4
    assert not list(tmp_path.glob(".*.tmp"))


def test_interrupted_fit_resumes_at_the_next_epoch_as_if_never_stopped(digits, tmp_path, monkeypatch):
    import pytest

    import edgeprune.train as train_mod
    from edgeprune.train_state import META, TENSORS

    cfg = TrainConfig(epochs=2, device="cpu", seed=3, lr=3e-3)
    init = ep.create_model("vgg11_bn", data=digits, width=0.125).state_dict()
    straight = ep.create_model("vgg11_bn", data=digits, width=0.125)
    straight.load_state_dict(init)
    want = fit(straight, digits, cfg, out=tmp_path / "straight")
    assert not (tmp_path / "straight" / META).exists()  # a finished fit leaves no state behind

    calls = {"n": 0}
    real = train_mod.evaluate

    def stop_in_epoch_2(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    model.load_state_dict(init)
    monkeypatch.setattr(train_mod, "evaluate", stop_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        fit(model, digits, cfg, out=tmp_path / "run")
    monkeypatch.setattr(train_mod, "evaluate", real)
    assert json.loads((tmp_path / "run" / META).read_text())["epoch"] == 1 and (tmp_path / "run" / TENSORS).exists()

    fresh = ep.create_model("vgg11_bn", data=digits, width=0.125)  # other initial weights: the state wins
    got = fit(fresh, digits, cfg, out=tmp_path / "run")
    assert [e["val_loss"] for e in got.epochs] == [e["val_loss"] for e in want.epochs]
    assert got.best_epoch == want.best_epoch
    assert all(torch.equal(x, y) for x, y in zip(fresh.state_dict().values(), straight.state_dict().values(), strict=True))

    # another config is another work: its fit ignores the state and starts at epoch 1
    other = fit(ep.create_model("vgg11_bn", data=digits, width=0.125), digits,
                TrainConfig(epochs=1, device="cpu", seed=4), out=tmp_path / "run")
    assert [e["epoch"] for e in other.epochs] == [1]


def test_resume_state_of_mixed_epochs_or_damaged_json_is_no_state(tmp_path):
    from edgeprune.fileio import read_json, write_json
    from edgeprune.train_state import META, TrainState, fingerprint, load_state, save_state

    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    fp = fingerprint({"lr": 1}, net, {"train": 10}, {"weights": None})
    assert fp != fingerprint({"lr": 1}, net, {"train": 10}, {"weights": "imagenet"})  # other initial weights
    state = lambda epoch: TrainState(epoch, net.state_dict(), None, opt.state_dict(), {"last_epoch": epoch},  # noqa: E731
                                     {"torch": torch.get_rng_state()}, {"history": {}, "best_key": None, "stale": 0})
    save_state(tmp_path, state(2), fp)
    got = load_state(tmp_path, fp)
    assert got.epoch == 2 and torch.equal(got.model["weight"], net.weight)
    assert got.optimizer["state"][0]["exp_avg"].shape == net.weight.shape
    meta = read_json(tmp_path / META)
    write_json(tmp_path / META, {**meta, "epoch": 1})  # a crash between the two files: JSON of epoch 1
    assert load_state(tmp_path, fp) is None
    write_json(tmp_path / META, {"fingerprint": fp, "epoch": 2})  # keys missing
    assert load_state(tmp_path, fp) is None
    assert load_state(tmp_path, "another work") is None


def test_fit_returns_a_result_that_round_trips(tmp_path, digits):
    from edgeprune.train_run import FitResult

    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    result = ep.fit(model, digits, TrainConfig(epochs=0, device="cpu"), out=tmp_path)
    assert isinstance(result, FitResult) and result.model is model
    assert result.checkpoint == str(tmp_path / "model.safetensors") and result.best_epoch is None
    data = json.loads(json.dumps(result.to_dict()))
    assert data == json.loads((tmp_path / "train.json").read_text())  # train.json is the result's dict
    again = FitResult.from_dict(data)
    assert again.model is None and again.to_dict() == result.to_dict() and again.config == result.config
    assert FitResult.from_dict(data, load=True).params == result.params
