"""Structural checks on the lowered program (no case needed), one module per pass."""

from __future__ import annotations

from collections.abc import Callable

from pto_dsl import ir
from pto_dsl.checks import kernels, limits, nesting
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.dialects import Dialect

StructuralCheck = Callable[[ir.Program, Dialect], list[Diagnostic]]

STRUCTURAL_CHECKS: tuple[tuple[str, StructuralCheck], ...] = (
    ("scope-nesting", nesting.check),
    ("dialect-limits", limits.check),
    ("kernel-attributes", kernels.check),
)


def run_structural(program: ir.Program, dialect: Dialect) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for _, check in STRUCTURAL_CHECKS:
        found.extend(check(program, dialect))
    return found
