"""The VS Code extension (editors/vscode): its grammar against the language, and its npm tests
(grammar snapshots and scope assertions) and .vsix build when npm and its packages are here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pto_dsl.build import KEYWORDS
from pto_dsl.cli import check_main

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "pto.tmLanguage.json"


def _npm_ready() -> str | None:
    """Why the npm tests cannot run here, or None."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "npm/node are not installed"
    if not (EXTENSION / "node_modules" / ".bin" / "vscode-tmgrammar-test").exists():
        return "the extension's packages are not installed (npm ci in editors/vscode)"
    return None


def test_the_grammar_knows_every_keyword() -> None:
    text = GRAMMAR.read_text()
    json.loads(text)
    words = set(re.findall(r"[a-z_]+", " ".join(re.findall(r"\\\\b\(([a-z_|]+)\)", text))))
    assert sorted(KEYWORDS - words) == []


def test_the_constructs_file_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["--all-cases", str(EXTENSION / "test" / "snap" / "constructs.pto")]) == 0


@pytest.mark.skipif(_npm_ready() is not None, reason=str(_npm_ready()))
def test_npm_grammar_tests() -> None:
    result = subprocess.run(["npm", "test", "--silent"], cwd=EXTENSION, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"grammar: \d+ passed, 0 failed", result.stdout)


@pytest.mark.skipif(_npm_ready() is not None, reason=str(_npm_ready()))
def test_the_vsix_builds(tmp_path: Path) -> None:
    out = tmp_path / "pto-dsl.vsix"
    result = subprocess.run(
        [str(EXTENSION / "node_modules" / ".bin" / "vsce"), "package", "--skip-license",
         "--allow-missing-repository", "-o", str(out)],
        cwd=EXTENSION, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    names = set(zipfile.ZipFile(out).namelist())
    assert {"extension/package.json", "extension/extension.js", "extension/detect.js",
            "extension/syntaxes/pto.tmLanguage.json",
            "extension/language-configuration.json"} <= names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not any(n.startswith(("extension/test/", "extension/e2e/")) for n in names)
