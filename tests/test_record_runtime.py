"""The runtime's own a2a3 tensormap_and_ringbuffer orchestrations against the recording API.

Needs a checkout of the runtime: `PTO_SIMPLER_ROOT=/path/to/simpler pytest
tests/test_record_runtime.py` (skipped otherwise). Every orchestration of its examples and
system tests must compile against the recording API unchanged (but those that include
platform headers outside the orchestration API); those with a signature in
tests/record/runtime/ (or an example of this project) are recorded on the runtime test's
shapes and checked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


# Orchestrations that include headers of the platform, not of the orchestration API.
PLATFORM = {"sync_start_early_local_owner_orch.cpp": "aicpu/cache_maintenance.h",
            "sdma_async_completion_orch.cpp": "platform_comm/comm_context.h"}

PA = ROOT / "examples" / "paged_attention" / "manual.pto"
SIGS = ROOT / "tests" / "record" / "runtime"
# (orchestration under examples/, signature, case, tasks, edges, codes of the findings)
RECORDED = [
    ("vector_example", SIGS / "vector_example.pto", "Test", 5, 6, []),
    ("paged_attention", PA, "CaseVarSeq4", 68, 92, []),
    ("paged_attention_manual_scope", PA, "CaseVarSeq4", 68, 64, []),
    ("qwen3_14b_decode", SIGS / "qwen3_14b_decode.pto", "Test", 11166, 23605, ["E201", "W301"]),
]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("path", orchestrations(), ids=lambda p: p.parent.parent.parent.name)
def test_compiles_unchanged(path: Path) -> None:
    source = read_source(path)
    if path.name in PLATFORM:
        with pytest.raises(CompileError) as exc:
            record.prepare(path, source, CURRENT)
        assert PLATFORM[path.name] in exc.value.diagnostics[0].message
        return
    record.prepare(path, source, CURRENT)


@pytest.mark.parametrize(("name", "signature", "case", "tasks", "edges", "codes"), RECORDED,
                         ids=[r[0] for r in RECORDED])
def test_records(name: str, signature: Path, case: str, tasks: int, edges: int,
                 codes: list[str]) -> None:
    assert SIMPLER is not None
    [path] = (SIMPLER / "examples" / RUNTIME / name / "kernels" / "orchestration").glob("*.cpp")
    sig = front_end(read_source(signature))
    prepared = record.prepare(path, read_source(path), CURRENT)
    rec = record.record(prepared, sig.program, case_values(sig, case))
    assert (len(rec.graph), rec.graph.edge_count()) == (tasks, edges)
    try:
        found = check_graph(Checked(prepared.source, rec.program, CURRENT), rec.graph)
    except CompileError as exc:
        found = exc.diagnostics
    assert sorted({d.code for d in found}) == codes


SAME = [("examples", "paged_attention", "auto.pto", c)
        for c in ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4")] + [
    ("tests/st", "paged_attention_unroll", "unroll_auto.pto", c) for c in ("Small", "Case2")]


@pytest.mark.parametrize(("where", "name", "example", "case"), SAME,
                         ids=[f"{n}-{c}" for _, n, _, c in SAME])
def test_paged_attention_is_the_example(where: str, name: str, example: str, case: str) -> None:
    """The runtime's AUTO-scope paged attention orchestrations, recorded, are the graphs of
    this project's examples: the same tasks, arguments, scalars and edges."""
    assert SIMPLER is not None
    [path] = (SIMPLER / where / RUNTIME / name / "kernels" / "orchestration").glob("*.cpp")
    checked = front_end(read_source(ROOT / "examples" / "paged_attention" / example))
    prepared = record.prepare(path, read_source(path), CURRENT)
    rec = record.record(prepared, checked.program, case_values(checked, case))
    assert differences(checked.program, instantiate_case(checked, case), rec.graph) == []


RUNS = [("paged_attention", ROOT / "examples" / "paged_attention" / "auto.pto", "CaseVarSeq2",
         [], "PASS out"),
        ("paged_attention_manual_scope", PA, "CaseVarSeq2", [], "PASS out"),
        ("qwen3_14b_decode", SIGS / "qwen3_14b_decode.pto", "Test", ["--no-numerics"],
         "numerics          off")]


@pytest.mark.parametrize(("name", "signature", "case", "extra", "verdict"), RUNS,
                         ids=[r[0] for r in RUNS])
def test_runs(name: str, signature: Path, case: str, extra: list[str], verdict: str,
              capsys: pytest.CaptureFixture[str]) -> None:
    """pto-run on the runtime's orchestrations: the paged attentions with this project's
    kernel implementations pass their golden; the decoder (no impls) runs its graph."""
    from pto_dsl.cli_run import main as run_main

    assert SIMPLER is not None
    [path] = (SIMPLER / "examples" / RUNTIME / name / "kernels" / "orchestration").glob("*.cpp")
    code = run_main([str(path), "--signature", str(signature), "--case", case, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"case {case}: " in out.splitlines()[0] and verdict in out
