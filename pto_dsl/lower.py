"""Lowering stage: AST -> structured program IR, with name resolution and typing.

Reports, all collected before failing: undefined and duplicate names, kernel-call arity,
directions, scalar types, dtypes and ranks, deps on non-tasks or on tasks not submitted
yet or out of lexical scope, and use of a task's outputs after its scope ended. Task
variables are tracked flow-sensitively (which submission sites may reach each use).
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator

from pto_dsl import ir, lower_arrays, lower_host, lower_submit
from pto_dsl import nodes as n
from pto_dsl.diagnostics import Diagnostic, DiagnosticSink, Note, error
from pto_dsl.lower_dispatch import dispatch_of
from pto_dsl.lower_expr import BUILTINS, ERROR_SITE, lower_expr
from pto_dsl.source import Span
from pto_dsl.types import MAX_DIMS

ERR = ir.ERR
MAX_HINTS = 50  # "did you mean" hints per file, as many as errors are shown
NONE_SITE = -1
State = dict[ir.Var, frozenset[int]]


def _is(ty: ir.Ty, *kinds: ir.ScalarTy) -> bool:
    return ty == ERR or ty in kinds


class Lowerer:
    def __init__(self, program: n.Program, sink: DiagnosticSink) -> None:
        self.ast = program
        self.sink = sink
        self.kernels: dict[str, ir.Kernel] = {}
        self.by_func_id: dict[int, list[ir.Kernel]] = {}  # func_id -> kernels using it
        self.hints = 0  # "did you mean" hints computed (each costs a pass over the names)
        self.blocks: list[dict[str, ir.Var]] = []
        self.closed: dict[str, tuple[ir.Var, Span]] = {}  # name -> (var, block it lived in)
        self.decls: dict[str, list[Span]] = {}  # every `let` in the entry by name, for E131
        self.state: State = {}
        self.scopes: list[ir.ScopeDecl] = []
        self.loops: list[ir.Var] = []
        self.by_node: dict[int, object] = {}  # AST node id -> Var/Site/ScopeDecl (loop re-walks)
        self.sites: list[ir.Site] = []
        self.scope_decls: list[ir.ScopeDecl] = []
        self.slots = 0
        self.broken_sites: set[int] = set()  # submissions whose arguments failed to lower
        self.undefined: set[str] = set()  # names already reported undefined (E101)
        self.quiet = 0  # > 0 inside a muted pass (an enclosing loop's fixpoint iteration)
        self.loop_heads: dict[tuple[int, frozenset[tuple[ir.Var, frozenset[int]]]],
                              tuple[State, ir.Var, tuple[ir.Stmt, ...]]] = {}

    # ---- diagnostics ---------------------------------------------------------
    def report(self, diag: Diagnostic) -> None:
        self.sink.add(diag)

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        saved, self.sink = self.sink, DiagnosticSink()
        self.quiet += 1
        try:
            yield
        finally:
            self.sink = saved
            self.quiet -= 1

    # ---- names ---------------------------------------------------------------
    def new_var(self, node: object, name: str, ty: ir.Ty, span: Span,
                task_var: bool = False) -> ir.Var:
        var = self.by_node.get(id(node))
        if not isinstance(var, ir.Var):
            var = ir.Var(name, self.slots, ty, span, task_var)
            self.slots += 1
            self.by_node[id(node)] = var
        var.ty, var.task_var = ty, task_var
        return var

    def declare(self, ident: n.Ident, var: ir.Var) -> None:
        prev = self.visible(ident.name)
        if ident.name in self.kernels:
            self.report(error("E102", f"'{ident.name}' is already defined as a kernel",
                              ident.span, notes=[Note("the kernel",
                                                      self.kernels[ident.name].span)],
                              help=("names of values and kernels share one namespace",)))
        elif prev is not None:
            self.report(error("E102", f"'{ident.name}' is already defined", ident.span,
                              notes=[Note("previous definition", prev.span)],
                              help=("names cannot be redefined or shadowed; pick another name",)))
        self.blocks[-1][ident.name] = var

    def visible(self, name: str) -> ir.Var | None:
        for block in reversed(self.blocks):
            if name in block:
                return block[name]
        return None

    def resolve(self, ident: n.Ident, what: str = "name") -> ir.Var | None:
        var = self.visible(ident.name)
        if var is not None:
            return var
        if ident.name in self.kernels:
            self.report(error("E109", f"kernel '{ident.name}' is not a value", ident.span,
                              help=("call it to submit a task: let t = "
                                    f"{ident.name}(...)",)))
            return None
        later = [s for s in self.decls.get(ident.name, ()) if s.start > ident.span.start]
        if ident.name in self.closed:
            old, block = self.closed[ident.name]
            self.report(error("E132", f"'{ident.name}' is out of scope here", ident.span,
                              notes=[Note(f"'{ident.name}' was defined here", old.span),
                                     Note("and lived only in this block", block)],
                              help=("declare it in an enclosing block (e.g. 'let "
                                    f"{ident.name} = none') and assign it inside",)))
        elif later:
            kind = "task" if what == "dep" else "name"
            self.report(error("E131", f"{kind} '{ident.name}' is used before it is defined",
                              ident.span, notes=[Note("defined later here", later[0])],
                              help=("a dep can only name a task submitted earlier in program "
                                    "order",) if what == "dep" else ()))
        elif ident.name not in self.undefined:
            self.report(self._undefined(ident, what))
            if not self.quiet:  # each undefined name is reported once, at its first use
                self.undefined.add(ident.name)
        return None

    def _undefined(self, ident: n.Ident, what: str) -> Diagnostic:
        item = next((i for c in self.ast.cases for i in c.items
                     if i.name.name == ident.name), None)
        if item is not None:  # a value the cases give, but no parameter to receive it
            return error("E101", f"undefined {what} '{ident.name}': it is a case item, not a "
                         "parameter of the entry", ident.span,
                         notes=[Note(f"'{ident.name}' is given a value here", item.name.span)],
                         help=(f"declare it in the entry's parameters (a scalar "
                               f"'{ident.name}: i32', or a dimension of a tensor) so that "
                               "the case can pass it",))
        guess = self.close_match(ident.name, lambda: [k for b in self.blocks for k in b]
                                 + list(self.kernels) + list(BUILTINS))
        return error("E101", f"undefined {what} '{ident.name}'", ident.span,
                     help=(f"did you mean '{guess}'?",) if guess else ())

    def close_match(self, name: str, names: Callable[[], list[str]]) -> str | None:
        """The closest known name, for the first MAX_HINTS hints only: a file with thousands
        of undefined names would otherwise compare each with every name (quadratic)."""
        if self.quiet or self.hints >= MAX_HINTS:
            return None
        self.hints += 1
        guess = difflib.get_close_matches(name, names(), n=1)
        return guess[0] if guess else None

    @contextlib.contextmanager
    def block(self, span: Span) -> Iterator[None]:
        self.blocks.append({})
        try:
            yield
        finally:
            for name, var in self.blocks.pop().items():
                self.closed[name] = (var, span)

    def load_ty(self, var: ir.Var) -> ir.Ty:
        if not var.task_var:
            return var.ty
        sites = self.state.get(var, frozenset({NONE_SITE}))
        return ir.TaskTy(frozenset(s for s in sites if s != NONE_SITE), NONE_SITE in sites)

    # ---- program -----------------------------------------------------------
    def program(self) -> ir.Program | None:
        for k in self.ast.kernels:
            self.kernel(k)
        if len(self.ast.entries) != 1:
            span = self.ast.entries[1].name.span if self.ast.entries else \
                Span(self.ast.span.source, 0, 0)
            self.report(error("E119", "a program needs exactly one entry" if self.ast.entries
                              else "this program has no entry", span,
                              help=("declare one 'entry NAME(params) { ... }'",)))
            if not self.ast.entries:
                return None
        entry = self.ast.entries[0]
        for name, span in _collect_lets(entry.body):
            self.decls.setdefault(name, []).append(span)
        self.blocks.append({})
        tensors, scalars, symbols = self.entry_params(entry)
        body = self.stmts(entry.body.stmts)
        prog = ir.Program(entry.name.name, self.kernels, tensors, scalars, symbols, body,
                          self.ast.cases, self.sites, self.scope_decls, self.slots,
                          entry.span, entry.extern)
        return prog

    def sharing_func_ids(self, k: n.Kernel) -> list[ir.Kernel]:
        """The kernels declared so far that use one of k's func_ids, in declaration order
        (an index, not a comparison with every kernel: thousands of kernels stay linear)."""
        found = {id(o): o for _, fid in k.func_ids for o in self.by_func_id.get(fid, ())}
        order = {name: i for i, name in enumerate(self.kernels)} if len(found) > 1 else {}
        return sorted(found.values(), key=lambda o: order.get(o.name, 0))

    def kernel(self, k: n.Kernel) -> None:
        if k.name.name in self.kernels:
            self.report(error("E102", f"kernel '{k.name.name}' is already defined", k.name.span,
                              notes=[Note("previous definition",
                                          self.kernels[k.name.name].span)]))
            return
        for other in self.sharing_func_ids(k):
            clash = _func_id_clash(k, other)
            if clash is not None:
                self.report(error("E118", f"kernel '{k.name.name}' reuses func_id {clash} of "
                                  f"'{other.name}'", k.name.span,
                                  notes=[Note(f"'{other.name}' declared here", other.span)],
                                  help=("a func_id names one registered in-core kernel of one "
                                        "core type; only mix kernels may share it with the "
                                        "kernel of that slot",)))
        params: list[ir.KParam] = []
        self.unique_names([p.name for p in k.params], "parameter ")
        for p in k.params:
            if isinstance(p, n.TensorParam):
                dims = None
                if p.type is not None and p.type.dims is not None:
                    self.check_rank(len(p.type.dims), p.type.span)
                    dims = tuple(d.value if isinstance(d, n.IntLit) else d.name
                                 for d in p.type.dims)
                params.append(ir.KTensorParam(p.name.name, p.direction,
                                              p.type.dtype if p.type else None, dims, p.span))
            else:
                params.append(ir.KScalarParam(p.name.name, p.type, p.span))
        kernel = ir.Kernel(k.name.name, k.core, k.func_ids, tuple(params), k.impl, k.cost,
                           k.span)
        self.kernels[k.name.name] = kernel
        for _, fid in k.func_ids:
            users = self.by_func_id.setdefault(fid, [])
            if kernel not in users:
                users.append(kernel)

    def unique_names(self, names: list[n.Ident], what: str = "") -> None:
        """E102 for a name repeated in one list (kernel parameters, alloc items)."""
        seen: dict[str, Span] = {}
        for ident in names:
            if ident.name in seen:
                self.report(error("E102", f"{what}'{ident.name}' is already defined", ident.span,
                                  notes=[Note("previous definition", seen[ident.name])]))
            seen[ident.name] = ident.span

    def check_rank(self, rank: int, span: Span) -> None:
        if rank > MAX_DIMS:
            self.report(error("E117", f"a tensor has at most {MAX_DIMS} dimensions, not {rank}",
                              span, help=("the runtime's tensor descriptors hold 5 dims",)))

    def entry_params(self, entry: n.Entry) -> tuple[
            tuple[ir.EntryTensor, ...], tuple[ir.EntryScalar, ...], dict[str, ir.Var]]:
        tensors: list[ir.EntryTensor] = []
        scalars: list[ir.EntryScalar] = []
        symbols: dict[str, ir.Var] = {}
        for p in entry.params:
            if isinstance(p, n.ScalarParam):
                var = self.new_var(p, p.name.name, ir.scalar_ty(p.type), p.name.span)
                self.declare(p.name, var)
                scalars.append(ir.EntryScalar(p.name.name, p.type, var, p.span))
                continue
            assert p.type is not None and p.type.dtype is not None and p.type.dims is not None
            self.check_rank(len(p.type.dims), p.type.span)
            ty = ir.TensorTy(p.type.dtype, len(p.type.dims), p.direction != "in")
            var = self.new_var(p, p.name.name, ty, p.name.span)
            self.declare(p.name, var)
            for d in p.type.dims:
                if isinstance(d, n.Ident) and d.name == "_":
                    self.report(error("E121", "an entry shape names each dimension", d.span,
                                      help=("use a symbol (bound by the case) or a number; '_' "
                                            "matches any size only in kernel signatures",)))
                elif isinstance(d, n.Ident) and d.name not in symbols:
                    sym = self.new_var(d, d.name, ir.INT, d.span)
                    symbols[d.name] = sym
                    self.declare(d, sym)
            dims = tuple(d.value if isinstance(d, n.IntLit) else d.name for d in p.type.dims)
            tensors.append(ir.EntryTensor(p.name.name, p.direction, p.type.dtype, dims, var,
                                          p.span))
        return tuple(tensors), tuple(scalars), symbols

    # ---- statements --------------------------------------------------------
    def stmts(self, stmts: tuple[n.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in stmts:
            lowered = self.stmt(s)
            if lowered is not None:
                out.append(lowered)
        return tuple(out)

    def stmt(self, s: n.Stmt) -> ir.Stmt | None:
        if isinstance(s, n.Let):
            return self.let(s)
        if isinstance(s, n.Assign):
            return self.assign(s)
        if isinstance(s, n.ExprStmt):
            return self.expr_stmt(s)
        if isinstance(s, n.For):
            return self.for_(s)
        if isinstance(s, n.If):
            return self.if_(s)
        if isinstance(s, n.ElementAssign):
            target = self.visible(s.name.name)  # a tensor: an element write
            if target is not None and isinstance(target.ty, ir.TensorTy):
                return lower_host.element_assign(self, s)
            if target is not None and isinstance(target.ty, ir.ScalarTy):
                return lower_host.not_assignable(self, s, target)
            return lower_arrays.element_assign(self, s)
        if isinstance(s, n.Fatal):
            return lower_arrays.fatal(s)
        return self.scope(s)

    def let(self, s: n.Let) -> ir.Stmt | None:
        value = s.value
        if isinstance(value, n.TaskArray):
            return lower_arrays.declare(self, s, value)
        if isinstance(value, (n.Call, n.Alloc, n.Dummy)) \
                and lower_submit.is_submission(self, value):
            var = self.new_var(s, s.name.name, ir.TaskTy(frozenset(), False), s.name.span,
                               task_var=True)
            sub = lower_submit.submission(self, value, s.deps, var, s.span, s.launch,
                                          s.dispatch)
            self.declare(s.name, var)
            return sub
        self.no_deps(s.deps, value, s.launch, s.dispatch)
        expr = self.expr(value)
        task_var = isinstance(expr.ty, ir.TaskTy)
        var = self.new_var(s, s.name.name, expr.ty, s.name.span, task_var=task_var)
        var.mutable = expr.ty == ir.INT or isinstance(expr.ty, ir.TensorTy)
        self.declare(s.name, var)
        if task_var:
            self.state[var] = self.sites_of(expr)
        return ir.LetStmt(var, expr, s.span)

    def assign(self, s: n.Assign) -> ir.Stmt | None:
        var = self.resolve(s.name)
        if var is None:
            return None
        if var.mutable and isinstance(var.ty, ir.TensorTy):
            submits = isinstance(s.value, (n.Call, n.Alloc, n.Dummy)) \
                and lower_submit.is_submission(self, s.value)
            return lower_host.tensor_assign(self, s, var, submits)
        if var.mutable:
            return self.int_assign(s, var)
        if not var.task_var:
            self.report(error("E111", f"'{s.name.name}' cannot be reassigned", s.name.span,
                              notes=[Note(f"'{s.name.name}' is defined here as {var.ty}",
                                          var.span)],
                              help=("only task variables (a task or none), integers and "
                                    "tensors declared with 'let' can be reassigned; use a "
                                    "new 'let' for other values",)))
            return None
        value = s.value
        if isinstance(value, (n.Call, n.Alloc, n.Dummy)) \
                and lower_submit.is_submission(self, value):
            return lower_submit.submission(self, value, s.deps, var, s.span, s.launch,
                                           s.dispatch)
        self.no_deps(s.deps, value, s.launch, s.dispatch)
        expr = self.expr(value)
        if expr.ty == ERR:
            self.state[var] = frozenset({ERROR_SITE})
            return None
        if not isinstance(expr.ty, ir.TaskTy):
            self.report(error("E111", f"a task variable cannot hold {expr.ty}", expr.span,
                              notes=[Note(f"'{var.name}' is defined here", var.span)]))
            return None
        self.state[var] = self.sites_of(expr)
        return ir.AssignStmt(var, expr, s.span)

    def int_assign(self, s: n.Assign, var: ir.Var) -> ir.Stmt | None:
        """`n = EXPR` for an int declared by `let`: an int of the same semantics (int64)."""
        self.no_deps(s.deps, s.value, s.launch, s.dispatch)
        if isinstance(s.value, (n.Call, n.Alloc, n.Dummy)) \
                and lower_submit.is_submission(self, s.value):
            self.report(error("E111", f"'{var.name}' holds an int, not a task", s.value.span,
                              notes=[Note(f"'{var.name}' is defined here as int", var.span)],
                              help=("declare a task variable with its own 'let'",)))
            return None
        expr = self.int_expr(s.value)
        if expr.ty != ir.INT:
            return None
        return ir.AssignStmt(var, expr, s.span)

    def expr_stmt(self, s: n.ExprStmt) -> ir.Stmt | None:
        if lower_submit.is_submission(self, s.call):
            return lower_submit.submission(self, s.call, s.deps, None, s.span, s.launch,
                                           s.dispatch)
        assert isinstance(s.call, n.Call)  # a dummy is always a submission
        if s.call.func.name in BUILTINS:
            self.report(error("E116", f"the value of '{s.call.func.name}(...)' is unused",
                              s.span, help=("bind it with 'let'",)))
        else:
            self.expr(s.call)
        return None

    def no_deps(self, deps: tuple[n.DepItem, ...] | None, value: n.Expr | None = None,
                launch: n.Launch | None = None, dispatch: n.Dispatch | None = None) -> None:
        if launch is not None:
            lower_submit.no_launch(self, launch, "only a kernel call can have a 'blocks' clause")
        dispatch_of(self, dispatch, "value")
        unknown = isinstance(value, n.Call) and value.func.name not in BUILTINS
        if deps and not unknown:  # an unknown kernel (E103) may well be meant to take them
            self.report(error("E115", "only a task submission can have a dep clause",
                              deps[0].span.to(deps[-1].span)))

    def for_(self, s: n.For) -> ir.Stmt:
        start, stop = self.int_expr(s.start), self.int_expr(s.stop)
        step = self.int_expr(s.step) if s.step is not None else None
        if isinstance(step, ir.Const) and isinstance(step.value, int) and step.value <= 0:
            self.report(error("E112", "a loop step must be positive", step.span))
        head, var, body = self.loop_fixpoint(s)
        self.state = dict(head)
        if not self.quiet:  # the pass that reports; an enclosing loop's fixpoint needs no report
            var, body = self.loop_body(s)
            self.state = _join(head, self.state)
        return ir.ForStmt(var, start, stop, step, body, s.span)

    def loop_fixpoint(self, s: n.For) -> tuple[State, ir.Var, tuple[ir.Stmt, ...]]:
        """The task-variable state at the loop head, iterated quietly to a fixpoint.

        Memoised per entry state: the passes of enclosing loops reach a loop again with the
        same state, and would otherwise cost 2 ** depth passes for nested loops.
        """
        key = (id(s), frozenset(self.state.items()))
        cached = self.loop_heads.get(key)
        if cached is not None:
            return cached
        head = dict(self.state)
        while True:
            self.state = dict(head)
            with self.muted():
                var, body = self.loop_body(s)
            joined = _join(head, self.state)
            if joined == head:
                break
            head = joined
        self.loop_heads[key] = (head, var, body)
        return head, var, body

    def loop_body(self, s: n.For) -> tuple[ir.Var, tuple[ir.Stmt, ...]]:
        with self.block(s.body.span):
            var = self.new_var(s, s.var.name, ir.INT, s.var.span)
            self.declare(s.var, var)
            self.loops.append(var)
            try:
                body = self.stmts(s.body.stmts)
            finally:
                self.loops.pop()
        return var, body

    def if_(self, s: n.If) -> ir.Stmt:
        cond = self.bool_expr(s.cond)
        before = dict(self.state)
        with self.block(s.then.span):
            then = self.stmts(s.then.stmts)
        after_then, self.state = self.state, before
        orelse: tuple[ir.Stmt, ...] = ()
        if s.orelse is not None:
            with self.block(s.orelse.span):
                orelse = self.stmts(s.orelse.stmts)
        self.state = _join(after_then, self.state)
        return ir.IfStmt(cond, then, orelse, s.span)

    def scope(self, s: n.Scope) -> ir.Stmt:
        decl = self.by_node.get(id(s))
        if not isinstance(decl, ir.ScopeDecl):
            parent = self.scopes[-1] if self.scopes else None
            decl = ir.ScopeDecl(len(self.scope_decls), s.manual, len(self.scopes) + 1, parent,
                                s.span, s.infer)
            self.scope_decls.append(decl)
            self.by_node[id(s)] = decl
        self.scopes.append(decl)
        try:
            with self.block(s.body.span):
                body = self.stmts(s.body.stmts)
        finally:
            self.scopes.pop()
        return ir.ScopeStmt(decl, body, s.span)

    # ---- expressions -------------------------------------------------------
    def int_expr(self, e: n.Expr) -> ir.Expr:
        expr = self.expr(e)
        if not _is(expr.ty, ir.INT):
            self.report(error("E112", f"expected an integer, got {expr.ty}", e.span))
        return expr

    def bool_expr(self, e: n.Expr) -> ir.Expr:
        expr = self.expr(e)
        if not _is(expr.ty, ir.BOOL):
            self.report(error("E112", f"expected a condition (bool), got {expr.ty}", e.span,
                              help=("compare it, e.g. 'x != 0'",)))
        return expr

    def array_dep(self, item: n.DepItem, var: ir.Var, guard: ir.Expr | None) -> ir.Dep | None:
        """A dep item with elements, or on a task-id array (lower_arrays)."""
        if not isinstance(var.ty, ir.TaskArrayTy):
            lower_arrays.not_an_array(self, item, var)
            return None
        return lower_arrays.dep(self, item, var, guard)

    def sites_of(self, expr: ir.Expr) -> frozenset[int]:
        ty = expr.ty
        if not isinstance(ty, ir.TaskTy):
            return frozenset()
        return ty.sites | ({NONE_SITE} if ty.maybe_none else frozenset())

    def expr(self, e: n.Expr) -> ir.Expr:
        return lower_expr(self, e)


def _func_id_clash(k: n.Kernel, other: ir.Kernel) -> int | None:
    """The func_id two kernels cannot share: the same id on different core types, or on
    two single-core kernels (a mix kernel may reuse the id of a slot's kernel), unless
    both name the same implementation: two views of one in-core kernel (called with other
    argument directions, as the runtime's C++ may)."""
    same_kernel = k.impl is not None and other.impl is not None \
        and k.impl.value == other.impl.value
    for slot, fid in k.func_ids:
        for other_slot, other_fid in other.func_ids:
            if fid != other_fid:
                continue
            cube, other_cube = slot == "aic", other_slot == "aic"
            if cube != other_cube or (k.core != "mix" and other.core != "mix"
                                      and not same_kernel):
                return fid
    return None


def _join(a: State, b: State) -> State:
    out = dict(a)
    for var, sites in b.items():
        out[var] = out.get(var, frozenset()) | sites
    return out


def _collect_lets(block: n.Block) -> list[tuple[str, Span]]:
    out: list[tuple[str, Span]] = []
    for s in block.stmts:
        if isinstance(s, n.Let):
            out.append((s.name.name, s.name.span))
        elif isinstance(s, (n.For, n.Scope)):
            out.extend(_collect_lets(s.body))
        elif isinstance(s, n.If):
            out.extend(_collect_lets(s.then))
            if s.orelse is not None:
                out.extend(_collect_lets(s.orelse))
    return out


def lower(program: n.Program, sink: DiagnosticSink) -> ir.Program | None:
    """Lower a whole program into `sink`; None (with errors in the sink) if it has errors."""
    lowered = Lowerer(program, sink).program()
    return None if sink.has_errors else lowered
