"""The run report: ``report.md`` for people, ``report.json`` for machines, ``figures/*.png``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from edgeprune.fileio import read_json, write_json, write_text
from edgeprune.report.accuracy import CLAIM_RULE, RULE, SEED_RULE
from edgeprune.report.analysis import INT8_SUFFIX, RECOMMEND_RULE, analyse
from edgeprune.report.tables import (
    accuracy_table,
    claim_table,
    edge_rows,
    edge_table,
    pairwise_table,
    paper_rows,
    paper_table,
    published_table,
    ranking_lines,
    recommendation_lines,
    speedup_target_rows,
    speedup_target_table,
)
from edgeprune.run import Layout

FIGURES = {
    "loss": "loss.png",
    "confusion": "confusion.png",
    "filters": "filters_pruned.png",
    "predictions": "predictions.png",
    "p50": "p50.png",
    "pareto": "pareto.png",
    "speedup": "speedup_vs_macs.png",
    "pareto_latency": "pareto_latency.png",
}


def _onnx_bytes(root: Path, names: list[str]) -> dict[str, int]:
    """Bytes of the ONNX file each model ships (export's verified FP32 and INT8 files), as export.json records them."""
    from edgeprune.export.result import ExportResult

    out = {}
    for name in names:
        result = ExportResult.read(Layout(root).export_dir(name))
        verified = result.verified() if result is not None else {}
        if "onnx" in verified:
            out[name] = verified["onnx"].bytes
        if "int8" in verified:
            out[name + INT8_SUFFIX] = verified["int8"].bytes
    return out


def _histories(root: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for name in names:
        p = Layout(root).model_dir(name) / "history.json"
        if p.exists():
            h = read_json(p)
            if h.get("epochs"):
                out[name] = h
    return out


def render_figures(root: Path, recipe, data, a: dict[str, Any], edge: list[dict[str, Any]]) -> dict[str, Path]:
    """Draw every figure the run has data for; returns name -> path."""
    from edgeprune.report import figures as fg

    folder = root / "figures"
    evals, base, names = a["evals"], recipe.base, recipe.names()
    made: dict[str, Path] = {}
    hist = _histories(root, names)
    if hist:
        made["loss"] = fg.loss_curves(hist, folder / FIGURES["loss"])
    if evals:
        made["confusion"] = fg.confusion_matrices(evals, list(data.labels), folder / FIGURES["confusion"])
        made["pareto"] = fg.pareto(evals, base, folder / FIGURES["pareto"])
    if base in evals and len([n for n in evals if n != base]) > 0:
        made["filters"] = fg.filters_pruned(evals, base, folder / FIGURES["filters"])
    shown = a.get("best") or base
    if shown in evals and "samples" in evals[shown]:
        x, _ = data.sample("test", recipe.report.samples, seed=recipe.seed)
        s = evals[shown]["samples"]
        made["predictions"] = fg.predictions_grid(
            x.numpy(), s["true"], s["pred"], list(data.labels), list(data.mean), list(data.std),
            f"{shown}: test predictions (blue right, red wrong; true label in brackets)", folder / FIGURES["predictions"])
    if a["rows"]:
        made["p50"] = fg.p50_bars(a["rows"], [*names, *(n + INT8_SUFFIX for n in names)], folder / FIGURES["p50"])
        made["speedup"] = fg.speedup_vs_macs(edge, recipe.claim.speedup, folder / FIGURES["speedup"])
        panels = fg.latency_panels(a["rows"], evals, target_kinds(recipe))
        if panels:
            made["pareto_latency"] = fg.pareto_latency(panels, folder / FIGURES["pareto_latency"])
    return made


def render_report(run, recipe, data) -> tuple[list[Path], dict[str, Any]]:
    """Write report.md, report.json and figures/ for a run; returns the files and a summary."""
    root = Path(run.root)
    a = analyse(run, recipe)
    evals, base = a["evals"], recipe.base
    edge = edge_rows(a["rows"], evals, base)
    figs = render_figures(root, recipe, data, a, edge)
    paper = paper_rows(evals, base, _onnx_bytes(root, recipe.names())) if base in evals else []
    speedup_targets = speedup_target_rows(_speedup_targeted(root, recipe))
    summary = {"best": a.get("best"), "holds": a.get("holds"), "verdict": a.get("verdict"),
               "recommendations": a.get("recommendations", {})}
    report_json = {
        "recipe": recipe.to_dict(), "run": str(root), "summary": summary, "models": paper, "edge": edge,
        "speedup_targets": speedup_targets,
        "claims": a.get("checks", {}), "eligible": a.get("eligible", []), "env": a.get("env", {}),
        "accuracy": a.get("accuracy", []), "pairwise": a.get("pairwise", {}), "ranking": a.get("ranking", []),
        "rules": {"paired": RULE, "seeds": SEED_RULE, "claim_accuracy": CLAIM_RULE, "recommendation": RECOMMEND_RULE},
        "figures": {k: str(p.relative_to(root)) for k, p in figs.items()},
        "stages": {name: {"seconds": rec.seconds, "finished": rec.finished, "runs": rec.runs}
                   for name, rec in run.stages.items()},
    }
    files = [write_json(root / "report.json", report_json)]
    files.append(write_text(root / "report.md", markdown(recipe, a, paper, edge, speedup_targets, figs, root, run)))
    return [*files, *figs.values()], summary


def markdown(recipe, a, paper, edge, speedup_targets, figs, root: Path, run) -> str:
    """The human report."""
    c = recipe.claim
    title = recipe.report.title or f"edgeprune report: {recipe.name}"
    m = recipe.model
    lines = [f"# {title}", "", recipe.description.strip(), "",
             f"Data: **{recipe.data.name}**; base model **{base_words(recipe)}** ({m.name}, "
             f"{', '.join(f'{k}={v}' for k, v in m.kwargs().items()) or 'default widths'}), trained "
             f"{recipe.train.epochs} epochs. Claim checked: at least **{c.speedup:g}x** faster with at most "
             f"**{c.max_accuracy_drop:g}** points less test accuracy, on {', '.join(c.on)}.", ""]
    lines += ["## Verdict", "", (f"**{a['verdict']}**" if a.get("verdict") else "No verdict: the bench has not run."), ""]
    acc_rows = a.get("accuracy") or []
    seeds = recipe.seed_list()
    if a.get("checks"):
        paired_text = {r["model"]: r["vs_base_text"] for r in acc_rows}
        lines += ["### Every variant against the claim", "",
                  claim_table(a["checks"], a["evals"], recipe.base, c.speedup, c.max_accuracy_drop, paired_text), "",
                  "A speed claim holds only when the lower bound of the 95% interval clears it; " + CLAIM_RULE + ". "
                  "`fastest` picks, per variant, the CPU runtime on which it runs fastest; the "
                  "speedup is always against the unpruned model on that same runtime, profile and thread count.", ""]
    lines += ["## Recommendation per target", "",
              *(recommendation_lines(a.get("recommendations", {})) or ["- not measured"]), "",
              f"Rule: {RECOMMEND_RULE}.", ""]
    if acc_rows:
        n = next((r["n"] for r in acc_rows if r.get("n")), None)
        lines += ["## Accuracy", "",
                  f"{n} test images" + (f", seeds {', '.join(map(str, seeds))} (seed {seeds[0]}'s models are the ones "
                                        "exported and timed; the data split is the same for every seed)"
                                        if len(seeds) > 1 else f", seed {seeds[0]}") + ".", "",
                  accuracy_table(acc_rows, recipe.base), "",
                  f"Intervals: 95% Wilson score for an accuracy; {RULE}" + (f"; {SEED_RULE}" if len(seeds) > 1 else "")
                  + ".", ""]
    if a.get("ranking"):
        lines += ["### Pruning criteria ranked by accuracy", "", *ranking_lines(a["ranking"]), ""]
    if a.get("pairwise") and len(a["pairwise"]) > 1:
        lines += ["### Every two pruned variants, paired on the same images", "", pairwise_table(a["pairwise"]), "",
                  "`*`: the difference is beyond noise (exact McNemar, 95%).", ""]
    if recipe.report.paper:
        lines += ["## The paper's table beside ours", "", published_table(recipe.report.paper, acc_rows, paper), ""]
        if recipe.report.paper_source:
            lines += [f"Published figures: {recipe.report.paper_source}.", ""]
        if recipe.report.paper_differs:
            lines += [f"What differs: {recipe.report.paper_differs.strip()}", ""]
    lines += ["## Models (the papers' table)", "",
              paper_table(paper) if paper else "No model has been evaluated yet.", "",
              "Accuracy on the test split with its 95% Wilson interval; TPR/TNR/FPR/FNR macro-averaged one-vs-rest; pruned params = "
              "1 − params/params of the base model; near-zero = weights with |w| < 1e-4; ONNX = simplified FP32 file.", ""]
    variants = {v.name: v for v in recipe.variants}
    if variants:
        lines += ["### How each variant was made", "", "| variant | from | how |", "|---|---|---|"]
        for name in recipe.names()[1:]:
            v = variants[name]
            how = (f"{v.method}, {', '.join(f'{k} {t:g}' for k, t in v.target().items())}"
                   f"{f' on {v.on}' if v.on else ''}, {v.steps} step(s) x "
                   f"{v.finetune_epochs} fine-tune epoch(s)" if v.kind == "prune"
                   else f"retrained {v.epochs if v.epochs is not None else recipe.train.epochs} epochs with "
                        f"{v.regularizer} (lambda {v.lam})")
            lines.append(f"| {name} | {v.parent} | {how}{'; ' + v.description if v.description else ''} |")
        lines.append("")
    if speedup_targets:
        lines += ["### Speedup-targeted variants: predicted and measured", "", speedup_target_table(speedup_targets), "",
                  "Predicted: the runtime's latency table (each layer profiled in a stand-in for its network); "
                  "measured: the pruned model timed against its parent on that runtime, interleaved, right after "
                  "pruning; efficiency = measured speedup / fewer MACs (as in the edge table).", ""]
    lines += ["## Edge table", "", edge_table(edge, recipe.names()) if edge else "The bench has not run.", "",
              "Speedup: ratio of medians vs the unpruned model on the same runtime, profile and threads, measured "
              "interleaved in one process, with a 95% bootstrap interval; fewer MACs is the ideal speedup, "
              "efficiency = measured / ideal.", ""]
    lines += ["## Figures", ""]
    captions = {"loss": "Training and validation loss, best epoch marked",
                "confusion": "Confusion matrices", "filters": "Filters pruned per layer",
                "predictions": "Sample predictions (blue right, red wrong)", "p50": "p50 latency per runtime",
                "pareto": "Accuracy vs MACs (Pareto front)", "speedup": "Measured speedup vs MACs ratio",
                "pareto_latency": "Accuracy vs measured p50 latency, one panel per runtime, profile and threads "
                                  "(Pareto front; circles: MACs target, diamonds: speedup target)"}
    for key, path in figs.items():
        lines += [f"### {captions[key]}", "", f"![{captions[key]}]({path.relative_to(root).as_posix()})", ""]
    env = a.get("env") or {}
    if env:
        lines += ["## Environment", "", "```", *(f"{k}: {v}" for k, v in _flat(env)), "```", ""]
    lines += ["## Stages", "", "| stage | seconds | runs | finished |", "|---|---:|---:|---|"]
    lines += [f"| {n} | {rec.seconds:.1f} | {rec.runs} | {rec.finished} |" for n, rec in run.stages.items()]
    return "\n".join(lines) + "\n"


def _speedup_targeted(root: Path, recipe) -> dict[str, tuple[Any, Any]]:
    """Each speedup-targeted variant that has been pruned: its recipe section and its PruneResult (prune.json)."""
    from edgeprune.pruning.result import PruneResult

    out = {}
    for v in recipe.variants:
        folder = Layout(root).model_dir(v.name)
        if v.on is not None and (folder / "prune.json").exists():
            out[v.name] = (v, PruneResult.read(folder))
    return out


def target_kinds(recipe) -> dict[str, str]:
    """Model -> how it was aimed, as the latency Pareto figure marks it: base, speedup, macs or other."""
    kinds = {recipe.base: "base"}
    for v in recipe.variants:
        kinds[v.name] = "speedup" if v.on is not None else "macs" if v.target_macs is not None else "other"
    return kinds


def base_words(recipe) -> str:
    """The base model's label."""
    return recipe.base


def _flat(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if dataclasses.is_dataclass(d):
        d = dataclasses.asdict(d)
    if not isinstance(d, dict):
        return [(prefix or "value", d)]
    out = []
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out += _flat(v, key)
        elif isinstance(v, list) and len(v) > 12:
            out.append((key, f"{v[:12]} ..."))
        else:
            out.append((key, v))
    return out


__all__ = ["FIGURES", "render_report"]
