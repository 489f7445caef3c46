"""The speed claim check: every checked candidate row's interval lower bound must reach the claim."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from edgeprune.bench.rows import BenchRow
from edgeprune.errors import ConfigError

__all__ = ["ClaimCheck", "check_claims", "parse_claim_on"]


@dataclasses.dataclass
class ClaimCheck:
    """The verdict for one (model, backend, profile, threads) row."""

    variant: str
    backend: str
    profile: str
    threads: int
    claim: float
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    passed: bool
    line: str


def parse_claim_on(spec: str | Sequence[str] | None) -> list[tuple[str, str | None]]:
    """``"ort,openvino:lowpower"`` -> [("ort", None), ("openvino", "lowpower")]; ``*`` matches any backend."""
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
        if backend != "*" and backend not in known:
            raise ConfigError(f"claim_on names an unknown backend {backend!r}", hint=f"one of {', '.join(known)} or *",
                              params=("claim_on",))
        out.append((backend, profile or None))
    return out


def _covered(row: BenchRow, scope: list[tuple[str, str | None]]) -> bool:
    return not scope or any(b in ("*", row.backend) and p in (None, row.profile) for b, p in scope)


def check_claims(rows: Sequence[BenchRow], claim: float, claim_on: str | Sequence[str] | None = None) -> list[ClaimCheck]:
    """One check per candidate row in scope; a row with no measured interval fails."""
    scope = parse_claim_on(claim_on)
    checks = []
    for r in rows:
        if r.role == "baseline" or not _covered(r, scope):
            continue
        where = f"{r.variant} on {r.backend}/{r.profile}/{r.threads}t"
        if r.ok and r.speedup_ci_low is not None:
            passed = r.speedup_ci_low >= claim
            line = (f"{'PASS' if passed else 'FAIL'} {where}: {r.speedup_vs_baseline:.2f}x "
                    f"[95% CI {r.speedup_ci_low:.2f}, {r.speedup_ci_high:.2f}] "
                    f"{'>=' if passed else '<'} {claim:g}x (lower bound)")
        else:
            passed = False
            why = r.reason or "no baseline measured in the same group"
            line = f"FAIL {where}: not measured ({why})"
        checks.append(ClaimCheck(r.variant, r.backend, r.profile, r.threads, claim, r.speedup_vs_baseline,
                                 r.speedup_ci_low, r.speedup_ci_high, passed, line))
    return checks
