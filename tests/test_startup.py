"""Start-up stays light: the command-line tools import the pipeline, numpy, networkx, jinja2
and lark only when they run, so --version and --help answer at once, and a pto-check or
pto-run of a small case imports neither networkx (no tool uses it) nor jinja2 (only
pto-compile's code generation), and --version does not even build the AST and IR classes.
Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("networkx", "numpy", "jinja2", "lark", "matplotlib", "pto_dsl.ir")  # + the IR's classes
TOOLS = {"pto-check": "pto_dsl.cli:check_main", "pto-run": "pto_dsl.cli_run:main",
         "pto-graph": "pto_dsl.cli_graph:main", "pto-compile": "pto_dsl.cli_compile:main"}


def _imported(entry: str, *runs: list[str], modules: tuple[str, ...] = HEAVY) -> list[str]:
    """The heavy packages (or other `modules`) a fresh interpreter holds after running the
    tool's main on each argument list in turn (exits and output swallowed)."""
    module, func = entry.split(":")
    script = f"""
import contextlib, io, json, sys
from {module} import {func} as main
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", script, json.dumps(runs)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_version_and_help_import_nothing_heavy(tool: str) -> None:
    assert _imported(TOOLS[tool], ["--version"], ["--help"]) == []


def test_a_small_check_and_run_need_only_lark_and_numpy() -> None:
    manual = "examples/paged_attention/manual.pto"
    assert _imported(TOOLS["pto-check"], [manual]) == ["lark", "numpy", "pto_dsl.ir"]
    assert _imported(TOOLS["pto-run"], [manual, "--case", "CaseSmall2"]) == [
        "lark", "numpy", "pto_dsl.ir"]


def test_a_run_without_numerics_loads_no_golden_inputs_or_graph_checks() -> None:
    manual = "examples/paged_attention/manual.pto"
    modules = ("pto_dsl.sim.golden", "pto_dsl.sim.inputs", "pto_dsl.safety")
    assert _imported(TOOLS["pto-run"], [manual, "--case", "CaseSmall2", "--no-numerics"],
                     modules=modules) == []
    assert _imported(TOOLS["pto-run"], [manual, "--case", "CaseSmall2"],
                     modules=modules) == ["pto_dsl.sim.golden"]


def test_pto_compile_loads_jinja2_when_it_generates() -> None:
    assert "jinja2" in _imported(TOOLS["pto-compile"], ["examples/teaching/chain.pto"])


def test_whole_process_figures() -> None:
    import runpy

    helpers = runpy.run_path(str(ROOT / "bench" / "wholeproc.py"))
    figures = helpers["measure"]([sys.executable, "-c", "print('hi')"], 2, warmup=0)
    assert len(figures.samples) == 2 and figures.samples[0].output == "hi\n"
    assert 0 < figures.wall_min <= figures.wall_median and figures.peak_mib > 1
