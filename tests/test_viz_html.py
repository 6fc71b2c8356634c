"""The .html page in headless Chromium: it renders the graph with no console errors, and
its search finds a task. Chromium is driven through the DevTools protocol over
`--remote-debugging-pipe` (fd 3 in, fd 4 out, messages ended by NUL); no extra package."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from pto_dsl.cli_graph import main
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.viz import graphviz

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or \
    shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                "(.ci/run installs the 'chromium' system package)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]
TIMEOUT_S = 30.0


class Browser:
    """A headless Chromium with one page, attached in flat session mode."""

    def __init__(self, profile: Path) -> None:
        to_child, self._to_chrome = os.pipe()
        self._from_chrome, from_child = os.pipe()

        def wire() -> None:  # in the child: the protocol's fixed descriptors
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        assert CHROMIUM is not None
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def send(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                answer: dict[str, Any] = reply["result"]
                return answer
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def attach(self) -> None:
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", session=False,
                                 targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def evaluate(self, expression: str, wait: bool = False) -> Any:
        """The value of a JS expression; with `wait`, of the promise it gives."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=wait)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def problems(self) -> list[dict[str, Any]]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown" or \
                    (method == "Runtime.consoleAPICalled" and params.get("type") == "error") or \
                    (method == "Log.entryAdded" and params["entry"]["level"] == "error"):
                out.append(e)
        return out

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    b = Browser(tmp_path / "profile")
    try:
        b.attach()
        yield b
    finally:
        b.close()


def open_page(browser: Browser, page: Path) -> None:
    """Load a page and wait until its script runs (after the layout, in a page without
    Graphviz's SVG)."""
    browser.send("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    browser.evaluate("window.ptoReady ? window.ptoReady.then(function () { return 1; }) : 0",
                     wait=True)


@pytest.mark.parametrize("graphviz_present", [True, False], ids=["graphviz", "fallback"])
def test_page_renders_and_search_finds_a_task(
        browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, graphviz_present: bool) -> None:
    if graphviz_present and graphviz.dot_path() is None:
        pytest.skip("Graphviz 'dot' missing")
    if not graphviz_present:
        monkeypatch.setattr(graphviz, "dot_path", lambda: None)
    page = tmp_path / "auto.html"
    example = ROOT / "examples/paged_attention/auto.pto"
    assert main([str(example), "-o", str(page)]) == 0
    capsys.readouterr()
    open_page(browser, page)
    assert browser.evaluate("window.ptoGraph.nodes()") == 13
    assert browser.evaluate("document.querySelectorAll('svg g.node text').length") >= 13
    width = browser.evaluate("document.querySelector('#canvas svg')"
                             ".getBoundingClientRect().width")
    assert width > 50  # laid out and visible, not collapsed
    assert browser.evaluate("window.ptoGraph.search('PV')") == ["t3", "t7", "t11"]
    assert browser.evaluate("document.getElementById('status').textContent") == \
        "1 of 3 tasks"
    assert browser.evaluate("document.querySelectorAll('g.node.match').length") == 3
    assert browser.evaluate("window.ptoGraph.search('#12')") == ["t12"]
    assert browser.evaluate("window.ptoGraph.search('no such kernel')") == []
    # typing in the box drives the same search
    browser.evaluate("var b = document.getElementById('search'); b.value = 'alloc';"
                     "b.dispatchEvent(new Event('input')); 0")
    assert browser.evaluate("document.querySelector('g.node.current').id") == "t0"
    # hover details come from the page's data: arguments, deps, source line
    tip = browser.evaluate(
        "var g = document.getElementById('t4'); var r = g.getBoundingClientRect();"
        "g.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.x + 2,"
        " clientY: r.y + 2})); document.getElementById('tip').textContent")
    up = instantiate_case(front_end(read_source(example)), None).task(4)
    assert "UP #4" in tip and f"auto.pto:{up.span.line}:" in tip
    assert "INOUT out[0:16, 0:16]" in tip
    assert "dep on" in tip and "PV #3 (creator)" in tip
    # the wheel zooms about the cursor, a drag pans
    before = browser.evaluate("document.getElementById('canvas').style.transform")
    browser.evaluate("document.getElementById('viewport').dispatchEvent(new WheelEvent("
                     "'wheel', {deltaY: -300, clientX: 200, clientY: 200, bubbles: true,"
                     " cancelable: true})); 0")
    zoomed = browser.evaluate("document.getElementById('canvas').style.transform")
    assert zoomed != before and _scale(zoomed) > _scale(before)
    assert browser.problems() == []


def _scale(transform: str) -> float:
    return float(transform.rsplit("scale(", 1)[1].rstrip(")"))


def test_console_errors_are_detected(browser: Browser, tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom');"
                    "undefined_function();</script>")
    open_page(browser, page)
    browser.evaluate("1")
    kinds = {e["method"] for e in browser.problems()}
    assert "Runtime.exceptionThrown" in kinds and "Runtime.consoleAPICalled" in kinds


# ---- the page's own layout (no Graphviz): ELK, scope clusters, no crossings ------------

Point = tuple[float, float]
# measured on the layout this page drew before ELK (longest-path layers, submission order,
# straight lines): (edge pairs that cross, edge-node pairs where an edge runs through a node)
BEFORE = {"teaching/diamond_manual.pto": (0, 0), "paged_attention/manual.pto": (2, 9),
          "paged_attention/auto.pto": (2, 11), "teaching/nested_scopes.pto": (7, 9)}


def _side(p: Point, q: Point, r: Point) -> int:
    v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return (v > 1e-9) - (v < -1e-9)


def _meet(a: Point, b: Point, c: Point, d: Point) -> list[Point]:
    """Where segments ab and cd meet: their crossing point, or the ends of an overlap."""
    s1, s2, s3, s4 = _side(a, b, c), _side(a, b, d), _side(c, d, a), _side(c, d, b)
    if s1 * s2 < 0 and s3 * s4 < 0:
        den = (b[0] - a[0]) * (d[1] - c[1]) - (b[1] - a[1]) * (d[0] - c[0])
        t = ((c[0] - a[0]) * (d[1] - c[1]) - (c[1] - a[1]) * (d[0] - c[0])) / den
        return [(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))]
    out = []
    for p, q, r, s in ((a, b, c, s1), (a, b, d, s2), (c, d, a, s3), (c, d, b, s4)):
        if s == 0 and min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and \
                min(p[1], q[1]) <= r[1] <= max(p[1], q[1]):
            out.append(r)
    return out


Edge = tuple[str, str, list[Point]]


def crossings(edges: list[Edge]) -> int:
    """Pairs of edges whose lines meet anywhere but at an end node they share."""
    count = 0
    for i, (s1, t1, p1) in enumerate(edges):
        for s2, t2, p2 in edges[i + 1:]:
            shared = [p1[0] for a, b in ((s1, s2), (s1, t2)) if a == b] + \
                [p1[-1] for a, b in ((t1, s2), (t1, t2)) if a == b]
            hits = [x for a, b in pairwise(p1) for c, d in pairwise(p2)
                    for x in _meet(a, b, c, d)]
            count += any(all(abs(x[0] - e[0]) > 3 or abs(x[1] - e[1]) > 3 for e in shared)
                         for x in hits)
    return count


def through_nodes(edges: list[Edge], boxes: dict[str, list[float]]) -> int:
    """Pairs of an edge and a node (not one of its ends) whose box the edge enters."""
    count = 0
    for src, dst, pts in edges:
        for key, (x, y, w, h) in boxes.items():
            if key in (src, dst):
                continue
            x0, y0, x1, y1 = x + 2, y + 2, x + w - 2, y + h - 2
            sides = [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)),
                     ((x0, y1), (x0, y0))]
            count += any(x0 < p[0] < x1 and y0 < p[1] < y1 for p in pts) or \
                any(_meet(a, b, c, d) for a, b in pairwise(pts) for c, d in sides)
    return count


def test_crossing_counts_of_the_helpers() -> None:
    """The measures above can fail: an X crosses, a line through a box is counted."""
    x = [("a", "b", [(0.0, 0.0), (10.0, 10.0)]), ("c", "d", [(0.0, 10.0), (10.0, 0.0)])]
    assert crossings(x) == 1 and crossings(x[:1]) == 0
    fan = [("a", "b", [(5.0, 0.0), (0.0, 10.0)]), ("a", "c", [(5.0, 0.0), (10.0, 10.0)])]
    assert crossings(fan) == 0  # they meet only where they leave a
    assert through_nodes(x, {"m": [2.0, 2.0, 6.0, 6.0]}) == 2  # both cross its middle
    assert through_nodes(x, {"m": [20.0, 2.0, 6.0, 6.0]}) == 0


LAID_OUT = """(function () {
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  function points(g) {
    var d = g.querySelector("path:last-of-type").getAttribute("d");
    return d.replace(/[ML]/g, " ").trim().split(/\\s+/).map(function (p) {
      return p.split(",").map(Number); });
  }
  var boxes = {};
  document.querySelectorAll("#canvas svg g.node").forEach(function (g) {
    var b = g.getBBox(); boxes[g.id] = [b.x, b.y, b.width, b.height]; });
  var clusters = {};
  document.querySelectorAll("#canvas svg g.cluster").forEach(function (g) {
    var b = g.querySelector("rect").getBBox(); clusters[g.id] = [b.x, b.y, b.width, b.height];
  });
  return { edges: data.edges.map(function (e) {
             return [e.src, e.dst, points(document.getElementById(e.id))]; }),
           boxes: boxes, clusters: clusters,
           homes: data.nodes.map(function (n) { return [n.id, n.cluster]; }) };
})()"""


def _fallback_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                   capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setattr(graphviz, "dot_path", lambda: None)
    page = tmp_path / "page.html"
    assert main([*args, "-o", str(page)]) == 0
    capsys.readouterr()
    return page


@pytest.mark.parametrize("example", sorted(BEFORE))
def test_layout_without_graphviz_has_no_crossings(
        example: str, browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    open_page(browser, _fallback_page(tmp_path, monkeypatch, [str(ROOT / "examples" / example)],
                                      capsys))
    laid = browser.evaluate(LAID_OUT)
    edges = [(s, d, [(p[0], p[1]) for p in pts]) for s, d, pts in laid["edges"]]
    after = (crossings(edges), through_nodes(edges, laid["boxes"]))
    assert after == (0, 0), (example, "before", BEFORE[example])
    # scopes are drawn, every task inside the box of its scope instance
    g = instantiate_case(front_end(read_source(ROOT / "examples" / example)), None)
    assert len(laid["clusters"]) == len(g.scopes)
    for node, home in laid["homes"]:
        assert _inside(laid["boxes"][node], laid["clusters"][home]), (node, home)
    assert browser.problems() == []


def _inside(box: list[float], outer: list[float]) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def test_layout_keeps_the_elided_middle_in_its_cluster(
        browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    page = _fallback_page(tmp_path, monkeypatch, [
        str(ROOT / "examples/paged_attention/manual.pto"), "--case", "CaseVarSeq4",
        "--summary", "always", "--collapse", "ends"], capsys)
    open_page(browser, page)
    laid = browser.evaluate(LAID_OUT)
    homes = dict(laid["homes"])
    ellipsis = [n for n in homes if n.startswith("g")]
    assert len(ellipsis) == 9 and all(homes[n] is not None for n in ellipsis)
    for n in ellipsis:
        assert _inside(laid["boxes"][n], laid["clusters"][homes[n]]), n
    edges = [(s, d, [(p[0], p[1]) for p in pts]) for s, d, pts in laid["edges"]]
    assert crossings(edges) == 0
    assert browser.problems() == []


# ---- the header: one title, a search box that shows its whole placeholder --------------

TITLE_COUNT = """(function (title) {
  var n = 0, w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    var tag = w.currentNode.parentNode.nodeName.toLowerCase();
    if (tag !== "script" && tag !== "style") {
      n += w.currentNode.nodeValue.split(title).length - 1;
    }
  }
  return n;
})(%s)"""

PLACEHOLDER = """(function () {
  var box = document.getElementById("search"), cs = getComputedStyle(box);
  var probe = document.createElement("span");
  probe.style.font = cs.font;
  probe.style.whiteSpace = "pre";
  probe.style.position = "absolute";
  probe.textContent = box.placeholder;
  document.body.appendChild(probe);
  var text = probe.getBoundingClientRect().width;
  probe.remove();
  var room = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [text, room];
})()"""


@pytest.mark.parametrize("graphviz_present", [True, False], ids=["graphviz", "fallback"])
def test_header_has_one_title_and_a_placeholder_that_fits(
        browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, graphviz_present: bool) -> None:
    if graphviz_present and graphviz.dot_path() is None:
        pytest.skip("Graphviz 'dot' missing")
    if not graphviz_present:
        monkeypatch.setattr(graphviz, "dot_path", lambda: None)
    page = tmp_path / "m.html"
    assert main([str(ROOT / "examples/paged_attention/manual.pto"), "-o", str(page)]) == 0
    capsys.readouterr()
    open_page(browser, page)
    title = "manual.pto: entry paged_attention, case CaseSmall1"
    assert browser.evaluate(TITLE_COUNT % json.dumps(title)) == 1
    assert browser.evaluate("document.title") == title
    text, room = browser.evaluate(PLACEHOLDER)
    assert 100 < text <= room, (text, room)
