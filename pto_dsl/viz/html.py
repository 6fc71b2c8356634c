"""The self-contained `.html` page: the SVG inline, the task details as JSON, and the
pan/zoom/hover/search script and styles of `page_assets` inline (works offline)."""

from __future__ import annotations

import json
import re
from html import escape

from pto_dsl.viz.dot import CLUSTER_STYLE, EDGE_STYLE, NODE_STYLE, REDUNDANT_COLOUR
from pto_dsl.viz.page_assets import CSS, JS
from pto_dsl.viz.view import View

_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.S)


def _legend() -> str:
    items = [f'<span><i style="background:{fill};border-color:{border}"></i>{kind}</span>'
             for kind, (_, _, fill, border) in NODE_STYLE.items()]
    items += [f'<span><b style="border-color:{colour};border-top-style:'
              f'{"dashed" if style == "dashed" else "solid"}"></b>{kind}</span>'
              for kind, (colour, style) in EDGE_STYLE.items()]
    items.append(f'<span><b style="border-color:{REDUNDANT_COLOUR}"></b>redundant dep</span>')
    items.append('<span><b style="border-color:#e6a100;border-top-width:4px"></b>'
                 'critical path</span>')
    for manual, (_, fill, border) in CLUSTER_STYLE.items():
        items.append(f'<span><i style="background:{fill};border-color:{border};border-style:'
                     f'{"dashed" if manual else "solid"}"></i>'
                     f'{"MANUAL" if manual else "AUTO"} scope</span>')
    return '<div class="legend">' + "".join(items) + "</div>"


def _data(view: View) -> str:
    table = {n.key: {"title": n.title, "details": n.details,
                     "search": f"{n.key} {n.title} {n.search} {' '.join(n.lines)}"}
             for n in view.nodes}
    # inside <script>, "</" could end the block early
    return json.dumps(table, separators=(",", ":")).replace("</", "<\\/")


def page(view: View, svg: str) -> str:
    """The page for a view and its SVG (Graphviz's, or the fallback layout's)."""
    body = _PROLOG.sub("", svg, count=1)
    notes = "".join(f" &middot; {escape(n)}" for n in view.notes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(view.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{escape(view.title)}{notes}</h1>
<input id="search" type="search" placeholder="search kernel or task (e.g. QK, #12)"
 aria-label="search tasks">
<span id="status"></span>
<button id="fit" type="button" title="fit (f)">fit</button>
<button id="reset" type="button" title="1:1 (r)">1:1</button>
{_legend()}
</header>
<div id="viewport"><div id="canvas">
{body}
</div></div>
<div id="tip"></div>
<script id="task-data" type="application/json">{_data(view)}</script>
<script>{JS}</script>
</body>
</html>
"""
