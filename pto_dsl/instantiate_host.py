"""Instantiation of orchestration-side data access: element reads and writes
(get/set_tensor_data) with the runtime's waits, and the machine's core counts.

Each access is recorded in the graph with the tasks the runtime waits for before it
(`HostRead.waited`): a serialisation point that the race check orders tasks by. A read
gives the value the orchestration knows: the case's contents, a value it wrote itself, a
buffer's initial value, or `Unknown` for data a task computes (pto-check runs no kernels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from pto_dsl import ir, machine
from pto_dsl.graph import Access, HostRead
from pto_dsl.regions import Overlap, Region, classify
from pto_dsl.source import Span
from pto_dsl.values import Tensor

if TYPE_CHECKING:
    from pto_dsl.instantiate import Eval, Frame, Instantiator, Run

HOST = -1  # the writer of an element the orchestration itself wrote
INPUT = ir.Tag.INPUT
_new = tuple.__new__  # a named tuple made without its Python-level __new__


class UnknownUsed(Exception):
    """An `Unknown` value decided something the task graph depends on."""

    def __init__(self, value: Unknown) -> None:
        super().__init__("an unknown value was used")
        self.value = value


class Unknown:
    """The value of a read of data a task computes, when checking without running kernels:
    arithmetic and comparisons on it give it again; anything that needs its number (a
    branch, a bound, an index, a size, a kernel scalar) raises `UnknownUsed`."""

    __slots__ = ("span", "task")

    def __init__(self, span: Span, task: str) -> None:
        self.span, self.task = span, task

    def _same(self, *_: Any) -> Unknown:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __mod__ = __rmod__ = __floordiv__ = __rfloordiv__ = _same
    __neg__ = __pos__ = __abs__ = _same
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _same  # type: ignore[assignment]

    def _number(self) -> NoReturn:
        raise UnknownUsed(self)

    __bool__ = __index__ = __int__ = __float__ = _number
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<computed by {self.task}>"


def known(value: Any) -> Any:
    """`value`, which must be a number here (a kernel scalar)."""
    if type(value) is Unknown:
        raise UnknownUsed(value)
    return value


def core_count(kind: str) -> int:
    """What rt_available_cluster_count / rt_available_aiv_count return on the machine
    programs are checked against (pto_dsl.machine)."""
    clusters = machine.CLUSTERS
    return clusters if kind == "cluster" else clusters * machine.AIV_PER_CLUSTER


def point(tv: Tensor, index: tuple[int, ...]) -> Region:
    """The one element `index` (relative to the view) of a tensor value."""
    r = tv.region
    return Region(r.layout, tuple(o + i for o, i in zip(r.offsets, index)), (1,) * len(index))


def check_index(inst: Instantiator, tv: Tensor, index: tuple[int, ...], span: Span,
                what: str = "index") -> None:
    """E172 at `span` for an element index outside the view (`what` names the index)."""
    for dim, (i, size) in enumerate(zip(index, tv.region.sizes)):
        if not 0 <= i < size:
            inst.fail("E172", f"{what} {i} is out of bounds for dimension {dim} of size "
                      f"{size}", span)


def waited(inst: Instantiator, tv: Tensor, write: bool) -> tuple[int, ...]:
    """The tasks the runtime waits for before accessing `tv` (one TensorMap lookup): its
    creator and every overlapping TensorMap writer; a write also waits for the consumers
    each of those holds (fanout_count counts only edges that retain; at v0 only while the
    producer's scope is open, `RuntimeRules.exact_consumer_wait`)."""
    buf = tv.buffer
    hits = inst.tmap.lookup(buf, tv.region, False)
    if not hits and buf.owner is None:  # most reads: a table no task writes
        return ()
    found = dict.fromkeys(hits)
    if buf.owner is not None:
        found[buf.owner] = None
    if write and found:
        graph, rules = inst.graph, inst.graph.rules
        retaining, open_scopes = rules.retaining_origins, inst.scope_stack
        fanout = graph.fanout_lists()
        for p in list(found):
            scope = graph.task(p).scope
            if not (rules.exact_consumer_wait or scope is None or scope in open_scopes):
                continue
            for c in fanout[p]:
                if any(o.value in retaining for o in graph.origins(p, c)):
                    found[c] = None
    return tuple(sorted(found))


def record(inst: Instantiator, tv: Tensor, region: Region, span: Span, write: bool) -> None:
    tag = ir.Tag.OUTPUT_EXISTING if write else INPUT
    graph = inst.graph
    graph.host_reads.append(_new(HostRead, (span, _new(Access, (
        tv.buffer, region, tag, "", tv.manual_dep)), len(graph), waited(inst, tv, write), write)))


def read_value(inst: Instantiator, tv: Tensor, region: Region, span: Span) -> Any:
    """The element's value as the orchestration knows it when it reads (see module doc)."""
    buf = tv.buffer
    writes = inst.written.get(buf.id)
    if writes:  # an entry tensor nothing writes (a table read for indices) skips this
        flat = region.flat_range()[0]
        for written, writer in reversed(writes):
            if writer == HOST:
                if written.flat_range()[0] == flat:
                    return inst.host_values[(buf.id, flat)]
            elif classify(region, written) is not Overlap.NO_OVERLAP:
                return Unknown(span, inst.graph.task(writer).label)
    if buf.owner is None:
        return inst.case.element(buf.name, region.offsets)
    creator = inst.graph.task(buf.owner)
    if creator.kernel != "alloc":
        return Unknown(span, creator.label)
    init = inst.initial_values.get(buf.id)
    if init is None:
        inst.fail("E171", f"this element of '{buf.name}' is read before anything writes it: "
                  "the runtime allocates the buffer uninitialised", span,
                  help=("write it first (a kernel's output or an element write), or give "
                        "the alloc item an initial value",))
    return init


def host_read(inst: Instantiator, tv: Tensor, index: tuple[int, ...], span: Span) -> Any:
    """`get_tensor_data`: wait for the producers (recorded), then the element's value."""
    return read_point(inst, tv, point(tv, index), span)


def read_point(inst: Instantiator, tv: Tensor, region: Region, span: Span) -> Any:
    """`host_read` of the element `region` (the generated instantiation makes the point
    itself): recorded, then its value, a table's element read directly."""
    record(inst, tv, region, span, False)
    buf = tv.buffer
    if buf.owner is None and not inst.written.get(buf.id):  # an entry table no one writes
        return inst.case.element(buf.name, region.offsets)
    return read_value(inst, tv, region, span)


def compile_set(inst: Instantiator, s: ir.SetElement) -> Run:
    """`set_tensor_data`: wait for the producers and their consumers (recorded), then
    write; later reads of the element give the value, and later kernels see it."""
    tensor, value = inst.expr(s.tensor), inst.expr(s.value)
    indices: list[Eval] = [inst.expr(i) for i in s.indices]
    span = s.span

    def write(f: Frame) -> None:
        tv = tensor(f)
        index = tuple(i(f) for i in indices)
        check_index(inst, tv, index, span)
        region = point(tv, index)
        v = value(f)
        record(inst, tv, region, span, True)
        note_write(inst, tv, region, v)
    return write


def note_write(inst: Instantiator, tv: Tensor, region: Region, value: Any) -> None:
    """What later reads of the element give: the value the orchestration wrote."""
    buf = tv.buffer
    inst.host_values[(buf.id, region.flat_range()[0])] = value
    inst.written.setdefault(buf.id, []).append((region, HOST))


def unknown_error(inst: Instantiator, exc: UnknownUsed) -> NoReturn:
    inst.fail("E171", f"this read gives data that task {exc.value.task} computes, and the "
              "task graph depends on its value (a branch, a loop bound, an index, a size, a "
              "block count or a kernel scalar)", exc.value.span,
              help=("pto-check runs no kernels, so it knows the value only as 'computed': "
                    "such a value may be combined and written to tensors, but what the "
                    "graph depends on must come from the case",))


def compile_core_count(inst: Instantiator, e: ir.CoreCount) -> Callable[[Frame], int]:
    kind = e.kind
    return lambda f: inst.core_count(kind)
