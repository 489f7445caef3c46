"""The runtime layer: what runs exported models, shared by export, bench and deploy, without torch.

Nothing here imports torch, torchvision or any part of edgeprune except this package and
``edgeprune.errors``; every module is importable with numpy and (for sessions) onnxruntime.

- :mod:`.timing`   the timing protocol and its summary statistics (stdlib + numpy)
- :mod:`.ort`      the one place onnxruntime sessions are configured (threads, spinning)
- :mod:`.machine`  CPU model and SIMD flags from /proc/cpuinfo, installed versions
- :mod:`.bundle`   checksums and the verification of an extracted device bundle
- :mod:`.openvino` OpenVINO CPU compile settings (FP32 pinned) and runners
- :mod:`.onnxfile` reading ONNX files: metadata, external-data parts, input and output shapes
- :mod:`.serve`    the static server of a web bundle (127.0.0.1, COOP/COEP)
- :mod:`.device`   device bundles (runner template, pins, packing), the SSH transport
- :mod:`.web`      web bundles (page, onnxruntime-web files, manifest)

``SHIPPED`` are the modules the device bundle carries verbatim (as ``runtime/`` beside ``run.py``):
they import the standard library, numpy and onnxruntime only, and nothing from each other, so the
runner works on a board with Python 3.9, numpy and onnxruntime and no edgeprune.

This file itself ships too, so it imports nothing.
"""

SHIPPED = ("__init__.py", "timing.py", "ort.py", "machine.py", "bundle.py")
