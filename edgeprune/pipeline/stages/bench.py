"""The bench stage: the benched models' exported files x backends x profiles, against the base model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.fileio import write_json
from edgeprune.pipeline import select
from edgeprune.pipeline.stages.export import stage_name as export_stage
from edgeprune.run import Stage, files_under
from edgeprune.ui import log

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline

BENCH_CELL_S = 1.5  # seconds per (model, backend, profile) cell of the bench (the time estimate only)


def stages(pipe: Pipeline) -> list[Stage]:
    """The bench stage, after the exports of the models it times."""
    r = pipe.recipe
    chosen, b = select.benched(r), r.bench
    cells = (len(chosen) + 1) * (len(b.backends) + len(b.optional)) * len(b.profiles)
    return [Stage("bench", lambda: bench_config(pipe), lambda: bench_inputs(pipe), lambda: run_bench(pipe),
                  [export_stage(n) for n in chosen], folder=pipe.run.layout.bench_dir(), fixed_s=BENCH_CELL_S * cells)]


def bench_models(pipe: Pipeline) -> dict[str, Path]:
    """Label -> model file for the bench (checkpoints; INT8 ONNX files labelled NAME-int8)."""
    layout = pipe.run.layout
    models: dict[str, Path] = {}
    for name in select.benched(pipe.recipe):
        models[name] = layout.checkpoint(name)
        int8 = layout.export_dir(name) / "model.int8.onnx"
        if pipe.recipe.bench.int8 and int8.exists():
            models[f"{name}-int8"] = int8
    return models


def bench_inputs(pipe: Pipeline) -> list[Path]:
    """The models and every exported file the bench reads (part of its key)."""
    files = list(bench_models(pipe).values())
    for name in select.benched(pipe.recipe):
        files += [p for p in files_under(pipe.run.layout.export_dir(name)) if p.suffix in (".onnx", ".xml", ".bin")]
    return files


def bench_config(pipe: Pipeline) -> dict[str, Any]:
    """The bench settings (its stage's key)."""
    b = pipe.recipe.bench  # the claim is judged by the report: changing it re-runs only the report
    return {"backends": select.backends(pipe.recipe), "profiles": b.profiles, "threads": b.threads, "preset": b.preset,
            "min_time_s": b.min_time_s, "max_time_s": b.max_time_s,
            "batch": b.batch, "memory": b.memory, "models": sorted(bench_models(pipe))}


def run_bench(pipe: Pipeline) -> tuple[list[Path], dict[str, Any]]:
    """Time every benched model's exported files; bench.json, labels.json (file -> model name) and the tables."""
    from edgeprune.bench import bench
    from edgeprune.bench.config import BenchConfig

    cfg = bench_config(pipe)
    config = BenchConfig(**{k: cfg[k] for k in ("backends", "profiles", "threads", "preset", "min_time_s", "max_time_s",
                                                 "batch", "memory")})
    layout = pipe.run.layout
    folder = layout.bench_dir()
    models = bench_models(pipe)
    labels = {str(p): label for label, p in models.items()}
    write_json(folder / "labels.json", labels)
    log(f"bench: {len(models)} models x {', '.join(cfg['backends'])} x {', '.join(cfg['profiles'])}")
    report = bench(list(models.values()), config, baseline=layout.checkpoint(pipe.recipe.base), out=folder,
                   exports={layout.checkpoint(n): layout.export_dir(n) for n in select.benched(pipe.recipe)})
    files = [p for p in files_under(folder) if p.parent == folder]
    return files, {"rows": len(report.rows), "ok": sum(1 for r in report.rows if r.ok)}
