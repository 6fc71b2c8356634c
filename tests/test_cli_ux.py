"""What a new user meets at the command line: units as typed, one JSON document per --json
run, several files and stdin, --Werror, colour, `python -m pto_dsl`."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pto_dsl.cli import check_main, use_color
from pto_dsl.cli_run import main as run_main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHAIN = EXAMPLES / "teaching" / "chain.pto"


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(main: Callable[[Sequence[str] | None], int], *args: str | Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("value, message", [
    ("3", "must be a power of 2 MiB (1, 2, 4, 8, ...), got 3"),
    ("0", "must be a power of 2 MiB (1, 2, 4, 8, ...), got 0"),
    ("1.5", "not a number of MiB: '1.5'"),
])
def test_heap_size_is_reported_in_mib(value: str, message: str) -> None:
    r = run(run_main, CHAIN, "--no-numerics", "--heap-mib", value)
    assert r.code == 2
    assert r.err.splitlines()[-1] == f"pto-run: error: argument --heap-mib: {message}"


def test_a_power_of_2_heap_runs() -> None:
    assert run(run_main, CHAIN, "--no-numerics", "--heap-mib", "1").code == 0


# ---- --json: one document ----------------------------------------------------------------

PA = EXAMPLES / "paged_attention"
BROKEN = "kernel K aiv 0 (in a: f32[N], out b: f32[N])\nentry e(in x: f32[N]) {\n    K(x, y)\n}\n"


def _doc(*args: str | Path) -> tuple[int, dict[str, object]]:
    r = run(check_main, "--json", *args)
    doc = json.loads(r.out)  # the whole of stdout is one document
    assert isinstance(doc, dict) and doc["exit_code"] == r.code
    assert doc["tool"] == "pto-check"
    return r.code, doc


def _files(doc: dict[str, object]) -> list[dict[str, object]]:
    files = doc["files"]
    assert isinstance(files, list)
    return files


def test_json_suggest_deps_is_one_document_with_the_suggestions() -> None:
    code, doc = _doc(PA / "manual.pto", "--suggest-deps", "--case", "CaseSmall2")
    assert code == 0 and doc["diagnostics"] == []
    [record] = _files(doc)
    found = record["suggestions"]
    assert isinstance(found, dict)
    assert (found["cases"], found["task_instances"], found["differ"]) == (1, 32, 1)
    subs = found["submissions"]
    assert isinstance(subs, list)
    assert [(s["kernel"], s["line"], s["as_written"]) for s in subs] == [
        ("QK", 52, True), ("SF", 53, True), ("PV", 56, True), ("UP", 58, False)]
    assert subs[1]["deps"] == "dep qk" and subs[3]["written"].startswith("dep sf, pv")


def test_json_summary_is_data() -> None:
    code, doc = _doc(PA / "manual.pto", "--case", "CaseSmall1")
    [record] = _files(doc)
    assert code == 0 and record["status"] == "ok" and record["entry"] == "paged_attention"
    assert (record["kernels"], record["submission_sites"], record["scopes"]) == (4, 5, 1)
    assert record["declared_cases"] == ["CaseSmall1", "CaseSmall2", "CaseVarSeq2",
                                        "CaseVarSeq4", "Case1", "Case2"]
    cases = record["cases"]
    assert isinstance(cases, list) and len(cases) == 1
    small = cases[0]
    assert (small["case"], small["tasks"], small["dependency_pairs"], small["scopes"]) == (
        "CaseSmall1", 13, 16, 1)
    assert small["tasks_per_kernel"] == {"QK": 3, "SF": 3, "PV": 3, "UP": 3, "alloc": 1}
    assert small["pairs_by_origin"] == {"explicit": 16}
    assert small["edge_records"] == {"explicit": 16}
    assert small["tasks_per_ring"] == {"1": 13}
    code, doc = _doc(EXAMPLES / "teaching" / "nested_scopes.pto", "--all-cases")
    assert [c["case"] for c in _files(doc)[0]["cases"]] == ["Small", "Wide"]


def test_json_errors_and_several_files_are_one_document(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pto"
    bad.write_text(BROKEN, encoding="utf-8")
    code, doc = _doc(CHAIN, bad, tmp_path / "missing.pto")
    assert code == 2  # the worst: a file that cannot be read
    assert [(f["file"], f["status"]) for f in _files(doc)] == [
        (str(CHAIN), "ok"), (str(bad), "errors"), (str(tmp_path / "missing.pto"), "usage error")]
    diags = doc["diagnostics"]
    assert isinstance(diags, list) and [d["code"] for d in diags] == ["E101"]
    assert doc["errors"] == 1


@pytest.mark.parametrize("args", [["--all-cases"], ["--suggest-deps"], ["--case", "nope"],
                                  ["--task-window", "3"], ["--case"], ["-", "-"]])
def test_every_json_run_prints_exactly_one_document(args: list[str]) -> None:
    """Clean, usage errors found by the tool, and a command line argparse rejects."""
    r = run(check_main, "--json", EXAMPLES / "teaching" / "nested_scopes.pto", *args)
    doc = json.loads(r.out)
    assert isinstance(doc, dict) and doc["exit_code"] == r.code
    assert r.code == 0 or doc["usage_error"] in r.err


def test_json_of_the_other_tools_is_one_document(tmp_path: Path) -> None:
    from pto_dsl.cli_compile import main as compile_main
    r = run(compile_main, CHAIN, "--json", "-o", tmp_path / "c.cpp")
    doc = json.loads(r.out)
    assert (doc["tool"], doc["exit_code"], doc["diagnostics"]) == ("pto-compile", 0, [])
    r = run(run_main, CHAIN, "--json", "--no-numerics")
    assert json.loads(r.out)["tool"] == "pto-run"


# ---- several files, standard input, --Werror ---------------------------------------------

def test_several_files_are_each_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pto"
    bad.write_text(BROKEN, encoding="utf-8")
    r = run(check_main, CHAIN, bad, PA / "auto.pto")
    assert r.code == 1
    heads = [line for line in r.out.splitlines() if ": entry '" in line]
    assert [h.split(":")[0] for h in heads] == [str(CHAIN), str(PA / "auto.pto")]
    assert f"{bad}:3:10: error[E101]: undefined name 'y'" in r.err


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CHAIN.read_bytes())))
    r = run(check_main, "-")
    assert r.code == 0 and r.out.startswith("<stdin>: entry 'chain': no errors")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BROKEN.encode())))
    r = run(check_main, "-")
    assert r.code == 1 and r.err.startswith("<stdin>:3:10: error[E101]")
    assert run(check_main, "-", "-").code == 2


def test_werror_fails_on_warnings(tmp_path: Path) -> None:
    warned = EXAMPLES.parent / "tests" / "bad" / "w102_dep_always_none.pto"
    assert run(check_main, warned).code == 0
    r = run(check_main, warned, "--Werror")
    assert r.code == 1
    assert r.err.splitlines()[-1] == ("pto-check: error: 1 warning treated as errors "
                                      "(--Werror)")
    assert run(check_main, CHAIN, "--Werror").code == 0
    code, doc = _doc(warned, "--Werror")
    assert code == 1 and doc["werror"] == "1 warning treated as errors"


# ---- colour ------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("env, mode, tty, colour", [
    ({}, "auto", True, True),
    ({}, "auto", False, False),
    ({"NO_COLOR": "1"}, "auto", True, False),
    ({"FORCE_COLOR": "1"}, "auto", False, True),
    ({"FORCE_COLOR": "0"}, "auto", False, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, "auto", True, False),
    ({"TERM": "dumb"}, "auto", True, False),
    ({"NO_COLOR": "1"}, "always", False, True),
    ({"FORCE_COLOR": "1"}, "never", True, False),
])
def test_when_to_colour(env: dict[str, str], mode: str, tty: bool, colour: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert use_color(mode, stream, env) is colour


def test_colour_marks_severity_and_code(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    bad = tmp_path / "bad.pto"
    bad.write_text(BROKEN, encoding="utf-8")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    r = run(check_main, bad)
    assert "\033[1;31merror[E101]:\033[0m undefined name 'y'" in r.err
    assert "\033[1;32m^\033[0m" in r.err
    monkeypatch.delenv("FORCE_COLOR")
    assert "\033[" not in run(check_main, bad).err  # not a terminal


def test_every_tool_reads_standard_input(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    from pto_dsl.cli_compile import main as compile_main
    monkeypatch.chdir(CHAIN.parent)  # where a case generator would be looked for
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CHAIN.read_bytes())))
    out = tmp_path / "chain.cpp"
    assert run(compile_main, "-", "-o", out).code == 0
    assert out.read_text("utf-8").startswith("// Generated by pto-compile from <stdin> ")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CHAIN.read_bytes())))
    r = run(run_main, "-", "--no-numerics")
    assert r.code == 0 and r.out.startswith("<stdin>: entry 'chain'")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CHAIN.read_bytes())))
    from pto_dsl.cli_graph import main as graph_main
    r = run(graph_main, "-", "-o", tmp_path / "chain.dot")
    assert r.code == 0 and "<stdin>: entry chain" in (tmp_path / "chain.dot").read_text("utf-8")


def test_json_of_an_internal_error_is_one_document(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("boom")
    monkeypatch.setattr("pto_dsl.cli_check.CaseSummary.of", broken)
    r = run(check_main, "--json", CHAIN)
    doc = json.loads(r.out)
    assert (r.code, doc["exit_code"], doc["internal_error"]) == (70, 70, "RuntimeError: boom")
    assert "internal error: RuntimeError: boom" in r.err and "Traceback" not in r.err


def test_signature_takes_one_file(tmp_path: Path) -> None:
    r = run(check_main, "a.cpp", "b.cpp", "--signature", "sig.pto")
    assert r.code == 2 and "--signature checks one C++ orchestration" in r.err
