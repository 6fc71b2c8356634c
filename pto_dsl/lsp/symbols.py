"""The outline (kernels, the entry with its scopes and submissions, cases) from the AST, and
completion items (kernel names, task variables in a dep clause, keywords, names)."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from pto_dsl import ir, nodes
from pto_dsl.build import KEYWORDS
from pto_dsl.instantiate import MAX_RING
from pto_dsl.lsp.convert import range_of
from pto_dsl.lsp.index import Index
from pto_dsl.source import Span

K = lsp.SymbolKind


def outline(ast: nodes.Program) -> list[lsp.DocumentSymbol]:
    out = [_symbol(k.name.name, f"{k.core} kernel", K.Function, k.span, k.name.span)
           for k in ast.kernels]
    kernels = frozenset(k.name.name for k in ast.kernels)
    for entry in ast.entries:
        sym = _symbol(entry.name.name, "entry", K.Module, entry.span, entry.name.span)
        sym.children = _block(entry.body, kernels, 1)
        out.append(sym)
    out.extend(_symbol(c.name.name, "default case" if c.default else "case", K.Struct, c.span,
                       c.name.span) for c in ast.cases)
    return sorted(out, key=lambda s: (s.range.start.line, s.range.start.character))


def _block(block: nodes.Block, kernels: frozenset[str], depth: int
           ) -> list[lsp.DocumentSymbol]:
    out: list[lsp.DocumentSymbol] = []
    for s in block.stmts:
        if isinstance(s, nodes.Scope):
            mode = "manual" + (" infer" if s.infer else "") if s.manual else "auto"
            sym = _symbol(f"scope {mode}", f"ring {min(depth, MAX_RING)}", K.Namespace, s.span,
                          Span(s.span.source, s.span.start, s.span.start + 5))
            sym.children = _block(s.body, kernels, depth + 1)
            out.append(sym)
        elif isinstance(s, nodes.For):
            out.extend(_block(s.body, kernels, depth))
        elif isinstance(s, nodes.If):
            out.extend(_block(s.then, kernels, depth) + (
                _block(s.orelse, kernels, depth) if s.orelse else []))
        else:
            out.extend(_submission(s, kernels))
    return out


def _submission(s: nodes.Stmt, kernels: frozenset[str]) -> list[lsp.DocumentSymbol]:
    call = s.value if isinstance(s, (nodes.Let, nodes.Assign)) else \
        s.call if isinstance(s, nodes.ExprStmt) else None
    if isinstance(call, nodes.Alloc):
        name = "alloc"
        where = call.span
    elif isinstance(call, nodes.Call) and call.func.name in kernels:
        name, where = call.func.name, call.func.span
    else:
        return []
    target = f" -> {s.name.name}" if isinstance(s, (nodes.Let, nodes.Assign)) else ""
    return [_symbol(name + target, "submission", K.Event, s.span, where)]


def _symbol(name: str, detail: str, kind: lsp.SymbolKind, span: Span,
            selection: Span) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(name, kind, range_of(span), range_of(selection), detail=detail)


# ---- completion ------------------------------------------------------------------

_DEP = re.compile(r"\bdep\b([^#]*)$")


def in_dep_clause(before: str) -> bool:
    """Whether the text before the cursor (on its line) ends inside a dep list, where a task
    variable goes (not inside a `when` guard)."""
    m = _DEP.search(before)
    return m is not None and "when" not in m.group(1).split(",")[-1].split()


def completions(before: str, line: int, index: Index | None,
                program: ir.Program | None) -> list[lsp.CompletionItem]:
    """`before` is the cursor's line up to the cursor; `line` is 1-based."""
    if in_dep_clause(before):
        return [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Variable,
                                   detail="task variable")
                for name in _task_vars(program, line)]
    items = [lsp.CompletionItem(k, kind=lsp.CompletionItemKind.Keyword)
             for k in sorted(KEYWORDS)]
    if program is not None:
        items.extend(lsp.CompletionItem(k.name, kind=lsp.CompletionItemKind.Function,
                                        detail=_signature(k.span))
                     for k in program.kernels.values())
    if index is not None:
        names = {o.symbol.name: o.symbol.kind for o in index.occurrences
                 if o.symbol.var is not None and o.symbol.decl.line <= line}
        items.extend(lsp.CompletionItem(n, kind=lsp.CompletionItemKind.Variable, detail=kind)
                     for n, kind in sorted(names.items()))
    return items


def _task_vars(program: ir.Program | None, line: int) -> list[str]:
    """The task variables visible at the submission on (or last before) `line`."""
    if program is None:
        return []
    before = [s for s in program.sites if s.span.line <= line]
    if not before:
        return []
    site = max(before, key=lambda s: s.span.start)
    return sorted(site.task_vars)


def _signature(span: Span) -> str:
    return span.source.text[span.start:span.end].split("\n", 1)[0]
