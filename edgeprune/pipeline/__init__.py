"""The pipeline: data -> train -> prune (each variant) -> export -> bench -> deploy -> report.

Each stage reads upstream artifacts from the run directory and writes its own; ``edgeprune.run``
records them and skips a stage whose key (config + input hashes) is unchanged. The recipe is
validated and the data loaded before any stage runs, so a typo or a missing dataset costs nothing.

``core`` builds the stage list and drives ``edgeprune.run.Executor``; ``stages/`` holds one module per
stage family (data, models, export, bench, deploy, report); ``select`` holds the choices (which models
are benched, which get INT8, which is deployed, which optional backends run here).
"""

from __future__ import annotations

from edgeprune.pipeline.core import Outcome, Pipeline, open_pipeline, run_pipeline
from edgeprune.run import INTERRUPT_ENV

__all__ = ["INTERRUPT_ENV", "Outcome", "Pipeline", "open_pipeline", "run_pipeline"]
