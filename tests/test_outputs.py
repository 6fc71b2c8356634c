"""Outputs: never renamed over a device or a FIFO, never onto a file the run reads (through
any spelling, symlink or hard link), and an unwritable path fails before the run."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pto_dsl import cli, cli_compile, cli_graph, cli_run, files

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "examples" / "teaching"
Main = Callable[[Sequence[str] | None], int]


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """A copy of the chain example with its kernels and golden, in a temporary directory."""
    for name in ("chain.pto", "teaching_kernels.py", "golden.py"):
        shutil.copy(TEACHING / name, tmp_path)
    return tmp_path / "chain.pto"


def test_a_fifo_is_written_in_place(chain: Path) -> None:
    fifo = chain.parent / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        time.sleep(0.3)  # the reader comes a little after the writer, within the grace
        got.append(fifo.read_bytes())
    reader = threading.Thread(target=read)
    reader.start()
    assert cli_compile.main([str(chain), "-o", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO is still a FIFO"
    assert b"extern \"C\"" in got[0], "its reader got the C++"


def test_a_fifo_without_reader_is_an_error_not_a_hang(
        chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = chain.parent / "out.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert cli_compile.main([str(chain), "-o", str(fifo)]) == 2
    assert time.monotonic() - started < files.FIFO_GRACE_S + 5
    assert "FIFO with no reader" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def _null_device(where: Path) -> Path:
    """A character device node like /dev/null, made in a temporary directory."""
    dev = where / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a character device (mknod) needs root")
    return dev


@pytest.mark.parametrize("tool,option", [(cli_compile.main, "-o"), (cli_graph.main, "-o"),
                                         (cli_run.main, "--trace"),
                                         (cli_run.main, "--stats-json")])
def test_a_character_device_is_written_in_place(chain: Path, tool: Main, option: str) -> None:
    dev = _null_device(chain.parent)
    target = dev.parent / "null.dot" if tool is cli_graph.main else dev
    if target != dev:
        target.symlink_to(dev)  # pto-graph needs an extension; the link names the device
    assert tool([str(chain), option, str(target)]) == 0
    st = os.stat(dev)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in chain.parent.iterdir() if p.name.startswith(".")) == []


def test_a_block_device_is_refused(chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = chain.parent / "blk"
    try:
        os.mknod(dev, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    except PermissionError:
        pytest.skip("making a block device (mknod) needs root")
    assert cli_compile.main([str(chain), "-o", str(dev)]) == 2
    assert "is a block device" in capsys.readouterr().err
    assert stat.S_ISBLK(os.stat(dev).st_mode)


def _spellings(path: Path) -> list[Path]:
    """Other names of one file: a relative spelling with '..', a symlink and a hard link."""
    link, hard = path.with_name("link" + path.suffix), path.with_name("hard" + path.suffix)
    link.symlink_to(path)
    os.link(path, hard)
    odd = path.parent / ".." / path.parent.name / "." / path.name
    return [path, odd, link, hard]


@pytest.mark.parametrize("option", ["--trace", "--stats-json", "--save", "--gantt"])
def test_pto_run_never_writes_onto_a_kernel_module(chain: Path, option: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    module = chain.parent / "teaching_kernels.py"
    before = module.read_bytes()
    for spelling in _spellings(module):
        code = cli_run.main([str(chain), option, str(spelling)])
        err = capsys.readouterr().err
        assert code == 2, err
        if option != "--gantt":  # --gantt refuses a .py name before that
            assert "is a file this run reads" in err, err
        assert module.read_bytes() == before


@pytest.mark.parametrize("tool,option", [(cli_compile.main, "-o"), (cli_graph.main, "-o"),
                                         (cli_run.main, "--trace"), (cli_run.main, "--save")])
def test_no_tool_writes_onto_the_program(chain: Path, tool: Main, option: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    before = chain.read_bytes()
    program = chain.with_suffix(".dot")  # pto-graph takes the format from the extension
    os.link(chain, program)
    for spelling in (program, chain.parent / "." / program.name):
        target = spelling if tool is cli_graph.main else chain
        assert tool([str(chain), option, str(target)]) == 2
        assert "is a file this run reads" in capsys.readouterr().err
    assert chain.read_bytes() == before


def test_pto_compile_never_writes_onto_the_case_generator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = tmp_path / "gen.py"
    gen.write_text("def make():\n    return {'N': 4}\n")
    src = tmp_path / "p.pto"
    src.write_text('kernel K aiv 0 (in x: f32[N])\nentry e(in x: f32[N]) { K(x) }\n'
                   'case G from "gen.py:make"\n')
    before = gen.read_bytes()
    gen_link = tmp_path / "gen_link.py"
    gen_link.symlink_to(gen)
    for target in (gen, gen_link):
        assert cli_compile.main([str(src), "-o", str(target)]) == 2
        assert "is a file this run reads" in capsys.readouterr().err
    assert gen.read_bytes() == before and gen_link.is_symlink()


def test_pto_run_never_writes_onto_its_inputs_file(chain: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    saved = chain.parent / "in.npz"
    assert cli_run.main([str(chain), "--save", str(saved)]) == 0
    before = saved.read_bytes()
    hard = chain.parent / "hard.npz"
    os.link(saved, hard)
    assert cli_run.main([str(chain), "--inputs", str(saved), "--save", str(hard)]) == 2
    assert "is a file this run reads" in capsys.readouterr().err
    assert saved.read_bytes() == before


def test_two_outputs_onto_one_file_are_refused(chain: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = chain.parent / "out.json"
    assert cli_run.main([str(chain), "--trace", str(out), "--stats-json",
                         str(chain.parent / "." / "out.json")]) == 2
    assert "the same file as --stats-json" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--trace", "--stats-json", "--save", "--gantt"])
def test_pto_run_checks_every_output_before_running(
        chain: Path, option: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("the run started")
    monkeypatch.setattr("pto_dsl.sim.run.simulate", never)  # imported when pto-run runs
    blocker = chain.parent / "plain"
    blocker.write_text("a file, not a directory")
    suffix = ".png" if option == "--gantt" else ".json"
    assert cli_run.main([str(chain), option, str(blocker / f"out{suffix}")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pto-run: error: {option} ") and "does not exist" in err
    assert "internal error" not in err


def test_a_failed_late_write_is_a_usage_error_naming_the_path(
        chain: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = chain.parent / "stats.json"
    real_replace = os.replace

    def full(src: str, dst: str) -> None:
        if str(dst).endswith("stats.json"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", full)
    assert cli_run.main([str(chain), "--stats-json", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"pto-run: error: cannot write '{out}': No space left on device" in err
    assert not out.exists() and [p for p in chain.parent.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize("tool,option,name", [
    (cli_compile.main, "-o", "teaching_kernels.py"), (cli_compile.main, "-o", "golden.py"),
    (cli_run.main, "--trace", "golden.py")])
def test_files_the_program_names_are_inputs_even_when_not_loaded(
        chain: Path, tool: Main, option: str, name: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """pto-compile loads no kernel module and pto-run --no-numerics no golden, but they are
    the program's files: refused (before the run), never overwritten."""
    monkeypatch.setattr("pto_dsl.sim.run.simulate", lambda *_: pytest.fail("the run started"))
    target = chain.parent / name
    before = target.read_bytes()
    extra = ["--no-numerics"] if tool is cli_run.main else []
    assert tool([str(chain), option, str(target), *extra]) == 2
    assert "is a file this run reads" in capsys.readouterr().err
    assert target.read_bytes() == before
