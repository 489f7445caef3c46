"""The report's accuracy figures: intervals, paired differences on the same test images, seeds, rankings."""

from __future__ import annotations

from typing import Any

from edgeprune.accuracy import RULE, Paired, paired_predictions, spread, wilson

INT8_SUFFIX = "-int8"


def mean_accuracy(e: dict[str, Any]) -> float:
    """A model's accuracy: the mean over seeds when the recipe repeats them, else its one measurement."""
    return float(e.get("accuracy_mean", e["accuracy"]))


def pruned(evals: dict[str, dict[str, Any]], base: str) -> list[str]:
    """Variants (not INT8) with fewer MACs than the base model: the ones a speed claim is about."""
    return [n for n in evals if n != base and not n.endswith(INT8_SUFFIX)
            and evals[n]["macs"] < 0.999 * evals[base]["macs"]]


SEED_RULE = ("with several seeds, accuracies are means over seeds, and a difference is distinguishable only when "
             "every seed's paired interval excludes 0 on the same side")
CLAIM_RULE = ("the accuracy half of the claim holds when the point estimate of the paired difference against the "
              "base (mean over seeds) is at most the allowed drop; its interval is printed beside it")


def interval_of(e: dict[str, Any]) -> str:
    """``91.2% [89.3, 92.8]`` for one eval.json (the primary seed)."""
    n = e.get("n")
    return wilson(round(e["accuracy"] * n), n).text() if n else f"{100 * e['accuracy']:.1f}%"


def compare(a: dict[str, Any], b: dict[str, Any]) -> Paired | None:
    """accuracy(b) − accuracy(a), paired on the same test images (None when either lacks predictions)."""
    pa, pb = a.get("test_pred"), b.get("test_pred")
    truth = a.get("test_true")
    if not pa or not pb or truth is None or len(pa) != len(pb) or b.get("test_true") not in (None, truth):
        return None
    return paired_predictions(pa, pb, truth)


def seed_comparisons(a: dict[str, Any], b: dict[str, Any]) -> list[Paired]:
    """One paired comparison per seed both models have (just the primary seed without repeats)."""
    sa, sb = a.get("seed_evals"), b.get("seed_evals")
    if not sa or not sb:
        one = compare(a, b)
        return [one] if one is not None else []
    return [d for s in sa if s in sb and (d := compare(sa[s], sb[s])) is not None]


def distinguishable(diffs: list[Paired]) -> bool | None:
    """Whether b differs from a beyond noise: every seed's interval excludes 0 on the same side."""
    if not diffs:
        return None
    return all(d.low > 0 for d in diffs) or all(d.high < 0 for d in diffs)


def vs_text(diffs: list[Paired]) -> str:
    """The primary seed's difference with its interval, and the verdict over seeds."""
    if not diffs:
        return "–"
    verdict = distinguishable(diffs)
    more = f" ({len(diffs)} seeds)" if len(diffs) > 1 else ""
    return f"{diffs[0].text()}{more}, {'distinguishable' if verdict else 'within noise'}"


def accuracy_rows(evals: dict[str, dict[str, Any]], base: str) -> list[dict[str, Any]]:
    """Per model: accuracy with interval, the paired difference against the base, seed mean ± sd."""
    out = []
    for name, e in evals.items():
        diffs = seed_comparisons(evals[base], e) if name != base else []
        seeds = e.get("seed_evals") or {}
        s = spread([x["accuracy"] for x in seeds.values()]) if len(seeds) > 1 else None
        out.append({
            "model": name, "accuracy": e["accuracy"], "n": e.get("n"), "interval": interval_of(e),
            "ci": e.get("accuracy_ci"), "mean": mean_accuracy(e),
            "seeds": {str(k): v["accuracy"] for k, v in seeds.items()} if s else None,
            "sd": s.sd if s else None, "vs_base": [d.to_dict() for d in diffs],
            "vs_base_text": vs_text(diffs) if name != base else "(base)",
            "distinguishable": distinguishable(diffs) if name != base else None,
        })
    return out


def pairwise(evals: dict[str, dict[str, Any]], base: str) -> dict[str, dict[str, dict[str, Any]]]:
    """row − column for every two pruned variants (FP32), paired on the same images, primary seed first."""
    names = [n for n in pruned(evals, base)]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for a in names:
        out[a] = {}
        for b in names:
            if a == b:
                continue
            diffs = seed_comparisons(evals[b], evals[a])
            if diffs:
                out[a][b] = {"diff": sum(d.diff for d in diffs) / len(diffs), "text": diffs[0].text(),
                             "distinguishable": distinguishable(diffs)}
    return out


def ranking(evals: dict[str, dict[str, Any]], base: str) -> list[dict[str, Any]]:
    """Pruned variants by mean accuracy, each marked against the best one and against random pruning."""
    names = sorted(pruned(evals, base), key=lambda n: -mean_accuracy(evals[n]))
    if not names:
        return []
    best = names[0]
    randoms = random_variants(evals, base)
    out = []
    for n in names:
        vs_best = seed_comparisons(evals[best], evals[n]) if n != best else []
        row = {"model": n, "mean": mean_accuracy(evals[n]), "best": n == best,
               "vs_best": vs_text(vs_best) if vs_best else None,
               "tied_with_best": n == best or distinguishable(vs_best) is False}
        for r in randoms:
            if r != n:
                d = seed_comparisons(evals[r], evals[n])
                row.setdefault("vs_random", {})[r] = {"text": vs_text(d), "distinguishable": distinguishable(d)}
        out.append(row)
    return out


def random_variants(evals: dict[str, dict[str, Any]], base: str) -> list[str]:
    """Variants pruned by the random criterion: the baseline every criterion must beat."""
    return [n for n in pruned(evals, base) if (evals[n].get("provenance") or {}).get("method") == "random"]


def within_noise_of_random(evals: dict[str, dict[str, Any]], base: str, name: str) -> tuple[str, str] | None:
    """(random variant, paired text) when ``name``'s accuracy cannot be told from random pruning's."""
    own = evals.get(name)
    if own is None:
        return None
    for r in random_variants(evals, base):
        if r == name.removesuffix(INT8_SUFFIX):
            return (r, "it is the random baseline itself")
        d = seed_comparisons(evals[r], own)
        if d and distinguishable(d) is False:
            return (r, vs_text(d))
    return None


__all__ = [
    "CLAIM_RULE",
    "RULE",
    "SEED_RULE",
    "accuracy_rows",
    "compare",
    "distinguishable",
    "interval_of",
    "pairwise",
    "random_variants",
    "ranking",
    "seed_comparisons",
    "vs_text",
    "within_noise_of_random",
]
