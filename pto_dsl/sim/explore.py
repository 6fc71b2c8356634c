"""Schedule exploration: the same program run under several legal schedules (ready
queues drained in random order, random kernel durations and orchestrator speed). An
output that differs between runs is dynamic evidence of a race, to cross-check the
static race checker.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from pto_dsl.diagnostics import CompileError
from pto_dsl.pipeline import Checked
from pto_dsl.sim.run import SimOptions, SimResult, simulate


class Difference(NamedTuple):
    output: str
    seeds: tuple[int, int]  # the first run and the run whose output differs
    max_difference: float
    elements: int  # how many elements differ


class Exploration(NamedTuple):
    runs: int
    differences: list[Difference]  # one per output that differs, at its first differing run
    failures: list[tuple[int, str]]  # (seed, first error) of runs that stopped with an error


def explore(checked: Checked, case_name: str | None, options: SimOptions, runs: int,
            first_seed: int = 0) -> Exploration:
    reference: SimResult | None = None
    found: dict[str, Difference] = {}
    failures: list[tuple[int, str]] = []
    for k in range(runs):
        seed = first_seed + k
        try:
            result = simulate(checked, case_name, dataclasses.replace(
                options, seed=seed, check=False, trace=False, recorder=None))
        except CompileError as exc:  # e.g. a buffer recycled under one schedule only
            first = exc.diagnostics[0]
            failures.append((seed, f"error[{first.code}]: {first.message}"))
            continue
        if reference is None:
            reference = result
            continue
        for name, data in result.outputs.items():
            if name in found:
                continue
            base = reference.outputs[name]
            same = np.array_equal(base, data, equal_nan=True)
            if not same:
                diff = np.abs(base.astype(np.float64) - data.astype(np.float64))
                finite = diff[np.isfinite(diff)]
                unequal = ~((base == data) | (np.isnan(base) & np.isnan(data)))
                found[name] = Difference(name, (first_seed, seed),
                                         float(finite.max()) if finite.size else float("nan"),
                                         int(unequal.sum()))
    return Exploration(runs, list(found.values()), failures)
