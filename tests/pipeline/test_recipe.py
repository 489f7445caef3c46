"""Recipes: every bad key or value fails before any work starts, naming the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeprune.errors import ConfigError, DataNotFoundError
from edgeprune.recipe import load_recipe, parse_recipe

REPO = Path(__file__).resolve().parents[2]
PAPER = ["mnist-vgg16.toml", "fashionmnist-vgg16.toml", "stl10-vgg16.toml", "covid-vgg16.toml", "paintings-vgg16.toml"]


def _err(path: Path) -> str:
    with pytest.raises(ConfigError) as e:
        load_recipe(path)
    return str(e.value)


@pytest.mark.parametrize("name", ["fashionmnist.toml", "fashionmnist-seeds.toml", "digits-vgg16.toml"])
def test_default_recipes_are_valid_and_have_the_papers_five_models(name):
    r = load_recipe(REPO / "recipes" / name)
    assert r.base == "VGG"
    names = r.names()
    for name in ("HSQGL12", "OBD", "HSQGL12-OBD", "OBD-HSQGL12", "taylor", "seed", "magnitude", "random"):
        assert name in names
    assert r.variant("HSQGL12-OBD").parent == "HSQGL12" and r.variant("HSQGL12-OBD").method == "obd"
    assert r.variant("OBD-HSQGL12").parent == "OBD" and r.variant("OBD-HSQGL12").kind == "retrain"
    assert r.claim.speedup == 3.0
    # every MACs-targeted variant aims at the same MACs fraction: a fair comparison (a speedup target is another aim)
    assert len({v.target_macs for v in r.variants if v.kind == "prune" and v.on is None}) == 1
    # parents always run first
    order = [v.name for v in r.order()]
    assert order.index("HSQGL12") < order.index("HSQGL12-OBD") and order.index("OBD") < order.index("OBD-HSQGL12")


def test_typo_in_a_key_names_the_key_and_the_allowed_ones(make_recipe):
    msg = _err(make_recipe(("finetune_epochs = 1", "finetune_epoch = 1")))
    assert "variants[0].finetune_epoch" in msg and "finetune_epochs" in msg
    msg = _err(make_recipe(("[train]\nepochs = 1", "[train]\nepoch = 1")))
    assert "train.epoch" in msg and "epochs" in msg
    msg = _err(make_recipe(("[model]", 'colour = "red"\n[model]')))
    assert "colour" in msg and "variants" in msg


def test_target_outside_zero_one_is_refused(make_recipe):
    msg = _err(make_recipe(("target_macs = 0.5", "target_macs = 1.5")))
    assert "target_macs = 1.5" in msg and "between 0 and 1" in msg


@pytest.mark.parametrize(("change", "words"), [
    (("epochs = 1\ndevice", "epochs = -1\ndevice"), "epochs must be >= 0"),
    (('from = "A"', 'from = "Z"'), "names no model"),
    (('name = "B"\nfrom = "A"', 'name = "A"\nfrom = "A"'), "used twice"),
    (('method = "magnitude"\ntarget_macs = 0.5', 'method = "magnitude"'), "exactly one of"),
    (('device = "cpu"', 'device = "cpu"\noptimizer = "lbfgs"'), "optimizer"),
    (('profiles = ["lowpower"]', 'profiles = "lowpower"\nthreads = [0]'), "threads"),
    (('on = ["ort:lowpower"]', 'on = ["ort"]'), "BACKEND:PROFILE"),
    (('width = 0.125', 'width = "half"'), "width"),
    (('target_macs = 0.5', 'target_speedup = 3.0'), "target_speedup and on go together"),
    (('target_macs = 0.5', 'target_speedup = 0.5\non = "ort:2"'), "above 1"),
    (('target_macs = 0.5', 'target_speedup = 3.0\non = "web:2"'), "'web' is not supported"),
    (('target_macs = 0.5', 'target_speedup = 3.0\non = "ort:zero"'), "threads must be a positive integer"),
])
def test_bad_values_name_the_key(make_recipe, change, words):
    assert words in _err(make_recipe(change))


def test_a_speedup_target_names_its_runtime(make_recipe):
    r = load_recipe(make_recipe(('target_macs = 0.5', 'target_speedup = 3.0\non = "ort:2"')))
    v = next(v for v in r.variants if v.kind == "prune")
    assert v.target() == {"target_speedup": 3.0} and v.on == "ort:2"


def test_an_option_the_variants_method_does_not_use_is_refused_when_the_recipe_is_read(make_recipe):
    msg = _err(make_recipe(('method = "magnitude"', 'method = "magnitude"\noptions = { fisher = "exact" }')))
    assert "variants.A.options.fisher: fisher does not apply to method 'magnitude'" in msg and "obd" in msg
    msg = _err(make_recipe(('method = "magnitude"', 'method = "magnitude"\noptions = { norm = "l3" }')))
    assert "variants.A.options.norm: norm must be one of l1, l2, got 'l3'" in msg


def test_cycles_are_refused():
    table = {"name": "x", "variants": [{"name": "A", "from": "B", "method": "obd", "ratio": 0.5},
                                       {"name": "B", "from": "A", "method": "obd", "ratio": 0.5}]}
    with pytest.raises(ConfigError, match="cycle"):
        parse_recipe(table)


def test_unknown_method_fails_against_the_registry(make_recipe, tmp_path):
    from edgeprune.pipeline import Pipeline

    r = load_recipe(make_recipe(('"magnitude"', '"magnitud"')))
    with pytest.raises(ConfigError, match="magnitud"):
        Pipeline(r, tmp_path / "run").execute()
    assert not (tmp_path / "run").exists()


def test_cli_typo_fails_before_any_work(make_recipe, tmp_path):
    recipe = make_recipe(("[train]\nepochs = 1", "[train]\nepochz = 1"))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "pipeline", str(recipe), "--out", str(out)],
                          capture_output=True, text=True, env={**os.environ, "EDGEPRUNE_QUIET": "1"}, timeout=120)
    assert proc.returncode == 2
    assert "train.epochz" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_missing_dataset_fails_before_any_work(make_recipe, tmp_path):
    from edgeprune.pipeline import Pipeline

    recipe = make_recipe(("[model]", f'[data]\nname = "mnist"\nroot = "{tmp_path / "nothing"}"\n[model]'))
    with pytest.raises(DataNotFoundError, match="mnist"):
        Pipeline(load_recipe(recipe), tmp_path / "run").execute()
    assert not (tmp_path / "run").exists()


def test_the_default_main_job_is_the_papers_fashionmnist_protocol():
    makefile = (REPO / "Makefile").read_text()
    assert "RECIPE ?= recipes/fashionmnist.toml" in makefile
    r = load_recipe(REPO / "recipes" / "fashionmnist.toml")
    assert r.data.name == "fashionmnist" and r.data.sizes == [6000, 1000, 1000] and r.data.input_size == 32
    assert r.model.weights is None  # from scratch: ImageNet weights cannot be had offline
    assert r.fallback == "digits-vgg16.toml" and r.seed_list() == [0]
    assert r.report.paper["OBD-HSQGL12"] == {"accuracy": 0.912, "params_removed": 0.563}
    # one variant is aimed at the claim itself: its speedup on onnxruntime with the lowpower profile's one thread
    from edgeprune.bench.profiles import PROFILES

    fast = r.variant("taylor-3x")
    assert fast.parent == r.base and fast.method == "taylor" and fast.target() == {"target_speedup": r.claim.speedup}
    assert "ort:lowpower" in r.claim.on and fast.on == f"ort:{PROFILES['lowpower'].default_threads}"
    seeds = load_recipe(REPO / "recipes" / "fashionmnist-seeds.toml")
    assert seeds.seed_list() == [0, 1, 2] and seeds.names() == r.names() and seeds.data == r.data


def test_extends_merges_sections_key_by_key(make_recipe, tmp_path):
    base = make_recipe()
    child = base.with_name("child.toml")
    child.write_text(f'extends = "{base.name}"\nname = "child"\nseeds = [3, 4]\n[train]\nepochs = 2\n')
    r = load_recipe(child)
    assert r.name == "child" and r.seed_list() == [3, 4] and r.seed == 3
    assert r.train.epochs == 2 and r.train.device == "cpu"  # the rest of [train] is inherited
    assert [v.name for v in r.variants] == ["A", "B"]
    loop = tmp_path / "recipes" / "loop.toml"
    loop.write_text('extends = "loop.toml"\nname = "loop"\n')
    assert "extends itself" in _err(loop)


@pytest.mark.parametrize("change, words", [
    (("name = \"tiny\"", "name = \"tiny\"\nseeds = []"), "non-empty list"),
    (("name = \"tiny\"", "name = \"tiny\"\nseeds = [1, 1]"), "listed twice"),
    (("name = \"tiny\"", "name = \"tiny\"\nseed = 1\nseeds = [1, 2]"), "seed or seeds"),
    (("[model]", "[data]\nsizes = [10, 10]\n[model]"), "three positive integers"),
    (("samples = 8", "samples = 8\n[report.paper]\nVGG = { accuracy = 89 }"), "fraction in [0, 1]"),
    (("samples = 8", "samples = 8\n[report.paper]\nVGG = { acc = 0.9 }"), "paper.VGG"),
])
def test_bad_seeds_sizes_and_paper_tables_are_refused(make_recipe, change, words):
    assert words in _err(make_recipe(change))


def test_missing_data_falls_back_to_the_fallback_recipe_in_one_line(make_recipe, tmp_path):
    """No Fashion-MNIST anywhere: the main job says so in one line and runs the digits recipe instead."""
    make_recipe()  # recipes/tiny.toml: digits
    main = make_recipe(("[model]", '[data]\nname = "fashionmnist"\n[model]'),
                       ("name = \"tiny\"", 'name = "fm"\nfallback = "tiny.toml"'))
    main = main.rename(main.with_name("fm.toml"))
    make_recipe()
    env = {**os.environ, "EDGEPRUNE_QUIET": "1", "EDGEPRUNE_SYSTEM_DATASETS": str(tmp_path / "no-system")}
    env.pop("EDGEPRUNE_DATA", None)
    (tmp_path / "empty").mkdir()
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "pipeline", str(main), "--out",
                           str(tmp_path / "runs" / "fm"), "--until", "data"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path / "empty")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "not installed" in line]
    assert len(notes) == 1
    assert "apt-get install dataset-fashion-mnist" in notes[0] and "tiny.toml" in notes[0]
    assert not (tmp_path / "runs" / "fm").exists() and (tmp_path / "runs" / "tiny" / "data" / "data.json").exists()


@pytest.mark.parametrize("name", PAPER)
def test_paper_recipes_parse_and_fail_clearly_without_their_data(tmp_path, monkeypatch, name):
    from edgeprune.pipeline import Pipeline

    r = load_recipe(REPO / "recipes" / name)
    assert r.model.name.startswith("vgg16") and r.data.input_size == 224 and r.model.classifier == "seed"
    expected = {"taylor-seed"} if name.startswith("paintings") else {"HSQGL12", "OBD", "HSQGL12-OBD", "OBD-HSQGL12"}
    assert expected <= set(r.names())
    monkeypatch.chdir(tmp_path)  # nothing under ./data here
    monkeypatch.delenv("EDGEPRUNE_DATA", raising=False)
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(tmp_path / "no-system"))  # nor Debian's Fashion-MNIST
    with pytest.raises(DataNotFoundError) as e:
        Pipeline(r, tmp_path / "run").execute()
    assert e.value.hint
    assert not (tmp_path / "run").exists()
