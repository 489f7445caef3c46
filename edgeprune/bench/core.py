"""The bench matrix: models x backends x profiles x threads, baseline and candidates interleaved per cell."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgeprune.bench.artifacts import InputProblem, Source, artifact_bytes, artifact_for, inspect_model
from edgeprune.bench.backends import Artifact, Backend, get_backend
from edgeprune.bench.claims import check_claims
from edgeprune.bench.config import BenchConfig
from edgeprune.bench.profiles import Profile, get_profile, pinned
from edgeprune.bench.rows import BenchReport, BenchRow
from edgeprune.bench.stats import speedup, summarize
from edgeprune.errors import ConfigError, first_line
from edgeprune.runtime.timing import RawResult, measure_interleaved
from edgeprune.ui import log

__all__ = ["bench"]

PathLike = str | os.PathLike[str]


def bench(models: Sequence[PathLike] | PathLike, config: BenchConfig | None = None, *, baseline: PathLike | None = None,
          exports: dict[PathLike, PathLike] | None = None, data: Any = None, out: PathLike | None = None,
          **options: Any) -> BenchReport:
    """Measure every model on every backend/profile/threads cell; speedups against ``baseline``; write reports to ``out``.

    ``config`` says what to measure and how; keyword ``options`` are its fields (``backends="ort"``,
    ``threads=[1, 2]``, ``claim=2.0, claim_on="ort"``, ...) applied over it, the call form that predates it.
    ``exports`` maps a checkpoint to the folder ``edgeprune export`` wrote for it: its parity-checked ONNX
    and IR files are measured instead of fresh conversions (each row records the sha256 of what it ran).
    """
    from edgeprune import ui
    from edgeprune.bench.env import collect_env

    cfg = BenchConfig.build(config, **options)
    paths, has_base = _paths(models, baseline)
    _check_claim(cfg, paths, has_base)
    out_dir = Path(out) if out is not None else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out {out_dir} is an existing file, not a folder", hint="pass a folder for the reports",
                          params=("out",))
    sources = [inspect_model(p) for p in paths]
    _check_sources(sources, has_base)  # unreadable or incomparable models are refused before any timing
    test_data = _test_data(data, sources) if data is not None else None
    env = collect_env()  # before measuring: the load average then is part of the header
    tmp = None if out_dir else tempfile.TemporaryDirectory(prefix="edgeprune-bench-")
    cache = (out_dir or Path(tmp.name)) / "cache"
    try:
        _attach_exports(sources, exports or {})
        base_src = sources[0] if has_base else None
        cells = _cells(cfg)
        rows: list[BenchRow] = []
        for name, prof, t in ui.track(cells, "bench", total=len(cells)):
            rows += _cell(get_backend(name), prof, t, sources, base_src, cfg, cache)
        if cfg.memory:
            _fill_memory(rows, sources, cache)
        if test_data is not None:
            _fill_accuracy(rows, sources, cache, test_data)
        env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
        report = BenchReport(rows=rows, env=env, settings=_settings(cfg, paths, has_base, out_dir))
        if cfg.claim is not None:
            report.claims = check_claims(rows, cfg.claim)
        if out_dir:
            from edgeprune.bench.report import write_reports

            write_reports(report, out_dir)
        return report
    finally:
        if tmp:
            tmp.cleanup()


def _paths(models: Sequence[PathLike] | PathLike, baseline: PathLike | None) -> tuple[list[Path], bool]:
    """The models to measure, the baseline first (once) when there is one."""
    models = [models] if isinstance(models, (str, os.PathLike)) else list(models)
    paths = [Path(m) for m in models]
    if baseline is not None:
        b = Path(baseline)
        paths = [b] + [p for p in paths if p.resolve() != b.resolve()]
    if not paths:
        raise ConfigError("no model to benchmark", hint="pass one or more .safetensors, .onnx or .xml files",
                          params=("models",))
    return paths, baseline is not None


def _check_claim(cfg: BenchConfig, paths: list[Path], has_base: bool) -> None:
    """A speedup claim compares candidates with a baseline: both must be there."""
    if cfg.claim is None:
        return
    if not has_base:
        raise ConfigError("claim needs baseline", hint="name the unpruned model as baseline", params=("claim", "baseline"))
    if len(paths) < 2:
        raise ConfigError("claim needs a candidate in models besides baseline",
                          hint="e.g. bench([base, pruned], baseline=base, claim=2)",
                          params=("claim", "models", "baseline"))


def _settings(cfg: BenchConfig, paths: list[Path], has_base: bool, out_dir: Path | None) -> dict[str, Any]:
    """bench.json's settings: the models and the config as measured (the preset resolved)."""
    claim = cfg.claim
    return {"models": [str(p) for p in paths], "baseline": str(paths[0]) if has_base else None,
            "backends": cfg.backends, "profiles": cfg.profiles, "threads": cfg.threads, "batch": cfg.batch,
            "preset": cfg.timing().to_dict(), "claim": claim.speedup if claim else None,
            "claim_on": list(claim.on) if claim else [], "memory": cfg.memory, "device": cfg.device,
            "out": str(out_dir) if out_dir else None}


def _shape(dims: Sequence[int | None] | None) -> str:
    return "x".join("?" if d is None else str(d) for d in dims) if dims else "unknown"


def _check_sources(sources: list[Source], has_baseline: bool) -> None:
    """Refuse a MODEL that cannot be read, and a candidate whose input, outputs or labels differ from the baseline's."""
    from edgeprune.errors import ModelError

    for i, src in enumerate(sources):
        if src.problem:
            param = "baseline" if has_baseline and i == 0 else "models"
            raise ModelError(f"{param} {src.path}: {src.problem}",
                             hint="pass an edgeprune checkpoint (.safetensors), an ONNX file or an OpenVINO .xml",
                             params=(param,))
    if not has_baseline:
        return
    base = sources[0]
    for src in sources[1:]:
        what = None
        if src.input_shape != base.input_shape:
            what = f"input shape {_shape(src.input_shape)} vs the baseline's {_shape(base.input_shape)}"
        elif src.outputs and base.outputs and src.outputs != base.outputs:
            what = f"{src.outputs} outputs vs the baseline's {base.outputs}"
        elif (src.output_shape and base.output_shape and None not in src.output_shape + base.output_shape
              and src.output_shape != base.output_shape):
            what = f"output shape {_shape(src.output_shape)} vs the baseline's {_shape(base.output_shape)}"
        elif src.labels and base.labels and src.labels != base.labels:
            what = f"labels {_labels(src.labels)} vs the baseline's {_labels(base.labels)}"
        if what:
            raise ModelError(f"models {src.path} is not comparable with the baseline {base.path}: {what}",
                             hint="a speedup compares two versions of one model (same input, same classes)",
                             params=("models",))


def _labels(labels: list[str]) -> str:
    shown = ",".join(labels[:5])
    return f"[{shown}{',...' if len(labels) > 5 else ''}] ({len(labels)})"


def _test_data(data: Any, sources: list[Source]) -> tuple[Any, Any]:
    """The test split as arrays; refuse a MODEL whose input or output width does not fit the dataset."""
    from edgeprune.bench.accuracy import test_arrays
    from edgeprune.errors import ModelError

    shape = next(iter(s.input_shape for s in sources if s.input_shape), None)
    if isinstance(data, str):
        from edgeprune.data import load_data

        data = load_data(data, **({"input_size": shape[1], "channels": shape[0]} if shape and len(shape) == 3 else {}))
    xs, ys = test_arrays(data, shape)
    classes = len(data.labels) if getattr(data, "labels", None) else int(ys.max()) + 1
    name = getattr(data, "name", "the data")
    for src in sources:
        if src.input_shape and tuple(src.input_shape) != tuple(xs.shape[1:]):
            raise ModelError(f"data {name} gives inputs {_shape(xs.shape[1:])} but models {src.path} takes "
                             f"{_shape(src.input_shape)}", hint="bench models of one input shape with data",
                             params=("data", "models"))
        width = src.output_shape[-1] if src.output_shape else None
        if width is not None and width != classes:
            raise ModelError(f"data {name} has {classes} classes but models {src.path} has {width} outputs",
                             hint="accuracy needs a model trained on that dataset", params=("data", "models"))
    return xs, ys


def _threads_for(cfg: BenchConfig, profile: Profile) -> list[int]:
    """Explicit thread counts of a profile (``threads`` overrides the profile's own)."""
    return cfg.threads or [profile.threads()]


def _cells(cfg: BenchConfig) -> list[tuple[str, Profile, int]]:
    """The matrix; an out-of-process backend with ``thread_counts`` picks its own threads and names its profile."""
    cells = []
    profiles = [get_profile(p) for p in cfg.profiles]
    for name in cfg.backends:
        backend = get_backend(name)
        if not backend.in_process and hasattr(backend, "thread_counts"):
            asked = sorted({t for p in profiles for t in _threads_for(cfg, p)})
            cells += [(name, profiles[0], int(t)) for t in backend.thread_counts(asked)]
        else:
            cells += [(name, p, t) for p in profiles for t in _threads_for(cfg, p)]
    return cells


def _attach_exports(sources: list[Source], exports: dict[PathLike, PathLike]) -> None:
    """Point each checkpoint at its export's verified files (a stale export, of another checkpoint, is ignored)."""
    from edgeprune.export.manifest import verified_files

    by_path = {Path(k).resolve(): Path(v) for k, v in exports.items()}
    for src in sources:
        folder = by_path.get(src.path.resolve())
        if folder is not None and src.format == "checkpoint" and src.sha256:
            src.verified = {form: Path(f["path"]) for form, f in verified_files(folder, src.sha256).items()}
            if not src.verified:
                log(f"bench: {folder} holds no verified export of {src.path} (made from another file, or parity "
                    "failed); converting the checkpoint instead")


def _sha256(path: Path, _seen: dict[tuple[str, int, int], str] = {}) -> str:  # noqa: B006 - a per-process cache
    from edgeprune.fileio import sha256_file

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _seen:
        _seen[key] = sha256_file(path)
    return _seen[key]


def _row(src: Source, backend: Backend, version: str | None, profile: Profile, threads: int, cfg: BenchConfig,
         base: Source | None) -> BenchRow:
    return BenchRow(model=str(src.path), variant=src.label, format=src.format, precision=src.precision,
                    backend=backend.name, backend_version=version, profile=profile.name, threads=threads,
                    batch=cfg.batch, role="baseline" if src is base else "candidate", params=src.params, macs=src.macs)


def _fail(row: BenchRow, reason: str) -> BenchRow:
    row.status, row.reason = "error", reason
    return row


def _cell(backend: Backend, profile: Profile, threads: int, sources: list[Source], base: Source | None,
          cfg: BenchConfig, cache: Path) -> list[BenchRow]:
    """All models on one (backend, profile, threads) cell, interleaved."""
    backend.device, backend.options = cfg.device, cfg.options_for(backend.name)  # this bench's, nobody else's
    missing = backend.missing()
    version = None
    if not missing:
        try:
            version = backend.version()
        except Exception as e:
            missing = f"{backend.name} cannot be imported: {type(e).__name__}: {e}"
    rows = [_row(s, backend, version, profile, threads, cfg, base) for s in sources]
    if missing:
        return [_fail(r, missing) for r in rows]
    arts: list[tuple[BenchRow, Artifact]] = []
    for row, src in zip(rows, sources, strict=True):
        try:
            art = artifact_for(src, backend.form, cache)
            row.size_bytes = artifact_bytes(art)
            row.artifact, row.sha256 = str(art.path), _sha256(art.path)
            arts.append((row, art))
        except InputProblem as e:
            _fail(row, str(e))
        except Exception as e:  # a converter crashing on one model must not take the run down
            _fail(row, f"conversion to {backend.form} failed: {type(e).__name__}: {e}")
    if backend.in_process:
        with pinned(profile.cores(threads)):
            results = _in_process(backend, arts, threads, cfg)
    else:  # the measuring process is elsewhere (browser, board): local pinning would mean nothing
        results = _out_of_process(backend, arts, threads, cfg)
        with contextlib.suppress(Exception):
            version = backend.version()  # remote runtimes are known only after measuring
    for row in rows:
        row.backend_version = version
    for (row, _), res in zip(arts, results, strict=True):
        _fill_timing(row, res, cfg.batch)
        if res.info.get("profile"):
            row.profile = str(res.info["profile"])
    named = {r.profile for r in rows if r.ok}
    if len(named) == 1:  # failed rows follow the measured ones' profile name
        for r in rows:
            r.profile = next(iter(named))
    _fill_speedups(rows, base)
    return rows


def _in_process(backend: Backend, arts: list[tuple[BenchRow, Artifact]], threads: int, cfg: BenchConfig) -> list[RawResult]:
    sessions, runs, results = [], [], []
    for _, art in arts:
        try:
            s = backend.load(art, threads, cfg.batch)
            sessions.append(s)
            runs.append((art.name, s.run, s.init_ms))
        except Exception as e:
            sessions.append(None)
            runs.append(None)
            results.append((len(runs) - 1, RawResult(art.name, error=f"load failed: {type(e).__name__}: {_line(e)}")))
    try:
        measured = iter(measure_interleaved([r for r in runs if r is not None], cfg.timing()))
    finally:
        for s in sessions:
            if s is not None and s.close:
                s.close()
    failed = dict(results)
    out = []
    for i, s in enumerate(sessions):
        if s is None:
            out.append(failed[i])
        else:
            res = next(measured)
            res.info = {**s.info, **res.info}
            out.append(res)
    return out


def _out_of_process(backend: Backend, arts: list[tuple[BenchRow, Artifact]], threads: int, cfg: BenchConfig) -> list[RawResult]:
    if not arts:
        return []
    try:
        got = list(backend.measure([a for _, a in arts], threads, cfg.batch, cfg.timing()))
    except Exception as e:
        return [RawResult(a.name, error=f"{type(e).__name__}: {_line(e)}") for _, a in arts]
    if len(got) != len(arts):
        return [RawResult(a.name, error=f"{backend.name} returned {len(got)} results for {len(arts)} models")
                for _, a in arts]
    return [RawResult.from_dict(g) if isinstance(g, dict) else g for g in got]


def _line(e: BaseException) -> str:
    return first_line(e, empty="")  # after the type name: "ValueError: <first line>"


def _fill_timing(row: BenchRow, res: RawResult, batch: int) -> None:
    if res.error:
        _fail(row, res.error)
        return
    if not res.samples:
        _fail(row, "no timed samples")
        return
    row.init_ms, row.first_ms, row.rounds, row.runtime = res.init_ms, res.first_ms, res.rounds, dict(res.info)
    for key, value in summarize(res.samples, batch).items():
        setattr(row, key, value)


def _fill_speedups(rows: list[BenchRow], base: Source | None) -> None:
    brow = next((r for r in rows if r.role == "baseline"), None)
    if base is None or brow is None or not brow.ok:
        for r in rows:
            if r.ok and base is not None and r.role != "baseline":
                r.reason = "baseline not measured in this cell"
        return
    for r in rows:
        if not r.ok:
            continue
        if r.role == "baseline":
            r.speedup_vs_baseline, r.speedup_ci_low, r.speedup_ci_high = 1.0, 1.0, 1.0
        else:
            s = speedup(brow.rounds, r.rounds)
            r.speedup_vs_baseline, r.speedup_ci_low, r.speedup_ci_high = s.ratio, s.ci_low, s.ci_high
        if brow.macs and r.macs:
            r.macs_ratio = brow.macs / r.macs
            r.efficiency = r.speedup_vs_baseline / r.macs_ratio


def _fill_memory(rows: list[BenchRow], sources: list[Source], cache: Path) -> None:
    """Peak RSS per (model, backend, threads), each in a fresh worker process."""
    from edgeprune import ui
    from edgeprune.bench.memory import peak_rss

    by_path = {str(s.path): s for s in sources}
    done: dict[tuple[str, str, int], tuple[int | None, str | None]] = {}
    todo = [r for r in rows if r.ok]
    for r in ui.track(todo, "peak memory", total=len(todo)):
        key = (r.model, r.backend, r.threads)
        if key not in done:
            backend = get_backend(r.backend)
            if not backend.in_process:
                done[key] = (None, None)
                continue
            art = artifact_for(by_path[r.model], backend.form, cache)
            done[key] = peak_rss(r.backend, art.path, art.form, art.input_shape, r.threads, r.batch)
        r.peak_rss_bytes, problem = done[key]
        if problem:
            r.runtime["memory_error"] = problem


def _fill_accuracy(rows: list[BenchRow], sources: list[Source], cache: Path, test_data: tuple[Any, Any]) -> None:
    """Test-split accuracy per (model, backend) (threads and profile do not change it)."""
    from edgeprune.bench.accuracy import accuracy_of

    by_path = {str(s.path): s for s in sources}
    xs, ys = test_data
    done: dict[tuple[str, str], float | None] = {}
    for r in rows:
        if not r.ok:
            continue
        key = (r.model, r.backend)
        if key not in done:
            backend = get_backend(r.backend)
            try:
                art = artifact_for(by_path[r.model], backend.form, cache)
                done[key] = accuracy_of(backend.name, art, xs, ys) if backend.in_process else None
            except Exception as e:
                r.runtime["accuracy_error"] = f"{type(e).__name__}: {_line(e)}"
                done[key] = None
        r.accuracy = done[key]
        r.accuracy_n = len(ys) if done[key] is not None else None
