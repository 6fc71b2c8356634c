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

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
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
    browser.send("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")


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
