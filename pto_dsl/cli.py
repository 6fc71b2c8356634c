"""pto-check, and the pieces every command-line tool shares (arguments, loading, errors).

The only layer that ties the stages together for users; pto-compile, pto-run and pto-graph
live in cli_compile.py, cli_run.py and cli_graph.py and build on the helpers here. Exit
codes: 0 clean (warnings allowed), 1 errors in the input, 2 usage errors, 3 a feature that
is not available here (pto-graph without Graphviz), 70 an internal error (a bug in pto-dsl,
reported without a traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pto_dsl import __version__, cli_record, files, progress
from pto_dsl.diagnostics import CompileError, Diagnostic, Note, Stage, error, render_text, to_json
from pto_dsl.dialects import DEFAULT_DIALECT, DEFAULT_RUNTIME, DIALECTS, RuntimeConfig
from pto_dsl.progress import QUIET, Progress
from pto_dsl.source import Span
from pto_dsl.types import DEFAULT_MAX_TASKS

if TYPE_CHECKING:  # the pipeline is imported when a tool runs, not for --help or --version
    from pto_dsl.graph import TaskGraph
    from pto_dsl.pipeline import Checked

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERNAL = 0, 1, 2, 3, 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UsageError(Exception):
    pass


def tool_parser(prog: str, description: str,
                all_cases: str | None = None) -> argparse.ArgumentParser:
    """The options every tool shares; `all_cases` is the help of an --all-cases option (which
    excludes --case), for the tools that have one."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("file", type=Path, help="a .pto program")
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
    p.add_argument("--json", action="store_true", help="print diagnostics as a JSON list")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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


MAX_SHOWN = 50  # diagnostics rendered as text; the rest are counted (--json lists all)


def _emit(prog: str, diags: Sequence[Diagnostic], as_json: bool) -> None:
    if as_json:
        print(to_json(diags))
    elif diags:
        sys.stderr.write(render_text(diags[:MAX_SHOWN]))
        if len(diags) > MAX_SHOWN:
            errors = sum(1 for d in diags if d.is_error)
            print(f"{prog}: {len(diags) - MAX_SHOWN} more diagnostics not shown ("
                  f"{_plural(errors, 'error')} and {_plural(len(diags) - errors, 'warning')} "
                  "in all; --json lists every one)", file=sys.stderr)


def guarded(prog: str, as_json: bool, body: Callable[[list[Diagnostic]], int]) -> int:
    """Run a tool body; every failure becomes a diagnostic or a one-line message."""
    diags: list[Diagnostic] = []
    try:
        with files.run_scope():
            code = body(diags)
    except CompileError as exc:
        diags.extend(exc.diagnostics)
        code = EXIT_ERRORS
    except (UsageError, files.OutputError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's code for SIGINT, no traceback
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS
    except RecursionError:
        diags.append(error("E006", "the program nests too deeply to be compiled", None,
                           stage=Stage.SYNTAX))
        code = EXIT_ERRORS
    except Exception as exc:  # a bug in pto-dsl: say so, but never dump a traceback
        print(f"{prog}: internal error: {type(exc).__name__}: {exc}\n"
              f"{prog}: this is a bug in pto-dsl; please report it with the input file",
              file=sys.stderr)
        return EXIT_INTERNAL
    _emit(prog, diags, as_json)
    return code


def load_program(args: argparse.Namespace, diags: list[Diagnostic]) -> Checked:
    from pto_dsl.cases import case_names
    from pto_dsl.pipeline import front_end, program_files, read_source

    try:
        source = read_source(args.file)
    except OSError as exc:
        raise UsageError(f"cannot read '{args.file}': {exc.strerror or exc}") from None
    checked = front_end(source, DIALECTS[args.dialect], args.max_tasks)
    for path in program_files(checked):
        files.note_read(path)
    diags.extend(checked.warnings)
    names = case_names(checked.program)
    if args.case is not None and args.case not in names:
        raise UsageError(f"no case named '{args.case}' in {args.file}; cases: "
                         f"{', '.join(names) or 'none'}")
    return checked


# ---- pto-check ---------------------------------------------------------------------

def check_main(argv: Sequence[str] | None = None) -> int:
    p = tool_parser("pto-check", "Run every available check on a .pto program and summarise "
                    "its task graph.", all_cases="check every case of the program")
    p.add_argument("--suggest-deps", action="store_true", help="print the deps each manual "
                   "submission needs, inferred from every case (or the one given by --case)")
    cli_record.add_options(p)
    args = p.parse_args(argv)

    def body(diags: list[Diagnostic]) -> int:
        if args.signature is not None:
            return _check_recorded(args, diags)
        from pto_dsl.cases import case_names, default_case
        from pto_dsl.pipeline import check_graph, instantiate_case

        checked = load_program(args, diags)
        shown = progress_of("pto-check", args)
        if args.suggest_deps:
            print(_suggest_deps(checked, args, shown))
            return EXIT_OK
        if args.all_cases:
            chosen = case_names(checked.program)
        else:
            default = default_case(checked.program)
            chosen = [args.case] if args.case else [default.name.name] if default else []
        graphs: list[tuple[str, TaskGraph]] = []
        found: list[tuple[str, list[Diagnostic]]] = []
        with shown.stage("check cases", len(chosen), "case") if len(chosen) > 1 else \
                QUIET.stage("") as cases_done:
            for done, name in enumerate(chosen):  # every case, even after one fails
                try:
                    graph = instantiate_case(checked, name, args.runtime, args.max_tasks, shown)
                    found.append((name, check_graph(checked, graph, args.runtime)))
                    graphs.append((name, graph))
                except CompileError as exc:
                    found.append((name, exc.diagnostics))
                cases_done(done + 1)
        merged = _merge_cases(found)
        if any(d.is_error for d in merged):
            raise CompileError(merged)
        diags.extend(merged)
        if not args.json:
            print(_summary(checked, graphs, diags))
        return EXIT_OK
    return guarded("pto-check", args.json, body)


def _check_recorded(args: argparse.Namespace, diags: list[Diagnostic]) -> int:
    """pto-check on a C++ orchestration: record each chosen case, then check it."""
    if args.suggest_deps:
        raise UsageError("--suggest-deps works on .pto programs, not with --signature")
    signature = cli_record.load_signature(args, diags)
    try:
        results = cli_record.record_cases(args, signature,
                                          cli_record.chosen_cases(args, signature))
    except cli_record.Unavailable as exc:
        print(f"pto-check: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    recorded = [r for _, r in results if isinstance(r, cli_record.RecordedCase)]
    merged = _merge_cases([(name, r.checked.warnings if isinstance(r, cli_record.RecordedCase)
                            else r) for name, r in results])
    if any(d.is_error for d in merged):
        raise CompileError(merged)
    diags.extend(merged)
    if not args.json:
        print(_summary(recorded[-1].checked, [(r.name, r.graph) for r in recorded], diags))
    return EXIT_OK


def _suggest_deps(checked: Checked, args: argparse.Namespace, shown: Progress) -> str:
    """The deps every manual submission needs, in the program's syntax, beside those written."""
    from pto_dsl import infer
    from pto_dsl.cases import case_names
    from pto_dsl.instantiate import Limits
    from pto_dsl.pipeline import case_values

    case: str | None = args.case
    file: Path = args.file
    program = checked.program
    chosen = infer.targets(program, every_manual=True)
    names = [case] if case else case_names(program)
    if not chosen:
        return f"{checked.source.name}: no submission in a manual scope: nothing to infer"
    if not names:
        raise UsageError(f"--suggest-deps infers from a case, and {file} declares none")
    values = [case_values(checked, name) for name in names]
    with shown.stage(f"infer deps from {_plural(len(names), 'case')}") as update:
        _, found = infer.infer(program, values, chosen, keep_written=False,
                               rules=checked.dialect.rules,
                               limits=Limits(args.max_tasks, None, update))
    lines, differ = [], 0
    for s in found:
        written = [d for d in s.submit.deps if not d.inferred]
        was = "dep " + ", ".join(_text(d.span) for d in written) if written else ""
        now = s.text or "no deps needed"
        lines.append(f"{s.submit.span}: {s.submit.site.label}: {now}"
                     + ("  (as written)" if was == s.text else ""))
        if was != s.text:
            differ += 1
            lines.append(f"    written: {was or 'no deps'}")
        if s.extra:
            lines.append(f"    note: {_plural(s.extra, 'instance')} get a dep they do not "
                         "need: no loop-position guard tells them apart")
    instances = sum(s.instances for s in found)
    lines.append(f"{_plural(len(found), 'manual submission')}; deps inferred from "
                 f"{_plural(len(names), 'case')} ({_plural(instances, 'task instance')}); "
                 f"{differ} differ{'s' if differ == 1 else ''} from what is written")
    return "\n".join(lines)


def _text(span: Span) -> str:
    return span.source.text[span.start:span.end]


def _merge_cases(found: list[tuple[str, list[Diagnostic]]]) -> list[Diagnostic]:
    """One diagnostic for a finding that several cases share, noting the cases."""
    cases: dict[tuple[str, str, str, int], list[str]] = {}
    first: dict[tuple[str, str, str, int], Diagnostic] = {}
    for name, diags in found:
        for d in diags:
            key = (d.code, d.message, d.span.file if d.span else "", d.span.start if d.span
                   else -1)
            first.setdefault(key, d)
            cases.setdefault(key, []).append(name)
    if len(found) < 2:
        return list(first.values())
    return [dataclasses.replace(d, notes=d.notes + (Note(
        f"found in case{'s' if len(cases[k]) > 1 else ''} " + ", ".join(cases[k])),))
        for k, d in first.items()]


def _summary(checked: Checked, graphs: list[tuple[str, TaskGraph]],
             diags: list[Diagnostic]) -> str:
    warnings = sum(1 for d in diags if not d.is_error)
    prog = checked.program
    lines = [f"{checked.source.name}: entry '{prog.name}': no errors, "
             f"{_plural(warnings, 'warning')} (dialect {checked.dialect.name})",
             f"  {_plural(len(prog.kernels), 'kernel')}, "
             f"{_plural(len(prog.sites), 'submission site')}, "
             f"{_plural(len(prog.scopes), 'scope')}, {_plural(len(prog.cases), 'case')}"]
    if not graphs:
        lines.append("  no case to instantiate: structural checks only")
    order = list(prog.kernels) + ["alloc"]
    for name, g in graphs:
        per_kernel = g.tasks_per_kernel()
        lines.append(f"case {name}: {_plural(len(g), 'task')}, {g.edge_units()}, "
                     f"{_plural(len(g.scopes), 'scope')}, "
                     f"{_plural(len(g.host_reads), 'orchestration read')}")
        lines.append("  tasks per kernel  " + _counts((k, per_kernel[k]) for k in order
                                                      if per_kernel[k]))
        lines.append("  scopes by mode    " + _counts(sorted(g.scopes_by_mode().items())))
        lines.append("  pairs by origin   " + _counts(sorted(g.edges_by_origin().items())))
        lines.append("  tasks per ring    " + _counts(
            (f"ring {r}:", c) for r, c in sorted(g.tasks_per_ring().items())))
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _counts(items: Iterable[tuple[str, int]]) -> str:
    parts = [f"{k} {v}" for k, v in items]
    return ", ".join(parts) if parts else "none"
