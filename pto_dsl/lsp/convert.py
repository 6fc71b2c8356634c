"""Spans, diagnostics and fixes of the pipeline as LSP values (positions in UTF-16 units)."""

from __future__ import annotations

from lsprotocol import types as lsp

from pto_dsl.diagnostics import Diagnostic, Fix, Severity
from pto_dsl.source import SourceFile, Span

SOURCE = "pto-dsl"


def position(source: SourceFile, offset: int) -> lsp.Position:
    line, col = source.line_col(min(offset, len(source.text)))
    start = offset - (col - 1)
    prefix = source.text[start:offset]
    units = len(prefix) if prefix.isascii() else len(prefix.encode("utf-16-le")) // 2
    return lsp.Position(line - 1, units)


def offset(source: SourceFile, pos: lsp.Position) -> int:
    """The character offset of an LSP position (clamped to the text)."""
    line = min(max(pos.line, 0), source.line_count - 1) + 1
    text = source.line_text(line)
    start = source.line_start(line)
    if text.isascii():
        return start + min(pos.character, len(text))
    units = 0
    for i, ch in enumerate(text):
        if units >= pos.character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(text)


def range_of(span: Span) -> lsp.Range:
    return lsp.Range(position(span.source, span.start), position(span.source, span.end))


def location(uri: str, span: Span) -> lsp.Location:
    return lsp.Location(uri, range_of(span))


def diagnostic(diag: Diagnostic, uri: str, source: SourceFile) -> lsp.Diagnostic:
    """The diagnostic as an editor shows it: notes with a place become related information
    (the other task of a race), the rest and the help lines follow the message."""
    span = diag.span if diag.span is not None and diag.span.file == source.name else \
        Span(source, 0, 0)
    lines = [diag.message]
    related = []
    for note in diag.notes:
        if note.span is not None and note.span.file == source.name:
            related.append(lsp.DiagnosticRelatedInformation(location(uri, note.span),
                                                            note.message))
        else:
            lines.append(f"note: {note.message}")
    lines.extend(f"help: {h}" for h in diag.help)
    severity = (lsp.DiagnosticSeverity.Error if diag.severity is Severity.ERROR
                else lsp.DiagnosticSeverity.Warning)
    return lsp.Diagnostic(range_of(span), "\n".join(lines), severity=severity, code=diag.code,
                          source=SOURCE, related_information=related or None)


def workspace_edit(fix: Fix, uri: str, version: int) -> lsp.WorkspaceEdit:
    edits: list[lsp.TextEdit | lsp.AnnotatedTextEdit | lsp.SnippetTextEdit] = [
        lsp.TextEdit(range_of(e.span), e.text) for e in fix.edits]
    doc = lsp.OptionalVersionedTextDocumentIdentifier(uri, version)
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(doc, edits)])
