"""The ``edgeprune`` command: one subcommand per stage, each a thin module in edgeprune.commands.

Subcommand modules import only argparse at module level, so ``edgeprune --help`` is instant;
torch and the runtimes are imported inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from edgeprune import __version__

COMMANDS = {
    "train": "edgeprune.commands.train",
    "prune": "edgeprune.commands.prune",
    "export": "edgeprune.commands.export",
    "bench": "edgeprune.commands.bench",
    "deploy": "edgeprune.commands.deploy",
    "pipeline": "edgeprune.commands.pipeline",
    "info": "edgeprune.commands.info",
    "list": "edgeprune.commands.listing",
    "env": "edgeprune.commands.env",
    "check-arm": "edgeprune.commands.check_arm",
}

EXAMPLES = """examples:
  edgeprune train --model vgg11_bn --width 0.25 --data digits --epochs 3 --out runs/a
  edgeprune prune runs/a/model.safetensors --method obd --target-macs 0.25 --out runs/a-obd
  edgeprune export runs/a-obd/model.safetensors --to onnx,openvino --int8 --out runs/a-obd/export
  edgeprune bench runs/a/model.safetensors runs/a-obd/model.safetensors --baseline runs/a/model.safetensors --out runs/bench
  edgeprune pipeline recipes/digits-vgg16.toml --out runs/digits
"""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every installed subcommand."""
    parser = argparse.ArgumentParser(
        prog="edgeprune", description="Prune CNNs structurally, export them, and measure them on edge targets.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edgeprune {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, epilog=getattr(module, "EXAMPLES", None),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(p)
        p.set_defaults(_run=module.run, _out_folder=getattr(module, "out_folder", _out_folder), _parser=p)
    return parser


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Parameter name -> what the user typed for it: ``claim_on`` -> ``--claim-on``, a positional -> its METAVAR."""
    names = {}
    for action in parser._actions:
        if action.dest in (argparse.SUPPRESS, "help"):
            continue
        if action.option_strings:
            names[action.dest] = max(action.option_strings, key=len)
        else:
            names[action.dest] = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return names


def _out_folder(args: argparse.Namespace) -> str | None:
    """The folder a subcommand writes (its ``--out``); a module's own ``out_folder(args)`` overrides this."""
    return getattr(args, "out", None)


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn user errors into one line plus a hint."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.error("a command is required (edgeprune --help lists them)")
    import contextlib

    from edgeprune.errors import EdgepruneError
    from edgeprune.fileio import locked_folder

    try:
        # under torchrun every rank runs this; rank 0 alone writes --out, so it alone holds the lock
        folder = args._out_folder(args) if os.environ.get("RANK", "0") == "0" else None
        with locked_folder(folder) if folder else contextlib.nullcontext():  # one run per --out folder at a time
            return int(args._run(args) or 0)
    except EdgepruneError as e:
        message, hint = e.in_terms_of(flag_names(args._parser))  # the library names parameters, the user typed flags
        print(f"edgeprune {args.command}: error: {message}", file=sys.stderr)
        if hint:
            print(f"  hint: {hint}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"edgeprune {args.command}: interrupted; finished artifacts are intact, run the same command to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
