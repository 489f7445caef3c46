"""Web bundles without torch: the static page, onnxruntime-web's files, the model and manifest.json.

Bundle layout: ``index.html``, ``app.js``, ``style.css``, ``ort/`` (only the onnxruntime-web files
the page uses), ``model.onnx``, ``manifest.json`` (labels, input shape, mean/std, files with sha256
and bytes, runtime version) and ``serve.py`` (:mod:`edgeprune.runtime.serve`: 127.0.0.1, COOP/COEP).

The page's static files stay in ``edgeprune/deploy/web/`` (read as data, never imported): ``make
setup`` installs the onnxruntime-web npm package pinned by its package.json into its node_modules.
``edgeprune deploy web`` adds checkpoints (exported first) and the printed sizes; the bench's web
backend builds its page here from ONNX files directly.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError, ModelError
from edgeprune.runtime.bundle import sha256_file
from edgeprune.runtime.files import atomic_path
from edgeprune.runtime.onnxfile import SPEC_DEFAULTS, dims, load_header, onnx_files, read_spec_json

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "web"
SERVER = Path(__file__).resolve().parent / "serve.py"
PAGE_FILES = ("index.html", "app.js", "style.css")
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
RUNTIME_DIR = "ort"


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


def onnx_spec(path: Path, require_spec: bool = True) -> dict[str, Any]:
    """The spec the page needs, from the file's edgeprune metadata (or its input shape, unless required)."""
    spec = read_spec_json(path)
    if spec is None and require_spec:
        raise ModelError(f"{path} carries no edgeprune spec (labels, input shape, mean/std)",
                         hint="export it with `edgeprune export CKPT` so its ONNX metadata holds the spec")
    if spec is None:  # benchmarking a model exported elsewhere
        shape = tuple(int(d or 0) for d in dims(load_header(path).graph.input[0])[1:])
        if len(shape) != 3 or min(shape) < 1:
            raise ModelError(f"{path.name}: input shape {shape} is not a fixed (C, H, W)")
        spec = {"name": path.stem, "input_shape": list(shape)}
    return {**SPEC_DEFAULTS, "provenance": {}, **spec}


def write_site(onnx_path: str | os.PathLike[str], out: str | os.PathLike[str], version: str,
               require_spec: bool = True, title: str | None = None) -> dict[str, Any]:
    """Write the web bundle of a self-contained ONNX file to the folder ``out``; return its manifest."""
    onnx_path, out = Path(onnx_path), Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out {out} exists and is not a folder", params=("out",))
    out.mkdir(parents=True, exist_ok=True)
    dest = out / "model.onnx"
    extra = onnx_files(onnx_path)[1:]
    if extra:
        raise ModelError(f"{onnx_path} keeps its weights in external data ({extra[0].name})",
                         hint="re-export it as one file (models under 2 GB are written as one file)")
    if onnx_path.resolve() != dest.resolve():
        shutil.copyfile(onnx_path, dest)
    spec = onnx_spec(dest, require_spec)
    for name in PAGE_FILES:
        shutil.copyfile(TEMPLATE / name, out / name)
    shutil.copyfile(SERVER, out / "serve.py")
    (out / RUNTIME_DIR).mkdir(exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copyfile(runtime_dir() / name, out / RUNTIME_DIR / name)
    manifest = build_manifest(out, spec, version, title=title)
    with atomic_path(out / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def build_manifest(out: Path, spec: dict[str, Any], runtime_version: str, title: str | None = None) -> dict[str, Any]:
    """The manifest: what the page needs to preprocess and label, and every file with sha256 and bytes."""
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
                       and not p.name.startswith(".")):  # hidden: temporary files, the --out lock
        rel = path.relative_to(out).as_posix()
        files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    c, h, w = spec["input_shape"]
    labels = list(spec["labels"]) or [str(i) for i in range(_num_outputs(out / "model.onnx"))]
    return {
        "format": "edgeprune-web/1",
        "title": title or f"{spec['name']} ({len(labels)} classes)",
        "model": "model.onnx", "model_name": spec["name"],
        "input_shape": [c, h, w], "labels": labels,
        "mean": [float(m) for m in spec["mean"]], "std": [float(s) for s in spec["std"]],
        "draw": c == 1 and _looks_like_digits(labels),
        "runtime": {"name": "onnxruntime-web", "version": runtime_version, "backend": "wasm",
                    "dir": RUNTIME_DIR + "/", "files": list(RUNTIME_FILES)},
        "provenance": dict(spec["provenance"]),
        "files": files,
    }


def _looks_like_digits(labels: list[str]) -> bool:
    return len(labels) <= 10 and all(lab.strip().isdigit() for lab in labels)


def _num_outputs(path: Path) -> int:
    shape = dims(load_header(path).graph.output[0])
    return int(shape[-1] or 0) if shape else 0


def bundle_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """Bytes of the model, the runtime and the page (html/js/css/manifest-free rest)."""
    sizes = {"model": 0, "runtime": 0, "page": 0}
    for rel, f in manifest["files"].items():
        key = "model" if rel == manifest["model"] else "runtime" if rel.startswith(RUNTIME_DIR + "/") else "page"
        sizes[key] += f["bytes"]
    return sizes
