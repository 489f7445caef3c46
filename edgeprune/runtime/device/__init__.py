"""Device bundles without torch: the runner template (``run.py``), pinned requirements, packing, SSH.

``edgeprune.deploy.device`` builds bundles from checkpoints too (exporting them first); the bench's
``ssh`` backend bundles ONNX files with :func:`bundle_onnx` directly.
"""

from edgeprune.runtime.device.pack import (
    FORMAT,
    BundleError,
    bundle_onnx,
    check_members,
    extract_bundle,
    read_manifest,
    verify_dir,
    write_bundle,
)

__all__ = ["FORMAT", "BundleError", "bundle_onnx", "check_members", "extract_bundle", "read_manifest", "verify_dir",
           "write_bundle"]
