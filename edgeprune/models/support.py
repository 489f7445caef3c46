"""Which architectures edgeprune can prune and export, and the smallest input each one takes.

Structured channel pruning removes whole filters and the input columns that read them. Attention
blocks reshape channels into heads and windows with sizes fixed at construction (ViT, Swin, MaxViT),
so removing channels there is not a width change edgeprune can make; those are refused up front, in
one line, before any work. ``benchmarks/zoo.py`` runs every torchvision classifier through train,
checkpoint, prune, export and onnxruntime, and ``tests/models/test_zoo.py`` keeps this table true.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from edgeprune.errors import ModelError

TV_PREFIX = "tv:"
SIZES = (32, 64, 96, 128, 160, 224)

# torchvision name prefix -> why edgeprune refuses it
REFUSED = {
    "vit_": "Vision Transformer: attention heads and the class token fix the embedding width, so channels cannot be "
            "pruned structurally",
    "swin_": "Swin Transformer: windowed attention heads fix the embedding widths, so channels cannot be pruned "
             "structurally",
    "shufflenet_": "ShuffleNet: the channel shuffle interleaves the two branches' channels, which torch-pruning's "
                   "dependency graph cannot follow",
    "maxvit_": "MaxViT: block and grid attention fix the widths (and need 224 px inputs), so channels cannot be "
               "pruned structurally",
}


@dataclass(frozen=True)
class Support:
    """``refused`` with the reason, or supported."""

    name: str
    refused: bool
    reason: str = ""

    def describe(self) -> str:
        """``supported`` or ``refused: <why>`` (for ``edgeprune list models``)."""
        return f"refused: {self.reason}" if self.refused else "supported"


def support_status(name: str) -> Support:
    """Whether edgeprune prunes and exports ``name`` (an edgeprune VGG or ``tv:<torchvision name>``)."""
    arch = name[len(TV_PREFIX):] if name.startswith(TV_PREFIX) else None
    for prefix, why in REFUSED.items():
        if arch is not None and arch.startswith(prefix):
            return Support(name, True, why)
    return Support(name, False)


def check_supported(name: str) -> None:
    """Raise one ModelError line for an architecture edgeprune refuses."""
    s = support_status(name)
    if s.refused:
        raise ModelError(f"{name} is not supported: {s.reason}",
                         hint="`edgeprune list models` shows what is supported (CNNs: VGG, ResNet, MobileNet, ...)")


@functools.cache
def input_size_for(name: str, preferred: int = 32) -> int:
    """The smallest square input (from ``preferred`` up) the architecture accepts, tried on a weightless skeleton."""
    import torch

    for size in (s for s in SIZES if s >= preferred):
        try:
            model = build_skeleton(name, num_classes=10, in_channels=3, input_size=size).eval()
            with torch.no_grad():
                model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
            return size
        except (RuntimeError, ValueError, AssertionError, IndexError):
            continue
    raise ModelError(f"{name} accepts none of the input sizes {', '.join(map(str, SIZES))} px")


def build_skeleton(name: str, **kwargs: Any) -> Any:
    """The module with shapes but no initialized weights: on the meta device, or (for builders that compute
    widths with tensors, like RegNet's) on the CPU with torch.nn.init skipped."""
    import torch

    from edgeprune.models.registry import build

    try:
        with torch.device("meta"):
            return build(name, **kwargs)
    except NotImplementedError:
        with no_init():
            return build(name, **kwargs)


class no_init:
    """Skip torch.nn.init while building (the weights are never used, only the shapes)."""

    NAMES = ("kaiming_normal_", "kaiming_uniform_", "normal_", "uniform_", "trunc_normal_", "xavier_uniform_",
             "xavier_normal_", "constant_", "zeros_", "ones_", "orthogonal_")

    def __enter__(self) -> None:
        import torch

        self.saved = {n: getattr(torch.nn.init, n) for n in self.NAMES}
        for n in self.NAMES:
            setattr(torch.nn.init, n, lambda t, *a, **k: t)

    def __exit__(self, *exc: object) -> None:
        import torch

        for n, f in self.saved.items():
            setattr(torch.nn.init, n, f)
