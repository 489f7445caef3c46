"""The report stage: report.md, report.json and the figures, from every model's files and the bench."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.pipeline.stages.models import stage_of
from edgeprune.run import Stage

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline


def stages(pipe: Pipeline) -> list[Stage]:
    """The report stage, keyed by the whole recipe (a changed claim re-runs only the report)."""
    r = pipe.recipe
    models = [stage_of(r, n, s) for s in (None, *pipe.repeat_seeds()) for n in (r.base, *(v.name for v in r.variants))]
    return [Stage("report", {"recipe": r.to_dict()}, lambda: report_inputs(pipe), lambda: render(pipe),
                  ["bench", *models], fixed_s=10.0)]


def report_inputs(pipe: Pipeline) -> list[Path]:
    """Every file the report reads that exists (part of its key)."""
    layout = pipe.run.layout
    files = [layout.data_json()]
    for name in pipe.recipe.names():
        for seed in (None, *pipe.repeat_seeds()):
            for fname in ("eval.json", "history.json"):
                p = layout.model_dir(name, seed) / fname
                if p.exists():
                    files.append(p)
        p = layout.export_dir(name) / "export.json"
        if p.exists():
            files.append(p)
    p = layout.bench_dir() / "bench.json"
    if p.exists():
        files.append(p)
    return files


def render(pipe: Pipeline) -> tuple[list[Path], dict[str, Any]]:
    """Write the report; its summary (verdict, recommendations) is the stage's info."""
    from edgeprune.report import render_report

    files, summary = render_report(pipe.run, pipe.recipe, pipe.data)
    return files, summary
