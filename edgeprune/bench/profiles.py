"""Execution profiles: ``desktop`` (every core this process may use) and ``lowpower`` (1 thread pinned to one core)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

from edgeprune.errors import ConfigError

__all__ = ["PROFILES", "Profile", "get_profile", "pinned"]


@dataclasses.dataclass(frozen=True)
class Profile:
    """A named thread count and an optional CPU pinning (``pin``: pin to as many cores as threads)."""

    name: str
    description: str
    default_threads: int | None  # None: all cores in the affinity mask
    pin: bool

    def threads(self) -> int:
        """The profile's own thread count (explicit, never a library default)."""
        return self.default_threads or len(os.sched_getaffinity(0))

    def cores(self, threads: int) -> set[int] | None:
        """The cores to pin to for ``threads`` threads (None: leave affinity alone)."""
        if not self.pin:
            return None
        allowed = sorted(os.sched_getaffinity(0))
        return set(allowed[-max(1, min(threads, len(allowed))):])  # the last core(s): cpu0 takes the interrupts


PROFILES: dict[str, Profile] = {
    "desktop": Profile("desktop", "all cores in the affinity mask", None, False),
    "lowpower": Profile("lowpower", "1 thread pinned to one core (closest to a small board)", 1, True),
}


def get_profile(name: str) -> Profile:
    """A profile by name; unknown names raise ConfigError."""
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}", hint=f"choose from: {', '.join(PROFILES)}", params=("profiles",))
    return PROFILES[name]


def _tasks() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


@contextlib.contextmanager
def pinned(cores: set[int] | None) -> Iterator[None]:
    """Pin every thread of this process (and threads created meanwhile) to ``cores``; restore after."""
    if not cores or not hasattr(os, "sched_setaffinity"):
        yield
        return
    original = os.sched_getaffinity(0)
    for tid in _tasks():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cores)
    try:
        yield
    finally:
        for tid in _tasks():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, original)
