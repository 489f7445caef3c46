"""Markdown tables of the report: the paper table per model, the edge table, claims, recommendations."""

from __future__ import annotations

from typing import Any

from edgeprune.report.analysis import (
    BACKEND_NAMES,
    INT8_SUFFIX,
    describe,
    drop_points,
    p50,
    p90,
    row_label,
    row_ok,
    speedup,
    threads,
)


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
        })
    return out


def paper_table(rows: list[dict[str, Any]]) -> str:
    """The seed papers' table, with MACs added."""
    body = [[r["model"], f"{r['accuracy']:.4f}", _r(r["tpr"]), _r(r["tnr"]), _r(r["fpr"]), _r(r["fnr"]), f"{r['params']:,}", _m(r["macs"]), f"{r['macs_ratio']:.2f}x", _bytes(r["onnx_bytes"]),
             _bytes(r["checkpoint_bytes"]), f"{100 * r['pruned_ratio']:.1f}%",
             "–" if r["near_zero"] is None else f"{100 * r['near_zero']:.2f}%"]
            for r in rows]
    return _table(["model", "accuracy", "TPR", "TNR", "FPR", "FNR", "params", "MACs", "fewer MACs", "ONNX",
                   "checkpoint", "pruned params", "near-zero"], "lrrrrrrrrrrrr", body)


def edge_rows(rows: list[dict[str, Any]], evals: dict[str, dict[str, Any]], base: str) -> list[dict[str, Any]]:
    """Bench rows reduced to what the edge table shows, with the MACs ratio and efficiency."""
    out = []
    base_macs = evals.get(base, {}).get("macs")
    for r in rows:
        label = row_label(r)
        s, lo, hi = speedup(r)
        macs = evals.get(label, {}).get("macs")
        ideal = (base_macs / macs) if base_macs and macs else None
        out.append({
            "model": label, "backend": r.get("backend"), "profile": r.get("profile"), "threads": threads(r),
            "precision": r.get("precision"), "status": r.get("status"), "reason": r.get("reason") or r.get("error"),
            "p50_ms": p50(r), "p90_ms": p90(r), "speedup": s, "low": lo, "high": hi, "macs_ratio": ideal,
            "efficiency": (s / ideal) if s and ideal else None, "ok": row_ok(r),
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
        body.append([r["model"], BACKEND_NAMES.get(str(r["backend"]), str(r["backend"])), str(r["profile"]),
                     str(r["threads"] or "–"), "✅", f"{r['p50_ms']:.3f}", f"{r['p90_ms']:.3f}" if r["p90_ms"] else "–", sp,
                     f"{r['macs_ratio']:.2f}x" if r["macs_ratio"] else "–",
                     f"{r['efficiency']:.2f}" if r["efficiency"] else "–"])
    return _table(["model", "runtime", "profile", "threads", "status", "p50 ms", "p90 ms", "speedup [95% CI]",
                   "fewer MACs", "efficiency"], "llllrrrrrr", body)


def claim_table(checks: dict[str, list[dict[str, Any]]], evals, base: str, claim: float, max_drop: float) -> str:
    """Every pruned variant against the claim (speed and accuracy), per claimed (runtime, profile)."""
    body = []
    for name, items in checks.items():
        drop = drop_points(evals, base, name)
        for x in items:
            if x.get("speedup") is None:
                body.append([name, f"{x.get('asked', x['backend'])} {x['profile']}", "–", "–", f"{drop:+.1f}", "not measured"])
                continue
            body.append([name, x["where"], f"{x['speedup']:.2f}x", f"[{x['low']:.2f}, {x['high']:.2f}]",
                         f"{drop:+.1f}", _verdict(x["holds"], drop <= max_drop + 1e-9)])
    return _table(["variant", "measured on", "speedup", "95% CI", "accuracy drop (pts)",
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
        runtime = BACKEND_NAMES.get(str(r["backend"]), str(r["backend"]))
        vs = ""
        if r.get("vs_best_unpruned"):
            vs = f", {r['vs_best_unpruned']:.2f}x faster than the best unpruned setup ({r['best_unpruned']})"
        acc = f", accuracy {100 * r['accuracy']:.1f}%" if r.get("accuracy") is not None else ""
        lines.append(f"- **{r['target']}**: ship **{r['variant']}** on **{runtime}** with {t} thread"
                     f"{'s' if t != 1 else ''}: p50 {r['p50_ms']:.3f} ms{acc}{vs}.")
    return lines


__all__ = ["claim_table", "describe", "edge_rows", "edge_table", "paper_rows", "paper_table", "recommendation_lines"]
