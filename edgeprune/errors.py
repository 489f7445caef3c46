"""Typed errors for user mistakes: the CLI prints them as one line plus a hint, never a traceback.

A library error speaks of the parameters its caller passed (``claim_on names an unknown backend``)
and lists them in ``params``; the CLI, whose user passed flags, shows the same error with each of
those names replaced by its flag (``--claim-on names an unknown backend``): see :meth:`in_terms_of`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


class EdgepruneError(Exception):
    """A problem the user can fix; ``hint`` says how; ``params`` are the parameter names it speaks of."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None, *, params: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.params = tuple(params)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"

    def in_terms_of(self, names: Mapping[str, str]) -> tuple[str, str | None]:
        """(message, hint) with each of ``params`` that ``names`` maps (``claim_on`` -> ``--claim-on``) renamed."""
        message, hint = self.message, self.hint
        for param in self.params:
            if param in names:
                word = re.compile(rf"(?<![\w/.-]){re.escape(param)}(?![\w/-])")  # not inside a path
                message = word.sub(names[param], message)
                hint = word.sub(names[param], hint) if hint else hint
        return message, hint


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


def first_line(e: BaseException, limit: int = 300, empty: str | None = None) -> str:
    """The first line of an exception's message (at most ``limit`` characters), for one-line errors.

    An empty message gives ``empty``, or the exception's type name when ``empty`` is None.
    """
    text = str(e).strip()
    if not text:
        return type(e).__name__ if empty is None else empty
    return text.splitlines()[0][:limit]
