"""``DeployConfig``: one dataclass per deploy target (web, device), validated; ``DeployResult``: what was shipped.

Each config names its target (``kind``) and the function that builds it, so :func:`edgeprune.deploy.deploy`
looks the handler up instead of switching on the kind. An option a target does not take is one
ConfigError that names it, and says which target it belongs to when it is another's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edgeprune.errors import ConfigError


@dataclass
class DeployConfig:
    """Options of one deploy target; subclasses register themselves in ``CONFIGS`` by ``kind``."""

    kind: ClassVar[str] = ""
    handler: ClassVar[tuple[str, str]] = ("", "")  # (module, function(model_path, out, config) -> DeployResult)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with the target's ``kind`` (``from_dict`` reads it back)."""
        return {"kind": self.kind, **dataclasses.asdict(self)}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> DeployConfig:
        """The config of a ``to_dict()`` dict, of the class its ``kind`` names."""
        d = dict(d)
        return DeployConfig.of(d.pop("kind", None), **d)

    @staticmethod
    def of(kind: str | DeployConfig | None, **options: Any) -> DeployConfig:
        """The config of target ``kind`` with ``options``, or a config with ``options`` applied."""
        if isinstance(kind, DeployConfig):
            config, kind = kind, kind.kind
        elif kind not in CONFIGS:
            raise ConfigError(f"deploy target {kind!r} is not one of {sorted(CONFIGS)}")
        else:
            config = None
        cls = CONFIGS[kind]
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            owner = next((k for k, c in CONFIGS.items() if k != kind and unknown[0] in
                          {f.name for f in dataclasses.fields(c)}), None)
            where = f"; it applies to {owner} deploys" if owner else ""
            raise ConfigError(f"unknown {kind} deploy option {unknown[0]!r}{where}",
                              hint=f"{kind} takes: {', '.join(names) or 'no options'}")
        return dataclasses.replace(config, **options) if config is not None else cls(**options)


@dataclass
class WebDeployConfig(DeployConfig):
    """The static web site: page ``title``, ``quiet`` (no size lines), ``require_spec`` (refuse foreign ONNX)."""

    kind: ClassVar[str] = "web"
    handler: ClassVar[tuple[str, str]] = ("edgeprune.deploy.web", "deploy_web")

    title: str | None = None  # None: "<model> (<K> classes)"
    quiet: bool = False
    require_spec: bool = True  # False: an ONNX file without edgeprune metadata gets labels 0..K-1, mean 0, std 1

    def __post_init__(self) -> None:
        if self.title is not None and not isinstance(self.title, str):
            raise ConfigError(f"title must be text, got {self.title!r}", params=("title",))
        for key in ("quiet", "require_spec"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} must be true or false, got {getattr(self, key)!r}", params=(key,))


@dataclass
class DeviceDeployConfig(DeployConfig):
    """The device bundle: ``target`` platform (None: this machine's) and whether the OpenVINO IR travels too."""

    kind: ClassVar[str] = "device"
    handler: ClassVar[tuple[str, str]] = ("edgeprune.deploy.device", "deploy_device")

    target: str | None = None
    openvino: bool = False

    def __post_init__(self) -> None:
        from edgeprune.runtime.device.targets import check_target

        self.target = check_target(self.target)
        if not isinstance(self.openvino, bool):
            raise ConfigError(f"openvino must be true or false, got {self.openvino!r}", params=("openvino",))


CONFIGS: dict[str, type[DeployConfig]] = {c.kind: c for c in (WebDeployConfig, DeviceDeployConfig)}


@dataclass
class DeployResult:
    """What one deploy shipped: the bundle or site, the model file in it and every file with sha256 and bytes.

    ``files`` is the bundle's own manifest entries (name -> sha256, bytes), read back, not recomputed.
    """

    kind: str
    path: str  # the site folder (web) or the .tar.gz (device)
    model: str  # the model's name inside the bundle (model.onnx)
    model_sha256: str
    source: str  # the file deploy was given (checkpoint or ONNX)
    shipped_from: str | None  # the file that became ``model`` (None: a verified conversion made for this bundle)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # DeployConfig.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeployResult:
        """The result of a ``to_dict()`` dict."""
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    @classmethod
    def of_manifest(cls, path: str, manifest: Mapping[str, Any], source: str, shipped_from: str | None,
                    config: DeployConfig) -> DeployResult:
        """The result of a bundle's manifest (``model`` and ``files`` with sha256, as the bundle records them)."""
        files = {name: dict(entry) for name, entry in manifest["files"].items()}
        model = manifest["model"]
        return cls(kind=config.kind, path=path, model=model, model_sha256=files[model]["sha256"], source=source,
                   shipped_from=shipped_from, files=files, config=config.to_dict())
