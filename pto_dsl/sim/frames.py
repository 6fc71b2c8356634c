"""The user's part of a Python traceback (kernel implementations, goldens) as located notes,
for `pto-run --traceback`: frames of pto-dsl itself, the standard library and installed
packages (numpy...) are left out, so what remains is the user's own code.
"""

from __future__ import annotations

import linecache
import os
import sysconfig
import traceback
from pathlib import Path

from pto_dsl.diagnostics import Note
from pto_dsl.source import SourceFile, Span

_PACKAGE = Path(__file__).resolve().parent.parent


def _hidden_dirs() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    found = {_PACKAGE}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            found.add(Path(paths[key]).resolve())
    return tuple(found)


def _is_user_file(filename: str) -> bool:
    if filename.startswith("<"):  # <string>, <frozen ...>: no file to show
        return False
    path = Path(filename).resolve()
    return not any(path.is_relative_to(d) for d in _hidden_dirs())


def _display(filename: str) -> str:
    try:
        return os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename


def user_frames(exc: BaseException) -> list[Note]:
    """One note per frame of the user's code, outermost first, each located at the
    expression that was running (the raising one last)."""
    notes: list[Note] = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if not _is_user_file(frame.filename) or frame.lineno is None:
            continue
        lines = linecache.getlines(frame.filename)
        if not lines or frame.lineno > len(lines):
            notes.append(Note(f"{_display(frame.filename)}:{frame.lineno}: in {frame.name}"))
            continue
        source = SourceFile(_display(frame.filename), "".join(lines))
        start = sum(len(line) for line in lines[:frame.lineno - 1])
        text = lines[frame.lineno - 1].rstrip("\n")
        col = _chars(text, frame.colno) if frame.colno is not None else \
            len(text) - len(text.lstrip())
        end = _chars(text, frame.end_colno) if frame.end_colno is not None and \
            frame.end_lineno == frame.lineno else len(text)
        notes.append(Note(f"in {frame.name}", Span(source, start + col, start + max(end, col + 1))))
    return notes


def _chars(text: str, byte_offset: int) -> int:
    """A traceback's column (UTF-8 bytes) as a character offset into the line."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
