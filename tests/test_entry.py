"""The console scripts' entry (pto_dsl.entry): Ctrl-C while a tool's modules are still
loading is one line and exit 130, like Ctrl-C while it runs (tests/test_limits.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SLOW_TOOL = """
import os, signal, time
os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while this module loads
time.sleep(5)


def main():
    return 0
"""


def test_ctrl_c_while_a_tool_loads_is_one_line_and_exit_130(tmp_path: Path) -> None:
    (tmp_path / "slow_tool.py").write_text(SLOW_TOOL)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from pto_dsl.entry import load_tool; "
              "sys.exit(load_tool('slow_tool', 'main', 'pto-slow')())")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (130, "\npto-slow: interrupted\n")


def test_the_tool_runs_with_pythons_own_handler_back(tmp_path: Path) -> None:
    """After loading, Ctrl-C is a KeyboardInterrupt again, which each tool catches itself."""
    (tmp_path / "quick_tool.py").write_text(
        "import signal\n\ndef main():\n"
        "    return 0 if signal.getsignal(signal.SIGINT) is signal.default_int_handler else 1\n")
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from pto_dsl.entry import load_tool; "
              "sys.exit(load_tool('quick_tool', 'main', 'pto-quick')())")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_every_script_goes_through_the_entry() -> None:
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    for script in ("pto-check", "pto-compile", "pto-run", "pto-graph"):
        assert f'{script} = "pto_dsl.entry:' in text, script
