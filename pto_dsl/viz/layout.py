"""The HTML page's own drawing, for when Graphviz is not installed: the view as JSON, laid
out in the browser by ELK's layered (Sugiyama) algorithm with scope clusters as compound
nodes, and drawn as SVG by `assets/layout.js`.

Python decides every style (`style.py`); the script only measures labels, calls ELK and
draws. ELK (elkjs, EPL-2.0) ships unmodified in `assets/` with its licence; nothing is
fetched at run time, so the page works offline.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pto_dsl.viz.style import CLUSTER_STYLE, edge_look, node_look
from pto_dsl.viz.view import View

ASSETS = ("elk.bundled.js", "layout.js")


def scripts() -> str:
    """ELK and the drawing script, to inline in the page (each ends with a newline)."""
    root = resources.files("pto_dsl.viz") / "assets"
    return "".join((root / name).read_text("utf-8") + "\n" for name in ASSETS)


def graph_data(view: View) -> dict[str, Any]:
    """What `ptoLayout` draws: nodes, the clusters that hold one, edges, all styled."""
    used = view.used_clusters()
    nodes = []
    for n in view.nodes:
        look = node_look(n)
        nodes.append({"id": n.key, "cluster": n.cluster, "lines": [n.title, *n.lines],
                      "title": n.title, "shape": look.shape, "fill": look.fill,
                      "border": look.border, "width": look.width,
                      "dashed": "dashed" in look.style, "classes": look.classes})
    clusters = []
    for c in view.clusters:
        if c.key in used:
            _, fill, border = CLUSTER_STYLE[c.manual]
            clusters.append({"id": c.key, "parent": c.parent, "label": c.label, "fill": fill,
                             "border": border, "dashed": c.manual,
                             "classes": "scope " + ("manual" if c.manual else "auto")})
    edges = []
    for i, e in enumerate(view.edges):
        line = edge_look(e)
        edges.append({"id": f"e{i}", "src": e.src, "dst": e.dst, "colours": line.colours,
                      "dashed": line.style == "dashed",
                      "width": 2.5 if line.style == "bold" and not e.critical else line.width,
                      "label": f"x{e.count}" if e.count > 1 else "",
                      "classes": line.classes, "tip": line.tip})
    return {"nodes": nodes, "clusters": clusters, "edges": edges}


def data_block(view: View) -> str:
    """The JSON of `graph_data`, safe inside a <script> element."""
    return json.dumps(graph_data(view), separators=(",", ":")).replace("</", "<\\/")
