"""Checking the cases of one program, several at a time in worker processes
(`pto-check --all-cases --jobs N`).

Each case is instantiated and checked on its own, so cases are independent work: with more
than one job and more than one case, forked workers (which inherit the checked program
instead of receiving it) each take the next case, and the results come back in the cases'
order, so the output is the same as one process checking them in turn
(`tests/test_case_pool.py` compares the two). Where processes cannot be forked (not Linux),
or with one job, the cases are checked in this process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pto_dsl.cli_check import CaseSummary
from pto_dsl.diagnostics import CompileError, Diagnostic
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.pipeline import Checked, check_graph, instantiate_case
from pto_dsl.progress import QUIET, Progress


@dataclass(frozen=True)
class CaseResult:
    """One case checked: its diagnostics, and its summary unless an error stopped it."""

    name: str
    diagnostics: list[Diagnostic]
    summary: CaseSummary | None


@dataclass(frozen=True)
class _Job:
    checked: Checked
    runtime: RuntimeConfig
    max_tasks: int


_JOB: _Job | None = None  # what forked workers inherit


def check_case(checked: Checked, name: str, runtime: RuntimeConfig, max_tasks: int,
               shown: Progress = QUIET) -> CaseResult:
    try:
        graph = instantiate_case(checked, name, runtime, max_tasks, shown)
        found = check_graph(checked, graph, runtime)
        return CaseResult(name, found, CaseSummary.of(checked, name, graph))
    except CompileError as exc:
        return CaseResult(name, exc.diagnostics, None)


def _worker(name: str) -> CaseResult:
    assert _JOB is not None
    return check_case(_JOB.checked, name, _JOB.runtime, _JOB.max_tasks)


def default_jobs() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has it
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing  # only runs with several cases need it

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def check_cases(checked: Checked, names: Sequence[str], runtime: RuntimeConfig,
                max_tasks: int, jobs: int | None, shown: Progress,
                done: Callable[[int], None]) -> list[CaseResult]:
    """Every case checked (even after one fails), in the order of `names`, by up to `jobs`
    processes (None: one per processor); `done` is called with the count finished. In this
    process, a case's instantiation shows its progress; workers show none (their lines
    would interleave)."""
    global _JOB
    workers = min(default_jobs() if jobs is None else jobs, len(names))
    if workers < 2 or not can_fork():
        results = []
        for count, name in enumerate(names, 1):
            results.append(check_case(checked, name, runtime, max_tasks, shown))
            done(count)
        return results
    import multiprocessing

    _JOB = _Job(checked, runtime, max_tasks)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = []
            for count, result in enumerate(pool.imap(_worker, names), 1):
                results.append(result)
                done(count)
            return results
    finally:
        _JOB = None
