"""Progress bars and console output (rich), quiet when not attached to a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def interactive() -> bool:
    """True when progress bars make sense (a terminal, not CI, not EDGEPRUNE_QUIET)."""
    return sys.stderr.isatty() and not os.environ.get("EDGEPRUNE_QUIET") and not os.environ.get("CI")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a rich progress bar on a terminal; plainly otherwise."""
    if not interactive():
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, transient=True)


def log(message: str) -> None:
    """One status line on stderr (rich markup allowed on a terminal)."""
    if interactive():
        from rich.console import Console

        Console(stderr=True).print(message)
    else:
        print(_strip_markup(message), file=sys.stderr, flush=True)


def _strip_markup(text: str) -> str:
    import re

    return re.sub(r"\[/?[a-z ]+\]", "", text)
