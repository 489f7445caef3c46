"""The pipeline's choices: which models are benched, which get INT8, which is deployed, which backends run here.

Each is a function of the recipe and of what the run has measured so far, kept apart from the stages
that act on them so that a policy can change without touching the work.
"""

from __future__ import annotations

from typing import Any

from edgeprune.fileio import read_json
from edgeprune.recipe import Recipe
from edgeprune.run import Run


def benched(recipe: Recipe) -> list[str]:
    """Models in the bench matrix: the base first, then the selected variants."""
    sel = recipe.bench.variants
    names = recipe.names()
    return names if sel == "all" else [n for n in names if n in sel or n == recipe.base]


def evals(recipe: Recipe, run: Run) -> dict[str, dict[str, Any]]:
    """eval.json of every model that has one, by name."""
    out = {}
    for name in recipe.names():
        p = run.layout.model_dir(name) / "eval.json"
        if p.exists():
            out[name] = read_json(p)
    return out


def predicted_best(recipe: Recipe, run: Run) -> str | None:
    """Before bench: the variant with the fewest MACs among those within the accuracy bound."""
    from edgeprune.report.analysis import eligible, pruned

    found = evals(recipe, run)
    if recipe.base not in found:
        return None
    pool = eligible(found, recipe.base, recipe.claim.max_accuracy_drop) or pruned(found, recipe.base)
    if not pool:
        return None
    fewest = min(found[n]["macs"] for n in pool)
    close = [n for n in pool if found[n]["macs"] <= 1.1 * fewest]  # about the same MACs: the most accurate
    return max(close, key=lambda n: (found[n]["accuracy"], -found[n]["macs"]))


def int8_for(recipe: Recipe, run: Run, name: str) -> bool:
    """Whether ``name`` gets an INT8 export."""
    sel = recipe.export.int8
    if sel == "all":
        return True
    if sel == "none":
        return False
    if sel == "best":
        return name == predicted_best(recipe, run)
    return name in sel


def deploy_variant(recipe: Recipe, run: Run) -> str:
    """The variant to deploy: the recipe's choice, or the best by the bench."""
    choice = recipe.deploy.variant
    if choice != "best":
        return choice
    from edgeprune.report.analysis import analyse

    a = analyse(run, recipe)
    return a.get("best") or predicted_best(recipe, run) or recipe.base


def backends(recipe: Recipe) -> list[str]:
    """Recipe backends plus the optional ones that are installed and usable here."""
    b = recipe.bench
    chosen = list(b.backends)
    if b.optional:
        try:
            from edgeprune.bench.backends import list_backends

            have = list_backends()
        except ImportError:
            have = {}
        for name in b.optional:
            if name in have and name not in chosen and backend_available(name):
                chosen.append(name)
    return chosen


def backend_available(name: str) -> bool:
    """True when an optional bench backend can run here (its ``missing()`` says nothing is missing)."""
    try:
        from edgeprune.bench.backends import get_backend

        return get_backend(name).missing() is None
    except Exception:
        return False
