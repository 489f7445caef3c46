"""``edgeprune deploy web``: a static, offline site (onnxruntime-web, wasm) that classifies and benchmarks a model.

The bundle itself (layout, manifest, onnxruntime-web lookup) is :mod:`edgeprune.runtime.web`; this
module adds checkpoints (exported to ONNX first) and prints the sizes. The runtime comes from the
npm package pinned in ``edgeprune/deploy/web/package.json``, installed by ``make setup``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError
from edgeprune.runtime.web import (  # noqa: F401 (re-exported: the names `edgeprune deploy web` has always had)
    PAGE_FILES,
    RUNTIME_DIR,
    RUNTIME_FILES,
    TEMPLATE,
    RuntimeMissingError,
    build_manifest,
    bundle_sizes,
    installed_version,
    pinned_version,
    runtime_dir,
    write_site,
)

OPTIONS = ("quiet", "title", "require_spec")


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
    if model_path.suffix == ".safetensors":
        from edgeprune.export.onnx import export_onnx
        from edgeprune.models.checkpoint import load_checkpoint

        out.mkdir(parents=True, exist_ok=True)
        model_path = export_onnx(load_checkpoint(model_path), out / "model.onnx")
    elif model_path.suffix != ".onnx":
        raise ConfigError(f"cannot deploy {model_path.name}: expected a .safetensors checkpoint or an .onnx file")
    manifest = write_site(model_path, out, version, require_spec=options.get("require_spec", True),
                          title=options.get("title"))
    if not options.get("quiet"):
        _print_sizes(out, manifest)
    return out


def _print_sizes(out: Path, manifest: dict[str, Any]) -> None:
    s = bundle_sizes(manifest)
    mb = 1024 * 1024
    print(f"web bundle {out}: model {s['model'] / mb:.2f} MiB, runtime (onnxruntime-web "
           f"{manifest['runtime']['version']} wasm) {s['runtime'] / mb:.2f} MiB, page {s['page'] / 1024:.1f} KiB, "
           f"total {sum(s.values()) / mb:.2f} MiB")
    print(f"open it: python {out / 'serve.py'}  then http://127.0.0.1:8000/")
