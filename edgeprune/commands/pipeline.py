"""edgeprune pipeline: a recipe from training to the report, resumable, each stage cached in a run directory."""

from __future__ import annotations

import argparse

HELP = "run a recipe end to end: data, train, prune variants, export, bench, deploy, report (resumable)"
EXAMPLES = """examples:
  edgeprune pipeline recipes/digits-vgg16.toml                      # writes runs/digits-vgg16/report.md
  edgeprune pipeline recipes/digits-vgg16.toml --out runs/d --only report      # re-render the report
  edgeprune pipeline recipes/digits-vgg16.toml --force prune:OBD    # redo one variant (and what depends on it)
  edgeprune pipeline recipes/digits-vgg16.toml --until train        # stop after training
  edgeprune pipeline recipes/paper-gpu.toml --device cuda --until prune   # train and prune on a GPU machine
  edgeprune pipeline recipes/digits-vgg16.toml --list               # stages and whether they are up to date

stages: data, train, prune:<variant>, export:<model>, bench, deploy-web, deploy-device, report.
--only/--force/--until take a stage, a family (prune, export) or a variant name; comma-separated.
Interrupt with Ctrl-C at any time: run the same command again and it resumes where it stopped.
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune pipeline``."""
    p.add_argument("recipe", metavar="RECIPE.toml", help="the recipe (see recipes/)")
    p.add_argument("--out", default=None, metavar="DIR", help="run directory (default: runs/<recipe file stem>)")
    p.add_argument("--only", action="append", default=[], metavar="STAGE",
                   help="run just these stages from the existing artifacts (they are redone)")
    p.add_argument("--force", action="append", default=[], metavar="STAGE", help="redo these stages even if up to date")
    p.add_argument("--until", default=None, metavar="STAGE",
                   help="stop after this stage (a family: after its last stage, e.g. --until prune)")
    p.add_argument("--list", action="store_true", help="list the stages and their state, run nothing")
    p.add_argument("--check-claim", action="store_true", help="exit 1 when the recipe's claim does not hold")
    p.add_argument("--device", default=None, help="override train.device (auto, cpu, cuda)")


def out_folder(args: argparse.Namespace) -> None:
    """None: ``run`` locks the run directory itself, once the recipe (or its fallback) has chosen it."""
    return None


def run(args: argparse.Namespace) -> int:
    """Validate the recipe, run or resume the pipeline, print where the report is and the verdict."""
    import dataclasses
    import sys
    from pathlib import Path

    from edgeprune.errors import ConfigError
    from edgeprune.fileio import locked_folder
    from edgeprune.pipeline import open_pipeline
    from edgeprune.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    out = Path(args.out) if args.out else Path("runs") / Path(args.recipe).stem
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is an existing file, not a folder", hint="pass a run directory")
    if args.device:
        recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, device=args.device))
    pipe, note = open_pipeline(recipe, out)
    if note:
        print(note, file=sys.stderr)
    if args.device and pipe.recipe is not recipe:
        pipe.recipe.train.device = args.device
    out = pipe.run.root
    if args.list:
        return _list(pipe)
    with locked_folder(out):  # a second pipeline into the same run directory is refused, not interleaved
        from edgeprune.run import Run

        pipe.run = Run(out)  # the manifest as it is now that we hold the folder (a run may have just finished)
        outcome = pipe.execute(only=args.only, force=args.force, until=args.until)
    print(f"ran {len(outcome.ran)} stage(s) in {outcome.seconds:.0f} s, {len(outcome.skipped)} up to date; "
          f"run directory {out}")
    summary = outcome.summary
    if summary.get("verdict"):
        print(summary["verdict"])
    for rec in (summary.get("recommendations") or {}).values():
        if rec.get("variant"):
            print(f"  {rec['target']}: {rec['variant']} on {rec['backend']} {rec['threads']} thread(s), "
                  f"p50 {rec['p50_ms']:.3f} ms")
    if outcome.report is not None:
        stale = " (out of date: the recipe or the models changed since; run without --until/--only to refresh it)"
        print(f"report: {outcome.report}{stale if outcome.report_stale else ''}")
    if args.check_claim and summary.get("holds") is False:
        return 1
    return 0


def _list(pipe) -> int:
    """Print each stage and whether it is done, stale or pending."""
    for name, state in pipe.states().items():
        rec = pipe.run.stages.get(name)
        if state == "done":
            state = f"done {rec.finished} ({rec.seconds:.1f} s, {rec.runs} run(s))"
        print(f"{name:28s} {state}")
    return 0
