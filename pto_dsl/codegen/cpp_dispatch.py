"""C++ of a submission's dispatch settings (runtime-model.md, Early resolve and Dispatch
predicates): `set_allow_early_resolve(true)` and a `CoreTaskPredicate` passed to
`set_predicate`, in the dialects that have them (v0 has neither: E407, E408)."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.codegen import cpp_expr as cx
from pto_dsl.lower_dispatch import PREDICATE_OPS


def dispatch_calls(ctx: cx.Ctx, s: ir.Submit, base: str) -> tuple[str, ...]:
    """The Arg calls after the launch settings; the predicate's descriptor is declared in
    the setup (it must outlive the submit, as the runtime borrows it)."""
    d = ctx.dialect
    calls: list[str] = []
    if s.early is not None:
        if not d.early_resolve:
            ctx.fail("E407", f"the {d.name} runtime API has no early resolve", s.early,
                     "set_allow_early_resolve needs the current dialect; without 'early' the "
                     "task graph is the same (only the scheduling changes)")
        calls.append("set_allow_early_resolve(true)")
    pred = s.predicate
    if pred is not None:
        if not d.predicate:
            ctx.fail("E408", f"the {d.name} runtime API has no dispatch predicates", pred.span,
                     "set_predicate needs the current dialect; in v0 the kernel itself must "
                     "test the element")
            return tuple(calls)
        calls.append(f"set_predicate({_predicate(ctx, pred, base)})")
    return tuple(calls)


def _predicate(ctx: cx.Ctx, pred: ir.Predicate, base: str) -> str:
    operand = cx.tensor(ctx, pred.tensor, f"{base}_pred_tensor")
    name = ctx.namer.fresh(f"{base}_pred")
    setup = ctx.setup
    setup.append(f"CoreTaskPredicate {name};")
    setup.append(f"{name}.operand.tensor = &{operand.name};")
    setup.append(f"{name}.operand.ndims = {len(pred.indices)};")
    for k, index in enumerate(pred.indices):
        setup.append(f"{name}.operand.indices[{k}] = {cx.u32(ctx, cx.scalar(ctx, index))};")
    setup.append(f"{name}.op = PredicateOp::{PREDICATE_OPS[pred.op]};")
    setup.append(f"{name}.target = static_cast<int64_t>({cx.scalar(ctx, pred.target)});")
    return name
