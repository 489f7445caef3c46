"""The one speed-claim checker, for the bench and the report: a checked row's interval lower bound must reach the claim.

``on`` items read ``BACKEND[:PROFILE]``: a backend name, ``*`` (every backend, each checked on its own) or
``fastest`` (per variant and profile, the CPU runtime on which the variant runs fastest); no profile means
every profile. ``thread_choice="each"`` checks every thread count; ``"fastest"`` checks, per (variant,
backend, profile), only the thread count with the lowest p50 (what the report claims about).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

from edgeprune.bench.rows import BenchRow
from edgeprune.errors import ConfigError

__all__ = ["THREAD_CHOICES", "ClaimCheck", "ClaimConfig", "check_claims", "parse_claim_on"]

THREAD_CHOICES = ("each", "fastest")
FASTEST = "fastest"


@dataclasses.dataclass
class ClaimCheck:
    """The verdict for one checked row (or, for a variant that had to be checked, for its missing row)."""

    variant: str
    backend: str
    profile: str
    threads: int | None
    claim: float
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    passed: bool
    line: str
    asked: str = ""  # the ``on`` backend that selected the row (``ort``, ``*``, ``fastest``)
    p50_ms: float | None = None
    measured: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimCheck:
        """Inverse of ``dataclasses.asdict``."""
        return cls(**d)


def parse_claim_on(spec: str | Sequence[str] | None) -> list[tuple[str, str | None]]:
    """``"ort,openvino:lowpower"`` -> [("ort", None), ("openvino", "lowpower")]; ``*`` and ``fastest`` are kept."""
    if spec is None:
        return []
    from edgeprune.bench.backends import backend_names

    known = backend_names()
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out = []
    for item in items:
        if isinstance(item, tuple):  # already parsed
            out.append(item)
            continue
        item = item.strip()
        if not item:
            continue
        backend, _, profile = item.partition(":")
        if not backend:
            raise ConfigError(f"bad claim_on item {item!r}", hint="use BACKEND or BACKEND:PROFILE, e.g. ort,openvino:lowpower",
                              params=("claim_on",))
        if backend not in ("*", FASTEST) and backend not in known:
            raise ConfigError(f"claim_on names an unknown backend {backend!r}",
                              hint=f"one of {', '.join(known)}, * or {FASTEST}", params=("claim_on",))
        out.append((backend, profile or None))
    return out


def claim_on_text(scope: Iterable[tuple[str, str | None]]) -> list[str]:
    """[("ort", None), ("openvino", "lowpower")] -> ["ort", "openvino:lowpower"]."""
    return [f"{b}:{p}" if p else b for b, p in scope]


@dataclasses.dataclass
class ClaimConfig:
    """A speed claim: ``speedup`` x faster (interval lower bound) on the rows ``on`` selects."""

    speedup: float = 3.0
    on: list[str] = dataclasses.field(default_factory=list)  # empty: every candidate row
    thread_choice: str = "each"

    def __post_init__(self) -> None:
        s = self.speedup
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise ConfigError(f"speedup must be a positive, finite number, got {s!r}", hint="e.g. 3.0",
                              params=("speedup",))
        try:
            self.on = claim_on_text(parse_claim_on(self.on))
        except ConfigError as e:
            raise ConfigError(e.message.replace("claim_on", "on"), hint=e.hint, params=("on",)) from None
        if self.thread_choice not in THREAD_CHOICES:
            raise ConfigError(f"thread_choice = {self.thread_choice!r}: must be one of {', '.join(THREAD_CHOICES)}",
                              params=("thread_choice",))

    def scope(self) -> list[tuple[str, str | None]]:
        """The ``on`` items as (backend, profile or None)."""
        return parse_claim_on(self.on)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**d)


def _backend_matches(asked: str, backend: str) -> bool:
    if asked == FASTEST:
        from edgeprune.bench.backends import CPU_BACKENDS

        return backend in CPU_BACKENDS
    return asked in ("*", backend)


def _verdict(r: BenchRow, claim: float, asked: str) -> ClaimCheck:
    where = f"{r.variant} on {r.backend}/{r.profile}/{r.threads}t"
    if r.ok and r.speedup_ci_low is not None:
        passed = r.speedup_ci_low >= claim
        line = (f"{'PASS' if passed else 'FAIL'} {where}: {r.speedup_vs_baseline:.2f}x "
                f"[95% CI {r.speedup_ci_low:.2f}, {r.speedup_ci_high:.2f}] "
                f"{'>=' if passed else '<'} {claim:g}x (lower bound)")
        measured = True
    else:
        passed, measured = False, False
        line = f"FAIL {where}: not measured ({r.reason or 'no baseline measured in the same group'})"
    return ClaimCheck(r.variant, r.backend, r.profile, r.threads, claim, r.speedup_vs_baseline, r.speedup_ci_low,
                      r.speedup_ci_high, passed, line, asked=asked, p50_ms=r.p50_ms, measured=measured)


def _missing(variant: str, asked: str, profile: str | None, claim: float) -> ClaimCheck:
    where = f"{variant} on {asked}/{profile or '*'}"
    return ClaimCheck(variant, asked, profile or "*", None, claim, None, None, None, False,
                      f"FAIL {where}: not measured (no row of it in scope)", asked=asked, measured=False)


def _fastest(rows: list[BenchRow]) -> BenchRow:
    return min(rows, key=lambda r: r.p50_ms if r.p50_ms is not None else math.inf)


def check_claims(rows: Sequence[BenchRow], claim: float | ClaimConfig, claim_on: str | Sequence[str] | None = None,
                 *, thread_choice: str | None = None, variants: Sequence[str] | None = None) -> list[ClaimCheck]:
    """One verdict per selected candidate row; a selected row without a measured interval fails.

    ``claim`` is a :class:`ClaimConfig` or its speedup (then ``claim_on`` / ``thread_choice`` complete it).
    ``variants`` names candidates that must be checked: one with no row selected by an ``on`` item gets a
    failing "not measured" check; without it, every candidate variant in ``rows`` is checked, and an item
    that selects nothing checks nothing.
    """
    if not isinstance(claim, ClaimConfig):
        claim = ClaimConfig(float(claim), claim_on if claim_on is not None else [], thread_choice or "each")
    scope = claim.scope() or [("*", None)]
    cands = [r for r in rows if r.role != "baseline"]
    names = list(variants) if variants is not None else list(dict.fromkeys(r.variant for r in cands))
    order = {id(r): i for i, r in enumerate(rows)}
    # the bench judges a row once however many items select it; a caller naming variants gets one per item
    judged: dict[Any, tuple[int, int, int, ClaimCheck]] = {}
    missing: list[tuple[int, int, int, ClaimCheck]] = []
    for n, name in enumerate(names):
        mine = [r for r in cands if r.variant == name]
        for k, (asked, profile) in enumerate(scope):
            hit = [r for r in mine if _backend_matches(asked, r.backend) and profile in (None, r.profile)]
            if not hit and variants is not None:
                missing.append((n, k, len(rows), _missing(name, asked, profile, claim.speedup)))
            for r in _select(hit, asked, claim.thread_choice):
                key = id(r) if variants is None else (id(r), k)
                judged.setdefault(key, (n, k, order[id(r)], _verdict(r, claim.speedup, asked)))
    if variants is None:  # the bench's list: in row order
        return [t[3] for t in sorted(judged.values(), key=lambda t: t[2])]
    return [t[3] for t in sorted([*judged.values(), *missing], key=lambda t: t[:3])]  # per variant, per item


def _select(hit: list[BenchRow], asked: str, thread_choice: str) -> list[BenchRow]:
    """The rows to judge: all, or one per group (``fastest`` collapses backends, ``thread_choice`` threads)."""
    if asked != FASTEST and thread_choice == "each":
        return hit
    groups: dict[tuple[Any, ...], list[BenchRow]] = {}
    for r in hit:
        key = (r.profile,) + (() if asked == FASTEST else (r.backend,)) + (() if thread_choice == "fastest" else (r.threads,))
        groups.setdefault(key, []).append(r)
    picked = []
    for group in groups.values():
        measured = [r for r in group if r.ok and r.speedup_vs_baseline is not None]
        picked.append(_fastest(measured) if measured else group[0])
    return picked
