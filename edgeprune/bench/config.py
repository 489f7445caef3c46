"""BenchConfig: what a bench measures and how, validated on construction, with each backend's options typed.

``bench(models, BenchConfig(backends=["ort"], profiles=["lowpower"], claim=ClaimConfig(2.0)))``. Errors
name the parameter (``threads must be positive integers``) and list it in ``params``, so the CLI can show
its flag instead. Checks that need the models (a claim needs a baseline) are the bench's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from edgeprune.bench.claims import ClaimConfig, parse_claim_on
from edgeprune.errors import ConfigError
from edgeprune.runtime.device.remote import SshOptions
from edgeprune.runtime.timing import PRESETS, Preset

__all__ = ["DEFAULT_BACKENDS", "BenchConfig", "SshOptions", "WebOptions"]

DEFAULT_BACKENDS = ("torch", "ort", "openvino")


@dataclasses.dataclass(frozen=True)
class WebOptions:
    """Options of the ``web`` backend: the Chromium to drive (None: $EDGEPRUNE_CHROMIUM or /usr/bin/chromium)."""

    chromium: str | None = None

    def __post_init__(self) -> None:
        if self.chromium is not None and (not isinstance(self.chromium, str) or not self.chromium):
            raise ConfigError(f"web.chromium must be a path to the browser, got {self.chromium!r}", params=("web",))


def _split(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{param} must be a list of names, got {value!r}", params=(param,))
    return [v.strip() for v in value if v.strip()]


@dataclasses.dataclass
class BenchConfig:
    """The bench matrix (backends x profiles x threads), the timing preset, the claim and per-backend options."""

    backends: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_BACKENDS))
    profiles: list[str] = dataclasses.field(default_factory=lambda: ["desktop"])
    threads: list[int] | None = None  # None: each profile's own thread count
    batch: int = 1
    preset: str | Preset = "quick"
    min_time_s: float | None = None  # overrides the preset's
    max_time_s: float | None = None
    claim: ClaimConfig | None = None
    memory: bool = True
    device: str | None = None  # where an out-of-process backend runs; for ssh, the URL of ``ssh``
    ssh: SshOptions | None = None
    web: WebOptions | None = None

    def __post_init__(self) -> None:
        from edgeprune.bench.backends import backend_names, get_backend
        from edgeprune.bench.profiles import get_profile

        asked = self.backends
        self.backends = _split(asked, "backends")
        if not self.backends:
            raise ConfigError(f"backends names no backend: {asked!r}", hint="e.g. backends=ort,openvino",
                              params=("backends",))
        known = backend_names()
        for name in self.backends:
            if name not in known:
                raise ConfigError(f"unknown backend {name!r}", hint=f"choose from: {', '.join(known)}",
                                  params=("backends",))
        asked = self.profiles
        self.profiles = _split(asked, "profiles")
        if not self.profiles:
            raise ConfigError(f"profiles names no profile: {asked!r}", hint="e.g. profiles=desktop,lowpower",
                              params=("profiles",))
        for name in self.profiles:
            get_profile(name)
        if isinstance(self.threads, int) and not isinstance(self.threads, bool):
            self.threads = [self.threads]
        if self.threads is not None:
            t = self.threads
            if (not isinstance(t, (list, tuple)) or not t
                    or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in t)):
                raise ConfigError(f"threads must be positive integers, got {t!r}", hint="e.g. threads=1,2",
                                  params=("threads",))
            self.threads = list(t)
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ConfigError(f"batch must be an integer >= 1, got {self.batch!r}", params=("batch",))
        if isinstance(self.preset, dict):
            self.preset = Preset(**_known(Preset, self.preset, "preset"))
        if isinstance(self.preset, str) and self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}", hint=f"choose from: {', '.join(PRESETS)}",
                              params=("preset",))
        if not isinstance(self.preset, (str, Preset)):
            raise ConfigError(f"preset must be a preset name or a Preset, got {self.preset!r}", params=("preset",))
        for key in ("min_time_s", "max_time_s"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value <= 0):
                raise ConfigError(f"{key} must be > 0 seconds (it overrides the preset's), got {value!r}",
                                  params=(key,))
        if isinstance(self.claim, dict):
            self.claim = ClaimConfig.from_dict(_known(ClaimConfig, self.claim, "claim"))
        elif isinstance(self.claim, (int, float)) and not isinstance(self.claim, bool):
            self.claim = _claim_config(self.claim, None)
        if self.claim is not None and not isinstance(self.claim, ClaimConfig):
            raise ConfigError(f"claim must be a ClaimConfig or a speedup, got {self.claim!r}", params=("claim",))
        if self.claim is not None:
            self._check_claim_scope()
        self._check_device(get_backend)
        if isinstance(self.ssh, dict):
            self.ssh = SshOptions.parse(_known(SshOptions, self.ssh, "ssh"))
        if isinstance(self.web, dict):
            self.web = WebOptions(**_known(WebOptions, self.web, "web"))
        if self.ssh is None and self.device is not None and "ssh" in self.backends:
            self.ssh = SshOptions.parse(self.device)  # a bad URL or option is refused now, not as a ❌ row later

    def _check_claim_scope(self) -> None:
        unmatched = [b for b, _ in parse_claim_on(self.claim.on) if b not in ("*", "fastest") and b not in self.backends]
        if unmatched:
            raise ConfigError(f"claim_on {unmatched[0]!r} is not among the benched backends {','.join(self.backends)}",
                              hint="a claim is checked on rows this bench measures", params=("claim_on", "backends"))

    def _check_device(self, get_backend: Any) -> None:
        if self.device is None:
            return
        if not isinstance(self.device, str):
            raise ConfigError(f"device must be a string such as ssh://user@host, got {self.device!r}", params=("device",))
        if all(get_backend(n).in_process for n in self.backends):
            raise ConfigError(f"device {self.device} needs a backend that runs on it (backends ssh)",
                              hint="add ssh to backends, or leave device out", params=("device", "backends"))

    def timing(self) -> Preset:
        """The preset with ``min_time_s`` / ``max_time_s`` applied (its name then ends in ``*``)."""
        preset = PRESETS[self.preset] if isinstance(self.preset, str) else self.preset
        changes = {k: float(getattr(self, k)) for k in ("min_time_s", "max_time_s") if getattr(self, k) is not None}
        return dataclasses.replace(preset, name=f"{preset.name}*", **changes) if changes else preset

    def options_for(self, backend: str) -> Any:
        """The typed options of one backend (``ssh`` -> ``self.ssh``), or None."""
        return getattr(self, backend, None) if backend in ("ssh", "web") else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (a Preset object and the options as plain dicts)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("claim", "ssh", "web"):
            d[key] = None if d[key] is None else dataclasses.asdict(d[key])
        if isinstance(self.preset, Preset):
            d["preset"] = self.preset.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchConfig:
        """Inverse of :meth:`to_dict`; an unknown key is an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown bench option {unknown[0]!r}", hint=f"known: {', '.join(sorted(names))}",
                              params=(unknown[0],))
        return cls(**d)

    @classmethod
    def build(cls, config: BenchConfig | None = None, **options: Any) -> BenchConfig:
        """``config`` (or the defaults) with keyword ``options`` applied; ``claim=F, claim_on=...`` make a ClaimConfig."""
        names = {f.name for f in dataclasses.fields(cls)}
        claim, claim_on = options.pop("claim", None), options.pop("claim_on", None)
        unknown = sorted(set(options) - names)
        if unknown:
            raise ConfigError(f"unknown bench option {unknown[0]!r}", hint=f"known: {', '.join(sorted(names | {'claim_on'}))}")
        if isinstance(claim, (int, float)) and not isinstance(claim, bool):
            claim = _claim_config(claim, claim_on)
        elif claim_on is not None and _claim_on(claim_on):
            if claim is None and (config is None or config.claim is None):
                raise ConfigError("claim_on needs claim", hint="e.g. claim=2.0, claim_on=ort", params=("claim_on", "claim"))
            base = claim or config.claim
            claim = dataclasses.replace(base, on=_claim_on(claim_on))
        if claim is not None:
            options["claim"] = claim
        if "device" in options and "ssh" not in options:
            options["ssh"] = None  # a new device: its options come from its URL, not the old device's
        if config is None:
            return cls(**options)
        return dataclasses.replace(config, **options) if options else config


def _known(cls: type, options: dict[str, Any], param: str) -> dict[str, Any]:
    """``options`` for dataclass ``cls``, refusing a key it does not have (a typo is never dropped)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ConfigError(f"{param} has no option {unknown[0]!r}", hint=f"{param} takes: {', '.join(sorted(names))}",
                          params=(param,))
    return options


def _claim_config(speedup: float, on: str | Sequence[str] | None) -> ClaimConfig:
    """A claim given as its speedup (the bench's ``claim=2.0, claim_on="ort"``)."""
    if not math.isfinite(speedup) or speedup <= 0:
        raise ConfigError(f"claim must be a positive, finite speedup, got {speedup:g}", hint="e.g. claim=2.0",
                          params=("claim",))
    return ClaimConfig(float(speedup), _claim_on(on))


def _claim_on(value: str | Sequence[str] | None) -> list[str]:
    from edgeprune.bench.claims import claim_on_text

    return claim_on_text(parse_claim_on(value))
