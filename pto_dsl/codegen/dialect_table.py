"""The C++ names that differ between the runtime API dialects (runtime-model.md).

One backend emits both dialects; everything dialect-specific it needs is one row here.
The per-task limits live in `pto_dsl.dialects` (the checks enforce them before emission).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CppDialect:
    name: str
    entry_args_type: str  # parameter type of the two exported functions (runtime-model.md)
    entry_tensor: str  # how an entry tensor is reached, `{args}` and `{index}` filled in
    tensor_type: str  # the runtime's tensor descriptor (runtime-model.md)
    args_type: str  # the per-task argument builder (runtime-model.md)
    submit_aic: str  # submit functions by core type (runtime-model.md)
    submit_aiv: str
    submit_mixed: str
    submit_dummy: str | None  # a dependency-only task (None: the dialect has none)
    dep_style: str  # "add_dep": Arg::add_dep per id; "array": set_dependencies(ids, n)
    # the machine's available core counts, `{kind}` is cluster or aiv (None: not in the API)
    core_count: str | None
    report_fatal: str  # the macro that reports a fatal error to the runtime
    early_resolve: bool  # Arg::set_allow_early_resolve exists
    predicate: bool  # Arg::set_predicate and CoreTaskPredicate exist
    header: str  # the interface header of this project that declares the dialect's API


V0 = CppDialect(
    name="v0",
    entry_args_type="ChipStorageTaskArgs",
    entry_tensor="{args}.tensor({index})",
    tensor_type="Tensor",
    args_type="Arg",
    submit_aic="pto2_rt_submit_aic_task",
    submit_aiv="pto2_rt_submit_aiv_task",
    submit_mixed="pto2_rt_submit_task",
    submit_dummy=None,
    dep_style="add_dep",
    core_count=None,
    report_fatal="pto2_rt_report_fatal",
    early_resolve=False,
    predicate=False,
    header="pto2_api_v0.h",
)

CURRENT = CppDialect(
    name="current",
    entry_args_type="ChipTaskArgs",
    entry_tensor="{args}.tensor({index}).ref()",
    tensor_type="ChipTensor",
    args_type="CoreTaskArgs",
    submit_aic="rt_submit_aic_task",
    submit_aiv="rt_submit_aiv_task",
    submit_mixed="rt_submit_task",
    submit_dummy="rt_submit_dummy_task",
    dep_style="array",
    core_count="rt_available_{kind}_count()",
    report_fatal="rt_report_fatal",
    early_resolve=True,
    predicate=True,
    header="pto2_api_current.h",
)

CPP_DIALECTS: dict[str, CppDialect] = {d.name: d for d in (V0, CURRENT)}

# The header every generated file includes: the runtime's own name for its orchestration
# API (runtime-model.md). The checks in this project put a copy of the dialect's interface
# header under this name on the include path.
API_HEADER = "pto_orchestration_api.h"
