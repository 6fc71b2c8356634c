"""bfloat16 data as pto-dsl holds it: numpy has no bf16 type, so bf16 tensors are kept as
uint16 bit patterns (half the memory of float32) and converted to float32 a tile at a time.

Rounding from float32 is to nearest, ties to even; NaN stays a (quiet) NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

NAN_BITS = 0x7FC0  # a quiet NaN, what uninitialised bf16 memory holds in the model


def to_bits(values: Any) -> np.ndarray:
    """float values -> uint16 bf16 bit patterns of the same shape (round to nearest even)."""
    f = np.ascontiguousarray(values, dtype=np.float32)
    wide = f.view(np.uint32)
    rounded = wide >> 16  # in place from here: large tensors are converted in chunks
    rounded &= np.uint32(1)
    rounded += np.uint32(0x7FFF)
    rounded += wide
    rounded >>= 16
    bits: np.ndarray = rounded.astype(np.uint16)
    nan = np.isnan(f)
    if nan.any():
        bits[nan] = NAN_BITS
    return bits


def to_float32(bits: Any) -> np.ndarray:
    """uint16 bf16 bit patterns -> a new float32 array of the same shape (exact)."""
    wide = np.asarray(bits, dtype=np.uint16).astype(np.uint32)
    wide <<= 16
    return wide.view(np.float32)


def round_float32(values: Any) -> np.ndarray:
    """float values rounded to bf16, as float32."""
    return to_float32(to_bits(values))


class Bf16Array(NDArrayOperatorsMixin):
    """A bf16 tensor handed to Python code (a golden): indexing converts only the part
    indexed to float32; numpy functions and arithmetic see the whole tensor as float32."""

    def __init__(self, bits: np.ndarray) -> None:
        self.bits = bits

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.bits.shape)

    @property
    def ndim(self) -> int:
        return int(self.bits.ndim)

    @property
    def size(self) -> int:
        return int(self.bits.size)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.float32)  # what every conversion gives

    def __len__(self) -> int:
        return len(self.bits)

    def __getitem__(self, key: Any) -> np.ndarray:
        return to_float32(self.bits[key])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = to_float32(self.bits)
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [np.asarray(x) if isinstance(x, Bf16Array) else x for x in inputs]
        return getattr(ufunc, method)(*args, **kwargs)

    def astype(self, dtype: Any) -> np.ndarray:
        return np.asarray(self, dtype=dtype)

    def __repr__(self) -> str:
        return f"Bf16Array(shape={list(self.shape)})"
