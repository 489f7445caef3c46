"""The API module's docstring example runs as written and does what its comments say."""

from __future__ import annotations

import textwrap

import edgeprune.api
from edgeprune.export.manifest import verified_files


def test_the_docstring_example_runs(tmp_path, monkeypatch, capsys):
    doc = edgeprune.api.__doc__
    block = doc[doc.index("    import edgeprune"):].split("\n\n")[0]  # the indented example, up to the prose after it
    code = textwrap.dedent(block)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "edgeprune/api.py docstring", "exec"), namespace)
    assert float(capsys.readouterr().out.strip().splitlines()[-1]) > 1.0  # a quarter of the MACs is faster
    assert (tmp_path / "runs/api/base/model.safetensors").is_file()
    row = namespace["report"].rows[-1]
    assert row.role == "candidate" and row.ok
    assert row.sha256 == verified_files(tmp_path / "runs/api/obd/export")["onnx"]["sha256"]  # the verified file
    assert row.sha256 == namespace["shipped"].verified()["onnx"].sha256
    for result in ("base", "small", "shipped", "report"):  # every verb's result is plain data and back
        value = namespace[result]
        assert type(value).from_dict(value.to_dict()).to_dict() == value.to_dict(), result


def test_benchmark_takes_modules_as_well_as_paths(tmp_path):
    """A module (as a model or as the baseline) is measured from a temporary checkpoint; a config object works too."""
    import edgeprune as ep
    from edgeprune.bench.config import BenchConfig
    from edgeprune.runtime.timing import Preset

    base = ep.create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.25)
    small = ep.create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125)
    path = ep.save(small, tmp_path / "small.safetensors")
    tiny = Preset("tiny", warmup_runs=1, warmup_s=0.0, min_runs=4, min_rounds=2, min_time_s=0.0, max_time_s=2.0)
    config = BenchConfig(backends=["ort"], profiles=["lowpower"], preset=tiny, memory=False)
    report = ep.benchmark([small, path], config, baseline=base)
    assert [(r.variant, r.role, r.ok) for r in report.rows] == [
        ("vgg11_bn-base/model", "baseline", True), ("vgg11_bn-0/model", "candidate", True), ("small", "candidate", True)]
    # the module and its saved file are the same network (not the same bytes: safetensors orders a header's
    # metadata by a hash map, so two saves of one module can differ)
    assert (report.rows[1].params, report.rows[1].macs) == (report.rows[2].params, report.rows[2].macs)
    assert report.to_dict()["rows"][2]["model"] == str(path)


def test_the_readme_shows_the_same_example():
    """The README's API example is the docstring's, line for line, so it cannot drift from what runs."""
    from pathlib import Path

    doc = edgeprune.api.__doc__
    example = textwrap.dedent(doc[doc.index("    import edgeprune"):].split("\n\n")[0]).strip()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    start = section.index("```python\n") + len("```python\n")
    shown = section[start:section.index("\n```", start)].strip()
    assert [line.split("  #")[0] for line in shown.splitlines()] == [line.split("  #")[0] for line in example.splitlines()]
