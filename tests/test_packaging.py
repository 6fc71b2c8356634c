"""Packaging: build the wheel, install it in a fresh venv, run the CLIs outside the repository.

Needs a package index for the build backend and the runtime dependencies. Offline, skip it
explicitly with PTO_DSL_SKIP_PACKAGING=1; without that variable a network failure fails it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "paged_attention" / "manual.pto"
SKIP_VAR = "PTO_DSL_SKIP_PACKAGING"
README_OUTPUT = re.compile(r"^```text\n(.*?)\n```", re.M | re.S)

pytestmark = pytest.mark.skipif(
    os.environ.get(SKIP_VAR) == "1", reason=f"{SKIP_VAR}=1: packaging test skipped on request")

# Tree contents that must not leak into the build (stale build/ output, local caches).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache", ".hypothesis",
    "node_modules", "*.vsix")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _run(cmd: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300, check=False)


def _ok(cmd: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = _run(cmd, cwd)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a clean copy of the source tree."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)
    out = work / "dist"
    _ok([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, src], work)
    wheels = list(out.glob("pto_dsl-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel and its dependencies installed."""
    venv = tmp_path_factory.mktemp("venv")
    _ok([sys.executable, "-m", "venv", venv], venv)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    # --no-compile: byte-compiling every dependency (numpy) took half of this fixture; the
    # modules the tests import are compiled when they are first imported anyway
    _ok([bin_dir / "python", "-m", "pip", "install", "--no-compile", wheel], venv)
    return bin_dir


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the repository holding a copy of one example."""
    work = tmp_path_factory.mktemp("outside")
    shutil.copy(EXAMPLE, work / EXAMPLE.name)
    return work


def test_wheel_holds_only_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        assert "pto_dsl/grammar/pto.lark" in zf.namelist()
        # the HTML page's own layout: ELK with its licence, and the drawing script
        assert {f"pto_dsl/viz/assets/{name}" for name in
                ("elk.bundled.js", "elkjs-LICENSE.md", "layout.js")} <= set(zf.namelist())
    # Only the package and its metadata: no top-level `grammar` (or `backends`) module.
    others = tops - {"pto_dsl"}
    assert len(others) == 1 and others.pop().endswith(".dist-info"), tops


def test_installed_package_is_used_and_ships_the_grammar(venv_bin: Path, outside: Path) -> None:
    code = ("import pto_dsl, pathlib; from importlib import resources; "
            "g = resources.files('pto_dsl.grammar').joinpath('pto.lark'); "
            "print(pathlib.Path(pto_dsl.__file__).resolve()); print(g.is_file()); "
            "print(len(g.read_text('utf-8')))")
    lines = _ok([venv_bin / "python", "-c", code], outside).stdout.splitlines()
    installed = Path(lines[0])
    assert installed.is_relative_to(venv_bin.parent.resolve()), installed
    assert not installed.is_relative_to(ROOT)
    assert lines[1] == "True" and int(lines[2]) > 0


def _compiled_modules() -> list[str]:
    """The modules setup.py compiles with mypyc (its COMPILED list)."""
    tree = ast.parse((ROOT / "setup.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED":
            return [f"pto_dsl.sim.{name}" for name in ast.literal_eval(node.value)]
    raise AssertionError("setup.py has no COMPILED list")


def _can_compile() -> bool:
    """A C compiler and Python's headers: what setup.py needs to compile."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(cc) is not None and headers.is_file()


def test_runtime_model_is_compiled_where_the_build_can(venv_bin: Path, outside: Path) -> None:
    """setup.py compiles the runtime model when the wheel is built with a C compiler;
    without one the same modules install as Python."""
    modules = _compiled_modules()
    code = "; ".join(["import importlib", *(f"print(importlib.import_module('{m}').__file__)"
                                             for m in modules)])
    files = _ok([venv_bin / "python", "-c", code], outside).stdout.split()
    compiled = [not f.endswith(".py") for f in files]
    assert len(files) == len(modules) and compiled == [_can_compile()] * len(modules), files


# Runs of the runtime model that reach its rules: explicit deps in manual scopes, the
# TensorMap and the boundary rule, SPMD and sync-start tasks with early staging on one
# cluster, predicates, the v0 rules (CONSUMED producers linked), heap rebasing, a fatal
# scope deadlock, a model decoder.
_RUNS = [
    ("paged_attention/manual.pto", "--case", "CaseVarSeq4"),
    ("paged_attention/auto.pto", "--case", "CaseVarSeq4", "--tensormap", "boundary"),
    ("corpus/spmd_sync_start_early_dispatch.pto", "--block-dim", "1"),
    ("corpus/predicated_dispatch.pto",),
    ("corpus/dummy_task.pto", "--dialect", "v0"),
    ("corpus/heap_empty_ring_rebase.pto",),
    ("corpus/alternating_matmul_add.pto", "--task-window", "64"),
    ("corpus/qwen3_14b_decode.pto",),
]


def _outputs(out: Path, stdout: str, stderr: str, code: int) -> list[str]:
    """What a run shows: its exit status, its output (without the wall time), and the
    stats and trace it writes."""
    files = [p.read_text("utf-8") if p.exists() else "-" for p in
             (out / "stats.json", out / "trace.json")]
    return [str(code), re.sub(r"wall time .*", "wall time", stdout), stderr, *files]


def test_compiled_runtime_model_runs_as_the_sources(venv_bin: Path, outside: Path,
                                                     tmp_path: Path) -> None:
    """The installed pto-run (its runtime model compiled where the build could) prints and
    writes what the sources do, byte for byte."""
    from pto_dsl.cli_run import main
    from pto_dsl.sim import runtime

    if not runtime.__file__.endswith(".py"):
        pytest.skip("these tests run on a compiled install: no sources to compare with")
    for i, run in enumerate(_RUNS):
        program, *flags = run
        args = [str(ROOT / "examples" / program), "--no-numerics", "-q", *flags]
        installed, sources = tmp_path / f"installed{i}", tmp_path / f"sources{i}"
        found = []
        for out in (installed, sources):
            out.mkdir()
            writes = ["--stats-json", str(out / "stats.json"), "--trace", str(out / "trace.json")]
            if out is installed:
                proc = _run([venv_bin / "pto-run", *args, *writes], outside)
                found.append(_outputs(out, proc.stdout, proc.stderr, proc.returncode))
                continue
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main([*args, *writes])
            found.append(_outputs(out, stdout.getvalue(), stderr.getvalue(), code))
        assert found[0] == found[1], run


def test_pto_check_runs_outside_the_repository(venv_bin: Path, outside: Path) -> None:
    proc = _run([venv_bin / "pto-check", EXAMPLE.name], outside)
    assert proc.returncode == 0, proc.stderr
    assert "case CaseSmall1: 13 tasks," in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    # The README shows this output for the same file under its repository path.
    shown = README_OUTPUT.search((ROOT / "README.md").read_text("utf-8"))
    assert shown is not None, "README.md has no ```text block with pto-check's output"
    assert proc.stdout.rstrip("\n") == shown.group(1).replace(
        str(EXAMPLE.relative_to(ROOT)), EXAMPLE.name), "README.md shows outdated output"


def test_pto_graph_writes_pictures_from_the_wheel(venv_bin: Path, outside: Path) -> None:
    """pto-graph finds its page assets inside the installed package."""
    for name in ("g.html", "g.json"):
        proc = _run([venv_bin / "pto-graph", EXAMPLE.name, "-o", name], outside)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (outside / name).stat().st_size > 1000
    assert "<svg" in (outside / "g.html").read_text("utf-8")
    code = ("from pto_dsl.viz import layout; s = layout.scripts(); "
            "print('function ptoLayout' in s and 'ELK' in s)")
    assert _ok([venv_bin / "python", "-c", code], outside).stdout.strip() == "True"


def test_pto_compile_runs_outside_the_repository(venv_bin: Path, outside: Path) -> None:
    """pto-compile finds its templates and headers inside the installed package."""
    proc = _run([venv_bin / "pto-compile", EXAMPLE.name, "--dialect", "v0", "-o", "pa.cpp"],
                outside)
    assert proc.returncode == 0, proc.stderr
    text = (outside / "pa.cpp").read_text("utf-8")
    assert text.startswith(f"// Generated by pto-compile from {EXAMPLE.name}"), text[:200]
    assert "pto2_rt_submit_aic_task" in text
    head = _run([venv_bin / "pto-compile", EXAMPLE.name, "--emit", "header"], outside)
    assert head.returncode == 0 and "class PTO2ScopeGuard" in head.stdout, head.stderr


def test_pto_run_runs_outside_the_repository(venv_bin: Path, outside: Path) -> None:
    """pto-run loads the kernels and the golden that sit next to the program."""
    for name in ("pa_kernels.py", "golden.py"):
        shutil.copy(EXAMPLE.parent / name, outside / name)
    proc = _run([venv_bin / "pto-run", EXAMPLE.name], outside)
    assert proc.returncode == 0, proc.stderr
    assert "PASS out: max abs error" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_pto_lsp_serves_from_the_wheel(venv_bin: Path, outside: Path) -> None:
    """The installed pto-lsp answers an editor: the example's checks, then a hover."""
    from pto_dsl.lsp.client import Client

    client = Client([str(venv_bin / "pto-lsp")], root=outside)
    try:
        uri = (outside / EXAMPLE.name).as_uri()
        client.open(uri, EXAMPLE.read_text("utf-8"))
        diags, done = client.checked(uri, 1, timeout=60)
        assert (diags, done["outcome"], done["case"]) == ([], "done", "CaseSmall1")
        hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": 8, "character": 8}})
        assert hover["contents"]["value"].startswith("```pto\nkernel QK aic 0")
    finally:
        client.close()
    assert "Traceback" not in client.stderr()
