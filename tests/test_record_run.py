"""pto-run on C++ orchestrations (`pto-run ORCH.cpp --signature SIG.pto`): the recorded run
replayed on the runtime model gives what pto-run gives for the program the C++ came from
(the same tasks, edges, TensorMap traffic, ring use, simulated time and numerics)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pto_dsl.cli_run import main as run_main
from pto_dsl.codegen.cpp import generate
from pto_dsl.pipeline import front_end, read_source

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "record"
needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def pto_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_main(args)
    out, err = capsys.readouterr()
    return code, out, err


def body(out: str) -> list[str]:
    """The summary without the file name of its first line and the wall time."""
    lines = out.splitlines()
    return [lines[0].split(": ", 1)[1], *(ln for ln in lines[1:] if "wall time" not in ln)]


def compiled(program: Path, tmp_path: Path, dialect: str = "current") -> Path:
    checked = front_end(read_source(program))
    cpp = tmp_path / (program.stem + ".cpp")
    cpp.write_text(generate(checked.program, dialect, str(program)), encoding="utf-8")
    return cpp


SAME = [("paged_attention/manual.pto", "CaseSmall1", []),
        ("paged_attention/unroll_auto.pto", "Small", []),
        ("corpus/spmd_multiblock_mix.pto", None, []),
        ("corpus/merge_pipeline_barrier.pto", None, []),
        ("teaching/diamond_manual.pto", None, []),
        ("paged_attention/manual.pto", "CaseVarSeq2", ["--no-numerics"])]


@needs_gxx
@pytest.mark.parametrize(("example", "case", "extra"), SAME,
                         ids=[f"{e.split('/')[1][:-4]}-{c}{x}" for e, c, x in SAME])
def test_recorded_run_is_the_programs(example: str, case: str | None, extra: list[str],
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = ROOT / "examples" / example
    cpp = compiled(program, tmp_path)
    options = [*(["--case", case] if case else []), *extra]
    code, expected, err = pto_run([str(program), *options], capsys)
    assert code == 0, err
    code, got, err = pto_run([str(cpp), "--signature", str(program), *options], capsys)
    assert code == 0, err
    assert got.startswith(f"{cpp}: entry ")
    assert body(got) == body(expected)
    if not extra:
        assert "  PASS " in got


DUMMIES = """\
kernel K aiv 0 (in a: f32[N], out b: f32[N])
kernel M aic 1 (in a: f32[N], inout b: f32[N])

entry launches(in x: f32[N], inout y: f32[N]) {
    scope manual {
        let t = K(x, new f32[N]) blocks 4
        let d = dummy(in t.b, inout y) dep t
        M(t.b, y) blocks 2 sync dep d
    }
    M(x, y) blocks 1 sync
}

default case c { N = 8 }
"""


@needs_gxx
def test_kernels_without_impl_need_no_numerics(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A signature whose kernels have no impl: the numerics are refused with the hint,
    and --no-numerics simulates the graph (SPMD launches and a dummy task included)."""
    program = tmp_path / "launches.pto"
    program.write_text(DUMMIES, encoding="utf-8")
    cpp = compiled(program, tmp_path)
    code, out, err = pto_run([str(cpp), "--signature", str(program)], capsys)
    assert code == 1 and out == ""
    assert "error[E503]: none of the 2 kernels this program submits has an impl" in err
    assert "--no-numerics" in err
    code, got, err = pto_run([str(cpp), "--signature", str(program), "--no-numerics"], capsys)
    assert code == 0, err
    assert "case c: 4 tasks (K 1, M 2, dummy 1)" in got
    _, expected, _ = pto_run([str(program), "--no-numerics"], capsys)
    assert body(got) == body(expected)


@needs_gxx
def test_recorded_run_reports_the_cpp_line(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems of the recording itself are the recorder's located errors."""
    monkeypatch.chdir(RECORD)
    code, out, err = pto_run(["crash.cpp", "--signature", "sig.pto", "--no-numerics"], capsys)
    assert code == 1 and out == ""
    assert "crash.cpp:" in err and "error[E803]" in err


def test_explore_is_for_programs(capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RECORD)
    code, _, err = pto_run(["clean.cpp", "--signature", "sig.pto", "--explore", "2"], capsys)
    assert code == 2 and "--explore runs .pto programs" in err


def test_no_compiler_is_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(RECORD)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    code, out, err = pto_run(["clean.cpp", "--signature", "sig.pto", "--no-numerics"], capsys)
    assert code == 3 and out == ""
    assert "no C++ compiler found (g++)" in err


@needs_gxx
def test_a_computed_read_that_differs_is_w811(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """scalar_data reads what a task computes and writes values derived from it: the
    recording saw 0.0 where the simulated kernel computes 2.0, so pto-run says where the
    run it simulates stops being the orchestration's (and the golden of what followed
    fails)."""
    program = ROOT / "examples" / "corpus" / "scalar_data.pto"
    cpp = compiled(program, tmp_path)
    code, out, err = pto_run([str(cpp), "--signature", str(program)], capsys)
    assert code == 1 and "  FAIL check" in out
    assert err.count("warning[W811]") == 1
    assert "got 0.0 in the recording, but 2.0 in the simulation" in err
    assert f"{cpp}:" in err.split("warning[W811]")[0].splitlines()[-1]
    code, _, err = pto_run([str(cpp), "--signature", str(program), "--no-numerics"], capsys)
    assert code == 0 and "W811" not in err  # nothing is computed: nothing to compare
