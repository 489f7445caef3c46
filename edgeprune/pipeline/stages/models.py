"""The model stages: train the base model, make every variant from its parent, write each model's eval.json.

A variant's kind (prune its parent, or retrain it with a regularizer) is a handler in :data:`KINDS`:
adding a kind is adding a handler, the stages themselves do not change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.fileio import write_json
from edgeprune.run import Stage, files_under
from edgeprune.ui import log

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline
    from edgeprune.recipe import Recipe, VariantSection

PRUNED_COST = 0.4  # an epoch of a pruned model in epochs of its base (the time estimate only)
UNPRUNED_COST = 1.2  # an epoch with a regularizer on an unpruned model, in epochs of its base (ditto)
LATENCY_TABLE_S = 40.0  # building a speedup target's latency table (VGG16-BN at 32 px, 2 cores; ditto)
MEASURED_STEP_S = 15.0  # timing a speedup target's candidate plans, per step (ditto)


def seeded(name: str, seed: int | None) -> str:
    """A stage name for a repeat seed (``train@seed1``); the primary seed's stages keep their names."""
    return name if seed is None else f"{name}@seed{seed}"


def stage_of(recipe: Recipe, name: str, seed: int | None = None) -> str:
    """The stage that makes model ``name``: ``train`` for the base, ``prune:NAME`` for a variant."""
    return seeded("train" if name == recipe.base else f"prune:{name}", seed)


def stages(pipe: Pipeline, seed: int | None) -> list[Stage]:
    """Training and every variant for one seed (``None``: the primary seed, whose models are exported)."""
    r, layout = pipe.recipe, pipe.run.layout
    data_json = layout.data_json()
    used = r.seed if seed is None else seed
    train_cfg = portable(r.train)
    out = [Stage(seeded("train", seed), {"model": dataclasses.asdict(r.model), "train": train_cfg, "seed": used},
                 lambda: [data_json], lambda: train(pipe, seed), ["data"], folder=layout.model_dir(r.base, seed),
                 resumable=True, units=r.train.epochs, fixed_s=2.0)]
    for v in r.order():
        out.append(Stage(stage_of(r, v.name, seed),
                         {"variant": dataclasses.asdict(v), "train": train_cfg, "seed": used},
                         (lambda v=v: [data_json, layout.checkpoint(v.parent, seed)]),
                         (lambda v=v: make_variant(pipe, v, seed)), [stage_of(r, v.parent, seed)],
                         folder=layout.model_dir(v.name, seed), resumable=True,
                         units=variant_epochs(r, v), fixed_s=KINDS[v.kind].fixed_s(v)))
    return out


def variant_epochs(r: Recipe, v: VariantSection) -> float:
    """A variant's training work in base-model epochs: pruned models train at about PRUNED_COST of the cost."""
    shrunk = any(KINDS[r.variant(n).kind].shrinks for n in r.lineage(v.name)[1:] if n != r.base)
    return KINDS[v.kind].epochs(r, v, PRUNED_COST if shrunk else UNPRUNED_COST)


def portable(train_section: Any) -> dict[str, Any]:
    """The training settings that make a model what it is: the device does not, so a run trained on a GPU
    machine is up to date on the CPU machine that exports and benches it."""
    return {k: v for k, v in dataclasses.asdict(train_section).items() if k != "device"}


# -- train
def train(pipe: Pipeline, seed: int | None = None) -> tuple[list[Path], dict[str, Any]]:
    """Train the base model for one seed and write its eval.json."""
    from edgeprune.train import seed_everything
    from edgeprune.train_run import create_model, fit

    r, layout = pipe.recipe, pipe.run.layout
    folder = layout.model_dir(r.base, seed)
    seed_everything(r.seed if seed is None else seed)  # the initial weights too: a re-run trains the same model
    model = create_model(r.model.name, data=pipe.data, weights=r.model.weights, **r.model.kwargs())
    log(f"train {r.base}{'' if seed is None else f' (seed {seed})'}: {r.model.name} {r.model.kwargs()} "
        f"for {r.train.epochs} epochs")
    fit(model, pipe.data, pipe.train_config(seed), out=folder)
    write_eval(pipe, model, folder, r.base, layout.checkpoint(r.base, seed))
    return files_under(folder), {}


# -- variants
@dataclass(frozen=True)
class VariantJob:
    """One variant to make for one seed: where its parent's checkpoint is and where its own goes."""

    pipe: Pipeline
    v: VariantSection
    seed: int | None
    folder: Path
    parent_ckpt: Path
    own_ckpt: Path


def make_variant(pipe: Pipeline, v: VariantSection, seed: int | None = None) -> tuple[list[Path], dict[str, Any]]:
    """Make variant ``v`` from its parent's checkpoint (by its kind's handler) and write its eval.json."""
    from edgeprune.models import load_checkpoint

    layout = pipe.run.layout
    job = VariantJob(pipe, v, seed, layout.model_dir(v.name, seed), layout.checkpoint(v.parent, seed),
                     layout.checkpoint(v.name, seed))
    model = KINDS[v.kind].make(job, load_checkpoint(job.parent_ckpt))
    write_eval(pipe, model, job.folder, v.name, job.own_ckpt)
    return files_under(job.folder), {}


class PruneKind:
    """A variant that prunes its parent (in steps, each fine-tuned): its model is smaller than the parent."""

    shrinks = True

    def fixed_s(self, v: VariantSection) -> float:
        """Seconds besides training (scoring and cutting, per step; for a speedup target, its latency table and
        timed candidates; the time estimate only)."""
        return 4.0 * v.steps + (LATENCY_TABLE_S + MEASURED_STEP_S * v.steps if v.on is not None else 0.0)

    def epochs(self, r: Recipe, v: VariantSection, scale: float) -> float:
        """Fine-tuning at the pruned cost, plus regularized epochs (``scale``) for reg+ methods and seed."""
        reg = v.options.get("reg_epochs", v.finetune_epochs) if v.method and (v.method == "seed" or "+" in v.method) else 0
        return v.steps * v.finetune_epochs * PRUNED_COST + reg * scale

    def make(self, job: VariantJob, model: Any) -> Any:
        """Prune the parent checkpoint (latency-aimed when ``on`` is set) and save the small model."""
        from edgeprune.models import save_checkpoint
        from edgeprune.pruning import prune

        pipe, v, seed, folder, parent_ckpt, own_ckpt = (job.pipe, job.v, job.seed, job.folder, job.parent_ckpt,
                                                        job.own_ckpt)
        overrides = v.train_overrides()
        log(f"prune {v.name}{'' if seed is None else f' (seed {seed})'}: {v.method} {v.target()} from {v.parent}, "
            f"{v.steps} step(s), {v.finetune_epochs} fine-tune epoch(s) each")
        options = {"seed": seed, **v.options} if seed is not None else v.options
        if v.on is not None:
            from edgeprune.bench.latency import latency_table, speedup_meter

            options = {**options, "latency": latency_table(model, v.on), "measure": speedup_meter(model, v.on)}
        small = prune(parent_ckpt, v.method, pipe.data, steps=v.steps, finetune_epochs=v.finetune_epochs,
                      train_config=pipe.train_config(seed, **overrides), out=folder, **v.target(), **options).model
        if v.on is not None:
            from edgeprune.bench.latency import record_speedup

            record_speedup(folder, model, small, v.on)
        if not own_ckpt.exists():
            save_checkpoint(small, own_ckpt)
        return small


class RetrainKind:
    """A variant that retrains its parent with a regularizer (same widths; pruned later by a child variant)."""

    shrinks = False

    def fixed_s(self, v: VariantSection) -> float:
        """Seconds besides training (the time estimate only)."""
        return 2.0

    def epochs(self, r: Recipe, v: VariantSection, scale: float) -> float:
        """Its epochs (the base's by default) at ``scale``."""
        return (v.epochs if v.epochs is not None else r.train.epochs) * scale

    def make(self, job: VariantJob, model: Any) -> Any:
        """Retrain the parent with the regularizer; the provenance says which, with what strength."""
        from edgeprune.fileio import sha256_file
        from edgeprune.models import attach_spec, spec_of
        from edgeprune.pruning.regularizers import make_regularizer
        from edgeprune.train_run import fit

        pipe, v, seed, folder, parent_ckpt = job.pipe, job.v, job.seed, job.folder, job.parent_ckpt
        overrides = v.train_overrides()
        epochs = v.epochs if v.epochs is not None else pipe.recipe.train.epochs
        log(f"retrain {v.name}: {v.parent} + {v.regularizer} (lambda {v.lam}) for {epochs} epochs")
        regularizer = make_regularizer(v.regularizer, v.lam, **v.options)
        spec = spec_of(model)
        attach_spec(model, spec.replace(provenance={
            **spec.provenance, "parent_sha256": sha256_file(parent_ckpt), "method": f"retrain+{v.regularizer}",
            "lambda": v.lam, "epochs": epochs}))
        fit(model, pipe.data, pipe.train_config(seed, epochs=epochs, **overrides), out=folder,
                regularizer=regularizer)
        return model


KINDS: dict[str, PruneKind | RetrainKind] = {"prune": PruneKind(), "retrain": RetrainKind()}  # VariantSection.kind


# -- eval.json
def write_eval(pipe: Pipeline, model: Any, folder: Path, name: str, ckpt: Path) -> None:
    """eval.json: test metrics with every prediction (paired comparisons), complexity, widths, grid samples."""
    import torch

    from edgeprune.models import count_macs, count_params, layer_widths, near_zero_ratio, spec_of
    from edgeprune.train_run import evaluate

    res = evaluate(model, pipe.data, "test", device=pipe.recipe.train.device)
    x, y = pipe.data.sample("test", pipe.recipe.report.samples, seed=pipe.recipe.seed)
    model.eval().to("cpu")
    with torch.no_grad():
        pred = model(x).argmax(1)
    spec = spec_of(model)
    write_json(folder / "eval.json", {
        "name": name, "loss": res.loss, "accuracy": res.accuracy, "n": res.n, "confusion": res.confusion,
        **res.rates(), "params": count_params(model), "macs": count_macs(model, spec.input_shape),
        "near_zero": near_zero_ratio(model), "checkpoint_bytes": ckpt.stat().st_size,
        "accuracy_ci": [res.interval().low, res.interval().high], "test_pred": res.predictions,
        "test_true": res.labels,
        "layers": [dataclasses.asdict(w) for w in layer_widths(model)],
        "samples": {"true": y.tolist(), "pred": pred.tolist()}, "provenance": spec.provenance,
    })
