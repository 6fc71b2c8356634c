"""The C++ front end on hand-written orchestrations: `tests/record/NAME.cpp` beside
`NAME.err`, what `pto-check NAME.cpp ARGS` prints on stderr in tests/record (same header as
tests/bad: `# args: ...`, `# exit N`). Needs g++ (skipped without it, except the test of
what happens without it). `pytest --update-golden` rewrites the goldens.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_diagnostics import Golden

from pto_dsl.cli import check_main

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "record"
CASES = sorted(RECORD.glob("*.cpp"))
needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Build into one cache per test session, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def run(args: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.chdir(RECORD)
    code = check_main(args)
    out, err = capsys.readouterr()
    return code, out, err


@needs_gxx
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden(path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    err_path = path.with_suffix(".err")
    args = Golden.load(err_path).args if err_path.exists() else ("--signature", "sig.pto")
    code, out, err = run([path.name, *args], monkeypatch, capsys)
    actual = Golden(args, code, err)
    if update_golden:
        err_path.write_text(actual.render(), encoding="utf-8")
        return
    assert err_path.exists(), f"no {err_path.name}: run pytest --update-golden and review it"
    assert actual.render() == Golden.load(err_path).render()
    assert "Traceback" not in err and "internal error" not in err
    if code == 0:
        assert out.startswith(f"{path.name}: entry 'tiny': no errors")


@needs_gxx
def test_clean_summary_counts_every_case(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["clean.cpp", "--signature", "sig.pto", "--all-cases"], monkeypatch,
                         capsys)
    assert code == 0 and err == ""
    assert "case two: 4 tasks, 3 dependency pairs," in out
    assert "case three: 6 tasks, 5 dependency pairs," in out
    assert "  2 kernels, 2 submission sites, 1 scope, 2 cases" in out


def test_no_compiler_is_exit_3(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    code, out, err = run(["clean.cpp", "--signature", "sig.pto"], monkeypatch, capsys)
    assert code == 3 and out == ""
    assert "no C++ compiler found (g++)" in err and "apt-get install g++" in err


def test_signature_without_case_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    sig = tmp_path / "nocase.pto"
    sig.write_text("kernel K aiv 0 (in x: f32[N])\nextern entry e(in x: f32[N])\n")
    code, _, err = run(["clean.cpp", "--signature", str(sig)], monkeypatch, capsys)
    assert code == 2 and "declares none" in err


@needs_gxx
def test_build_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pto_dsl import record
    from pto_dsl.dialects import CURRENT
    from pto_dsl.pipeline import read_source
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cpp = tmp_path / "clean.cpp"
    shutil.copy(RECORD / "clean.cpp", cpp)
    first = record.toolchain.build(read_source(cpp), cpp, CURRENT.name)
    again = record.toolchain.build(read_source(cpp), cpp, CURRENT.name)
    assert not first.cached and again.cached and again.executable == first.executable
    cpp.write_text(cpp.read_text() + "\n// changed\n")
    changed = record.toolchain.build(read_source(cpp), cpp, CURRENT.name)
    assert not changed.cached and changed.executable != first.executable
    assert str(tmp_path) in str(first.executable)


@needs_gxx
def test_graph_of_a_cpp_orchestration(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pto_dsl.cli_graph import main as graph_main
    monkeypatch.chdir(RECORD)
    out = tmp_path / "missing_dep.dot"
    code = graph_main(["missing_dep.cpp", "--signature", "sig.pto", "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 1 and "missing_dep.cpp:32:13: error[E201]" in err
    dot = out.read_text()
    assert "PRODUCE #0" in dot and "CONSUME #1" in dot and "race (read after write)" in dot


@needs_gxx
def test_compile_check_roundtrip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pto_dsl.cli_compile import main as compile_main
    example = ROOT / "examples" / "teaching" / "nested_scopes.pto"
    for dialect in ("current", "v0"):
        out = tmp_path / f"nested_{dialect}.cpp"
        assert compile_main([str(example), "--dialect", dialect, "--check-roundtrip",
                             "-o", str(out)]) == 0
        assert out.exists()
    assert "error" not in capsys.readouterr().err  # warnings of the example are its own


@needs_gxx
def test_compile_check_roundtrip_reports_a_mismatch(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """A backend that drops a dep is caught: E808, nothing written."""
    import pto_dsl.cli_compile as cli_compile
    import pto_dsl.codegen.cpp as cpp
    real = cpp.generate

    def broken(*args: object, **kwargs: object) -> str:
        text = real(*args, **kwargs)  # type: ignore[arg-type]
        return text.replace("set_dependencies(", "set_dependencies(nullptr, 0); (void)(", 1)
    monkeypatch.setattr(cpp, "generate", broken)
    out = tmp_path / "d.cpp"
    example = ROOT / "examples" / "teaching" / "diamond_manual.pto"
    assert cli_compile.main([str(example), "--check-roundtrip", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error[E808]: the generated C++, recorded on case" in err and "task 1:" in err
    assert not out.exists()


def test_one_default_timeout() -> None:
    from pto_dsl import cli_record, record
    assert cli_record.DEFAULT_TIMEOUT == record.DEFAULT_TIMEOUT
