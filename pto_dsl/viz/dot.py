"""DOT text of a `View`: scopes as nested clusters, node and edge styles by kind.

Every node and edge carries an `id` and a `class` (Graphviz copies both into its SVG), so
the HTML page and the tests can find them again. The encoding follows the runtime's own
deps viewer where one exists (core types as shapes and colours).
"""

from __future__ import annotations

from collections.abc import Iterator

from pto_dsl.viz.view import VCluster, VEdge, View, VNode, edge_class

# kind -> (shape, style, fill colour, border colour)
NODE_STYLE = {
    "aic": ("box", "rounded,filled", "#cfe2ff", "#1f4e9e"),
    "aiv": ("ellipse", "filled", "#ffe0b2", "#b85c00"),
    "mix": ("diamond", "filled", "#c8e6c9", "#2e7d32"),
    "alloc": ("note", "filled,dashed", "#eaeaea", "#666666"),
}
# edge class -> (colour, style)
EDGE_STYLE = {
    "explicit": ("#333333", "solid"),
    "creator": ("#1f77b4", "bold"),
    "tensormap": ("#2ca02c", "dashed"),
    "race": ("#d62728", "dashed"),
}
REDUNDANT_COLOUR = "#b0b0b0"
CRITICAL_COLOUR = "#e6a100"
CLUSTER_STYLE = {False: ('"rounded,filled"', "#f3f7ff", "#7a9cc6"),  # AUTO
                 True: ('"rounded,filled,dashed"', "#fff7e6", "#c98a1b")}  # MANUAL


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(view: View) -> str:
    return "\n".join(_lines(view)) + "\n"


def _lines(view: View) -> Iterator[str]:
    yield "digraph tasks {"
    title = "\n".join([view.title, *view.notes])
    yield (f"  graph [label={quote(title)}, labelloc=t, fontname=Helvetica, rankdir=TB, "
           "nodesep=0.25, ranksep=0.45];")
    yield "  node [fontname=Helvetica, fontsize=10, penwidth=1.2];"
    yield "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.7];"
    members: dict[str | None, list[VNode]] = {}
    for n in view.nodes:
        members.setdefault(n.cluster, []).append(n)
    children: dict[str | None, list[VCluster]] = {}
    for c in view.clusters:
        children.setdefault(c.parent, []).append(c)
    used = _used_clusters(view, members)
    yield from _block(None, members, children, used, "  ")
    for i, e in enumerate(view.edges):
        yield f"  {e.src} -> {e.dst} [{_edge_attrs(i, e)}];"
    yield "}"


def _used_clusters(view: View, members: dict[str | None, list[VNode]]) -> set[str]:
    """Clusters with a node somewhere inside (an empty scope draws nothing)."""
    parent = {c.key: c.parent for c in view.clusters}
    used: set[str] = set()
    for key in members:
        while key is not None and key not in used:
            used.add(key)
            key = parent.get(key)
    return used


def _block(key: str | None, members: dict[str | None, list[VNode]],
           children: dict[str | None, list[VCluster]], used: set[str],
           indent: str) -> Iterator[str]:
    for n in members.get(key, []):
        yield f"{indent}{n.key} [{_node_attrs(n)}];"
    for c in children.get(key, []):
        if c.key not in used:
            continue
        style, fill, border = CLUSTER_STYLE[c.manual]
        mode = "manual" if c.manual else "auto"
        yield f"{indent}subgraph cluster_{c.key} {{"
        yield (f"{indent}  graph [id={quote(c.key)}, class={quote('scope ' + mode)}, "
               f"label={quote(c.label)}, style={style}, fillcolor={quote(fill)}, "
               f"color={quote(border)}, fontsize=10, labeljust=l];")
        yield from _block(c.key, members, children, used, indent + "  ")
        yield f"{indent}}}"


def _node_attrs(n: VNode) -> str:
    shape, style, fill, border = NODE_STYLE[n.kind]
    label = "\n".join([n.title, *n.lines])
    cls = f"task {n.kind}" + (" critical" if n.critical else "")
    attrs = [f"id={quote(n.key)}", f"class={quote(cls)}", f"label={quote(label)}",
             f"shape={shape}", f"style={quote(style)}", f"fillcolor={quote(fill)}",
             f"tooltip={quote(n.title)}"]
    if n.critical:
        attrs += [f"color={quote(CRITICAL_COLOUR)}", "penwidth=3"]
    else:
        attrs.append(f"color={quote(border)}")
    return ", ".join(attrs)


def _edge_attrs(index: int, e: VEdge) -> str:
    kind = edge_class(e)
    colour, style = EDGE_STYLE[kind]
    classes = ["dep", kind, *(f"o-{o}" for o in e.origins)]
    tip = ", ".join(e.origins) if e.race is None else \
        f"race ({e.race}){'' if e.race_error else ', warning'}"
    if e.redundant:
        colour = REDUNDANT_COLOUR
        classes.append("redundant")
        tip += ", redundant dep"
    width = 1.0
    if e.critical:  # a gold band on both sides of the edge's own colour
        classes.append("critical")
        colour, width = f"{CRITICAL_COLOUR}:{colour}:{CRITICAL_COLOUR}", 2.0
    attrs = [f"id={quote(f'e{index}')}", f"color={quote(colour)}", f"style={style}"]
    if width != 1.0:
        attrs.append(f"penwidth={width:g}")
    if e.race is not None:
        attrs += ["constraint=false", "penwidth=1.6"]
    if e.count > 1:
        attrs.append(f"label={quote('x' + str(e.count))}")
        tip += f", {e.count} edges"
    attrs += [f"class={quote(' '.join(classes))}", f"tooltip={quote(tip)}"]
    return ", ".join(attrs)
