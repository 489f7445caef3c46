"""``edgeprune deploy web``: a static, offline site (onnxruntime-web, wasm) that classifies and benchmarks a model.

The bundle itself (layout, manifest, onnxruntime-web lookup) is :mod:`edgeprune.runtime.web`; this
module adds checkpoints (their export's verified ONNX file, see materialize) and prints the sizes. The runtime comes from the
npm package pinned in ``edgeprune/deploy/web/package.json``, installed by ``make setup``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.deploy.config import DeployResult, WebDeployConfig
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


def deploy_web(model_path: str | os.PathLike[str], out: str | os.PathLike[str], config: WebDeployConfig | None = None,
               **options: Any) -> DeployResult:
    """Write the web bundle of ``model_path`` (checkpoint or ONNX) to the folder ``out``; return what it ships.

    ``config`` (or its fields as keywords): ``quiet`` (no size lines), ``title`` (page title),
    ``require_spec`` (default True: an ONNX file without edgeprune metadata is an error; False:
    labels 0..K-1, mean 0, std 1). A checkpoint ships its export's verified ONNX file (see
    :func:`~edgeprune.export.materialize.materialize`).
    """
    from edgeprune.deploy import check_model_file, config_of

    config = config_of(WebDeployConfig, config, options)
    model_path, out = Path(model_path), Path(out)
    if not model_path.is_file():
        raise ConfigError(f"model {model_path} does not exist", hint="pass a .safetensors checkpoint or an .onnx file")
    version = installed_version()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out {out} exists and is not a folder", params=("out",))
    check_model_file(model_path)
    from edgeprune.export.materialize import materialize

    with tempfile.TemporaryDirectory(prefix="edgeprune-web-") as tmp:
        onnx_path = materialize(model_path, "onnx", tmp)
        manifest = write_site(onnx_path, out, version, require_spec=config.require_spec, title=config.title)
        shipped_from = None if onnx_path.is_relative_to(tmp) else str(onnx_path)
    if not config.quiet:
        _print_sizes(out, manifest)
    return DeployResult.of_manifest(str(out), manifest, source=str(model_path), shipped_from=shipped_from,
                                    config=config)


def _print_sizes(out: Path, manifest: dict[str, Any]) -> None:
    s = bundle_sizes(manifest)
    mb = 1024 * 1024
    print(f"web bundle {out}: model {s['model'] / mb:.2f} MiB, runtime (onnxruntime-web "
           f"{manifest['runtime']['version']} wasm) {s['runtime'] / mb:.2f} MiB, page {s['page'] / 1024:.1f} KiB, "
           f"total {sum(s.values()) / mb:.2f} MiB")
    print(f"open it: python {out / 'serve.py'}  then http://127.0.0.1:8000/")
