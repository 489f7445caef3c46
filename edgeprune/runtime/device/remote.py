"""A device reached over SSH: OpenSSH's ``ssh`` with the user's config and keys, BatchMode (no passwords).

Bundles travel over the ssh channel itself (stdin to ``cat``), are extracted on the device with
Python's tarfile 'data' filter and verified there by the runner before anything runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.runtime.bundle import sha256_file

EXTRACT = (  # Python 3.9+ on the device; without tarfile filters (Debian 12's 3.11.2) a checked manual copy
    "import os,sys,tarfile\n"
    "a,d=sys.argv[1],sys.argv[2]\n"
    "t=tarfile.open(a)\n"
    "ms=t.getmembers()\n"
    "bad=[m.name for m in ms if m.name.startswith(('/','\\\\')) or '..' in m.name.replace('\\\\','/').split('/') "
    "or not (m.isfile() or m.isdir())]\n"
    "if bad: sys.exit('unsafe bundle members: '+', '.join(bad))\n"
    "if hasattr(tarfile,'data_filter'): t.extractall(d,filter='data'); sys.exit()\n"
    "for m in ms:\n"
    " p=os.path.join(d,*m.name.split('/'))\n"
    " if m.isdir(): os.makedirs(p,exist_ok=True); continue\n"
    " os.makedirs(os.path.dirname(p),exist_ok=True)\n"
    " f=open(p,'wb'); f.write(t.extractfile(m).read()); f.close()\n"
    " os.chmod(p,0o755 if m.mode&0o100 else 0o644)\n"
)


class RemoteError(EdgepruneError):
    """The device could not be reached, or a command on it failed."""

    exit_code = 3


@dataclasses.dataclass(frozen=True)
class SshOptions:
    """Where and how to reach the device; everything else comes from ~/.ssh/config and the agent/keys."""

    device: str
    identity: str | None = None
    port: int | None = None
    strict_host_key_checking: str | None = None
    known_hosts: str | None = None
    ssh_config: str | None = None
    remote_dir: str = ".cache/edgeprune-device"
    python: str = "python3"
    remote_setup: bool = False
    cpus: str | None = None
    connect_timeout: int = 15
    timeout: float = 1800.0

    def __post_init__(self) -> None:
        parse_device(self.device)
        if self.strict_host_key_checking not in (None, "yes", "no", "accept-new", "ask"):
            raise ConfigError(f"StrictHostKeyChecking {self.strict_host_key_checking!r} is not yes, no or accept-new")

    @classmethod
    def from_mapping(cls, options: dict[str, Any]) -> SshOptions:
        """Build from a dict, ignoring keys that are not options (e.g. a bench artifact's options)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})

    @classmethod
    def parse(cls, device: str | dict[str, Any] | SshOptions, **defaults: Any) -> SshOptions:
        """From an SshOptions, a dict, or a URL whose query sets options: ``ssh://pi@board?remote_setup=1&cpus=2,3``."""
        if isinstance(device, SshOptions):
            return device
        if isinstance(device, dict):
            return cls.from_mapping({**defaults, **device})
        base, _, query = str(device).partition("?")
        options: dict[str, Any] = {**defaults, "device": base}
        names = {f.name: f.type for f in dataclasses.fields(cls)}
        for key, value in parse_qsl(query, keep_blank_values=True):
            key = key.replace("-", "_")
            if key not in names or key == "device":
                raise ConfigError(f"unknown ssh option {key!r} in {device!r}",
                                  hint=f"known: {', '.join(n for n in names if n != 'device')}")
            kind = str(names[key])
            if kind.startswith("bool"):
                options[key] = value.lower() in ("", "1", "yes", "true", "on")
            elif kind.startswith(("int", "float")):
                try:
                    options[key] = (float if kind.startswith("float") else int)(value)
                except ValueError:
                    raise ConfigError(f"ssh option {key}={value!r} is not a number") from None
            else:
                options[key] = value
        return cls.from_mapping(options)


def parse_device(url: str) -> tuple[str, int | None]:
    """``ssh://user@host[:port]`` (or ``user@host``) -> (``user@host``, port or None)."""
    parts = urlsplit(url if "://" in url else f"ssh://{url}")
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"device {url!r} is not ssh://[user@]host[:port]", hint="e.g. device ssh://pi@raspberrypi.local",
                          params=("device",))
    try:
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"device {url!r} has a bad port") from e
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return (f"{parts.username}@{host}" if parts.username else host), port


class SshDevice:
    """Run commands on, and install bundles onto, one device over ssh."""

    def __init__(self, options: SshOptions) -> None:
        self.options = options
        self.dest, url_port = parse_device(options.device)
        self.port = options.port or url_port
        self.python = options.python
        # relative paths start in the login's home; "~/" would not expand once quoted
        self.remote_dir = options.remote_dir.removeprefix("~/").rstrip("/") or "."

    def ssh_args(self) -> list[str]:
        """The ssh command line up to (not including) the remote command."""
        o = self.options
        args = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={o.connect_timeout}"]
        if o.ssh_config:
            args += ["-F", o.ssh_config]
        if o.identity:
            args += ["-i", o.identity, "-o", "IdentitiesOnly=yes"]
        if self.port:
            args += ["-p", str(self.port)]
        if o.strict_host_key_checking:
            args += ["-o", f"StrictHostKeyChecking={o.strict_host_key_checking}"]
        if o.known_hosts:
            args += ["-o", f"UserKnownHostsFile={o.known_hosts}"]
        return [*args, self.dest]

    def run(self, command: str, stdin: Path | None = None, what: str = "command") -> str:
        """Run a shell command on the device; return its stdout or raise RemoteError with its stderr."""
        try:
            with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
                proc = subprocess.run([*self.ssh_args(), command], stdin=f, capture_output=True,
                                      timeout=self.options.timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise RemoteError(f"{self.options.device}: {what} took over {self.options.timeout:.0f} s") from e
        except FileNotFoundError as e:
            raise ConfigError("the ssh client is not installed", hint="apt-get install openssh-client") from e
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            hint = ("check that `ssh " + self.dest + "` works without a password (keys or agent)"
                    if proc.returncode == 255 else None)
            raise RemoteError(f"{self.options.device}: {what} failed (exit {proc.returncode}): "
                              f"{' | '.join(err[-3:]) or 'no output'}", hint=hint)
        return proc.stdout.decode(errors="replace")

    def target(self) -> str:
        """The device's bundle target (linux-aarch64, linux-x86_64) from ``uname -sm``."""
        system, _, machine = self.run("uname -sm", what="uname").strip().partition(" ")
        machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)
        return f"{system.lower()}-{machine}"

    def install(self, bundle: Path) -> str:
        """Copy ``bundle`` to the device (unless a verified copy is there), extract it safely, verify it; return its folder."""
        sha = sha256_file(bundle)
        folder = f"{self.remote_dir}/{sha[:16]}"
        q, py = shlex.quote, shlex.quote(self.python)
        cmd = (f"set -e; if [ -f {q(folder)}/run.py ] && {py} {q(folder)}/run.py verify; then exit 0; fi; "  # cached
               f"mkdir -p {q(folder)}; cat > {q(folder)}.tar.gz; "
               f"rm -rf {q(folder)}; {py} -c {q(EXTRACT)} {q(folder)}.tar.gz {q(folder)}; "
               f"rm -f {q(folder)}.tar.gz; {py} {q(folder)}/run.py verify")
        out = self.run(cmd, stdin=bundle, what="bundle install")
        if '"ok": true' not in out:
            raise RemoteError(f"{self.options.device}: the bundle did not verify: {out.strip()}")
        return folder

    def setup(self, folder: str) -> str:
        """Create a venv beside the bundles and pip-install the bundle's requirements; return its python."""
        venv = f"{self.remote_dir}/venv"
        q = shlex.quote
        self.run(f"set -e; test -x {q(venv)}/bin/python || {q(self.options.python)} -m venv {q(venv)}; "
                 f"{q(venv)}/bin/python -m pip install -q --disable-pip-version-check -r {q(folder)}/requirements.txt",
                 what="remote setup (venv + pip install)")
        self.python = f"{venv}/bin/python"
        return self.python

    def runner(self, folder: str, *args: str, stdin: Path | None = None) -> str:
        """Run ``run.py`` of an installed bundle with ``args``; return its stdout."""
        words = " ".join(shlex.quote(a) for a in (self.python, f"{folder}/run.py", *args))
        return self.run(words, stdin=stdin, what=f"run.py {args[0] if args else ''}".strip())

    def classify(self, folder: str, inputs: Path) -> list[dict[str, Any]]:
        """Classify a local .npy or image file on the device; one dict per sample."""
        remote = f"{folder}.inputs{inputs.suffix}"
        q = shlex.quote
        self.run(f"cat > {q(remote)}", stdin=inputs, what="upload inputs")
        try:
            out = self.runner(folder, "classify", remote)
        finally:
            self.run(f"rm -f {q(remote)}", what="cleanup")
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def bench(self, folders: list[str], threads: int, batch: int, preset: dict[str, Any]) -> dict[str, Any]:
        """Run the timing protocol on the device over ``folders`` (interleaved); the runner's JSON."""
        args = ["bench", "--threads", str(threads), "--batch", str(batch), "--preset-json", json.dumps(preset)]
        if self.options.cpus:
            args += ["--cpus", self.options.cpus]
        if len(folders) > 1:
            args += ["--with", *folders[1:]]
        out = self.runner(folders[0], *args)
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError) as e:
            raise RemoteError(f"{self.options.device}: the runner printed no JSON: {out[-200:]!r}") from e

