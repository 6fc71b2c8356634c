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
import json
import math
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
OUTPUT = Tag.OUTPUT
TYPE = {tag: tag.value for tag in Tag}  # an enum's .value is a slow property lookup
SOURCE = {origin: origin.value for origin in Origin}
LOOKED_UP = (Tag.INPUT, Tag.INOUT)  # Step B
REGISTERED = (Tag.INOUT, Tag.OUTPUT_EXISTING)  # Step 4

Json = dict[str, Any]
# one edge record before it is written: producer, argument (-1: an explicit dep), the
# consumer's access (None: explicit), the TensorMap entry hit and its overlap (None: creator)
Record = tuple[int, int, Access | None, Entry | None, Overlap | None]


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
    return math.prod(shape)


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

    def records(self, task: Task, tmap: TensorMap) -> Iterator[Record]:
        """The records of one consumer in the replay's order: explicit deps (step 1), then
        per argument its creator (step A) unless the producer already has a record here,
        and every TensorMap hit (step B), newest entry first; then its writes enter the
        map (step 4). Manual-scope submits take no step A, B or 4."""
        seen: set[int] = set()
        for p in task.explicit_deps:
            if p not in seen:
                seen.add(p)
                yield p, -1, None, None, None
        if task.in_manual:
            return
        for i, acc in enumerate(task.edge_accesses):
            if acc.tag is Tag.OUTPUT:
                continue
            owner = acc.buffer.owner
            if owner is not None and owner not in seen:
                seen.add(owner)
                yield owner, i, acc, None, None
            if acc.tag in LOOKED_UP and not acc.manual_dep:
                hits = tmap.hits(acc.buffer, acc.region, acc.tag is Tag.INOUT)
                for entry, overlap in sorted(hits, key=lambda h: -h[0].producer):
                    seen.add(entry.producer)
                    yield entry.producer, i, acc, entry, overlap
        for acc in task.edge_accesses:
            if acc.tag in REGISTERED and not acc.manual_dep:
                tmap.insert(acc.buffer, acc.region, task.id)

    def row(self, succ: str, record: Record) -> Json:
        """One record as deps.json's edge object."""
        pred, arg, acc, entry, overlap = record
        origin = Origin.EXPLICIT if acc is None else Origin.CREATOR if entry is None \
            else Origin.TENSORMAP
        row: Json = {"pred": str(self.ids[pred]), "succ": succ, "arg": arg,
                     "source": SOURCE[origin], "flags": FLAGS[origin]}
        if acc is None:
            return row
        if entry is not None:
            # the lookup's own status: "covered" when the consumer's slice contains the
            # producer's (the runtime's check_overlap; dep-gen.md's prose says the reverse,
            # but the replay writes this status)
            assert overlap is not None
            row["overlap"] = OVERLAP[overlap]
        row["tensor_id"] = self.tensor_id(acc.buffer)
        row["consumer_dtype"] = DTYPE_INFO[acc.buffer.dtype][0]
        shape, start, strides = _geometry(acc.region)
        row.update({"consumer_shape": shape, "consumer_start_offset": start,
                    "consumer_strides": strides})
        if entry is not None:
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
    ids = ex.ids
    for task in graph.tasks():
        if task.core != "alloc":
            tasks.append(ex.task(task))
        succ = str(ids[task.id])
        edges.extend(ex.row(succ, record) for record in ex.records(task, tmap))
    return {"tasks": tasks, "tensors": list(ex.tensors.values()), "edges": edges}


def export_bytes(program: ir.Program, graph: TaskGraph) -> bytes:
    """`export` as the bytes `json.dumps(export(...), separators=(",", ":")) + "\\n"`
    gives, written straight from the records: no dict per task, argument and edge.
    Every string it writes is ASCII without characters JSON escapes (decimal ids, the
    fixed names of tags, sources, dtypes and scopes), so it needs no escaping;
    `tests/test_viz_deps.py` pins it to `json.dumps` of `export`."""
    ex = _Exporter(program, graph)
    text = _Text(ex)
    tmap = TensorMap(graph.rules.overlap)
    tasks: list[str] = []
    edges: list[str] = []
    ids, row = ex.ids, text.row
    for task in graph.tasks():
        if task.core != "alloc":
            tasks.append(text.task(task))
        succ = f'"succ":"{ids[task.id]}","arg":'
        edges.extend([row(succ, record) for record in ex.records(task, tmap)])
    tensors = json.dumps(list(ex.tensors.values()), separators=(",", ":"))
    return "".join(['{"tasks":[', ",".join(tasks), '],"tensors":', tensors, ',"edges":[',
                    ",".join(edges), "]}\n"]).encode("ascii")


def _ints(values: list[int]) -> str:
    return "[" + ",".join([str(v) for v in values]) + "]"


@functools.lru_cache(maxsize=1 << 16)
def _geometry_text(region: Region) -> tuple[str, str, str]:
    """`_geometry` as JSON values: the shape, the start offset and the strides."""
    shape, start, strides = _geometry(region)
    return _ints(shape), start, _ints(strides)


class _Text:
    """The JSON text of tasks and records; per site, per buffer and per region cached."""

    def __init__(self, ex: _Exporter) -> None:
        self.ex = ex
        self._task_head: dict[tuple[int, bool, bool], str] = {}
        self._buffers: dict[int, str] = {}

    def buffer(self, buf: Buffer) -> str:
        """`"tensor_id":...,"dtype":...` of a buffer (`tensor_id` names it when new)."""
        found = self._buffers.get(buf.id)
        if found is None:
            found = self._buffers[buf.id] = (f'"tensor_id":"{self.ex.tensor_id(buf)}",'
                                             f'"dtype":"{DTYPE_INFO[buf.dtype][0]}"')
        return found

    def task(self, task: Task) -> str:
        key = (task.site, task.in_manual, task.early_resolve)
        head = self._task_head.get(key)
        if head is None:
            head = self._task_head[key] = (
                f'","scope":"{task.scope_mode}","early_dispatch":'
                f'{"true" if task.early_resolve else "false"},"kernel_ids":'
                f'{_ints(self.ex.kernel_ids(task.site))},"block_num":1,"args":[')
        args = []
        buffers, buffer, geometry = self._buffers, self.buffer, _geometry_text
        for i, acc in enumerate(task.edge_accesses):
            tag = acc.tag
            if tag is OUTPUT:
                args.append(f'{{"idx":{i},"type":"{OUTPUT_TYPE}"}}')
                continue
            buf = acc.buffer
            tensor = buffers.get(buf.id) or buffer(buf)
            shape, start, strides = geometry(acc.region)
            args.append(f'{{"idx":{i},"type":"{_type(tag)}",{tensor},"shape":{shape},'
                        f'"start_offset":"{start}","strides":{strides}}}')
        return f'{{"task_id":"{self.ex.ids[task.id]}{head}{",".join(args)}]}}'

    def row(self, succ: str, record: Record) -> str:
        pred, arg, acc, entry, overlap = record
        head = f'{{"pred":"{self.ex.ids[pred]}",{succ}{arg},"source":'
        if acc is None:
            return head + '"explicit","flags":["wait","retain"]}'
        shape, start, strides = _geometry_text(acc.region)
        consumer = (self.buffer(acc.buffer).replace('"dtype"', '"consumer_dtype"')
                    + f',"consumer_shape":{shape},"consumer_start_offset":"{start}",'
                    f'"consumer_strides":{strides}')
        if entry is None:
            return f'{head}"creator","flags":["wait","retain"],{consumer}}}'
        assert overlap is not None
        shape, start, strides = _geometry_text(entry.region)
        return (f'{head}"tensormap","flags":["wait"],"overlap":"{OVERLAP[overlap]}",'
                f'{consumer},"producer_shape":{shape},"producer_start_offset":"{start}",'
                f'"producer_strides":{strides}}}')


def _type(tag: Tag) -> str:
    """`TYPE[tag]` without hashing the enum (a Python-level hash)."""
    return "INPUT" if tag is Tag.INPUT else "INOUT" if tag is Tag.INOUT else TYPE[tag]
