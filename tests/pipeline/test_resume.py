"""Resume: an interrupted run keeps what finished; the same command resumes; finished stages are not recomputed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from edgeprune.cli import main


def _runs(manifest: dict) -> dict[str, int]:
    return {name: rec["runs"] for name, rec in manifest["stages"].items()}


def test_interrupted_during_pruning_then_resumed_recomputes_nothing_finished(interrupted_then_resumed):
    r = interrupted_then_resumed
    assert r["codes"] == (130, 0)
    before, after = r["before"], r["after"]
    # the interruption came when variant B started: data, train and A were finished and recorded
    assert set(before["stages"]) == {"data", "train", "prune:A"}
    assert any(e["stage"] == "prune:B" and e["action"] == "interrupted" for e in before["events"])
    # resumed: the finished stages were skipped (same record, one run each), the rest ran once
    for name in ("data", "train", "prune:A"):
        assert after["stages"][name]["finished"] == before["stages"][name]["finished"]
        assert after["stages"][name]["runs"] == 1
    assert set(_runs(after).values()) == {1}
    assert {"prune:B", "export:VGG", "export:A", "export:B", "bench", "report"} <= set(after["stages"])
    skipped = [e["stage"] for e in after["events"] if e["action"] == "skipped"]
    assert {"data", "train", "prune:A"} <= set(skipped)


def test_every_artifact_is_in_the_manifest_with_its_hash(interrupted_then_resumed):
    from edgeprune.fileio import sha256_file

    out = interrupted_then_resumed["out"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["artifacts"]
    for rel, a in m["artifacts"].items():
        p = out / rel
        assert p.stat().st_size == a["bytes"] and sha256_file(p) == a["sha256"], rel
    assert "models/VGG/model.safetensors" in m["artifacts"] and "report.md" in m["artifacts"]


def test_rerun_skips_everything_and_force_redoes_one_stage(finished_run, tiny_recipe):
    out = finished_run
    assert main(["pipeline", str(tiny_recipe), "--out", str(out), "--force", "bench"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    runs = _runs(m)
    assert runs["bench"] == 2
    assert runs["train"] == 1 and runs["prune:A"] == 1 and runs["prune:B"] == 1
    # a changed or damaged artifact is noticed: the stage that made it runs again
    (out / "models" / "B" / "eval.json").write_text("{}")
    assert main(["pipeline", str(tiny_recipe), "--out", str(out), "--until", "prune:B"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert _runs(m)["prune:B"] == 2 and _runs(m)["prune:A"] == 1


def test_real_sigint_during_the_run_keeps_finished_stages(tiny_recipe, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "EDGEPRUNE_QUIET": "1"}
    # a shell that starts jobs in the background makes them ignore SIGINT: give the child Ctrl-C back
    proc = subprocess.Popen([sys.executable, "-m", "edgeprune.cli", "pipeline", str(tiny_recipe), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = out / "manifest.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and "prune:A" in json.loads(manifest.read_text())["stages"]:  # written atomically
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    m = json.loads(manifest.read_text())
    assert {"data", "train", "prune:A"} <= set(m["stages"]) and "report" not in m["stages"]
    assert m["events"][-1]["action"] == "interrupted"
    # the same command resumes: nothing finished runs again
    finished = {n: r["finished"] for n, r in m["stages"].items()}
    assert main(["pipeline", str(tiny_recipe), "--out", str(out), "--until", "prune:A"]) == 0
    m2 = json.loads(manifest.read_text())
    assert {n: m2["stages"][n]["finished"] for n in finished} == finished


def test_ctrl_c_inside_a_pruning_stage_resumes_at_the_next_step(make_recipe, tmp_path, monkeypatch):
    """Ctrl-C right after step 1 of 2 of variant A: the same command redoes only step 2."""
    from pathlib import Path

    import edgeprune.pruning.schedule as schedule

    recipe = make_recipe(("target_macs = 0.5\nfinetune_epochs = 1", "target_macs = 0.5\nsteps = 2\nfinetune_epochs = 1"))
    out = tmp_path / "run"
    steps: list[int] = []
    real_write, real_prune_once = schedule.write_json, schedule.prune_once

    def write_then_interrupt(path, obj, *args, **kwargs):
        written = real_write(path, obj, *args, **kwargs)
        if Path(path).name == "state.json" and obj["done"] == 1 and not steps[1:]:
            raise KeyboardInterrupt  # as if Ctrl-C came right after step 1 was saved
        return written

    def counting_prune_once(model, sched, data, step, *args, **kwargs):
        steps.append(step)
        return real_prune_once(model, sched, data, step, *args, **kwargs)

    monkeypatch.setattr(schedule, "write_json", write_then_interrupt)
    monkeypatch.setattr(schedule, "prune_once", counting_prune_once)
    assert main(["pipeline", str(recipe), "--out", str(out), "--until", "prune:A"]) == 130
    assert steps == [1]
    assert main(["pipeline", str(recipe), "--out", str(out), "--until", "prune:A"]) == 0
    assert steps == [1, 2]
    report = json.loads((out / "models" / "A" / "prune.json").read_text())
    assert [row["step"] for row in report["history"]] == [1, 2]


def test_ctrl_c_that_a_library_turns_into_its_own_error_is_still_an_interrupt(tiny_recipe, tmp_path, monkeypatch):
    """safetensors or torch can surface a SIGINT as their own exception: the run still stops as interrupted."""
    import pytest

    import edgeprune.run
    from edgeprune.pipeline import Pipeline
    from edgeprune.pipeline.stages import models
    from edgeprune.recipe import load_recipe

    def train_then_ctrl_c(pipe, seed=None):
        edgeprune.run.SIGINT.seen = True  # what the SIGINT handler records (no real signal inside pytest's process)
        raise RuntimeError("could not determine the shape of object type 'torch.storage.UntypedStorage'")

    monkeypatch.setattr(models, "train", train_then_ctrl_c)
    pipe = Pipeline(load_recipe(tiny_recipe), tmp_path / "run")
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN in a job started in the background
    with pytest.raises(KeyboardInterrupt):
        pipe.execute()
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert m["events"][-1] == {**m["events"][-1], "stage": "train", "action": "interrupted"}
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_a_changed_claim_reruns_only_the_report(finished_run, make_recipe):
    out = finished_run
    edited = make_recipe(("speedup = 1.0", "speedup = 1.5"), ("max_accuracy_drop = 100.0", "max_accuracy_drop = 50.0"))
    assert main(["pipeline", str(edited), "--out", str(out)]) == 0
    runs = _runs(json.loads((out / "manifest.json").read_text()))
    assert runs.pop("report") == 2
    assert set(runs.values()) == {1}, runs  # data, train, prune, export and bench were all reused
    assert "1.5x" in (out / "report.md").read_text()


def test_an_edited_recipe_shows_stale_stages_and_no_old_verdict(finished_run, make_recipe, capsys):
    out = finished_run
    edited = make_recipe(("target_macs = 0.5", "target_macs = 0.6"))
    capsys.readouterr()
    assert main(["pipeline", str(edited), "--out", str(out), "--list"]) == 0
    states = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert states["train"].startswith("done") and states["export:VGG"].startswith("done")
    assert states["prune:A"] == "stale (recipe or inputs changed)"
    assert states["prune:B"].startswith("stale (prune:A") and states["report"].startswith("stale")
    assert main(["pipeline", str(edited), "--out", str(out), "--until", "train"]) == 0
    printed = capsys.readouterr().out
    assert "out of date" in printed and "claim" not in printed.lower(), printed
