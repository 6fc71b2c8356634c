"""pto-lsp's requests on the bundled examples, over stdio: hover, definition, references,
outline (kept through a syntax error), completion and the graph page command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pto_dsl.lsp.client import Client

ROOT = Path(__file__).resolve().parent.parent
INFER = ROOT / "examples" / "paged_attention" / "manual_infer.pto"
MANUAL = ROOT / "examples" / "paged_attention" / "manual.pto"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    for path in (INFER, MANUAL):
        c.open(path.as_uri(), path.read_text())
        c.checked(path.as_uri(), 1)
    yield c
    c.close()


def _at(path: Path, line_has: str, word: str) -> dict[str, Any]:
    """The position of `word` (its second character) on the first line containing
    `line_has`."""
    for i, line in enumerate(path.read_text().split("\n")):
        if line_has in line:
            return {"textDocument": {"uri": path.as_uri()},
                    "position": {"line": i, "character": line.index(word) + 1}}
    raise AssertionError(f"no line with {line_has!r}")


def _line(path: Path, line_has: str) -> int:
    return next(i for i, line in enumerate(path.read_text().split("\n")) if line_has in line)


def _hover(client: Client, params: dict[str, Any]) -> str:
    result = client.request("textDocument/hover", params)
    assert result is not None
    text: str = result["contents"]["value"]
    return text


def test_hover_on_a_submission(client: Client) -> None:
    text = _hover(client, _at(INFER, "let up = UP(", "UP("))
    assert text.startswith("```pto\nkernel UP aiv 3 (in mij: f32[M]")
    assert "**submission** in scope manual infer (ring 1)" in text
    assert "deps written: none" in text
    assert "case `CaseSmall1`: 3 instances, ring 1; incoming edges: explicit 9" in text
    # the deps the compiler inferred, as pto-check --suggest-deps prints them
    suggested = subprocess.run(
        [sys.executable, "-c", "import sys; from pto_dsl.cli import check_main; "
         "sys.exit(check_main(sys.argv[1:]))", "--suggest-deps", str(INFER)],
        capture_output=True, text=True, check=True).stdout
    up = next(line for line in suggested.splitlines() if ": UP: " in line)
    assert f"deps inferred: `{up.split(': UP: ')[1]}`" in text


def test_hover_on_names(client: Client) -> None:
    assert _hover(client, _at(MANUAL, "reshape(query", "query")) == \
        "```pto\nin query: bf16[B, H, D]\n```\n\ncase `CaseSmall1`: shape [1, 16, 16]"
    assert _hover(client, _at(MANUAL, "for b in 0 .. B", " B ")) == \
        "(shape symbol) `B`: int\n\ncase `CaseSmall1`: B = 1"
    assert _hover(client, _at(MANUAL, "prev = up", "prev")) == \
        f"(task variable) `prev`: task, may hold UP (line {_line(MANUAL, 'let up = UP') + 1})"
    assert _hover(client, _at(MANUAL, "let sf = SF", "SF")).startswith(
        "```pto\nkernel SF aiv 1")
    kernel = _hover(client, _at(MANUAL, "kernel PV aic", "PV"))
    assert kernel.endswith("submitted at 1 site\n\ncase `CaseSmall1`: 3 tasks")


def test_definition_and_references(client: Client) -> None:
    uri = MANUAL.as_uri()
    where = client.request("textDocument/definition", _at(MANUAL, "let pv = PV(", "PV("))
    assert where == [{"uri": uri, "range": {
        "start": {"line": _line(MANUAL, "kernel PV aic"), "character": 7},
        "end": {"line": _line(MANUAL, "kernel PV aic"), "character": 9}}}]
    params = _at(MANUAL, "prev = up", "prev") | {"context": {"includeDeclaration": True}}
    refs = client.request("textDocument/references", params)
    assert [r["range"]["start"]["line"] for r in refs] == [
        _line(MANUAL, "let prev = none"), _line(MANUAL, "acc when bn == 0, prev"),
        _line(MANUAL, "prev = up")]
    params["context"]["includeDeclaration"] = False
    assert len(client.request("textDocument/references", params)) == 2
    case = _at(MANUAL, "case CaseVarSeq2", "CaseVarSeq2")
    [decl] = client.request("textDocument/definition", case)
    assert decl["range"]["start"] == {"line": _line(MANUAL, "case CaseVarSeq2"),
                                      "character": 5}
    # an entry parameter: its declaration, its uses in the body and in every case
    params = _at(MANUAL, "let nblk = cdiv(cur_seq, BS)", "BS)") | {
        "context": {"includeDeclaration": True}}
    lines = [r["range"]["start"]["line"] for r in
             client.request("textDocument/references", params)]
    assert lines[0] == _line(MANUAL, "in key_cache: bf16[TB, BS, 1, D]")
    assert _line(MANUAL, "default case CaseSmall1") + 1 in lines and len(lines) >= 10


def _outline(client: Client, uri: str) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []

    def walk(symbols: list[dict[str, Any]], depth: int) -> None:
        for s in symbols:
            out.append((depth, s["name"], s.get("detail", "")))
            walk(s.get("children") or [], depth + 1)
    walk(client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}), 0)
    return out


def test_the_outline_and_a_syntax_error_mid_edit(client: Client, tmp_path: Path) -> None:
    uri = (tmp_path / "edit.pto").as_uri()
    text = MANUAL.read_text()
    client.open(uri, text)
    client.checked(uri, 1)
    outline = _outline(client, uri)
    assert outline[:5] == [(0, "QK", "aic kernel"), (0, "SF", "aiv kernel"),
                           (0, "PV", "aic kernel"), (0, "UP", "aiv kernel"),
                           (0, "paged_attention", "entry")]
    assert outline[5:11] == [(1, "scope manual", "ring 1"), (2, "alloc -> acc", "submission"),
                             (2, "QK -> qk", "submission"), (2, "SF -> sf", "submission"),
                             (2, "PV -> pv", "submission"), (2, "UP -> up", "submission")]
    assert outline[11] == (0, "CaseSmall1", "default case") and len(outline) == 17
    broken = text.replace("let pv = PV(", "let pv = PV(,", 1)
    client.change(uri, broken, 2)
    diags, _ = client.checked(uri, 2)
    assert [d["code"] for d in diags] == ["E002"]
    assert _outline(client, uri) == outline


def _labels(client: Client, path: Path, line_has: str, after: str) -> list[str]:
    i = _line(path, line_has)
    line = path.read_text().split("\n")[i]
    params = {"textDocument": {"uri": path.as_uri()},
              "position": {"line": i, "character": line.index(after) + len(after)}}
    return [item["label"] for item in client.request("textDocument/completion",
                                                     params)["items"]]


def test_completion(client: Client) -> None:
    in_dep = _labels(client, MANUAL, "dep sf, pv, acc when bn == 0", "dep ")
    assert in_dep == ["acc", "prev", "pv", "qk", "sf"]  # the task variables visible there
    anywhere = _labels(client, MANUAL, "let qk = QK(", "let qk = ")
    assert {"QK", "SF", "PV", "UP"} <= set(anywhere)
    assert {"scope", "dep", "let", "for"} <= set(anywhere) and "prev" in anywhere
    in_guard = _labels(client, MANUAL, "dep sf, pv, acc when bn == 0", "acc when ")
    assert "QK" in in_guard and "when" in in_guard  # an expression, not a dep item


def test_show_graph_writes_the_html_page(client: Client) -> None:
    result = client.request("workspace/executeCommand", {
        "command": "pto.showGraph", "arguments": [MANUAL.as_uri()]}, timeout=60)
    page = Path(result["path"])
    assert page.name == "manual.CaseSmall1.html" and result["uri"] == page.as_uri()
    assert page.read_text().lstrip().lower().startswith("<!doctype html")
    shown = [r for r in client.server_requests if r["method"] == "window/showDocument"]
    assert shown[-1]["params"] == {"uri": page.as_uri(), "external": True}
