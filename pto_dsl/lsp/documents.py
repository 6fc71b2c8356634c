"""The server's state per open document: the analyses of its latest version and the last one
that parsed (which keeps the outline and navigation working while the user types)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsprotocol import types as lsp

from pto_dsl import ir, nodes
from pto_dsl.diagnostics import Diagnostic, Fix, Severity, Stage, warning
from pto_dsl.lsp import convert
from pto_dsl.lsp.analysis import Front, Graph, Result
from pto_dsl.lsp.index import Index, build_index
from pto_dsl.lsp.inferred import Inferred
from pto_dsl.lsp.worker import Outcome
from pto_dsl.source import SourceFile, Span


@dataclass
class Snapshot:
    """A version of the document whose front end got as far as an AST."""

    version: int
    ast: nodes.Program
    program: ir.Program | None
    graph: Graph | None = None
    _index: Index | None = None

    @property
    def index(self) -> Index:
        """Built on first use: diagnostics are published before anyone navigates."""
        if self._index is None:
            self._index = build_index(self.ast, self.program)
        return self._index


@dataclass
class Document:
    uri: str
    version: int
    source: SourceFile
    front: Front | None = None
    graph: Graph | None = None
    stopped: Diagnostic | None = None  # the checks did not finish: why
    inferred: dict[tuple[int, int], Fix] = field(default_factory=dict)  # by submission span
    good: Snapshot | None = None
    published: list[tuple[Diagnostic, lsp.Diagnostic]] = field(default_factory=list)

    def accept(self, result: Result) -> bool:
        """Take a result of this version's checks; whether its diagnostics are new."""
        if isinstance(result, Inferred):
            self.inferred = result.fixes
            return False
        if isinstance(result, Front):
            ahead = self.front is not None and not self.front.complete
            self.front = result
            if result.ast is not None:
                self.good = Snapshot(self.version, result.ast, result.program)
            return not (ahead and result.complete)
        else:
            self.graph = result
            if self.good is not None and self.good.version == self.version:
                self.good.graph = result
            return True

    def stop(self, outcome: Outcome, time_limit: float, memory_mib: int) -> None:
        """Record why the checks of this version did not finish."""
        if outcome is Outcome.DONE or outcome is Outcome.CANCELLED or self.graph is not None:
            return  # after the graph checks, a stop loses only the inferred fixes
        stage = "the graph checks" if self.front is not None else "the front end"
        span = self._case_span() if self.front is not None else None
        why = {Outcome.TIMEOUT: f"did not finish within the time limit of {time_limit:g} s "
                                "(setting pto.timeLimit)",
               Outcome.MEMORY: f"needed more than the memory limit of {memory_mib} MiB "
                               "(setting pto.memoryLimitMiB)",
               Outcome.DIED: "stopped: the checking process ended unexpectedly"}[outcome]
        self.stopped = warning("W703", f"pto-lsp stopped checking: {stage} {why}",
                               span or Span(self.source, 0, 0), help=(
                                   "pto-check in a terminal runs them without a limit",),
                               stage=Stage.VALIDATION)

    def _case_span(self) -> Span | None:
        front = self.front
        if front is None or front.program is None:
            return None
        name = self.graph.case if self.graph else None
        cases = front.program.cases
        case = next((c for c in cases if c.name.name == name), None) or next(
            (c for c in cases if c.default), cases[0] if cases else None)
        return case.name.span if case else None

    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.front.diagnostics) if self.front else []
        if self.graph is not None:
            found.extend(self.graph.diagnostics)
        if self.stopped is not None:
            found.append(self.stopped)
        return found

    def publish(self) -> list[lsp.Diagnostic]:
        self.published = [(d, convert.diagnostic(d, self.uri, self.source))
                          for d in self.diagnostics()]
        return [p for _, p in self.published]


def is_error(diag: Diagnostic) -> bool:
    return diag.severity is Severity.ERROR
