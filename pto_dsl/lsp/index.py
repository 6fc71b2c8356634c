"""Where every name of a program is declared and used: the basis of go-to-definition, find
references and hover.

Built from what the front end produced: kernels, cases and entry signatures from the AST,
variables from the IR's resolved loads, dep items and assignments (so scoping is the
lowering's, not a second resolver's). An occurrence is a name span and the symbol it means.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pto_dsl import ir, nodes
from pto_dsl.source import Span


@dataclass(frozen=True)
class Symbol:
    kind: str  # kernel, case, output, or a variable kind: tensor, scalar, symbol, let, task, loop
    name: str
    decl: Span  # the name at its declaration
    var: ir.Var | None = None
    kernel: ir.Kernel | None = None
    case: nodes.Case | None = None


@dataclass(frozen=True)
class Occurrence:
    span: Span
    symbol: Symbol


class Index:
    def __init__(self, occurrences: list[Occurrence]) -> None:
        self.occurrences = sorted(occurrences, key=lambda o: (o.span.start, o.span.end))
        self._starts = [o.span.start for o in self.occurrences]

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under a cursor (touching its end counts, as editors expect)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        while i >= 0 and self._starts[i] >= offset - 256:  # names are short
            if offset <= self.occurrences[i].span.end:
                return self.occurrences[i]
            i -= 1
        return None

    def references(self, symbol: Symbol) -> list[Span]:
        """Every occurrence of the symbol, its declaration included, in text order."""
        return [o.span for o in self.occurrences if o.symbol == symbol]


def build_index(ast: nodes.Program, program: ir.Program | None) -> Index:
    out: list[Occurrence] = []
    kernels = {k.name.name: Symbol("kernel", k.name.name, k.name.span,
                                   kernel=program.kernels.get(k.name.name) if program else None)
               for k in ast.kernels}
    out.extend(Occurrence(s.decl, s) for s in kernels.values())
    for entry in ast.entries:
        out.extend(Occurrence(c.func.span, kernels[c.func.name]) for c in _calls(entry.body)
                   if c.func.name in kernels)
    cases = [Symbol("case", c.name.name, c.name.span, case=c) for c in ast.cases]
    out.extend(Occurrence(s.decl, s) for s in cases)
    if program is not None:
        _program_names(ast, program, out)
    return Index(out)


def _program_names(ast: nodes.Program, program: ir.Program, out: list[Occurrence]) -> None:
    symbols: dict[int, Symbol] = {}

    def sym(var: ir.Var, kind: str) -> Symbol:
        if id(var) not in symbols:
            symbols[id(var)] = Symbol(kind, var.name, var.span, var=var)
            out.append(Occurrence(var.span, symbols[id(var)]))
        return symbols[id(var)]

    for t in program.tensors:
        sym(t.var, "tensor")
    for s in program.scalars:
        sym(s.var, "scalar")
    for v in program.symbols.values():
        sym(v, "symbol")
    by_name = {s.name: s for s in symbols.values()}
    for entry in ast.entries:  # later uses of shape symbols in the signature
        for p in entry.params:
            if isinstance(p, nodes.TensorParam) and p.type is not None and p.type.dims:
                out.extend(Occurrence(d.span, by_name[d.name]) for d in p.type.dims
                           if isinstance(d, nodes.Ident) and d.name in by_name
                           and d.span != by_name[d.name].decl)
    for case in ast.cases:  # case items name entry parameters and symbols
        out.extend(Occurrence(i.name.span, by_name[i.name.name]) for i in case.items
                   if i.name.name in by_name)
    for stmt in ir.walk_stmts(program.body):
        _statement_names(stmt, program, sym, out)


def _statement_names(stmt: ir.Stmt, program: ir.Program, sym: Callable[[ir.Var, str], Symbol],
                     out: list[Occurrence]) -> None:
    if isinstance(stmt, ir.LetStmt):
        sym(stmt.var, "task" if stmt.var.task_var else "let")
    elif isinstance(stmt, ir.AssignStmt):
        out.append(Occurrence(_name_at(stmt.span, stmt.var.name), sym(stmt.var, _kind(stmt.var))))
    elif isinstance(stmt, (ir.Submit, ir.AllocStmt)) and stmt.target is not None:
        target = sym(stmt.target, "task")
        if stmt.span.start != _let_start(stmt.span, stmt.target):
            out.append(Occurrence(_name_at(stmt.span, stmt.target.name), target))
    elif isinstance(stmt, ir.ForStmt):
        sym(stmt.var, "loop")
    elif isinstance(stmt, ir.TaskArrayDecl):
        sym(stmt.var, "let")
    elif isinstance(stmt, ir.CopyTaskId):
        out.append(Occurrence(_name_at(stmt.span, stmt.array.name), sym(stmt.array, "let")))
    if isinstance(stmt, ir.Submit):
        for dep in stmt.deps:
            if not dep.inferred:
                out.append(Occurrence(_name_at(dep.span, dep.var.name), sym(dep.var, "task")))
    for expr in ir.own_exprs(stmt, inferred_guards=False):
        for e in _walk(expr):
            if isinstance(e, ir.Load):
                out.append(Occurrence(e.span, sym(e.var, _kind(e.var))))
            elif isinstance(e, ir.OutputOf):
                found = _output(program, e)
                if found is not None:
                    out.append(found)


def _kind(var: ir.Var) -> str:
    return "task" if var.task_var else "let"


def _let_start(span: Span, var: ir.Var) -> int:
    """`span.start` when the statement is `let NAME = ...` declaring var, else -1."""
    return span.start if var.span.start > span.start else -1


def _name_at(span: Span, name: str) -> Span:
    return Span(span.source, span.start, span.start + len(name))


def _output(program: ir.Program, e: ir.OutputOf) -> Occurrence | None:
    """`t.name`: the output parameter of the kernel (or alloc item) t's task comes from."""
    ty = e.task.ty
    if not isinstance(ty, ir.TaskTy):
        return None
    for site_id in sorted(ty.sites):
        kernel = program.sites[site_id].kernel
        param = next((p for p in kernel.tensor_params if p.name == e.name), None) \
            if kernel else None
        if param is not None and kernel is not None:
            where = Span(e.span.source, e.span.end - len(e.name), e.span.end)
            decl = _name_in(param.span, e.name)
            return Occurrence(where, Symbol("output", e.name, decl, kernel=kernel))
    return None


def _name_in(span: Span, name: str) -> Span:
    text = span.source.text[span.start:span.end]
    at = text.find(name)
    return Span(span.source, span.start + max(at, 0), span.start + max(at, 0) + len(name))


def _walk(e: ir.Expr) -> Iterator[ir.Expr]:
    yield e
    if isinstance(e, ir.Binary):
        yield from _walk(e.left)
        yield from _walk(e.right)
    elif isinstance(e, ir.UnaryOp):
        yield from _walk(e.operand)
    elif isinstance(e, ir.ElementRead):
        yield from _walk(e.tensor)
        for i in e.indices:
            yield from _walk(i)
    elif isinstance(e, ir.View):
        yield from _walk(e.tensor)
        for s in e.slices:
            yield from (x for b in (s.lo, s.hi) if b is not None for x in _walk(b))
    elif isinstance(e, ir.Reshape):
        yield from _walk(e.tensor)
        for d in e.dims:
            yield from _walk(d)
    elif isinstance(e, (ir.ManualDep,)):
        yield from _walk(e.tensor)
    elif isinstance(e, ir.OutputOf):
        yield from _walk(e.task)


def _calls(block: nodes.Block) -> Iterator[nodes.Call]:
    """Every call in a block, nested ones included."""
    for stmt in block.stmts:
        yield from _stmt_calls(stmt)


def _stmt_calls(s: nodes.Stmt) -> Iterator[nodes.Call]:
    if isinstance(s, (nodes.Let, nodes.Assign)):
        yield from _expr_calls(s.value)
    elif isinstance(s, nodes.ExprStmt):
        yield from _expr_calls(s.call)
    elif isinstance(s, nodes.For):
        yield from _calls(s.body)
    elif isinstance(s, nodes.If):
        yield from _calls(s.then)
        if s.orelse is not None:
            yield from _calls(s.orelse)
    elif isinstance(s, nodes.Scope):
        yield from _calls(s.body)


def _expr_calls(e: nodes.Expr) -> Iterator[nodes.Call]:
    if isinstance(e, nodes.Call):
        yield e
        for a in e.args:
            yield from _expr_calls(a)
