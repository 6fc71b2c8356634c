/* pto-dsl: the HTML page's own drawing, used when Graphviz is not installed.
   ptoLayout(graph) takes the view as pto_dsl/viz/layout.py writes it (every style already
   decided), measures the labels, lets ELK's layered algorithm place nodes, scope clusters
   (compound nodes) and edges, and draws the SVG into #canvas. It returns a promise of the
   SVG element; the page script starts when it resolves. */
function ptoLayout(graph) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var FONT = 10, EDGE_FONT = 9, LINE = 13, PAD = 8, LABEL = 16;
  // a node's box around its label, grown so that an ellipse or a diamond still holds it
  var GROW = { ellipse: [1.3, 1.35], diamond: [1.8, 1.9] };
  var OPTIONS = {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.hierarchyHandling": "INCLUDE_CHILDREN",
    "elk.edgeRouting": "POLYLINE",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    "elk.layered.spacing.nodeNodeBetweenLayers": "34",
    "elk.layered.spacing.edgeNodeBetweenLayers": "14",
    "elk.spacing.nodeNode": "22",
    "elk.spacing.edgeNode": "12",
    "elk.spacing.edgeEdge": "8",
    "elk.padding": "[top=12,left=12,bottom=12,right=12]",
    "elk.json.shapeCoords": "ROOT",
    "elk.json.edgeCoords": "ROOT"
  };

  var svg = el("svg", { xmlns: NS, "font-family": "Helvetica, Arial, sans-serif" },
               document.getElementById("canvas"));
  var defs = el("defs", {}, svg);
  var probe = el("text", {}, svg);

  function el(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function textWidth(text, size) {
    probe.setAttribute("font-size", size);
    probe.textContent = text;
    return probe.getComputedTextLength();
  }

  // ---- the ELK graph: clusters nest, nodes sit in their cluster, edges at the root ----
  function elkGraph() {
    var root = { id: "root", layoutOptions: OPTIONS, children: [], edges: [] };
    var byId = {};
    graph.clusters.forEach(function (c) {
      byId[c.id] = { id: c.id, children: [], layoutOptions: {
        "elk.padding": "[top=" + (LABEL + 10) + ",left=10,bottom=10,right=10]",
        "elk.nodeSize.minimum": "(" + (textWidth(c.label, FONT) + 20) + ",20)",
        "elk.nodeSize.constraints": "MINIMUM_SIZE" } };
    });
    function holder(key) { return key && byId[key] ? byId[key] : root; }
    graph.clusters.forEach(function (c) { holder(c.parent).children.push(byId[c.id]); });
    graph.nodes.forEach(function (n) {
      var w = Math.max.apply(null, n.lines.map(function (t) { return textWidth(t, FONT); }));
      var grow = GROW[n.shape] || [1, 1];
      holder(n.cluster).children.push({ id: n.id, width: Math.ceil((w + 2 * PAD) * grow[0]),
        height: Math.ceil((n.lines.length * LINE + 2 * PAD) * grow[1]) });
    });
    graph.edges.forEach(function (e) {
      var edge = { id: e.id, sources: [e.src], targets: [e.dst] };
      if (e.label) {
        edge.labels = [{ text: e.label, width: textWidth(e.label, EDGE_FONT) + 4, height: 12 }];
      }
      root.edges.push(edge);
    });
    return root;
  }

  // ---- drawing ------------------------------------------------------------------------
  function flatten(node, out) {
    (node.children || []).forEach(function (c) { out[c.id] = c; flatten(c, out); });
    return out;
  }
  function marker(colour) {
    var id = "arrow-" + colour.replace(/[^0-9a-zA-Z]/g, "");
    if (!svg.getElementById(id)) {
      var m = el("marker", { id: id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8,
        markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto" }, defs);
      el("path", { d: "M0,0L10,5L0,10z", fill: colour }, m);
    }
    return "url(#" + id + ")";
  }
  function drawCluster(c, box) {
    var g = el("g", { id: c.id, class: "cluster " + c.classes }, svg);
    el("title", {}, g, c.label);
    el("rect", { x: box.x, y: box.y, width: box.width, height: box.height, rx: 8,
      fill: c.fill, stroke: c.border, "stroke-width": 1.2,
      "stroke-dasharray": c.dashed ? "5,3" : "none" }, g);
    el("text", { x: box.x + 8, y: box.y + LABEL, "font-size": FONT }, g, c.label);
  }
  // ELK ends an edge on its node's box; an ellipse or a diamond lies inside that box, so
  // the edge goes on in its direction until it meets the outline
  function inShape(n, box, p) {
    var dx = Math.abs(p.x - (box.x + box.width / 2)) / (box.width / 2);
    var dy = Math.abs(p.y - (box.y + box.height / 2)) / (box.height / 2);
    return n.shape === "ellipse" ? dx * dx + dy * dy <= 1 : dx + dy <= 1;
  }
  function toOutline(n, box, end, from) {
    if (!n || (n.shape !== "ellipse" && n.shape !== "diamond")) { return end; }
    var len = Math.hypot(end.x - from.x, end.y - from.y) || 1;
    var ux = (end.x - from.x) / len, uy = (end.y - from.y) / len;
    var out = 0, reach = box.width + box.height;
    for (var step = 1; step <= reach; step += 1) {  // the first point inside, then halve
      if (inShape(n, box, { x: end.x + ux * step, y: end.y + uy * step })) {
        var lo = out, hi = step;
        for (var k = 0; k < 12; k++) {
          var mid = (lo + hi) / 2;
          if (inShape(n, box, { x: end.x + ux * mid, y: end.y + uy * mid })) { hi = mid; }
          else { lo = mid; }
        }
        return { x: end.x + ux * hi, y: end.y + uy * hi };
      }
      out = step;
    }
    return end;
  }
  function drawEdge(e, laid, nodes, boxes) {
    var g = el("g", { id: e.id, class: "edge " + e.classes }, svg);
    el("title", {}, g, e.src + "->" + e.dst + ": " + e.tip);
    var d = "";
    (laid.sections || []).forEach(function (s, i, all) {
      var pts = [s.startPoint].concat(s.bendPoints || [], [s.endPoint]);
      if (i === 0) { pts[0] = toOutline(nodes[e.src], boxes[e.src], pts[0], pts[1]); }
      if (i === all.length - 1) {
        var n = pts.length - 1;
        pts[n] = toOutline(nodes[e.dst], boxes[e.dst], pts[n], pts[n - 1]);
      }
      d += pts.map(function (p, i) { return (i ? "L" : "M") + p.x.toFixed(1) + "," +
        p.y.toFixed(1); }).join("");
    });
    var line = e.colours.length > 1 ? e.colours[1] : e.colours[0];
    if (e.colours.length > 1) {  // the critical path: a band under the line
      el("path", { d: d, fill: "none", stroke: e.colours[0], "stroke-width": e.width * 2.5,
        "stroke-linejoin": "round" }, g);
    }
    el("path", { d: d, fill: "none", stroke: line, "stroke-width": e.width,
      "stroke-dasharray": e.dashed ? "5,4" : "none", "marker-end": marker(line) }, g);
    (laid.labels || []).forEach(function (l) {
      el("text", { x: l.x + 2, y: l.y + 10, "font-size": EDGE_FONT }, g, e.label);
    });
  }
  function drawNode(n, box) {
    var g = el("g", { id: n.id, class: "node " + n.classes }, svg);
    el("title", {}, g, n.title);
    var paint = { fill: n.fill, stroke: n.border, "stroke-width": n.width,
      "stroke-dasharray": n.dashed ? "4,3" : "none" };
    var cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    if (n.shape === "ellipse") {
      el("ellipse", Object.assign({ cx: cx, cy: cy, rx: box.width / 2, ry: box.height / 2 },
        paint), g);
    } else if (n.shape === "diamond") {
      el("polygon", Object.assign({ points: [cx, box.y, box.x + box.width, cy, cx,
        box.y + box.height, box.x, cy].join(" ") }, paint), g);
    } else {
      el("rect", Object.assign({ x: box.x, y: box.y, width: box.width, height: box.height,
        rx: n.shape === "box" ? 6 : 1 }, paint), g);
    }
    var top = cy - (n.lines.length * LINE) / 2;
    n.lines.forEach(function (t, k) {
      el("text", { x: cx, y: top + (k + 0.8) * LINE, "text-anchor": "middle",
        "font-size": FONT }, g, t);
    });
  }
  function draw(laid) {
    probe.remove();
    var boxes = flatten(laid, {});
    var edges = {};
    (laid.edges || []).forEach(function (e) { edges[e.id] = e; });
    svg.setAttribute("width", Math.ceil(laid.width));
    svg.setAttribute("height", Math.ceil(laid.height));
    svg.setAttribute("viewBox", "0 0 " + Math.ceil(laid.width) + " " + Math.ceil(laid.height));
    graph.clusters.forEach(function (c) { drawCluster(c, boxes[c.id]); });
    var nodes = {};
    graph.nodes.forEach(function (n) { nodes[n.id] = n; });
    graph.edges.forEach(function (e) { drawEdge(e, edges[e.id], nodes, boxes); });
    graph.nodes.forEach(function (n) { drawNode(n, boxes[n.id]); });
    return svg;
  }

  return new ELK().layout(elkGraph()).then(draw);
}
