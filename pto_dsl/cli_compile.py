"""pto-compile: the C++ orchestration source of a .pto program for the PTO2 runtime, or the
description the runtime's test harness needs to load it (docs/compile.md).

Every structural check runs first, and the graph checks on every case (only the one named
with --case; none for a program without cases); nothing is written for a program with
errors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pto_dsl import cli_record
from pto_dsl.cli import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    UsageError,
    guarded,
    load_program,
    progress_of,
    tool_parser,
)
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.files import check_output, write_atomic

PROG = "pto-compile"


def main(argv: Sequence[str] | None = None) -> int:
    p = tool_parser(PROG, "Generate the C++ orchestration source (or the harness "
                    "description) of a .pto program for the PTO2 runtime.",
                    all_cases="run the graph checks on every case of the program (the "
                    "default; --case checks only the one named)")
    p.add_argument("-o", "--output", type=Path, metavar="PATH",
                   help="write the result to PATH (default: standard output; '-' also "
                   "means standard output)")
    p.add_argument("--emit", choices=("cpp", "callable", "header"), default="cpp",
                   help="cpp: the orchestration source; callable: the harness description "
                   "as JSON; header: this project's declaration-only runtime API header for "
                   "the dialect, to install as pto_orchestration_api.h for a syntax check "
                   "(default: %(default)s)")
    p.add_argument("--check-roundtrip", action="store_true",
                   help="record the generated C++ with pto-dsl's recording runtime API (needs "
                   "g++) on the checked cases, and fail unless it gives back the same task "
                   "graphs")
    args = p.parse(argv)

    def body(diags: list[Diagnostic]) -> int:
        from pto_dsl.cases import case_names, default_case
        from pto_dsl.codegen import harness
        from pto_dsl.codegen.cpp import generate, interface_header
        from pto_dsl.pipeline import check_graph, instantiate_case

        output = _output_path(args.output, args.file)
        if args.json and output is None:
            raise UsageError("--json prints the diagnostics on standard output: name the "
                             "output file with -o PATH")
        checked = load_program(args, diags)
        # every case by default: the C++ serves every input, so a race in any case is one
        names = [args.case] if args.case else case_names(checked.program)
        shown = progress_of(PROG, args)
        for name in names:
            graph = instantiate_case(checked, name, args.runtime, args.max_tasks, shown)
            diags.extend(check_graph(checked, graph, args.runtime))
        if args.emit == "callable":
            cpp_name = output.with_suffix(".cpp").name if output else f"{args.file.stem}.cpp"
            text = harness.to_json(checked.program, cpp_name)
        elif args.emit == "header":
            text = interface_header(args.dialect)
        else:
            text = generate(checked.program, args.dialect, checked.source.name, PROG)
            if args.check_roundtrip:
                default = default_case(checked.program)
                chosen = [n or default.name.name for n in names] if default else []
                try:
                    cli_record.check_roundtrip(checked, text, chosen, cli_record.DEFAULT_TIMEOUT)
                except cli_record.Unavailable as exc:
                    print(f"{PROG}: {exc}", file=sys.stderr)
                    return EXIT_UNAVAILABLE
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomic(output, text)
        return EXIT_OK
    return guarded(PROG, args, body)


def _output_path(output: Path | None, source: Path) -> Path | None:
    if output is None or str(output) == "-":
        return None
    check_output(output, f"-o {output}", [source])
    return output
