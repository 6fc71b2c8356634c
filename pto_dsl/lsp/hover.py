"""Hover text: what a name under the cursor is, and for a submission what it becomes on the
case the editor checks (instances, ring, deps written and inferred, incoming edges)."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.instantiate import MAX_RING
from pto_dsl.lsp.analysis import Graph
from pto_dsl.lsp.index import Occurrence, Symbol
from pto_dsl.safety.fixes import submission
from pto_dsl.source import Span

_PREC = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


def hover(occ: Occurrence, program: ir.Program | None, graph: Graph | None) -> str:
    sym = occ.symbol
    if sym.kind == "kernel":
        assert sym.kernel is not None or program is None
        site = _site_at(program, occ.span) if program else None
        if site is not None:
            return _submission(site, program, graph)
        return _kernel(sym, program, graph)
    if sym.kind == "case":
        assert sym.case is not None
        checked = graph is not None and graph.case == sym.name
        tail = (f"\n\nthe case the editor checks: {graph.tasks} tasks"
                if checked and graph else "")
        return _code(_text(sym.case.span)) + tail
    if sym.kind == "output" and sym.kernel is not None:
        return (_code(_text(_param_span(sym.kernel, sym.name))) +
                f"\n\noutput of kernel `{sym.kernel.name}`")
    return _variable(sym, program, graph)


def _kernel(sym: Symbol, program: ir.Program | None, graph: Graph | None) -> str:
    out = [_code(_text(sym.kernel.span if sym.kernel else sym.decl))]
    if program is not None:
        sites = [s for s in program.sites if s.kernel is not None and s.kernel.name == sym.name]
        out.append(f"submitted at {len(sites)} site{'s' if len(sites) != 1 else ''}")
        if graph is not None and graph.case is not None:
            tasks = sum(graph.sites[s.id].instances for s in sites if s.id in graph.sites)
            out.append(f"case `{graph.case}`: {tasks} task{'s' if tasks != 1 else ''}")
    return "\n\n".join(out)


def _submission(site: ir.Site, program: ir.Program | None, graph: Graph | None) -> str:
    assert site.kernel is not None and program is not None
    scope = site.scope
    where = "the entry's own level (ring 0)"
    if scope is not None:
        infer = " infer" if scope.infer else ""
        where = f"scope {scope.mode}{infer} (ring {min(scope.depth, MAX_RING)})"
    out = [_code(_text(site.kernel.span)), f"**submission** in {where}"]
    submit = submission(program.body, site.id)
    if submit is not None:
        written = [d for d in submit.deps if not d.inferred]
        inferred = [d for d in submit.deps if d.inferred]
        out.append("deps written: " + (f"`dep {', '.join(_text(d.span) for d in written)}`"
                                       if written else "none"))
        if scope is not None and scope.infer:
            out.append("deps inferred: " + (f"`dep {', '.join(map(dep_text, inferred))}`"
                                            if inferred else "none"))
    if graph is not None and graph.case is not None:
        facts = graph.sites.get(site.id)
        if facts is None:
            out.append(f"case `{graph.case}`: never submitted")
        else:
            rings = ", ".join(map(str, facts.rings))
            edges = ", ".join(f"{o} {n}" for o, n in facts.edges) or "none"
            out.append(f"case `{graph.case}`: {facts.instances} instance"
                       f"{'s' if facts.instances != 1 else ''}, ring {rings}; incoming edges: "
                       f"{edges}")
    return "\n\n".join(out)


def _variable(sym: Symbol, program: ir.Program | None, graph: Graph | None) -> str:
    var = sym.var
    if var is None:
        return f"`{sym.name}`"
    if sym.kind == "tensor" and program is not None:
        decl = next(t for t in program.tensors if t.var is var)
        text = _code(_text(decl.span))
        if graph is not None and sym.name in graph.shapes:
            shape = ", ".join(map(str, graph.shapes[sym.name]))
            text += f"\n\ncase `{graph.case}`: shape [{shape}]"
        return text
    kinds = {"scalar": "scalar", "symbol": "shape symbol", "let": "let", "loop": "loop variable",
             "task": "task variable"}
    text = f"({kinds.get(sym.kind, sym.kind)}) `{sym.name}`: {_type(var, program)}"
    if graph is not None and sym.name in graph.values and sym.kind in ("scalar", "symbol"):
        text += f"\n\ncase `{graph.case}`: {sym.name} = {graph.values[sym.name]}"
    return text


def _type(var: ir.Var, program: ir.Program | None) -> str:
    if not var.task_var or program is None:
        return str(var.ty)
    sites = sorted({s for site in program.sites if site.task_vars.get(var.name) is var
                    for s in site.reaching.get(var.name, ())})
    held = ", ".join(f"{program.sites[s].label} (line {program.sites[s].span.line})"
                     for s in sites)
    return f"task, may hold {held}" if held else "task (always none)"


def dep_text(dep: ir.Dep) -> str:
    return dep.var.name + (f" when {expr_text(dep.guard)}" if dep.guard is not None else "")


def expr_text(e: ir.Expr, outer: int = 0) -> str:
    """An IR expression in the program's syntax (the guards the compiler writes)."""
    if isinstance(e, ir.Load):
        return e.var.name
    if isinstance(e, ir.Const):
        return "none" if e.value is None else str(e.value).lower() if isinstance(
            e.value, bool) else str(e.value)
    if isinstance(e, ir.UnaryOp):
        return f"{e.op}{' ' if e.op == 'not' else ''}{expr_text(e.operand, 7)}"
    if isinstance(e, ir.Binary):
        if e.op not in _PREC:
            return f"{e.op}({expr_text(e.left)}, {expr_text(e.right)})"
        prec = _PREC[e.op]
        text = f"{expr_text(e.left, prec)} {e.op} {expr_text(e.right, prec + 1)}"
        return f"({text})" if prec < outer else text
    return _text(e.span)


def _site_at(program: ir.Program, span: Span) -> ir.Site | None:
    return next((s for s in program.sites if s.kernel is not None
                 and s.span.start <= span.start < s.span.end), None)


def _param_span(kernel: ir.Kernel, name: str) -> Span:
    return next(p.span for p in kernel.params if p.name == name)


def _text(span: Span) -> str:
    return span.source.text[span.start:span.end]


def _code(text: str) -> str:
    return f"```pto\n{text}\n```"
