"""How pictures encode a view: node styles by core type, edge styles by origin, the marks
(race, redundant dep, critical path), scope clusters by mode, and the one legend that
every format (DOT/SVG/PNG, the HTML page, its own layout) draws from these tables.

The encoding follows the runtime's own deps viewer where one exists (core types as shapes
and colours). Nothing here writes a format.
"""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl.viz.view import VEdge, VNode, edge_class

# kind -> (shape, style, fill colour, border colour)
NODE_STYLE = {
    "aic": ("box", "rounded,filled", "#cfe2ff", "#1f4e9e"),
    "aiv": ("ellipse", "filled", "#ffe0b2", "#b85c00"),
    "mix": ("diamond", "filled", "#c8e6c9", "#2e7d32"),
    "alloc": ("note", "filled,dashed", "#eaeaea", "#666666"),
    "dummy": ("note", "filled,dotted", "#ffffff", "#555555"),  # no core: deps only
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
# manual? -> (DOT style, fill colour, border colour)
CLUSTER_STYLE = {False: ("rounded,filled", "#f3f7ff", "#7a9cc6"),  # AUTO
                 True: ("rounded,filled,dashed", "#fff7e6", "#c98a1b")}  # MANUAL


@dataclass(frozen=True)
class Swatch:
    """One legend entry. `group` says what is drawn: a node of core type `key` (core), an
    edge of class `key` (edge), an edge mark (mark: redundant, critical) or a scope cluster
    of mode `key` (scope)."""

    group: str
    key: str
    label: str


LEGEND: tuple[Swatch, ...] = (
    Swatch("core", "aic", "AIC task"),
    Swatch("core", "aiv", "AIV task"),
    Swatch("core", "mix", "MIX task"),
    Swatch("core", "alloc", "alloc task"),
    Swatch("core", "dummy", "dummy task"),
    Swatch("edge", "explicit", "explicit dep"),
    Swatch("edge", "creator", "creator edge"),
    Swatch("edge", "tensormap", "TensorMap edge"),
    Swatch("edge", "race", "race"),
    Swatch("mark", "redundant", "redundant dep"),
    Swatch("mark", "critical", "critical path"),
    Swatch("scope", "auto", "AUTO scope"),
    Swatch("scope", "manual", "MANUAL scope"),
)


def line_style(s: Swatch) -> tuple[str, str]:
    """(colour, DOT style) of an edge or mark swatch."""
    if s.group == "edge":
        return EDGE_STYLE[s.key]
    return (REDUNDANT_COLOUR, "solid") if s.key == "redundant" else (CRITICAL_COLOUR, "bold")


def scope_style(s: Swatch) -> tuple[str, str, str]:
    """(DOT style, fill, border) of a scope swatch."""
    return CLUSTER_STYLE[s.key == "manual"]


# ---- the look of one node or edge, for every writer ------------------------------------

@dataclass(frozen=True)
class NodeLook:
    shape: str
    style: str
    fill: str
    border: str
    width: float  # border width
    classes: str  # "task aic critical"


@dataclass(frozen=True)
class EdgeLook:
    colours: tuple[str, ...]  # one, or (band, line, band) on the critical path
    style: str  # solid, bold, dashed
    width: float
    classes: str  # "dep creator o-creator critical"
    tip: str  # origins, race kind, marks, count


def node_look(n: VNode) -> NodeLook:
    shape, style, fill, border = NODE_STYLE[n.kind]
    if n.critical:
        return NodeLook(shape, style, fill, CRITICAL_COLOUR, 3.0, f"task {n.kind} critical")
    return NodeLook(shape, style, fill, border, 1.2, f"task {n.kind}")


def edge_look(e: VEdge) -> EdgeLook:
    kind = edge_class(e)
    colour, style = EDGE_STYLE[kind]
    classes = ["dep", kind, *(f"o-{o}" for o in e.origins)]
    tip = ", ".join(e.origins) if e.race is None else \
        f"race ({e.race}){'' if e.race_error else ', warning'}"
    if e.redundant:
        colour = REDUNDANT_COLOUR
        classes.append("redundant")
        tip += ", redundant dep"
    colours: tuple[str, ...] = (colour,)
    width = 1.6 if e.race is not None else 1.0
    if e.critical:  # a gold band on both sides of the edge's own colour
        classes.append("critical")
        colours, width = (CRITICAL_COLOUR, colour, CRITICAL_COLOUR), 2.0
    if e.count > 1:
        tip += f", {e.count} edges"
    return EdgeLook(colours, style, width, " ".join(classes), tip)
