"""pto-graph: pictures and interchange files of a program's task graph (issue 5)."""

from __future__ import annotations

from collections.abc import Sequence

from pto_dsl.cli import unavailable


def main(argv: Sequence[str] | None = None) -> int:
    return unavailable("pto-graph", "task-graph visualization", argv)
