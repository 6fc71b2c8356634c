"""Turning a view into the bytes of one output format (written with files.write_atomic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # FORMATS is read for pto-graph's --help: the rest comes with render
    from pto_dsl import ir
    from pto_dsl.graph import TaskGraph
    from pto_dsl.viz.view import View

FORMATS = (".dot", ".svg", ".png", ".html", ".json")


def deps_bytes(program: ir.Program, graph: TaskGraph) -> bytes:
    """The graph's deps.json (format .json): its records, no view needed."""
    from pto_dsl.perf import paused_gc
    from pto_dsl.viz import deps_json

    with paused_gc():  # a string per task, argument and edge
        return deps_json.export_bytes(program, graph)


def render(fmt: str, view: View, program: ir.Program, graph: TaskGraph) -> bytes:
    """The bytes of `fmt` (an extension in FORMATS). SVG and PNG need Graphviz
    (GraphvizMissing otherwise); HTML uses it when present, else its own layout."""
    from pto_dsl.viz import graphviz, html
    from pto_dsl.viz.dot import to_dot

    if fmt == ".json":
        return deps_bytes(program, graph)
    if fmt == ".dot":
        return to_dot(view).encode("utf-8")
    if fmt == ".html":
        if graphviz.dot_path() is None:
            view.notes.append("Graphviz not installed: laid out in the browser")
            svg = None
        else:
            # the page has the title and the legend in its header, not in the picture
            svg = graphviz.render(to_dot(view, framed=False), "svg").decode("utf-8")
        return html.page(view, svg).encode("utf-8")
    return graphviz.render(to_dot(view), fmt[1:])
