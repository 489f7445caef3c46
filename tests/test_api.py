"""The API module's docstring example runs as written and does what its comments say."""

from __future__ import annotations

import textwrap

import edgeprune.api
from edgeprune.export.manifest import verified_files


def test_the_docstring_example_runs(tmp_path, monkeypatch, capsys):
    doc = edgeprune.api.__doc__
    code = textwrap.dedent(doc[doc.index("    import edgeprune"):])
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "edgeprune/api.py docstring", "exec"), namespace)
    assert float(capsys.readouterr().out.strip().splitlines()[-1]) > 1.0  # a quarter of the MACs is faster
    assert (tmp_path / "runs/api/base/model.safetensors").is_file()
    row = namespace["report"].rows[-1]
    assert row.role == "candidate" and row.ok
    assert row.sha256 == verified_files(tmp_path / "runs/api/obd/export")["onnx"]["sha256"]  # the verified file
