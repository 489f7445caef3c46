"""Imports follow the data flow: data -> train -> prune -> export -> bench | deploy -> report -> pipeline -> api/cli.

Every module of the package is parsed with ``ast`` (nothing is imported, so the test is instant and
sees lazy imports inside functions too). A module may import its own layer and the layers below it;
bench and deploy sit side by side above export and import neither each other; the base layer
(``edgeprune.runtime``, errors, fileio, ui, accuracy, run) is usable by all and imports no layer above it.
``edgeprune.runtime`` imports neither torch nor anything of edgeprune but itself and errors.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "edgeprune"

# Layers, bottom first. bench and deploy share a rank but form no pair: neither imports the other.
RANK = {"base": 0, "data": 1, "train": 2, "prune": 3, "export": 4, "bench": 5, "deploy": 5, "report": 6,
        "pipeline": 7, "cli": 8}

# Module (dotted, below edgeprune) or package prefix -> layer; the longest matching prefix wins.
LAYERS = {
    "runtime": "base", "errors": "base", "fileio": "base", "ui": "base",
    "run": "base",  # the run directory: manifest, stage executor and the layout the report reads by
    "accuracy": "base",  # confidence intervals of accuracies (numpy/scipy), used by bench and report
    "devices": "train",  # torch device selection (cpu/cuda/auto)
    "data": "data",
    "models": "train", "train": "train", "train_config": "train", "train_state": "train", "train_run": "train",
    "pruning": "prune",
    "export": "export",
    "bench": "bench",
    "deploy": "deploy",
    "report": "report",
    "recipe": "pipeline", "pipeline": "pipeline",
    "api": "cli", "cli": "cli", "commands": "cli", "__init__": "cli", "__main__": "cli",
}

# (importing module, imported module): each one an upward import still to be moved down, with why.
ALLOWED: set[tuple[str, str]] = set()

TORCH = ("torch", "torchvision", "torch_pruning")


def modules() -> dict[str, Path]:
    """Dotted names (``edgeprune.bench.core``) of every module under edgeprune/, and their files."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> str:
    """The layer of a dotted edgeprune module name."""
    parts = module.split(".")[1:] or ["__init__"]
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}")


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute names; relative ones resolved), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((name, node.lineno))
            # ``from edgeprune import deploy`` imports the subpackage: count each name that is a module
            found += [(f"{name}.{alias.name}", node.lineno) for alias in node.names
                      if f"{name}.{alias.name}" in ALL or node.level]
    return found


ALL = modules()


def _target(name: str) -> str | None:
    """The edgeprune module an import name refers to (the longest known prefix), or None for others."""
    parts = name.split(".")
    if parts[0] != "edgeprune":
        return None
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in ALL:
            return ".".join(parts[:n])
    return name


def violations() -> list[str]:
    """Imports that go up the data flow or between bench and deploy, as readable lines."""
    bad = []
    for module, path in ALL.items():
        mine = layer_of(module)
        for name, line in imports(module, path):
            target = _target(name)
            if target is None or target == "edgeprune":  # the root: lazy, __version__ only
                continue
            theirs = layer_of(target)
            upward = RANK[theirs] > RANK[mine]
            sideways = {mine, theirs} == {"bench", "deploy"}
            if (upward or sideways) and (module, target) not in ALLOWED:
                rel = path.relative_to(PACKAGE.parent)
                bad.append(f"{rel}:{line}: {module} ({mine}) imports {target} ({theirs})")
    return bad


def test_every_module_has_a_layer():
    for module in ALL:
        layer_of(module)


def test_imports_follow_the_data_flow():
    bad = violations()
    assert not bad, "imports against the data flow:\n" + "\n".join(bad)


def test_allowlist_is_not_stale():
    live = {(m, _target(n)) for m, p in ALL.items() for n, _ in imports(m, p)}
    stale = sorted(ALLOWED - live)
    assert not stale, f"allowlisted imports that no longer exist: {stale}"


@pytest.mark.parametrize("module", [m for m in ALL if m.startswith("edgeprune.runtime")])
def test_runtime_imports_no_torch_and_no_edgeprune_above_it(module):
    allowed = ("edgeprune.runtime", "edgeprune.errors")
    for name, line in imports(module, ALL[module]):
        assert name.split(".")[0] not in TORCH, f"{module}:{line} imports {name}"
        if name.startswith("edgeprune"):
            assert name.startswith(allowed), f"{module}:{line} imports {name}: runtime is the bottom layer"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from edgeprune.deploy.web import deploy_web\nfrom . import timing\n")
    names = [n for n, _ in imports("edgeprune.bench.backends.m", src)]
    assert "edgeprune.deploy.web" in names and "edgeprune.bench.backends.timing" in names
