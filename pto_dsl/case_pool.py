"""Checking the cases of one program (`pto-check --all-cases --jobs N`): each case is
instantiated and checked on its own, so with several jobs each worker process takes the
next case (`workers.mapped`), and the results come back in the cases' order: the output
is the same as one process checking them in turn (`tests/test_case_pool.py` compares the
two)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pto_dsl.cli_check import CaseSummary
from pto_dsl.diagnostics import CompileError, Diagnostic
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.pipeline import Checked, check_graph, instantiate_case
from pto_dsl.progress import QUIET, Progress
from pto_dsl.workers import mapped


@dataclass(frozen=True)
class CaseResult:
    """One case checked: its diagnostics, and its summary unless an error stopped it."""

    name: str
    diagnostics: list[Diagnostic]
    summary: CaseSummary | None


def check_case(checked: Checked, name: str, runtime: RuntimeConfig, max_tasks: int,
               shown: Progress = QUIET) -> CaseResult:
    try:
        graph = instantiate_case(checked, name, runtime, max_tasks, shown)
        found = check_graph(checked, graph, runtime)
        return CaseResult(name, found, CaseSummary.of(checked, name, graph))
    except CompileError as exc:
        return CaseResult(name, exc.diagnostics, None)


def check_cases(checked: Checked, names: Sequence[str], runtime: RuntimeConfig,
                max_tasks: int, jobs: int | None, shown: Progress,
                done: Callable[[int], None]) -> list[CaseResult]:
    """Every case checked (even after one fails), in the order of `names`, by up to `jobs`
    processes (None: one per processor); `done` is called with the count finished. With
    one process a case's instantiation shows its progress; workers show none (their lines
    would interleave)."""
    alone = jobs == 1 or len(names) < 2

    def work(name: str) -> CaseResult:
        return check_case(checked, name, runtime, max_tasks, shown if alone else QUIET)
    results = []
    for count, result in enumerate(mapped(work, names, jobs), 1):
        results.append(result)
        done(count)
    return results
