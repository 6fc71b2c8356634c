"""The harness description of a program (`pto-compile --emit callable`): what the runtime's
test harness needs to load the generated orchestration (runtime-model.md) — the entry
with its argument directions and each kernel's func_id, name, core type and signature.
"""

from __future__ import annotations

import json
from typing import Any

from pto_dsl import ir

_DIRECTION = {"in": "IN", "out": "OUT", "inout": "INOUT"}
_CORE = {"aic": "aic", "aiv0": "aiv", "aiv1": "aiv"}


def describe(program: ir.Program, source: str) -> dict[str, Any]:
    tensors = [{"name": t.name, "direction": _DIRECTION[t.direction], "dtype": t.dtype,
                "shape": list(t.dims)} for t in program.tensors]
    scalars = [{"name": s.name, "type": s.type} for s in program.scalars]
    return {
        "orchestration": {
            "source": source,
            "function_name": "aicpu_orchestration_entry",
            "config_function_name": "aicpu_orchestration_config",
            "entry": program.name,
            "signature": [t["direction"] for t in tensors],
            "expected_arg_count": len(tensors) + len(scalars),
            "tensors": tensors,
            "scalars": scalars,
        },
        "incores": [_incore(k, slot, func_id) for k in program.kernels.values()
                    for slot, func_id in k.func_ids],
    }


def _incore(kernel: ir.Kernel, slot: str, func_id: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "func_id": func_id,
        "name": kernel.name,
        "core_type": _CORE[slot],
        "signature": [_DIRECTION[p.direction] for p in kernel.tensor_params],
        "tensors": [{"name": p.name, "direction": _DIRECTION[p.direction],
                     "dtype": p.dtype, "shape": None if p.dims is None else list(p.dims)}
                    for p in kernel.tensor_params],
        "scalars": [{"name": p.name, "type": p.type} for p in kernel.scalar_params],
    }
    if kernel.core == "mix":  # one incore per slot; the task names them all (runtime-model.md)
        entry["slot"] = slot
    return entry


def to_json(program: ir.Program, source: str) -> str:
    return json.dumps(describe(program, source), indent=2) + "\n"
