"""Instantiation as generated Python: the entry's body as the source of one function.

The closures of `Instantiator.stmt` and `compile_expr` interpret the IR: every statement,
operation, view and argument is a call through a closure. Here the body becomes
straight-line Python instead: loops are `for` loops, expressions three-address statements
on locals (in the closures' order of evaluation, with their checks), and views, tensor
arguments and the common submission are written out. A statement or expression it does not
write out runs its closure from the generated code, so anything rare keeps the closures'
code, and `tests/test_instantiate_gen.py` pins the two paths to the same graphs and errors.
The writer's primitives and the submissions are in `instantiate_gen_submit`.
"""

from __future__ import annotations

import functools
from types import CodeType
from typing import TYPE_CHECKING, Any

from pto_dsl import ir
from pto_dsl.instantiate_expr import _bad_slice, _overflow
from pto_dsl.instantiate_gen_submit import Writer, base
from pto_dsl.types import INT64_MAX, INT64_MIN

if TYPE_CHECKING:
    from pto_dsl.instantiate import Instantiator, Run

# Python allows 20 statically nested blocks; past this depth a statement runs its closure.
MAX_DEPTH = 16
# Python compiles about 2.5 MB of source a second, and a loop's source saves about 7 µs
# per task each time it runs, so a loop body must run some 80 times to pay for itself
# whatever its size; a loop whose source is longer than this (about 200 submissions,
# 0.1 s to compile) runs its closures, which bounds what a program that runs a long body
# only a few times can lose.
MAX_LOOP_SOURCE = 250_000
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


def generate(inst: Instantiator, body: tuple[ir.Stmt, ...]) -> Run:
    """The body as one generated function of the frame, written by the instantiator's
    `writer`."""
    gen = inst.writer(inst)
    gen.block(body, 1)
    source = "def run(f):\n" + "".join(f"    {line}\n" for line in gen.prologue) + \
        "\n".join(gen.lines) + "\n"
    try:
        code = _compiled(source, f"<instantiation of {inst.program.name}>")
    except (SyntaxError, RecursionError, MemoryError):  # nested past Python's limits
        return inst.block(body)
    exec(code, gen.ns)
    run: Run = gen.ns["run"]
    return run


@functools.lru_cache(maxsize=16)
def _compiled(source: str, name: str) -> CodeType:
    """The code of a generated source: the same program gives the same source, so every
    case of a program (and every re-check of an unchanged one) compiles it once."""
    return compile(source, name, "exec")


class Gen(Writer):
    """Writes a body for `Instantiator`: the graph's tasks (a subclass of it, the
    simulator's lowering, writes its own submissions and scopes)."""

    # ---- statements ----------------------------------------------------------------------
    def block(self, stmts: tuple[ir.Stmt, ...], depth: int) -> None:
        start = len(self.lines)
        for s in stmts:
            mark = self.temps
            self.stmt(s, depth)
            self.temps = mark  # its locals are dead: the next statement reuses the names
        if len(self.lines) == start:
            self.line(depth, "pass")

    def stmt(self, s: ir.Stmt, d: int) -> None:
        """A statement written out; outside loops (run once: writing it out gains nothing
        and a long straight program would be slow to compile) and past `MAX_DEPTH`, all
        but loops, branches and scopes run their closures."""
        if d > MAX_DEPTH or (not self.loops and not isinstance(
                s, (ir.ForStmt, ir.IfStmt, ir.ScopeStmt))):
            self.line(d, f"{self.const(self.inst.stmt(s))}(f)")
        elif isinstance(s, (ir.LetStmt, ir.AssignStmt)):
            self.line(d, f"f[{s.var.slot}] = {self.expr(s.value, d)}")
        elif isinstance(s, ir.ForStmt):
            self.for_(s, d)
        elif isinstance(s, ir.IfStmt):
            self.line(d, f"if {self.expr(s.cond, d)}:")
            self.block(s.then, d + 1)
            if s.orelse:
                self.line(d, "else:")
                self.block(s.orelse, d + 1)
        elif isinstance(s, ir.ScopeStmt) and self.own_scopes:
            self.scope(s, d)
        elif isinstance(s, ir.Submit) and self.own_statements and self.plain(s):
            self.submit(s, d)
        else:
            self.line(d, f"{self.const(self.inst.stmt(s))}(f)")

    def scope(self, s: ir.ScopeStmt, d: int) -> None:
        """`Instantiator.scope`, written out."""
        self.line(d, f"inst.open_scope({self.const(s.scope)})")
        self.block(s.body, d)
        self.line(d, "inst.close_scope()")

    def for_(self, s: ir.ForStmt, d: int) -> None:
        """`Instantiator.for_`, written out: step, its check, bounds, the iteration count.
        A loop whose source is over `MAX_LOOP_SOURCE` is not written out (see there)."""
        start = len(self.lines)
        step = "1"
        if s.step is not None:
            step = self.assign(d, self.expr(s.step, d))
            inst, span = self.inst, s.step.span

            def bad_step(value: int) -> None:
                inst.fail("E170", f"the loop step is {value}; it must be positive", span)
            self.line(d, f"if {step} <= 0: {self.const(bad_step)}({step})")
        outer = self.assign(d, "inst.instance")
        first = self.assign(d, self.expr(s.start, d))
        last = self.assign(d, self.expr(s.stop, d))
        self.line(d, f"if {last} > {first}: inst.count_iterations(({last} - {first} + {step}"
                     f" - 1) // {step}, {self.const(s.span)})")
        i = self.temp()
        self.line(d, f"for {i} in range({first}, {last}, {step}):")
        self.line(d + 1, f"f[{s.var.slot}] = {i}")
        self.line(d + 1, f"inst.instance = {outer} + (({s.var.name!r}, {i}),)")
        self.loops += 1
        self.block(s.body, d + 1)
        self.loops -= 1
        self.line(d, f"inst.instance = {outer}")
        if sum(map(len, self.lines[start:])) > MAX_LOOP_SOURCE:
            # too long to compile for what it may save: the loop runs as a closure, its
            # body as a function of its own whose loops are written out (and the rest not)
            del self.lines[start:]
            loop = self.inst.for_(s, generate(self.inst, s.body))
            self.line(d, f"{self.const(loop)}(f)")
    # ---- expressions ---------------------------------------------------------------------
    def expr(self, e: ir.Expr, d: int) -> str:
        """An atom (a constant, a frame slot or a local) holding `e`'s value, after lines
        that compute it as `compile_expr`'s closure does."""
        if isinstance(e, ir.Const):
            value = e.value
            return repr(value) if value is None or type(value) in (bool, int) \
                else self.const(value)
        if isinstance(e, ir.Load):
            return f"f[{e.var.slot}]"
        if isinstance(e, ir.Binary) and e.op in ("and", "or"):
            result = self.assign(d, self.expr(e.left, d))
            self.line(d, f"if {'' if e.op == 'and' else 'not '}{result}:")
            self.line(d + 1, f"{result} = {self.expr(e.right, d + 1)}")
            return result
        if isinstance(e, ir.Binary) and e.ty == ir.INT and e.op in ("+", "-", "*"):
            left, right = self.expr(e.left, d), self.expr(e.right, d)
            return self.int64(self.assign(d, f"{left} {e.op} {right}"), e.span, d)
        if isinstance(e, ir.Binary) and e.op in _COMPARE and e.ty != ir.FLOAT:
            left, right = self.expr(e.left, d), self.expr(e.right, d)
            return self.assign(d, f"{left} {e.op} {right}")
        if isinstance(e, ir.Binary) and e.op in ("min", "max") and e.ty == ir.INT:
            left, right = self.expr(e.left, d), self.expr(e.right, d)
            return self.assign(d, f"_{e.op}({left}, {right})")
        if isinstance(e, ir.UnaryOp) and e.op == "not":
            return self.assign(d, f"not {self.expr(e.operand, d)}")
        if isinstance(e, ir.UnaryOp) and e.ty == ir.INT:
            return self.int64(self.assign(d, f"-{self.expr(e.operand, d)}"), e.span, d)
        if isinstance(e, ir.View) and len(e.slices) == _rank(e.tensor):
            return self.view(e, d)
        if isinstance(e, ir.OutputOf) and isinstance(e.task, ir.Load):
            return self.output_of(e, d)
        if isinstance(e, ir.ElementRead) and len(e.indices) == _rank(e.tensor):
            return self.element_read(e, d)
        return self.assign(d, f"{self.const(self.inst.expr(e))}(f)")

    def int64(self, value: str, span: Any, d: int) -> str:
        """`_int64`'s check of an integer result."""
        inst = self.inst

        def overflow(v: int) -> None:
            _overflow(inst, v, span)
        self.line(d, f"if type({value}) is not Unknown and not {INT64_MIN} <= {value} <= "
                     f"{INT64_MAX}: {self.const(overflow)}({value})")
        return value

    def view(self, e: ir.View, d: int) -> str:
        """`_view`, written out: per dimension lo, hi and their check, then the region."""
        tv, region, _ = self.view_region(e, d)
        return self.assign(d, f"new(TensorVal, ({tv}.buffer, {region}, False))")

    def view_region(self, e: ir.View, d: int) -> tuple[str, str, str]:
        """The viewed tensor value (an atom), the view's region (an expression) and its
        sizes (an atom)."""
        tv = self.assign(d, self.expr(e.tensor, d))
        region = self.assign(d, f"{tv}.region")
        sizes = self.assign(d, f"{region}.sizes")
        inst = self.inst

        def bad(lo: int, hi: int, dim: int, size: int, span: Any) -> None:
            _bad_slice(inst, lo, hi, dim, size, span)
        check = self.const(bad)
        bounds = []
        for dim, sl in enumerate(e.slices):
            lo = self.assign(d, self.expr(sl.lo, d)) if sl.lo is not None else "0"
            hi = self.assign(d, self.expr(sl.hi, d) if sl.hi is not None
                             else f"{sizes}[{dim}]")
            self.line(d, f"if not 0 <= {lo} < {hi} <= {sizes}[{dim}]: {check}({lo}, {hi}, "
                         f"{dim}, {sizes}[{dim}], {self.const(sl.span)})")
            bounds.append((lo, hi))
        shapes = self.const({})
        shape = self.assign(d, "(" + "".join(f"{hi} - {lo}, " for lo, hi in bounds) + ")")
        self.line(d, f"{shape} = {shapes}.setdefault({shape}, {shape})")
        offsets = "(" + "".join(f"{region}.offsets[{dim}] + {lo}, "
                                for dim, (lo, _) in enumerate(bounds)) + ")"
        return tv, f"new(Region, ({region}.layout, {offsets}, {shape}))", shape

    def element_read(self, e: ir.ElementRead, d: int) -> str:
        """`_element_read`: the index checked as `check_index` does, then the read."""
        tv = self.assign(d, self.expr(e.tensor, d))
        index = [self.assign(d, self.expr(i, d)) for i in e.indices]
        sizes = self.assign(d, f"{tv}.region.sizes")
        inside = " and ".join(f"0 <= {i} < {sizes}[{dim}]" for dim, i in enumerate(index))
        point, span = "(" + "".join(i + ", " for i in index) + ")", self.const(e.span)
        self.line(d, f"if not ({inside}): check_index(inst, {tv}, {point}, {span})")
        if type(self.inst).host_read is not base().host_read:  # a subclass reads
            return self.assign(d, f"inst.host_read({tv}, {point}, {span})")
        region = self.assign(d, f"{tv}.region")
        offsets = "(" + "".join(f"{region}.offsets[{dim}] + {i}, "
                                for dim, i in enumerate(index)) + ")"
        ones = "(" + "1, " * len(index) + ")"
        at = self.assign(d, f"new(Region, ({region}.layout, {offsets}, {ones}))")
        return self.assign(d, f"read_point(inst, {tv}, {at}, {span})")

    def output_of(self, e: ir.OutputOf, d: int) -> str:
        """`_output_of`: a graph Task's output (`Task.output`; for a task of a site whose
        outputs are known here, the access at its index); anything else (none) runs the
        closure."""
        assert isinstance(e.task, ir.Load)
        task = self.assign(d, f"f[{e.task.var.slot}]")
        at = self.output_index(e)
        if at is not None:
            index, sites = at
            self.line(d, f"if type({task}) is Task and {task}.site in {self.const(sites)}: "
                         f"{task} = {task}.accesses[{index}]")
            self.line(d, f"elif type({task}) is Task: {task} = {task}.output({e.name!r})")
        else:
            self.line(d, f"if type({task}) is Task: {task} = {task}.output({e.name!r})")
        self.line(d, f"else: {task} = {self.const(self.inst.expr(e))}(f)")
        return task

    def output_index(self, e: ir.OutputOf) -> tuple[int, frozenset[int]] | None:
        """The index of output `e.name` among the accesses of the tasks of most of the
        sites the task may come from, and those sites (a kernel's parameter names are
        distinct, so that access is the one `Task.output` finds)."""
        ty = e.task.ty
        if not isinstance(ty, ir.TaskTy):
            return None
        if self.outputs is None:
            self.outputs = _output_indices(self.inst.program.body)
        by_index: dict[int, set[int]] = {}
        for site in ty.sites:
            index = self.outputs.get((site, e.name))
            if index is not None:
                by_index.setdefault(index, set()).add(site)
        if not by_index:
            return None
        index = max(by_index, key=lambda i: len(by_index[i]))
        return index, frozenset(by_index[index])


def _output_indices(body: tuple[ir.Stmt, ...]) -> dict[tuple[int, str], int]:
    """(site id, output name) -> the index of that output among the site's tasks'
    accesses: a `new` argument's among the tensor arguments, an alloc item's among the
    items."""
    found: dict[tuple[int, str], int] = {}
    for s in ir.walk_stmts(body):
        if isinstance(s, ir.Submit):
            tensors = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
            found.update(((s.site.id, a.param.name), i) for i, a in enumerate(tensors)
                         if isinstance(a, ir.NewArg))
        elif isinstance(s, ir.AllocStmt):
            found.update(((s.site.id, item.name), i) for i, item in enumerate(s.items))
    return found


def _rank(e: ir.Expr) -> int | None:
    ty = e.ty
    return ty.rank if isinstance(ty, ir.TensorTy) else None
