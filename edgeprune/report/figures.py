"""The report's figures (matplotlib, Agg): losses, confusion matrices, filters pruned, predictions, p50, the Pareto
fronts of accuracy against MACs and against measured latency."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.lines
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edgeprune.accuracy import wilson
from edgeprune.bench.backends import display_name
from edgeprune.bench.rows import BenchRow
from edgeprune.fileio import atomic_path
from edgeprune.report.analysis import INT8_SUFFIX, describe

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


def _front(pts: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The Pareto front of ``(cost, accuracy, name)`` points: each more accurate than every cheaper one."""
    front, best_acc = [], -1.0
    for p in sorted(pts, key=lambda t: (t[0], -t[1])):
        if p[1] > best_acc:
            front.append(p)
            best_acc = p[1]
    return front


def _front_axes(ax, pts: list[tuple[float, float, str]], front: list[tuple[float, float, str]], scale: float,
                quantity: str, unit: str, title: str) -> None:
    """Label every point, draw the front as a step, a log x axis (plain numbers) when the costs span over 5x."""
    for x, acc, n in pts:
        ax.annotate(n, (x / scale, 100 * acc), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.step([f[0] / scale for f in front], [100 * f[1] for f in front], where="post", color="tab:green", lw=1.5,
            label="Pareto front")
    costs = [p[0] for p in pts]
    log_x = max(costs) / max(min(costs), 1e-12) > 5
    if log_x:
        ax.set_xscale("log")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "125" else "")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
    ax.margins(x=0.08, y=0.1)  # room for the labels of the corner points
    ax.set_xlabel(f"{quantity} ({unit}{', log scale' if log_x else ''})")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")


def pareto(evals: dict[str, dict[str, Any]], base: str, path: Path) -> Path:
    """Test accuracy vs MACs for every model, the Pareto front (fewer MACs, higher accuracy) drawn."""
    names = [n for n in evals if not n.endswith(INT8_SUFFIX)]
    pts = [(evals[n]["macs"], evals[n]["accuracy"], n) for n in names]
    front = _front(pts)
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    colors = _colors(names)
    for macs, acc, n in pts:
        on = any(n == f[2] for f in front)
        ax.scatter(macs / 1e6, 100 * acc, s=80 if on else 45, color=colors[n], edgecolor="black" if on else "none",
                   zorder=3, marker="*" if n == base else "o")
    _front_axes(ax, pts, front, 1e6, "MACs per image", "millions", "Accuracy vs MACs: the Pareto front of all variants")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


# How a model was aimed, as the latency Pareto figure marks it: see :func:`latency_panels`.
TARGET_MARKERS = {"base": ("*", "unpruned"), "macs": ("o", "MACs target"), "speedup": ("D", "speedup target"),
                  "other": ("s", "other target or retrained")}


@dataclasses.dataclass(frozen=True)
class LatencyPoint:
    """One model on one runtime: its measured p50 and speedup, its test accuracy with the 95% Wilson interval."""

    model: str
    kind: str  # a key of TARGET_MARKERS
    p50_ms: float
    speedup: float | None
    accuracy: float
    low: float
    high: float


@dataclasses.dataclass(frozen=True)
class LatencyPanel:
    """The models the bench timed on one backend, profile and thread count (one panel of :func:`pareto_latency`)."""

    backend: str
    profile: str
    threads: int
    points: list[LatencyPoint]

    @property
    def front(self) -> list[str]:
        """The models on the Pareto front (each more accurate than every faster one), fastest first."""
        return [n for _, _, n in _front([(p.p50_ms, p.accuracy, p.model) for p in self.points])]


def latency_panels(rows: list[BenchRow], evals: dict[str, dict[str, Any]], kinds: dict[str, str]) -> list[LatencyPanel]:
    """One panel per (backend, profile, threads) the bench measured: every model timed there that has a test accuracy.

    ``kinds``: model -> how it was aimed (a key of :data:`TARGET_MARKERS`); an INT8 model is its FP32
    model's kind, a model not named is ``other``.
    """
    out: dict[tuple[str, str, int], list[LatencyPoint]] = {}
    for r in rows:
        e = evals.get(r.variant)
        if not r.ok or r.p50_ms is None or e is None:
            continue
        n = e.get("n")
        acc = wilson(round(e["accuracy"] * n), n) if n else None
        out.setdefault(r.key, []).append(LatencyPoint(
            r.variant, kinds.get(r.variant.removesuffix(INT8_SUFFIX), "other"), r.p50_ms, r.speedup_vs_baseline,
            e["accuracy"], acc.low if acc else e["accuracy"], acc.high if acc else e["accuracy"]))
    return [LatencyPanel(*key, points) for key, points in sorted(out.items())]


def pareto_latency(panels: list[LatencyPanel], path: Path) -> Path:
    """Test accuracy (95% interval) vs measured p50, one panel per runtime, profile and threads, the front drawn.

    Markers tell how each model was aimed (:data:`TARGET_MARKERS`); an INT8 model is drawn hollow.
    """
    colors = _colors(sorted({p.model for panel in panels for p in panel.points}))
    rows, cols = _grid(len(panels), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 4.4 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        pts = [(p.p50_ms, p.accuracy, p.model) for p in panel.points]
        front = _front(pts)
        for p in panel.points:
            on = any(p.model == f[2] for f in front)
            ax.errorbar(p.p50_ms, 100 * p.accuracy, yerr=[[100 * (p.accuracy - p.low)], [100 * (p.high - p.accuracy)]],
                        fmt=TARGET_MARKERS[p.kind][0], ms=(9 if on else 6) * (1.5 if p.kind == "base" else 1),
                        capsize=2, color=colors[p.model],
                        mfc="none" if p.model.endswith(INT8_SUFFIX) else colors[p.model],
                        mec="black" if on else colors[p.model], zorder=3)
        _front_axes(ax, pts, front, 1.0, "measured p50 latency", "ms, batch 1", describe(panel))
        shown = [k for k in TARGET_MARKERS if any(p.kind == k for p in panel.points)]
        markers = [matplotlib.lines.Line2D([], [], ls="none", marker=TARGET_MARKERS[k][0], color="gray",
                                           label=TARGET_MARKERS[k][1]) for k in shown]
        ax.legend(handles=[*markers, *ax.get_legend_handles_labels()[0]], fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle("Accuracy vs measured latency per runtime\n(hollow: INT8; bars: 95% Wilson interval)", fontsize=10)
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
