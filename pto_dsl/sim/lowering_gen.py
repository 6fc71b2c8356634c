"""The simulator's lowering as generated Python: `instantiate_gen` with the lowering's own
submissions and scopes, written out as calls on the runtime model.

`Gen` writes loops, branches and expressions; here a plain submission becomes the lines of
`Lowering.submit`'s closure (its arguments as runtime `Tensor`s and create-infos, the dims
check, the `Arg`, the submit and the task's value) and a scope the lowering's
`scope_begin`/`scope_end`. Anything else runs the lowering's closures, and
`tests/test_sim_gen.py` pins the two paths to the same runs and errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from pto_dsl import ir
from pto_dsl.instantiate_gen import Gen, _rank
from pto_dsl.sim.api import (
    INVALID_TASK_ID,
    Arg,
    ScopeMode,
    Tensor,
    TensorArgType,
    TensorCreateInfo,
)

if TYPE_CHECKING:
    from pto_dsl.sim.lowering import Lowering

# an existing tensor argument's tag in the Arg (a `new` one is OUTPUT)
TAGS = {ir.Tag.INPUT: TensorArgType.INPUT, ir.Tag.INOUT: TensorArgType.INOUT,
         ir.Tag.OUTPUT_EXISTING: TensorArgType.OUTPUT_EXISTING}


class LoweringGen(Gen):
    """Writes a body for `Lowering`."""

    inst: Lowering

    def __init__(self, inst: Lowering) -> None:
        from pto_dsl.sim.lowering import SimTask, TaskTag  # (it imports this module)

        super().__init__(inst)
        self.own_statements = self.own_scopes = True
        self.ns.update({
            "rt": inst.rt, "limits": inst.limits, "entry_written": inst.entry_written,
            "Arg": Arg, "Tensor": Tensor, "SimTask": SimTask, "TaskTag": TaskTag,
            "INVALID_TASK_ID": INVALID_TASK_ID})

    def scope(self, s: ir.ScopeStmt, d: int) -> None:
        """`Lowering.scope`, written out."""
        mode = self.const(ScopeMode.MANUAL if s.scope.manual else ScopeMode.AUTO)
        span = self.const(s.span)
        self.line(d, f"rt.scope_begin({mode})")
        self.line(d, f"if rt.fatal_code: inst.check_fatal({span})")
        self.block(s.body, d)
        self.line(d, "rt.scope_end()")
        self.line(d, f"if rt.fatal_code: inst.check_fatal({span})")

    def plain(self, s: ir.Submit) -> bool:
        """A submission written out here: a kernel, no predicate or task-id array."""
        return (s.site.kernel is not None and s.predicate is None and s.index is None
                and not any(d.array for d in s.deps))

    def submit(self, s: ir.Submit, d: int) -> None:
        """`Lowering.submit`, written out for a plain submission, in its order: the
        tensor arguments, the dims check, the scalars, the deps, the launch."""
        from pto_dsl.sim.lowering import kernel_ids

        site, kernel = s.site, s.site.kernel
        assert kernel is not None
        tensor_args = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
        items: list[str] = []
        sizes: list[str] = []
        for a in tensor_args:
            item, size = self.tensor_item(a, d) if isinstance(a, ir.TensorArg) \
                else self.create_info(a, d)
            items.append(item)
            sizes.append(size)
        as_sized = self.const(sized)  # a new output's shape, for the general check
        checked = "[" + ", ".join(item if isinstance(a, ir.TensorArg) else f"{as_sized}({size})"
                                  for a, item, size in zip(tensor_args, items, sizes)) + "]"
        self.check_dims(kernel, tensor_args, sizes, checked, d)
        scalars = [self.expr(a.value, d) for a in s.args if isinstance(a, ir.ScalarArg)]
        deps = self.dep_ids(s.deps, d)
        tags = self.const([TAGS[a.tag] if isinstance(a, ir.TensorArg) else TensorArgType.OUTPUT
                           for a in tensor_args])
        arg = self.assign(d, f"Arg.of(limits, {tags}, [{', '.join(items)}], "
                             f"[{', '.join(scalars)}], {deps})")
        if s.launch is not None:
            self.line(d, f"{arg}.block_num, {arg}.require_sync_start = "
                         f"{self.expr(s.launch.blocks, d)}, {s.launch.sync}")
        if s.early is not None:
            self.line(d, f"{arg}.allow_early_resolve = True")
        tag = f"new(TaskTag, ({self.const(site)}, inst.instance))"
        call = f"rt.submit_dummy_task({arg}, {tag})" if kernel.core == "dummy" \
            else f"rt.submit_task({self.const(kernel_ids(kernel))}, {arg}, {tag})"
        task_id, outs = self.temp(), self.temp()
        self.line(d, f"{task_id}, {outs} = {call}")
        span = self.const(s.span)
        self.line(d, f"inst.count_task({span})")
        self.line(d, f"if rt.fatal_code: inst.check_fatal({span})")
        if s.target is not None:
            self.line(d, f"f[{s.target.slot}] = {self.task_value(s, task_id, outs)}")

    def tensor_item(self, a: ir.TensorArg, d: int) -> tuple[str, str]:
        """`Lowering._tensor_plan`'s `existing`: the argument as a runtime Tensor (an entry
        tensor's creator is the invalid id; one written is marked), and its sizes. A view's
        is made from its region; another value's is the last one made while the value is
        the same."""
        writes = a.tag is not ir.Tag.INPUT
        if isinstance(a.tensor, ir.View) and len(a.tensor.slices) == _rank(a.tensor.tensor):
            tv, region, shape = self.view_region(a.tensor, d)
            return self.assign(d, self.runtime_tensor(tv, region, "False", writes, d)), shape
        if isinstance(a.tensor, ir.OutputOf) and isinstance(a.tensor.task, ir.Load):
            return self.output_item(a, a.tensor, writes, d)
        tv = self.assign(d, self.expr(a.tensor, d))
        self.count += 3
        seen, made, sizes = (f"c{self.count - i}" for i in (2, 1, 0))
        self.prologue += [f"{seen} = None", f"{made} = None", f"{sizes} = None"]
        self.line(d, f"if {tv} is not {seen}:")
        tensor = self.runtime_tensor(tv, f"{tv}.region", f"{tv}.manual_dep", writes, d + 1)
        self.line(d + 1, f"{made} = {tensor}; {seen} = {tv}; {sizes} = {tv}.region.sizes")
        return made, sizes

    def output_item(self, a: ir.TensorArg, e: ir.OutputOf, writes: bool,
                    d: int) -> tuple[str, str]:
        """A task's output passed to a task: the runtime's Tensor, which is what the value
        `SimTask.output` makes gives back (anything else, none, runs the closure)."""
        assert isinstance(e.task, ir.Load)
        task = self.assign(d, f"f[{e.task.var.slot}]")
        item = self.temp()
        self.line(d, f"if type({task}) is SimTask: {item} = {task}.outputs[{e.name!r}]")
        self.line(d, "else:")
        tv = self.assign(d + 1, f"{self.const(self.inst.expr(e))}(f)")
        tensor = self.runtime_tensor(tv, f"{tv}.region", f"{tv}.manual_dep", writes, d + 1)
        self.line(d + 1, f"{item} = {tensor}")
        return item, f"{item}.region.sizes"

    def runtime_tensor(self, tv: str, region: str, manual_dep: str, writes: bool,
                       d: int) -> str:
        """The Tensor of value `tv`'s buffer with `region` (an expression)."""
        buf = self.assign(d, f"{tv}.buffer")
        owner = self.assign(d, f"{buf}.owner")
        mark = f"; entry_written.add({buf}.id)" if writes else ""
        self.line(d, f"if {owner} is None: {owner} = INVALID_TASK_ID{mark}")
        return f"new(Tensor, ({buf}.id, {buf}.dtype, {region}, {owner}, {manual_dep}, 0))"

    def create_info(self, a: ir.NewArg, d: int) -> tuple[str, str]:
        """`Lowering._tensor_plan`'s `new`: the output's create-info, one per shape made
        (they are immutable), and its shape (checked)."""
        dims = [self.expr(x, d) for x in a.dims]
        shape = self.assign(d, "(" + "".join(x + ", " for x in dims) + ")")
        inst, name, span, dtype = self.inst, a.param.name, a.span, a.dtype
        made: dict[tuple[int, ...], TensorCreateInfo] = {}

        def first(shape: tuple[int, ...]) -> TensorCreateInfo:
            if min(shape) <= 0:
                inst.fail("E170", f"output '{name}' has shape {list(shape)}; every "
                          "dimension must be positive", span)
            info = made[shape] = TensorCreateInfo(shape, dtype, False, None)
            return info
        info = self.assign(d, f"{self.const(made)}.get({shape})")
        self.line(d, f"if {info} is None: {info} = {self.const(first)}({shape})")
        return info, shape

    def dep_ids(self, deps: tuple[ir.Dep, ...], d: int) -> str:
        """`Lowering.deps`' explicit list: the task ids of the deps that hold a task."""
        if not deps:
            return "[]"
        ids = self.assign(d, "[]")
        for dep in deps:
            task, depth = self.dep_task(dep, d)
            self.line(depth, f"if {task} is not None: {ids}.append({task}.task_id)")
        return ids

    def task_value(self, s: ir.Submit, task_id: str, outs: str) -> str:
        """The task's `SimTask`: its id and each `new` output by name."""
        names = tuple(a.param.name for a in s.args if isinstance(a, ir.NewArg))
        outputs = f"dict(zip({self.const(names)}, {outs}))" if names else "{}"
        return f"new(SimTask, ({task_id}, {outputs}))"

    def output_of(self, e: ir.OutputOf, d: int) -> str:
        """`_output_of` of a task value (anything else, none, runs the closure)."""
        assert isinstance(e.task, ir.Load)
        task = self.assign(d, f"f[{e.task.var.slot}]")
        self.line(d, f"if type({task}) is SimTask: {task} = {task}.output({e.name!r})")
        self.line(d, f"else: {task} = {self.const(self.inst.expr(e))}(f)")
        return task


class _Sizes(NamedTuple):
    sizes: tuple[int, ...]


class Sized(NamedTuple):
    """A new output's shape as the dims check reads an argument (`.region.sizes`)."""

    region: _Sizes


def sized(shape: tuple[int, ...]) -> Sized:
    return Sized(_Sizes(shape))
