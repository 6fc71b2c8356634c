"""Spans into C++ files: the call sites the recorder reports, and the compiler's positions.

Files are read once per process; a file that cannot be read gives no span (the diagnostic
is still printed, without a source line).
"""

from __future__ import annotations

import re
from pathlib import Path

from pto_dsl.source import SourceFile, Span

_loaded: dict[str, SourceFile | None] = {}
_WORD = re.compile(r"[A-Za-z_0-9]+|\S")


def load(name: str, display: str | None = None) -> SourceFile | None:
    """The file at `name` (shown as `display`), read once."""
    if name not in _loaded:
        try:
            text = Path(name).read_text(encoding="utf-8", errors="replace")
            _loaded[name] = SourceFile(display or name, text)
        except OSError:
            _loaded[name] = None
    return _loaded[name]


def register(name: str, source: SourceFile) -> None:
    """Use `source` for the file the compiler calls `name` (the user's own, as given)."""
    _loaded[name] = source


def whole_line(source: SourceFile, line: int) -> Span:
    """A line's text without its indentation (the whole line if it is blank)."""
    line = max(1, min(line, source.line_count))
    text = source.line_text(line)
    start = source.line_start(line)
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    if not stripped:
        return Span(source, start, start + len(text))
    return Span(source, start + lead, start + lead + len(stripped))


def point(source: SourceFile, line: int, col: int) -> Span:
    """The word at a 1-based line and byte column (a character for punctuation)."""
    if not 1 <= line <= source.line_count:
        return whole_line(source, line)
    text = source.line_text(line)
    col = max(1, min(col, len(text) + 1))
    m = _WORD.match(text, col - 1)
    start = source.line_start(line) + col - 1
    return Span(source, start, start + (len(m.group()) if m else 0))
