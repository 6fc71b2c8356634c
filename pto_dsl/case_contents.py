"""Case stage, tensor contents: a written list or a generator's array checked against the
tensor's shape and dtype (rank, element count, numbers, integrality, range) and converted;
never a silent truncation or wrap. The messages are completed by `cases` with the name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl.types import FLOAT_TYPES

if TYPE_CHECKING:
    import numpy as np

NP_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "float32", "i8": "int8",
             "i16": "int16", "i32": "int32", "i64": "int64", "u8": "uint8",
             "u16": "uint16", "u32": "uint32", "u64": "uint64", "bool": "bool"}


def contents_array(value: object, dtype: str,
                   shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    """Written or generated contents as an array of the tensor's dtype, or why they cannot
    be: the given shape is the tensor's or flat with its element count; every value is a
    number within the dtype's range, and an integer for an integer dtype (never truncated)."""
    import numpy as np

    try:
        given = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        return None, f"are not a {len(shape)}-dimensional list of numbers: {exc}"
    if given.dtype.kind in "fO" and not isinstance(value, np.ndarray):
        exact = np.asarray(value, dtype=object)  # numpy would make 2^64 - 1 and -1 floats
        if all(isinstance(v, int) for v in exact.reshape(-1)):
            lo, hi = _range(dtype)
            bad = next((v for v in exact.reshape(-1) if not lo <= v <= hi), None)
            if bad is not None:
                return None, f"are {dtype}: {bad} is outside [{lo}, {hi}]"
            given = np.asarray(value, dtype=NP_DTYPES[dtype])
    if given.dtype.kind not in "biuf":
        return None, f"are not numbers (got {given.dtype.name} values)"
    size = int(np.prod(shape))
    if given.shape != shape and (given.ndim != 1 or given.size != size):
        if given.size != size:
            return None, f"have {given.size} elements, its shape {list(shape)} needs {size}"
        return None, (f"have shape {list(given.shape)}; give the tensor's shape "
                      f"{list(shape)} or a flat list of {size} elements")
    problem = _value_problem(given, dtype)
    if problem is not None:
        return None, problem
    with np.errstate(all="ignore"):
        return given.astype(NP_DTYPES[dtype]).reshape(shape), None


def _value_problem(given: np.ndarray, dtype: str) -> str | None:
    """The first value that the dtype cannot hold exactly (None: every one fits)."""
    import numpy as np

    target = np.dtype(NP_DTYPES[dtype])
    if given.size == 0 or (target.kind == "f" and given.dtype.kind in "biu"):
        return None
    flat = given.reshape(-1)
    if given.dtype.kind == "f" and not np.isfinite(flat).all():
        bad = flat[~np.isfinite(flat)][0]
        if target.kind != "f":
            return f"are {dtype}, which cannot hold {bad}"
        return None  # inf and nan are float values
    if target.kind == "f":
        limit = float(np.finfo(target).max)
        over = np.abs(flat.astype(np.float64)) > limit
        return f"are {dtype}: {flat[over][0]} is outside its range" if over.any() else None
    lo, hi = _range(dtype)
    if given.dtype.kind == "f":
        fraction = flat != np.trunc(flat)
        if fraction.any():
            return f"are {dtype}, so they must be integers, not {flat[fraction][0]}"
        out = (flat < float(lo)) | (flat > float(hi))
    elif given.dtype.kind in "iu" and int_bounds(given.dtype.name)[0] >= lo \
            and int_bounds(given.dtype.name)[1] <= hi:
        return None  # every value of the given type fits
    else:
        wide = flat.astype(object)  # exact comparisons of 64-bit values
        out = np.asarray((wide < lo) | (wide > hi), dtype=bool)
    if out.any():
        return f"are {dtype}: {flat[out][0]} is outside [{lo}, {hi}]"
    return None


def _range(dtype: str) -> tuple[int, int]:
    """The integers a dtype holds exactly (floats: as far as they reach)."""
    if dtype == "bool":
        return 0, 1
    if dtype in FLOAT_TYPES:
        limit = int(FLOAT_MAX[NP_DTYPES[dtype]])
        return -limit, limit
    return int_bounds(NP_DTYPES[dtype])


FLOAT_MAX = {"float32": 3.4028234663852886e38, "float16": 65504.0}  # the dtypes' finfo.max


def int_bounds(name: str) -> tuple[int, int]:
    """The range of a NumPy integer dtype name ('int32', 'uint64', ...), without NumPy."""
    bits = int(name.removeprefix("u").removeprefix("int"))
    if name.startswith("u"):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
