"""Seeds: a recipe's ``seeds`` repeats training and every variant; tables show mean ± sd and each seed."""

from __future__ import annotations

import json

import pytest

from edgeprune.cli import main


@pytest.fixture(scope="module")
def seeded_run(tiny_recipe, tmp_path_factory):
    recipe = tmp_path_factory.mktemp("recipe") / "seeded.toml"
    recipe.write_text(tiny_recipe.read_text().replace('name = "tiny"', 'name = "tiny"\nseeds = [0, 1]'))
    out = tmp_path_factory.mktemp("run") / "seeded"
    assert main(["pipeline", str(recipe), "--out", str(out)]) == 0
    return recipe, out


def test_every_model_is_trained_once_per_seed(seeded_run):
    _, out = seeded_run
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    for name in ("train", "prune:A", "prune:B", "train@seed1", "prune:A@seed1", "prune:B@seed1"):
        assert name in stages
    first = json.loads((out / "models" / "VGG" / "eval.json").read_text())
    second = json.loads((out / "seeds" / "seed-1" / "VGG" / "eval.json").read_text())
    assert first["test_true"] == second["test_true"]  # one data split for every seed
    assert (out / "seeds" / "seed-1" / "A" / "model.safetensors").exists()
    a0 = (out / "models" / "A" / "model.safetensors").read_bytes()
    assert a0 != (out / "seeds" / "seed-1" / "A" / "model.safetensors").read_bytes()  # another seed, another model
    assert not (out / "export" / "VGG@seed1").exists()  # only the primary seed is exported and timed


def test_tables_aggregate_the_seeds(seeded_run):
    _, out = seeded_run
    rep = json.loads((out / "report.json").read_text())
    md = (out / "report.md").read_text()
    accs = {s: json.loads((out / ("models" if s == 0 else f"seeds/seed-{s}") / "A" / "eval.json").read_text())["accuracy"]
            for s in (0, 1)}
    row = next(r for r in rep["accuracy"] if r["model"] == "A")
    assert row["seeds"] == {"0": accs[0], "1": accs[1]}
    assert row["mean"] == pytest.approx((accs[0] + accs[1]) / 2)
    assert row["sd"] == pytest.approx(abs(accs[0] - accs[1]) / 2 ** 0.5)
    assert len(row["vs_base"]) == 2  # one paired comparison per seed
    assert "mean ± sd over seeds" in md and f"{100 * row['mean']:.1f} ± {100 * row['sd']:.1f}" in md
    rank = {r["model"]: r for r in rep["ranking"]}
    assert rank["A"]["mean"] == pytest.approx(row["mean"])
    assert "seeds 0, 1" in md and "every seed's paired interval" in md


def test_rerun_skips_every_seed(seeded_run, capsys):
    recipe, out = seeded_run
    assert main(["pipeline", str(recipe), "--out", str(out)]) == 0
    assert "ran 0 stage(s)" in capsys.readouterr().out
    assert main(["pipeline", str(recipe), "--out", str(out), "--list"]) == 0
    listing = capsys.readouterr().out
    assert "prune:A@seed1" in listing and "pending" not in listing
