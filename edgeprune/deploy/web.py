"""``edgeprune deploy web``: a static, offline site (onnxruntime-web, wasm) that classifies and benchmarks a model.

Bundle layout: ``index.html``, ``app.js``, ``style.css``, ``ort/`` (only the onnxruntime-web files
the page uses), ``model.onnx``, ``manifest.json`` (labels, input shape, mean/std, files with sha256
and bytes, runtime version) and ``serve.py`` (127.0.0.1, COOP/COEP). The runtime comes from the
npm package pinned in ``edgeprune/deploy/web/package.json``, installed by ``make setup``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError, ModelError

TEMPLATE = Path(__file__).resolve().parent / "web"
PAGE_FILES = ("index.html", "app.js", "style.css")
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
RUNTIME_DIR = "ort"
OPTIONS = ("quiet", "title", "require_spec")


class RuntimeMissingError(EdgepruneError):
    """onnxruntime-web is not installed where the package looks for it."""


def runtime_dir() -> Path:
    """Where onnxruntime-web's dist files are (EDGEPRUNE_ORT_WEB overrides the package's node_modules)."""
    override = os.environ.get("EDGEPRUNE_ORT_WEB")
    base = Path(override) if override else TEMPLATE / "node_modules" / "onnxruntime-web"
    return base / "dist"


def pinned_version() -> str:
    """The onnxruntime-web version pinned in the template's package.json."""
    return json.loads((TEMPLATE / "package.json").read_text())["dependencies"]["onnxruntime-web"]


def installed_version() -> str:
    """The version of the installed onnxruntime-web; RuntimeMissingError when it is not there."""
    dist = runtime_dir()
    pkg = dist.parent / "package.json"
    missing = [f for f in RUNTIME_FILES if not (dist / f).is_file()]
    if not pkg.is_file() or missing:
        raise RuntimeMissingError(f"onnxruntime-web is not installed in {dist.parent}",
                                  hint="run `make setup` (or `bash scripts/setup-web.sh`), which runs npm ci there")
    return json.loads(pkg.read_text())["version"]


def deploy_web(model_path: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Path:
    """Write the web bundle of ``model_path`` (checkpoint or ONNX) to ``out``; return ``out``.

    Options: ``quiet`` (no size lines), ``title`` (page title), ``require_spec`` (default True: an
    ONNX file without edgeprune metadata is an error; False: labels 0..K-1, mean 0, std 1).
    """
    from edgeprune.deploy import check_model_file, check_options

    check_options(options, OPTIONS, "web")
    model_path, out = Path(model_path), Path(out)
    if not model_path.is_file():
        raise ConfigError(f"model {model_path} does not exist", hint="pass a .safetensors checkpoint or an .onnx file")
    version = installed_version()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder")
    check_model_file(model_path)
    out.mkdir(parents=True, exist_ok=True)
    spec = _write_model(model_path, out / "model.onnx", options.get("require_spec", True))
    for name in PAGE_FILES:
        shutil.copyfile(TEMPLATE / name, out / name)
    shutil.copyfile(Path(__file__).resolve().parent / "serve.py", out / "serve.py")
    (out / RUNTIME_DIR).mkdir(exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copyfile(runtime_dir() / name, out / RUNTIME_DIR / name)
    manifest = build_manifest(out, spec, version, title=options.get("title"))
    from edgeprune.fileio import write_json

    write_json(out / "manifest.json", manifest)
    if not options.get("quiet"):
        _print_sizes(out, manifest)
    return out


def _write_model(model_path: Path, dest: Path, require_spec: bool = True):
    """Copy an ONNX file as is, or export a checkpoint; return its ModelSpec (required for the page)."""
    from edgeprune.export.onnx import read_spec

    if model_path.suffix == ".onnx":
        from edgeprune.export.onnx import onnx_files

        extra = onnx_files(model_path)[1:]
        if extra:
            raise ModelError(f"{model_path} keeps its weights in external data ({extra[0].name})",
                             hint="re-export it as one file (models under 2 GB are written as one file)")
        if model_path.resolve() != dest.resolve():
            shutil.copyfile(model_path, dest)
    elif model_path.suffix == ".safetensors":
        from edgeprune.export.onnx import export_onnx
        from edgeprune.models.checkpoint import load_checkpoint

        export_onnx(load_checkpoint(model_path), dest)
    else:
        raise ConfigError(f"cannot deploy {model_path.name}: expected a .safetensors checkpoint or an .onnx file")
    spec = read_spec(dest)
    if spec is None and not require_spec:
        return _bare_spec(dest)
    if spec is None:
        raise ModelError(f"{model_path} carries no edgeprune spec (labels, input shape, mean/std)",
                         hint="export it with `edgeprune export CKPT` so its ONNX metadata holds the spec")
    return spec


def _bare_spec(path: Path):
    """A spec from the ONNX input shape alone (for benchmarking models exported elsewhere)."""
    import onnx

    from edgeprune.models import ModelSpec

    dims = onnx.load(str(path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    shape = tuple(int(d.dim_value) for d in dims[1:])
    if len(shape) != 3 or min(shape) < 1:
        raise ModelError(f"{path.name}: input shape {shape} is not a fixed (C, H, W)")
    return ModelSpec(name=path.stem, input_shape=shape, mean=[0.0], std=[1.0])


def build_manifest(out: Path, spec, runtime_version: str, title: str | None = None) -> dict[str, Any]:
    """The manifest: what the page needs to preprocess and label, and every file with sha256 and bytes."""
    from edgeprune.fileio import sha256_file

    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
                       and not p.name.startswith(".")):  # hidden: temporary files, the --out lock
        rel = path.relative_to(out).as_posix()
        files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    c, h, w = spec.input_shape
    labels = list(spec.labels) or [str(i) for i in range(_num_outputs(out / "model.onnx"))]
    return {
        "format": "edgeprune-web/1",
        "title": title or f"{spec.name} ({len(labels)} classes)",
        "model": "model.onnx", "model_name": spec.name,
        "input_shape": [c, h, w], "labels": labels,
        "mean": [float(m) for m in spec.mean], "std": [float(s) for s in spec.std],
        "draw": c == 1 and _looks_like_digits(labels),
        "runtime": {"name": "onnxruntime-web", "version": runtime_version, "backend": "wasm",
                    "dir": RUNTIME_DIR + "/", "files": list(RUNTIME_FILES)},
        "provenance": dict(spec.provenance),
        "files": files,
    }


def _looks_like_digits(labels: list[str]) -> bool:
    return len(labels) <= 10 and all(lab.strip().isdigit() for lab in labels)


def _num_outputs(path: Path) -> int:
    import onnx

    dims = onnx.load(str(path), load_external_data=False).graph.output[0].type.tensor_type.shape.dim
    return int(dims[-1].dim_value) if dims else 0


def bundle_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """Bytes of the model, the runtime and the page (html/js/css/manifest-free rest)."""
    sizes = {"model": 0, "runtime": 0, "page": 0}
    for rel, f in manifest["files"].items():
        key = "model" if rel == manifest["model"] else "runtime" if rel.startswith(RUNTIME_DIR + "/") else "page"
        sizes[key] += f["bytes"]
    return sizes


def _print_sizes(out: Path, manifest: dict[str, Any]) -> None:
    s = bundle_sizes(manifest)
    mb = 1024 * 1024
    print(f"web bundle {out}: model {s['model'] / mb:.2f} MiB, runtime (onnxruntime-web "
           f"{manifest['runtime']['version']} wasm) {s['runtime'] / mb:.2f} MiB, page {s['page'] / 1024:.1f} KiB, "
           f"total {sum(s.values()) / mb:.2f} MiB")
    print(f"open it: python {out / 'serve.py'}  then http://127.0.0.1:8000/")
