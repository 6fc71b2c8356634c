"""A plain layered SVG of a `View`, for the HTML page when Graphviz is not installed.

Layers are longest paths from the sources (every edge points down); nodes keep their
submission order within a layer. Scope clusters are not drawn here (only Graphviz lays
them out); each node's hover details name its scope instead.
"""

from __future__ import annotations

from html import escape

from pto_dsl.viz.dot import CRITICAL_COLOUR, EDGE_STYLE, NODE_STYLE, REDUNDANT_COLOUR
from pto_dsl.viz.view import VEdge, View, VNode, edge_class

CHAR_W, LINE_H, PAD, GAP_X, GAP_Y = 6.5, 13, 8, 24, 48


def _layers(view: View) -> dict[str, int]:
    layer = {n.key: 0 for n in view.nodes}
    incoming: dict[str, list[str]] = {}
    for e in view.edges:
        if e.race is None and e.src != e.dst:
            incoming.setdefault(e.dst, []).append(e.src)
    for n in view.nodes:  # view nodes are in submission order: producers come first
        layer[n.key] = max((layer[p] + 1 for p in incoming.get(n.key, [])), default=0)
    return layer


def to_svg(view: View) -> str:
    layer = _layers(view)
    sizes = {n.key: (max(len(t) for t in [n.title, *n.lines]) * CHAR_W + 2 * PAD,
                     (1 + len(n.lines)) * LINE_H + 2 * PAD) for n in view.nodes}
    rows: dict[int, list[str]] = {}
    for n in view.nodes:
        rows.setdefault(layer[n.key], []).append(n.key)
    pos: dict[str, tuple[float, float]] = {}
    y, width = 40.0, 0.0
    for r in sorted(rows):
        x = 10.0
        height = max(sizes[k][1] for k in rows[r])
        for k in rows[r]:
            pos[k] = (x, y)
            x += sizes[k][0] + GAP_X
        width, y = max(width, x), y + height + GAP_Y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" '
             f'height="{y:.0f}pt" viewBox="0 0 {width:.0f} {y:.0f}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
             'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
             '<path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>',
             f'<text x="10" y="20" font-size="14">{escape(view.title)}</text>']
    for i, e in enumerate(view.edges):
        parts.append(_edge(i, e, pos[e.src], sizes[e.src], pos[e.dst], sizes[e.dst]))
    for n in view.nodes:
        parts.append(_node(n, pos[n.key], sizes[n.key]))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(i: int, e: VEdge, src: tuple[float, float], ssize: tuple[float, float],
          dst: tuple[float, float], dsize: tuple[float, float]) -> str:
    kind = edge_class(e)
    colour, style = EDGE_STYLE[kind]
    if e.redundant:
        colour = REDUNDANT_COLOUR
    if e.critical:
        colour = CRITICAL_COLOUR
    x1, y1 = src[0] + ssize[0] / 2, src[1] + ssize[1]
    x2, y2 = dst[0] + dsize[0] / 2, dst[1]
    dash = ' stroke-dasharray="5,4"' if style == "dashed" else ""
    width = 2.5 if style == "bold" or e.critical else 1.2
    return (f'<g id="e{i}" class="edge {kind}"><title>{escape(", ".join(e.origins) or kind)}'
            f'</title><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#arrow)"/></g>')


def _node(n: VNode, at: tuple[float, float], size: tuple[float, float]) -> str:
    shape, _, fill, border = NODE_STYLE[n.kind]
    if n.critical:
        border = CRITICAL_COLOUR
    x, y = at
    w, h = size
    stroke = f'fill="{fill}" stroke="{border}" stroke-width="{3 if n.critical else 1.2}"'
    if shape == "ellipse":
        body = f'<ellipse cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" rx="{w / 2:.1f}" ' \
               f'ry="{h / 2:.1f}" {stroke}/>'
    else:
        body = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" {stroke}/>'
    texts = "".join(f'<text x="{x + w / 2:.1f}" y="{y + PAD + (k + 0.8) * LINE_H:.1f}" '
                    f'text-anchor="middle" font-size="10">{escape(t)}</text>'
                    for k, t in enumerate([n.title, *n.lines]))
    return f'<g id="{n.key}" class="node task {n.kind}"><title>{escape(n.title)}</title>' \
           f'{body}{texts}</g>'
