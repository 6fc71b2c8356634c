"""The requests of pto-lsp besides diagnostics: quick fixes, hover, definition, references,
outline, completion, and the command that writes the task graph's HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from pto_dsl.lsp import convert, graph_page, hover, symbols
from pto_dsl.lsp.documents import Document
from pto_dsl.lsp.index import Occurrence
from pto_dsl.lsp.inferred import CODES

if TYPE_CHECKING:
    from pto_dsl.lsp.server import PtoServer

SHOW_GRAPH = "pto.showGraph"


def register(server: PtoServer) -> None:
    server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix]))(code_actions)
    server.feature(lsp.TEXT_DOCUMENT_HOVER)(on_hover)
    server.feature(lsp.TEXT_DOCUMENT_DEFINITION)(definition)
    server.feature(lsp.TEXT_DOCUMENT_REFERENCES)(references)
    server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
    server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(
        trigger_characters=[" ", ","]))(completion)


def code_actions(ls: PtoServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return []
    wanted = params.range
    out = []
    for diag, shown in doc.published:
        if not _overlaps(shown.range, wanted):
            continue
        span = (diag.span.start, diag.span.end) if diag.span else (-1, -1)
        inferred = doc.inferred.get(span) if diag.code in CODES else None
        for fix in diag.fixes + ((inferred,) if inferred else ()):
            out.append(lsp.CodeAction(
                f"{fix.title} ({diag.code})", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[shown], is_preferred=fix is diag.fixes[0] if diag.fixes else False,
                edit=convert.workspace_edit(fix, doc.uri, doc.version)))
    return out


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _occurrence(ls: PtoServer, params: lsp.HoverParams | lsp.DefinitionParams |
                lsp.ReferenceParams) -> tuple[Document, Occurrence] | None:
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or doc.good is None or doc.good.version != doc.version:
        return None  # positions of an older version would point at the wrong text
    occ = doc.good.index.at(convert.offset(doc.source, params.position))
    return (doc, occ) if occ is not None else None


def on_hover(ls: PtoServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _occurrence(ls, params)
    if found is None:
        return None
    doc, occ = found
    assert doc.good is not None
    text = hover.hover(occ, doc.good.program, doc.good.graph)
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text),
                     convert.range_of(occ.span))


def definition(ls: PtoServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    found = _occurrence(ls, params)
    if found is None:
        return []
    doc, occ = found
    return [convert.location(doc.uri, occ.symbol.decl)]


def references(ls: PtoServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = _occurrence(ls, params)
    if found is None:
        return []
    doc, occ = found
    assert doc.good is not None
    decl = occ.symbol.decl
    spans = doc.good.index.references(occ.symbol)
    if decl not in spans:
        spans.insert(0, decl)
    if not params.context.include_declaration:
        spans = [s for s in spans if s != decl]
    return [convert.location(doc.uri, s) for s in spans]


def document_symbols(ls: PtoServer, params: lsp.DocumentSymbolParams
                     ) -> list[lsp.DocumentSymbol]:
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or doc.good is None:
        return []
    return symbols.outline(doc.good.ast)  # the last version that parsed


def completion(ls: PtoServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    doc = ls.documents.get(params.text_document.uri)
    items: list[lsp.CompletionItem] = []
    if doc is not None:
        line = params.position.line + 1
        at = convert.offset(doc.source, params.position)
        before = doc.source.text[doc.source.line_start(min(line, doc.source.line_count)):at]
        good = doc.good
        items = symbols.completions(before, line, good.index if good else None,
                                    good.program if good else None)
    return lsp.CompletionList(is_incomplete=False, items=items)


async def show_graph(ls: PtoServer, uri: str) -> dict[str, str]:
    """Write pto-graph's HTML page of the document's checked case; return its path and URI
    and ask the client to open it."""
    doc = ls.documents.get(uri)
    if doc is None:
        raise ValueError(f"pto.showGraph: no open document {uri!r}")
    case = doc.graph.case if doc.graph and doc.graph.case else ls.settings.case
    page = await graph_page.write(doc.source.name, doc.source.text, case,
                                  ls.settings.time_limit)
    caps = ls.client_capabilities.window
    if caps is not None and caps.show_document is not None and caps.show_document.support:
        ls.window_show_document(lsp.ShowDocumentParams(page.uri, external=True))
    return {"path": page.path, "uri": page.uri}
