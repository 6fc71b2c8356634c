"""Never hang: the task limit, loops bounded before they run, E202 as soon as a scope reaches
the window, progress output for long stages, and Ctrl-C as one line with exit 130."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pto_dsl import cli, cli_compile, cli_graph, cli_run, progress

Main = Callable[[Sequence[str] | None], int]
TOOLS: list[tuple[str, Main, tuple[str, ...]]] = [
    ("pto-check", cli.check_main, ()), ("pto-compile", cli_compile.main, ()),
    ("pto-graph", cli_graph.main, ("-o", "OUT.dot")),
    ("pto-run", cli_run.main, ("--no-numerics",))]

LOOP = """kernel K aiv 0 (inout x: f32[4])
entry e(inout buf: f32[4], n: i64) {
    for i in 0 .. n { K(buf) }
}
default case C { n = %d }
"""


def _argv(extra: tuple[str, ...], tmp_path: Path, program: Path) -> list[str]:
    return [str(program), *(str(tmp_path / a) if a == "OUT.dot" else a for a in extra)]


@pytest.mark.parametrize("name,tool,extra", TOOLS, ids=[t[0] for t in TOOLS])
def test_a_loop_of_two_to_the_32_stops_at_once(name: str, tool: Main, extra: tuple[str, ...],
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / "huge.pto"
    program.write_text(LOOP % 4294967295)
    started = time.perf_counter()
    assert tool(_argv(extra, tmp_path, program)) == 1
    err = capsys.readouterr().err
    assert "huge.pto:3:5: error[E176]: this loop runs 4294967295 iterations" in err
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("name,tool,extra", TOOLS, ids=[t[0] for t in TOOLS])
def test_the_task_limit_applies_in_every_tool(name: str, tool: Main, extra: tuple[str, ...],
                                              tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / "many.pto"
    program.write_text(LOOP % 3000)
    assert tool([*_argv(extra, tmp_path, program), "--max-tasks", "1000"]) == 1
    err = capsys.readouterr().err
    assert "many.pto:3:23: error[E176]: this submission makes task number 1001, above the " \
           "limit of 1000 tasks" in err
    assert "iteration i=1000" in err
    assert tool([*_argv(extra, tmp_path, program), "--max-tasks", "3000"]) in (0, 1)
    assert "E176" not in capsys.readouterr().err


def test_max_tasks_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.check_main(["x.pto", "--max-tasks", "0"])
    assert "not a positive number: '0'" in capsys.readouterr().err


@pytest.mark.parametrize("name,tool,extra", TOOLS[:3], ids=[t[0] for t in TOOLS[:3]])
def test_e202_as_soon_as_a_scope_reaches_the_window(name: str, tool: Main,
                                                    extra: tuple[str, ...], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """10^8 tasks in one scope: the graph tools stop at the window's 16384th task."""
    program = tmp_path / "scope.pto"
    program.write_text(LOOP.replace("for i in 0 .. n { K(buf) }",
                                    "scope { for i in 0 .. n { K(buf) } }") % 100_000_000)
    started = time.perf_counter()
    assert tool([*_argv(extra, tmp_path, program), "--max-tasks", "10000000"]) == 1
    err = capsys.readouterr().err
    assert "error[E202]: this scope holds at least 16384 tasks" in err
    assert time.perf_counter() - started < 15


# ---- progress -------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_modes() -> None:
    assert progress.choose(quiet=True, stream=_Tty()) == "off"
    assert progress.choose(quiet=False, stream=_Tty()) == "bar"
    assert progress.choose(quiet=False, stream=io.StringIO()) == "lines"


def test_quick_stages_print_nothing() -> None:
    out = io.StringIO()
    with progress.Progress("pto-x", "lines", out).stage("instantiate") as update:
        update(10)
    assert out.getvalue() == ""


def test_a_long_stage_prints_a_line_when_long_and_at_its_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "LONG_S", 0.0)
    out = io.StringIO()
    with progress.Progress("pto-x", "lines", out).stage("check cases", 3, "case") as update:
        update(1)
        update(2)
        update(3)
    lines = out.getvalue().splitlines()
    assert lines[0] == "pto-x: check cases: 1 of 3 cases so far..."
    assert lines[1].startswith("pto-x: check cases: 3 cases in ") and "cases/s" in lines[1]
    assert len(lines) == 2


def test_the_bar_shows_stage_count_rate_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "LONG_S", 0.0)
    monkeypatch.setattr(progress, "REFRESH_S", 0.0)
    out = _Tty()
    with progress.Progress("pto-x", "bar", out).stage("check cases", 4, "case") as update:
        for done in range(1, 5):
            update(done)
    text = out.getvalue()
    assert "pto-x: check cases" in text and "4/4" in text and "cases/s" in text
    assert "<" in text  # tqdm's elapsed<remaining (the ETA)


def test_pto_check_all_cases_reports_long_stages(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(progress, "LONG_S", 0.0)
    program = tmp_path / "two.pto"
    program.write_text((LOOP % 5000) + "case D { n = 10 }\n")
    assert cli.check_main([str(program), "--all-cases", "--jobs", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("pto-check: instantiate case C: 5000 tasks in ") for line in err)
    assert err[-1].startswith("pto-check: check cases: 2 cases in ")
    # worker processes show only the count of cases done (their lines would interleave)
    assert cli.check_main([str(program), "--all-cases", "--jobs", "2"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("pto-check: check cases: 2 cases in ")
    assert cli.check_main([str(program), "--all-cases", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_pto_run_reports_a_long_run(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setattr(progress, "LONG_S", 0.0)
    program = tmp_path / "run.pto"
    program.write_text(LOOP.replace("for i in 0 .. n { K(buf) }", "for j in 0 .. 20 { "
                                    "scope { for i in 0 .. n { K(buf) } } }") % 1000)
    assert cli_run.main([str(program), "--no-numerics"]) == 0
    err = capsys.readouterr().err
    assert "pto-run: run case default: 16384 tasks so far..." in err
    assert "pto-run: run case default: 20000 tasks in " in err  # the final count
    assert cli_run.main([str(program), "--no-numerics", "-q"]) == 0
    assert capsys.readouterr().err == ""


# ---- Ctrl-C ---------------------------------------------------------------------------

def _wait_for_cpu(proc: subprocess.Popen[str], seconds: float) -> None:
    """Until the process has used `seconds` of CPU time (robust on a loaded machine)."""
    stat_file = Path(f"/proc/{proc.pid}/stat")
    if not stat_file.exists():
        time.sleep(seconds * 3)
        return
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        fields = stat_file.read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.1)


def _script(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.parametrize("name,extra", [(t[0], t[2]) for t in TOOLS], ids=[t[0] for t in TOOLS])
def test_ctrl_c_is_one_line_and_exit_130(name: str, extra: tuple[str, ...],
                                         tmp_path: Path) -> None:
    program = tmp_path / "spin.pto"
    program.write_text(LOOP.replace("for i in 0 .. n { K(buf) }",
                                    "for i in 0 .. n { let j = i }\n    K(buf)") % 99_999_999)
    proc = subprocess.Popen([_script(name), *_argv(extra, tmp_path, program), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_cpu(proc, 2.0)  # past the imports (~0.5 s), inside the 10^8-iteration loop
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip() == f"{name}: interrupted"
    assert "Traceback" not in err


def test_dependency_inference_obeys_the_task_limit(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`scope manual infer` instantiates every case inside the front end: bounded too."""
    program = tmp_path / "infer.pto"
    program.write_text(LOOP.replace("for i in 0 .. n { K(buf) }",
                                    "scope manual infer { for i in 0 .. n { K(buf) } }") % 5000)
    started = time.perf_counter()
    assert cli.check_main([str(program), "--max-tasks", "1000"]) == 1
    assert "error[E176]: this submission makes task number 1001" in capsys.readouterr().err
    assert time.perf_counter() - started < 10


def test_a_terminal_gets_a_bar_even_without_a_size(tmp_path: Path) -> None:
    """On a pseudo-terminal that reports no size (as under `script` or CI), the bar is drawn
    80 columns wide rather than hidden."""
    import pty
    program = tmp_path / "bar.pto"
    # 300,000 tasks: instantiating them takes well over the second before a bar is drawn
    program.write_text(LOOP.replace("for i in 0 .. n { K(buf) }", "for j in 0 .. 300 { "
                                    "scope { for i in 0 .. n { K(buf) } } }") % 1000)
    master, slave = pty.openpty()
    proc = subprocess.Popen([_script("pto-check"), str(program)], stdout=subprocess.DEVNULL,
                            stderr=slave, stdin=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(60) == 0
    assert b"\rpto-check: instantiate case C: " in shown and b" tasks/s]" in shown, shown
