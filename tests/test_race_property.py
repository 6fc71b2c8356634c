"""Property: the race checker reports a race if and only if two legal executions differ.

Random small programs (up to 7 tasks over 2-3 buffers, overlapping views, random deps, AUTO
and MANUAL scopes) are instantiated; every topological order of the graph's edges is then
executed on a toy machine, each task reading its input regions and writing a value derived
from what it read and its own id. Kernels take `in` and `inout` tensors only, so every write
also reads: a write that a later write hides completely is still observed through its reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from helpers import checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pto_dsl.graph import TaskGraph
from pto_dsl.ir import Tag
from pto_dsl.pipeline import instantiate_case
from pto_dsl.safety import run_graph_checks

SIZE = 8
KERNELS = {  # name -> directions of its tensor parameters
    "RD": ("in",), "UP": ("inout",), "MIX": ("in", "inout"), "ADD": ("inout", "inout"),
}


@st.composite
def programs(draw: st.DrawFn) -> str:
    n_buffers = draw(st.integers(2, 3))
    n_tasks = draw(st.integers(2, 7))
    lines = [f"kernel {k} aiv {i} ({', '.join(f'{d} p{j}: f32[_]' for j, d in enumerate(ds))})"
             for i, (k, ds) in enumerate(KERNELS.items())]
    params = ", ".join(f"inout b{i}: f32[N]" for i in range(n_buffers))
    body = [f"    let t{i} = none" for i in range(n_tasks)]
    task = 0
    while task < n_tasks:
        mode = draw(st.sampled_from(["", "scope ", "scope manual "]))
        count = draw(st.integers(1, n_tasks - task))
        inner = []
        for _ in range(count):
            kernel = draw(st.sampled_from(sorted(KERNELS)))
            args = []
            for _ in KERNELS[kernel]:
                lo = draw(st.integers(0, SIZE - 1))
                hi = draw(st.integers(lo + 1, SIZE))
                args.append(f"b{draw(st.integers(0, n_buffers - 1))}[{lo} : {hi}]")
            deps = sorted(draw(st.sets(st.integers(0, task - 1), max_size=3))) if task else []
            dep = (" dep " + ", ".join(f"t{d}" for d in deps)) if deps else ""
            inner.append(f"t{task} = {kernel}({', '.join(args)}){dep}")
            task += 1
        if mode:
            body.append(f"    {mode}{{ " + "\n        ".join(inner) + " }")
        else:
            body.extend("    " + line for line in inner)
    lines.append(f"entry e({params}) {{\n" + "\n".join(body) + "\n}")
    lines.append(f"default case c {{ N = {SIZE} }}")
    return "\n".join(lines) + "\n"


def _orders(graph: TaskGraph) -> Iterator[list[int]]:
    preds = [set(p) for p in graph.fanin_lists()]
    n = len(preds)

    def extend(done: list[int], left: set[int]) -> Iterator[list[int]]:
        if not left:
            yield list(done)
            return
        for t in sorted(left):
            if preds[t] <= set(done):
                done.append(t)
                yield from extend(done, left - {t})
                done.pop()
    yield from extend([], set(range(n)))


def _execute(graph: TaskGraph, order: list[int]) -> tuple[object, ...]:
    memory = {b.id: [0] * SIZE for b in graph.buffers}
    seen: dict[int, tuple[int, ...]] = {}
    for t in order:
        task = graph.task(t)
        values: list[int] = []
        for acc in task.accesses:
            (lo,), (size,) = acc.region.offsets, acc.region.sizes
            values.extend(memory[acc.buffer.id][lo:lo + size])
        seen[t] = tuple(values)
        result = hash((t, seen[t]))
        for acc in task.accesses:
            if acc.tag is Tag.INOUT:
                (lo,), (size,) = acc.region.offsets, acc.region.sizes
                memory[acc.buffer.id][lo:lo + size] = [result] * size
    return (tuple(sorted(seen.items())),
            tuple(tuple(memory[b]) for b in sorted(memory)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_a_race_is_reported_iff_two_legal_executions_differ(text: str) -> None:
    c = checked(text)
    graph = instantiate_case(c, None)
    reported = any(d.code in ("E201", "W201") for d in run_graph_checks(c.program, graph))
    outcomes = {_execute(graph, order) for order in itertools.islice(_orders(graph), 5040)}
    assert reported == (len(outcomes) > 1), text


@st.composite
def programs_with_accesses(draw: st.DrawFn) -> str:
    """`programs()` with element reads and writes of the orchestration between the tasks
    (at most 7 tasks and accesses together, so every order is enumerated)."""
    text = draw(programs())
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if line.startswith("    ") and "= none" not in line]
    n_buffers = text.count("inout b")
    room = max(0, 7 - len(instantiate_case(checked(text), None)))
    accesses = draw(st.lists(st.tuples(st.sampled_from(body), st.booleans(),
                                       st.integers(0, n_buffers - 1), st.integers(0, SIZE - 1)),
                             max_size=min(room, 3)))
    for k, (at, write, buf, index) in enumerate(sorted(accesses, reverse=True)):
        line = lines[at]
        indent = line[:len(line) - len(line.lstrip())]
        access = f"b{buf}[{index}] = {k + 1}.5" if write else f"let r{k} = b{buf}[{index}]"
        if line.rstrip().endswith("}") and "{" in line:  # a one-line scope: access inside it
            lines[at] = line.rstrip()[:-1].rstrip() + f"\n        {access} }}"
        else:
            lines.insert(at + 1, f"{indent}{access}")
    return "\n".join(lines)


def _orders_with_accesses(graph: TaskGraph) -> Iterator[list[tuple[str, int]]]:
    """Every legal execution: tasks after their producers; an access after the tasks it
    waits for and after the previous access; a task after the accesses before its submission."""
    nodes = [("t", t) for t in range(len(graph))] + [("h", k) for k in range(len(graph.host_reads))]
    preds: dict[tuple[str, int], set[tuple[str, int]]] = {n: set() for n in nodes}
    for t, producers in enumerate(graph.fanin_lists()):
        preds[("t", t)] |= {("t", p) for p in producers}
    for k, h in enumerate(graph.host_reads):
        preds[("h", k)] |= {("t", w) for w in h.waited}
        if k:
            preds[("h", k)].add(("h", k - 1))
        for t in range(h.after_tasks, len(graph)):
            preds[("t", t)].add(("h", k))

    def extend(done: list[tuple[str, int]], left: set[tuple[str, int]]
               ) -> Iterator[list[tuple[str, int]]]:
        if not left:
            yield list(done)
            return
        for n in sorted(left):
            if preds[n] <= set(done):
                done.append(n)
                yield from extend(done, left - {n})
                done.pop()
    yield from extend([], set(nodes))


def _run(graph: TaskGraph, order: list[tuple[str, int]]) -> tuple[object, ...]:
    memory = {b.id: [0] * SIZE for b in graph.buffers}
    seen: dict[object, object] = {}
    for kind, k in order:
        if kind == "h":
            h = graph.host_reads[k]
            (i,) = h.access.region.offsets
            if h.write:
                memory[h.access.buffer.id][i] = hash(("h", k))
            else:
                seen[("h", k)] = memory[h.access.buffer.id][i]
            continue
        task = graph.task(k)
        values: list[int] = []
        for acc in task.accesses:
            (lo,), (size,) = acc.region.offsets, acc.region.sizes
            values.extend(memory[acc.buffer.id][lo:lo + size])
        seen[("t", k)] = tuple(values)
        result = hash((k, tuple(values)))
        for acc in task.accesses:
            if acc.tag is Tag.INOUT:
                (lo,), (size,) = acc.region.offsets, acc.region.sizes
                memory[acc.buffer.id][lo:lo + size] = [result] * size
    return (tuple(sorted(seen.items(), key=repr)),
            tuple(tuple(memory[b]) for b in sorted(memory)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs_with_accesses())
def test_with_orchestration_accesses_a_race_is_reported_iff_executions_differ(
        text: str) -> None:
    """Element reads and writes wait for the tasks the runtime waits for and order what is
    submitted after them: E201/W201 (two tasks) or E204 (an access and a task) is reported
    exactly when two legal executions differ in what a task or an access sees, or in memory."""
    c = checked(text)
    graph = instantiate_case(c, None)
    reported = any(d.code in ("E201", "W201", "E204")
                   for d in run_graph_checks(c.program, graph))
    outcomes = {_run(graph, order)
                for order in itertools.islice(_orders_with_accesses(graph), 5040)}
    assert reported == (len(outcomes) > 1), text
