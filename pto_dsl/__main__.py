"""`python -m pto_dsl COMMAND [ARGS]`: the four tools behind one entry (check, compile,
graph, run), each exactly as its console script (pto-check, ...). Only the chosen tool is
imported."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pto_dsl import __version__
from pto_dsl.entry import load_tool

COMMANDS = {
    "check": ("pto_dsl.cli", "check_main", "check programs and summarise their task graphs "
              "(several files)"),
    "compile": ("pto_dsl.cli_compile", "main", "write the orchestration C++ (or the harness "
                "description)"),
    "graph": ("pto_dsl.cli_graph", "main", "draw a case's task graph, or write its deps.json"),
    "run": ("pto_dsl.cli_run", "main", "run a case on the Python model of the PTO2 runtime"),
}
USAGE = "usage: python -m pto_dsl {check,compile,graph,run} [-h] [ARGS ...]"


def _help() -> str:
    lines = [USAGE, "", "pto-dsl: a compiler for PTO2 task-graph programs (.pto).", "",
             "commands (each takes --help; `pto-COMMAND` is the same tool):"]
    lines += [f"  {name:<8} {text}" for name, (_, _, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_help(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"pto-dsl {__version__}")
        return 0
    found = COMMANDS.get(args[0])
    if found is None:
        print(f"{USAGE}\npython -m pto_dsl: error: unknown command '{args[0]}' (choose from "
              f"{', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    module, function, _ = found
    typed = f"python -m pto_dsl {args[0]}"
    tool = load_tool(module, function, typed)
    from pto_dsl import cli  # every tool has loaded it: its usage lines show `typed`

    cli.invoked_as = typed
    try:
        return int(tool(args[1:]))
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    finally:
        cli.invoked_as = None


if __name__ == "__main__":
    sys.exit(main())
