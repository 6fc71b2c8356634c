"""pto-check, and the pieces every command-line tool shares (arguments, loading, errors,
colour, the --json document).

The only layer that ties the stages together for users; pto-compile, pto-run and pto-graph
live in cli_compile.py, cli_run.py and cli_graph.py and build on the helpers here, and
`python -m pto_dsl` (__main__.py) runs any of them. Exit codes: 0 clean (warnings allowed
unless --Werror), 1 errors in the input, 2 usage errors, 3 a feature that is not available
here (pto-graph without Graphviz), 70 an internal error (a bug in pto-dsl, reported without
a traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from pto_dsl import __version__, cli_record, files, progress
from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error, render_text, to_data
from pto_dsl.dialects import DEFAULT_DIALECT, DEFAULT_RUNTIME, DIALECTS, RuntimeConfig
from pto_dsl.entry import EXIT_INTERRUPTED
from pto_dsl.progress import QUIET, Progress
from pto_dsl.types import DEFAULT_MAX_TASKS

if TYPE_CHECKING:  # the pipeline is imported when a tool runs, not for --help or --version
    from pto_dsl.pipeline import Checked
    from pto_dsl.source import SourceFile

Data = dict[str, object]

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERNAL = 0, 1, 2, 3, 70
MAX_SHOWN = 50  # diagnostics rendered as text; the rest are counted (--json lists all)
STDIN = Path("-")
STDIN_NAME = "<stdin>"


class UsageError(Exception):
    pass


# How the user started the tool when it was not through its own script: `python -m pto_dsl
# check` (set once, by pto_dsl.__main__), so that usage lines show the command typed.
invoked_as: str | None = None


class ToolParser(argparse.ArgumentParser):
    """argparse, plus the --json document for a bad command line (exit 2) when --json was
    asked for: every --json run prints one document, even this one."""

    json_wanted = False
    tool = ""  # the tool's own name, pto-check ...

    def parse(self, argv: Sequence[str] | None) -> argparse.Namespace:
        argv = list(sys.argv[1:] if argv is None else argv)
        self.json_wanted = "--json" in argv
        return self.parse_args(argv)

    def error(self, message: str) -> NoReturn:
        if self.json_wanted:
            _print_json({"tool": self.tool, "version": __version__, "usage_error": message,
                         "exit_code": EXIT_USAGE, "errors": 0, "warnings": 0,
                         "diagnostics": []})
        super().error(message)


def tool_parser(prog: str, description: str, all_cases: str | None = None,
                several: bool = False) -> ToolParser:
    """The options every tool shares; `all_cases` is the help of an --all-cases option (which
    excludes --case), for the tools that have one; `several`: the tool takes several files
    (in `args.files`; otherwise one, in `args.file`)."""
    p = ToolParser(prog=invoked_as or prog, description=description)
    p.tool = prog
    if several:
        p.add_argument("files", type=Path, nargs="+", metavar="FILE",
                       help="one or more .pto programs ('-': standard input); each is "
                       "checked, and the exit code is the worst")
    else:
        p.add_argument("file", type=Path, metavar="FILE",
                       help="a .pto program ('-': standard input); "
                       "only pto-check takes several")
    cases = p.add_mutually_exclusive_group()
    cases.add_argument("--case", metavar="NAME", help="instantiate this case (default: the "
                       "program's default case)")
    if all_cases is not None:
        cases.add_argument("--all-cases", action="store_true", help=all_cases)
    p.add_argument("--dialect", choices=sorted(DIALECTS), default=DEFAULT_DIALECT.name,
                   help="target runtime: its API and limits (pto-compile writes its API) and "
                   "its rules for edges, retention and heaps (docs/runtime-model.md; "
                   "default: %(default)s)")
    p.add_argument("--task-window", type=_runtime, default=DEFAULT_RUNTIME, dest="runtime",
                   metavar="N", help="the runtime's task window per ring "
                   f"(PTO2_RING_TASK_WINDOW, a power of 2; default: "
                   f"{DEFAULT_RUNTIME.task_window})")
    p.add_argument("--max-tasks", type=positive, default=DEFAULT_MAX_TASKS, metavar="N",
                   help="stop with an error (E176) when a case makes more than N tasks "
                   "(default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output on "
                   "standard error (shown for long stages: a bar on a terminal, a line "
                   "otherwise)")
    p.add_argument("--json", action="store_true", help="print one JSON document on standard "
                   "output: the diagnostics and the tool's results")
    p.add_argument("--Werror", action="store_true", dest="werror",
                   help="treat warnings as errors: exit 1 if there is any")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the diagnostics (auto: on a terminal, unless NO_COLOR is set; "
                   "FORCE_COLOR forces it)")
    p.add_argument("--version", action="version", version=f"{prog} {__version__}")
    return p


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)


def progress_of(prog: str, args: argparse.Namespace) -> Progress:
    return Progress(prog, progress.choose(args.quiet))


def _runtime(text: str) -> RuntimeConfig:
    try:
        return RuntimeConfig(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if text.isdigit() else
                                         f"not a number: {text!r}") from None


def use_color(mode: str, stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour for `stream`: --color always/never decides; otherwise NO_COLOR (set and not
    empty) turns it off, FORCE_COLOR (set, not empty and not 0) on, and else a terminal
    that is not 'dumb' gets it (https://no-color.org, https://force-color.org)."""
    if mode != "auto":
        return mode == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and environ.get("TERM") != "dumb"


def guarded(prog: str, args: argparse.Namespace, body: Callable[[list[Diagnostic]], int],
            document: Data | None = None) -> int:
    """Run a tool body; every failure becomes a diagnostic or a one-line message. With
    --json, stdout receives exactly one JSON document: `document` (the body's results)
    with the diagnostics and the outcome."""
    diags: list[Diagnostic] = []
    doc: Data = {"tool": prog, "version": __version__}
    code = _run(prog, body, diags, doc)
    warnings = sum(1 for d in diags if not d.is_error)
    werror = getattr(args, "werror", False) and warnings and code == EXIT_OK
    if werror:
        code = EXIT_ERRORS
        doc["werror"] = f"{warnings} warning{'s' if warnings > 1 else ''} treated as errors"
    if args.json:
        doc.update(document or {})
        doc.update(exit_code=code, errors=len(diags) - warnings, warnings=warnings,
                   diagnostics=to_data(diags))
        _print_json(doc)
    elif diags:
        sys.stderr.write(render_text(diags[:MAX_SHOWN], use_color(args.color, sys.stderr)))
        if len(diags) > MAX_SHOWN:
            errors = len(diags) - warnings
            print(f"{prog}: {len(diags) - MAX_SHOWN} more diagnostics not shown ("
                  f"{errors} error{'' if errors == 1 else 's'} and {warnings} "
                  f"warning{'' if warnings == 1 else 's'} in all; --json lists every one)",
                  file=sys.stderr)
    if werror:
        print(f"{prog}: error: {doc['werror']} (--Werror)", file=sys.stderr)
    return code


def _run(prog: str, body: Callable[[list[Diagnostic]], int], diags: list[Diagnostic],
         doc: Data) -> int:
    try:
        with files.run_scope():
            return body(diags)
    except CompileError as exc:
        diags.extend(exc.diagnostics)
        return EXIT_ERRORS
    except (UsageError, files.OutputError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        doc["usage_error"] = str(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's code for SIGINT, no traceback
        print(f"\n{prog}: interrupted", file=sys.stderr)
        doc["interrupted"] = True
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS
    except RecursionError:
        diags.append(error("E006", "the program nests too deeply to be compiled", None,
                           stage=Stage.SYNTAX))
        return EXIT_ERRORS
    except Exception as exc:  # a bug in pto-dsl: say so, but never dump a traceback
        print(f"{prog}: internal error: {type(exc).__name__}: {exc}\n"
              f"{prog}: this is a bug in pto-dsl; please report it with the input file",
              file=sys.stderr)
        doc["internal_error"] = f"{type(exc).__name__}: {exc}"
        return EXIT_INTERNAL


def _print_json(doc: Data) -> None:
    try:
        print(json.dumps(doc, indent=2))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def read_input(path: Path) -> SourceFile:
    """A program from a file, or from standard input for '-'."""
    from pto_dsl.pipeline import read_source, source_from_bytes

    if path == STDIN:
        return source_from_bytes(sys.stdin.buffer.read(), STDIN_NAME)
    try:
        return read_source(path)
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror or exc}") from None


def load_program(args: argparse.Namespace, diags: list[Diagnostic],
                 path: Path | None = None) -> Checked:
    """The front end on `path` (default: the tool's one file)."""
    from pto_dsl.cases import case_names
    from pto_dsl.pipeline import front_end, program_files

    path = args.file if path is None else path
    checked = front_end(read_input(path), DIALECTS[args.dialect], args.max_tasks)
    for named in program_files(checked):
        files.note_read(named)
    diags.extend(checked.warnings)
    names = case_names(checked.program)
    if args.case is not None and args.case not in names:
        raise UsageError(f"no case named '{args.case}' in {display(path)}; cases: "
                         f"{', '.join(names) or 'none'}")
    return checked


def display(path: Path) -> str:
    return STDIN_NAME if path == STDIN else str(path)


# ---- pto-check ---------------------------------------------------------------------

def check_main(argv: Sequence[str] | None = None) -> int:
    p = tool_parser("pto-check", "Run every available check on .pto programs and summarise "
                    "their task graphs. Several files may be given (pto-check is the only "
                    "tool that takes several).", all_cases="check every case of the program",
                    several=True)
    p.add_argument("--suggest-deps", action="store_true", help="print the deps each manual "
                   "submission needs, inferred from every case (or the one given by --case)")
    p.add_argument("--jobs", type=positive, default=None, metavar="N",
                   help="with --all-cases or --suggest-deps, check up to N cases at a time in "
                   "worker processes (default: one per processor)")
    cli_record.add_options(p)
    args = p.parse(argv)
    if sum(1 for f in args.files if f == STDIN) > 1:
        p.error("standard input ('-') can be given once")
    if args.signature is not None:
        if len(args.files) != 1:
            p.error("--signature checks one C++ orchestration: give one FILE")
        args.file = args.files[0]
    files: list[Data] = []

    def body(diags: list[Diagnostic]) -> int:
        if args.signature is not None:
            return _check_recorded(args, diags, files)
        return max(_check_file(args, path, diags, files) for path in args.files)
    return guarded("pto-check", args, body, {"files": files})


def _check_file(args: argparse.Namespace, path: Path, diags: list[Diagnostic],
                files: list[Data]) -> int:
    """Check one of the files; its errors do not stop the others."""
    record: Data = {"file": display(path)}
    files.append(record)
    found: list[Diagnostic] = []
    try:
        code = _check_one(args, path, found, record)
    except CompileError as exc:
        found.extend(exc.diagnostics)
        code = EXIT_ERRORS
    except UsageError as exc:
        if len(args.files) == 1:
            raise
        print(f"pto-check: error: {exc}", file=sys.stderr)
        record["usage_error"] = str(exc)
        code = EXIT_USAGE
    diags.extend(found)
    record["status"] = {EXIT_OK: "ok", EXIT_ERRORS: "errors"}.get(code, "usage error")
    return code


def _check_one(args: argparse.Namespace, path: Path, diags: list[Diagnostic],
               record: Data) -> int:
    from pto_dsl.case_pool import check_cases
    from pto_dsl.cases import case_names, default_case
    from pto_dsl.cli_check import (
        NoCase,
        merge_cases,
        program_data,
        suggest_deps,
        summary_text,
    )

    checked = load_program(args, diags, path)
    record.update(program_data(checked))
    shown = progress_of("pto-check", args)
    if args.suggest_deps:
        try:
            found = suggest_deps(checked, args.case, args.max_tasks, shown, args.jobs)
        except NoCase:
            raise UsageError(f"--suggest-deps infers from a case, and {display(path)} "
                             "declares none") from None
        record["suggestions"] = found.data()
        if not args.json:
            print(found.text())
        return EXIT_OK
    if args.all_cases:
        chosen = case_names(checked.program)
    else:
        default = default_case(checked.program)
        chosen = [args.case] if args.case else [default.name.name] if default else []
    with shown.stage("check cases", len(chosen), "case") if len(chosen) > 1 else \
            QUIET.stage("") as cases_done:
        results = check_cases(checked, chosen, args.runtime, args.max_tasks, args.jobs, shown,
                              cases_done)
    cases = [r.summary for r in results if r.summary is not None]
    merged = merge_cases([(r.name, r.diagnostics) for r in results])
    if any(d.is_error for d in merged):
        raise CompileError(merged)
    diags.extend(merged)
    record["cases"] = [c.data() for c in cases]
    if not args.json:
        print(summary_text(checked, cases, sum(1 for d in diags if not d.is_error)))
    return EXIT_OK


def _check_recorded(args: argparse.Namespace, diags: list[Diagnostic],
                    files: list[Data]) -> int:
    """pto-check on a C++ orchestration: record each chosen case, then check it."""
    from pto_dsl.cli_check import CaseSummary, merge_cases, program_data, summary_text

    if args.suggest_deps:
        raise UsageError("--suggest-deps works on .pto programs, not with --signature")
    record: Data = {"file": display(args.file), "signature": str(args.signature)}
    files.append(record)
    signature = cli_record.load_signature(args, diags)
    try:
        results = cli_record.record_cases(args, signature,
                                          cli_record.chosen_cases(args, signature))
    except cli_record.Unavailable as exc:
        print(f"pto-check: {exc}", file=sys.stderr)
        record["status"] = "unavailable"
        return EXIT_UNAVAILABLE
    recorded = [r for _, r in results if isinstance(r, cli_record.RecordedCase)]
    merged = merge_cases([(name, r.checked.warnings if isinstance(r, cli_record.RecordedCase)
                           else r) for name, r in results])
    if any(d.is_error for d in merged):
        record["status"] = "errors"
        raise CompileError(merged)
    diags.extend(merged)
    cases = [CaseSummary.of(r.checked, r.name, r.graph) for r in recorded]
    record.update(program_data(recorded[-1].checked), status="ok",
                  cases=[c.data() for c in cases])
    if not args.json:
        print(summary_text(recorded[-1].checked, cases,
                           sum(1 for d in diags if not d.is_error)))
    return EXIT_OK
