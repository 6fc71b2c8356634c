"""Diagnostics: the one error hierarchy and its text and JSON renderings.

Every stage reports problems as `Diagnostic`s; a stage that finds errors raises
`CompileError` carrying all of them, sorted by position.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pto_dsl.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Stage(enum.Enum):
    """Which part of the pipeline found a problem (the error hierarchy)."""

    SYNTAX = "syntax"
    SEMANTIC = "semantic"
    CASE = "case"
    INSTANTIATION = "instantiation"
    VALIDATION = "validation"
    UNSUPPORTED = "unsupported"
    SIMULATION = "simulation"


@dataclass(frozen=True)
class Note:
    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Edit:
    """Replace the text of `span` by `text` (an empty span inserts)."""

    span: Span
    text: str


@dataclass(frozen=True)
class Fix:
    """The change a help line describes, as edits an editor can apply without reading it."""

    title: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    span: Span | None
    notes: tuple[Note, ...] = ()
    help: tuple[str, ...] = ()
    stage: Stage = Stage.SEMANTIC
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, str]:
        if self.span is None:
            return ("", -1, self.code)
        return (self.span.file, self.span.start, self.code)


def error(code: str, message: str, span: Span | None, *, notes: Iterable[Note] = (),
          help: Iterable[str] = (), stage: Stage = Stage.SEMANTIC,
          fixes: Iterable[Fix] = ()) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, tuple(notes), tuple(help), stage,
                      tuple(fixes))


def warning(code: str, message: str, span: Span | None, *, notes: Iterable[Note] = (),
            help: Iterable[str] = (), stage: Stage = Stage.VALIDATION,
            fixes: Iterable[Fix] = ()) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, tuple(notes), tuple(help), stage,
                      tuple(fixes))


class CompileError(Exception):
    """Raised by a stage that found at least one error; carries every diagnostic it found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(first.message if first else "compilation failed")

    def __reduce__(self) -> tuple[type[CompileError], tuple[list[Diagnostic]]]:
        """Pickled with its diagnostics (a worker process raises it to the parent)."""
        return (type(self), (self.diagnostics,))


class DiagnosticSink:
    """Collects the diagnostics of a stage; `raise_if_errors` ends the stage."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, diag: Diagnostic) -> None:
        self.items.append(diag)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise CompileError(self.items)


@dataclass(frozen=True)
class Palette:
    """ANSI styles of the rendered text (all empty: no colour)."""

    error: str = ""
    warning: str = ""
    note: str = ""
    help: str = ""
    location: str = ""
    caret: str = ""
    reset: str = ""

    def paint(self, style: str, text: str) -> str:
        return f"{style}{text}{self.reset}" if style else text


PLAIN = Palette()
# Bold red errors, bold magenta warnings, bold cyan notes, bold locations, green carets:
# the colours of gcc and clang, so they read as a compiler's.
COLOR = Palette(error="\033[1;31m", warning="\033[1;35m", note="\033[1;36m",
                help="\033[1;36m", location="\033[1m", caret="\033[1;32m",
                reset="\033[0m")


def _render_one(diag: Diagnostic, pal: Palette) -> list[str]:
    """One diagnostic the way compilers print it: location, source line, caret run."""
    style = pal.error if diag.is_error else pal.warning
    head = pal.paint(style, f"{diag.severity.value}[{diag.code}]:") + " " + diag.message
    out = [f"{pal.paint(pal.location, f'{diag.span}:')} {head}" if diag.span else head]
    if diag.span:
        out.extend(_excerpt(diag.span, pal))
    for note in diag.notes:
        if note.span:
            out.append(f"{pal.paint(pal.location, f'{note.span}:')} "
                       f"{pal.paint(pal.note, 'note:')} {note.message}")
            out.extend(_excerpt(note.span, pal))
        else:
            out.append(f"  = {pal.paint(pal.note, 'note:')} {note.message}")
    out.extend(f"  = {pal.paint(pal.help, 'help:')} {h}" for h in diag.help)
    return out


# Caret runs longer than this are cut (a span over a long line or many lines).
MAX_CARETS = 80


def _excerpt(span: Span, pal: Palette = PLAIN) -> list[str]:
    """The first source line of a span with a caret run under the spanned part, ending at
    the line's end for a span over several lines, and at most MAX_CARETS long."""
    src = span.source
    line, col = src.line_col(span.start)
    text = src.line_text(line).rstrip("\r").replace("\t", " ")  # CRLF files show no '\r'
    end_line, end_col = src.line_col(max(span.start, span.end - 1))
    width = (end_col - col + 1) if end_line == line else max(1, len(text) - col + 1)
    gutter = f"{line:>5} | "
    caret = " " * (col - 1) + pal.paint(pal.caret, "^" * max(1, min(width, MAX_CARETS)))
    return [gutter + text, " " * (len(gutter) - 2) + "| " + caret]


def render_text(diags: Iterable[Diagnostic], color: bool = False) -> str:
    pal = COLOR if color else PLAIN
    lines = [line for diag in diags for line in _render_one(diag, pal)]
    return "\n".join(lines) + ("\n" if lines else "")


def to_data(diags: Iterable[Diagnostic]) -> list[dict[str, object]]:
    """The diagnostics as JSON-ready data (docs/cli.md, "JSON output")."""
    def loc(span: Span | None) -> dict[str, object]:
        if span is None:
            return {"file": None, "line": None, "col": None, "end_line": None, "end_col": None}
        end_line, end_col = span.source.line_col(max(span.start, span.end - 1))
        return {"file": span.file, "line": span.line, "col": span.col,
                "end_line": end_line, "end_col": end_col + 1}

    items = []
    for d in diags:
        item: dict[str, object] = {"code": d.code, "severity": d.severity.value,
                                   "message": d.message, **loc(d.span)}
        item["notes"] = [{"message": n.message, **loc(n.span)} for n in d.notes]
        item["help"] = list(d.help)
        items.append(item)
    return items


def to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps(to_data(diags), indent=2)
