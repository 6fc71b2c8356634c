"""Where a value sits in JSON text, for diagnostics about a JSON file.

`json` parses without positions; `locate` walks the text to the value at a path of keys
and indices, decoding only the values it steps over. Only called when reporting an
error, so a walk over a large file is acceptable.
"""

from __future__ import annotations

import json
import re

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()

Path = tuple[str | int, ...]


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _next_item(text: str, pos: int) -> int:
    """Past a value and its separator, at the next item or the closing bracket."""
    _, end = _DECODER.raw_decode(text, pos)
    pos = _skip(text, end)
    return _skip(text, pos + 1) if text.startswith(",", pos) else pos


def _member(text: str, pos: int, key: str) -> int | None:
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] == '"':
        name, end = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, end) + 1)  # past the ':'
        if name == key:
            return pos
        pos = _next_item(text, pos)
    return None


def _element(text: str, pos: int, index: int) -> int | None:
    pos = _skip(text, pos + 1)
    for _ in range(index):
        if pos >= len(text) or text[pos] == "]":
            return None
        pos = _next_item(text, pos)
    return None if pos >= len(text) or text[pos] == "]" else pos


def locate(text: str, path: Path) -> tuple[int, int]:
    """[start, end) of the value at `path` in valid JSON text, cut at its first line end;
    the deepest value found if the path leads nowhere."""
    pos = _skip(text, 0)
    for step in path:
        opener = "{" if isinstance(step, str) else "["
        if not text.startswith(opener, pos):
            break
        found = _member(text, pos, step) if isinstance(step, str) else \
            _element(text, pos, step)
        if found is None:
            break
        pos = found
    try:
        _, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        end = pos + 1
    line_end = text.find("\n", pos)
    return pos, max(pos + 1, min(end, line_end) if line_end != -1 else end)
