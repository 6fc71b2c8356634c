"""The CSS and JavaScript inlined into every `.html` page (no CDN: the page must work
offline). The script reads the task details from a JSON block in the page and drives pan,
zoom, hover details and search over the SVG, once it is there (Graphviz's inline SVG, or
the drawing of `layout.py`)."""

CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.4 Helvetica, Arial, sans-serif; }
body { display: flex; flex-direction: column; }
header { display: flex; gap: 12px; align-items: center; flex-wrap: wrap;
  padding: 6px 10px; border-bottom: 1px solid #ccc; background: #fafafa; }
header h1 { font-size: 14px; margin: 0; }
header input { width: 24em; padding: 3px 6px; }
header button { padding: 2px 8px; }
#status { color: #555; min-width: 8em; }
.legend { display: flex; gap: 10px; flex-wrap: wrap; flex-basis: 100%; color: #333; }
.legend span { display: inline-flex; align-items: center; gap: 4px; }
.legend i { display: inline-block; width: 14px; height: 10px; border: 1px solid #666; }
.legend b { display: inline-block; width: 22px; height: 0; border-top: 2px solid; }
.legend i.box { border-radius: 3px; }
.legend i.ellipse { border-radius: 50%; }
.legend i.diamond { width: 9px; height: 9px; margin: 0 2px; transform: rotate(45deg); }
.legend i.note { border-style: dashed; }
#viewport { flex: 1; overflow: hidden; position: relative; cursor: grab; background: #fff; }
#viewport.dragging { cursor: grabbing; }
#canvas { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
#canvas svg { display: block; }
#tip { position: fixed; display: none; max-width: 34em; pointer-events: none; z-index: 5;
  background: #fffff0; border: 1px solid #999; padding: 6px 8px; font-size: 12px;
  box-shadow: 2px 2px 6px rgba(0,0,0,.2); }
#tip table { border-collapse: collapse; }
#tip td { padding: 0 6px 0 0; vertical-align: top; }
#tip td:first-child { color: #666; white-space: nowrap; }
svg g.node { cursor: pointer; }
svg.searching g.node:not(.match) { opacity: 0.25; }
svg g.node.match :is(path, polygon, ellipse, rect) { stroke: #d0021b; stroke-width: 3px; }
svg g.node.current :is(path, polygon, ellipse, rect) { stroke: #7b1fa2; stroke-width: 5px; }
"""

JS = r"""
function ptoPage() {
  "use strict";
  var data = JSON.parse(document.getElementById("task-data").textContent);
  var viewport = document.getElementById("viewport");
  var canvas = document.getElementById("canvas");
  var svg = canvas.querySelector("svg");
  var tip = document.getElementById("tip");
  var status = document.getElementById("status");
  var box = document.getElementById("search");
  var view = { x: 0, y: 0, s: 1 };
  var matches = [];
  var current = -1;

  // the search box as wide as its placeholder in the font the page got
  function fitBox() {
    var cs = getComputedStyle(box);
    var ctx = document.createElement("canvas").getContext("2d");
    ctx.font = cs.font;
    var extra = ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"]
      .reduce(function (sum, k) { return sum + (parseFloat(cs[k]) || 0); }, 0);
    box.style.width = Math.ceil(ctx.measureText(box.placeholder).width + extra + 20) + "px";
  }
  fitBox();

  function apply() {
    canvas.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.s + ")";
  }
  function size() {
    var w = svg.width.baseVal.value || svg.getBoundingClientRect().width;
    var h = svg.height.baseVal.value || svg.getBoundingClientRect().height;
    return { w: w, h: h };
  }
  function fit() {
    var sz = size();
    var r = viewport.getBoundingClientRect();
    view.s = Math.min(r.width / sz.w, r.height / sz.h, 2) * 0.95;
    view.x = (r.width - sz.w * view.s) / 2;
    view.y = (r.height - sz.h * view.s) / 2;
    apply();
  }
  function zoomAt(px, py, factor) {
    var s = Math.max(0.02, Math.min(40, view.s * factor));
    view.x = px - (px - view.x) * (s / view.s);
    view.y = py - (py - view.y) * (s / view.s);
    view.s = s;
    apply();
  }

  var drag = null;
  viewport.addEventListener("pointerdown", function (ev) {
    drag = { x: ev.clientX - view.x, y: ev.clientY - view.y };
    viewport.classList.add("dragging");
    viewport.setPointerCapture(ev.pointerId);
  });
  viewport.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    view.x = ev.clientX - drag.x;
    view.y = ev.clientY - drag.y;
    apply();
  });
  function endDrag() { drag = null; viewport.classList.remove("dragging"); }
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointercancel", endDrag);
  viewport.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = viewport.getBoundingClientRect();
    zoomAt(ev.clientX - r.left, ev.clientY - r.top, Math.exp(-ev.deltaY * 0.0015));
  }, { passive: false });

  function nodeOf(target) {
    var g = target && target.closest ? target.closest("g.node") : null;
    return g && data[g.id] ? g : null;
  }
  function cell(text, tag) {
    var td = document.createElement(tag || "td");
    td.textContent = text;
    return td;
  }
  function showTip(g, ev) {
    var info = data[g.id];
    var table = document.createElement("table");
    info.details.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(row[0]));
      tr.appendChild(cell(row[1]));
      table.appendChild(tr);
    });
    tip.replaceChildren(table);
    tip.style.display = "block";
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 4) + "px";
    tip.style.top = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 4) + "px";
  }
  svg.addEventListener("mousemove", function (ev) {
    var g = nodeOf(ev.target);
    if (g) { showTip(g, ev); } else { tip.style.display = "none"; }
  });
  svg.addEventListener("mouseleave", function () { tip.style.display = "none"; });

  function centre(g) {
    var r = g.getBoundingClientRect();
    var v = viewport.getBoundingClientRect();
    view.x += v.left + v.width / 2 - (r.left + r.width / 2);
    view.y += v.top + v.height / 2 - (r.top + r.height / 2);
    apply();
  }
  function select(i) {
    svg.querySelectorAll("g.node.current").forEach(function (g) { g.classList.remove("current"); });
    if (!matches.length) { return; }
    current = (i + matches.length) % matches.length;
    matches[current].classList.add("current");
    centre(matches[current]);
    status.textContent = (current + 1) + " of " + matches.length + " tasks";
  }
  function search(query) {
    var q = query.trim().toLowerCase();
    matches = [];
    current = -1;
    svg.querySelectorAll("g.node").forEach(function (g) {
      var info = data[g.id];
      var hit = q !== "" && info && info.search.toLowerCase().indexOf(q) !== -1;
      g.classList.toggle("match", hit);
      g.classList.remove("current");
      if (hit) { matches.push(g); }
    });
    svg.classList.toggle("searching", q !== "");
    status.textContent = q === "" ? "" :
      matches.length ? matches.length + " tasks" : "no task matches";
    if (matches.length) { select(0); }
    return matches.map(function (g) { return g.id; });
  }
  box.addEventListener("input", function () { search(box.value); });
  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { select(current + (ev.shiftKey ? -1 : 1)); }
  });
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("reset").addEventListener("click", function () {
    view = { x: 0, y: 0, s: 1 }; apply();
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.target === box) { return; }
    if (ev.key === "f") { fit(); }
    if (ev.key === "r") { view = { x: 0, y: 0, s: 1 }; apply(); }
    if (ev.key === "/") { ev.preventDefault(); box.focus(); }
  });
  window.ptoGraph = { search: search, fit: fit,
                      nodes: function () { return svg.querySelectorAll("g.node").length; } };
  fit();
  return window.ptoGraph;
}
"""
