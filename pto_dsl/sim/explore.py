"""Schedule exploration: the same program run under several legal schedules, to find
dynamic evidence of races (an output that differs between runs) and to cross-check the
static race checker.

The static checker's unordered hazards are driven first: each adversarial run delays the
earlier task of a set of unordered pairs until long after everything else could run, so
the later task's access comes first: a write-after-read's reader is held back before it
starts (it reads at its start), the writer of a read- or write-after-write runs long (its
writes land at its end; two read-modify-writes then overlap and one update is lost). A
pair that one run cannot reverse gets another try while the budget lasts, and so does a
pair never seen in submission order (its later task held back). Then the tasks of the
retention warnings (W301) run long together, so that a buffer nothing keeps alive is
reclaimed while its user still runs, if the runtime can do so. The remaining runs are
random: ready queues drained in random order, random kernel durations and orchestrator
speed. For every hazard the result says in how many of its task pairs each
order was seen.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from pto_dsl.diagnostics import CompileError
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import Checked, instantiate_case
from pto_dsl.safety.hazards import Hazard, Kind
from pto_dsl.safety.races import unordered
from pto_dsl.safety.retention import unheld_users
from pto_dsl.sim.ring import TaskSlot
from pto_dsl.sim.run import SimOptions, SimResult, simulate
from pto_dsl.sim.scheduler import Executor
from pto_dsl.source import Span

TRIES = 2  # adversarial runs a pair may take part in before it is left to the random ones


class Difference(NamedTuple):
    output: str
    runs: tuple[str, str]  # the first run and the run whose output differs
    max_difference: float
    elements: int  # how many elements differ


class HazardOrders(NamedTuple):
    """The orders seen of one static hazard: a pair of submission sites and a kind."""

    kind: Kind
    earlier: str  # the kernel of the task submitted first
    later: str
    span: Span  # the later task's submission
    pairs: int  # task pairs (instances)
    as_submitted: int  # pairs seen with the earlier task's access first
    reversed: int  # pairs seen with the later task's access first
    both: int  # pairs seen in both orders


class Exploration(NamedTuple):
    runs: int
    differences: list[Difference]  # one per output that differs, at its first differing run
    failures: list[tuple[str, str]]  # (run, first error) of runs that stopped with an error
    adversarial: int  # of the runs, those that held tasks back
    hazards: list[HazardOrders]


class _Pair(NamedTuple):
    kind: Kind
    earlier: int
    later: int


def explore(checked: Checked, case_name: str | None, options: SimOptions, runs: int,
            first_seed: int = 0) -> Exploration:
    graph, pairs = _static_pairs(checked, case_name, options)
    seen: dict[_Pair, set[bool]] = {p: set() for p in pairs}  # True: seen reversed
    base = dataclasses.replace(options, check=False, trace=False, recorder=None,
                               record_schedule=False, holds=None, stretches=None,
                               watch=None)
    state = _State()
    state.run(f"seed {first_seed}", dataclasses.replace(base, seed=first_seed), checked,
              case_name, seen)
    tries: dict[tuple[_Pair, bool], int] = {}
    delay = 2 * state.makespan + 1e6
    adversarial = 0
    while state.count < runs:
        chosen = _next_round(pairs, seen, tries)
        if not chosen:
            break
        adversarial += 1
        holds = {d.delayed: delay for d in chosen if not d.stretch}
        stretches = {d.delayed: delay for d in chosen if d.stretch}
        state.run(f"adversarial run {adversarial}",
                  dataclasses.replace(base, holds=holds, stretches=stretches), checked,
                  case_name, seen)
    users = unheld_users(graph) if graph is not None else []
    if users and state.count < runs:
        adversarial += 1
        state.run(f"adversarial run {adversarial} (unheld buffer users run long)",
                  dataclasses.replace(base, stretches=dict.fromkeys(users, delay)), checked,
                  case_name, seen)
    seed = first_seed + 1
    while state.count < runs:
        state.run(f"seed {seed}", dataclasses.replace(base, seed=seed), checked, case_name,
                  seen)
        seed += 1
    return Exploration(state.count, list(state.found.values()), state.failures, adversarial,
                       _orders(graph, seen) if graph is not None else [])


class _State:
    """The runs so far: the reference outputs, differences and failures."""

    def __init__(self) -> None:
        self.count = 0
        self.reference: tuple[str, SimResult] | None = None
        self.found: dict[str, Difference] = {}
        self.failures: list[tuple[str, str]] = []
        self.makespan = 0.0

    def run(self, label: str, options: SimOptions, checked: Checked, case_name: str | None,
            seen: dict[_Pair, set[bool]]) -> None:
        self.count += 1
        order = _AccessOrder()
        try:
            result = simulate(checked, case_name, dataclasses.replace(options, watch=order.wrap))
        except CompileError as exc:  # e.g. a buffer recycled under one schedule only
            first = exc.diagnostics[0]
            self.failures.append((label, f"error[{first.code}]: {first.message}"))
            return
        order.observe(seen)
        if self.reference is None:
            self.reference = (label, result)
            self.makespan = result.runtime.makespan
            return
        base_label, base = self.reference
        for name, data in result.outputs.items():
            if name not in self.found:
                difference = _difference(name, base.outputs[name], data)
                if difference is not None:
                    self.found[name] = difference._replace(runs=(base_label, label))


def _difference(name: str, base: np.ndarray, data: np.ndarray) -> Difference | None:
    if np.array_equal(base, data, equal_nan=True):
        return None
    diff = np.abs(base.astype(np.float64) - data.astype(np.float64))
    finite = diff[np.isfinite(diff)]
    unequal = ~((base == data) | (np.isnan(base) & np.isnan(data)))
    return Difference(name, ("", ""), float(finite.max()) if finite.size else float("nan"),
                      int(unequal.sum()))


def _static_pairs(checked: Checked, case_name: str | None,
                  options: SimOptions) -> tuple[TaskGraph | None, list[_Pair]]:
    """The case's static graph and its unordered hazards, as (kind, earlier, later) task
    ids (the model numbers tasks the same way). None with other inputs than the case's:
    data-dependent reads may then build another graph."""
    if options.inputs or options.inputs_file is not None:
        return None, []
    try:
        graph = instantiate_case(checked, case_name)
    except CompileError:  # the runs report it
        return None, []
    found: dict[_Pair, None] = {}

    def on_race(h: Hazard) -> None:
        found.setdefault(_Pair(h.kind, h.earlier.task, h.later.task), None)
    unordered(graph, on_race)
    return graph, list(found)


class _Drive(NamedTuple):
    """One pair an adversarial run drives, and the order it wants (True: reversed)."""

    pair: _Pair
    reversed: bool

    @property
    def delayed(self) -> int:
        return self.pair.earlier if self.reversed else self.pair.later

    @property
    def first(self) -> int:
        return self.pair.later if self.reversed else self.pair.earlier

    @property
    def stretch(self) -> bool:
        """Run the delayed task long rather than hold it back: for a reversed read- or
        write-after-write, whose earlier task's writes must land last."""
        return self.reversed and self.pair.kind is not Kind.WAR


def _next_round(pairs: list[_Pair], seen: dict[_Pair, set[bool]],
                tries: dict[tuple[_Pair, bool], int]) -> list[_Drive]:
    """Pairs with an order not seen yet (the reversed one first) that one run can drive
    together: no task both delayed and wanted first."""
    delayed: set[int] = set()
    first: set[int] = set()
    chosen = []
    for p in pairs:
        missing = [order for order in (True, False) if order not in seen[p]
                   and tries.get((p, order), 0) < TRIES]
        if not missing:
            continue
        drive = _Drive(p, missing[0])
        if drive.delayed in first or drive.first in delayed:
            continue
        delayed.add(drive.delayed)
        first.add(drive.first)
        tries[(p, drive.reversed)] = tries.get((p, drive.reversed), 0) + 1
        chosen.append(drive)
    return chosen


class _AccessOrder:
    """When each task read its arguments and when its writes landed, as positions in the
    order the model did them (the data order; times can tie or mislead)."""

    def __init__(self) -> None:
        self.reads: dict[int, int] = {}
        self.writes: dict[int, int] = {}
        self.clock = 0

    def wrap(self, inner: Executor) -> Executor:
        order = self

        class Watched:
            def start(self, slot: TaskSlot) -> None:
                order.reads[slot.seq] = order.clock = order.clock + 1
                inner.start(slot)

            def finish(self, slot: TaskSlot) -> None:
                inner.finish(slot)
                order.writes[slot.seq] = order.clock = order.clock + 1
        return Watched()

    def observe(self, seen: dict[_Pair, set[bool]]) -> None:
        """Record, for each pair that ran, which of its two accesses came first."""
        reads, writes = self.reads, self.writes
        for p, orders in seen.items():
            if p.earlier not in writes or p.later not in writes:
                continue
            if p.kind is Kind.RAW:  # the later task read before the earlier one's write
                orders.add(reads[p.later] < writes[p.earlier])
            elif p.kind is Kind.WAR:  # the later task's write landed before the read
                orders.add(writes[p.later] < reads[p.earlier])
            else:  # WAW: the earlier task's write landed last
                orders.add(writes[p.later] < writes[p.earlier])


def _orders(graph: TaskGraph, seen: dict[_Pair, set[bool]]) -> list[HazardOrders]:
    groups: dict[tuple[Kind, int, int], list[set[bool]]] = {}
    first: dict[tuple[Kind, int, int], _Pair] = {}
    for p, orders in seen.items():
        key = (p.kind, graph.task(p.earlier).site, graph.task(p.later).site)
        groups.setdefault(key, []).append(orders)
        first.setdefault(key, p)
    return [_summary(graph, first[key], found) for key, found in groups.items()]


def _summary(graph: TaskGraph, p: _Pair, found: list[set[bool]]) -> HazardOrders:
    early, late = graph.task(p.earlier), graph.task(p.later)
    return HazardOrders(p.kind, early.kernel, late.kernel, late.span, len(found),
                        sum(1 for f in found if False in f), sum(1 for f in found if True in f),
                        sum(1 for f in found if len(f) == 2))


def describe(h: HazardOrders) -> str:
    """One line on the orders seen of a hazard."""
    pairs = f"{h.pairs} pair{'s' if h.pairs != 1 else ''}"
    return (f"{h.later} after {h.earlier} ({h.kind.value}, line {h.span.line}): {pairs}; "
            f"both orders seen in {h.both}, only the submitted one in "
            f"{h.as_submitted - h.both}, only the reversed one in {h.reversed - h.both}")
