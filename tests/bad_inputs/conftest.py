"""The bad-input catalogue's one rule: a refused input exits with its code, says why in one error line
(plus at most a hint), prints no traceback and leaves ``--out`` as it found it.

``refuse(argv, code=2, match=..., out=...)`` runs the CLI in-process (no interpreter start per case) and
asserts all four; ``snapshot`` records a folder's files so a case can prove nothing was half-written.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Refusal:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ": error: " in ln]


def snapshot(folder: Path | None) -> dict[str, tuple[int, int]] | None:
    """Every file under ``folder`` with its size and mtime; None when the folder does not exist."""
    if folder is None or not folder.exists():
        return None
    if folder.is_file():
        st = folder.stat()
        return {".": (st.st_size, st.st_mtime_ns)}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(argv: Sequence[str]) -> Refusal:
    """``edgeprune ARGV`` in this process: exit code, stdout, stderr (argparse's SystemExit included)."""
    from edgeprune.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = int(main([str(a) for a in argv]) or 0)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return Refusal(code, out.getvalue(), err.getvalue())


def _refuse(argv: Sequence[str], *, code: int = 2, match: str, out: Path | None = None) -> Refusal:
    before = snapshot(out)
    r = run_cli(argv)
    shown = f"edgeprune {' '.join(map(str, argv))}\n--- stderr ---\n{r.stderr}\n--- stdout ---\n{r.stdout[-2000:]}"
    assert "Traceback" not in r.stderr + r.stdout, shown
    assert r.code == code, f"exit {r.code}, expected {code}\n{shown}"
    assert len(r.error_lines) == 1, f"expected one error line\n{shown}"
    assert re.search(match, r.error_lines[0], re.IGNORECASE), f"error line does not match {match!r}\n{shown}"
    assert not any(ln.lstrip().startswith('File "') for ln in r.stderr.splitlines()), shown  # no stack frames
    if out is not None:
        assert snapshot(out) == before, f"--out {out} changed\n{shown}"
    return r


@pytest.fixture
def refuse() -> Callable[..., Refusal]:
    """``refuse(argv, code=2, match=regex, out=folder)``: assert the CLI refused ARGV cleanly."""
    return _refuse
