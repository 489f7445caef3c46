"""CLI subcommands: each module has HELP, EXAMPLES, configure(parser) and run(args) -> int."""
