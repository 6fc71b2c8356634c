"""What the language server knows about one version of a document, computed by the pipeline.

`analyze` runs the front end and then the graph checks of one case, yielding a `Front` and a
`Graph` result as each stage finishes (the worker process sends each as soon as it exists).
Results are plain picklable values; nothing here knows LSP or processes.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pto_dsl import cases, ir, nodes, pipeline
from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error, warning
from pto_dsl.dialects import DEFAULT_RUNTIME, DIALECTS
from pto_dsl.graph import TaskGraph
from pto_dsl.lsp.inferred import Inferred, inferred_fixes
from pto_dsl.source import SourceFile, Span


@dataclass(frozen=True)
class Request:
    uri: str
    version: int
    path: str  # the file name diagnostics carry; case generators run from its directory
    text: str
    case: str | None = None  # None: the default case
    dialect: str = "current"


@dataclass(frozen=True)
class SiteFacts:
    """One submission site on the checked case."""

    instances: int
    rings: tuple[int, ...]
    edges: tuple[tuple[str, int], ...]  # incoming edges by origin


@dataclass
class Front:
    diagnostics: list[Diagnostic]
    ast: nodes.Program | None  # None after a syntax error
    program: ir.Program | None  # None after any front-end error
    complete: bool = True  # False: the diagnostics only, sent ahead of the trees

    def ahead(self) -> Front:
        """The diagnostics alone: quick to send, so the editor shows them first."""
        return Front(self.diagnostics, None, None, complete=False)


@dataclass
class Graph:
    case: str | None  # None: nothing to instantiate
    diagnostics: list[Diagnostic]
    tasks: int = 0
    sites: dict[int, SiteFacts] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # entry tensors
    values: dict[str, int | float | bool] = field(default_factory=dict)  # symbols, scalars


Result = Front | Graph | Inferred


def analyze(req: Request) -> Iterator[Result]:
    source = SourceFile(req.path, req.text)
    front, checked = _front(source, req.dialect)
    yield front
    if checked is None:
        return
    graph = _graph(checked, req.case)
    yield graph
    if graph.case is None:
        return
    try:
        extra = inferred_fixes(checked, graph.case, graph.diagnostics)
    except MemoryError:
        raise
    except Exception:  # only a quick fix is lost; the diagnostics are out already
        extra = None
    if extra is not None:
        yield extra


def _front(source: SourceFile, dialect: str) -> tuple[Front, pipeline.Checked | None]:
    ast: nodes.Program | None = None
    try:
        ast = pipeline.syntax_tree(source)
        checked = pipeline.check_syntax_tree(ast, source, DIALECTS[dialect])
    except CompileError as exc:
        return Front(exc.diagnostics, ast, None), None
    except RecursionError:
        return Front([error("E006", "the program nests too deeply to be compiled", None,
                            stage=Stage.SYNTAX)], ast, None), None
    except MemoryError:
        raise
    except Exception as exc:  # a bug in pto-dsl: one diagnostic, the server goes on
        return Front([crash(source, "the front end", exc)], ast, None), None
    return Front(list(checked.warnings), ast, checked.program), checked


def _graph(checked: pipeline.Checked, case_name: str | None) -> Graph:
    program = checked.program
    notes: list[Diagnostic] = []
    if case_name is not None and case_name not in cases.case_names(program):
        notes.append(_no_case(checked.source, case_name, program))
        case_name = None
    case = cases.default_case(program) if case_name is None else \
        cases.find_case(program, case_name)
    if case is None:
        return Graph(None, notes)
    name = case.name.name
    try:
        values = pipeline.case_values(checked, name)
        graph = pipeline.instantiate_case(checked, name)
        found = Graph(name, notes + pipeline.check_graph(checked, graph, DEFAULT_RUNTIME))
    except CompileError as exc:
        return Graph(name, notes + exc.diagnostics)
    except MemoryError:
        raise
    except Exception as exc:
        return Graph(name, [crash(checked.source, f"checking case '{name}'", exc)])
    found.tasks = len(graph)
    found.sites = site_facts(graph)
    found.shapes = {t.name: values.shape(t.name) for t in program.tensors}
    found.values = {**values.symbols, **values.scalars}
    return found


def site_facts(graph: TaskGraph) -> dict[int, SiteFacts]:
    count: Counter[int] = Counter()
    rings: dict[int, set[int]] = {}
    edges: dict[int, Counter[str]] = {}
    for task in graph.tasks():
        count[task.site] += 1
        rings.setdefault(task.site, set()).add(task.ring)
    for _, consumer, origins in graph.edges():
        site = graph.task(consumer).site
        for origin in origins:
            edges.setdefault(site, Counter())[origin.value] += 1
    return {site: SiteFacts(n, tuple(sorted(rings[site])),
                            tuple(sorted(edges.get(site, Counter()).items())))
            for site, n in count.items()}


def _no_case(source: SourceFile, name: str, program: ir.Program) -> Diagnostic:
    names = ", ".join(cases.case_names(program)) or "none"
    return warning("W702", f"the case '{name}' chosen in the editor's settings (pto.case) is "
                   "not declared in this file: the default case is checked", Span(source, 0, 0),
                   help=(f"cases: {names}",), stage=Stage.CASE)


def crash(source: SourceFile, what: str, exc: BaseException) -> Diagnostic:
    """An internal error as one diagnostic at the top of the file."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return error("E701", f"internal error in pto-dsl while {what}: "
                 f"{type(exc).__name__}: {exc}{where}", Span(source, 0, 0),
                 help=("this is a bug in pto-dsl, not in the program: please report it with the "
                       "file",), stage=Stage.VALIDATION)
