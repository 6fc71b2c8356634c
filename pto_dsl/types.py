"""Value types of the language: tensor dtypes and scalar types, with their byte sizes."""

from __future__ import annotations

# dtype name -> (runtime DataType name, bytes). Order and sizes follow the runtime's
# DataType enum (runtime-model.md).
DTYPE_INFO: dict[str, tuple[str, int]] = {
    "f32": ("FLOAT32", 4),
    "f16": ("FLOAT16", 2),
    "i32": ("INT32", 4),
    "i16": ("INT16", 2),
    "i8": ("INT8", 1),
    "u8": ("UINT8", 1),
    "bf16": ("BFLOAT16", 2),
    "i64": ("INT64", 8),
    "u64": ("UINT64", 8),
    "u16": ("UINT16", 2),
    "u32": ("UINT32", 4),
    "bool": ("BOOL", 1),
}
DTYPES: tuple[str, ...] = tuple(DTYPE_INFO)

FLOAT_TYPES = frozenset({"f32", "f16", "bf16", "f64"})
INT_TYPES = frozenset({"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"})
SCALAR_TYPES: tuple[str, ...] = ("f32", "f16", "bf16", "f64", "i8", "i16", "i32", "i64",
                                 "u8", "u16", "u32", "u64", "bool")

MAX_DIMS = 5  # RUNTIME_MAX_TENSOR_DIMS / MAX_TENSOR_DIMS (runtime-model.md)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # every integer of the orchestration is int64_t
MAX_FUNC_ID = 2**31 - 1  # func_ids are int32_t in the runtime's MixedKernels
MAX_DIM = 2**32 - 1  # descriptors hold each dimension as a uint32 (runtime-model.md)
DEFAULT_MAX_TASKS = 10_000_000  # the task limit (--max-tasks): far above any real case


def dtype_size(dtype: str) -> int:
    return DTYPE_INFO[dtype][1]


def is_float(type_name: str) -> bool:
    return type_name in FLOAT_TYPES
