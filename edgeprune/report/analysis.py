"""From a finished run to answers: the best variant, the claim verdict, a recommendation per target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeprune.fileio import read_json
from edgeprune.report.accuracy import (
    INT8_SUFFIX,
    accuracy_rows,
    distinguishable,
    mean_accuracy,
    pairwise,
    pruned,
    ranking,
    seed_comparisons,
    vs_text,
    within_noise_of_random,
)

CPU_BACKENDS = ("torch", "ort", "openvino")
BACKEND_NAMES = {"ort": "onnxruntime", "openvino": "OpenVINO", "torch": "PyTorch", "web": "onnxruntime-web"}


# ---------------------------------------------------------------- row access (bench.json rows)
def row_label(row: dict[str, Any]) -> str:
    """The model label of a bench row (the variant name; INT8 rows end in -int8)."""
    return str(row.get("label") or row.get("variant") or row.get("model") or "?")


def row_ok(row: dict[str, Any]) -> bool:
    """True for a measured row (not a failed one)."""
    status = str(row.get("status", "ok")).lower()
    return status in ("ok", "✅", "pass", "passed", "success") and p50(row) is not None


def p50(row: dict[str, Any]) -> float | None:
    """Median latency in ms."""
    for key in ("p50_ms", "p50"):
        if row.get(key) is not None:
            return float(row[key])
    return None


def p90(row: dict[str, Any]) -> float | None:
    """90th percentile latency in ms."""
    for key in ("p90_ms", "p90"):
        if row.get(key) is not None:
            return float(row[key])
    return None


def speedup(row: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """Speedup vs the baseline on the same backend/profile/threads, with its 95% interval."""
    value = row.get("speedup_vs_baseline", row.get("speedup"))
    if isinstance(value, dict):
        lo, hi = value.get("low", value.get("lo")), value.get("high", value.get("hi"))
        value = value.get("value", value.get("ratio"))
    else:
        ci = row.get("speedup_ci") or row.get("speedup_interval") or row.get("speedup_ci95")
        lo, hi = (ci[0], ci[1]) if isinstance(ci, (list, tuple)) and len(ci) == 2 else (
            row.get("speedup_low", row.get("speedup_lo")), row.get("speedup_high", row.get("speedup_hi")))
    return _num(value), _num(lo), _num(hi)


def _num(x: Any) -> float | None:
    return float(x) if x is not None else None


def threads(row: dict[str, Any]) -> int | None:
    """Thread count of a row."""
    t = row.get("threads")
    return int(t) if t is not None else None


# ---------------------------------------------------------------- loading
def load_bench(run_root: Path) -> dict[str, Any]:
    """bench.json of the run, each row labelled with its model's name (``labels.json``: path -> name)."""
    p = run_root / "bench" / "bench.json"
    if not p.exists():
        return {"rows": [], "env": {}}
    data = read_json(p)
    lp = run_root / "bench" / "labels.json"
    labels = read_json(lp) if lp.exists() else {}
    data["rows"] = [{**r, "label": labels.get(r.get("model"), r.get("variant"))} for r in data.get("rows", [])]
    return data


def load_evals(run_root: Path, names: list[str], seeds: list[int] | None = None) -> dict[str, dict[str, Any]]:
    """eval.json of every model (and INT8 accuracy from export.json as NAME-int8).

    With repeat ``seeds`` (the primary seed first), each model also carries ``seed_evals`` (seed ->
    eval.json) and ``accuracy_mean``, the mean over the seeds that have finished.
    """
    out: dict[str, dict[str, Any]] = {}
    seeds = seeds or []
    for name in names:
        p = run_root / "models" / name / "eval.json"
        if p.exists():
            out[name] = read_json(p)
        if name in out and len(seeds) > 1:
            per_seed = {seeds[0]: out[name]}
            for s in seeds[1:]:
                q = run_root / "seeds" / f"seed-{s}" / name / "eval.json"
                if q.exists():
                    per_seed[s] = read_json(q)
            out[name]["seed_evals"] = per_seed
            out[name]["accuracy_mean"] = sum(e["accuracy"] for e in per_seed.values()) / len(per_seed)
        e = run_root / "export" / name / "export.json"
        if name in out and e.exists():
            info = read_json(e)
            acc = int8_accuracy(info)
            if acc is not None:
                int8 = {k: v for k, v in out[name].items() if k not in ("seed_evals", "accuracy_mean")}
                pred = ((info.get("accuracy") or {}).get("predictions") or {}).get("ort_int8")
                n = (info.get("accuracy") or {}).get("n")
                out[name + INT8_SUFFIX] = {**int8, "name": name + INT8_SUFFIX, "accuracy": acc, "int8": True,
                                           "confusion": None, "tpr": None, "tnr": None, "fpr": None, "fnr": None,
                                           "near_zero": None, "checkpoint_bytes": None, "n": n or int8.get("n"),
                                           "test_pred": pred,
                                           "test_true": (info.get("accuracy") or {}).get("labels") if pred else None}
    return out



def int8_accuracy(export_info: dict[str, Any]) -> float | None:
    """Test accuracy of the INT8 model from export.json, when it was measured (ExportResult's one field)."""
    from edgeprune.export.result import ExportResult

    return ExportResult.from_dict(export_info).int8_accuracy


# ---------------------------------------------------------------- analysis
def drop_points(evals: dict[str, dict[str, Any]], base: str, name: str) -> float:
    """Accuracy lost vs the base model, in percentage points (negative: gained): the point estimate of the
    paired difference on the same test images, averaged over seeds when there are several."""
    return 100.0 * (mean_accuracy(evals[base]) - mean_accuracy(evals[name]))



def eligible(evals: dict[str, dict[str, Any]], base: str, max_drop: float) -> list[str]:
    """Pruned variants within ``max_drop`` points of the base's test accuracy."""
    return [n for n in pruned(evals, base) if drop_points(evals, base, n) <= max_drop + 1e-9]


def claim_row(rows: list[dict[str, Any]], label: str, backend: str, profile: str) -> dict[str, Any] | None:
    """The row a claim on (backend, profile) reads for ``label``: its fastest thread count.

    ``backend = "fastest"`` picks the CPU runtime on which ``label`` runs fastest in that profile.
    """
    pool = [r for r in rows if row_label(r) == label and r.get("profile") == profile and row_ok(r)
            and (r.get("backend") in CPU_BACKENDS if backend == "fastest" else r.get("backend") == backend)]
    pool = [r for r in pool if speedup(r)[0] is not None]
    return min(pool, key=lambda r: p50(r) or float("inf")) if pool else None


def describe(row: dict[str, Any]) -> str:
    """``onnxruntime lowpower 1 thread``."""
    t = threads(row)
    name = BACKEND_NAMES.get(str(row.get("backend")), str(row.get("backend")))
    return f"{name} {row.get('profile')} {t} thread{'s' if t != 1 else ''}" if t else f"{name} {row.get('profile')}"


def claim_checks(rows, evals, recipe) -> dict[str, list[dict[str, Any]]]:
    """Per variant: one check per claimed (backend, profile) with speedup, interval and verdict."""
    c = recipe.claim
    out: dict[str, list[dict[str, Any]]] = {}
    for name in pruned(evals, recipe.base):
        checks = []
        for backend, profile in c.pairs():
            row = claim_row(rows, name, backend, profile)
            if row is None:
                checks.append({"backend": backend, "profile": profile, "status": "not measured"})
                continue
            s, lo, hi = speedup(row)
            checks.append({"backend": row.get("backend"), "asked": backend, "profile": profile,
                           "threads": threads(row), "speedup": s, "low": lo, "high": hi, "p50_ms": p50(row),
                           "where": describe(row),
                           "holds": bool(lo is not None and lo >= c.speedup)})
        out[name] = checks
    return out


def analyse(run, recipe) -> dict[str, Any]:
    """Everything the report states: evals, rows, claim checks, best variant, verdict, recommendations."""
    root = Path(run.root)
    names = recipe.names()
    evals = load_evals(root, names, recipe.seed_list())
    bench = load_bench(root)
    rows = bench["rows"]
    result: dict[str, Any] = {"evals": evals, "rows": rows, "env": bench.get("env", {}),
                              "base": recipe.base, "best": None, "verdict": None, "holds": None}
    if recipe.base not in evals:
        return result
    c = recipe.claim
    checks = claim_checks(rows, evals, recipe)
    ok = eligible(evals, recipe.base, c.max_accuracy_drop)
    result["checks"] = checks
    result["eligible"] = ok

    def strength(name: str) -> tuple[int, float, float]:
        """Claims that hold, then the weakest measured interval bound, then accuracy."""
        items = checks.get(name, [])
        lows = [x["low"] for x in items if x.get("low") is not None]
        return (sum(1 for x in items if x.get("holds")), min(lows) if lows else -1.0, evals[name]["accuracy"])

    ranked = sorted(ok, key=strength, reverse=True)
    if not ranked:  # nothing within the accuracy bound: the verdict speaks of the most accurate pruned model
        ranked = sorted(checks, key=lambda n: (mean_accuracy(evals[n]), strength(n)), reverse=True)
    best = ranked[0] if ranked else None
    result["best"] = best
    if best is not None:
        holds = (best in ok and bool(checks.get(best)) and all(x.get("holds") for x in checks[best]))
        result["holds"] = holds
        result["verdict"] = verdict_sentence(best, checks[best], evals, recipe, holds)
    result["recommendations"] = recommend(rows, evals, recipe)
    result["accuracy"] = accuracy_rows(evals, recipe.base)
    result["pairwise"] = pairwise(evals, recipe.base)
    result["ranking"] = ranking(evals, recipe.base)
    return result


def verdict_sentence(best: str, checks: list[dict[str, Any]], evals, recipe, holds: bool) -> str:
    """``HSQGL12-OBD: 3.4x faster on onnxruntime lowpower 1 thread [3.1, 3.7] ...; claim 3.0: holds``."""
    parts = []
    for x in checks:
        if x.get("speedup") is None:
            parts.append(f"not measured on {x['asked'] if 'asked' in x else x['backend']} {x['profile']}")
        else:
            parts.append(f"{x['speedup']:.2f}x faster on {x['where']} [{_f(x['low'])}, {_f(x['high'])}]")
    drop = drop_points(evals, recipe.base, best)
    diffs = seed_comparisons(evals[recipe.base], evals[best])
    acc = (f"{abs(drop):.1f} points {'less' if drop >= 0 else 'more'} accurate "
           f"({100 * mean_accuracy(evals[best]):.1f}% vs {100 * mean_accuracy(evals[recipe.base]):.1f}%"
           + (f"; paired: {vs_text(diffs)}" if diffs else "") + ")")
    c = recipe.claim
    return (f"{best}: {', '.join(parts)}; {acc}; claim {c.speedup:g}x with at most {c.max_accuracy_drop:g} points "
            f"less accuracy: {'holds' if holds else 'does not hold'}.")


def _f(x: float | None) -> str:
    return "?" if x is None else f"{x:.2f}"


TARGETS = {
    "desktop": ("desktop", CPU_BACKENDS, "desktop CPU (all cores)"),
    "lowpower-ort": ("lowpower", ("ort",), "low-power board with onnxruntime only (what the device bundle ships)"),
    "lowpower-any": ("lowpower", CPU_BACKENDS, "low-power x86 box, any runtime"),
    "browser": (None, ("web",), "browser (onnxruntime-web, wasm)"),
}


RECOMMEND_RULE = ("per target, the setup with the lowest measured p50 among the models within the accuracy bound; "
                  "models whose accuracy is within noise of it are named as ties (broken by speed)")


def recommend(rows, evals, recipe) -> dict[str, dict[str, Any]]:
    """Per target: the fastest measured (variant, runtime, threads) within the accuracy bound, with its ties."""
    bound = recipe.claim.max_accuracy_drop
    ok = {n for n in evals if not n.endswith(INT8_SUFFIX) and drop_points(evals, recipe.base, n) <= bound + 1e-9}
    ok |= {n for n in evals if n.endswith(INT8_SUFFIX) and drop_points(evals, recipe.base, n) <= bound + 1e-9}
    out: dict[str, dict[str, Any]] = {}
    for target, (profile, backends, words) in TARGETS.items():
        pool = [r for r in rows if row_ok(r) and r.get("backend") in backends
                and (profile is None or r.get("profile") == profile) and row_label(r) in ok]
        if not pool:
            out[target] = {"target": words, "status": "not measured"}
            continue
        r = min(pool, key=lambda r: p50(r) or float("inf"))
        label = row_label(r)
        s, lo, hi = speedup(r)
        base_rows = [b for b in rows if row_label(b) == recipe.base and row_ok(b) and b.get("backend") in backends
                     and (profile is None or b.get("profile") == r.get("profile"))]
        fastest_base = min(base_rows, key=lambda b: p50(b) or float("inf")) if base_rows else None
        ties = sorted({row_label(x) for x in pool if row_label(x) != label and label in evals and row_label(x) in evals
                       and distinguishable(seed_comparisons(evals[label], evals[row_label(x)])) is False})
        out[target] = {
            "target": words, "variant": label, "backend": r.get("backend"), "threads": threads(r),
            "ties": ties, "random": within_noise_of_random(evals, recipe.base, label),
            "profile": r.get("profile"), "p50_ms": p50(r), "p90_ms": p90(r), "speedup": s, "low": lo, "high": hi,
            "accuracy": evals[label]["accuracy"] if label in evals else None,
            "vs_best_unpruned": (p50(fastest_base) / p50(r)) if fastest_base and p50(r) else None,
            "best_unpruned": describe(fastest_base) if fastest_base else None,
        }
    return out
