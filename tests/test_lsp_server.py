"""pto-lsp driven over stdio by an LSP client, as an editor drives it: diagnostics, quick
fixes, the limits that keep it responsive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pto_dsl.lsp.client import Client

ROOT = Path(__file__).resolve().parent.parent
RACY = """kernel PRODUCE aiv 0 (out y: f32[N])
kernel CONSUME aiv 1 (in x: f32[N], out y: f32[N])
entry main(out result: f32[N]) {
    scope manual {
        let p = PRODUCE(new f32[N])
        CONSUME(p.y, result)
    }
}
case c { N = 64 }
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client(init_options={"timeLimit": 3})
    yield c
    c.close()


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    lines = text.split("\n")

    def offset(pos: dict[str, int]) -> int:
        return sum(len(line) + 1 for line in lines[:pos["line"]]) + pos["character"]
    for e in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        text = text[:offset(e["range"]["start"])] + e["newText"] + \
            text[offset(e["range"]["end"]):]
    return text


def _actions(client: Client, uri: str, diag: dict[str, Any], count: int
             ) -> list[dict[str, Any]]:
    """The code actions on a diagnostic once there are `count` (the inferred clause comes
    after the diagnostics, from the same checking process)."""
    actions: list[dict[str, Any]] = []
    for _ in range(100):
        actions = client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": diag["range"],
            "context": {"diagnostics": [diag]}})
        if len(actions) >= count:
            break
        time.sleep(0.1)
    return actions


def test_a_race_is_reported_with_the_other_task_and_fixed_by_its_quick_fix(
        client: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "racy.pto").as_uri()
    client.open(uri, RACY)
    diags, done = client.checked(uri, 1)
    assert done["outcome"] == "done" and done["case"] == "c"
    [race] = diags
    assert race["code"] == "E201" and race["severity"] == 1
    assert race["range"]["start"] == {"line": 5, "character": 8}
    [other] = race["relatedInformation"]
    assert other["message"] == "'PRODUCE' writes it here"
    assert other["location"]["range"]["start"] == {"line": 4, "character": 8}
    assert 'help: add "dep p"' in race["message"]

    actions = _actions(client, uri, race, 2)
    assert [a["title"] for a in actions] == [
        "add 'dep p' to 'CONSUME' (E201)",
        "write the deps inferred from case c: dep p (E201)"]  # the same here, without a guard
    action = actions[0]
    assert action["kind"] == "quickfix" and action["isPreferred"]
    [change] = action["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": uri, "version": 1}
    fixed = _apply(RACY, change["edits"])
    assert "CONSUME(p.y, result) dep p\n" in fixed
    client.change(uri, fixed, 2)
    diags, _ = client.checked(uri, 2)
    assert diags == []


def test_front_end_errors_come_first_and_alone(client: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "bad.pto").as_uri()
    client.open(uri, RACY.replace("let p = PRODUCE", "let p = PRODUCEE"))
    diags, done = client.checked(uri, 1)
    assert [d["code"] for d in diags] == ["E103"]
    assert done["case"] is None


def test_a_billion_trip_loop_is_stopped_at_the_time_limit(client: Client,
                                                          tmp_path: Path) -> None:
    uri = (tmp_path / "loop.pto").as_uri()
    text = ("kernel K aiv 0 (inout x: f32[N])\nentry main(inout buf: f32[N]) {\n"
            "    for i in 0 .. 99999999 {\n        K(buf)\n    }\n}\n"  # under E176's loop cap
            "default case big { N = 4 }\n")
    start = time.monotonic()
    client.open(uri, text)
    diags, done = client.checked(uri, 1, timeout=15)
    assert done["outcome"] == "timeout"
    assert time.monotonic() - start < 10
    [stop] = diags
    assert stop["code"] == "W703" and "the graph checks did not finish within the time " \
        "limit of 3 s" in stop["message"]
    assert stop["range"]["start"] == {"line": 6, "character": 13}  # the case it checks
    # the server still answers, at once
    start = time.monotonic()
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 3, "character": 9}})
    assert "kernel K aiv 0" in hover["contents"]["value"]
    assert time.monotonic() - start < 2


def test_a_ten_megabyte_file_does_not_hang_the_server(client: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "big.pto").as_uri()
    body = "    K(buf)\n" * (10_000_000 // 11)
    text = ("kernel K aiv 0 (inout x: f32[N])\nentry main(inout buf: f32[N]) {\n" + body +
            "}\ncase c { N = 4 }\n")
    assert len(text) > 10_000_000
    start = time.monotonic()
    client.open(uri, text)
    diags, done = client.checked(uri, 1, timeout=20)
    assert done["outcome"] == "timeout" and time.monotonic() - start < 15
    assert [d["code"] for d in diags] == ["W703"]
    assert "the front end did not finish" in diags[0]["message"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_a_newer_version_cancels_the_running_check(tmp_path: Path) -> None:
    uri = (tmp_path / "edit.pto").as_uri()
    slow = ("kernel K aiv 0 (inout x: f32[N])\nentry main(inout buf: f32[N]) {\n"
            "    for i in 0 .. 99999999 {\n        K(buf)\n    }\n}\ncase c { N = 4 }\n")
    c = Client(init_options={"timeLimit": 30})  # a check that is not cancelled takes 30 s
    try:
        c.open(uri, slow)
        time.sleep(0.5)
        start = time.monotonic()
        c.change(uri, RACY, 2)
        diags, _ = c.checked(uri, 2)
        assert [d["code"] for d in diags] == ["E201"]
        assert time.monotonic() - start < 10  # not after the first version's time limit
        with pytest.raises(TimeoutError):
            c.checked(uri, 1, timeout=0.5)  # version 1 never ends: it was cancelled
    finally:
        c.close()


def test_a_check_that_needs_too_much_memory_is_stopped(tmp_path: Path) -> None:
    small = ("kernel K aiv 0 (in x: f32[N], out y: f32[N])\nentry main(in a: f32[N]) {\n"
             "    for i in 0 .. 4 {\n        K(a, new f32[N])\n    }\n}\ncase c { N = 4 }\n")
    huge = small.replace("0 .. 4 ", "0 .. 100000000 ")  # a task graph of 10^8 tasks
    c = Client(init_options={"timeLimit": 60, "memoryLimitMiB": 300})
    try:
        c.open((tmp_path / "small.pto").as_uri(), small)
        diags, done = c.checked((tmp_path / "small.pto").as_uri(), 1)
        assert (diags, done["outcome"]) == ([], "done")  # the limit leaves room for checks
        c.open((tmp_path / "huge.pto").as_uri(), huge)
        diags, done = c.checked((tmp_path / "huge.pto").as_uri(), 1, timeout=70)
        assert done["outcome"] == "memory"
        [stop] = diags
        assert stop["code"] == "W703" and "needed more than the memory limit of 300 MiB" in \
            stop["message"]
    finally:
        c.close()


def test_a_retention_warning_also_offers_the_inferred_deps_with_their_guards(
        client: Client, tmp_path: Path) -> None:
    manual = (ROOT / "examples" / "paged_attention" / "manual.pto").read_text()
    text = manual.replace("dep sf, pv, acc when bn == 0, prev, acc when bn > 0 and bn == nblk - 1",
                          "dep sf, pv, prev")
    uri = (tmp_path / "retention.pto").as_uri()
    client.open(uri, text)
    [warning], _ = client.checked(uri, 1)
    assert warning["code"] == "W301"
    actions = _actions(client, uri, warning, 2)
    titles = [a["title"] for a in actions]
    assert titles == ["add 'dep acc' to 'UP' (W301)", "write the deps inferred from case "
                      "CaseSmall1: dep acc when bn == nblk - 1, prev, sf, pv (W301)"]
    assert actions[0]["isPreferred"] and not actions[1]["isPreferred"]
    fixed = _apply(text, actions[1]["edit"]["documentChanges"][0]["edits"])
    assert "\n                        dep acc when bn == nblk - 1, prev, sf, pv\n" in fixed
    client.change(uri, fixed, 2)
    diags, _ = client.checked(uri, 2)
    assert diags == []
