"""The manifest: keys from config and input hashes, skip when fresh, notice damaged artifacts."""

from __future__ import annotations

import time

from edgeprune.fileio import sha256_file
from edgeprune.run import Run


def test_record_then_fresh_until_config_input_or_artifact_changes(tmp_path):
    run = Run(tmp_path)
    src = tmp_path / "in.txt"
    src.write_text("input")
    art = tmp_path / "stage" / "out.txt"
    art.parent.mkdir()
    art.write_text("output")
    key, hashes = run.key({"epochs": 3}, [src])
    assert hashes == {"in.txt": sha256_file(src)}
    run.record("s", key, {"epochs": 3}, hashes, [art], time.time())
    again = Run(tmp_path)  # read back from manifest.json
    assert again.fresh("s", key)
    assert again.stages["s"].artifacts[0]["path"] == "stage/out.txt"
    assert again.stages["s"].runs == 1
    assert not again.fresh("s", again.key({"epochs": 4}, [src])[0])      # config changed
    src.write_text("other input")
    assert not again.fresh("s", again.key({"epochs": 3}, [src])[0])      # input changed
    src.write_text("input")
    assert again.fresh("s", again.key({"epochs": 3}, [src])[0])
    art.write_text("outpuT")                                              # same size, other bytes
    assert not again.fresh("s", key)
    art.unlink()
    assert not again.fresh("s", key)


def test_manifest_lists_artifacts_and_events(tmp_path):
    run = Run(tmp_path)
    a = tmp_path / "a.bin"
    a.write_bytes(b"12345")
    run.record("x", "k", {}, {}, [a], time.time())
    run.event("x", "skipped")
    import json

    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["artifacts"]["a.bin"] == {"sha256": sha256_file(a), "bytes": 5, "stage": "x"}
    assert [e["action"] for e in m["events"]] == ["ran", "skipped"]
    run.forget("x")
    assert "x" not in Run(tmp_path).stages
