"""The `pto.showGraph` command: pto-graph's HTML page of a document's case, written by a
pto-graph process (bounded by the time limit) into a per-user temporary folder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pto_dsl.files import write_atomic

_RUN = "import sys; from pto_dsl.cli_graph import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class Page:
    path: str
    uri: str


def folder() -> Path:
    path = Path(tempfile.gettempdir()) / f"pto-lsp-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


async def write(name: str, text: str, case: str | None, time_limit: float) -> Page:
    """Draw the buffer as it is: the file itself when it is saved, else a copy of the buffer
    (next to which relative case generators are not found)."""
    program = Path(name)
    if not _saved(program, text):
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        program = folder() / digest / program.name
        program.parent.mkdir(exist_ok=True)
        write_atomic(program, text)
    out = folder() / f"{program.stem}.{case or 'default'}.html"
    argv = [sys.executable, "-c", _RUN, str(program), "-o", str(out)]
    if case:
        argv += ["--case", case]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=max(time_limit, 1.0) * 3)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"pto-graph did not finish within {max(time_limit, 1.0) * 3:g} s")\
            from None
    if proc.returncode != 0:
        raise RuntimeError("pto-graph failed: " + err.decode(errors="replace").strip())
    return Page(str(out), out.as_uri())


def _saved(path: Path, text: str) -> bool:
    try:
        return path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
