"""The export stages: every model of the primary seed to the recipe's formats (INT8 where the policy says)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.pipeline import select
from edgeprune.pipeline.stages.models import stage_of
from edgeprune.run import Stage, files_under
from edgeprune.ui import log

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline


def stage_name(name: str) -> str:
    """The stage that exports model ``name``."""
    return f"export:{name}"


def stages(pipe: Pipeline) -> list[Stage]:
    """One export stage per model, after the stage that made it."""
    r, layout = pipe.recipe, pipe.run.layout
    return [Stage(stage_name(name), lambda name=name: export_config(pipe, name),
                  (lambda name=name: [layout.data_json(), layout.checkpoint(name)]),
                  (lambda name=name: export_model(pipe, name)), [stage_of(r, name)], folder=layout.export_dir(name),
                  fixed_s=6.0)
            for name in r.names()]


def export_config(pipe: Pipeline, name: str) -> dict[str, Any]:
    """The export settings of model ``name`` (its stage's key)."""
    e = pipe.recipe.export
    return {"formats": e.formats, "int8": select.int8_for(pipe.recipe, pipe.run, name), "fp16": e.fp16,
            "opset": e.opset}


def export_model(pipe: Pipeline, name: str) -> tuple[list[Path], dict[str, Any]]:
    """Export model ``name`` into its export folder (export.json says what was verified)."""
    from edgeprune.export import export

    config = pipe.recipe.export.config(select.int8_for(pipe.recipe, pipe.run, name))
    layout = pipe.run.layout
    folder = layout.export_dir(name)
    log(f"export {name}: {', '.join(config.formats)}{' + int8' if config.int8 else ''}")
    export(layout.checkpoint(name), folder, config, data=pipe.data)
    return files_under(folder), {}
