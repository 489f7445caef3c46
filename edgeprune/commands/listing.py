"""edgeprune list: the registered models, datasets, pruning methods, criteria, export formats, backends."""

from __future__ import annotations

import argparse
import importlib

HELP = "list models, datasets, methods, criteria, regularizers, formats or backends"
EXAMPLES = """examples:
  edgeprune list models 'vgg*'
  edgeprune list methods
"""

# what -> (module, function returning a list of names or {name: description})
SOURCES = {
    "models": ("edgeprune.models", "list_models"),
    "datasets": ("edgeprune.data", "DATASETS"),
    "methods": ("edgeprune.pruning.methods", "list_methods"),
    "criteria": ("edgeprune.pruning.criteria", "list_criteria"),
    "regularizers": ("edgeprune.pruning.regularizers", "list_regularizers"),
    "formats": ("edgeprune.export", "list_formats"),
    "backends": ("edgeprune.bench.backends", "list_backends"),
}


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune list``."""
    p.add_argument("what", choices=sorted(SOURCES), help="what to list")
    p.add_argument("pattern", nargs="?", default="*", help="glob filter (models only)")


def run(args: argparse.Namespace) -> int:
    """Print one name per line (with a description where there is one)."""
    from edgeprune.errors import ConfigError, EdgepruneError

    if args.pattern != "*" and args.what != "models":
        raise ConfigError(f"a pattern ({args.pattern!r}) filters models only, not {args.what}",
                          hint=f"edgeprune list {args.what}")
    module_name, attr = SOURCES[args.what]
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise EdgepruneError(f"{args.what} are not available in this build of edgeprune") from None
    if args.what == "models":
        from edgeprune.models.support import support_status

        items = {name: support_status(name).describe() for name in obj(args.pattern)}
    else:
        items = obj() if callable(obj) else obj
    if isinstance(items, dict):
        for name, desc in items.items():
            print(f"{name:26s} {desc}")
    else:
        print("\n".join(items))
    return 0
