"""How to (re)train, as one torch-free dataclass: the CLI reads its defaults and choices while building --help."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from edgeprune.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass
class TrainConfig:
    """How to (re)train: optimizer, schedule, early stopping, device, seed."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    cosine: bool = True
    freeze_features: bool = False
    patience: int | None = None
    select: str = "val_loss"
    device: str = "auto"
    amp: bool = True  # on CUDA: bf16 autocast where the GPU has it, fp16 with loss scaling elsewhere
    channels_last: bool = True  # on CUDA: NHWC activations, what tensor cores want for convolutions
    seed: int = 0
    num_workers: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}", params=("epochs",))
        if self.batch_size < 1:
            raise ConfigError(f"batch size (batch_size) must be >= 1, got {self.batch_size}", params=("batch_size",))
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer {self.optimizer!r} is not one of {OPTIMIZERS}", params=("optimizer",))
        if not self.lr > 0:
            raise ConfigError(f"learning rate (lr) must be > 0, got {self.lr}", params=("lr",))
        if self.num_workers < 0:
            raise ConfigError(f"data loader workers (num_workers) must be >= 0, got {self.num_workers}",
                              params=("num_workers",))
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1 epoch, got {self.patience}",
                              hint="leave patience unset to never stop early", params=("patience",))
        if self.select not in ("val_loss", "val_acc"):
            raise ConfigError(f"select must be val_loss or val_acc, got {self.select!r}", params=("select",))

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (train.json records them)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The config ``to_dict`` wrote; an unknown key is refused."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown TrainConfig option {unknown[0]}", hint=f"known: {', '.join(known)}",
                              params=(unknown[0],))
        return cls(**data)
