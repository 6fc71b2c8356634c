"""What pto-check reports besides diagnostics, as text and as JSON data: the summary of a
program and of each instantiated case, the deps --suggest-deps infers, and the merging of
the findings that several cases share. The tool itself (arguments, files, exit codes) is
`pto_dsl.cli.check_main`; nothing here reads files or prints."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pto_dsl import infer
from pto_dsl.cases import case_names
from pto_dsl.diagnostics import Diagnostic, Note
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import Checked, case_values
from pto_dsl.source import Span

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


def case_data(checked: Checked, name: str, g: TaskGraph) -> Data:
    per_kernel = g.tasks_per_kernel()
    order = list(checked.program.kernels) + ["alloc"]
    return {"case": name, "tasks": len(g), "edges": g.edge_count(), "scopes": len(g.scopes),
            "orchestration_reads": len(g.host_reads),
            "tasks_per_kernel": {k: per_kernel[k] for k in order if per_kernel[k]},
            "scopes_by_mode": dict(sorted(g.scopes_by_mode().items())),
            "edges_by_origin": dict(sorted(g.edges_by_origin().items())),
            "tasks_per_ring": {str(r): c for r, c in sorted(g.tasks_per_ring().items())}}


def summary_text(checked: Checked, cases: Sequence[Data], warnings: int) -> str:
    p = program_data(checked)
    lines = [f"{checked.source.name}: entry '{p['entry']}': no errors, "
             f"{plural(warnings, 'warning')} (dialect {p['dialect']})",
             f"  {plural(_int(p['kernels']), 'kernel')}, "
             f"{plural(_int(p['submission_sites']), 'submission site')}, "
             f"{plural(_int(p['scopes']), 'scope')}, "
             f"{plural(len(checked.program.cases), 'case')}"]
    if not cases:
        lines.append("  no case to instantiate: structural checks only")
    for c in cases:
        lines.append(f"case {c['case']}: {plural(_int(c['tasks']), 'task')}, "
                     f"{plural(_int(c['edges']), 'edge')}, {plural(_int(c['scopes']), 'scope')}, "
                     f"{plural(_int(c['orchestration_reads']), 'orchestration read')}")
        lines.append("  tasks per kernel  " + _counts(_items(c["tasks_per_kernel"])))
        lines.append("  scopes by mode    " + _counts(_items(c["scopes_by_mode"])))
        lines.append("  edges by origin   " + _counts(_items(c["edges_by_origin"])))
        lines.append("  tasks per ring    " + _counts(
            (f"ring {r}:", n) for r, n in _items(c["tasks_per_ring"])))
    return "\n".join(lines)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _items(value: object) -> list[tuple[str, int]]:
    assert isinstance(value, dict)
    return list(value.items())


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _counts(items: Iterable[tuple[str, int]]) -> str:
    parts = [f"{k} {v}" for k, v in items]
    return ", ".join(parts) if parts else "none"


# ---- suggested deps --------------------------------------------------------------------

@dataclass(frozen=True)
class Suggested:
    """What --suggest-deps found for one program."""

    file: str
    items: tuple[Data, ...]  # per manual submission
    cases: int
    instances: int

    @property
    def differ(self) -> int:
        return sum(1 for i in self.items if not i["as_written"])

    def data(self) -> Data:
        return {"submissions": list(self.items), "cases": self.cases,
                "task_instances": self.instances, "differ": self.differ}

    def text(self) -> str:
        if not self.items:
            return f"{self.file}: no submission in a manual scope: nothing to infer"
        lines = []
        for i in self.items:
            now = i["deps"] or "no deps needed"
            lines.append(f"{i['file']}:{i['line']}:{i['col']}: {i['kernel']}: {now}"
                         + ("  (as written)" if i["as_written"] else ""))
            if not i["as_written"]:
                lines.append(f"    written: {i['written'] or 'no deps'}")
            extra = _int(i["extra_instances"])
            if extra:
                lines.append(f"    note: {plural(extra, 'instance')} get a dep they do not "
                             "need: no loop-position guard tells them apart")
        lines.append(f"{plural(len(self.items), 'manual submission')}; deps inferred from "
                     f"{plural(self.cases, 'case')} ({plural(self.instances, 'task instance')}"
                     f"); {self.differ} differ{'s' if self.differ == 1 else ''} from what is "
                     "written")
        return "\n".join(lines)


def suggest_deps(checked: Checked, case: str | None) -> Suggested:
    """The deps every manual submission needs, inferred from every case (or `case`), beside
    those written. Raises NoCase for a program without cases."""
    program = checked.program
    chosen = infer.targets(program, every_manual=True)
    if not chosen:
        return Suggested(checked.source.name, (), 0, 0)
    names = [case] if case else case_names(program)
    if not names:
        raise NoCase()
    values = [case_values(checked, name) for name in names]
    _, found = infer.infer(program, values, chosen, keep_written=False)
    items = tuple(_item(s) for s in found)
    return Suggested(checked.source.name, items, len(names), sum(s.instances for s in found))


def _item(s: infer.Suggestion) -> Data:
    written = [d for d in s.submit.deps if not d.inferred]
    span = s.submit.span
    return {"file": span.file, "line": span.line, "col": span.col,
            "kernel": s.submit.site.label, "deps": s.text,
            "written": "dep " + ", ".join(_text(d.span) for d in written) if written else "",
            "as_written": s.as_written, "extra_instances": s.extra}


def _text(span: Span) -> str:
    return span.source.text[span.start:span.end]
