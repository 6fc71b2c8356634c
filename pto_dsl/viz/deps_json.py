"""The runtime's `deps.json` (dep_gen, simpler `docs/dfx/dep-gen.md` §4) for a task graph.

`export` writes what the runtime's host replay writes, so its `deps_viewer` opens a
compile-time graph: kernel tasks keyed by `PTO2TaskId::raw` = ring << 32 | local id, and
the edge records of the replay's annotated pass, which re-runs the submits against a
TensorMap whose producers never retire: one explicit record per distinct dep, one creator
record per (producer, consumer) at the producer's first appearance, one TensorMap record
per lookup hit. Buffer addresses do not exist before a run, so each buffer gets a
synthetic, deterministic one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from pto_dsl import ir
from pto_dsl.graph import Access, Buffer, Origin, Task, TaskGraph
from pto_dsl.ir import Tag
from pto_dsl.regions import Overlap, Region
from pto_dsl.tensormap import Entry, TensorMap
from pto_dsl.types import DTYPE_INFO

ADDRESS_BASE = 0x1_0000_0000  # where the synthetic buffers start
ADDRESS_ALIGN = 1024  # the runtime's per-output alignment (runtime-model.md)
INVALID_KERNEL_ID = -1
SLOTS = ("aic", "aiv0", "aiv1")
FLAGS = {Origin.EXPLICIT: ["wait", "retain"], Origin.CREATOR: ["wait", "retain"],
         Origin.TENSORMAP: ["wait"]}
OVERLAP = {Overlap.COVERED: "covered", Overlap.OTHER: "other"}
OUTPUT_TYPE = Tag.OUTPUT.value
TYPE = {tag: tag.value for tag in Tag}  # an enum's .value is a slow property lookup
SOURCE = {origin: origin.value for origin in Origin}
LOOKED_UP = (Tag.INPUT, Tag.INOUT)  # Step B
REGISTERED = (Tag.INOUT, Tag.OUTPUT_EXISTING)  # Step 4

Json = dict[str, Any]


def task_ids(graph: TaskGraph) -> list[int]:
    """Each task's PTO2TaskId raw value: local ids count the submissions per ring."""
    next_local: dict[int, int] = {}
    out = []
    for task in graph.tasks():
        local = next_local.get(task.ring, 0)
        next_local[task.ring] = local + 1
        out.append(task.ring << 32 | local)
    return out


def fnv1a_tensor_id(addr: int, version: int) -> int:
    """The runtime's stable tensor id: FNV-1a 64 over the address's 8 bytes and the
    version's 4 bytes, little-endian."""
    h = 0xCBF29CE484222325
    for byte in addr.to_bytes(8, "little") + (version & 0xFFFFFFFF).to_bytes(4, "little"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def buffer_numel(buf: Buffer) -> int:
    """The storage size the runtime records, in elements: a runtime-allocated output's
    buffer is its size in the task's packed buffer, aligned up to 1024 bytes; an entry
    tensor's is exact."""
    numel = _numel(buf.shape)
    if buf.owner is None:
        return numel
    size = DTYPE_INFO[buf.dtype][1]
    return -(-numel * size // ADDRESS_ALIGN) * ADDRESS_ALIGN // size


@functools.lru_cache(maxsize=1 << 16)
def _geometry(region: Region) -> tuple[list[int], str, list[int]]:
    """(shape, start_offset, strides) of a region in the runtime's strided model: the
    strides of its row-major layout, the flat offset of its first element. Cached: loop
    iterations repeat the same regions (the lists are shared, never mutated)."""
    strides, stride = [], 1
    for d in reversed(region.layout):
        strides.append(stride)
        stride *= d
    return list(region.sizes), str(region.flat_range()[0]), strides[::-1]


class _Exporter:
    def __init__(self, program: ir.Program, graph: TaskGraph) -> None:
        self.program, self.graph = program, graph
        self.ids = task_ids(graph)
        self.addresses: dict[int, int] = {}
        self.tensors: dict[int, Json] = {}  # by buffer id, in first-sighting order
        self._next_addr = ADDRESS_BASE
        self._kernel_ids: dict[int, list[int]] = {}

    def tensor_id(self, buf: Buffer) -> str:
        """The buffer's tensor id (as deps.json writes it: a decimal string), giving the
        buffer its synthetic address at its first sighting."""
        found = self.tensors.get(buf.id)
        if found is None:
            addr = self._next_addr
            size = _numel(buf.shape) * DTYPE_INFO[buf.dtype][1]
            self._next_addr += -(-max(size, 1) // ADDRESS_ALIGN) * ADDRESS_ALIGN
            found = self.tensors[buf.id] = {
                "tensor_id": str(fnv1a_tensor_id(addr, 0)), "buffer_addr": str(addr),
                "version": 0, "dtype": DTYPE_INFO[buf.dtype][0],
                "buffer_numel": str(buffer_numel(buf))}
        return str(found["tensor_id"])

    def kernel_ids(self, site: int) -> list[int]:
        """The func ids of the slots (aic, aiv0, aiv1) of a site's kernel, -1 where it has
        none; one list per site, shared by its tasks."""
        found = self._kernel_ids.get(site)
        if found is None:
            kernel = self.program.sites[site].kernel  # a dummy task's is its site's own
            slots = dict(kernel.func_ids) if kernel is not None else {}
            ids = [slots.get(s, slots.get("aiv") if s == "aiv0" else None) for s in SLOTS]
            found = self._kernel_ids[site] = [INVALID_KERNEL_ID if k is None else k
                                              for k in ids]
        return found

    def task(self, task: Task) -> Json:
        args: list[Json] = []
        for i, acc in enumerate(task.edge_accesses):
            if acc.tag is Tag.OUTPUT:  # an OUTPUT has no tensor before it is created
                args.append({"idx": i, "type": OUTPUT_TYPE})
                continue
            buf = acc.buffer
            shape, start, strides = _geometry(acc.region)
            args.append({"idx": i, "type": TYPE[acc.tag], "tensor_id": self.tensor_id(buf),
                         "dtype": DTYPE_INFO[buf.dtype][0], "shape": shape,
                         "start_offset": start, "strides": strides})
        return {"task_id": str(self.ids[task.id]), "scope": task.scope_mode,
                "early_dispatch": task.early_resolve,
                "kernel_ids": self.kernel_ids(task.site),
                "block_num": 1, "args": args}

    def edges(self, task: Task, tmap: TensorMap) -> Iterator[Json]:
        """The records of one consumer in the replay's order: explicit deps (step 1), then
        per argument its creator (step A) unless the producer already has a record here,
        and every TensorMap hit (step B), newest entry first; then its writes enter the
        map (step 4). Manual-scope submits take no step A, B or 4."""
        succ = str(self.ids[task.id])
        seen: set[int] = set()
        for p in task.explicit_deps:
            if p not in seen:
                seen.add(p)
                yield {"pred": str(self.ids[p]), "succ": succ, "arg": -1,
                       "source": "explicit", "flags": FLAGS[Origin.EXPLICIT]}
        if task.in_manual:
            return
        for i, acc in enumerate(task.edge_accesses):
            if acc.tag is Tag.OUTPUT:
                continue
            owner = acc.buffer.owner
            if owner is not None and owner not in seen:
                seen.add(owner)
                yield self._row(owner, succ, i, acc, Origin.CREATOR)
            if acc.tag in LOOKED_UP and not acc.manual_dep:
                hits = tmap.hits(acc.buffer, acc.region, acc.tag is Tag.INOUT)
                for entry, overlap in sorted(hits, key=lambda h: -h[0].producer):
                    seen.add(entry.producer)
                    yield self._tensormap_row(entry, overlap, succ, i, acc)
        for acc in task.edge_accesses:
            if acc.tag in REGISTERED and not acc.manual_dep:
                tmap.insert(acc.buffer, acc.region, task.id)

    def _row(self, pred: int, succ: str, arg: int, acc: Access, origin: Origin) -> Json:
        row: Json = {"pred": str(self.ids[pred]), "succ": succ, "arg": arg,
                     "source": SOURCE[origin], "flags": FLAGS[origin]}
        if origin is Origin.TENSORMAP:
            row["overlap"] = "other"  # set by the caller; kept here for the field order
        row["tensor_id"] = self.tensor_id(acc.buffer)
        row["consumer_dtype"] = DTYPE_INFO[acc.buffer.dtype][0]
        shape, start, strides = _geometry(acc.region)
        row.update({"consumer_shape": shape, "consumer_start_offset": start,
                    "consumer_strides": strides})
        return row

    def _tensormap_row(self, entry: Entry, overlap: Overlap, succ: str, arg: int,
                       acc: Access) -> Json:
        row = self._row(entry.producer, succ, arg, acc, Origin.TENSORMAP)
        # the lookup's own status: "covered" when the consumer's slice contains the
        # producer's (the runtime's check_overlap; dep-gen.md's prose says the reverse,
        # but the replay writes this status)
        row["overlap"] = OVERLAP[overlap]
        shape, start, strides = _geometry(entry.region)
        row.update({"producer_shape": shape, "producer_start_offset": start,
                    "producer_strides": strides})
        return row


def export(program: ir.Program, graph: TaskGraph) -> Json:
    """deps.json for the graph. Alloc tasks get no `tasks[]` entry, as in the runtime,
    whose dep_gen records only kernel submits; they appear as edge producers."""
    ex = _Exporter(program, graph)
    tmap = TensorMap(graph.rules.overlap)  # the target's own overlap test
    tasks: list[Json] = []
    edges: list[Json] = []
    for task in graph.tasks():
        if task.core != "alloc":
            tasks.append(ex.task(task))
        edges.extend(ex.edges(task, tmap))
    return {"tasks": tasks, "tensors": list(ex.tensors.values()), "edges": edges}

