"""From a finished run to answers: the best variant, the claim verdict, a recommendation per target."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from edgeprune.bench.backends import CPU_BACKENDS, display_name
from edgeprune.bench.claims import ClaimCheck, check_claims
from edgeprune.bench.rows import BenchReport, BenchRow
from edgeprune.export.result import ExportResult
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
from edgeprune.run import Layout


# ---------------------------------------------------------------- loading
def load_bench(run_root: Path) -> BenchReport:
    """bench.json of the run as a BenchReport, each row's ``variant`` the model's name (``labels.json``: path -> name)."""
    p = Layout(run_root).bench_dir() / "bench.json"
    if not p.exists():
        return BenchReport(rows=[], env={}, settings={})
    report = BenchReport.from_dict(read_json(p))
    lp = Layout(run_root).bench_dir() / "labels.json"
    labels = read_json(lp) if lp.exists() else {}
    report.rows = [dataclasses.replace(r, variant=labels.get(r.model, r.variant)) for r in report.rows]
    return report


def describe(row: BenchRow | ClaimCheck) -> str:
    """``onnxruntime lowpower 1 thread``: of a row, a claim check, or anything with backend, profile and threads."""
    t = row.threads
    name = display_name(row.backend)
    return f"{name} {row.profile} {t} thread{'s' if t != 1 else ''}" if t else f"{name} {row.profile}"


def load_evals(run_root: Path, names: list[str], seeds: list[int] | None = None) -> dict[str, dict[str, Any]]:
    """eval.json of every model (and INT8 accuracy from export.json as NAME-int8).

    With repeat ``seeds`` (the primary seed first), each model also carries ``seed_evals`` (seed ->
    eval.json) and ``accuracy_mean``, the mean over the seeds that have finished.
    """
    out: dict[str, dict[str, Any]] = {}
    seeds = seeds or []
    for name in names:
        p = Layout(run_root).model_dir(name) / "eval.json"
        if p.exists():
            out[name] = read_json(p)
        if name in out and len(seeds) > 1:
            per_seed = {seeds[0]: out[name]}
            for s in seeds[1:]:
                q = Layout(run_root).model_dir(name, s) / "eval.json"
                if q.exists():
                    per_seed[s] = read_json(q)
            out[name]["seed_evals"] = per_seed
            out[name]["accuracy_mean"] = sum(e["accuracy"] for e in per_seed.values()) / len(per_seed)
        exported = ExportResult.read(Layout(run_root).export_dir(name)) if name in out else None
        if exported is not None and exported.int8_accuracy is not None and "int8" in exported.verified():
            int8 = {k: v for k, v in out[name].items() if k not in ("seed_evals", "accuracy_mean")}
            pred = exported.predictions("ort_int8")
            out[name + INT8_SUFFIX] = {**int8, "name": name + INT8_SUFFIX, "accuracy": exported.int8_accuracy,
                                       "int8": True, "confusion": None, "tpr": None, "tnr": None, "fpr": None,
                                       "fnr": None, "near_zero": None, "checkpoint_bytes": None,
                                       "n": exported.test_n or int8.get("n"), "test_pred": pred,
                                       "test_true": exported.test_labels if pred else None}
    return out


# ---------------------------------------------------------------- analysis
def drop_points(evals: dict[str, dict[str, Any]], base: str, name: str) -> float:
    """Accuracy lost vs the base model, in percentage points (negative: gained): the point estimate of the
    paired difference on the same test images, averaged over seeds when there are several."""
    return 100.0 * (mean_accuracy(evals[base]) - mean_accuracy(evals[name]))



def eligible(evals: dict[str, dict[str, Any]], base: str, max_drop: float) -> list[str]:
    """Pruned variants within ``max_drop`` points of the base's test accuracy."""
    return [n for n in pruned(evals, base) if drop_points(evals, base, n) <= max_drop + 1e-9]


def claim_checks(rows: list[BenchRow], evals, recipe) -> dict[str, list[dict[str, Any]]]:
    """Per pruned variant: one check per claimed (backend, profile), from the bench's claim checker."""
    names = pruned(evals, recipe.base)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for c in check_claims(rows, recipe.claim, variants=names):
        out[c.variant].append(check_entry(c))
    return out


def check_entry(c: ClaimCheck) -> dict[str, Any]:
    """A check as report.json states it: where it was measured, the speedup with its interval, holds or not."""
    if not c.measured:
        return {"backend": c.asked, "profile": c.profile, "status": "not measured"}
    return {"backend": c.backend, "asked": c.asked, "profile": c.profile, "threads": c.threads, "speedup": c.speedup,
            "low": c.ci_low, "high": c.ci_high, "p50_ms": c.p50_ms, "where": describe(c), "holds": c.passed}


def analyse(run, recipe) -> dict[str, Any]:
    """Everything the report states: evals, rows, claim checks, best variant, verdict, recommendations."""
    root = Path(run.root)
    names = recipe.names()
    evals = load_evals(root, names, recipe.seed_list())
    bench = load_bench(root)
    rows = bench.rows
    result: dict[str, Any] = {"evals": evals, "rows": rows, "env": bench.env,
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


def recommend(rows: list[BenchRow], evals, recipe) -> dict[str, dict[str, Any]]:
    """Per target: the fastest measured (variant, runtime, threads) within the accuracy bound, with its ties."""
    bound = recipe.claim.max_accuracy_drop
    ok = {n for n in evals if drop_points(evals, recipe.base, n) <= bound + 1e-9}
    out: dict[str, dict[str, Any]] = {}
    for target, (profile, backends, words) in TARGETS.items():
        pool = [r for r in rows if r.ok and r.backend in backends and (profile is None or r.profile == profile)
                and r.variant in ok]
        if not pool:
            out[target] = {"target": words, "status": "not measured"}
            continue
        r = _fastest(pool)
        label = r.variant
        base_rows = [b for b in rows if b.variant == recipe.base and b.ok and b.backend in backends
                     and (profile is None or b.profile == r.profile)]
        fastest_base = _fastest(base_rows) if base_rows else None
        ties = sorted({x.variant for x in pool if x.variant != label and label in evals and x.variant in evals
                       and distinguishable(seed_comparisons(evals[label], evals[x.variant])) is False})
        out[target] = {
            "target": words, "variant": label, "backend": r.backend, "threads": r.threads,
            "ties": ties, "random": within_noise_of_random(evals, recipe.base, label),
            "profile": r.profile, "p50_ms": r.p50_ms, "p90_ms": r.p90_ms, "speedup": r.speedup_vs_baseline,
            "low": r.speedup_ci_low, "high": r.speedup_ci_high,
            "accuracy": evals[label]["accuracy"] if label in evals else None,
            "vs_best_unpruned": (fastest_base.p50_ms / r.p50_ms) if fastest_base and r.p50_ms else None,
            "best_unpruned": describe(fastest_base) if fastest_base else None,
        }
    return out


def _fastest(rows: list[BenchRow]) -> BenchRow:
    return min(rows, key=lambda r: r.p50_ms if r.p50_ms is not None else float("inf"))
