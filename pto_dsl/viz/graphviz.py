"""Running Graphviz's `dot` to turn DOT text into SVG or PNG.

Graphviz is a system package, not a Python one: when `dot` is missing the caller gets a
`GraphvizMissing` that says how to install it, and can still write DOT and HTML.
"""

from __future__ import annotations

import shutil
import subprocess

INSTALL_HINT = ("install Graphviz to render SVG and PNG: `apt-get install graphviz` "
                "(Debian/Ubuntu), `dnf install graphviz` (Fedora), `brew install graphviz` "
                "(macOS); .dot and .html output work without it")
TIMEOUT_S = 600


class GraphvizMissing(Exception):
    pass


class GraphvizFailed(Exception):
    pass


def dot_path() -> str | None:
    return shutil.which("dot")


def render(dot_text: str, fmt: str) -> bytes:
    """`dot -T<fmt>` on the text; fmt is svg or png."""
    exe = dot_path()
    if exe is None:
        raise GraphvizMissing(f"Graphviz's 'dot' program was not found on PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizFailed(f"dot took more than {TIMEOUT_S} s; use --summary always") \
            from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizFailed(f"dot failed (exit {done.returncode}): "
                             f"{message[-1] if message else 'no output'}")
    return done.stdout
