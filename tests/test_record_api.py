"""What the recording implementation of the runtime API records, call by call: the tours in
tests/record/api/ (one per dialect) against their signature."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pto_dsl import record
from pto_dsl.dialects import DIALECTS
from pto_dsl.graph import Origin, TaskGraph
from pto_dsl.pipeline import case_values, front_end, read_source

API = Path(__file__).resolve().parent / "record" / "api"
pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def recorded(name: str, dialect: str) -> tuple[record.Recorded, TaskGraph]:
    signature = front_end(read_source(API / "tour.pto"), DIALECTS[dialect])
    cpp = API / name
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
    rec = record.record(prepared, signature.program, case_values(signature, None))
    return rec, rec.graph


def test_tour_current() -> None:
    rec, g = recorded("tour.cpp", "current")
    tasks = list(g.tasks())
    assert [(t.kernel, t.core) for t in tasks] == [
        ("A", "aic"), ("V", "aiv"), ("V", "aiv"), ("V", "aiv"), ("M", "mix"),
        ("dummy", "dummy"), ("alloc", "alloc"), ("V", "aiv")]
    # the loop count came from the case's contents of idx (3), read once
    [read] = [r for r in g.host_reads if not r.write]
    assert read.access.buffer.name == "idx"
    # scalars as the kernel receives them: the entry scalar -3, float, double, u64
    assert tasks[0].scalars == (-3, 2.5, 1.25, 7)
    # manual scope by rt_scope_begin: explicit deps only, ring 1
    assert [(t.scope_mode, t.ring, t.explicit_deps) for t in tasks[1:4]] == [
        ("manual", 1, (0,))] * 3
    assert all(g.origins(0, t) == (Origin.EXPLICIT,) for t in (1, 2, 3))
    # PTO2_SCOPE with a PTO2_SCOPE_GUARD inside: AUTO, depth 2
    assert [(s.decl.mode, s.depth) for s in g.scopes] == [("manual", 1), ("auto", 1),
                                                          ("auto", 2)]
    assert tasks[4].ring == 2 and tasks[4].func_id == 2
    # the dummy task: the explicit dep (the invalid id adds nothing) is also a TensorMap edge
    assert tasks[5].explicit_deps == (4,) and set(g.origins(4, 5)) == {Origin.EXPLICIT,
                                                                       Origin.TENSORMAP}
    # alloc_tensors from an array: two buffers owned by the alloc task
    assert [a.buffer.owner for a in tasks[6].accesses] == [6, 6]
    # add_no_dep: read, never tracked; the creator edge still holds the buffer
    [nodep] = tasks[7].edge_accesses
    assert nodep.manual_dep and nodep.buffer.owner == 6
    assert g.origins(6, 7) == (Origin.CREATOR,)
    # every task knows its C++ line
    assert tasks[0].span.file.endswith("tour.cpp") and tasks[0].span.line == 28
    assert rec.logs == ["I aicpu_orchestration_entry: rounds=3 s=-3"]
    # early resolve and the predicate are the task's, as the .pto graph has them (the
    # predicate's element a read named 'predicate')
    assert tasks[7].early_resolve and tasks[7].predicate == (">", 5)
    assert tasks[7].accesses[-1].param == "predicate"
    assert [t.id for t in tasks if t.early_resolve] == [7]
    assert [t.id for t in tasks if t.predicate is not None] == [7]
    assert tasks[7].accesses[-1].buffer.id == tasks[6].accesses[0].buffer.id
    assert tasks[7].accesses[-1].region.offsets[-1] == 2
    # set_tensor_data is an orchestration write of the graph, after the 8 tasks
    [write] = [r for r in g.host_reads if r.write]
    x = next(a.buffer.id for t in tasks for a in t.accesses if a.buffer.name == "x")
    assert (write.access.buffer.id, write.access.region.offsets, write.after_tasks) == (
        x, (1,), 8)
    assert rec.unmodelled.warnings() == []  # no read of computed data


def test_tour_v0() -> None:
    _, g = recorded("tour_v0.cpp", "v0")
    tasks = list(g.tasks())
    assert [t.kernel for t in tasks] == ["alloc", "A", "V"]
    assert tasks[1].scalars == (-1, 0.5, 2.0, 1 << 40)
    assert tasks[2].explicit_deps == (1, 0)
    [upper] = tasks[2].accesses
    assert upper.buffer.name == "y" and (upper.region.offsets, upper.region.sizes) == ((4,),
                                                                                        (4,))
    assert tasks[0].span.line == 15  # the variadic alloc_tensors knows its call site too


def test_config_must_match_the_signature(tmp_path: Path) -> None:
    text = (API / "tour.cpp").read_text().replace("PTO2OrchestrationConfig{4}",
                                                  "PTO2OrchestrationConfig{5}")
    cpp = tmp_path / "tour5.cpp"
    cpp.write_text(text)
    signature = front_end(read_source(API / "tour.pto"))
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    with pytest.raises(record.CompileError) as exc:
        record.record(prepared, signature.program, case_values(signature, None))
    [d] = exc.value.diagnostics
    assert d.code == "E807" and "expects 5 entry arguments" in d.message
    # more arguments than the config expects: the runtime runs it (its check is actual <
    # expected), and so does the recorder
    fewer = tmp_path / "tour3.cpp"
    fewer.write_text(text.replace("PTO2OrchestrationConfig{5}", "PTO2OrchestrationConfig{3}"))
    prepared = record.prepare(fewer, read_source(fewer), DIALECTS["current"])
    assert len(record.record(prepared, signature.program, case_values(signature, None)).graph)


RESHAPE = """\
#include "pto_orchestration_api.h"
extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &y = args.tensor(1).ref();  // f32[8]
    uint32_t whole[2] = {4, 2}, rows[2] = {2, 2}, at[2] = {ROW, 0}, flat[NEW_ND] = {NEW};
    ChipTensor grid = y.reshape(whole, 2);
    ChipTensor part = grid.view(rows, at).reshape(flat, NEW_ND);
    CoreTaskArgs v;
    v.add_inout(part);
    rt_submit_aiv_task(1, v);
}
"""


def reshaped(tmp_path: Path, row: int, new: tuple[int, ...], rows: str = "2, 2") -> Any:
    cpp = tmp_path / "reshape.cpp"
    cpp.write_text(RESHAPE.replace("ROW", str(row)).replace("NEW_ND", str(len(new)))
                   .replace("NEW", ", ".join(map(str, new))).replace("rows[2] = {2, 2}",
                                                                     f"rows[2] = {{{rows}}}"))
    signature = front_end(read_source(API / "tour.pto"))
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    return record.record(prepared, signature.program, case_values(signature, None))


@pytest.mark.parametrize(("row", "new", "region"), [
    (1, (4,), ((8,), (2,), (4,))),  # elements 2-5 of y as a run of 8
    (2, (1, 4), ((2, 4), (1, 0), (1, 4))),  # elements 4-7: the second row of 4
])
def test_reshape_of_a_contiguous_view(row: int, new: tuple[int, ...],
                                      region: tuple[tuple[int, ...], ...],
                                      tmp_path: Path) -> None:
    """Two rows of a 4x2 view of y, reshaped: the same elements of the same buffer, in a
    layout whose inner dimensions are the new shape's."""
    rec = reshaped(tmp_path, row, new)
    [a] = next(iter(rec.graph.tasks())).accesses
    assert a.buffer.name == "y" and tuple(a.region) == region


@pytest.mark.parametrize(("row", "new", "rows", "code", "text"), [
    (1, (1, 4), "2, 2", "E806", "not at a multiple"),  # element 2 starts no row of 4
    (0, (2,), "2, 1", "E807", "not contiguous"),  # a column: the runtime asserts
])
def test_reshape_of_a_view_that_cannot_be(row: int, new: tuple[int, ...], rows: str,
                                          code: str, text: str, tmp_path: Path) -> None:
    with pytest.raises(record.CompileError) as exc:
        reshaped(tmp_path, row, new, rows)
    [d] = exc.value.diagnostics
    assert d.code == code and text in d.message and d.span is not None and d.span.line == 6


def test_a_read_of_computed_data_is_an_orchestration_read(tmp_path: Path) -> None:
    """get_tensor_data of a task's output: the orchestrator waits for it (a host read after
    the task, in the graph), and W809 says the recorded value was not the task's."""
    cpp = API.parent / "not_modelled.cpp"
    signature = front_end(read_source(API.parent / "sig.pto"))
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    rec = record.record(prepared, signature.program, case_values(signature, None))
    [read] = [r for r in rec.graph.host_reads if not r.write]  # and set_tensor_data's write
    producer = next(iter(rec.graph.tasks()))
    assert read.access.buffer.owner == producer.id and read.after_tasks == 3
    assert rec.unmodelled.computed_reads == 1
    assert any("read of data a task computes" in d.message for d in rec.unmodelled.warnings())
