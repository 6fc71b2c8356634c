"""The pipeline: parse -> build -> lower -> structural checks -> cases -> instantiate ->
graph checks.

Each stage raises CompileError with all of its errors; warnings are collected in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pto_dsl import cases, checks, ir, nodes
from pto_dsl.build import build
from pto_dsl.diagnostics import CompileError, Diagnostic, DiagnosticSink, Stage, error
from pto_dsl.dialects import DEFAULT_DIALECT, DEFAULT_RUNTIME, Dialect, RuntimeConfig
from pto_dsl.files import note_read
from pto_dsl.graph import TaskGraph
from pto_dsl.instantiate import Limits, WindowPassed, instantiate
from pto_dsl.lower import lower
from pto_dsl.parse import parse
from pto_dsl.perf import paused_gc
from pto_dsl.progress import QUIET, Progress
from pto_dsl.source import SourceFile, Span
from pto_dsl.types import DEFAULT_MAX_TASKS


@dataclass
class Checked:
    """A program that passed the front end, with the warnings found on the way."""

    source: SourceFile
    program: ir.Program
    dialect: Dialect
    warnings: list[Diagnostic] = field(default_factory=list)


def read_source(path: Path, display_name: str | None = None) -> SourceFile:
    """Read a file; bytes that are not UTF-8 are a located error (OSError is the caller's)."""
    note_read(path)
    return source_from_bytes(path.read_bytes(), display_name or str(path))


def source_from_bytes(data: bytes, name: str) -> SourceFile:
    """A program's bytes (a file's, standard input's) as text; bytes that are not UTF-8
    are a located error. A UTF-8 byte order mark (some Windows editors write one) is not
    part of the text."""
    try:
        return SourceFile(name, data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        source = SourceFile(name, data.decode("utf-8", errors="replace"))
        raise CompileError([error("E005", "this file is not UTF-8 text", Span(
            source, exc.start, exc.start + 1), stage=Stage.SYNTAX)]) from None


def front_end(source: SourceFile, dialect: Dialect = DEFAULT_DIALECT,
              max_tasks: int = DEFAULT_MAX_TASKS) -> Checked:
    """Parse, build, lower and check a program; `max_tasks` bounds the instantiations that
    dependency inference (`scope manual infer`) runs on every case."""
    with paused_gc():  # a large file is millions of acyclic tree nodes: collecting is waste
        ast = syntax_tree(source)
    return check_syntax_tree(ast, source, dialect, max_tasks)


def syntax_tree(source: SourceFile) -> nodes.Program:
    """The AST (raises CompileError on syntax errors)."""
    return build(parse(source), source)


def check_syntax_tree(ast: nodes.Program, source: SourceFile,
                      dialect: Dialect = DEFAULT_DIALECT,
                      max_tasks: int = DEFAULT_MAX_TASKS) -> Checked:
    """The rest of the front end: lowering, structural checks, cases, dep inference."""
    sink = DiagnosticSink()
    with paused_gc():
        program = lower(ast, sink)
    if program is not None:
        sink.extend(checks.run_structural(program, dialect))
        cases.check_cases(program, sink)
    sink.raise_if_errors()
    assert program is not None
    if any(scope.infer for scope in program.scopes):
        program = _infer_scopes(program, source, dialect, sink, max_tasks)
    return Checked(source, program, dialect, list(sink.items))


def _infer_scopes(program: ir.Program, source: SourceFile, dialect: Dialect,
                  sink: DiagnosticSink, max_tasks: int) -> ir.Program:
    """Give the submissions of `scope manual infer` blocks their deps, inferred from every
    case; the dialect's limit on deps per task then applies to them too."""
    from pto_dsl import infer  # only programs with such scopes need it

    if not program.cases:
        scope = next(s for s in program.scopes if s.infer)
        raise CompileError([error(
            "E211", "a 'scope manual infer' needs a case to infer its deps from", scope.span,
            help=("declare at least one case; the deps are inferred from every case",),
            stage=Stage.VALIDATION)])
    base_dir = Path(source.name).resolve().parent
    values = [cases.evaluate(program, case, base_dir) for case in program.cases]
    inferred, _ = infer.infer(program, values, infer.targets(program), rules=dialect.rules,
                              limits=Limits(max_tasks))
    sink.extend(d for d in checks.limits.check(inferred, dialect) if d.code == "E151")
    sink.raise_if_errors()
    return inferred


def program_files(checked: Checked) -> list[Path]:
    """The Python files the program names (kernel impl modules, case generators, and the
    default golden.py): inputs of the program whether or not this run loads them, so no tool
    writes onto them."""
    base = Path(checked.source.name).resolve().parent
    targets = [k.impl.value.rpartition(":")[0] for k in checked.program.kernels.values()
               if k.impl is not None]
    targets += [c.generator.rpartition(":")[0] for c in checked.program.cases
                if c.generator is not None]
    found = [base / (t if t.endswith(".py") else t.replace(".", "/") + ".py")
             for t in targets if t]
    return [p for p in [*found, base / "golden.py"] if p.is_file()]


def case_values(checked: Checked, case_name: str | None) -> cases.CaseValues:
    """The values of a case (the default one for None); generators run from the program's
    directory."""
    case = cases.find_case(checked.program, case_name)
    return cases.evaluate(checked.program, case, Path(checked.source.name).resolve().parent)


def instantiate_case(checked: Checked, case_name: str | None,
                     runtime: RuntimeConfig | None = None,
                     max_tasks: int = DEFAULT_MAX_TASKS,
                     progress: Progress = QUIET) -> TaskGraph:
    """The task graph of a case. With `runtime`, a scope that reaches its task window stops
    instantiation at once with E202 (the runtime would stop there too)."""
    values = case_values(checked, case_name)
    with progress.stage(f"instantiate case {values.name}") as update:
        limits = Limits(max_tasks, runtime.task_window if runtime else None, update)
        try:
            graph = instantiate(checked.program, values, rules=checked.dialect.rules,
                                limits=limits)
            update(len(graph))
            return graph
        except WindowPassed as stop:
            from pto_dsl.safety import capacity  # (the graph checks: see check_graph)

            assert runtime is not None
            raise CompileError(capacity.check(checked.program, stop.graph, runtime,
                                              prefix=True)) from None


def check_graph(checked: Checked, graph: TaskGraph,
                runtime: RuntimeConfig = DEFAULT_RUNTIME) -> list[Diagnostic]:
    """Run the checks on an instantiated graph; raises CompileError if one finds an error,
    returns the warnings otherwise."""
    from pto_dsl.safety import run_graph_checks  # loaded by the tools that check graphs

    sink = DiagnosticSink()
    sink.extend(run_graph_checks(checked.program, graph, runtime))
    sink.raise_if_errors()
    return sink.items


def check_file(path: Path, case_name: str | None = None,
               dialect: Dialect = DEFAULT_DIALECT) -> tuple[Checked, TaskGraph | None]:
    """Everything pto-check runs on one file and (if it declares any) one case."""
    checked = front_end(read_source(path), dialect)
    if not checked.program.cases and case_name is None:
        return checked, None
    graph = instantiate_case(checked, case_name)
    checked.warnings.extend(check_graph(checked, graph))
    return checked, graph
