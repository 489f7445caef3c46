"""The Pipeline: a recipe's stages, in order, run against a run directory by ``edgeprune.run.Executor``."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeprune.recipe import Recipe, check_names
from edgeprune.run import Executor, Run, Stage
from edgeprune.ui import log


@dataclass
class Outcome:
    """What a pipeline call did: stages run and skipped, the report path, the verdict."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    report_stale: bool = False  # report.md describes an earlier recipe or earlier models


class Pipeline:
    """Builds the stage list of a recipe and runs it against a run directory."""

    def __init__(self, recipe: Recipe, out: str | os.PathLike[str]) -> None:
        self.recipe = recipe
        self.run = Run(out)
        self._data = None

    # ----------------------------------------------------------------- setup
    def validate(self) -> None:
        """Everything that can fail before work starts: names in registries, the data on disk."""
        check_names(self.recipe)
        self.data  # noqa: B018 - loading the data is the check that it is there

    @property
    def data(self):
        """The DataBundle (loaded once)."""
        if self._data is None:
            from edgeprune.data import load_data

            d = self.recipe.data
            self._data = load_data(d.name, root=d.root, input_size=d.input_size, channels=d.channels,
                                   seed=self.recipe.seed, fraction=d.fraction, download=d.download,
                                   sizes=tuple(d.sizes) if d.sizes else None)
        return self._data

    def train_config(self, seed: int | None = None, **overrides: Any) -> Any:
        """The base TrainConfig with overrides (``seed``: a repeat seed; default the recipe's)."""
        return self.recipe.train.config(seed=self.recipe.seed if seed is None else seed, **overrides)

    def repeat_seeds(self) -> list[int]:
        """The seeds after the primary one: training and every variant are repeated for each."""
        return self.recipe.seed_list()[1:]

    # ----------------------------------------------------------------- stages
    def stages(self) -> list[Stage]:
        """Every stage of the recipe, in execution order: the primary seed's models are exported and timed."""
        from edgeprune.pipeline.stages import bench, data, deploy, export, models, report

        out = [*data.stages(self), *models.stages(self, None), *export.stages(self), *bench.stages(self),
               *deploy.stages(self)]
        for seed in self.repeat_seeds():
            out += models.stages(self, seed)
        return out + report.stages(self)

    def executor(self, stages: list[Stage] | None = None) -> Executor:
        """An executor of ``stages`` (default all), timing its estimates by the base model's training epochs."""
        return Executor(self.run, self.stages() if stages is None else stages, pace=self._seconds_per_epoch,
                        pace_pending="a time estimate follows training")

    def _seconds_per_epoch(self) -> float | None:
        train = self.run.stages.get("train")
        if train is None or not self.recipe.train.epochs:
            return None
        return max(train.seconds - 2.0, 0.0) / self.recipe.train.epochs

    # ----------------------------------------------------------------- driver
    def execute(self, only: list[str] | None = None, force: list[str] | None = None,
                until: str | None = None) -> Outcome:
        """Run the stages (``only`` those named, redoing ``force`` ones), stopping after ``until``."""
        t0 = time.perf_counter()
        ex = self.executor()
        selection = ex.select(only, force, until)
        self.validate()
        done = ex.execute(selection, meta={"recipe": self.recipe.name, "recipe_source": self.recipe.source,
                                           "recipe_sha256": self.recipe.digest()})
        outcome = Outcome(ran=done.ran, skipped=done.skipped)
        report = self.run.path("report.md")
        rec = self.run.stages.get("report")
        current = "report" in outcome.ran or "report" in outcome.skipped or (
            rec is not None and ex.states()["report"] == "done")
        outcome.report = report if report.exists() else None
        outcome.report_stale = outcome.report is not None and not current
        outcome.summary = rec.info if rec and current else {}  # an old report's verdict is not this recipe's
        outcome.seconds = round(time.perf_counter() - t0, 1)
        return outcome

    def states(self, stages: list[Stage] | None = None) -> dict[str, str]:
        """Each stage's state without running anything: ``done``, ``pending``, or ``stale (why)``."""
        return self.executor(stages).states()


def open_pipeline(recipe: Recipe, out: str | os.PathLike[str]) -> tuple[Pipeline, str | None]:
    """The pipeline of ``recipe``, or of its ``fallback`` recipe when its data is not installed (and why).

    The fallback runs in a sibling run directory named after the fallback recipe, so a digits run never
    lands in a folder named for Fashion-MNIST.
    """
    from edgeprune.errors import DataNotFoundError
    from edgeprune.recipe import load_recipe

    pipe = Pipeline(recipe, out)
    if recipe.fallback is None:
        return pipe, None
    try:
        pipe.data  # noqa: B018 - loading the data is the check that it is there (and is kept for the run)
    except DataNotFoundError as e:
        path = (Path(recipe.source).parent if recipe.source else Path()) / recipe.fallback
        fallback = load_recipe(path)
        new_out = Path(out).parent / path.stem
        how = e.hint.split(",")[0] if e.hint else "see the README"
        note = (f"{recipe.data.name} is not installed ({how}): running the {fallback.data.name} recipe {path} "
                f"instead, in {new_out}")
        return Pipeline(fallback, new_out), note
    return pipe, None


def run_pipeline(recipe: Recipe, out: str | os.PathLike[str], **kwargs: Any) -> Outcome:
    """Validate ``recipe`` and run (or resume) its pipeline in ``out`` (or its fallback's, see open_pipeline)."""
    pipe, note = open_pipeline(recipe, out)
    if note:
        log(note)
    return pipe.execute(**kwargs)
