"""bf16 data kept as bf16: uint16 bit patterns in the case's contents and the model's memory,
float32 tiles for kernels, large inputs generated in chunks, and a memory bound that
catches a float copy of a whole tensor."""

from __future__ import annotations

import runpy
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from pto_dsl import bf16
from pto_dsl.cases import _uniform
from pto_dsl.pipeline import front_end, instantiate_case
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_to_bits_rounds_to_nearest_even() -> None:
    one = 0x3F800000  # 1.0 as float32 bits; bf16 keeps the top 16
    wide = np.array([one, one + 0x7FFF, one + 0x8000, one + 0x18000, one + 0x8001,
                     0x7F800000, 0xFF800000, 0x7FC00001], dtype=np.uint32)
    bits = bf16.to_bits(wide.view(np.float32))
    assert bits.dtype == np.uint16
    # a tie (0x8000 below the kept bits) goes to the even neighbour: down from 0x3F80,
    # up from 0x3F81
    assert list(bits[:5]) == [0x3F80, 0x3F80, 0x3F80, 0x3F82, 0x3F81]
    assert list(bits[5:7]) == [0x7F80, 0xFF80]  # infinities stay
    assert bits[7] == bf16.NAN_BITS
    back = bf16.to_float32(bits)
    assert back.dtype == np.float32 and back[0] == 1.0 and np.isnan(back[7])
    assert np.array_equal(bf16.round_float32(back[:7]), back[:7])  # bf16 values are exact


def test_bf16_array_converts_only_what_is_indexed() -> None:
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    arr = bf16.Bf16Array(bf16.to_bits(values))
    assert arr.shape == (2, 3, 4) and arr.ndim == 3 and len(arr) == 2
    part = arr[1, :, 0]
    assert part.dtype == np.float32 and list(part) == [12.0, 16.0, 20.0]
    assert np.array_equal(np.asarray(arr, dtype=np.float64), values)
    assert np.array_equal(arr + 1, values + 1) and np.array_equal(np.exp(arr), np.exp(values))


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("size", [1, 1000, (1 << 16) * 3 + 5])
def test_chunked_uniform_is_one_uniform_call(dtype: str, size: int) -> None:
    made = _uniform(-0.5, 1.5, (size,), dtype, np.random.default_rng(7))
    whole = np.random.default_rng(7).uniform(-0.5, 1.5, size=size)
    want = bf16.to_bits(whole.astype(np.float32)) if dtype == "bf16" else \
        whole.astype(np.float16 if dtype == "f16" else np.float32)
    assert made.dtype == want.dtype and np.array_equal(made, want)


BIG = """
kernel ROW aiv 0 (in x: bf16[R, C], out y: f32[R, C]) impl "k.py:row"
entry big(in x: bf16[N, C], out y: f32[R, C]) {
    let t = ROW(x[0 : R, :], new f32[R, C])
    let c = ROW(x[N - R : N, :], y)
}
case Big {
    N = 4096, C = 1024, R = 16
    x = uniform(-1, 1)
}
"""


def test_large_bf16_input_costs_two_bytes_an_element(tmp_path: Path) -> None:
    """4M bf16 elements: 8 MiB as bits, 16 MiB as float32 and 32 MiB as the float64 the
    generator draws; the run stays near the first."""
    (tmp_path / "k.py").write_text("def row(x, y):\n    y[...] = x * 2\n")
    path = tmp_path / "big.pto"
    path.write_text(BIG)
    checked = front_end(SourceFile(str(path), BIG))
    tracemalloc.start()
    try:
        result = simulate(checked, "Big", SimOptions(record_schedule=False))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    x = result.inputs["x"]
    assert isinstance(x, bf16.Bf16Array) and x.bits.dtype == np.uint16
    assert np.array_equal(result.outputs["y"], x[4096 - 16:] * 2)
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_paged_attention_golden_sees_bf16_caches(tmp_path: Path) -> None:
    path = EXAMPLES / "paged_attention" / "manual.pto"
    checked = front_end(SourceFile(str(path), path.read_text("utf-8")))
    result = simulate(checked, "CaseVarSeq4", SimOptions())
    assert result.checks is not None and result.passed
    key = result.inputs["key_cache"]
    assert isinstance(key, bf16.Bf16Array) and key.bits.dtype == np.uint16
    assert isinstance(result.inputs["block_table"], np.ndarray)


def test_numerics_bench_reads_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    bench = runpy.run_path(str(EXAMPLES.parent / "bench" / "numerics.py"))
    assert bench["main"](["--case", "CaseSmall1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "CaseSmall1" in out and "PASS out: max abs error 0" in out


def test_an_orchestration_read_of_bf16_sees_the_rounded_value() -> None:
    """1.2 is 1.203125 in bf16 (1.20000005 in f32): the static graph and the model both
    read the bf16 value."""
    program = """
kernel K aiv 0 (in x: f32[N], out y: f32[N]) impl "k.py:k"
entry e(in w: bf16[N], in x: f32[N]) {
    if w[1] > 1.201 {
        let a = K(x, new f32[N])
    }
}
case c { N = 4, w = [1.0, 1.2, 3.0, 4.0], x = zeros() }
"""
    checked = front_end(SourceFile("t.pto", program))
    assert len(instantiate_case(checked, None)) == 1
    result = simulate(checked, None, SimOptions(numerics=False))
    assert result.runtime.seq == 1
