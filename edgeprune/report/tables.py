"""Markdown tables of the report: the paper table per model, the edge table, claims, recommendations."""

from __future__ import annotations

from typing import Any

from edgeprune.accuracy import points
from edgeprune.bench.backends import display_name
from edgeprune.bench.rows import BenchRow
from edgeprune.report.accuracy import interval_of
from edgeprune.report.analysis import INT8_SUFFIX, describe, drop_points


def _table(header: list[str], align: str, rows: list[list[str]]) -> str:
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _bytes(n: int | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return "–"  # pragma: no cover


def _r(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _m(n: int | None) -> str:
    return "–" if n is None else (f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.1f} k")


def paper_rows(evals: dict[str, dict[str, Any]], base: str, onnx_bytes: dict[str, int]) -> list[dict[str, Any]]:
    """One row per model: accuracy, rates, params, MACs, file sizes, pruned and near-zero ratios."""
    b = evals[base]
    out = []
    for name, e in evals.items():
        int8 = name.endswith(INT8_SUFFIX)
        out.append({
            "model": name, "accuracy": e["accuracy"], "tpr": e["tpr"], "tnr": e["tnr"], "fpr": e["fpr"], "fnr": e["fnr"],
            "params": e["params"], "macs": e["macs"], "checkpoint_bytes": e.get("checkpoint_bytes"),
            "onnx_bytes": onnx_bytes.get(name), "pruned_ratio": 1.0 - e["params"] / b["params"],
            "macs_ratio": b["macs"] / e["macs"], "near_zero": e["near_zero"],
            "method": "INT8 (onnxruntime QDQ)" if int8 else e.get("provenance", {}).get("method", "trained" if name == base else "?"),
            "accuracy_drop_points": drop_points(evals, base, name),
            "interval": interval_of(e),
        })
    return out


def paper_table(rows: list[dict[str, Any]]) -> str:
    """The seed papers' table, with MACs added."""
    body = [[r["model"], r.get("interval") or f"{r['accuracy']:.4f}", _r(r["tpr"]), _r(r["tnr"]), _r(r["fpr"]), _r(r["fnr"]), f"{r['params']:,}", _m(r["macs"]), f"{r['macs_ratio']:.2f}x", _bytes(r["onnx_bytes"]),
             _bytes(r["checkpoint_bytes"]), f"{100 * r['pruned_ratio']:.1f}%",
             "–" if r["near_zero"] is None else f"{100 * r['near_zero']:.2f}%"]
            for r in rows]
    return _table(["model", "accuracy", "TPR", "TNR", "FPR", "FNR", "params", "MACs", "fewer MACs", "ONNX",
                   "checkpoint", "pruned params", "near-zero"], "lrrrrrrrrrrrr", body)


def efficiency(speedup: float | None, macs_ratio: float | None) -> float | None:
    """Measured speedup over the ideal one, the MACs ratio (1: time fell as fast as the MACs did)."""
    return speedup / macs_ratio if speedup and macs_ratio else None


def edge_rows(rows: list[BenchRow], evals: dict[str, dict[str, Any]], base: str) -> list[dict[str, Any]]:
    """Bench rows reduced to what the edge table shows, with the MACs ratio and efficiency."""
    out = []
    base_macs = evals.get(base, {}).get("macs")
    for r in rows:
        s = r.speedup_vs_baseline
        macs = evals.get(r.variant, {}).get("macs")
        ideal = (base_macs / macs) if base_macs and macs else None
        out.append({
            "model": r.variant, "backend": r.backend, "profile": r.profile, "threads": r.threads,
            "precision": r.precision, "status": r.status, "reason": r.reason,
            "p50_ms": r.p50_ms, "p90_ms": r.p90_ms, "speedup": s, "low": r.speedup_ci_low, "high": r.speedup_ci_high,
            "macs_ratio": ideal, "efficiency": efficiency(s, ideal), "ok": r.ok,
        })
    return out


def edge_table(rows: list[dict[str, Any]], names: list[str] | None = None) -> str:
    """p50/p90 per backend and profile, speedup with interval, MACs ratio, efficiency (models in ``names`` order)."""
    rank = {n: i for i, n in enumerate(names or [])}
    order = sorted(rows, key=lambda r: (str(r["profile"]), str(r["backend"]), r["threads"] or 0,
                                        rank.get(str(r["model"]).removesuffix(INT8_SUFFIX), len(rank)),
                                        str(r["model"])))
    body = []
    for r in order:
        if not r["ok"]:
            body.append([r["model"], str(r["backend"]), str(r["profile"]), str(r["threads"] or "–"), "❌", "–", "–",
                         f"{r['reason'] or r['status']}"[:60], "–", "–"])
            continue
        sp = "–" if r["speedup"] is None else (
            f"{r['speedup']:.2f}x [{r['low']:.2f}, {r['high']:.2f}]" if r["low"] is not None else f"{r['speedup']:.2f}x")
        body.append([r["model"], display_name(str(r["backend"])), str(r["profile"]),
                     str(r["threads"] or "–"), "✅", f"{r['p50_ms']:.3f}", f"{r['p90_ms']:.3f}" if r["p90_ms"] else "–", sp,
                     f"{r['macs_ratio']:.2f}x" if r["macs_ratio"] else "–",
                     f"{r['efficiency']:.2f}" if r["efficiency"] else "–"])
    return _table(["model", "runtime", "profile", "threads", "status", "p50 ms", "p90 ms", "speedup [95% CI]",
                   "fewer MACs", "efficiency"], "llllrrrrrr", body)


def speedup_target_rows(results: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """One row per speedup-targeted variant (name -> (its recipe variant, its PruneResult)): the target, the
    latency table's prediction, the speedup measured against its parent right after pruning, the MACs ratio and
    the efficiency of that measured speedup."""
    out = []
    for name, (v, r) in results.items():
        lat = r.latency or {}
        ver = lat.get("verified") or {}
        fewer = 1.0 / r.macs_kept if r.macs_kept else None
        out.append({"model": name, "on": v.on, "target_speedup": v.target_speedup,
                    "predicted_speedup": lat.get("predicted_speedup"), "speedup": ver.get("speedup"),
                    "speedup_ci": ver.get("speedup_ci"), "macs_kept": r.macs_kept, "macs_ratio": fewer,
                    "efficiency": efficiency(ver.get("speedup"), fewer)})
    return out


def speedup_target_table(rows: list[dict[str, Any]]) -> str:
    """The speedup-targeted variants: target, predicted, measured (95% CI), MACs kept and ratio, efficiency."""
    body = [[r["model"], str(r["on"]), f"{r['target_speedup']:g}x",
             "–" if r["predicted_speedup"] is None else f"{r['predicted_speedup']:.2f}x",
             "not measured" if r["speedup"] is None else
             f"{r['speedup']:.2f}x [{r['speedup_ci'][0]:.2f}, {r['speedup_ci'][1]:.2f}]",
             f"{r['macs_kept']:.1%}", f"{r['macs_ratio']:.2f}x" if r["macs_ratio"] else "–",
             f"{r['efficiency']:.2f}" if r["efficiency"] else "–"] for r in rows]
    return _table(["variant", "on", "target", "predicted", "measured (95% CI)", "MACs kept", "fewer MACs",
                   "efficiency"], "llrrrrrr", body)


def claim_table(checks: dict[str, list[dict[str, Any]]], evals, base: str, claim: float, max_drop: float,
                paired_text: dict[str, str] | None = None) -> str:
    """Every pruned variant against the claim (speed and accuracy), per claimed (runtime, profile)."""
    body = []
    paired_text = paired_text or {}
    for name, items in checks.items():
        drop = drop_points(evals, base, name)
        acc = paired_text.get(name, f"{points(-drop / 100)} pt")
        for x in items:
            if x.get("speedup") is None:
                body.append([name, f"{x.get('asked', x['backend'])} {x['profile']}", "–", "–", acc, "not measured"])
                continue
            body.append([name, x["where"], f"{x['speedup']:.2f}x", f"[{x['low']:.2f}, {x['high']:.2f}]",
                         acc, _verdict(x["holds"], drop <= max_drop + 1e-9)])
    return _table(["variant", "measured on", "speedup", "95% CI", f"accuracy vs {base} (paired)",
                   f"≥ {claim:g}x, ≤ {max_drop:g} pts"], "llrrrl", body)


def _verdict(fast: bool, accurate: bool) -> str:
    if fast and accurate:
        return "holds"
    return "does not hold: " + (" and ".join(w for w, bad in (("too slow", not fast), ("too inaccurate", not accurate))
                                             if bad))


def recommendation_lines(recs: dict[str, dict[str, Any]]) -> list[str]:
    """One bullet per target."""
    lines = []
    for r in recs.values():
        if r.get("status") == "not measured":
            lines.append(f"- **{r['target']}**: not measured in this run.")
            continue
        t = r["threads"]
        runtime = display_name(str(r["backend"]))
        vs = ""
        if r.get("vs_best_unpruned"):
            vs = f", {r['vs_best_unpruned']:.2f}x faster than the best unpruned setup ({r['best_unpruned']})"
        acc = f", accuracy {100 * r['accuracy']:.1f}%" if r.get("accuracy") is not None else ""
        line = (f"- **{r['target']}**: ship **{r['variant']}** on **{runtime}** with {t} thread"
                f"{'s' if t != 1 else ''}: p50 {r['p50_ms']:.3f} ms{acc}{vs}.")
        if r.get("ties"):
            line += (f" Tied in accuracy (within noise, paired) with {', '.join(r['ties'])}: picked as the fastest "
                     "of them.")
        if r.get("random"):
            name, text = r["random"]
            line += (f" **Its accuracy is within noise of random pruning** ({name}: {text}): on this data the "
                     "pruning criterion is not shown to matter; any of these models is as good a choice.")
        lines.append(line)
    return lines


def accuracy_table(rows: list[dict[str, Any]], base: str) -> str:
    """Accuracy with its interval, the paired difference against the base, and the seeds."""
    seeded = any(r["seeds"] for r in rows)
    header = ["model", "test accuracy [95% CI]", f"vs {base}, paired [95% CI]"]
    if seeded:
        header += ["mean ± sd over seeds", "per seed"]
    body = []
    for r in rows:
        cells = [r["model"], r["interval"], r["vs_base_text"]]
        if seeded:
            cells += [f"{100 * r['mean']:.1f} ± {100 * r['sd']:.1f}" if r["sd"] is not None else "–",
                      ", ".join(f"{100 * v:.1f}" for v in r["seeds"].values()) if r["seeds"] else "–"]
        body.append(cells)
    return _table(header, "l" + "r" * (len(header) - 1), body)


def pairwise_table(pairs: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Row minus column in accuracy points, paired; ``*`` marks a difference beyond noise."""
    names = list(pairs)
    body = []
    for a in names:
        cells = [a]
        for b in names:
            x = pairs[a].get(b)
            cells.append("·" if a == b else ("–" if x is None else f"{points(x['diff'])}{'*' if x['distinguishable'] else ''}"))
        body.append(cells)
    return _table(["row − column (pts)", *names], "l" + "r" * len(names), body)


def ranking_lines(rank: list[dict[str, Any]]) -> list[str]:
    """Criteria by mean accuracy, each against the best and against random pruning."""
    lines = []
    for i, r in enumerate(rank, 1):
        words = "the most accurate" if r["best"] else (
            f"{'tied with the best' if r['tied_with_best'] else 'below the best'}: {r['vs_best']}")
        for name, x in (r.get("vs_random") or {}).items():
            words += f"; vs {name}: {x['text']}"
        lines.append(f"{i}. **{r['model']}** {100 * r['mean']:.1f}% — {words}")
    return lines


def published_table(paper: dict[str, dict[str, float]], acc_rows: list[dict[str, Any]],
                    models: list[dict[str, Any]]) -> str:
    """The published figures beside ours, model by model."""
    acc = {r["model"]: r for r in acc_rows}
    removed = {r["model"]: r["pruned_ratio"] for r in models}
    body = []
    for name, p in paper.items():
        ours = acc.get(name)
        body.append([name, f"{100 * p['accuracy']:.1f}%",
                     (ours["interval"] + (f" (mean {100 * ours['mean']:.1f})" if ours["sd"] is not None else ""))
                     if ours else "not in this run",
                     f"{100 * p['params_removed']:.1f}%" if "params_removed" in p else "–",
                     f"{100 * removed[name]:.1f}%" if name in removed else "–"])
    return _table(["model", "paper accuracy", "edgeprune accuracy [95% CI]", "paper params removed",
                   "edgeprune params removed"], "lrrrr", body)


__all__ = ["accuracy_table", "claim_table", "describe", "edge_rows", "edge_table", "efficiency", "pairwise_table",
           "paper_rows", "paper_table", "published_table", "ranking_lines", "recommendation_lines",
           "speedup_target_rows", "speedup_target_table"]
