"""Instantiation of submissions: one task per run, with the runtime's fanin rules.

Follows the V0 submit pipeline (runtime-model.md): explicit deps first (both modes); then,
only outside manual scopes (runtime-model.md), per non-OUTPUT argument a creator edge (Step A) and,
for INPUT/INOUT without manual_dep, TensorMap lookups (Step B, INOUT removes COVERED
entries); then INOUT/OUTPUT_EXISTING without manual_dep are inserted (Step 4).
This is the hot path of instantiation: work that depends only on the site is done once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pto_dsl import ir, machine
from pto_dsl.graph import EXPLICIT_ONLY, Access, Buffer, Origin, Origins, Task, add_origin
from pto_dsl.instantiate_arrays import compile_deps, element_store
from pto_dsl.instantiate_dispatch import predicate_of
from pto_dsl.instantiate_host import known
from pto_dsl.regions import Region
from pto_dsl.tensormap import TensorMap
from pto_dsl.types import MAX_DIM
from pto_dsl.values import add_fanin

if TYPE_CHECKING:
    from pto_dsl.instantiate import Eval, Frame, Instantiator, Run

INPUT, INOUT = ir.Tag.INPUT, ir.Tag.INOUT
OUTPUT, OUTPUT_EXISTING = ir.Tag.OUTPUT, ir.Tag.OUTPUT_EXISTING
EXPLICIT, CREATOR, TENSORMAP = Origin.EXPLICIT, Origin.CREATOR, Origin.TENSORMAP
CREATOR_ONLY = add_origin((), CREATOR)

# (frame, task id) -> the argument's access.
AccessMaker = Callable[[Any, int], Access]


def _deps(inst: Instantiator,
          deps: tuple[ir.Dep, ...]) -> Callable[[Frame], list[tuple[int, int]]]:
    with_arrays = compile_deps(inst, deps, lambda task: task.id)
    if with_arrays is not None:
        return with_arrays
    plan = [(d.var.slot, inst.expr(d.guard) if d.guard is not None else None) for d in deps]

    def explicit(f: Frame) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []  # (producer, index of the dep item)
        for index, (slot, guard) in enumerate(plan):
            if guard is None or guard(f):
                task = f[slot]
                if task is not None:  # a dep on `none` is skipped (invalid task id)
                    out.append((task.id, index))
        return out
    return explicit


def _tensor_maker(inst: Instantiator, a: ir.TensorArg) -> AccessMaker:
    value, tag, name = inst.expr(a.tensor), a.tag, a.param.name

    def make(f: Frame, tid: int) -> Access:
        tv = value(f)
        return Access(tv.buffer, tv.region, tag, name, tv.manual_dep)
    return make


def _new_maker(inst: Instantiator, kernel: ir.Kernel, a: ir.NewArg) -> AccessMaker:
    dims, name, dtype, span = [inst.expr(d) for d in a.dims], a.param.name, a.dtype, a.span
    prefix, label = f"{kernel.name}#", f".{name}"
    buffers = inst.graph.buffers  # inst.new_buffer, inline

    whole: dict[tuple[int, ...], Region] = {}  # one region (and shape) per shape made

    def make(f: Frame, tid: int) -> Access:
        shape = tuple([d(f) for d in dims])
        region = whole.get(shape)
        if region is None:
            if min(shape) <= 0 or max(shape) > MAX_DIM:
                inst.fail("E170", f"output '{name}' has shape {list(shape)}; every "
                          "dimension must be positive and fit in a uint32", span)
            region = whole[shape] = Region(shape, (0,) * len(shape), shape)
        buf = Buffer(len(buffers), prefix + str(tid) + label, dtype, region.sizes, tid)
        buffers.append(buf)
        return Access(buf, region, OUTPUT, name, False)
    return make


def _plan(args: list[ir.TensorArg | ir.NewArg]) -> list[tuple[int | None, list[tuple[int, int]]]]:
    """What the kernel's signature constrains: (argument, dim) places that must equal a
    fixed size, or each other where one symbol names several dims (a symbol used once
    constrains nothing)."""
    plan: list[tuple[int | None, list[tuple[int, int]]]] = []
    shared: dict[str, list[tuple[int, int]]] = {}
    for ai, a in enumerate(args):
        for d, sym in enumerate(a.param.dims or ()):
            if isinstance(sym, int):
                plan.append((sym, [(ai, d)]))
            elif sym != "_":
                shared.setdefault(sym, []).append((ai, d))
    return plan + [(None, places) for places in shared.values() if len(places) > 1]


def dims_plan(args: list[ir.TensorArg | ir.NewArg]
              ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int, int]]]:
    """The signature's constraints as flat tests: (argument, dim, size) places of a fixed
    size, and (argument, dim, argument, dim) pairs that must be equal."""
    plan = _plan(args)
    fixed = [(ai, d, want) for want, places in plan if want is not None
             for ai, d in places]
    same = [(places[0][0], places[0][1], ai, d) for want, places in plan if want is None
            for ai, d in places[1:]]
    return fixed, same


def dims_checker(inst: Instantiator, kernel: ir.Kernel, args: list[ir.TensorArg | ir.NewArg],
                 fast: bool = True) -> Callable[[list[Access]], None] | None:
    """A check of the actual sizes against the kernel's signature, or None if it has
    nothing to check. `fast` (the default) puts a flat test of the common case in front of
    the general check."""
    plan = _plan(args)
    if not plan:
        return None

    def check(accesses: list[Access]) -> None:
        for want, places in plan:
            first = accesses[places[0][0]].region.sizes[places[0][1]] if want is None else want
            for ai, d in places:
                if accesses[ai].region.sizes[d] != first:
                    _dim_error(inst, kernel, want, args, places, accesses, (ai, d))
    return _fast_dims(args, check) if fast else check


def _fast_dims(args: list[ir.TensorArg | ir.NewArg],
               check: Callable[[list[Access]], None]) -> Callable[[list[Access]], None]:
    """`check`, with the common case (every size as the signature says) tested as flat
    comparisons of (argument, dim) places; `check` itself reports a mismatch, so the
    diagnostic is the general one (tests/test_instantiate_fast.py pins the two)."""
    fixed, same = dims_plan(args)

    def fast(accesses: list[Access]) -> None:
        for ai, d, want in fixed:
            if accesses[ai].region.sizes[d] != want:
                return check(accesses)
        for ai, d, aj, dj in same:
            if accesses[ai].region.sizes[d] != accesses[aj].region.sizes[dj]:
                return check(accesses)
        return None
    return fast


def _dim_error(inst: Instantiator, kernel: ir.Kernel, want: int | None,
               args: list[ir.TensorArg | ir.NewArg], places: list[tuple[int, int]],
               accesses: list[Access], bad: tuple[int, int]) -> None:
    arg = args[bad[0]]
    got = accesses[bad[0]].region.sizes[bad[1]]
    if want is not None:
        inst.fail("E175", f"'{arg.param.name}' of '{kernel.name}' needs size {want} in "
                  f"dimension {bad[1]}, got {got}", arg.span)
    first_arg = args[places[0][0]]
    assert first_arg.param.dims is not None
    sym = first_arg.param.dims[places[0][1]]
    size = accesses[places[0][0]].region.sizes[places[0][1]]
    inst.fail("E175", f"dimension {sym} of '{kernel.name}' is {size} in "
              f"'{first_arg.param.name}' but {got} in '{arg.param.name}'", arg.span,
              help=(f"the kernel's signature uses {sym} for both",))


def launch_of(inst: Instantiator, kernel: ir.Kernel,
              launch: ir.Launch | None) -> Callable[[Frame], tuple[int, bool]] | None:
    """The (block count, require_sync_start) of each task, checked as the runtime does:
    at least one block, an int16, and a sync-start task no wider than the machine; None
    without a launch clause (one block, no sync start: the Task's defaults)."""
    if launch is None:
        return None
    blocks, sync, span = inst.expr(launch.blocks), launch.sync, launch.span
    limit = machine.sync_start_limit(kernel.shape)
    cores = "AIV cores" if kernel.shape == "aiv" else "clusters"

    def evaluate(f: Frame) -> tuple[int, bool]:
        n = blocks(f)
        if not 1 <= n <= machine.MAX_BLOCKS:
            inst.fail("E177", f"'{kernel.name}' is launched with {n} blocks; a block count "
                      f"must be between 1 and {machine.MAX_BLOCKS}", span,
                      help=("the runtime's block_num is an int16 and rejects a count "
                            "below 1",))
        if sync and n > limit:
            inst.fail("E178", f"'{kernel.name}' needs all {n} blocks to start together, "
                      f"but the machine has {limit} {cores}", span,
                      help=(f"the runtime stops with fatal error 7 "
                            f"(REQUIRE_SYNC_START_INVALID): use at most {limit} blocks, "
                            "or drop 'sync'",))
        return n, sync
    return evaluate


def compile_submit(inst: Instantiator, s: ir.Submit) -> Run:
    site, graph = s.site, inst.graph
    kernel = site.kernel
    assert kernel is not None
    explicit_of = _deps(inst, s.deps)
    tensor_args = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
    makers = [_tensor_maker(inst, a) if isinstance(a, ir.TensorArg) else
              _new_maker(inst, kernel, a) for a in tensor_args]
    scalar_evals = [inst.expr(a.value) for a in s.args if isinstance(a, ir.ScalarArg)]
    check_dims = dims_checker(inst, kernel, tensor_args)
    launch = launch_of(inst, kernel, s.launch)
    predicate, early = predicate_of(inst, s.predicate), s.early is not None
    target = s.target.slot if s.target is not None and s.index is None else None
    store_at = element_store(inst, s) if s.index is not None else None
    make_task = inst.task_maker(site)
    writes = [i for i, a in enumerate(tensor_args)  # tags are fixed per argument
              if isinstance(a, ir.TensorArg) and a.tag is not INPUT]
    factory = inst.watchers.get(site.id)
    watch = factory(inst) if factory is not None else None

    def submit(f: Frame) -> None:
        store = store_at(f) if store_at is not None else None
        launched = launch(f) if launch is not None else None
        explicit = explicit_of(f)
        tid = len(graph)
        accesses = [make(f, tid) for make in makers]
        if check_dims is not None:
            check_dims(accesses)
        pred = None
        if predicate is not None:
            element, op, value = predicate(f)
            accesses.append(element)
            pred = (op, value)
        scalars = tuple([known(e(f)) for e in scalar_evals]) if scalar_evals else ()
        if explicit:
            task = make_task(tid, tuple(accesses), scalars, tuple([p for p, _ in explicit]),
                             tuple([i for _, i in explicit]))
        else:
            task = make_task(tid, tuple(accesses), scalars)
        if launched is not None:  # the Task's defaults otherwise
            task.blocks, task.sync_start = launched
        if early:
            task.early_resolve = True
        if pred is not None:
            task.predicate = pred
        add_task(inst, task, writes)
        if watch is not None:
            watch(f, task)
        if target is not None:
            f[target] = task
        elif store is not None:
            store(task)
    return submit


def add_task(inst: Instantiator, task: Task, writes: list[int]) -> None:
    """Add a submitted task to the graph with the fanin the runtime gives it: its explicit
    deps, then (outside manual scopes) creator and TensorMap edges. `writes` are the indices
    of its accesses that may write an existing buffer. The C++ recorder's replay adds its
    tasks through here too, so both front ends build their edges by the same rules."""
    tid = task.id
    accesses = task.accesses if task.predicate is None else task.accesses[:-1]  # edge_accesses
    records = inst.graph.records
    if task.explicit_deps:
        fanin: dict[int, Origins] = dict.fromkeys(task.explicit_deps, EXPLICIT_ONLY)
        records["explicit"] += len(fanin)
    else:
        fanin = {}
    if inst.manual_depth is None:
        _auto_fanin(inst.tmap, accesses, tid, fanin, records)
    written = inst.written
    for i in writes:  # regions written by tasks, for orchestration reads
        acc = accesses[i]
        written.setdefault(acc.buffer.id, []).append((acc.region, tid))
    inst.graph.add_task(task, fanin)
    inst.count_task(task.span)


def _auto_fanin(tmap: TensorMap, accesses: Sequence[Access], tid: int,
                fanin: dict[int, Origins], records: Counter[str]) -> None:
    """Steps A, B and 4, counting deps.json records as the runtime's replay writes them:
    a creator record only for a producer not yet in the fanin, one per TensorMap hit."""
    creators = hits = 0
    inout: list[tuple[Access, tuple[int, int]]] = []  # looked up, then inserted: one range
    for acc in accesses:
        tag = acc.tag
        if tag is OUTPUT:
            continue
        owner = acc.buffer.owner
        if owner is not None:  # Step A: creator retention
            if owner not in fanin:
                creators += 1
                fanin[owner] = CREATOR_ONLY
            else:
                add_fanin(fanin, owner, CREATOR)
        if acc.manual_dep:
            continue
        if tag is INPUT:  # Step B
            found = tmap.lookup(acc.buffer, acc.region, False)
        elif tag is INOUT:
            flat = acc.region.flat_range()
            inout.append((acc, flat))
            found = tmap.lookup(acc.buffer, acc.region, True, flat)
        else:
            continue
        if found:
            hits += len(found)
            for p in found:
                add_fanin(fanin, p, TENSORMAP)
    if creators:
        records["creator"] += creators
    if hits:
        records["tensormap"] += hits
    for acc in accesses:  # Step 4: register this task as the latest writer
        if acc.tag is OUTPUT_EXISTING and not acc.manual_dep:
            tmap.insert(acc.buffer, acc.region, tid)
        elif acc.tag is INOUT and not acc.manual_dep:
            tmap.insert(acc.buffer, acc.region, tid, inout.pop(0)[1])


def compile_alloc(inst: Instantiator, s: ir.AllocStmt) -> Run:
    site, graph = s.site, inst.graph
    items: list[tuple[str, str, list[Eval], Any]] = [
        (i.name, i.dtype, [inst.expr(d) for d in i.dims], i.span) for i in s.items]
    inits = [inst.expr(i.init) if i.init is not None else None for i in s.items]
    target = s.target.slot if s.target is not None else None
    make_task = inst.task_maker(site)

    def alloc(f: Frame) -> None:
        tid = len(graph)
        outputs: list[Access] = []
        for (name, dtype, dim_evals, span), init in zip(items, inits):
            shape = tuple(d(f) for d in dim_evals)
            if not all(0 < d <= MAX_DIM for d in shape):
                inst.fail("E170", f"'{name}' has shape {list(shape)}; every dimension must be "
                          "positive and fit in a uint32", span)
            buf = inst.new_buffer(f"alloc#{tid}.{name}", dtype, shape, tid)
            if init is not None:  # what orchestration reads of it give until it is written
                inst.initial_values[buf.id] = init(f)
            outputs.append(Access(buf, Region(shape, (0,) * len(shape), shape), OUTPUT, name,
                                  False))
        task = make_task(tid, tuple(outputs), ())
        graph.add_task(task, {})
        inst.count_task(s.span)
        if target is not None:
            f[target] = task
    return alloc
