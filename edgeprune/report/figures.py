"""The report's figures (matplotlib, Agg): losses, confusion matrices, filters pruned, predictions, p50, Pareto."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edgeprune.bench.backends import display_name
from edgeprune.bench.rows import BenchRow
from edgeprune.fileio import atomic_path
from edgeprune.report.analysis import INT8_SUFFIX

DPI = 110


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)  # every figure is laid out (tight_layout) already
    plt.close(fig)
    return path


def _colors(names: list[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(max_cols, max(1, n))
    return math.ceil(n / cols), cols


def loss_curves(histories: dict[str, dict[str, Any]], path: Path) -> Path:
    """Train and validation loss per epoch, one panel per trained model, the best epoch marked."""
    rows, cols = _grid(len(histories), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (name, h) in zip(axes.flat, histories.items(), strict=False):
        ep = [e["epoch"] for e in h["epochs"]]
        ax.plot(ep, [e["train_loss"] for e in h["epochs"]], "o-", label="train loss", color="tab:blue")
        ax.plot(ep, [e["val_loss"] for e in h["epochs"]], "s-", label="val loss", color="tab:orange")
        best = h.get("best_epoch")
        if best is not None:
            row = next((e for e in h["epochs"] if e["epoch"] == best), None)
            ax.axvline(best, color="gray", ls="--", lw=1)
            if row:
                ax.plot([best], [row["val_loss"]], "*", ms=16, color="tab:red", label=f"best epoch {best}")
        ax.set_title(name)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(histories):]:
        ax.axis("off")
    fig.suptitle("Training and validation loss (best epoch = the checkpoint kept)")
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrices(evals: dict[str, dict[str, Any]], labels: list[str], path: Path) -> Path:
    """One confusion matrix per model (rows: true class, columns: predicted), counts in the cells."""
    names = [n for n in evals if not n.endswith(INT8_SUFFIX)]
    rows, cols = _grid(len(names), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        cm = np.asarray(evals[name]["confusion"])
        ax.imshow(cm, cmap="Blues")
        k = cm.shape[0]
        if k <= 12:
            for i in range(k):
                for j in range(k):
                    if cm[i, j]:
                        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                                color="white" if cm[i, j] > cm.max() / 2 else "black")
        ticks = list(range(k))
        ax.set_xticks(ticks, labels[:k] if k <= 12 else [""] * k, fontsize=7)
        ax.set_yticks(ticks, labels[:k] if k <= 12 else [""] * k, fontsize=7)
        ax.set_title(f"{name} (acc {100 * evals[name]['accuracy']:.1f}%)", fontsize=9)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("Confusion matrices on the test split")
    fig.tight_layout()
    return _save(fig, path)


def filters_pruned(evals: dict[str, dict[str, Any]], base: str, path: Path) -> Path:
    """Filters removed per conv layer vs the base model: grouped bars, one hue per variant."""
    base_convs = [w for w in evals[base]["layers"] if w["kind"] == "Conv2d"]
    def removed_of(name: str) -> list[int]:
        convs = {w["name"]: w for w in evals[name]["layers"] if w["kind"] == "Conv2d"}
        return [b["outputs"] - convs.get(b["name"], b)["outputs"] for b in base_convs]

    variants = [n for n in evals if n != base and not n.endswith(INT8_SUFFIX) and any(removed_of(n))]
    colors = _colors(variants)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.75 * len(base_convs) + 3), 4.2))
    width = 0.8 / max(1, len(variants))
    x = np.arange(len(base_convs))
    for i, name in enumerate(variants):
        ax.bar(x + (i - (len(variants) - 1) / 2) * width, removed_of(name), width, label=name, color=colors[name])
    ax.plot(x, [b["outputs"] for b in base_convs], "k_", ms=14, mew=2, label=f"{base} width")
    ax.set_xticks(x, [f"conv{i + 1}" for i in range(len(base_convs))], rotation=45, fontsize=8)
    ax.set_ylabel("filters removed")
    ax.set_title("Filters pruned per layer (black ticks: layer width of the unpruned model)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def predictions_grid(images: np.ndarray, true: list[int], pred: list[int], labels: list[str], mean: list[float],
                     std: list[float], title: str, path: Path) -> Path:
    """Sample test images with the prediction: blue when right, red when wrong (true label in brackets)."""
    n = len(true)
    rows, cols = _grid(n, 8)
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.75 * rows), squeeze=False)
    m = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
    for ax, img, t, p in zip(axes.flat, images, true, pred, strict=False):
        pix = np.clip(img * s + m, 0, 1)
        if pix.shape[0] == 1:
            ax.imshow(pix[0], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(np.transpose(pix[:3], (1, 2, 0)))
        right = t == p
        ax.set_title(labels[p] if right else f"{labels[p]} ({labels[t]})", color="tab:blue" if right else "tab:red",
                     fontsize=9)
        ax.axis("off")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def p50_bars(rows: list[BenchRow], order: list[str], path: Path) -> Path:
    """Median latency per runtime (and threads), one panel per profile, one bar per model."""
    ok = [r for r in rows if r.ok]
    profiles = sorted({r.profile for r in ok}) or ["none"]
    labels = [n for n in order if any(r.variant == n for r in ok)]
    colors = _colors(labels)
    fig, axes = plt.subplots(1, len(profiles), figsize=(max(6.5, 1.1 * len(labels) + 4) * len(profiles) / 1.4, 4.4),
                             squeeze=False)
    for ax, profile in zip(axes.flat, profiles, strict=False):
        mine = [r for r in ok if r.profile == profile]
        groups = sorted({(r.backend, r.threads or 0) for r in mine})
        width = 0.8 / max(1, len(labels))
        x = np.arange(len(groups))
        for i, name in enumerate(labels):
            vals = []
            for backend, t in groups:
                hit = [r for r in mine if r.variant == name and r.backend == backend and (r.threads or 0) == t]
                vals.append(hit[0].p50_ms if hit else np.nan)
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, vals, width, label=name, color=colors[name])
        ax.set_xticks(x, [f"{display_name(b)}\n{t} thr" for b, t in groups], fontsize=8)
        ax.set_ylabel("p50 latency (ms, batch 1)")
        vals_all = [r.p50_ms for r in mine if r.p50_ms]
        if vals_all and max(vals_all) / min(vals_all) > 20:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_title(f"profile: {profile}")
        ax.grid(axis="y", alpha=0.3, which="both")
    axes.flat[0].legend(fontsize=7, ncol=2)
    fig.suptitle("Median latency per runtime and thread count (lower is better)")
    fig.tight_layout()
    return _save(fig, path)


def pareto(evals: dict[str, dict[str, Any]], base: str, path: Path) -> Path:
    """Test accuracy vs MACs for every model, the Pareto front (fewer MACs, higher accuracy) drawn."""
    names = [n for n in evals if not n.endswith(INT8_SUFFIX)]
    pts = sorted(((evals[n]["macs"], evals[n]["accuracy"], n) for n in names), key=lambda t: (t[0], -t[1]))
    front, best_acc = [], -1.0
    for macs, acc, n in pts:
        if acc > best_acc:
            front.append((macs, acc, n))
            best_acc = acc
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    colors = _colors(names)
    for macs, acc, n in pts:
        on = any(n == f[2] for f in front)
        ax.scatter(macs / 1e6, 100 * acc, s=80 if on else 45, color=colors[n], edgecolor="black" if on else "none",
                   zorder=3, marker="*" if n == base else "o")
        ax.annotate(n, (macs / 1e6, 100 * acc), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.step([f[0] / 1e6 for f in front], [100 * f[1] for f in front], where="post", color="tab:green", lw=1.5,
            label="Pareto front")
    macs = [p[0] for p in pts]
    log_x = max(macs) / max(min(macs), 1) > 5
    if log_x:
        ax.set_xscale("log")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "125" else "")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
    ax.margins(x=0.08, y=0.1)  # room for the labels of the corner points
    ax.set_xlabel(f"MACs per image (millions{', log scale' if log_x else ''})")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy vs MACs: the Pareto front of all variants")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def speedup_vs_macs(edge: list[dict[str, Any]], claim: float, path: Path) -> Path:
    """Measured speedup (with interval) vs the MACs ratio, per runtime and profile; the ideal is the diagonal."""
    ok = [r for r in edge if r["ok"] and r["speedup"] is not None and r["macs_ratio"] and r["macs_ratio"] > 1.0001]
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    keys = sorted({(str(r["backend"]), str(r["profile"]), r["threads"] or 0) for r in ok})
    colors = _colors([str(k) for k in keys])
    for k in keys:
        pts = [r for r in ok if (str(r["backend"]), str(r["profile"]), r["threads"] or 0) == k]
        xs = [r["macs_ratio"] for r in pts]
        ys = [r["speedup"] for r in pts]
        err = [[max(0.0, r["speedup"] - (r["low"] or r["speedup"])) for r in pts],
               [max(0.0, (r["high"] or r["speedup"]) - r["speedup"]) for r in pts]]
        ax.errorbar(xs, ys, yerr=err, fmt="o", capsize=3, color=colors[str(k)],
                    label=f"{display_name(k[0])} {k[1]} {k[2]} thr")
    top = max([r["macs_ratio"] for r in ok] + [claim + 1, 2])
    ax.plot([1, top], [1, top], "k--", lw=1, label="ideal (speedup = MACs ratio)")
    ax.axhline(claim, color="tab:red", lw=1, ls=":", label=f"claim {claim:g}x")
    ax.set_xlabel("fewer MACs (x)")
    ax.set_ylabel("measured speedup (x, 95% CI)")
    ax.set_title("Measured speedup vs the MACs ratio")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
