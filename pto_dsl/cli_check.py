"""What pto-check reports besides diagnostics, as text and as JSON data: the summary of a
program and of each instantiated case, the deps --suggest-deps infers, and the merging of
the findings that several cases share. The tool itself (arguments, files, exit codes) is
`pto_dsl.cli.check_main`; nothing here reads files or prints."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pto_dsl.cases import case_names
from pto_dsl.diagnostics import Diagnostic, Note
from pto_dsl.graph import TaskGraph, records_text
from pto_dsl.instantiate import Limits
from pto_dsl.pipeline import Checked, case_values
from pto_dsl.progress import QUIET, Progress
from pto_dsl.source import Span
from pto_dsl.types import DEFAULT_MAX_TASKS

if TYPE_CHECKING:
    from pto_dsl import infer

Data = dict[str, object]


class NoCase(Exception):
    """--suggest-deps on a program without cases (a usage error)."""


def merge_cases(found: list[tuple[str, list[Diagnostic]]]) -> list[Diagnostic]:
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


# ---- the summary -----------------------------------------------------------------------

def program_data(checked: Checked) -> Data:
    prog = checked.program
    return {"entry": prog.name, "dialect": checked.dialect.name, "kernels": len(prog.kernels),
            "submission_sites": len(prog.sites), "scopes": len(prog.scopes),
            "declared_cases": case_names(prog)}


@dataclass(frozen=True)
class CaseSummary:
    """The numbers pto-check reports for one instantiated case."""

    case: str
    tasks: int
    pairs: int  # dependency pairs: a task waits for another (the unit of every count)
    records: tuple[tuple[str, int], ...]  # deps.json edge records by source
    scopes: int
    orchestration_reads: int
    orchestration_writes: int
    tasks_per_kernel: tuple[tuple[str, int], ...]  # declaration order, then alloc
    scopes_by_mode: tuple[tuple[str, int], ...]
    edges_by_origin: tuple[tuple[str, int], ...]
    tasks_per_ring: tuple[tuple[int, int], ...]

    @staticmethod
    def of(checked: Checked, name: str, g: TaskGraph) -> CaseSummary:
        per_kernel = g.tasks_per_kernel()
        order = list(checked.program.kernels) + ["dummy", "alloc"]
        records = tuple((src, g.records[src]) for src in ("explicit", "creator", "tensormap")
                        if g.records[src])
        return CaseSummary(name, len(g), g.edge_count(), records, len(g.scopes),
                           sum(not r.write for r in g.host_reads),
                           sum(r.write for r in g.host_reads),
                           tuple((k, per_kernel[k]) for k in order if per_kernel[k]),
                           tuple(sorted(g.scopes_by_mode().items())),
                           tuple(sorted(g.edges_by_origin().items())),
                           tuple(sorted(g.tasks_per_ring().items())))

    def data(self) -> Data:
        return {"case": self.case, "tasks": self.tasks, "dependency_pairs": self.pairs,
                "edge_records": dict(self.records),
                "scopes": self.scopes, "orchestration_reads": self.orchestration_reads,
                "orchestration_writes": self.orchestration_writes,
                "tasks_per_kernel": dict(self.tasks_per_kernel),
                "scopes_by_mode": dict(self.scopes_by_mode),
                "pairs_by_origin": dict(self.edges_by_origin),
                "tasks_per_ring": {str(r): n for r, n in self.tasks_per_ring}}

    def lines(self) -> list[str]:
        return [f"case {self.case}: {plural(self.tasks, 'task')}, "
                f"{plural(self.pairs, 'dependency pair')}, "
                f"{records_text(Counter(dict(self.records)))}, "
                f"{plural(self.scopes, 'scope')}, "
                f"{plural(self.orchestration_reads, 'orchestration read')}"
                + (f", {plural(self.orchestration_writes, 'orchestration write')}"
                   if self.orchestration_writes else ""),
                "  tasks per kernel  " + _counts(self.tasks_per_kernel),
                "  scopes by mode    " + _counts(self.scopes_by_mode),
                "  pairs by origin   " + _counts(self.edges_by_origin),
                "  tasks per ring    " + _counts((f"ring {r}:", n) for r, n in
                                                 self.tasks_per_ring)]


def summary_text(checked: Checked, cases: Sequence[CaseSummary], warnings: int) -> str:
    prog = checked.program
    lines = [f"{checked.source.name}: entry '{prog.name}': no errors, "
             f"{plural(warnings, 'warning')} (dialect {checked.dialect.name})",
             f"  {plural(len(prog.kernels), 'kernel')}, "
             f"{plural(len(prog.sites), 'submission site')}, "
             f"{plural(len(prog.scopes), 'scope')}, {plural(len(prog.cases), 'case')}"]
    if not cases:
        lines.append("  no case to instantiate: structural checks only")
    for c in cases:
        lines += c.lines()
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _counts(items: Iterable[tuple[str, int]]) -> str:
    parts = [f"{k} {v}" for k, v in items]
    return ", ".join(parts) if parts else "none"


# ---- suggested deps --------------------------------------------------------------------

@dataclass(frozen=True)
class SuggestedDeps:
    """The deps inferred for one manual submission, beside those written there."""

    file: str
    line: int
    col: int
    kernel: str
    deps: str  # "dep a, b when ..."; "" when none is needed
    written: str  # the same for the deps written in the program
    as_written: bool
    extra_instances: int  # instances given a dep they do not need

    @staticmethod
    def of(s: infer.Suggestion) -> SuggestedDeps:
        written = [d for d in s.submit.deps if not d.inferred]
        span = s.submit.span
        return SuggestedDeps(span.file, span.line, span.col, s.submit.site.label, s.text,
                             "dep " + ", ".join(_text(d.span) for d in written)
                             if written else "", s.as_written, s.extra)

    def lines(self) -> list[str]:
        out = [f"{self.file}:{self.line}:{self.col}: {self.kernel}: "
               f"{self.deps or 'no deps needed'}" + ("  (as written)" if self.as_written else "")]
        if not self.as_written:
            out.append(f"    written: {self.written or 'no deps'}")
        if self.extra_instances:
            out.append(f"    note: {plural(self.extra_instances, 'instance')} get a dep they "
                       "do not need: no loop-position guard tells them apart")
        return out


@dataclass(frozen=True)
class Suggested:
    """What --suggest-deps found for one program."""

    file: str
    items: tuple[SuggestedDeps, ...]  # per manual submission
    cases: int
    instances: int

    @property
    def differ(self) -> int:
        return sum(1 for i in self.items if not i.as_written)

    def data(self) -> Data:
        return {"submissions": [dataclasses.asdict(i) for i in self.items],
                "cases": self.cases, "task_instances": self.instances, "differ": self.differ}

    def text(self) -> str:
        if not self.items:
            return f"{self.file}: no submission in a manual scope: nothing to infer"
        lines = [line for i in self.items for line in i.lines()]
        lines.append(f"{plural(len(self.items), 'manual submission')}; deps inferred from "
                     f"{plural(self.cases, 'case')} ({plural(self.instances, 'task instance')}"
                     f"); {self.differ} differ{'s' if self.differ == 1 else ''} from what is "
                     "written")
        return "\n".join(lines)


def suggest_deps(checked: Checked, case: str | None, max_tasks: int = DEFAULT_MAX_TASKS,
                 shown: Progress = QUIET, jobs: int | None = 1) -> Suggested:
    """The deps every manual submission needs, inferred from every case (or `case`), beside
    those written, the cases analysed by up to `jobs` processes (None: one per processor).
    Raises NoCase for a program without cases."""
    from pto_dsl import infer  # only --suggest-deps needs it

    program = checked.program
    chosen = infer.targets(program, every_manual=True)
    if not chosen:
        return Suggested(checked.source.name, (), 0, 0)
    names = [case] if case else case_names(program)
    if not names:
        raise NoCase()
    values = [case_values(checked, name) for name in names]
    plural = "" if len(names) == 1 else "s"
    with shown.stage(f"infer deps from {len(names)} case{plural}") as update:
        _, found = infer.infer(program, values, chosen, keep_written=False,
                               rules=checked.dialect.rules,
                               limits=Limits(max_tasks, None, update), jobs=jobs)
    return Suggested(checked.source.name, tuple(SuggestedDeps.of(s) for s in found),
                     len(names), sum(s.instances for s in found))


def _text(span: Span) -> str:
    return span.source.text[span.start:span.end]
