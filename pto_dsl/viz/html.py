"""The self-contained `.html` page: the SVG inline, the task details as JSON, and the
pan/zoom/hover/search script and styles of `page_assets` inline (works offline)."""

from __future__ import annotations

import json
import re
from html import escape

from pto_dsl.viz import layout
from pto_dsl.viz.page_assets import CSS, JS
from pto_dsl.viz.style import LEGEND, NODE_STYLE, Swatch, line_style, scope_style
from pto_dsl.viz.view import View

_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.S)


def _legend() -> str:
    """The header legend, from the one `LEGEND` the DOT legend draws too."""
    return '<div class="legend">' + "".join(
        f'<span class="legend-swatch {s.group} {s.key}">{_swatch(s)}{escape(s.label)}</span>'
        for s in LEGEND) + "</div>"


def _swatch(s: Swatch) -> str:
    if s.group == "core":
        shape, _, fill, border = NODE_STYLE[s.key]
        return f'<i class="{shape}" style="background:{fill};border-color:{border}"></i>'
    if s.group == "scope":
        style, fill, border = scope_style(s)
        dash = "dashed" if "dashed" in style else "solid"
        return f'<i style="background:{fill};border-color:{border};border-style:{dash}"></i>'
    colour, style = line_style(s)
    width = "4px" if style == "bold" else "2px"
    return (f'<b style="border-color:{colour};border-top-width:{width};border-top-style:'
            f'{"dashed" if style == "dashed" else "solid"}"></b>')


def _data(view: View) -> str:
    table = {n.key: {"title": n.title, "details": n.details,
                     "search": f"{n.key} {n.title} {n.search} {' '.join(n.lines)}"}
             for n in view.nodes}
    # inside <script>, "</" could end the block early
    return json.dumps(table, separators=(",", ":")).replace("</", "<\\/")


def page(view: View, svg: str | None) -> str:
    """The page for a view and Graphviz's SVG of it, or (None) the page draws it itself."""
    if svg is None:  # laid out in the browser, then the page script starts
        body = ""
        start = (f'<script id="graph-data" type="application/json">{layout.data_block(view)}'
                 f"</script>\n<script>\n{layout.scripts()}</script>\n<script>{JS}\n"
                 "window.ptoReady = ptoLayout(JSON.parse(document.getElementById("
                 '"graph-data").textContent)).then(ptoPage);\n'
                 "window.ptoReady.catch(function (err) {\n"
                 '  document.getElementById("status").textContent = "layout failed: " + err;\n'
                 '  console.error("layout failed", err);\n});\n</script>')
    else:
        body = _PROLOG.sub("", svg, count=1)
        start = f"<script>{JS}\nwindow.ptoReady = Promise.resolve(ptoPage());\n</script>"
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
<button id="fit" type="button" title="fit (f)">fit</button>
<button id="reset" type="button" title="1:1 (r)">1:1</button>
<span id="status"></span>
{_legend()}
</header>
<div id="viewport"><div id="canvas">
{body}
</div></div>
<div id="tip"></div>
<script id="task-data" type="application/json">{_data(view)}</script>
{start}
</body>
</html>
"""
