"""A configurable VGG: depth, BatchNorm, input size and channels, widths, classifier style.

The layout mirrors torchvision's VGG (``features`` then ``classifier``) so that ImageNet weights
map onto it layer by layer. ``classifier="seed"`` is the head of the two seed papers
(Dropout→Linear→4096→ReLU→Dropout→4096→ReLU→classes, no avgpool); ``compact`` is global
average pooling and one Linear, the sensible head for small inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from edgeprune.errors import ModelError

CONFIGS: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
CLASSIFIERS = ("seed", "compact")


def vgg_widths(depth: int, width: float = 1.0, widths: Sequence[int] | None = None) -> list[int]:
    """Conv widths of a VGG of this depth: the standard ones scaled by ``width``, or ``widths``."""
    if depth not in CONFIGS:
        raise ModelError(f"VGG depth {depth} is not one of {sorted(CONFIGS)}")
    base = [c for c in CONFIGS[depth] if c != "M"]
    if widths is not None:
        widths = [int(w) for w in widths]
        if len(widths) != len(base) or min(widths) < 1:
            raise ModelError(f"vgg{depth} needs {len(base)} positive conv widths, got {widths}")
        return widths
    if width <= 0:
        raise ModelError(f"width multiplier must be > 0, got {width}")
    return [max(1, round(c * width)) for c in base]


class VGG(nn.Module):
    """VGG with ``features`` (conv/BN/ReLU/maxpool) and ``classifier`` Sequentials."""

    def __init__(
        self,
        depth: int = 16,
        batch_norm: bool = True,
        num_classes: int = 10,
        in_channels: int = 3,
        input_size: int = 32,
        width: float = 1.0,
        widths: Sequence[int] | None = None,
        classifier: str = "compact",
        hidden: int = 4096,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if classifier not in CLASSIFIERS:
            raise ModelError(f"classifier {classifier!r} is not one of {CLASSIFIERS}")
        if input_size < 32:
            raise ModelError(f"VGG needs inputs of at least 32 px (5 max-pools), got {input_size}")
        conv_widths = iter(vgg_widths(depth, width, widths))
        layers: list[nn.Module] = []
        c_in = in_channels
        for item in CONFIGS[depth]:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            c_out = next(conv_widths)
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU(inplace=True))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.classifier_style = classifier
        if classifier == "seed":
            side = input_size // 32
            self.pool: nn.Module = nn.Identity()
            self.classifier = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(c_in * side * side, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
                nn.ReLU(inplace=True),
                nn.Linear(hidden, num_classes),
            )
        else:
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Linear(c_in, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def parse_vgg_name(name: str) -> tuple[int, bool] | None:
    """``vgg16_bn`` -> (16, True); ``vgg11`` -> (11, False); anything else -> None."""
    if not name.startswith("vgg"):
        return None
    body = name[3:]
    bn = body.endswith("_bn")
    if bn:
        body = body[:-3]
    if not body.isdigit() or int(body) not in CONFIGS:
        return None
    return int(body), bn
