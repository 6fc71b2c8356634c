"""Lowering of submissions (part of the lowering stage): kernel calls and `alloc`.

Checks arity, directions, scalar types, dtypes and ranks of kernel arguments and the targets
of `dep` clauses; creates one submission site per call in the program text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.dep_edits import remove_dep
from pto_dsl.diagnostics import Note, error, warning
from pto_dsl.lower_dispatch import dispatch_of
from pto_dsl.lower_host import element_value
from pto_dsl.source import Span

if TYPE_CHECKING:
    from pto_dsl.lower import Lowerer


def is_submission(lw: Lowerer, e: n.Call | n.Alloc | n.Dummy) -> bool:
    return isinstance(e, (n.Alloc, n.Dummy)) or e.func.name in lw.kernels


def _site(lw: Lowerer, node: object, kernel: ir.Kernel | None,
          outputs: tuple[tuple[str, ir.TensorTy], ...], span: Span) -> ir.Site:
    site = lw.by_node.get(id(node))
    if not isinstance(site, ir.Site):
        site = ir.Site(len(lw.sites), kernel, outputs,
                       lw.scopes[-1] if lw.scopes else None, tuple(lw.loops), span)
        lw.sites.append(site)
        lw.by_node[id(node)] = site
    site.outputs = outputs
    site.task_vars = {name: var for block in lw.blocks for name, var in block.items()
                      if var.task_var}
    site.reaching = {name: frozenset(s for s in lw.state.get(var, ()) if s >= 0)
                     for name, var in site.task_vars.items()}
    return site


def submission(lw: Lowerer, call: n.Call | n.Alloc | n.Dummy,
               deps: tuple[n.DepItem, ...] | None,
               target: ir.Var | None, span: Span, launch: n.Launch | None = None,
               dispatch: n.Dispatch | None = None) -> ir.Stmt:
    if isinstance(call, n.Alloc):
        dispatch_of(lw, dispatch, "alloc")
        if launch is not None:
            no_launch(lw, launch, "'alloc' takes no 'blocks' clause")
        if deps:
            lw.report(error("E115", "'alloc' takes no deps", deps[0].span.to(deps[-1].span),
                            help=("the runtime completes an alloc task at once; put the "
                                  "deps on the tasks that use its tensors",)))
        items = tuple(_alloc_item(lw, i) for i in call.items)
        outputs = tuple((i.name, ir.TensorTy(i.dtype, len(i.dims), True)) for i in items)
        lw.unique_names([i.name for i in call.items])
        site = _site(lw, call, None, outputs, span)
        _bind(lw, target, site)
        return ir.AllocStmt(site, items, target, span)
    dep_ir = _deps(lw, deps or ())
    node: object = call  # the site's key: the same node on every pass over a loop
    early, pred = dispatch_of(lw, dispatch, "dummy" if isinstance(call, n.Dummy) else "kernel")
    if isinstance(call, n.Dummy):
        if launch is not None:
            no_launch(lw, launch, "a dummy task takes no 'blocks' clause")
            launch = None
        kernel = dummy_kernel(call)
        call = n.Call(n.Ident("dummy", call.span), tuple(a.value for a in call.args), call.span)
    else:
        kernel = lw.kernels[call.func.name]
    args = _call_args(lw, kernel, call)
    outputs = tuple((a.param.name, ir.TensorTy(a.dtype, len(a.dims), True))
                    for a in args if isinstance(a, ir.NewArg))
    site = _site(lw, node, kernel, outputs, span)
    if len(args) != len(kernel.params):  # its outputs are unknown: their uses say nothing
        lw.broken_sites.add(site.id)
    _bind(lw, target, site)
    launch_ir = None
    if launch is not None:
        launch_ir = ir.Launch(lw.int_expr(launch.blocks), launch.sync, launch.span)
    return ir.Submit(site, args, dep_ir, target, span, launch_ir, early=early, predicate=pred)


def no_launch(lw: Lowerer, launch: n.Launch, message: str) -> None:
    lw.report(error("E133", message, launch.span,
                    help=("'blocks N' launches a kernel call as N SPMD blocks; an alloc or a "
                          "value runs on no core",)))


def dummy_kernel(call: n.Dummy) -> ir.Kernel:
    """The signature of a dummy task: a tensor parameter `argI` per argument, with its
    direction and any dtype and rank; no kernel slot (the runtime dispatches it to no core)."""
    params = tuple(ir.KTensorParam(f"arg{i}", a.direction, None, None, a.span)
                   for i, a in enumerate(call.args))
    return ir.Kernel("dummy", "dummy", (), params, None, None, call.span)


def _bind(lw: Lowerer, target: ir.Var | None, site: ir.Site) -> None:
    if target is not None:
        lw.state[target] = frozenset({site.id})


def _alloc_item(lw: Lowerer, item: n.AllocItem) -> ir.AllocItemIR:
    lw.check_rank(len(item.dims), item.span)
    init = None if item.init is None else element_value(lw, item.dtype, item.init)
    return ir.AllocItemIR(item.name.name, item.dtype,
                          tuple(lw.int_expr(d) for d in item.dims), item.span, init)


def _call_args(lw: Lowerer, kernel: ir.Kernel, call: n.Call) -> tuple[ir.Arg, ...]:
    if len(call.args) != len(kernel.params):
        lw.report(error("E104", f"kernel '{kernel.name}' takes {len(kernel.params)} "
                        f"arguments, {len(call.args)} given", call.span,
                        notes=[Note(f"'{kernel.name}' declared here", kernel.span)],
                        help=("tensor and scalar parameters are all passed in "
                              "declaration order",)))
        return ()
    args: list[ir.Arg] = []
    for param, arg in zip(kernel.params, call.args):
        lowered = _call_arg(lw, kernel, param, arg)
        if lowered is not None:
            args.append(lowered)
    return tuple(args)


def _call_arg(lw: Lowerer, kernel: ir.Kernel, param: ir.KParam, arg: n.Expr) -> ir.Arg | None:
    where = f"parameter '{param.name}' of '{kernel.name}'"
    if isinstance(param, ir.KScalarParam):
        expr = lw.expr(arg)
        want = ir.scalar_ty(param.type)
        ok = expr.ty == ir.ERR or expr.ty == want or (want == ir.FLOAT and expr.ty == ir.INT) \
            or (want == ir.INT and expr.ty == ir.BOOL)
        if not ok:
            lw.report(error("E106", f"{where} is a scalar of type {param.type}, got "
                            f"{expr.ty}",
                            arg.span, notes=[Note("declared here", param.span)]))
            return None
        return ir.ScalarArg(param, expr, arg.span)
    if isinstance(arg, n.NewTensor):
        if param.direction != "out":
            lw.report(error("E105", f"'new' cannot be passed to {where}: it is "
                            f"'{param.direction}'", arg.span,
                            notes=[Note("declared here", param.span)],
                            help=("only an 'out' parameter can receive a tensor the "
                                  "runtime allocates",)))
            return None
        lw.check_rank(len(arg.dims), arg.span)
        _check_tensor_type(lw, where, param, arg.dtype, len(arg.dims), arg.span)
        return ir.NewArg(param, arg.dtype, tuple(lw.int_expr(d) for d in arg.dims),
                         arg.span)
    expr = lw.expr(arg)
    if expr.ty == ir.ERR:
        return None
    if not isinstance(expr.ty, ir.TensorTy):
        lw.report(error("E106", f"{where} expects a tensor, got {expr.ty}", arg.span,
                        notes=[Note("declared here", param.span)]))
        return None
    _check_tensor_type(lw, where, param, expr.ty.dtype, expr.ty.rank, arg.span)
    if param.direction != "in" and not expr.ty.writable:
        lw.report(error("E105", f"{where} is '{param.direction}' but this tensor is "
                        "read-only", arg.span,
                        help=("only 'out'/'inout' entry tensors and runtime-allocated "
                              "tensors can be written",)))
    tag = {"in": ir.Tag.INPUT, "inout": ir.Tag.INOUT, "out": ir.Tag.OUTPUT_EXISTING}
    return ir.TensorArg(param, tag[param.direction], expr, arg.span)


def _check_tensor_type(lw: Lowerer, where: str, param: ir.KTensorParam, dtype: str, rank: int,
                       span: Span) -> None:
    if param.dtype is not None and dtype != param.dtype:
        lw.report(error("E108", f"{where} is {param.dtype}, got {dtype}", span,
                        notes=[Note("declared here", param.span)]))
    if param.dims is not None and rank != len(param.dims):
        lw.report(error("E107", f"{where} has rank {len(param.dims)}, got rank {rank}",
                        span, notes=[Note("declared here", param.span)]))


def _deps(lw: Lowerer, items: tuple[n.DepItem, ...]) -> tuple[ir.Dep, ...]:
    out: list[ir.Dep] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        guard = lw.bool_expr(item.guard) if item.guard is not None else None
        var = lw.resolve(item.name, "dep")
        if var is None or var.ty == ir.ERR:  # its definition failed and was reported
            continue
        if isinstance(var.ty, ir.TaskArrayTy):
            array_dep = lw.array_dep(item, var, guard)
            if array_dep is not None:
                out.append(array_dep)
            continue
        if item.elements is not None:
            lw.array_dep(item, var, guard)  # reports that it is not an array
            continue
        if not var.task_var:
            lw.report(error("E130", f"dep '{item.name.name}' is not a task", item.name.span,
                            notes=[Note(f"'{var.name}' is {var.ty}", var.span)],
                            help=("a dep names a task variable (the value of a kernel "
                                  "call or alloc)",)))
            continue
        ty = lw.load_ty(var)
        assert isinstance(ty, ir.TaskTy)
        if not ty.sites or (item.guard is None and var.name in seen):
            fix = remove_dep([i.span for i in items], index, var.name)
            fixes = (fix,) if fix else ()
        if not ty.sites:
            lw.report(warning("W102", f"dep '{var.name}' is always none here",
                              item.name.span, help=("this dep never adds an edge",),
                              fixes=fixes))
        if item.guard is None and var.name in seen:
            lw.report(warning("W101", f"dep '{var.name}' is listed twice",
                              item.name.span, help=("the runtime keeps one edge; "
                                                    "remove the repeat",), fixes=fixes))
        if item.guard is None:
            seen.add(var.name)
        out.append(ir.Dep(var, guard, item.span))
    return tuple(out)
