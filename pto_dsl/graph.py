"""The task graph: one program instantiated on one case.

A small typed class that owns the tasks and, per task, its fanin with each edge's origins;
`nx` gives the same graph as a `networkx.DiGraph` (built in bulk on first use) for graph
algorithms. Nodes are task ids (submission order, alloc tasks included; `task(id)` gives the
Task). Passes use the methods here, never raw attribute dicts.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from pto_dsl.dialects import DEFAULT_DIALECT, RuntimeRules
from pto_dsl.ir import ScopeDecl, Tag
from pto_dsl.regions import Region
from pto_dsl.source import Span

if TYPE_CHECKING:
    import networkx as nx

T = TypeVar("T")


class Origin(enum.Enum):
    """Why the runtime creates an edge (runtime-model.md)."""

    EXPLICIT = "explicit"  # add_dep / set_dependencies
    CREATOR = "creator"  # Step A: the owner task of a runtime-allocated buffer
    TENSORMAP = "tensormap"  # Step B: an overlapping earlier writer


Origins = tuple[Origin, ...]  # an edge's origins, in the order found; shared (see add_origin)
_SHARED: dict[Origins, Origins] = {}


def add_origin(origins: Origins, origin: Origin) -> Origins:
    """`origins` with `origin` after them (unless there). The few distinct tuples are made
    once and shared by every edge: a million-task graph holds no tuple or list per edge."""
    if origin in origins:
        return origins
    joined = (*origins, origin)
    return _SHARED.setdefault(joined, joined)


EXPLICIT_ONLY: Origins = add_origin((), Origin.EXPLICIT)


class Buffer(NamedTuple):
    """A piece of memory: an entry tensor or one runtime-allocated output.

    A NamedTuple for speed (instantiation makes one per output); `id` is unique.
    """

    id: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    owner: int | None  # creator task (owner_task_id), None for entry tensors


class Access(NamedTuple):
    buffer: Buffer
    region: Region
    tag: Tag
    param: str
    manual_dep: bool

    @property
    def writes(self) -> bool:
        return self.tag is not Tag.INPUT

    @property
    def reads(self) -> bool:
        return self.tag in (Tag.INPUT, Tag.INOUT)


@dataclass(eq=False)
class ScopeInstance:
    id: int
    decl: ScopeDecl
    parent: ScopeInstance | None
    instance: tuple[tuple[str, int], ...]

    @property
    def manual(self) -> bool:
        return self.decl.manual

    @property
    def depth(self) -> int:
        return self.decl.depth

    def path(self) -> tuple[int, ...]:
        ids: list[int] = []
        s: ScopeInstance | None = self
        while s is not None:
            ids.append(s.id)
            s = s.parent
        return tuple(reversed(ids))


@dataclass(slots=True, eq=False)
class Task:
    id: int
    site: int
    kernel: str  # kernel name, or "alloc"
    core: str  # aic / aiv / mix / alloc
    func_id: int | None
    scope: ScopeInstance | None  # None: the entry's own level (depth 0)
    in_manual: bool
    ring: int
    accesses: tuple[Access, ...]
    scalars: tuple[int | float | bool, ...]
    instance: tuple[tuple[str, int], ...]
    span: Span
    explicit_deps: tuple[int, ...] = ()  # producers named by deps, in dep-clause order
    dep_items: tuple[int, ...] = ()  # for each, the index of its item in the dep clause
    blocks: int = 1  # SPMD block count (launch_spec.block_num)
    sync_start: bool = False  # launch_spec.require_sync_start
    element: tuple[str, int] | None = None  # (array, index) of a task-id array it went into
    early_resolve: bool = False  # set_allow_early_resolve (runtime-model.md)
    # set_predicate: (op, target); the element is the task's last access (it takes no edge)
    predicate: tuple[str, int] | None = None

    def output(self, name: str) -> Access:
        """The runtime-allocated output `name` (a `new` argument or an alloc item): the
        access of tag OUTPUT with that parameter name (KeyError if there is none). Found in
        the accesses, not kept in a dict per task: a million tasks' dicts are 150 MB."""
        for acc in self.accesses:
            if acc.param == name and acc.tag is Tag.OUTPUT:
                return acc
        raise KeyError(name)

    @property
    def scope_mode(self) -> str:
        return "manual" if self.in_manual else "auto"

    @property
    def scope_path(self) -> tuple[int, ...]:
        return self.scope.path() if self.scope else ()

    @property
    def label(self) -> str:
        inst = ", ".join(f"{k}={v}" for k, v in self.instance)
        return f"{self.kernel}#{self.id}" + (f" ({inst})" if inst else "")

    @property
    def launch_text(self) -> str:
        """` x24` for an SPMD task of 24 blocks, ` x24 sync` with require_sync_start,
        then ` early` and ` if[i] > 0` (its predicate) when set."""
        text = ""
        if self.blocks != 1 or self.sync_start:
            text = f" x{self.blocks}" + (" sync" if self.sync_start else "")
        if self.early_resolve:
            text += " early"
        if self.predicate is not None:
            acc = self.accesses[-1]
            index = ", ".join(str(o) for o in acc.region.offsets)
            text += f" if {acc.buffer.name}[{index}] {self.predicate[0]} {self.predicate[1]}"
        return text

    @property
    def edge_accesses(self) -> tuple[Access, ...]:
        """The accesses the runtime looks up and records: all but a predicate's element."""
        return self.accesses if self.predicate is None else self.accesses[:-1]


class HostRead(NamedTuple):
    """An orchestration-side access of one element, in program order: a read
    (`get_tensor_data`) or, with `write`, a write (`set_tensor_data`, runtime-model.md).
    A NamedTuple for speed: a loop may read a table element per iteration."""

    span: Span
    access: Access
    after_tasks: int  # number of tasks submitted before the access
    # the tasks the runtime waits for before the access (the tensor's creator and
    # overlapping TensorMap writers; for a write also their consumers), by task id
    waited: tuple[int, ...] = ()
    write: bool = False


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def records_text(records: Counter[str]) -> str:
    """`23 deps.json edge records (15 creator + 8 tensormap)`, sources in the runtime's
    order and only those present."""
    parts = [f"{records[s]} {s}" for s in ("explicit", "creator", "tensormap") if records[s]]
    total = plural(sum(records.values()), "deps.json edge record")
    return f"{total} ({' + '.join(parts)})" if parts else total


@dataclass
class TaskGraph:
    program: str
    case: str
    rules: RuntimeRules = DEFAULT_DIALECT.rules  # the target's rules the edges follow
    _tasks: list[Task] = field(default_factory=list, repr=False)
    _fanin: list[dict[int, Origins]] = field(default_factory=list, repr=False)
    _consumers: list[list[int]] | None = field(default=None, repr=False)
    _nx: nx.DiGraph | None = field(default=None, repr=False)
    scopes: list[ScopeInstance] = field(default_factory=list)
    host_reads: list[HostRead] = field(default_factory=list)
    buffers: list[Buffer] = field(default_factory=list)
    tensormap_lookups: int = 0
    tensormap_inserts: int = 0
    # deps.json edge records by source, as the runtime's replay writes them: one per
    # distinct explicit dep, one creator record per (producer, consumer) not named
    # earlier in the submit, one per TensorMap hit (viz/deps_json writes the records)
    records: Counter[str] = field(default_factory=Counter)
    # values derived from the whole graph, shared by passes: key -> (task count, value)
    _derived: dict[object, tuple[int, object]] = field(default_factory=dict, repr=False,
                                                       compare=False)

    # ---- building ----------------------------------------------------------
    def add_task(self, task: Task, fanin: dict[int, Origins]) -> None:
        """Append a task with its fanin: producer -> the origins of that edge."""
        self._tasks.append(task)
        self._fanin.append(fanin)
        self._nx = None
        consumers = self._consumers
        if consumers is not None:  # kept up to date once built (orchestration writes use it)
            consumers.append([])
            for p in fanin:
                consumers[p].append(task.id)

    # ---- queries -------------------------------------------------------------
    @property
    def nx(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph (nodes: task ids; edge attribute `origins`), for
        graph algorithms. Built in bulk on first use; treat it as read-only."""
        if self._nx is None:
            import networkx as nx  # only for the graph algorithms that need it

            graph = nx.DiGraph()
            graph.add_nodes_from(range(len(self._tasks)))
            graph.add_edges_from([(p, t, {"origins": origins})
                                  for t, fanin in enumerate(self._fanin)
                                  for p, origins in fanin.items()])
            self._nx = graph
        return self._nx

    def __len__(self) -> int:
        return len(self._tasks)

    def tasks(self) -> Iterator[Task]:
        return iter(self._tasks)

    def task(self, task_id: int) -> Task:
        return self._tasks[task_id]

    def fanin_lists(self) -> Sequence[Collection[int]]:
        """The producers of every task, indexed by task id, each in the order its edges were
        made (for passes that walk a lot; `in` is a hash lookup). Read-only."""
        return self._fanin

    def fanout_lists(self) -> list[list[int]]:
        """The consumers of every task, indexed by task id, in submission order."""
        if self._consumers is None:
            consumers: list[list[int]] = [[] for _ in self._tasks]
            for consumer, producers in enumerate(self._fanin):
                for p in producers:
                    consumers[p].append(consumer)
            self._consumers = consumers
        return self._consumers

    def producers(self, task_id: int) -> list[int]:
        return sorted(self._fanin[task_id])

    def consumers(self, task_id: int) -> list[int]:
        return list(self.fanout_lists()[task_id])

    def origins(self, producer: int, consumer: int) -> tuple[Origin, ...]:
        """Why the runtime creates the edge producer -> consumer (KeyError if it does not)."""
        return self._fanin[consumer][producer]

    def fanin_origins(self) -> list[dict[int, Origins]]:
        """Every task's fanin, producer -> origins, indexed by task id (read-only; for
        passes that walk every edge)."""
        return self._fanin

    def derived(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()`, made once per graph and `key` while no task is added (passes
        that need the same whole-graph value share it); treat the value as read-only."""
        hit = self._derived.get(key)
        if hit is not None and hit[0] == len(self._tasks):
            return hit[1]  # type: ignore[return-value]
        value = compute()
        self._derived[key] = (len(self._tasks), value)
        return value

    def edges(self) -> Iterator[tuple[int, int, tuple[Origin, ...]]]:
        """Every edge (producer, consumer, origins), by consumer in submission order."""
        for consumer, fanin in enumerate(self._fanin):
            for producer, origins in fanin.items():
                yield producer, consumer, origins

    def edge_count(self) -> int:
        """Dependency pairs: distinct (producer, consumer) tasks, the runtime's fanin
        entries; `records` counts the deps.json rows, which may be more."""
        return sum(map(len, self._fanin))

    def edge_units(self) -> str:
        """Both edge counts, each named: `17 dependency pairs, 23 deps.json edge records
        (15 creator + 8 tensormap)`."""
        return f"{plural(self.edge_count(), 'dependency pair')}, " + records_text(self.records)

    def topo_order(self) -> list[int]:
        """A topological order: submission order, since every edge points from an
        earlier submission to a later one (a dep can only name a submitted task)."""
        return [t.id for t in self._tasks]

    # ---- summaries -----------------------------------------------------------
    def tasks_per_kernel(self) -> Counter[str]:
        return Counter(t.kernel for t in self._tasks)

    def scopes_by_mode(self) -> Counter[str]:
        return Counter(s.decl.mode for s in self.scopes)

    def edges_by_origin(self) -> Counter[str]:
        """Edges counted once per origin (an edge may have several). The edges share a
        few origins tuples (`add_origin`): they are counted by identity in one C-level
        pass, then each distinct tuple's origins."""
        def every() -> Iterator[Origins]:
            return chain.from_iterable(map(dict.values, self._fanin))
        by_id = Counter(map(id, every()))
        tuples = {id(o): o for o in (*_SHARED.values(), ())}
        if not by_id.keys() <= tuples.keys():  # a tuple not made by add_origin
            tuples.update((id(o), o) for o in every())
        counts: Counter[str] = Counter()
        for key, edges in by_id.items():
            for origin in tuples[key]:
                counts[origin.value] += edges
        return counts

    def tasks_per_ring(self) -> Counter[int]:
        return Counter(t.ring for t in self._tasks)
