"""The stage executor (generic, in edgeprune.run), the run layout, and the pipeline's stage list.

The executor is tested with stages that write small text files, so these tests run in a moment; the
pipeline's stage list is compared with the one the code before the split built (golden/), so a run
folder made by that code is still up to date: same names, keys (config + inputs), needs and folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.run import Executor, Layout, Run, Stage

GOLDEN = Path(__file__).parent / "golden"


def describe(pipe) -> list[dict]:
    """Every stage as plain data: what makes its key (config, input paths) and how it runs."""
    root = pipe.run.root
    out = []
    for s in pipe.stages():
        rel = lambda p: Path(p).relative_to(root).as_posix()  # noqa: E731
        out.append({"name": s.name, "config": json.loads(json.dumps(s.key_config(), sort_keys=True, default=str)),
                    "inputs": [rel(p) for p in s.inputs()], "needs": s.needs,
                    "folder": rel(s.folder) if s.folder else None, "resumable": s.resumable,
                    "estimate": [s.units, s.fixed_s]})
    return out


def test_the_stage_list_is_the_one_the_code_before_the_split_built(tmp_path):
    """Seeds, two variants, the device bundle: names, keys, needs, folders and estimates unchanged.

    golden/stages-seeded.json was written by the single-module pipeline (commit 4e4e644) for this recipe; a
    deliberate change of a stage's config or inputs changes it (and makes older run folders stale).
    """
    from edgeprune.pipeline import Pipeline
    from edgeprune.recipe import load_recipe

    pipe = Pipeline(load_recipe(GOLDEN / "seeded.toml"), tmp_path / "run")
    expected = json.loads((GOLDEN / "stages-seeded.json").read_text())
    got = describe(pipe)
    assert [s["name"] for s in got] == [s["name"] for s in expected]
    for new, old in zip(got, expected, strict=True):
        assert new == old, new["name"]


def test_layout_puts_each_stage_where_the_report_reads():
    lay = Layout(Path("r"))
    assert lay.data_json() == Path("r/data/data.json")
    assert lay.checkpoint("VGG") == Path("r/models/VGG/model.safetensors")
    assert lay.model_dir("A", seed=2) == Path("r/seeds/seed-2/A")
    assert lay.export_dir("A") == Path("r/export/A")
    assert lay.bench_dir() == Path("r/bench") and lay.deploy_dir("web") == Path("r/deploy/web")
    assert Run("r").layout == lay


# ---------------------------------------------------------------- the executor, with toy stages
def toy(run: Run, config: dict | None = None, seed_needs: tuple[str, ...] = ()) -> tuple[list[Stage], list[str]]:
    """Stage ``a``, then ``b:x`` (reads a's file) and ``b:x@seed1`` (family b) after it; ``calls`` lists what ran."""
    calls: list[str] = []

    def writer(name: str):
        def work():
            calls.append(name)
            folder = run.path(name.replace(":", "_"))
            folder.mkdir(parents=True, exist_ok=True)
            return [_write(folder / "out.txt", f"{name} {len(calls)}")], {"n": len(calls)}
        return work

    stages = [
        Stage("a", config or {"k": 1}, lambda: [], writer("a"), folder=run.path("a"), resumable=True),
        Stage("b:x", {}, lambda: [run.path("a", "out.txt")], writer("b:x"), ["a"], folder=run.path("b_x")),
        Stage("b:x@seed1", {}, lambda: [], writer("b:x@seed1"), ["a", *seed_needs]),
    ]
    return stages, calls


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_executor_skips_fresh_stages_and_redoes_forced_ones(tmp_path):
    run = Run(tmp_path / "run")
    stages, calls = toy(run)
    ex = Executor(run, stages)
    done = ex.execute(ex.select(), meta={"who": "test"})
    assert done.ran == ["a", "b:x", "b:x@seed1"] and calls == ["a", "b:x", "b:x@seed1"]
    assert Run(tmp_path / "run").meta["who"] == "test"
    again = Executor(Run(tmp_path / "run"), stages)
    assert again.execute(again.select()).skipped == ["a", "b:x", "b:x@seed1"]
    forced = again.execute(again.select(force=["b"]))  # a family: both b stages
    assert forced.ran == ["b:x", "b:x@seed1"] and forced.skipped == ["a"]


def test_executor_states_say_what_is_stale_and_why(tmp_path):
    run = Run(tmp_path / "run")
    stages, _ = toy(run)
    ex = Executor(run, stages)
    assert set(ex.states().values()) == {"pending"}
    ex.execute(ex.select(until="a"))
    assert ex.states() == {"a": "done", "b:x": "pending", "b:x@seed1": "pending"}
    ex.execute(ex.select())
    edited, _ = toy(run, config={"k": 2})
    assert Executor(run, edited).states() == {"a": "stale (recipe or inputs changed)",
                                              "b:x": "stale (a will run first)", "b:x@seed1": "stale (a will run first)"}


def test_until_a_family_stops_after_its_last_untagged_stage(tmp_path):
    run = Run(tmp_path / "run")
    stages, calls = toy(run)
    ex = Executor(run, stages)
    assert ex.select(until="b").last == "b:x"  # tagged stages (repeat seeds) only when named
    assert ex.select(until="x@seed1").last == "b:x@seed1"
    ex.execute(ex.select(until="b"))
    assert calls == ["a", "b:x"]


def test_only_needs_what_it_needs_and_optional_stages_are_not_waited_for(tmp_path):
    run = Run(tmp_path / "run")
    stages, calls = toy(run)
    ex = Executor(run, stages)
    with pytest.raises(EdgepruneError) as e:
        ex.execute(ex.select(only=["b:x"]))
    assert e.value.message.startswith("stage b:x needs a, which has not run in")
    assert e.value.in_terms_of({"only": "--only"})[1] == "run every stage once first (leave out --only)"
    assert calls == []
    optional, calls = toy(run, seed_needs=("nothing-yet",))
    optional.insert(0, Stage("nothing-yet", {}, lambda: [], lambda: ([], {}), optional=True))
    ex = Executor(run, optional)
    assert ex.execute(ex.select(only=["a", "b:x@seed1"])).ran == ["a", "b:x@seed1"]


@pytest.mark.parametrize("param", ["only", "force", "until"])
def test_a_name_that_matches_no_stage_is_refused_in_parameter_terms(tmp_path, param):
    run = Run(tmp_path / "run")
    stages, _ = toy(run)
    with pytest.raises(ConfigError) as e:
        Executor(run, stages).select(**{param: "zz" if param == "until" else ["a,zz"]})
    assert e.value.message == f"{param} 'zz' names no stage of this recipe" and e.value.params == (param,)
    assert e.value.hint == "a stage (a, b:x, b:x@seed1) or a family (a, b)"
    assert not run.root.exists()  # refused before anything is written


def test_an_interrupted_resumable_stage_keeps_its_folder_others_are_emptied(tmp_path):
    run = Run(tmp_path / "run")
    stages, _ = toy(run)
    ex = Executor(run, stages)
    ex.execute(ex.select())
    for folder in ("a", "b_x"):
        _write(run.path(folder, "partial.txt"), "left by an interrupted run")
    key = lambda s: run.key(s.key_config(), s.inputs())[0]  # noqa: E731
    run.meta["pending"] = {"a": key(stages[0]), "b:x": key(stages[1])}  # as an interruption leaves it
    ex.execute(ex.select(force=["a", "b:x"]))
    assert run.path("a", "partial.txt").exists()  # resumable, same work: resumed
    assert not run.path("b_x", "partial.txt").exists()  # not resumable: emptied first
    assert run.meta["pending"] == {}


def test_the_progress_line_estimates_from_the_pace(tmp_path):
    run = Run(tmp_path / "run")
    stages, _ = toy(run)
    stages[1].units, stages[1].fixed_s, stages[2].fixed_s = 3.0, 1.0, 2.0
    assert Executor(run, stages, pace_pending="wait")._progress(stages[1:], 5.4) == "1/3 stages, 5 s so far; wait"
    timed = Executor(run, stages, pace=lambda: 10.0)
    assert timed._progress(stages[1:], 5.4) == "1/3 stages, 5 s so far, about 33 s left (estimated)"
    assert timed._progress([], 7.0) == "3/3 stages, 7 s so far"


def test_every_variant_kind_and_deploy_target_has_one_handler():
    """Adding a kind or a target is one registry entry: these tables are all the stages dispatch on."""
    from edgeprune.pipeline.stages.deploy import TARGETS
    from edgeprune.pipeline.stages.models import KINDS
    from edgeprune.recipe import DeploySection, VariantSection

    pruned = VariantSection(name="P", method="magnitude", ratio=0.5, steps=2)
    retrained = VariantSection(name="R", regularizer="l1", lam=1e-4)
    assert {pruned.kind, retrained.kind} == set(KINDS)
    assert KINDS[pruned.kind].shrinks and not KINDS[retrained.kind].shrinks
    assert KINDS[pruned.kind].fixed_s(pruned) == 8.0
    assert [t.kind for t in TARGETS] == ["web", "device"]
    assert all(hasattr(DeploySection(), t.kind) for t in TARGETS)
    recipe = SimpleNamespace(deploy=DeploySection(web=False, target="linux-aarch64"))
    assert [t.options(recipe) for t in TARGETS] == [{}, {"target": "linux-aarch64"}]
    assert [t.wanted(recipe) for t in TARGETS] == [False, True]



def test_a_stage_error_keeps_no_parameter_names_for_the_run_s_flags(tmp_path):
    """A library error inside a stage names parameters the stage passed, not the user: the CLI must not map
    them to the pipeline's own flags (a deploy's ``out`` is not the run's --out)."""
    def fails():
        raise ConfigError("out x is a file", params=("out",))

    run = Run(tmp_path / "run")
    ex = Executor(run, [Stage("deploy-web", {}, lambda: [], fails)])
    with pytest.raises(ConfigError) as e:
        ex.execute(ex.select())
    assert e.value.params == () and e.value.in_terms_of({"out": "--out"}) == ("out x is a file", None)
