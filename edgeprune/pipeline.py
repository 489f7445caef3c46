"""The pipeline: data -> train -> prune (each variant) -> export -> bench -> deploy -> report.

Each stage reads upstream artifacts from the run directory and writes its own; ``edgeprune.run``
records them and skips a stage whose key (config + input hashes) is unchanged. The recipe is
validated and the data loaded before any stage runs, so a typo or a missing dataset costs nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.fileio import read_json, write_json
from edgeprune.recipe import Recipe, check_names
from edgeprune.run import Run, files_under
from edgeprune.ui import log

FAMILIES = ("data", "train", "prune", "export", "bench", "deploy-web", "deploy-device", "report")
INTERRUPT_ENV = "EDGEPRUNE_PIPELINE_INTERRUPT"  # test hook: raise KeyboardInterrupt when this stage starts
PRUNED_COST = 0.4  # an epoch of a pruned model in epochs of its base (the time estimate only)
BENCH_CELL_S = 1.5  # seconds per (model, backend, profile) cell of the bench (the time estimate only)


@dataclass
class Stage:
    """One unit of work: its name, config (part of the key), input files and the function doing it."""

    name: str
    config: Any
    inputs: Callable[[], list[Path]]
    work: Callable[[], tuple[list[Path], dict[str, Any]]]
    needs: list[str] = field(default_factory=list)
    folder: Path | None = None  # the stage's own output folder
    resumable: bool = False  # keep ``folder`` when resuming the same work; otherwise it is emptied first
    epochs: float = 0.0  # training work in epochs of the base model (for the time estimate)
    fixed_s: float = 1.0  # seconds the stage takes besides training (for the time estimate)

    @property
    def family(self) -> str:
        """``prune`` for ``prune:OBD`` and ``prune:OBD@seed1``; the name itself otherwise."""
        return _family(self.name)


def _family(name: str) -> str:
    return name.split("@", 1)[0].split(":", 1)[0]


def _seeded(name: str, seed: int | None) -> str:
    """A stage name for a repeat seed (``train@seed1``); the primary seed's stages keep their names."""
    return name if seed is None else f"{name}@seed{seed}"


@dataclass
class Outcome:
    """What a pipeline call did: stages run and skipped, the report path, the verdict."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    report_stale: bool = False  # report.md describes an earlier recipe or earlier models


def model_dir(run: Run, name: str, seed: int | None = None) -> Path:
    """Where the base model or a variant lives in the run directory (repeat seeds under ``seeds/``)."""
    return run.path("models", name) if seed is None else run.path("seeds", f"seed-{seed}", name)


def checkpoint(run: Run, name: str, seed: int | None = None) -> Path:
    """The checkpoint of the base model or a variant."""
    return model_dir(run, name, seed) / "model.safetensors"


def export_dir(run: Run, name: str) -> Path:
    """Where a model's exports live."""
    return run.path("export", name)


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
        """Every stage of the recipe, in execution order."""
        r, run = self.recipe, self.run
        data_json = run.path("data", "data.json")
        out: list[Stage] = [
            Stage("data", {"data": dataclasses.asdict(r.data), "seed": r.seed}, lambda: [], self._stage_data),
            *self._model_stages(None),
        ]
        for name in r.names():
            src = "train" if name == r.base else f"prune:{name}"
            out.append(Stage(f"export:{name}", lambda name=name: self._export_config(name),
                             (lambda name=name: [data_json, checkpoint(run, name)]),
                             (lambda name=name: self._stage_export(name)), [src], folder=export_dir(run, name),
                             fixed_s=6.0))
        exports = [f"export:{n}" for n in self.benched()]
        b = r.bench
        cells = (len(self.benched()) + 1) * (len(b.backends) + len(b.optional)) * len(b.profiles)
        out.append(Stage("bench", self._bench_config, self._bench_inputs, self._stage_bench, exports,
                         folder=run.path("bench"), fixed_s=BENCH_CELL_S * cells))
        benches = ["bench"]
        for kind in ("web", "device"):
            if getattr(r.deploy, kind):
                out.append(Stage(f"deploy-{kind}", lambda kind=kind: self._deploy_config(kind),
                                 lambda: self._deploy_inputs(), (lambda kind=kind: self._stage_deploy(kind)),
                                 [*benches, *(f"export:{n}" for n in r.names())], folder=run.path("deploy", kind),
                                 fixed_s=4.0))
        for seed in self.repeat_seeds():
            out += self._model_stages(seed)
        models = [_seeded(n, s) for s in (None, *self.repeat_seeds())
                  for n in ("train", *(f"prune:{v.name}" for v in r.variants))]
        out.append(Stage("report", {"recipe": r.to_dict()}, self._report_inputs, self._stage_report,
                         [*benches, *models], fixed_s=10.0))
        return out

    def _model_stages(self, seed: int | None) -> list[Stage]:
        """Training and every variant for one seed (``None``: the primary seed, whose models are exported)."""
        r, run = self.recipe, self.run
        data_json = run.path("data", "data.json")
        used = r.seed if seed is None else seed
        train = _portable(r.train)
        out = [Stage(_seeded("train", seed), {"model": dataclasses.asdict(r.model), "train": train, "seed": used},
                     lambda: [data_json], lambda: self._stage_train(seed), ["data"], folder=model_dir(run, r.base, seed),
                     resumable=True, epochs=r.train.epochs, fixed_s=2.0)]
        for v in r.order():
            parent_stage = _seeded("train" if v.parent == r.base else f"prune:{v.parent}", seed)
            out.append(Stage(_seeded(f"prune:{v.name}", seed),
                             {"variant": dataclasses.asdict(v), "train": train, "seed": used},
                             (lambda v=v: [data_json, checkpoint(run, v.parent, seed)]),
                             (lambda v=v: self._stage_variant(v, seed)), [parent_stage],
                             folder=model_dir(run, v.name, seed), resumable=True,
                             epochs=self._variant_epochs(v), fixed_s=4.0 * v.steps if v.kind == "prune" else 2.0))
        return out

    def _variant_epochs(self, v) -> float:
        """A variant's training work in base-model epochs: pruned models train at about PRUNED_COST of the cost."""
        r = self.recipe
        shrunk = any(r.variant(n).kind == "prune" for n in r.lineage(v.name)[1:] if n != r.base)
        if v.kind == "retrain":
            return (v.epochs if v.epochs is not None else r.train.epochs) * (PRUNED_COST if shrunk else 1.2)
        reg = v.options.get("reg_epochs", v.finetune_epochs) if v.method and (v.method == "seed" or "+" in v.method) else 0
        return v.steps * v.finetune_epochs * PRUNED_COST + reg * (PRUNED_COST if shrunk else 1.2)

    def benched(self) -> list[str]:
        """Models in the bench matrix: the base first, then the selected variants."""
        sel = self.recipe.bench.variants
        names = self.recipe.names()
        chosen = names if sel == "all" else [n for n in names if n in sel or n == self.recipe.base]
        return chosen

    # -- data
    def _stage_data(self) -> tuple[list[Path], dict[str, Any]]:
        d = self.data
        h = hashlib.sha256()
        for split in ("train", "val", "test"):
            x, y = d.sample(split, 64, seed=self.recipe.seed)
            h.update(x.numpy().tobytes())
            h.update(y.numpy().tobytes())
        info = {"name": d.name, "labels": d.labels, "input_shape": list(d.input_shape), "mean": d.mean, "std": d.std,
                "sizes": {s: len(d.split(s)) for s in ("train", "val", "test")}, "fingerprint": h.hexdigest(),
                "info": d.info}
        path = write_json(self.run.path("data", "data.json"), info)
        return [path], {"sizes": info["sizes"]}

    # -- train
    def _stage_train(self, seed: int | None = None) -> tuple[list[Path], dict[str, Any]]:
        from edgeprune.train import seed_everything
        from edgeprune.train_run import create_model, fit

        r = self.recipe
        folder = model_dir(self.run, r.base, seed)
        seed_everything(r.seed if seed is None else seed)  # the initial weights too: a re-run trains the same model
        model = create_model(r.model.name, data=self.data, weights=r.model.weights, **r.model.kwargs())
        log(f"train {r.base}{'' if seed is None else f' (seed {seed})'}: {r.model.name} {r.model.kwargs()} "
            f"for {r.train.epochs} epochs")
        fit(model, self.data, self.train_config(seed), out=folder)
        self._write_eval(model, folder, r.base, checkpoint(self.run, r.base, seed))
        return files_under(folder), {}

    # -- variants
    def _stage_variant(self, v, seed: int | None = None) -> tuple[list[Path], dict[str, Any]]:
        from edgeprune.fileio import sha256_file
        from edgeprune.models import attach_spec, load_checkpoint, save_checkpoint, spec_of
        from edgeprune.train_run import fit

        folder = model_dir(self.run, v.name, seed)
        parent_ckpt = checkpoint(self.run, v.parent, seed)
        own_ckpt = checkpoint(self.run, v.name, seed)
        model = load_checkpoint(parent_ckpt)
        overrides = v.train_overrides()
        if v.kind == "prune":
            from edgeprune.pruning import prune

            log(f"prune {v.name}{'' if seed is None else f' (seed {seed})'}: {v.method} {v.target()} from {v.parent}, "
                f"{v.steps} step(s), {v.finetune_epochs} fine-tune epoch(s) each")
            options = {"seed": seed, **v.options} if seed is not None else v.options
            if v.on is not None:
                from edgeprune.bench.latency import latency_table, speedup_meter

                options = {**options, "latency": latency_table(model, v.on), "measure": speedup_meter(model, v.on)}
            small = prune(parent_ckpt, v.method, self.data, steps=v.steps, finetune_epochs=v.finetune_epochs,
                          train_config=self.train_config(seed, **overrides), out=folder, **v.target(), **options)
            if v.on is not None:
                from edgeprune.bench.latency import record_speedup

                record_speedup(folder, model, small, v.on)
            if not own_ckpt.exists():
                save_checkpoint(small, own_ckpt)
            model = small
        else:
            from edgeprune.pruning.regularizers import make_regularizer

            epochs = v.epochs if v.epochs is not None else self.recipe.train.epochs
            log(f"retrain {v.name}: {v.parent} + {v.regularizer} (lambda {v.lam}) for {epochs} epochs")
            regularizer = make_regularizer(v.regularizer, v.lam, **v.options)
            spec = spec_of(model)
            attach_spec(model, spec.replace(provenance={
                **spec.provenance, "parent_sha256": sha256_file(parent_ckpt), "method": f"retrain+{v.regularizer}",
                "lambda": v.lam, "epochs": epochs}))
            fit(model, self.data, self.train_config(seed, epochs=epochs, **overrides), out=folder,
                    regularizer=regularizer)
        self._write_eval(model, folder, v.name, own_ckpt)
        return files_under(folder), {}

    def _write_eval(self, model, folder: Path, name: str, ckpt: Path) -> None:
        """eval.json: test metrics with every prediction (paired comparisons), complexity, widths, grid samples."""
        import torch

        from edgeprune.models import count_macs, count_params, layer_widths, near_zero_ratio, spec_of
        from edgeprune.train_run import evaluate

        res = evaluate(model, self.data, "test", device=self.recipe.train.device)
        x, y = self.data.sample("test", self.recipe.report.samples, seed=self.recipe.seed)
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

    # -- export
    def evals(self) -> dict[str, dict[str, Any]]:
        """eval.json of every model that has one, by name."""
        out = {}
        for name in self.recipe.names():
            p = model_dir(self.run, name) / "eval.json"
            if p.exists():
                out[name] = read_json(p)
        return out

    def predicted_best(self) -> str | None:
        """Before bench: the variant with the fewest MACs among those within the accuracy bound."""
        from edgeprune.report.analysis import eligible, pruned

        evals = self.evals()
        if self.recipe.base not in evals:
            return None
        pool = eligible(evals, self.recipe.base, self.recipe.claim.max_accuracy_drop) or pruned(evals, self.recipe.base)
        if not pool:
            return None
        fewest = min(evals[n]["macs"] for n in pool)
        close = [n for n in pool if evals[n]["macs"] <= 1.1 * fewest]  # about the same MACs: the most accurate
        return max(close, key=lambda n: (evals[n]["accuracy"], -evals[n]["macs"]))

    def int8_for(self, name: str) -> bool:
        """Whether ``name`` gets an INT8 export."""
        sel = self.recipe.export.int8
        if sel == "all":
            return True
        if sel == "none":
            return False
        if sel == "best":
            return name == self.predicted_best()
        return name in sel

    def _export_config(self, name: str) -> dict[str, Any]:
        e = self.recipe.export
        return {"formats": e.formats, "int8": self.int8_for(name), "fp16": e.fp16, "opset": e.opset}

    def _stage_export(self, name: str) -> tuple[list[Path], dict[str, Any]]:
        from edgeprune.export import export

        cfg = self._export_config(name)
        folder = export_dir(self.run, name)
        log(f"export {name}: {', '.join(cfg['formats'])}{' + int8' if cfg['int8'] else ''}")
        export(checkpoint(self.run, name), folder, formats=tuple(cfg["formats"]), int8=cfg["int8"], fp16=cfg["fp16"],
               data=self.data, opset=cfg["opset"])
        return files_under(folder), {}

    # -- bench
    def bench_models(self) -> dict[str, Path]:
        """Label -> model file for the bench (checkpoints; INT8 ONNX files labelled NAME-int8)."""
        models: dict[str, Path] = {}
        for name in self.benched():
            models[name] = checkpoint(self.run, name)
            int8 = export_dir(self.run, name) / "model.int8.onnx"
            if self.recipe.bench.int8 and int8.exists():
                models[f"{name}-int8"] = int8
        return models

    def _bench_inputs(self) -> list[Path]:
        files = list(self.bench_models().values())
        for name in self.benched():
            files += [p for p in files_under(export_dir(self.run, name)) if p.suffix in (".onnx", ".xml", ".bin")]
        return files

    def backends(self) -> list[str]:
        """Recipe backends plus the optional ones that are installed and usable here."""
        b = self.recipe.bench
        chosen = list(b.backends)
        if b.optional:
            try:
                from edgeprune.bench.backends import list_backends

                have = list_backends()
            except ImportError:
                have = {}
            for name in b.optional:
                if name in have and name not in chosen and _backend_available(name):
                    chosen.append(name)
        return chosen

    def _bench_config(self) -> dict[str, Any]:
        b = self.recipe.bench  # the claim is judged by the report: changing it re-runs only the report
        return {"backends": self.backends(), "profiles": b.profiles, "threads": b.threads, "preset": b.preset,
                "min_time_s": b.min_time_s, "max_time_s": b.max_time_s,
                "batch": b.batch, "memory": b.memory, "models": sorted(self.bench_models())}

    def _stage_bench(self) -> tuple[list[Path], dict[str, Any]]:
        from edgeprune.bench import bench
        from edgeprune.runtime.timing import PRESETS

        cfg = self._bench_config()
        preset = PRESETS[cfg["preset"]]
        changes = {k: float(cfg[k]) for k in ("min_time_s", "max_time_s") if cfg[k] is not None}
        if changes:
            preset = dataclasses.replace(preset, name=f"{preset.name}*", **changes)
        folder = self.run.path("bench")
        models = self.bench_models()
        labels = {str(p): label for label, p in models.items()}
        write_json(folder / "labels.json", labels)
        log(f"bench: {len(models)} models x {', '.join(cfg['backends'])} x {', '.join(cfg['profiles'])}")
        report = bench(list(models.values()), baseline=checkpoint(self.run, self.recipe.base),
                       backends=tuple(cfg["backends"]), profiles=tuple(cfg["profiles"]), threads=cfg["threads"],
                       batch=cfg["batch"], preset=preset, out=folder,  # accuracy: eval.json and export.json
                       memory=cfg["memory"],
                       exports={checkpoint(self.run, n): export_dir(self.run, n) for n in self.benched()})
        files = [p for p in files_under(folder) if p.parent == folder]
        return files, {"rows": len(report.rows), "ok": sum(1 for r in report.rows if r.ok)}

    # -- deploy
    def deploy_variant(self) -> str:
        """The variant to deploy: the recipe's choice, or the best by the bench."""
        choice = self.recipe.deploy.variant
        if choice != "best":
            return choice
        from edgeprune.report.analysis import analyse

        a = analyse(self.run, self.recipe)
        return a.get("best") or self.predicted_best() or self.recipe.base

    def shipped_onnx(self, name: str) -> Path:
        """The ONNX file of ``name`` that the bench measured and the bundles ship (export's verified one)."""
        from edgeprune.export.manifest import verified_files

        entry = verified_files(export_dir(self.run, name)).get("onnx")
        return Path(entry["path"]) if entry else export_dir(self.run, name) / "model.onnx"

    def _deploy_inputs(self) -> list[Path]:
        return [self.shipped_onnx(self.deploy_variant())]

    def _deploy_config(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "variant": self.deploy_variant(), "available": _deploy_available(kind),
                "target": self.recipe.deploy.target if kind == "device" else None}

    def _stage_deploy(self, kind: str) -> tuple[list[Path], dict[str, Any]]:
        cfg = self._deploy_config(kind)
        folder = self.run.path("deploy", kind)
        if not cfg["available"]:
            log(f"deploy-{kind}: skipped, the onnxruntime-web runtime is not installed (run `make setup`)")
            note = write_json(folder / "skipped.json", {"kind": kind, "reason": "onnxruntime-web is not installed"})
            return [note], {"skipped": True}
        from edgeprune.deploy import deploy

        model = self.shipped_onnx(cfg["variant"])
        options = {"target": cfg["target"]} if kind == "device" else {}
        log(f"deploy-{kind}: {cfg['variant']} -> {folder}")
        result = deploy(kind, model, folder / ("bundle.tar.gz" if kind == "device" else "site"), **options)
        files = files_under(folder) or [Path(result.path)]
        return files, {"variant": cfg["variant"], "path": result.path}

    # -- report
    def _report_inputs(self) -> list[Path]:
        files = [self.run.path("data", "data.json")]
        for name in self.recipe.names():
            for seed in (None, *self.repeat_seeds()):
                for fname in ("eval.json", "history.json"):
                    p = model_dir(self.run, name, seed) / fname
                    if p.exists():
                        files.append(p)
            p = export_dir(self.run, name) / "export.json"
            if p.exists():
                files.append(p)
        p = self.run.path("bench", "bench.json")
        if p.exists():
            files.append(p)
        return files

    def _stage_report(self) -> tuple[list[Path], dict[str, Any]]:
        from edgeprune.report import render_report

        files, summary = render_report(self.run, self.recipe, self.data)
        return files, summary

    # ----------------------------------------------------------------- driver
    def execute(self, only: list[str] | None = None, force: list[str] | None = None,
                until: str | None = None) -> Outcome:
        """Run the stages (``only`` those named, redoing ``force`` ones), stopping after ``until``."""
        t0 = time.perf_counter()
        stages = self.stages()
        names = [s.name for s in stages]
        only_set = _select(only or [], names, "--only")
        force_set = _select(force or [], names, "--force") | only_set
        until_set = _select([until], names, "--until") if until else set()
        primary = {n for n in until_set if "@" not in n} or until_set  # repeat seeds only when named
        last = max((names.index(n) for n in primary), default=None)  # --until prune: after the last prune stage
        self.validate()
        with _SIGINT:
            return self._execute(stages, only_set, force_set, last, t0)

    def _execute(self, stages: list[Stage], only_set: set[str], force_set: set[str], last: int | None,
                 t0: float) -> Outcome:
        names = [s.name for s in stages]
        self.run.root.mkdir(parents=True, exist_ok=True)
        self.run.meta.update({"recipe": self.recipe.name, "recipe_source": self.recipe.source,
                              "recipe_sha256": self.recipe.digest()})
        self.run.save()
        outcome = Outcome()
        current = None
        try:
            for stage in stages:
                current = stage.name
                if only_set and stage.name not in only_set:
                    continue
                missing = [n for n in stage.needs if n not in self.run.stages and _required(n)]
                if missing:
                    raise EdgepruneError(f"stage {stage.name} needs {', '.join(missing)}, which has not run in {self.run.root}",
                                         hint="run the pipeline without --only first")
                config = stage.config() if callable(stage.config) else stage.config
                key, hashes = self.run.key(config, stage.inputs())
                if stage.name not in force_set and self.run.fresh(stage.name, key):
                    log(f"[dim]{stage.name}: up to date, skipped[/dim]")
                    self.run.event(stage.name, "skipped")
                    outcome.skipped.append(stage.name)
                else:
                    self._execute_stage(stage, key, config, hashes)
                    outcome.ran.append(stage.name)
                    left = [s for s in stages[stages.index(stage) + 1:] if not only_set or s.name in only_set]
                    log(self._progress(stages, left, time.perf_counter() - t0))
                if last is not None and stage.name == names[last]:
                    log(f"stopped after {stage.name} (--until)")
                    break
        except KeyboardInterrupt:  # between stages too: the manifest says where it stopped
            if not self.run.events or self.run.events[-1]["action"] != "interrupted":
                self.run.event(current or "pipeline", "interrupted")
            raise
        report = self.run.path("report.md")
        rec = self.run.stages.get("report")
        current = "report" in outcome.ran or "report" in outcome.skipped or (
            rec is not None and self.states(stages)["report"] == "done")
        outcome.report = report if report.exists() else None
        outcome.report_stale = outcome.report is not None and not current
        outcome.summary = rec.info if rec and current else {}  # an old report's verdict is not this recipe's
        outcome.seconds = round(time.perf_counter() - t0, 1)
        return outcome

    def states(self, stages: list[Stage] | None = None) -> dict[str, str]:
        """Each stage's state without running anything: ``done``, ``pending``, or ``stale (why)``.

        A stage is done only when its key (recipe section + input hashes) matches the record and every
        stage it needs is done too, so an edited recipe shows as stale from the first stage it touches.
        """
        stages = self.stages() if stages is None else stages
        states: dict[str, str] = {}
        for stage in stages:
            rec = self.run.stages.get(stage.name)
            if rec is None:
                states[stage.name] = "pending"
                continue
            behind = [n for n in stage.needs if states.get(n, "done") != "done" and (n in self.run.stages or _required(n))]
            if behind:
                states[stage.name] = f"stale ({behind[0]} will run first)"
                continue
            try:
                config = stage.config() if callable(stage.config) else stage.config
                key, _ = self.run.key(config, stage.inputs())
            except (OSError, EdgepruneError):
                states[stage.name] = "stale (its inputs are missing)"
                continue
            states[stage.name] = "done" if self.run.fresh(stage.name, key) else "stale (recipe or inputs changed)"
        return states

    def _progress(self, stages: list[Stage], left: list[Stage], elapsed: float) -> str:
        """``5/23 stages, 160 s so far, about 290 s left``: seconds per base epoch come from the training stage."""
        done = len(stages) - len(left)
        text = f"{done}/{len(stages)} stages, {elapsed:.0f} s so far"
        train = self.run.stages.get("train")
        if not left:
            return text
        if train is None or not self.recipe.train.epochs:
            return text + "; a time estimate follows training"
        per_epoch = max(train.seconds - 2.0, 0.0) / self.recipe.train.epochs
        eta = sum(s.epochs * per_epoch + s.fixed_s for s in left if s.name not in self.run.stages)
        return text + f", about {eta:.0f} s left (estimated)"

    def _prepare_folder(self, stage: Stage, key: str) -> None:
        """Empty the stage's folder unless it holds an interrupted run of this very work (then it resumes)."""
        pending = self.run.meta.setdefault("pending", {})
        if stage.folder is not None and stage.folder.exists():
            if stage.resumable and pending.get(stage.name) == key:
                log(f"{stage.name}: resuming the interrupted run in {stage.folder}")
            else:
                shutil.rmtree(stage.folder)
        pending[stage.name] = key
        self.run.save()

    def _execute_stage(self, stage: Stage, key: str, config: Any, hashes: dict[str, str]) -> None:
        log(f"[bold]{stage.name}[/bold]: running")
        started = time.time()
        try:
            if os.environ.get(INTERRUPT_ENV) == stage.name:
                raise KeyboardInterrupt(f"{INTERRUPT_ENV}={stage.name}")
            self._prepare_folder(stage, key)
            artifacts, info = stage.work()
        except KeyboardInterrupt:
            self.run.event(stage.name, "interrupted", round(time.time() - started, 3))
            raise
        except BaseException as e:
            if _SIGINT.seen:  # Ctrl-C inside a library call can surface as that library's own error
                self.run.event(stage.name, "interrupted", round(time.time() - started, 3))
                raise KeyboardInterrupt(f"interrupted in {stage.name}") from e
            self.run.event(stage.name, "failed", round(time.time() - started, 3))
            raise
        self.run.meta.get("pending", {}).pop(stage.name, None)
        rec = self.run.record(stage.name, key, config, hashes, artifacts, started, info)
        log(f"{stage.name}: done in {rec.seconds:.1f} s")


class _SigintWatch:
    """While a pipeline runs, remember that Ctrl-C came (then raise KeyboardInterrupt as Python would)."""

    seen = False

    def __enter__(self) -> _SigintWatch:
        import signal
        import threading

        self.seen, self._previous = False, None
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # a background job: Ctrl-C is not for us
        if threading.current_thread() is threading.main_thread() and not ignored:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


_SIGINT = _SigintWatch()


def _portable(train: Any) -> dict[str, Any]:
    """The training settings that make a model what it is: the device does not, so a run trained on a GPU
    machine is up to date on the CPU machine that exports and benches it."""
    return {k: v for k, v in dataclasses.asdict(train).items() if k != "device"}


def _required(stage: str) -> bool:
    return not stage.startswith("deploy")


def _select(items: list[str], names: list[str], flag: str) -> set[str]:
    """Stage names matching each item: an exact name, a family (``prune``), or a variant name."""
    chosen: set[str] = set()
    for item in items:
        for part in (p.strip() for p in item.split(",") if p.strip()):
            hits = [n for n in names if n == part or _family(n) == part or n.split(":", 1)[-1] == part
                    or n.split(":", 1)[-1].split("@", 1)[0] == part]
            if not hits:
                families = sorted({_family(n) for n in names})
                raise ConfigError(f"{flag} {part!r} names no stage of this recipe",
                                  hint=f"a stage ({', '.join(names)}) or a family ({', '.join(families)})")
            chosen.update(hits)
    return chosen


def _backend_available(name: str) -> bool:
    """True when an optional bench backend can run here (its ``missing()`` says nothing is missing)."""
    try:
        from edgeprune.bench.backends import get_backend

        return get_backend(name).missing() is None
    except Exception:
        return False


def _deploy_available(kind: str) -> bool:
    """Whether a deploy target can build here (the web bundle needs the npm runtime from `make setup`)."""
    if kind != "web":
        return True
    from edgeprune.deploy.web import installed_version
    from edgeprune.errors import EdgepruneError

    try:
        installed_version()
    except EdgepruneError:
        return False
    return True


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
