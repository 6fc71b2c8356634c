"""pto-compile: C++ orchestration code for the PTO2 runtime (issue 4)."""

from __future__ import annotations

from collections.abc import Sequence

from pto_dsl.cli import unavailable


def main(argv: Sequence[str] | None = None) -> int:
    return unavailable("pto-compile", "C++ orchestration code generation", argv)
