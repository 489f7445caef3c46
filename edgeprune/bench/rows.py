"""The result types of a bench: one BenchRow per (model, backend, profile, threads), and the BenchReport."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeprune.bench.claims import ClaimCheck

__all__ = ["BenchReport", "BenchRow"]


@dataclasses.dataclass
class BenchRow:
    """One measured (or failed) cell of the bench matrix; keys are stable JSON keys."""

    model: str
    variant: str
    format: str | None
    precision: str
    backend: str
    backend_version: str | None
    profile: str
    threads: int
    batch: int = 1
    role: str = "candidate"  # or "baseline"
    status: str = "ok"  # "ok" or "error"
    reason: str | None = None
    size_bytes: int | None = None
    peak_rss_bytes: int | None = None
    params: int | None = None
    macs: int | None = None
    artifact: str | None = None  # the file the backend ran (an export's verified file when there is one)
    sha256: str | None = None  # of ``artifact``
    accuracy: float | None = None
    accuracy_n: int | None = None  # test images behind ``accuracy`` (for its interval)
    init_ms: float | None = None
    first_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    std_ms: float | None = None
    cv: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    fps: float | None = None
    samples: int = 0
    speedup_vs_baseline: float | None = None
    speedup_ci_low: float | None = None
    speedup_ci_high: float | None = None
    macs_ratio: float | None = None
    efficiency: float | None = None
    runtime: dict[str, Any] = dataclasses.field(default_factory=dict)
    rounds: list[list[float]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True for a measured row."""
        return self.status == "ok"

    @property
    def key(self) -> tuple[str, str, int]:
        """The (backend, profile, threads) group the row belongs to."""
        return self.backend, self.profile, self.threads

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``speedup_ci`` repeats the interval as a pair for readers that expect one."""
        d = dataclasses.asdict(self)
        d["speedup_ci"] = None if self.speedup_ci_low is None else [self.speedup_ci_low, self.speedup_ci_high]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchRow:
        """Inverse of :meth:`to_dict` (a row of bench.json); a key no bench writes is an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names - {"speedup_ci"})
        if unknown:
            raise ValueError(f"bench row has unknown key {unknown[0]!r} (known: {', '.join(sorted(names))})")
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclasses.dataclass
class BenchReport:
    """Rows, the environment header, the settings and the claim verdicts of one bench."""

    rows: list[BenchRow]
    env: dict[str, Any]
    settings: dict[str, Any]
    claims: list[ClaimCheck] = dataclasses.field(default_factory=list)

    @property
    def claim_passed(self) -> bool | None:
        """None without a claim; else True only when every checked row passed."""
        if not self.settings.get("claim"):
            return None
        return bool(self.claims) and all(c.passed for c in self.claims)

    def to_dict(self) -> dict[str, Any]:
        """The content of bench.json."""
        return {"env": self.env, "settings": self.settings, "rows": [r.to_dict() for r in self.rows],
                "claims": [dataclasses.asdict(c) for c in self.claims], "claim_passed": self.claim_passed}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchReport:
        """Inverse of :meth:`to_dict` (the content of bench.json); ``claim_passed`` is recomputed."""
        from edgeprune.bench.claims import ClaimCheck

        unknown = sorted(set(d) - {"env", "settings", "rows", "claims", "claim_passed"})
        if unknown:
            raise ValueError(f"bench report has unknown key {unknown[0]!r}")
        return cls(rows=[BenchRow.from_dict(r) for r in d.get("rows", [])], env=dict(d.get("env", {})),
                   settings=dict(d.get("settings", {})), claims=[ClaimCheck.from_dict(c) for c in d.get("claims", [])])
