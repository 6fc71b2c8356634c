"""Golden tests of diagnostics: every `tests/bad/NAME.pto` beside `NAME.err`.

`NAME.err` is what `pto-check [ARGS] NAME.pto` prints on stderr when run in tests/bad,
after a header: an optional `# args: ARGS` line (extra command-line arguments, kept when
the goldens are rewritten) and an `# exit N` line. `pytest --update-golden` rewrites
the `.err` files from the current output; review the diff before committing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pto_dsl.cli import check_main

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad"
CASES = sorted(BAD.glob("*.pto"))

# Codes that no input can make `pto-check` report, with the reason.
NOT_FROM_PTO_CHECK = {
    "E164": "pto-check rejects an unknown --case as a usage error (exit 2) before "
            "instantiating, and checks a program without cases structurally only",
    "E401": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E402": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E403": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E405": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E406": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E407": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "E408": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    **{code: "reported by pto-run only (the simulator; tests/test_sim_*.py), never by pto-check"
       for code in ("E501", "E502", "E503", "E504", "E505", "E506", "E507", "E510", "E511",
                    "E512", "E513")},
    "E404": "only pto-compile rejects it (tests/compile/errors/, tests/test_compile_cli.py)",
    "W811": "reported by pto-run --signature only (tests/test_record_run.py)",
    "E808": "a bug detector: pto-compile --check-roundtrip on a broken backend "
            "(tests/test_record.py breaks it on purpose)",
    "E601": "only pto-graph --diff reads JSON files (tests/test_viz_deps.py covers it)",
    "E602": "only pto-graph --diff reads JSON files (tests/test_viz_deps.py covers it)",
    **{code: "reported by the language server only (tests/test_lsp_*.py)"
       for code in ("E701", "W702", "W703")},
}


@dataclass(frozen=True)
class Golden:
    args: tuple[str, ...]
    exit_code: int
    stderr: str

    @staticmethod
    def load(path: Path) -> Golden:
        text = path.read_text(encoding="utf-8")
        args: tuple[str, ...] = ()
        if text.startswith("# args:"):
            line, _, text = text.partition("\n")
            args = tuple(shlex.split(line.removeprefix("# args:")))
        line, _, stderr = text.partition("\n")
        match = re.fullmatch(r"# exit (\d+)", line)
        return Golden(args, int(match.group(1)) if match else -1, stderr)

    def render(self) -> str:
        head = f"# args: {shlex.join(self.args)}\n" if self.args else ""
        return f"{head}# exit {self.exit_code}\n{self.stderr}"


def golden_args(path: Path) -> tuple[str, ...]:
    err = path.with_suffix(".err")
    return Golden.load(err).args if err.exists() else ()


def run_in_process(path: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.chdir(path.parent)
    code = check_main([*args, path.name])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_input(path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    args = golden_args(path)
    code, out, err = run_in_process(path, args, monkeypatch, capsys)
    actual = Golden(args, code, err)
    err_path = path.with_suffix(".err")
    if update_golden:
        err_path.write_text(actual.render(), encoding="utf-8")
        return
    assert err_path.exists(), f"no {err_path.name}: run pytest --update-golden and review it"
    assert actual.render() == Golden.load(err_path).render()
    assert "Traceback" not in err and "internal error" not in err
    if code == 0:
        assert out.startswith(f"{path.name}: entry "), out


def test_every_golden_has_its_input() -> None:
    orphans = [p.name for p in BAD.glob("*.err") if not p.with_suffix(".pto").exists()]
    assert not orphans


def test_the_corpus_covers_every_code() -> None:
    """Each diagnostic code in pto_dsl/ has at least one bad input that produces it (a .pto
    in tests/bad, or a C++ orchestration in tests/record)."""
    pattern = re.compile(r'"([EW]\d{3})"')
    in_source = {code for path in (ROOT / "pto_dsl").rglob("*.py")
                 for code in pattern.findall(path.read_text(encoding="utf-8"))}
    header = re.compile(r"^\S+:\d+:\d+: (?:error|warning)\[([EW]\d{3})\]", re.M)
    goldens = [*BAD.glob("*.err"), *(ROOT / "tests" / "record").glob("*.err")]  # C++ inputs
    in_goldens = {code for path in goldens
                  for code in header.findall(path.read_text(encoding="utf-8"))}
    missing = in_source - in_goldens - set(NOT_FROM_PTO_CHECK)
    assert not missing, f"no bad input in tests/bad produces: {sorted(missing)}"


def test_several_errors_are_reported_once_each_in_order(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_in_process(BAD / "multiple_errors.pto", (), monkeypatch, capsys)
    heads = re.findall(r"^multiple_errors\.pto:(\d+):(\d+): error\[(E\d+)\]", err, re.M)
    assert code == 1
    assert [c for _, _, c in heads] == ["E101", "E102", "E104", "E112"]
    positions = [(int(line), int(col)) for line, col, _ in heads]
    assert positions == sorted(positions)


# ---- the real console script ------------------------------------------------------------

def _console_script() -> str:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("pto-check", path=search)
    if found is None:
        pytest.skip("the pto-check console script is not installed")
    return found


@pytest.mark.parametrize("name", ["e001_semicolon", "e005_not_utf8", "e151_v0_deps",
                                  "w101_dep_twice"])
def test_console_script(name: str) -> None:
    golden = Golden.load(BAD / f"{name}.err")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([_console_script(), *golden.args, f"{name}.pto"], cwd=BAD, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert Golden(golden.args, done.returncode, done.stderr).render() == golden.render()


# ---- --json -------------------------------------------------------------------------------

def _json(name: str, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]], str]:
    path = BAD / f"{name}.pto"
    code, out, err = run_in_process(path, ("--json", *golden_args(path)), monkeypatch, capsys)
    doc = json.loads(out)
    items = doc["diagnostics"]
    assert isinstance(items, list) and doc["exit_code"] == code
    return code, items, err


def test_json_error_with_located_notes(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, items, err = _json("e140_output_after_scope", monkeypatch, capsys)
    assert code == 1 and err == ""
    [item] = items
    assert item["code"] == "E140" and item["severity"] == "error"
    assert item["message"] == "output 'b' is used after the scope of its task ended"
    assert (item["file"], item["line"], item["col"]) == ("e140_output_after_scope.pto", 7, 7)
    assert (item["end_line"], item["end_col"]) == (7, 10)
    notes = item["notes"]
    assert isinstance(notes, list)
    assert [(n["message"], n["line"], n["col"]) for n in notes] == [
        ("the task is submitted here", 5, 9), ("inside this scope", 4, 5)]
    assert all(n["file"] == "e140_output_after_scope.pto" for n in notes)
    assert item["help"] and isinstance(item["help"], list)


def test_json_syntax_error(monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    code, items, _ = _json("e003_unclosed_block", monkeypatch, capsys)
    assert code == 1
    [item] = items
    assert (item["code"], item["line"], item["col"]) == ("E003", 5, 6)
    assert item["notes"] == [{"message": "this '{' is not closed",
                              "file": "e003_unclosed_block.pto", "line": 2, "col": 23,
                              "end_line": 2, "end_col": 24}]


def test_json_errors_sorted_by_position(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, items, _ = _json("multiple_errors", monkeypatch, capsys)
    assert code == 1
    positions = [(i["line"], i["col"]) for i in items]
    assert [i["code"] for i in items] == ["E101", "E102", "E104", "E112"]
    assert positions == sorted(positions)


def test_json_warning_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, items, err = _json("w102_dep_always_none", monkeypatch, capsys)
    assert code == 0 and err == ""
    assert [(i["code"], i["severity"], i["line"], i["col"]) for i in items] == [
        ("W102", "warning", 4, 26)]
