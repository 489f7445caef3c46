"""The data stage: data.json describes the dataset (labels, shapes, split sizes) and fingerprints its samples."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprune.fileio import write_json
from edgeprune.run import Stage

if TYPE_CHECKING:
    from edgeprune.pipeline.core import Pipeline


def stages(pipe: Pipeline) -> list[Stage]:
    """The data stage (keyed by the recipe's data section and seed)."""
    r = pipe.recipe
    return [Stage("data", {"data": dataclasses.asdict(r.data), "seed": r.seed}, lambda: [], lambda: describe(pipe))]


def describe(pipe: Pipeline) -> tuple[list[Path], dict[str, Any]]:
    """Write data.json: a fingerprint of 64 samples per split says whether a re-run sees the same data."""
    d = pipe.data
    h = hashlib.sha256()
    for split in ("train", "val", "test"):
        x, y = d.sample(split, 64, seed=pipe.recipe.seed)
        h.update(x.numpy().tobytes())
        h.update(y.numpy().tobytes())
    info = {"name": d.name, "labels": d.labels, "input_shape": list(d.input_shape), "mean": d.mean, "std": d.std,
            "sizes": {s: len(d.split(s)) for s in ("train", "val", "test")}, "fingerprint": h.hexdigest(),
            "info": d.info}
    path = write_json(pipe.run.layout.data_json(), info)
    return [path], {"sizes": info["sizes"]}
