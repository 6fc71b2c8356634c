"""Tensor variables reassigned (`let cur = t` then `cur = u`): through the lowering (which
values may be reassigned, and to what), instantiation (a loop-carried buffer, read after
the scope that allocated it), the simulator, the C++ of both dialects (g++ and the
recorder's replay of that C++) and the checks that judge the escaped buffer (W301)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_compile_support import GXX, assert_both_dialects_agree, compile_file

from pto_dsl.pipeline import check_graph, front_end, instantiate_case, read_source
from pto_dsl.sim.run import SimOptions, simulate

ROOT = Path(__file__).resolve().parent.parent
CONSTRUCT = ROOT / "tests" / "compile" / "tensor_vars.pto"


def test_each_iteration_reads_the_previous_iterations_buffer() -> None:
    g = instantiate_case(front_end(read_source(CONSTRUCT)), "c")
    steps = [t for t in g.tasks() if t.kernel == "STEP"]
    owners = [t.accesses[0].buffer.id for t in steps]
    written = [t.accesses[1].buffer.id for t in steps]
    assert owners[1:] == written[:-1] and len(set(written)) == 3
    last = [t for t in g.tasks() if t.kernel == "COPY"][1:]
    assert {t.accesses[0].buffer.id for t in last} == {written[-1]}
    assert last[0].accesses[0].region.sizes == (4,)


def test_the_escaped_buffers_are_judged_by_the_retention_check() -> None:
    c = front_end(read_source(CONSTRUCT))
    found = check_graph(c, instantiate_case(c, "c"))
    assert {d.code for d in found} == {"W301"}


def test_the_simulator_runs_the_same_tasks() -> None:
    result = simulate(front_end(read_source(CONSTRUCT)), None, SimOptions(numerics=False))
    assert sum(result.runtime.task_counts.values()) == 10


@pytest.mark.parametrize("dialect", ["current", "v0"])
def test_the_cpp_copies_the_descriptor(dialect: str) -> None:
    text = compile_file(CONSTRUCT, dialect)
    tensor = "ChipTensor" if dialect == "current" else "Tensor"
    assert f"    {tensor} cur = first.get_ref(0);" in text
    assert "cur = next.get_ref(0);" in text
    assert "static_cast<uint32_t>(N / 2)" in text or "cur.view(" in text


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
@pytest.mark.parametrize("dialect", ["current", "v0"])
def test_both_dialects_compile_and_record_the_same_graph(dialect: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert_both_dialects_agree(CONSTRUCT, dialect, tmp_path)
