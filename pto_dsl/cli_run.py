"""pto-run: run a program on the Python model of the PTO2 runtime (issue 6)."""

from __future__ import annotations

from collections.abc import Sequence

from pto_dsl.cli import unavailable


def main(argv: Sequence[str] | None = None) -> int:
    return unavailable("pto-run", "simulation on the runtime model", argv)
