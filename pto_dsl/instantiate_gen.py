"""Instantiation as generated Python: the entry's body as the source of one function.

The closures of `Instantiator.stmt` and `compile_expr` interpret the IR: every statement,
operation, view and argument is a call through a closure. Here the body becomes
straight-line Python instead: loops are `for` loops, expressions three-address statements
on locals (in the closures' order of evaluation, with their checks), and views, tensor
arguments and the common submission are written out. A statement or expression it does not
write out runs its closure from the generated code, so anything rare keeps the closures'
code, and `tests/test_instantiate_gen.py` pins the two paths to the same graphs and errors.
"""

from __future__ import annotations

import functools
from types import CodeType
from typing import TYPE_CHECKING, Any

from pto_dsl import ir
from pto_dsl.graph import EXPLICIT_ONLY, Access, Buffer, Origin, Task
from pto_dsl.instantiate_expr import _bad_slice, _max, _min, _overflow
from pto_dsl.instantiate_host import Unknown, UnknownUsed, check_index, read_point
from pto_dsl.instantiate_submit import CREATOR_ONLY, dims_checker, dims_plan
from pto_dsl.regions import Region
from pto_dsl.types import INT64_MAX, INT64_MIN, MAX_DIM
from pto_dsl.values import TensorVal, add_fanin

if TYPE_CHECKING:
    from pto_dsl.instantiate import Instantiator, Run

# Named tuples are made as `new(Access, (...))`, `tuple.__new__` of the class: what their
# generated `__new__` does, without its Python frame.
# Python allows 20 statically nested blocks; past this depth a statement runs its closure.
MAX_DEPTH = 16
_TAGS = {ir.Tag.INPUT: "INPUT", ir.Tag.INOUT: "INOUT", ir.Tag.OUTPUT: "OUTPUT",
         ir.Tag.OUTPUT_EXISTING: "OUTPUT_EXISTING"}
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


def generate(inst: Instantiator, body: tuple[ir.Stmt, ...]) -> Run:
    """The body as one generated function of the frame."""
    gen = _Gen(inst)
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


def _base() -> type[Instantiator]:
    from pto_dsl.instantiate import Instantiator  # (it imports this module)

    return Instantiator


@functools.lru_cache(maxsize=16)
def _compiled(source: str, name: str) -> CodeType:
    """The code of a generated source: the same program gives the same source, so every
    case of a program (and every re-check of an unchanged one) compiles it once."""
    return compile(source, name, "exec")


class _Gen:
    def __init__(self, inst: Instantiator) -> None:
        self.inst = inst
        self.lines: list[str] = []
        self.prologue: list[str] = []  # the function's first lines (locals kept across loops)
        graph = inst.graph
        self.ns: dict[str, Any] = {
            "inst": inst, "graph": graph, "tasks": graph._tasks, "buffers": graph.buffers,
            "records": graph.records, "written": inst.written, "tmap": inst.tmap,
            "new": tuple.__new__, "Access": Access, "Buffer": Buffer, "Task": Task,
            "Region": Region,
            "TensorVal": TensorVal, "Unknown": Unknown, "UnknownUsed": UnknownUsed,
            "EXPLICIT_ONLY": EXPLICIT_ONLY, "check_index": check_index,
            "read_point": read_point,
            "add_fanin": add_fanin, "CREATOR": Origin.CREATOR, "TENSORMAP": Origin.TENSORMAP,
            "CREATOR_ONLY": CREATOR_ONLY, "_min": _min, "_max": _max,
            **{name: tag for tag, name in _TAGS.items()}}
        self.count = 0
        # a subclass (the simulator's lowering) that makes its own submissions or scopes
        # gets those through its `stmt`; loops, branches and expressions are written out
        base = _base()
        self.own_statements = type(inst).stmt is base.stmt
        self.own_scopes = self.own_statements and type(inst).scope is base.scope
        self.outputs: dict[tuple[int, str], int] | None = None  # see output_index

    # ---- names and lines -----------------------------------------------------------------
    def const(self, value: Any) -> str:
        """A global of the generated code holding `value`."""
        self.count += 1
        name = f"k{self.count}"
        self.ns[name] = value
        return name

    def temp(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def assign(self, depth: int, text: str) -> str:
        """A new local set to `text`."""
        t = self.temp()
        self.line(depth, f"{t} = {text}")
        return t

    # ---- statements ----------------------------------------------------------------------
    def block(self, stmts: tuple[ir.Stmt, ...], depth: int) -> None:
        start = len(self.lines)
        for s in stmts:
            self.stmt(s, depth)
        if len(self.lines) == start:
            self.line(depth, "pass")

    def stmt(self, s: ir.Stmt, d: int) -> None:
        if d > MAX_DEPTH:
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
            self.line(d, f"inst.open_scope({self.const(s.scope)})")
            self.block(s.body, d)
            self.line(d, "inst.close_scope()")
        elif isinstance(s, ir.Submit) and self.own_statements and self.plain(s):
            self.submit(s, d)
        else:
            self.line(d, f"{self.const(self.inst.stmt(s))}(f)")

    def for_(self, s: ir.ForStmt, d: int) -> None:
        """`Instantiator.for_`, written out: step, its check, bounds, the iteration count."""
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
        self.block(s.body, d + 1)
        self.line(d, f"inst.instance = {outer}")

    # ---- submissions ---------------------------------------------------------------------
    def plain(self, s: ir.Submit) -> bool:
        """A submission written out here: a kernel, no launch, predicate, early resolve,
        task-id array or watcher (those run `compile_submit`'s closure)."""
        return (s.site.kernel is not None and s.launch is None and s.predicate is None
                and s.early is None and s.index is None and not any(d.array for d in s.deps)
                and s.site.id not in self.inst.watchers)

    def submit(self, s: ir.Submit, d: int) -> None:
        """`compile_submit` and `add_task`, written out for a plain submission."""
        site, kernel = s.site, s.site.kernel
        assert kernel is not None
        producers, items = self.deps(s.deps, d)
        tid = self.assign(d, "len(tasks)")
        tensor_args = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
        accesses = [self.tensor_arg(a, kernel, tid, d) if isinstance(a, ir.TensorArg)
                    else self.new_arg(a, kernel, tid, d) for a in tensor_args]
        self.check_dims(kernel, tensor_args, accesses, d)
        scalars = [self.scalar(a.value, d) for a in s.args if isinstance(a, ir.ScalarArg)]
        place = self.assign(d, "inst.placement")
        func_id = kernel.func_id if kernel.func_ids else None
        fields = (f"{tid}, {site.id}, {site.label!r}, {kernel.core!r}, {func_id!r}, "
                  f"{place}[0], {place}[1], {place}[2], ({''.join(a + ', ' for a in accesses)}),"
                  f" ({''.join(v + ', ' for v in scalars)}), inst.instance, "
                  f"{self.const(site.span)}")
        if producers:
            fields += f", tuple({producers}), tuple({items})"
        task = self.assign(d, f"Task({fields})")
        fanin = self.temp()
        if producers:
            self.line(d, f"if {producers}:")
            self.line(d + 1, f"{fanin} = dict.fromkeys({task}.explicit_deps, EXPLICIT_ONLY)")
            self.line(d + 1, f"records['explicit'] += len({fanin})")
            self.line(d, "else:")
            self.line(d + 1, f"{fanin} = {{}}")
        else:
            self.line(d, f"{fanin} = {{}}")
        tags = [a.tag if isinstance(a, ir.TensorArg) else ir.Tag.OUTPUT for a in tensor_args]
        self.line(d, "if inst.manual_depth is None:")
        self.auto_fanin(list(zip(accesses, tags)), tid, fanin, d + 1)
        for a, acc in zip(tensor_args, accesses):  # regions written, for orchestration reads
            if isinstance(a, ir.TensorArg) and a.tag is not ir.Tag.INPUT:
                self.line(d, f"written.setdefault({acc}.buffer.id, []).append(({acc}.region, "
                             f"{tid}))")
        self.line(d, f"graph.add_task({task}, {fanin})")
        self.line(d, f"inst.count_task({self.const(site.span)})")
        if s.target is not None:
            self.line(d, f"f[{s.target.slot}] = {task}")

    def auto_fanin(self, accesses: list[tuple[str, ir.Tag]], tid: str, fanin: str,
                   d: int) -> None:
        """`instantiate_submit._auto_fanin` written out for the site's argument tags:
        Steps A, B and 4 and the deps.json record counts, `OUTPUT` arguments skipped."""
        looked = [(acc, tag) for acc, tag in accesses if tag is not ir.Tag.OUTPUT]
        if not looked:
            self.line(d, "pass")
            return
        creators, hits = self.assign(d, "0"), self.assign(d, "0")
        ranges: dict[str, str] = {}  # an INOUT access's flat range, for its insert
        for acc, tag in looked:
            owner = self.assign(d, f"{acc}.buffer.owner")
            self.line(d, f"if {owner} is not None:")
            self.line(d + 1, f"if {owner} not in {fanin}: {creators} += 1; "
                             f"{fanin}[{owner}] = CREATOR_ONLY")
            self.line(d + 1, f"else: add_fanin({fanin}, {owner}, CREATOR)")
            if tag is ir.Tag.OUTPUT_EXISTING:
                continue
            self.line(d, f"if not {acc}.manual_dep:")
            if tag is ir.Tag.INOUT:
                ranges[acc] = self.assign(d + 1, f"{acc}.region.flat_range()")
                found = self.assign(d + 1, f"tmap.lookup({acc}.buffer, {acc}.region, True, "
                                           f"{ranges[acc]})")
            else:
                found = self.assign(d + 1, f"tmap.lookup({acc}.buffer, {acc}.region, False)")
            self.line(d + 1, f"if {found}:")
            self.line(d + 2, f"{hits} += len({found})")
            self.line(d + 2, f"for p in {found}: add_fanin({fanin}, p, TENSORMAP)")
        self.line(d, f"if {creators}: records['creator'] += {creators}")
        self.line(d, f"if {hits}: records['tensormap'] += {hits}")
        for acc, tag in looked:
            if tag is ir.Tag.INOUT or tag is ir.Tag.OUTPUT_EXISTING:
                flat = f", {ranges[acc]}" if acc in ranges else ""
                self.line(d, f"if not {acc}.manual_dep: tmap.insert({acc}.buffer, {acc}.region, "
                             f"{tid}{flat})")

    def deps(self, deps: tuple[ir.Dep, ...], d: int) -> tuple[str | None, str | None]:
        """The producers and dep-item indices lists, as `_deps` builds them."""
        if not deps:
            return None, None
        producers, items = self.assign(d, "[]"), self.assign(d, "[]")
        for index, dep in enumerate(deps):
            depth = d
            if dep.guard is not None:
                self.line(d, f"if {self.expr(dep.guard, d)}:")
                depth = d + 1
            task = self.assign(depth, f"f[{dep.var.slot}]")
            self.line(depth, f"if {task} is not None:")
            self.line(depth + 1, f"{producers}.append({task}.id)")
            self.line(depth + 1, f"{items}.append({index})")
        return producers, items

    def tensor_arg(self, a: ir.TensorArg, kernel: ir.Kernel, tid: str, d: int) -> str:
        """The argument's Access. A variable or an output often gives the same tensor value
        to every task of a loop (a scope's buffer, a view made outside the loop): then
        the access made last time is the one (accesses are immutable), shared."""
        tv = self.expr(a.tensor, d)
        if not isinstance(a.tensor, ir.View):
            tv = self.assign(d, tv)
        make = (f"new(Access, ({tv}.buffer, {tv}.region, {_TAGS[a.tag]}, {a.param.name!r}, "
                f"{tv}.manual_dep))")
        if isinstance(a.tensor, ir.View):  # a new value each time
            return self.assign(d, make)
        seen, made = self.temp(), self.temp()
        self.prologue += [f"{seen} = None", f"{made} = None"]
        self.line(d, f"if {tv} is not {seen}: {made} = {make}; {seen} = {tv}")
        return made

    def new_arg(self, a: ir.NewArg, kernel: ir.Kernel, tid: str, d: int) -> str:
        """`_new_maker`: one region per shape made, a Buffer per task."""
        dims = [self.expr(x, d) for x in a.dims]
        shape = self.assign(d, "(" + "".join(x + ", " for x in dims) + ")")
        inst, name, span = self.inst, a.param.name, a.span
        whole: dict[tuple[int, ...], Region] = {}

        def first(shape: tuple[int, ...]) -> Region:
            if min(shape) <= 0 or max(shape) > MAX_DIM:
                inst.fail("E170", f"output '{name}' has shape {list(shape)}; every "
                          "dimension must be positive and fit in a uint32", span)
            region = whole[shape] = Region(shape, (0,) * len(shape), shape)
            return region
        region = self.assign(d, f"{self.const(whole)}.get({shape})")
        self.line(d, f"if {region} is None: {region} = {self.const(first)}({shape})")
        buf = self.assign(d, f"new(Buffer, (len(buffers), {kernel.name + '#'!r} + str({tid}) + "
                             f"{'.' + name!r}, {a.dtype!r}, {region}.sizes, {tid}))")
        self.line(d, f"buffers.append({buf})")
        return self.assign(d, f"new(Access, ({buf}, {region}, OUTPUT, {name!r}, False))")

    def check_dims(self, kernel: ir.Kernel, args: list[ir.TensorArg | ir.NewArg],
                   accesses: list[str], d: int) -> None:
        """`dims_checker`'s flat test written out; a mismatch runs the general check."""
        fixed, same = dims_plan(args)
        tests = [f"{accesses[ai]}.region.sizes[{dim}] != {want}" for ai, dim, want in fixed]
        tests += [f"{accesses[ai]}.region.sizes[{di}] != {accesses[aj]}.region.sizes[{dj}]"
                  for ai, di, aj, dj in same]
        if tests:
            check = dims_checker(self.inst, kernel, args, fast=False)
            self.line(d, f"if {' or '.join(tests)}: {self.const(check)}([{', '.join(accesses)}])")

    def scalar(self, e: ir.Expr, d: int) -> str:
        """A kernel scalar: `known` of its value."""
        value = self.assign(d, self.expr(e, d))
        self.line(d, f"if type({value}) is Unknown: raise UnknownUsed({value})")
        return value

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
        return self.assign(d, f"new(TensorVal, ({tv}.buffer, new(Region, ({region}.layout, "
                              f"{offsets}, {shape})), False))")

    def element_read(self, e: ir.ElementRead, d: int) -> str:
        """`_element_read`: the index checked as `check_index` does, then the read."""
        tv = self.assign(d, self.expr(e.tensor, d))
        index = [self.assign(d, self.expr(i, d)) for i in e.indices]
        sizes = self.assign(d, f"{tv}.region.sizes")
        inside = " and ".join(f"0 <= {i} < {sizes}[{dim}]" for dim, i in enumerate(index))
        point, span = "(" + "".join(i + ", " for i in index) + ")", self.const(e.span)
        self.line(d, f"if not ({inside}): check_index(inst, {tv}, {point}, {span})")
        if type(self.inst).host_read is not _base().host_read:  # a subclass reads
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
    for s in body:
        if isinstance(s, ir.Submit):
            tensors = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
            found.update(((s.site.id, a.param.name), i) for i, a in enumerate(tensors)
                         if isinstance(a, ir.NewArg))
        elif isinstance(s, ir.AllocStmt):
            found.update(((s.site.id, item.name), i) for i, item in enumerate(s.items))
        elif isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            found.update(_output_indices(s.body))
        elif isinstance(s, ir.IfStmt):
            found.update(_output_indices(s.then))
            found.update(_output_indices(s.orelse))
    return found


def _rank(e: ir.Expr) -> int | None:
    ty = e.ty
    return ty.rank if isinstance(ty, ir.TensorTy) else None
