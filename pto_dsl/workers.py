"""Independent pieces of work (the cases of one program) mapped over forked worker
processes, results in the order of the inputs.

Workers are forked, so they inherit the function, the inputs and whatever they refer to (a
checked program, a case's lazily drawn contents) instead of receiving them: only the
inputs' positions and the results are pickled. Where
processes cannot be forked (not Linux), or with one job or one input, the work runs in this
process, in order, and gives the same results.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")

# what forked workers inherit: the work and its inputs
_WORK: tuple[Callable[[object], object], Sequence[object]] | None = None


def default_jobs() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has it
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing  # only runs with several pieces of work need it

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _call(index: int) -> object:
    assert _WORK is not None
    work, items = _WORK
    return work(items[index])


def mapped(work: Callable[[A], R], items: Sequence[A], jobs: int | None) -> Iterator[R]:
    """`work(item)` for each item, in order, by up to `jobs` processes (None: one per
    processor). The results are yielded as they come, in the items' order."""
    global _WORK
    workers = min(default_jobs() if jobs is None else jobs, len(items))
    if workers < 2 or not can_fork():
        yield from map(work, items)
        return
    import multiprocessing

    _WORK = (work, items)  # type: ignore[assignment]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_call, range(len(items)))
    finally:
        _WORK = None
