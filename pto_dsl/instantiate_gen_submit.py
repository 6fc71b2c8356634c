"""Instantiation as generated Python: the writer's primitives and the submissions.

`Writer` holds what the generated function is made of (its lines, its locals, the globals it
refers to) and writes out a plain submission: `compile_submit` and `add_task` for the site's
arguments, whose tags, names and signature are known here. `instantiate_gen` adds the
statements and expressions.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from pto_dsl import ir
from pto_dsl.graph import EXPLICIT_ONLY, Access, Buffer, Origin, Task
from pto_dsl.instantiate_expr import _max, _min
from pto_dsl.instantiate_host import Unknown, UnknownUsed, check_index, read_point
from pto_dsl.instantiate_submit import CREATOR_ONLY, dims_checker, dims_plan
from pto_dsl.regions import Region
from pto_dsl.types import MAX_DIM
from pto_dsl.values import TensorVal, add_fanin

if TYPE_CHECKING:
    from pto_dsl.instantiate import Instantiator

TAGS = {tag: tag.name for tag in ir.Tag}  # each tag, a global of the generated code


def base() -> type[Instantiator]:
    from pto_dsl.instantiate import Instantiator  # (it imports this module)

    return Instantiator


class Writer(abc.ABC):
    """The generated function's lines, locals and globals, and its submissions. Named
    tuples are made as `new(Access, (...))`, `tuple.__new__` of the class: what their
    generated `__new__` does, without its Python frame."""

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
            **{name: tag for tag, name in TAGS.items()}}
        self.count = 0  # globals (k1, ...) and locals kept across iterations (c1, ...)
        self.temps = 0  # the statement's locals (t1, ...)
        self.loops = 0  # the loops around the statement being written
        # an Instantiator subclass that makes its own submissions or scopes, with no
        # writer of its own (the simulator's lowering has one), gets those through its
        # `stmt`; loops, branches and expressions are written out
        plain = base()
        self.own_statements = type(inst).stmt is plain.stmt
        self.own_scopes = self.own_statements and type(inst).scope is plain.scope
        self.outputs: dict[tuple[int, str], int] | None = None  # see output_index

    # ---- names and lines -----------------------------------------------------------------
    def const(self, value: Any) -> str:
        """A global of the generated code holding `value`."""
        self.count += 1
        name = f"k{self.count}"
        self.ns[name] = value
        return name

    def temp(self) -> str:
        """A local for one statement: `block` gives its names back after each statement,
        so a long body needs few locals (Python compiles a function of 10^5 locals slowly)."""
        self.temps += 1
        return f"t{self.temps}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def assign(self, depth: int, text: str) -> str:
        """A new local set to `text`."""
        t = self.temp()
        self.line(depth, f"{t} = {text}")
        return t

    @abc.abstractmethod
    def expr(self, e: ir.Expr, d: int) -> str:
        """An atom holding `e`'s value (`instantiate_gen` writes expressions)."""

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
        self.check_dims(kernel, tensor_args, [f"{acc}.region.sizes" for acc in accesses],
                        f"[{', '.join(accesses)}]", d)
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

    def dep_task(self, dep: ir.Dep, d: int) -> tuple[str, int]:
        """A dep's task value (None: it names no task) under the dep's guard: its name and
        the depth of the lines that use it."""
        depth = d
        if dep.guard is not None:
            self.line(d, f"if {self.expr(dep.guard, d)}:")
            depth = d + 1
        return self.assign(depth, f"f[{dep.var.slot}]"), depth

    def deps(self, deps: tuple[ir.Dep, ...], d: int) -> tuple[str | None, str | None]:
        """The producers and dep-item indices lists, as `_deps` builds them."""
        if not deps:
            return None, None
        producers, items = self.assign(d, "[]"), self.assign(d, "[]")
        for index, dep in enumerate(deps):
            task, depth = self.dep_task(dep, d)
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
        make = (f"new(Access, ({tv}.buffer, {tv}.region, {TAGS[a.tag]}, {a.param.name!r}, "
                f"{tv}.manual_dep))")
        if isinstance(a.tensor, ir.View):  # a new value each time
            return self.assign(d, make)
        self.count += 2
        seen, made = f"c{self.count - 1}", f"c{self.count}"
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
                   sizes: list[str], checked: str, d: int) -> None:
        """`dims_checker`'s flat test written out, on each argument's `sizes` (an
        expression); a mismatch runs the general check on `checked` (its list)."""
        fixed, same = dims_plan(args)
        tests = [f"{sizes[ai]}[{dim}] != {want}" for ai, dim, want in fixed]
        tests += [f"{sizes[ai]}[{di}] != {sizes[aj]}[{dj}]" for ai, di, aj, dj in same]
        if tests:
            check = dims_checker(self.inst, kernel, args, fast=False)
            self.line(d, f"if {' or '.join(tests)}: {self.const(check)}({checked})")

    def scalar(self, e: ir.Expr, d: int) -> str:
        """A kernel scalar: `known` of its value."""
        value = self.assign(d, self.expr(e, d))
        self.line(d, f"if type({value}) is Unknown: raise UnknownUsed({value})")
        return value
