"""pto-lsp in real editors, configured as docs/editor.md says, on a racy copy of a bundled
example: each editor's own LSP client gets E201 with its related location, offers the quick
fixes, applies the first and sees the race go. Neovim runs headless with the docs' init.lua,
Emacs in batch mode with the docs' eglot set-up, VS Code (code-server, with the extension's
.vsix) in headless Chromium. Skipped, with the reason, where the editor is not installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "editor.md"
EXAMPLE = ROOT / "examples" / "teaching" / "diamond_manual.pto"
VSCODE = ROOT / "editors" / "vscode"
E2E = VSCODE / "e2e"
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
        return "nvim is not installed (Neovim 0.10 or newer is needed)"
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


def _emacs_missing() -> str | None:
    """Why the Emacs test cannot run here, or None."""
    emacs = shutil.which("emacs")
    if emacs is None:
        return "emacs is not installed"
    first = subprocess.run([emacs, "--version"], capture_output=True, text=True,
                           timeout=30).stdout.split("\n", 1)[0]
    found = re.match(r"GNU Emacs (\d+)", first)
    if found is None or int(found[1]) < 29:
        return f"the docs' snippet needs Emacs 29 or newer (eglot), this is {first.strip()!r}"
    return None


@pytest.mark.skipif(_emacs_missing() is not None, reason=str(_emacs_missing()))
def test_emacs_with_the_docs_snippet_fixes_a_race(tmp_path: Path) -> None:
    init = tmp_path / "init.el"
    init.write_text(doc_block("Emacs", "elisp"))
    racy = racy_copy(tmp_path)
    mlir = tmp_path / "kernel.pto"
    mlir.write_text(MLIR)
    result = tmp_path / "result.json"
    env = _editor_env(tmp_path) | {
        "HOME": str(tmp_path), "PTO_RACY": str(racy), "PTO_MLIR": str(mlir),
        "PTO_RESULT": str(result)}
    run = subprocess.run(
        ["emacs", "--batch", "-Q", "-l", str(init),
         "-l", str(ROOT / "tests" / "editors" / "emacs.el")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)
    assert result.exists(), run.stdout + run.stderr
    seen: dict[str, Any] = json.loads(result.read_text())
    assert seen["error"] is None, seen
    assert (seen["mlir_mode"], seen["mode"]) == ("fundamental-mode", "pto-mode")
    assert (seen["line"], seen["column"]) == (20, 8)
    assert seen["text"].startswith("pto-dsl [E201]: race (read after write): 'JOIN' reads 'r'")
    assert 'help: add "dep right"' in seen["text"]
    [related] = seen["related"]
    assert related["message"] == "'RIGHT' writes it here"
    assert related["location"]["uri"] == racy.as_uri()
    assert related["location"]["range"]["start"] == {"line": 18, "character": 8}
    assert seen["actions"] == [
        "add 'dep right' to 'JOIN' (E201)",
        "write the deps inferred from case Small: dep left, right (E201)"]
    assert seen["cleared"] is True
    assert seen["fixed_line"].split()[-3:] == ["dep", "left,", "right"]


def _vscode_missing() -> str | None:
    """Why the VS Code test cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (E2E / "node_modules" / ".bin" / "code-server").exists():
        return "no VS Code here: editors/vscode/e2e/install.sh installs code-server"
    if not (VSCODE / "node_modules" / ".bin" / "vsce").exists():
        return "the extension's packages are not installed (npm ci in editors/vscode)"
    if shutil.which("chromium") is None:
        return "chromium is not installed"
    return None


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A code-server with the extension's .vsix installed and pto-lsp set to this Python's
    (pto.server.command); its address."""
    home = tmp_path_factory.mktemp("vscode")
    vsix = home / "pto-dsl.vsix"
    subprocess.run([str(VSCODE / "node_modules" / ".bin" / "vsce"), "package",
                    "--skip-license", "--allow-missing-repository", "-o", str(vsix)],
                   cwd=VSCODE, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        ["node", str(E2E / "run.js"), "--serve", "--vsix", str(vsix), "--home", str(home),
         "--server", json.dumps([sys.executable, "-m", "pto_dsl.lsp"])],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        stdin=subprocess.DEVNULL)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://"), "code-server did not start"
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.skipif(_vscode_missing() is not None, reason=str(_vscode_missing()))
def test_vscode_with_the_extension_fixes_a_race(code_server: str, tmp_path: Path) -> None:
    racy = racy_copy(tmp_path)
    run = subprocess.run(["node", str(E2E / "run.js"), "--url", code_server, "--file",
                          str(racy)], capture_output=True, text=True, timeout=120,
                         stdin=subprocess.DEVNULL)
    seen: dict[str, Any] = json.loads(run.stdout)
    assert seen["error"] is None, seen["error"]
    assert "PTO orchestration (pto-dsl)" in seen["language"]
    problems = seen["problems"].split("\n")
    assert problems[2].startswith("race (read after write): 'JOIN' reads 'r'")
    assert problems[3:6] == ["pto-dsl", "E201", "[Ln 20, Col 9]"]
    assert problems[-3:] == ["[Ln 19, Col 9]", ":", "'RIGHT' writes it here"]
    assert seen["menu"].split("\n") == [
        "Quick Fix", "add 'dep right' to 'JOIN' (E201)",
        "write the deps inferred from case Small: dep left, right (E201)"]
    assert seen["problems_after"] == "No problems have been detected in the workspace."
    [join] = [line for line in seen["lines_after"] if "JOIN(" in line]
    assert join.split()[-3:] == ["dep", "left,", "right"]
