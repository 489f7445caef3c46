"""The deploy stages: the chosen variant's verified ONNX file, shipped as each deploy target's bundle.

A target (web, device) is an object in :data:`TARGETS`: whether the recipe wants it, whether it can
build here, the options it passes to ``edgeprune.deploy``. Adding a target is adding one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.fileio import write_json
from edgeprune.pipeline import select
from edgeprune.pipeline.stages.export import stage_name as export_stage
from edgeprune.run import Stage, files_under
from edgeprune.ui import log

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline
    from edgeprune.recipe import Recipe


@dataclass(frozen=True)
class Target:
    """A deploy target: its kind (``deploy-KIND`` stage, ``deploy/KIND`` folder) and the bundle's name there."""

    kind: str
    bundle: str
    missing: str = ""  # what is not installed when ``available()`` is False (the skip note)
    fix: str = ""  # how to install it

    def wanted(self, recipe: Recipe) -> bool:
        """Whether the recipe's [deploy] section asks for this target."""
        return bool(getattr(recipe.deploy, self.kind))

    def available(self) -> bool:
        """Whether the target can build here."""
        return True

    def options(self, recipe: Recipe) -> dict[str, Any]:
        """Keyword options for ``edgeprune.deploy.deploy``."""
        return {}


class WebTarget(Target):
    """A static site running the model in the browser: needs the onnxruntime-web runtime from npm."""

    def available(self) -> bool:
        """True when `make setup` installed onnxruntime-web."""
        from edgeprune.deploy.web import installed_version
        from edgeprune.errors import EdgepruneError

        try:
            installed_version()
        except EdgepruneError:
            return False
        return True


class DeviceTarget(Target):
    """A tarball for a board (onnxruntime + numpy there), for the recipe's target platform."""

    def options(self, recipe: Recipe) -> dict[str, Any]:
        """The platform to build for."""
        return {"target": recipe.deploy.target}


TARGETS: tuple[Target, ...] = (
    WebTarget("web", "site", missing="onnxruntime-web", fix="run `make setup`"),
    DeviceTarget("device", "bundle.tar.gz"),
)


def stages(pipe: Pipeline) -> list[Stage]:
    """One stage per target the recipe wants, after the bench (which picks the best variant) and the exports."""
    r = pipe.recipe
    return [Stage(f"deploy-{t.kind}", lambda t=t: deploy_config(pipe, t), lambda: deploy_inputs(pipe),
                  (lambda t=t: build(pipe, t)), ["bench", *(export_stage(n) for n in r.names())],
                  folder=pipe.run.layout.deploy_dir(t.kind), optional=True, fixed_s=4.0)
            for t in TARGETS if t.wanted(r)]


def shipped_onnx(pipe: Pipeline, name: str) -> Path:
    """The ONNX file of ``name`` that the bench measured and the bundles ship (export's verified one)."""
    from edgeprune.export.manifest import verified_files

    folder = pipe.run.layout.export_dir(name)
    entry = verified_files(folder).get("onnx")
    return Path(entry["path"]) if entry else folder / "model.onnx"


def deploy_inputs(pipe: Pipeline) -> list[Path]:
    """The file the bundles ship (part of the key)."""
    return [shipped_onnx(pipe, select.deploy_variant(pipe.recipe, pipe.run))]


def deploy_config(pipe: Pipeline, target: Target) -> dict[str, Any]:
    """The target, the variant it ships and whether it can build here (the stage's key)."""
    return {"kind": target.kind, "variant": select.deploy_variant(pipe.recipe, pipe.run),
            "available": target.available(), "target": target.options(pipe.recipe).get("target")}


def build(pipe: Pipeline, target: Target) -> tuple[list[Path], dict[str, Any]]:
    """Build the target's bundle in deploy/KIND, or write skipped.json when the target cannot build here."""
    cfg = deploy_config(pipe, target)
    kind = target.kind
    folder = pipe.run.layout.deploy_dir(kind)
    if not cfg["available"]:
        log(f"deploy-{kind}: skipped, the {target.missing} runtime is not installed ({target.fix})")
        note = write_json(folder / "skipped.json", {"kind": kind, "reason": f"{target.missing} is not installed"})
        return [note], {"skipped": True}
    from edgeprune.deploy import deploy

    model = shipped_onnx(pipe, cfg["variant"])
    log(f"deploy-{kind}: {cfg['variant']} -> {folder}")
    result = deploy(model, folder / target.bundle, kind, **target.options(pipe.recipe))
    files = files_under(folder) or [Path(result.path)]
    return files, {"variant": cfg["variant"], "path": result.path}
