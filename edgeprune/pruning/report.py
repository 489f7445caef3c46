"""prune.json and prune.md: widths before/after, params, MACs, accuracies, near-zero ratio, timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.fileio import write_json, write_text
from edgeprune.models import count_macs, count_params, layer_widths, near_zero_ratio


def model_summary(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Params, MACs, near-zero ratio and per-layer widths of one model."""
    return {"params": count_params(model), "macs": count_macs(model, input_shape),
            "near_zero_ratio": near_zero_ratio(model),
            "widths": {w.name: [w.inputs, w.outputs] for w in layer_widths(model)}}


def write_report(out: Path, report: dict[str, Any]) -> None:
    """Write prune.json and a Markdown rendering of it."""
    write_json(out / "prune.json", report)
    b, a = report["before"], report["after"]
    lines = [f"# prune: {report['method']}", "",
             f"target: {report['target']['kind']} {report['target']['value']}, steps {report['steps']}", "",
             "| | params | MACs | near-zero | test accuracy |", "|---|---:|---:|---:|---:|",
             f"| before | {b['params']:,} | {b['macs']:,} | {b['near_zero_ratio']:.4f} | {_acc(report.get('accuracy_before'))} |",
             f"| after | {a['params']:,} ({a['params'] / b['params']:.1%}) | {a['macs']:,} ({a['macs'] / b['macs']:.1%}) "
             f"| {a['near_zero_ratio']:.4f} | {_acc(report.get('accuracy_final'))} |", "",
             "## Steps", "", "| step | params | MACs | acc. right after pruning | acc. after fine-tune | seconds (score/prune/tune) |",
             "|---:|---:|---:|---:|---:|---|"]
    for s in report["history"]:
        t = s["seconds"]
        lines.append(f"| {s['step']} | {s['params']:,} | {s['macs']:,} | {_acc(s['accuracy_pruned'])} | "
                     f"{_acc(s['accuracy_finetuned'])} | {t['score']:.1f}/{t['prune']:.1f}/{t['finetune']:.1f} |")
    lines += ["", "## Widths (in → out)", "", "| layer | before | after |", "|---|---|---|"]
    for name, (i, o) in b["widths"].items():
        ai, ao = a["widths"].get(name, [i, o])
        lines.append(f"| {name} | {i} → {o} | {ai} → {ao} |")
    lines += ["", "Phase wall times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report["seconds"].items()), ""]
    write_text(out / "prune.md", "\n".join(lines))


def _acc(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"
