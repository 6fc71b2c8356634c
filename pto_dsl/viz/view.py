"""The view model of a picture: nodes, edges and scope clusters, fully resolved.

Input: a task graph and its `Findings`; output: a `View` that the DOT, HTML and layout
writers only lay out. `full_view` draws one node per task; `summary_view` collapses loop
iterations into one node per submission site and one edge per pair of sites, with counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pto_dsl import ir
from pto_dsl.graph import Origin, ScopeInstance, Task, TaskGraph
from pto_dsl.viz.analysis import Findings

ORIGIN_ORDER = ("explicit", "creator", "tensormap")


@dataclass
class VNode:
    key: str  # DOT and SVG id: t<task> or s<site>
    kind: str  # aic / aiv / mix / alloc
    title: str  # kernel and task (or count)
    lines: list[str]  # instance, source line
    details: list[tuple[str, str]]  # hover details in the HTML page
    cluster: str | None
    critical: bool = False
    count: int = 1
    search: str = ""  # what the page's search matches: kernel, task label, line


@dataclass
class VEdge:
    src: str
    dst: str
    origins: tuple[str, ...]  # a subset of ORIGIN_ORDER; empty for a race
    race: str | None = None  # the hazard kind, for a race edge
    race_error: bool = False
    redundant: bool = False
    critical: bool = False
    count: int = 1


@dataclass
class VCluster:
    key: str
    label: str
    manual: bool
    parent: str | None


@dataclass
class View:
    title: str
    summary: bool
    nodes: list[VNode] = field(default_factory=list)
    edges: list[VEdge] = field(default_factory=list)
    clusters: list[VCluster] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown under the title

    def used_clusters(self) -> set[str]:
        """Clusters with a node somewhere inside (an empty scope draws nothing)."""
        parent = {c.key: c.parent for c in self.clusters}
        used: set[str] = set()
        for n in self.nodes:
            key = n.cluster
            while key is not None and key not in used:
                used.add(key)
                key = parent.get(key)
        return used

    def counts(self) -> dict[str, Counter[str]]:
        """Nodes by kind and edges by style, as the tests read them back."""
        return {"nodes": Counter(n.kind for n in self.nodes),
                "edges": Counter(edge_class(e) for e in self.edges)}


def edge_class(e: VEdge) -> str:
    """The one style an edge is drawn with: race, else the first of its origins."""
    if e.race is not None:
        return "race"
    return next(o for o in ORIGIN_ORDER if o in e.origins)


def _origins(origins: tuple[Origin, ...]) -> tuple[str, ...]:
    names = {o.value for o in origins}
    return tuple(o for o in ORIGIN_ORDER if o in names)


def instance_text(inst: tuple[tuple[str, int], ...]) -> str:
    return " ".join(f"{k}={v}" for k, v in inst)


def scope_label(decl: ir.ScopeDecl) -> str:
    return f"scope {decl.mode.upper()} (line {decl.span.line})"


# ---- one node per task -------------------------------------------------------------------

def full_view(graph: TaskGraph, findings: Findings, title: str,
              shown: set[int] | None = None) -> View:
    """One node per task (per task in `shown`, if given; edges are always all there)."""
    view = View(title, summary=False)
    view.clusters = [VCluster(f"c{s.id}", _instance_label(s), s.manual,
                              f"c{s.parent.id}" if s.parent else None) for s in graph.scopes]
    on_path = set(findings.critical)
    for task in graph.tasks():
        if shown is None or task.id in shown:
            view.nodes.append(_task_node(graph, task, findings, task.id in on_path))
    path_edges = set(zip(findings.critical, findings.critical[1:]))
    for p, c, origins in graph.edges():
        view.edges.append(VEdge(f"t{p}", f"t{c}", _origins(origins),
                                redundant=(p, c) in findings.redundant,
                                critical=(p, c) in path_edges))
    for (p, c), race in sorted(findings.races.items()):
        view.edges.append(VEdge(f"t{p}", f"t{c}", (), race=race.kind, race_error=race.error))
    return view


def _instance_label(scope: ScopeInstance) -> str:
    inst = instance_text(scope.instance)
    return scope_label(scope.decl) + (f" {inst}" if inst else "")


def _task_node(graph: TaskGraph, task: Task, findings: Findings, critical: bool) -> VNode:
    inst = instance_text(task.instance)
    lines = [inst] if inst else []
    lines.append(f"line {task.span.line}")
    return VNode(f"t{task.id}", task.core, f"{task.kernel} #{task.id}{task.launch_text}", lines,
                 _task_details(graph, task, findings),
                 f"c{task.scope.id}" if task.scope else None, critical,
                 search=f"{task.kernel} #{task.id} {task.kernel}#{task.id} {inst}")


def _task_details(graph: TaskGraph, task: Task, findings: Findings) -> list[tuple[str, str]]:
    out = [("task", f"{task.kernel} #{task.id}"),
           ("source", f"{task.span.file}:{task.span.line}:{task.span.col}"),
           ("core", task.core + (f", func_id {task.func_id}" if task.func_id is not None
                                 else "")),
           ("scope", f"{task.scope_mode}, ring {task.ring}"),
           ("instance", instance_text(task.instance) or "-"),
           ("cost", f"{findings.costs[task.id]:g}" if findings.costs else "-")]
    if task.blocks != 1 or task.sync_start:
        out.append(("blocks", f"{task.blocks}" + (", require_sync_start" if task.sync_start
                                                   else "")))
    if task.early_resolve:
        out.append(("early resolve", "its consumers may be staged on cores while it runs"))
    if task.predicate is not None:
        out.append(("predicate", task.launch_text.split(" if ", 1)[1]
                    + " (the kernel runs only if it holds)"))
    for acc in task.accesses:
        flag = " manual_dep" if acc.manual_dep else ""
        out.append((f"arg {acc.param}", f"{acc.tag.value} {acc.buffer.name}{acc.region}{flag}"))
    for value in task.scalars:
        out.append(("scalar", str(value)))
    for p in graph.producers(task.id):
        how = ", ".join(_origins(graph.origins(p, task.id)))
        out.append(("dep on", f"{graph.task(p).kernel} #{p} ({how})"))
    consumers = graph.consumers(task.id)
    if consumers:
        shown = ", ".join(f"{graph.task(c).kernel} #{c}" for c in consumers[:8])
        more = f" and {len(consumers) - 8} more" if len(consumers) > 8 else ""
        out.append(("consumers", shown + more))
    return out


# ---- one node per submission site --------------------------------------------------------

def summary_view(program: ir.Program, graph: TaskGraph, findings: Findings,
                 title: str) -> View:
    view = View(title, summary=True, notes=[
        f"summary: {len(graph)} tasks shown as one node per submission site"])
    view.clusters = [VCluster(f"d{d.id}", scope_label(d), d.manual,
                              f"d{d.parent.id}" if d.parent else None) for d in program.scopes]
    per_site: dict[int, list[Task]] = {}
    for task in graph.tasks():
        per_site.setdefault(task.site, []).append(task)
    on_path = {graph.task(t).site for t in findings.critical}
    for site in program.sites:
        tasks = per_site.get(site.id)
        if tasks:
            view.nodes.append(_site_node(site, tasks, findings, site.id in on_path))
    view.edges = _site_edges(graph, findings)
    return view


# A site's launches listed in its summary node: a site whose tasks have many (a predicate
# on each expert's count) shows the first few and how many there are.
MAX_LAUNCHES = 4


def _site_node(site: ir.Site, tasks: list[Task], findings: Findings,
               critical: bool) -> VNode:
    first = tasks[0]
    ranges = _ranges(tasks)
    lines = [ranges] if ranges else []
    launches = sorted({t.launch_text for t in tasks})
    if launches != [""]:
        shown = launches if len(launches) <= MAX_LAUNCHES else \
            [*launches[:MAX_LAUNCHES - 1], f" ... ({len(launches)} kinds)"]
        lines.append("blocks" + ",".join(t or " x1" for t in shown))
    lines.append(f"line {site.span.line}")
    total = sum(findings.costs[t.id] for t in tasks) if findings.costs else 0.0
    details = [("site", f"{site.label} at {site.span.file}:{site.span.line}:{site.span.col}"),
               ("tasks", f"{len(tasks)} (#{first.id} .. #{tasks[-1].id})"),
               ("core", first.core + (f", func_id {first.func_id}"
                                      if first.func_id is not None else "")),
               ("scope", f"{first.scope_mode}, ring {first.ring}"),
               ("loop values", ranges or "-"),
               ("total cost", f"{total:g}")]
    for acc in first.accesses:
        details.append((f"arg {acc.param}", f"{acc.tag.value} (first: {acc.buffer.name}"
                        f"{acc.region})"))
    count = f" x{len(tasks)}" if len(tasks) > 1 else f" #{first.id}"
    return VNode(f"s{site.id}", first.core, f"{site.label}{count}", lines, details,
                 f"d{site.scope.id}" if site.scope else None, critical, len(tasks),
                 search=f"{site.label} line {site.span.line}")


def _ranges(tasks: list[Task]) -> str:
    """The range of each loop variable over the tasks of a site: `b 0..255, bn 0..63`."""
    columns = _columns([t.instance for t in tasks])
    if columns is None:
        return _ranges_general(tasks)
    return ", ".join(f"{k} {lo}" if lo == hi else f"{k} {lo}..{hi}"
                     for k, lo, hi in ((k, min(v), max(v)) for k, v in columns))


def _columns(instances: list[tuple[tuple[str, int], ...]]
             ) -> list[tuple[str, list[int]]] | None:
    """Each loop variable with its values, when every instance names the same distinct
    variables in the same order (a site's loop nest; always, in practice); else None."""
    if len({len(i) for i in instances}) != 1:
        return None
    out = []
    for column in zip(*instances):
        names = {k for k, _ in column}
        if len(names) != 1:
            return None
        out.append((column[0][0], [v for _, v in column]))
    return out if len({k for k, _ in out}) == len(out) else None


def _ranges_general(tasks: list[Task]) -> str:
    """`_ranges` for any instances: each variable in the order it is first seen."""
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    for task in tasks:
        for k, v in task.instance:
            lo[k] = min(lo.get(k, v), v)
            hi[k] = max(hi.get(k, v), v)
    return ", ".join(f"{k} {lo[k]}" if lo[k] == hi[k] else f"{k} {lo[k]}..{hi[k]}"
                     for k in lo)


def _site_edges(graph: TaskGraph, findings: Findings) -> list[VEdge]:
    site = [t.site for t in graph.tasks()]
    path_edges = {(site[p], site[c]) for p, c in zip(findings.critical, findings.critical[1:])}
    merged: dict[tuple[int, int], list[Any]] = {}  # [origins, edges, redundant ones]
    flagged = findings.redundant
    for p, c, origins in graph.edges():
        key = (site[p], site[c])
        entry = merged.get(key)
        if entry is None:
            entry = merged[key] = [set(), 0, 0]
        entry[0].update(origins)
        entry[1] += 1
        if flagged and (p, c) in flagged:
            entry[2] += 1
    edges = []
    for (a, b), (origins, count, redundant) in merged.items():
        names = {o.value for o in origins}
        edges.append(VEdge(f"s{a}", f"s{b}", tuple(o for o in ORIGIN_ORDER if o in names),
                           redundant=redundant == count, critical=(a, b) in path_edges,
                           count=count))
    races: dict[tuple[int, int], tuple[str, bool, int]] = {}
    for (p, c), race in sorted(findings.races.items()):
        key = (site[p], site[c])
        kind, error, count = races.get(key, (race.kind, race.error, 0))
        races[key] = (kind, error or race.error, count + 1)
    edges += [VEdge(f"s{a}", f"s{b}", (), race=kind, race_error=error, count=count)
              for (a, b), (kind, error, count) in races.items()]
    return edges
