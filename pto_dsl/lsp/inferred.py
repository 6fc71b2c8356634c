"""A second kind of quick fix, found after the checks: the deps that inference writes for a
submission with a race or a retention warning, guards included (what `pto-check --suggest-deps
--case CASE` prints), as a replacement of its dep clause.

Runs in the checking process after the diagnostics have been sent, on the case the editor
checks only (every case, as `--suggest-deps` does, takes seconds for the full-size ones); a
check that runs out of time here loses only these fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl import infer, pipeline
from pto_dsl.dep_edits import replace_deps
from pto_dsl.diagnostics import CompileError, Diagnostic, Fix

CODES = ("E201", "W301")  # the diagnostics whose fix is a dep on the later submission


@dataclass
class Inferred:
    """Fixes keyed by the span (start, end) of the submission they rewrite."""

    fixes: dict[tuple[int, int], Fix]


def inferred_fixes(checked: pipeline.Checked, case: str,
                   found: list[Diagnostic]) -> Inferred | None:
    """The inferred dep clauses of the manual submissions the diagnostics point at (None
    when there is nothing to infer)."""
    program = checked.program
    spans = {(d.span.start, d.span.end) for d in found if d.code in CODES and d.span}
    chosen = [t for t in infer.targets(program, every_manual=True)
              if (t.submit.span.start, t.submit.span.end) in spans
              and not any(d.inferred for d in t.submit.deps)]
    if not chosen:
        return None
    try:
        values = [pipeline.case_values(checked, case)]
        _, suggestions = infer.infer(program, values, chosen, keep_written=False)
    except CompileError:  # a needed task in no variable (E210): no clause to write
        return Inferred({})
    fixes: dict[tuple[int, int], Fix] = {}
    for s in suggestions:
        written = [d.span for d in s.submit.deps]
        if not s.text:
            continue
        title = f"write the deps inferred from case {case}: {s.text}"
        fix = replace_deps(s.submit.span, written, s.text, title)
        if fix is not None:
            fixes[(s.submit.span.start, s.submit.span.end)] = fix
    return Inferred(fixes)
