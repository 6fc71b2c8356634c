"""DOT text of a `View`: scopes as nested clusters, node and edge styles by kind
(`style.py`), the title and the legend.

Every node and edge carries an `id` and a `class` (Graphviz copies both into its SVG), so
the HTML page and the tests can find them again.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from itertools import pairwise

from pto_dsl.viz.style import (
    CLUSTER_STYLE,
    EDGE_STYLE,
    LEGEND,
    NODE_STYLE,
    Swatch,
    edge_look,
    line_style,
    node_look,
    scope_style,
)
from pto_dsl.viz.view import VCluster, VEdge, View, VNode

LARGE_VIEW_NODES = 400
LARGE_VIEW_MCLIMIT = 0.1


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(view: View, framed: bool = True) -> str:
    """The DOT text; `framed` adds the title and the legend (the HTML page has its own)."""
    return "\n".join(_lines(view, framed)) + "\n"


def _lines(view: View, framed: bool) -> Iterator[str]:
    yield "digraph tasks {"
    title = f"label={quote(chr(10).join([view.title, *view.notes]))}, labelloc=t, " \
        if framed else ""
    # dot's crossing minimisation grows much faster than the graph among many clusters (a
    # 510-node summary of 37 scopes ran two minutes, then Graphviz 2.43 stopped with "lost
    # edge"); a large view gets a tenth of its passes (10 s, laid out)
    limit = f", mclimit={LARGE_VIEW_MCLIMIT:g}" if len(view.nodes) > LARGE_VIEW_NODES else ""
    yield (f"  graph [{title}fontname=Helvetica, rankdir=TB, nodesep=0.25, ranksep=0.45"
           f"{limit}];")
    yield "  node [fontname=Helvetica, fontsize=10, penwidth=1.2];"
    yield "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.7];"
    members: dict[str | None, list[VNode]] = {}
    for n in view.nodes:
        members.setdefault(n.cluster, []).append(n)
    children: dict[str | None, list[VCluster]] = {}
    for c in view.clusters:
        children.setdefault(c.parent, []).append(c)
    used = view.used_clusters()
    yield from _block(None, members, children, used, "  ")
    for i, e in enumerate(view.edges):
        yield f"  {e.src} -> {e.dst} [{_edge_attrs(i, e)}];"
    if framed:
        yield from _legend("  ")
    yield "}"


# ---- the legend: a cluster of sample nodes and edges, a row per group of `LEGEND` -------

def _legend(indent: str) -> Iterator[str]:
    yield f"{indent}subgraph cluster_legend {{"
    yield (f'{indent}  graph [id="legend", class="legend", label="legend", style="rounded", '
           'color="#bbbbbb", fontsize=10, labeljust=l, margin=6];')
    yield f"{indent}  node [fontsize=9, height=0.3, margin=\"0.08,0.03\"];"
    rows: dict[str, list[Swatch]] = {}
    for s in LEGEND:
        rows.setdefault("line" if s.group in ("edge", "mark") else s.group, []).append(s)
    above: str | None = None
    for group, swatches in rows.items():
        if group == "line":  # two rows of lines: the edge origins, then race and marks
            for part in (swatches[:3], swatches[3:]):
                above = yield from _legend_row(indent + "  ", part, above)
        else:
            above = yield from _legend_row(indent + "  ", swatches, above)
    yield f"{indent}}}"


def _legend_row(indent: str, row: list[Swatch],
                above: str | None) -> Generator[str, None, str]:
    names: list[str] = []
    for s in row:
        name = f"legend_{s.key}"
        cls = quote(f"legend-swatch {s.group} {s.key}")
        if s.group == "core":
            shape, style, fill, border = NODE_STYLE[s.key]
            yield (f"{indent}{name} [id={quote('legend-' + s.key)}, class={cls}, "
                   f"label={quote(s.label)}, shape={shape}, style={quote(style)}, "
                   f"fillcolor={quote(fill)}, color={quote(border)}];")
        elif s.group == "scope":
            style, fill, border = scope_style(s)
            yield (f"{indent}{name} [id={quote('legend-' + s.key)}, class={cls}, "
                   f"label={quote(s.label)}, shape=box, style={quote(style)}, "
                   f"fillcolor={quote(fill)}, color={quote(border)}];")
        else:  # an arrow from an invisible point into the label
            colour, style = line_style(s)
            start = f"{name}_from"
            width = ""
            if s.key == "critical":  # as on a path edge: a gold band around the edge colour
                colour, width = f"{colour}:{EDGE_STYLE['explicit'][0]}:{colour}", ", penwidth=2"
            elif s.key == "race":
                width = ", penwidth=1.6"
            yield f"{indent}{start} [shape=point, style=invis, width=0.01];"
            yield (f"{indent}{name} [id={quote('legend-' + s.key)}, class={cls}, "
                   f"label={quote(s.label)}, shape=plaintext];")
            yield (f"{indent}{start} -> {name} [id={quote('legend-line-' + s.key)}, "
                   f"class={quote('legend-line ' + s.key)}, color={quote(colour)}, "
                   f"style={style}, minlen=3{width}];")
            names.append(start)
        names.append(name)
    yield f"{indent}{{rank=same; {'; '.join(names)}}}"
    for a, b in pairwise(names):  # left to right in LEGEND order
        if not b.endswith("_from") and a.endswith("_from"):
            continue  # the sample edge itself
        yield f"{indent}{a} -> {b} [style=invis];"
    if above is not None:  # stack the rows
        yield f"{indent}{above} -> {names[0]} [style=invis];"
    return names[0]


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
               f"label={quote(c.label)}, style={quote(style)}, fillcolor={quote(fill)}, "
               f"color={quote(border)}, fontsize=10, labeljust=l];")
        yield from _block(c.key, members, children, used, indent + "  ")
        yield f"{indent}}}"


def _node_attrs(n: VNode) -> str:
    look = node_look(n)
    label = "\n".join([n.title, *n.lines])
    attrs = [f"id={quote(n.key)}", f"class={quote(look.classes)}", f"label={quote(label)}",
             f"shape={look.shape}", f"style={quote(look.style)}", f"fillcolor={quote(look.fill)}",
             f"tooltip={quote(n.title)}", f"color={quote(look.border)}"]
    if n.critical:
        attrs.append(f"penwidth={look.width:g}")
    return ", ".join(attrs)


def _edge_attrs(index: int, e: VEdge) -> str:
    look = edge_look(e)
    attrs = [f"id={quote(f'e{index}')}", f"color={quote(':'.join(look.colours))}",
             f"style={look.style}"]
    if look.width != 1.0:
        attrs.append(f"penwidth={look.width:g}")
    if e.race is not None:
        attrs.append("constraint=false")
    if e.count > 1:
        attrs.append(f"label={quote('x' + str(e.count))}")
    attrs += [f"class={quote(look.classes)}", f"tooltip={quote(look.tip)}"]
    return ", ".join(attrs)
