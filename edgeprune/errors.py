"""Typed errors for user mistakes: the CLI prints them as one line plus a hint, never a traceback."""

from __future__ import annotations


class EdgepruneError(Exception):
    """A problem the user can fix; ``hint`` says how."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class ConfigError(EdgepruneError):
    """A bad option, recipe key or value."""


class DataNotFoundError(EdgepruneError):
    """A dataset is not on disk (edgeprune never downloads unless asked)."""


class WeightsNotFoundError(EdgepruneError):
    """Pretrained weights are not on disk."""


class CheckpointError(EdgepruneError):
    """A checkpoint is missing, truncated, corrupted or not edgeprune's."""


class ModelError(EdgepruneError):
    """A model cannot be built or cannot take the requested input."""


class ExportError(EdgepruneError):
    """An export failed (unsupported layer, parity failure, ...)."""

    exit_code = 3


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type name when empty), for one-line errors."""
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__
