"""Kernel and golden errors show their cause: `pto-run --traceback` (or PTO_DSL_DEBUG=1)
adds the frames of the user's own files, located, and nothing of pto-dsl or numpy; a
missing impl function is named with the user's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pto_dsl.cli_run import main

KERNELS = """import numpy as np


def helper(x):
    return x + "a"


def acc(x, y):
    y[...] = helper(np.asarray(x))


def good(x, y):
    y[...] = x
"""

PROGRAM = """kernel ACC aiv 0 (in x: f32[N], out y: f32[N]) impl "mm_kernels:IMPL"
entry e(in x: f32[N], out o: f32[N]) {
    let a = ACC(x, o)
}
case c { N = 4 }
"""


def _program(tmp_path: Path, impl: str, golden: str | None = None) -> str:
    (tmp_path / "mm_kernels.py").write_text(KERNELS)
    (tmp_path / "p.pto").write_text(PROGRAM.replace("IMPL", impl))
    if golden is not None:
        (tmp_path / "golden.py").write_text(golden)
    return str(tmp_path / "p.pto")


def test_without_traceback_the_help_says_how(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([_program(tmp_path, "acc")]) == 1
    err = capsys.readouterr().err
    assert "error[E502]: kernel 'ACC' failed: UFuncTypeError" in err
    assert "run with --traceback (or PTO_DSL_DEBUG=1)" in err
    assert "mm_kernels.py" not in err and "Traceback" not in err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_traceback_shows_kernel_frames_only(tmp_path: Path, how: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["p.pto"]
    if how == "flag":
        args.append("--traceback")
    else:
        monkeypatch.setenv("PTO_DSL_DEBUG", "1")
    _program(tmp_path, "acc")
    assert main(args) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    first = lines.index("mm_kernels.py:9:14: note: in acc")
    assert lines[first + 1:first + 6] == [
        "    9 |     y[...] = helper(np.asarray(x))",
        "      |              ^^^^^^^^^^^^^^^^^^^^^",
        "mm_kernels.py:5:12: note: in helper",
        '    5 |     return x + "a"',
        "      |            ^^^^^^^",
    ]
    assert "pto_dsl" not in err and "numpy" not in err.replace("np.asarray", "")
    assert "run with --traceback" not in err


def test_env_zero_means_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PTO_DSL_DEBUG", "0")
    assert main([_program(tmp_path, "acc")]) == 1
    assert "note: in acc" not in capsys.readouterr().err


def test_golden_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _program(tmp_path, "good", "def e(inputs):\n    return {'o': inputs['nope']}\n")
    assert main(["p.pto", "--traceback"]) == 1
    err = capsys.readouterr().err
    assert "error[E505]: the golden failed: KeyError: 'nope'" in err
    assert "golden.py:2:18: note: in e" in err


def test_missing_impl_function_names_the_users_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _program(tmp_path, "accc")
    assert main(["p.pto"]) == 1
    err = capsys.readouterr().err
    assert ("p.pto:1:53: error[E504]: cannot load impl 'mm_kernels:accc' of kernel 'ACC': "
            "'mm_kernels.py' has no function 'accc'") in err
    assert "did you mean 'acc'?" in err and "pto_sim_" not in err
