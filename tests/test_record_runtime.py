"""The runtime's own a2a3 tensormap_and_ringbuffer orchestrations against the recording API.

Needs a checkout of the runtime: `PTO_SIMPLER_ROOT=/path/to/simpler pytest
tests/test_record_runtime.py` (skipped otherwise). Every orchestration of its examples and
system tests must compile against the recording API unchanged; those with a signature in
tests/record/runtime/ (or an example of this project) are recorded on the runtime test's
shapes and checked.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pto_dsl import record
from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import CURRENT
from pto_dsl.pipeline import (
    Checked,
    case_values,
    check_graph,
    front_end,
    instantiate_case,
    read_source,
)
from pto_dsl.record.compare import differences
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
SIMPLER = Path(os.environ["PTO_SIMPLER_ROOT"]) if os.environ.get("PTO_SIMPLER_ROOT") else None
RUNTIME = "a2a3/tensormap_and_ringbuffer"
pytestmark = [
    pytest.mark.skipif(SIMPLER is None, reason="set PTO_SIMPLER_ROOT to a runtime checkout"),
    pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed"),
]


def orchestrations() -> list[Path]:
    if SIMPLER is None:
        return []
    found = [*(SIMPLER / "examples" / RUNTIME).glob("*/kernels/orchestration/*.cpp"),
             *(SIMPLER / "tests" / "st" / RUNTIME).rglob("kernels/orchestration/*.cpp")]
    return sorted(found)


PA = ROOT / "examples" / "paged_attention" / "manual.pto"
SIGS = ROOT / "tests" / "record" / "runtime"
# chip_swimlane's second orchestration (the program has two), and its corpus program
LOCAL_OWNER = Path("dfx/chip_swimlane/kernels/orchestration/sync_start_early_local_owner_orch.cpp")
LOCAL_OWNER_PTO = "chip_swimlane_sync_start_early_local_owner.pto"
# (orchestration: a program under examples/ or tests/st/, or one of its .cpp files;
# signature, case, tasks, edges, codes of the findings)
RECORDED = [
    ("vector_example", SIGS / "vector_example.pto", "Test", 5, 6, []),
    ("paged_attention", PA, "CaseVarSeq4", 68, 92, []),
    ("paged_attention_manual_scope", PA, "CaseVarSeq4", 68, 64, []),
    ("qwen3_14b_decode", SIGS / "qwen3_14b_decode.pto", "Test", 11166, 23605,
     ["E201", "W301"]),
    ("spmd_paged_attention", SIGS / "spmd_paged_attention.pto", "SmallCase1", 1, 0, []),
    # the C++ reads its configuration (lengths) through the argument's host pointer, which
    # the runtime does not track, where the programs make orchestration reads: same tasks
    # and edges
    ("benchmark_bgemm", ROOT / "examples" / "corpus" / "benchmark_bgemm.pto", "Case0", 1000,
     750, []),
    ("paged_attention_unroll_4dims",
     ROOT / "examples" / "corpus" / "paged_attention_unroll_4dims.pto", "Case1", 1280, 1280,
     []),
    ("batch_paged_attention", SIGS / "batch_paged_attention.pto", "CaseVarSeq2", 13, 17, []),
    ("batch_paged_attention", SIGS / "batch_paged_attention.pto", "Case1", 4112, 6128,
     ["E201"]),
    ("deepseek_v4_flash_decode", SIGS / "deepseek_v4_flash_decode.pto", "DecodeFwdEP2TP2",
     15971, 45917, ["E201", "W302"]),
    *((LOCAL_OWNER, ROOT / "examples" / "corpus" / LOCAL_OWNER_PTO, case, 2, 1, [])
      for case in ("single_scheduler_idle", "three_schedulers_idle")),
]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("path", orchestrations(), ids=lambda p: p.parent.parent.parent.name)
def test_compiles_unchanged(path: Path) -> None:
    record.prepare(path, read_source(path), CURRENT)


@functools.cache
def recorded(name: str | Path, signature: Path, case: str | None
             ) -> tuple[Any, record.Recorded]:
    """One example's orchestration recorded on a case (once per test session)."""
    assert SIMPLER is not None
    [path] = [p for where in ("examples", "tests/st")
              for target in [SIMPLER / where / RUNTIME / name]
              for p in ([target] if target.suffix == ".cpp" and target.exists() else
                        target.rglob("kernels/orchestration/*.cpp"))]
    sig = front_end(read_source(signature))
    prepared = record.prepare(path, read_source(path), CURRENT)
    return prepared, record.record(prepared, sig.program, case_values(sig, case))


@pytest.mark.parametrize(("name", "signature", "case", "tasks", "edges", "codes"), RECORDED,
                         ids=[f"{Path(r[0]).stem}-{r[2]}" for r in RECORDED])
def test_records(name: str | Path, signature: Path, case: str, tasks: int, edges: int,
                 codes: list[str]) -> None:
    prepared, rec = recorded(name, signature, case)
    assert (len(rec.graph), rec.graph.edge_count()) == (tasks, edges)
    try:
        found = check_graph(Checked(prepared.source, rec.program, CURRENT), rec.graph)
    except CompileError as exc:
        found = exc.diagnostics
    found += rec.unmodelled.warnings()  # reads whose values needed the kernels (W809)
    assert sorted({d.code for d in found}) == codes


SAME = [("examples", "paged_attention", "paged_attention/auto.pto", c)
        for c in ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4")] + [
    ("tests/st", "paged_attention_unroll", "paged_attention/unroll_auto.pto", c)
    for c in ("Small", "Case2")] + [
    ("examples", "paged_attention_unroll_manual_scope", "paged_attention/unroll_manual.pto",
     "Case1")] + [
    (where, name, f"corpus/{name}.pto", case) for where, name, case in (
        ("tests/st", "alternating_matmul_add", "Case2"),
        ("tests/st", "heap_empty_ring_rebase", "EmptyRingRebase"),
        ("examples", "merge_pipeline_barrier", "merge"),
        ("tests/st", "mixed_example", "case1"),
        ("tests/st", "spmd_basic", "Case1"),
        ("tests/st", "spmd_batch_dispatch_oob", "Case1"),
        ("tests/st", "spmd_multiblock_aiv", "Case1"),
        ("tests/st", "spmd_multiblock_mix", "Case1"),
        ("tests/st", "spmd_starvation", "Case1"),
        ("examples", "vector_example", "Default"),
        ("tests/st", "dummy_task", "DenseFanoutFanin"),
        ("tests/st", "fanin_lookup_perf", "SwimlaneProducers64Consumers64"),
        ("tests/st", "spmd_paged_attention", "Case2"),
        ("tests/st", "spmd_paged_attention_highperf", "b2_h32_kv8_s8192_bs128_fp16"),
        ("tests/st", "batch_paged_attention", "Case1"),
        ("examples", "scalar_data", "Default"),
        ("tests/st", "available_aicore_counts", "Default"),
        ("tests/st", "spmd_sync_start", "Case1"),
        ("tests/st", "spmd_sync_start_aiv", "Case1"),
        ("tests/st", "spmd_sync_start_edge", "Case1"),
        ("tests/st", "spmd_sync_start_stress", "Case1"),
        ("tests/st", "predicated_dispatch", "PredicateFalseSkips"),
        ("tests/st", "predicated_dispatch", "PredicateTrueDispatches"),
        ("tests/st", "spmd_sync_start_early_dispatch", "Case1"),
        ("tests/st", "spmd_sync_start_mix_spill", "Case1"),
        ("examples", "prefetch_async_demo", "prefetch_copy"),
        ("examples", "sdma_async_completion_demo", "peer_fetch"))] + [
    ("tests/st", "dfx/args_dump", "corpus/args_dump.pto", "Default")] + [
    ("tests/st", "dfx/chip_swimlane/kernels/orchestration/chained_mix_orch.cpp",
     "corpus/chip_swimlane.pto", "Default")] + [
    ("tests/st", str(LOCAL_OWNER), f"corpus/{LOCAL_OWNER_PTO}", case)
    for case in ("single_scheduler_idle", "three_schedulers_idle")] + [
    ("tests/st", "dfx/dep_gen", "corpus/dep_gen.pto", "n_65_single_overflow")] + [
    ("examples", "qwen3_14b_decode", "corpus/qwen3_14b_decode.pto", "StressBatch16Seq3500")] + [
    ("examples", "deepseek_v4_flash_decode", "corpus/deepseek_v4_flash_decode.pto",
     "DecodeFwdEP2TP2")]


@pytest.mark.parametrize(("where", "name", "example", "case"), SAME,
                         ids=[f"{n}-{c}" for _, n, _, c in SAME])
def test_paged_attention_is_the_example(where: str, name: str, example: str, case: str) -> None:
    """The runtime's orchestrations that this project has as .pto programs (the paged
    attentions, the corpus), recorded, are the programs' graphs: the same tasks (kernel,
    core, block count, sync start), arguments, scalars, explicit deps and edges."""
    assert SIMPLER is not None
    target = SIMPLER / where / RUNTIME / name  # a program, or one of its orchestrations
    [path] = [target] if target.suffix == ".cpp" else \
        target.rglob("kernels/orchestration/*.cpp")
    checked = front_end(read_source(ROOT / "examples" / example))
    prepared = record.prepare(path, read_source(path), CURRENT)
    rec = record.record(prepared, checked.program, case_values(checked, case))
    assert differences(checked.program, instantiate_case(checked, case), rec.graph) == []


def test_local_owner_pending_case_polls() -> None:
    """The runtime test's pending case waits, in a loop, until blocker tasks write their
    status into device memory: the recording stops at the loop's second cache invalidation
    with E810, located at that call of the runtime's C++, without waiting for the timeout."""
    import time

    assert SIMPLER is not None
    path = SIMPLER / "tests/st" / RUNTIME / LOCAL_OWNER
    program = ROOT / "examples" / "corpus" / LOCAL_OWNER_PTO
    text = read_source(program).text + (
        "case single_scheduler_pending_only { N = 1296, mode = 1, consumer_blocks = 8 }\n")
    sig = front_end(SourceFile(program.name, text))
    prepared = record.prepare(path, read_source(path), CURRENT)
    start = time.monotonic()
    with pytest.raises(CompileError) as exc:
        record.record(prepared, sig.program, case_values(sig, "single_scheduler_pending_only"),
                      timeout=30)
    assert time.monotonic() - start < 10
    [diag] = exc.value.diagnostics
    assert diag.code == "E810" and "poll can never end" in diag.message
    assert diag.span is not None and diag.span.source.name == str(path)
    assert diag.span.source.line_text(diag.span.line).strip() == "cache_invalidate_range("
    assert "wait_for_blockers_started" in "".join(
        diag.span.source.line_text(n) for n in range(diag.span.line - 8, diag.span.line))


RUNS = [("paged_attention", ROOT / "examples" / "paged_attention" / "auto.pto", "CaseVarSeq2",
         [], "PASS out"),
        ("paged_attention_manual_scope", PA, "CaseVarSeq2", [], "PASS out"),
        ("qwen3_14b_decode", SIGS / "qwen3_14b_decode.pto", "Test", ["--no-numerics"],
         "numerics          off"),
        ("deepseek_v4_flash_decode", SIGS / "deepseek_v4_flash_decode.pto", "DecodeFwdEP2TP2",
         ["--no-numerics", "--task-window", "16384", "--heap-mib", "2048"],
         "numerics          off")]


@pytest.mark.parametrize(("name", "signature", "case", "extra", "verdict"), RUNS,
                         ids=[r[0] for r in RUNS])
def test_runs(name: str, signature: Path, case: str, extra: list[str], verdict: str,
              capsys: pytest.CaptureFixture[str]) -> None:
    """pto-run on the runtime's orchestrations: the paged attentions with this project's
    kernel implementations pass their golden; the decoders (no impls) run their graphs, on
    the ring sizes of their tests."""
    from pto_dsl.cli_run import main as run_main

    assert SIMPLER is not None
    [path] = (SIMPLER / "examples" / RUNTIME / name).rglob("kernels/orchestration/*.cpp")
    code = run_main([str(path), "--signature", str(signature), "--case", case, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"case {case}: " in out.splitlines()[0] and verdict in out


def test_deepseek_signature_is_generated() -> None:
    """The deepseek signature is what its generator writes from the runtime's own tables."""
    import subprocess
    import sys

    assert SIMPLER is not None
    made = subprocess.run([sys.executable, str(SIGS / "deepseek_signature.py"), str(SIMPLER)],
                          capture_output=True, text=True, check=True).stdout
    assert made == (SIGS / "deepseek_v4_flash_decode.pto").read_text(encoding="utf-8")


def test_deepseek_records_early_resolve_and_predicates() -> None:
    """Early resolve and dispatch predicates are recorded on the tasks, as a .pto program has
    them: every predicate reads an element of recv_count_out, which dispatch_meta writes,
    and compares it with '>'; the dispatch_meta task is an ancestor of every predicated
    task (the runtime requires the element's writer among its producers: no race)."""
    _, rec = recorded("deepseek_v4_flash_decode", SIGS / "deepseek_v4_flash_decode.pto",
                      "DecodeFwdEP2TP2")
    g = rec.graph
    tasks = list(g.tasks())
    predicated = [t for t in tasks if t.predicate is not None]
    assert (sum(t.early_resolve for t in tasks), len(predicated),
            rec.unmodelled.computed_reads) == (5517, 8256, 0)
    assert {t.predicate[0] for t in predicated if t.predicate is not None} == {">"}
    writers: dict[int, set[str]] = {}
    for t in tasks:
        for a in t.accesses:
            if a.tag.value != "INPUT" and t.core != "alloc":
                writers.setdefault(a.buffer.id, set()).add(t.kernel.rstrip("_0123456789"))
    elements = [t.accesses[-1] for t in predicated]
    assert all(a.param == "predicate" for a in elements)
    assert {k for a in elements for k in writers[a.buffer.id]} == {"dispatch_meta"}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_decoder_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/record.md's command: the decoder as one node per submission site, a PNG."""
    from pto_dsl.cli_graph import main as graph_main

    assert SIMPLER is not None
    [path] = (SIMPLER / "examples" / RUNTIME / "qwen3_14b_decode").rglob("orchestration/*.cpp")
    png = tmp_path / "qwen3_14b_decode.png"
    code = graph_main([str(path), "--signature", str(SIGS / "qwen3_14b_decode.pto"), "-o",
                       str(png)])
    out, err = capsys.readouterr()
    assert code == 1  # the races are drawn, and still make the exit code 1
    assert f"pto-graph: wrote {png} (one node per submission site; 11166 tasks" in out + err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 2000 and height >= 1000  # big enough to read the 52 site labels
    doc = (ROOT / "docs" / "record.md").read_text(encoding="utf-8")
    assert "-o docs/images/qwen3_14b_decode.png" in doc
    assert (ROOT / "docs" / "images" / "qwen3_14b_decode.png").exists()
