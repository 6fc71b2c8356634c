"""The "ends" summary: the first and last iterations of every loop stay as tasks, the
iterations between them collapse into one ellipsis node per submission site and loop.

Input: a task graph and its `Findings`; output: a `View` like `view.full_view`'s, where a
task is kept when each of its loop values is among the first or last `keep` values its loop
takes (under the same outer iterations), and every other task joins the node of its site,
its kept outer iterations and the first loop it skips. The scope instances of the skipped
iterations become one elided cluster per scope block, around their ellipsis nodes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.graph import Task, TaskGraph
from pto_dsl.viz.analysis import Findings
from pto_dsl.viz.view import (
    ORIGIN_ORDER,
    VCluster,
    VEdge,
    View,
    VNode,
    full_view,
    instance_text,
    scope_label,
)

Instance = tuple[tuple[str, int], ...]


@dataclass
class _Group:
    site: ir.Site
    outer: Instance  # the kept outer iterations
    var: str  # the loop whose middle iterations it holds
    tasks: list[Task] = field(default_factory=list)


def _loop_values(graph: TaskGraph) -> dict[tuple[Instance, str], list[int]]:
    """The sorted values each loop takes under each outer iteration."""
    seen: dict[tuple[Instance, str], set[int]] = {}
    for task in graph.tasks():
        inst = task.instance
        for d, (name, value) in enumerate(inst):
            seen.setdefault((inst[:d], name), set()).add(value)
    return {k: sorted(v) for k, v in seen.items()}


def _hidden_depth(inst: Instance, values: dict[tuple[Instance, str], list[int]],
                  keep: int) -> int | None:
    """The first loop level at which the task is a middle iteration, or None (kept)."""
    for d, (name, value) in enumerate(inst):
        vals = values[(inst[:d], name)]
        i = bisect.bisect_left(vals, value)
        if keep <= i < len(vals) - keep:
            return d
    return None


def ends_view(program: ir.Program, graph: TaskGraph, findings: Findings, title: str,
              keep: int = 1) -> View:
    values = _loop_values(graph)
    groups: dict[tuple[int, Instance, str], _Group] = {}
    owner: list[tuple[int, Instance, str] | None] = []  # each task's group, None if kept
    for task in graph.tasks():
        d = _hidden_depth(task.instance, values, keep)
        if d is None:
            owner.append(None)
            continue
        key = (task.site, task.instance[:d], task.instance[d][0])
        if key not in groups:
            groups[key] = _Group(program.sites[task.site], key[1], key[2])
        groups[key].tasks.append(task)
        owner.append(key)
    names = {k: f"g{i}" for i, k in enumerate(groups)}
    node_of = [f"t{t}" if k is None else names[k] for t, k in enumerate(owner)]
    kept = {t for t, k in enumerate(owner) if k is None}
    base = full_view(graph, findings, title, kept)  # kept tasks draw as in the full view
    hidden = sum(len(g.tasks) for g in groups.values())
    view = View(title, summary=True, clusters=base.clusters, notes=[
        f"summary: the first and last {keep} iteration{'s' if keep > 1 else ''} of every "
        f"loop; {hidden} tasks in {len(groups)} ellipsis nodes"])
    view.nodes = base.nodes
    on_path = set(findings.critical)
    homes = _Homes(graph)
    view.nodes += [_group_node(names[k], g, findings, on_path, homes.cluster(g))
                   for k, g in groups.items()]
    view.clusters = base.clusters + homes.clusters()
    view.edges = _merged_edges(base.edges, node_of)
    return view


class _Homes:
    """The clusters of the ellipsis nodes. A node sits in the deepest scope instance all its
    tasks share; the scope instances below that one, which the node's tasks fill one per
    middle iteration, become one elided cluster per scope block (labelled with the range of
    their loop values), shared by the nodes of the same middle iterations."""

    def __init__(self, graph: TaskGraph) -> None:
        self._scopes = {s.id: s for s in graph.scopes}
        self._elided: dict[tuple[str | None, int, Instance, str], set[int]] = {}

    def cluster(self, group: _Group) -> str | None:
        paths = [t.scope_path for t in group.tasks]
        common = paths[0]
        for p in paths[1:]:
            n = 0
            while n < min(len(common), len(p)) and common[n] == p[n]:
                n += 1
            common = common[:n]
        home = f"c{common[-1]}" if common else None
        for depth in range(len(common), len(paths[0])):
            decl = self._scopes[paths[0][depth]].decl
            key = (home, decl.id, group.outer, group.var)
            self._elided.setdefault(key, set()).update(p[depth] for p in paths)
            home = self._key(key)
        return home

    @staticmethod
    def _key(key: tuple[str | None, int, Instance, str]) -> str:
        parent, decl, outer, var = key
        return f"{parent or 'top'}_d{decl}_{var}" + "".join(f"_{k}{v}" for k, v in outer)

    def clusters(self) -> list[VCluster]:
        out = []
        for key, ids in self._elided.items():
            scopes = [self._scopes[i] for i in sorted(ids)]
            values = _ranges(s.instance for s in scopes)
            out.append(VCluster(self._key(key), f"{scope_label(scopes[0].decl)} {values} "
                                f"({len(scopes)} instances)", scopes[0].manual, key[0]))
        return out


def _ranges(instances: Iterable[Instance]) -> str:
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    for inst in instances:
        for k, v in inst:
            lo[k], hi[k] = min(lo.get(k, v), v), max(hi.get(k, v), v)
    return " ".join(f"{k}={lo[k]}" if lo[k] == hi[k] else f"{k} {lo[k]}..{hi[k]}" for k in lo)


def _group_node(key: str, group: _Group, findings: Findings, on_path: set[int],
                cluster: str | None) -> VNode:
    tasks = group.tasks
    first = tasks[0]
    middle = sorted({dict(t.instance)[group.var] for t in tasks})
    outer = instance_text(group.outer)
    lines = [f"{outer} {group.var} {middle[0]}..{middle[-1]}".strip(),
             f"line {group.site.span.line}"]
    details = [("site", f"{group.site.label} at {group.site.span.file}:"
                f"{group.site.span.line}:{group.site.span.col}"),
               ("tasks", f"{len(tasks)} middle iterations of loop '{group.var}'"),
               ("outer iterations", outer or "-"),
               (group.var, ", ".join(map(str, middle[:12])) + (" ..." if len(middle) > 12
                                                               else "")),
               ("total cost", f"{sum(findings.costs[t.id] for t in tasks):g}")]
    return VNode(key, first.core, f"{group.site.label} ... x{len(tasks)}", lines, details,
                 cluster,
                 any(t.id in on_path for t in tasks), len(tasks),
                 search=f"{group.site.label} ... {' '.join(lines)}")


def _merged_edges(edges: list[VEdge], node_of: list[str]) -> list[VEdge]:
    """The task edges between the new nodes: one per pair and kind, with counts."""
    merged: dict[tuple[str, str, str | None], VEdge] = {}
    for e in edges:
        src, dst = node_of[int(e.src[1:])], node_of[int(e.dst[1:])]
        key = (src, dst, e.race)
        old = merged.get(key)
        if old is None:
            merged[key] = VEdge(src, dst, e.origins, e.race, e.race_error, e.redundant,
                                e.critical)
            continue
        names = set(old.origins) | set(e.origins)
        old.origins = tuple(o for o in ORIGIN_ORDER if o in names)
        old.redundant = old.redundant and e.redundant
        old.critical = old.critical or e.critical
        old.race_error = old.race_error or e.race_error
        old.count += 1
    return list(merged.values())

