"""The console scripts' entry points: each imports its tool with Ctrl-C already answered by
one line and exit 130, so an interrupt while the tool's modules load (before the tool's own
handler runs) gives no traceback either, and marks the process a one-shot run
(`perf.one_shot`). Nothing else happens here."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def load_tool(module: str, function: str, prog: str) -> Callable[..., int]:
    """The tool `module.function`, imported while SIGINT ends the process quietly; Python's
    own handler (KeyboardInterrupt, which the tools catch) is back when this returns."""

    def interrupted(signum: int, frame: FrameType | None) -> None:
        sys.stderr.write(f"\n{prog}: interrupted\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    from pto_dsl.perf import one_shot

    one_shot()
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        tool: Callable[..., int] = getattr(importlib.import_module(module), function)
    finally:
        signal.signal(signal.SIGINT, previous)
    return tool


def check() -> int:
    return load_tool("pto_dsl.cli", "check_main", "pto-check")()


def compile_() -> int:
    return load_tool("pto_dsl.cli_compile", "main", "pto-compile")()


def graph() -> int:
    return load_tool("pto_dsl.cli_graph", "main", "pto-graph")()


def run() -> int:
    return load_tool("pto_dsl.cli_run", "main", "pto-run")()
