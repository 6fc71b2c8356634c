"""The corpus (examples/corpus/): the runtime's own orchestrations written in .pto. Each
checks clean on every case, has on each case the tasks the runtime's C++ submits (the
numbers below are derived from the C++ by hand, per kernel), compiles in the current
dialect with g++ against this project's headers, and runs in pto-run: against the golden
where the runtime's test states the math, with --no-numerics otherwise. docs/corpus.md
lists every runtime orchestration; its table names exactly the files present here."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from test_compile_support import GXX, compile_file, include_dir, syntax_check

from pto_dsl.cases import case_names, default_case
from pto_dsl.cli import check_main
from pto_dsl.cli_graph import main as graph_main
from pto_dsl.cli_run import main as run_main
from pto_dsl.diagnostics import CompileError
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import Checked, check_graph, front_end, instantiate_case, read_source
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "corpus"
TABLE = ROOT / "docs" / "corpus.md"


def _per_iteration(times: int, **kernels: int) -> dict[str, int]:
    return {k: n * times for k, n in kernels.items()}


def _pa_unroll(groups: int, scopes: int) -> dict[str, int]:
    """paged_attention_unroll_4dims: one alloc per (request, head tile) scope and four
    tasks per group of up to 64 blocks."""
    return {"alloc": scopes, **_per_iteration(groups, QK=1, SF=1, PV=1, UP=1)}


def _times(n: int, kernels: dict[str, int]) -> Counter[str]:
    return Counter({k: v * n for k, v in kernels.items()})


def _deepseek() -> Counter[str]:
    """deepseek_v4_flash_decode on DecodeFwdEP2TP2, per kind of kernel (the copies of a
    kernel that the decoder's repeated blocks submit counted together): the prologue, 43
    layers (2 sliding-window, 21 compressed-sparse and 20 heavily-compressed attention
    layers, each followed by a MoE FFN routed by hash in layers 0-2), the signal clear and
    the head."""
    pre_post = dict.fromkeys(("hc_pre_rms", "hc_pre_linear", "hc_pre_linear_reduce",
                              "split_pre_post", "comb_sinkhorn", "mix_x", "hc_post"), 1)
    attention = pre_post | dict.fromkeys((
        "rms_norm", "dummy", "q_rope_prepare", "qr_proj_matmul", "qr_proj_reduce",
        "qr_rms_norm_quant", "qproj_matmul", "qproj_dequant_rms_nope_rope", "kv_proj_matmul",
        "kv_proj_reduce", "kv_rms_norm_rope", "qk_pv", "rope_cs", "merge_norm", "proj_b_act"),
        1) | {"proj_a_mm": 8, "quant": 8, "proj_b_mm": 8}  # 8 groups of heads
    # allocs: 2 (or 3-4) groups, 4 of the pre-mix, 3 of the q rope, 6 of the projections
    swa = attention | {"alloc": 15, "swa_rope_step": 1, "swa_cache_insert_valid_bias": 1,
                       "swa_gather_kv": 1}
    csa = attention | dict.fromkeys((
        "csa_rope_step", "csa_cmp_rope", "csa_cache_writeback", "rmsnorm_rope_cache_write",
        "idx_qr_proj_matmul", "idx_qr_proj_dequant", "qr_rope_swap_idx", "qr_rope",
        "qr_hadamard_matmul", "qr_hadamard_quant", "weights_proj", "weights_proj_reduce",
        "rmsnorm_rope", "kv_hadamard", "kv_and_cache_write", "score", "topk", "kv_touch",
        "csa_slots_build_valid_qk_plan"), 1) | {
        "alloc": 17, "rope_interleave": 2, "kv_score_proj": 2, "scatter_softmax_pool": 2}
    hca = attention | dict.fromkeys((
        "hca_rope", "rope_interleave", "hca_cache_writeback", "kv_score_proj",
        "scatter_softmax_pool", "rmsnorm_rope_cache_write", "hca_cache_topk", "build_valid",
        "hca_gather_kv", "rope_swap"), 1) | {"alloc": 16}
    # allocs: 2 groups, 4 of the pre-mix, the gate's pipe, the shared expert's, the combine's,
    # the expert rows', and one per expert tile in each of the two expert loops
    ffn = pre_post | dict.fromkeys((
        "ffn_norm", "dummy", "x_norm_quant", "gate_pre_route", "gate", "sh_gate_mm",
        "sh_up_mm", "sh_gate_up_act_q", "sh_w2_mm", "sh_w2_act", "dispatch_meta",
        "dispatch_push", "dispatch_wait", "dispatch_gather", "combine", "combine_wait",
        "shared_routed"), 1) | dict.fromkeys((
        "exp_gate_mm", "exp_up_mm", "exp_gate_up_act", "exp_h_q", "exp_w2_mm", "exp_w2_act"),
        32) | {"alloc": 10 + 2 * 32}
    rest = dict.fromkeys((
        "decode_build_swa_metadata", "decode_build_swa_scalar_metadata",
        "decode_build_cache_metadata", "pack_x_hc", "moe_signal_clear", "hc_head_rms",
        "hc_head_mixes_zero", "hc_head_linear", "hc_head_reduce", "rms_norm",
        "lm_head_dispatch_push", "lm_head_dispatch_wait", "lm_head_dispatch_gather",
        "lm_head_matmul", "lm_head_combine_push", "lm_head_combine_wait",
        "lm_head_combine_gather", "lm_head_signal_clear", "lm_head_greedy_sample"), 1)
    # allocs: the prologue's, one per pair of layers 2-41, two of the head
    return (_times(2, swa) + _times(21, csa) + _times(20, hca) + _times(43, ffn)
            + Counter(rest) + Counter({"alloc": 1 + 20 + 2, "route_hash": 3, "route_sort": 40}))


# spmd_paged_attention_highperf: the block count of each case (the test's tiling routine)
HIGHPERF_BLOCKS = {"b1_h32_kv8_s128_bs128_fp16": 16, "b4_h32_kv8_s512_bs128_fp16": 24,
                   "b1_h32_kv8_s16384_bs128_fp16": 24, "b1_h32_kv8_s4096_bs128_fp16": 24,
                   "b1_h32_kv8_s6144_bs128_fp16": 24, "b1_h32_kv8_s8192_bs128_fp16": 24,
                   "b2_h32_kv8_s4096_bs128_fp16": 24, "b2_h32_kv8_s8192_bs128_fp16": 24,
                   "Small": 16}

# Tasks per kernel on each case, as the runtime's C++ submits them.
TASKS: dict[str, dict[str, dict[str, int]]] = {
    # t0 at the entry's level, t1..t4 in the inner scope
    "vector_example": {"Default": {"ADD": 2, "ADD_SCALAR": 2, "MUL": 1}},
    "args_dump": {"Default": {"ADD": 2, "ADD_SCALAR": 2, "MUL": 1}},
    # batch*M/matmul_batch matmul groups and batch*N/add_batch add groups
    "alternating_matmul_add": {"Default": {"MATMUL": 1, "ADD": 1},
                               "Case1": {"MATMUL": 500, "ADD": 500},
                               "Case2": {"MATMUL": 256, "ADD": 512}},
    # one GEMM and one TILE_ADD per (group, k): matmul_add_task_num of each
    "benchmark_bgemm": {c: _per_iteration(n, GEMM=1, TILE_ADD=1) for c, n in (
        ("Case0", 500), ("Case1", 64), ("Case2", 256), ("Case3", 64), ("Case4", 64),
        ("Bgemm64", 32))},
    "heap_empty_ring_rebase": {"EmptyRingRebase": {"FILL_CONST": 2, "COPY_FIRST": 2}},
    # five tasks (one per resource shape) per iteration
    "mixed_example": {c: _per_iteration(n, MATMUL_ADD_MUL=1, MATMUL=1, ADD_STANDALONE=1,
                                        ADD_MUL=1, MATMUL_ADD=1)
                      for c, n in (("case1", 4), ("case2", 1))},
    "spmd_basic": {"Case1": {"SPMD_READ": 1}},
    # five SPMD tasks each (4..96 vector blocks; 2..48 mixed blocks)
    "spmd_multiblock_aiv": {"Case1": {"SPMD_WRITE_AIV": 5}},
    "spmd_multiblock_mix": {"Case1": {"SPMD_MIX": 5}},
    "spmd_batch_dispatch_oob": {"Case1": {"SPMD_WRITE": 2}},
    # 18 tasks of 4 blocks and 2 sync-start tasks of 6 blocks
    "spmd_starvation": {"Case1": {"SPMD_MIX": 20}},
    # one vector task of 8 blocks
    "merge_pipeline_barrier": {"merge": {"MERGE_PIPELINE": 1}},
    # a flagged producer of 50 cube blocks and a sync-start consumer over every cluster;
    # a flagged producer over every AIV core and a sync-start consumer over every cluster
    "spmd_sync_start_early_dispatch": {"Case1": {"SPMD_WRITE_AIC": 1, "SPMD_MIX": 1}},
    "spmd_sync_start_mix_spill": {"Case1": {"SPMD_WRITE_AIV": 1, "SPMD_MIX": 1}},
    # the gate writer, x's writer, the predicated clobber and the copy, on both cases
    "predicated_dispatch": {c: {"WRITE_GATE": 1, "WRITE_CONST": 1, "CLOBBER": 1,
                                "COPY_FIRST": 1}
                            for c in ("PredicateFalseSkips", "PredicateTrueDispatches")},
    # per head tile and chunk of 16 requests: an alloc, then QK, SF, PV, UP per block index
    # below the largest block count: Case1 16 chunks x 64, Case2/3 4 x 128, small 1 x max_bn
    "batch_paged_attention": {c: {"alloc": chunks, **_per_iteration(chunks * bn, QK=1, SF=1,
                                                                    PV=1, UP=1)}
                              for c, chunks, bn in (
                                  ("Case1", 16, 64), ("Case2", 4, 128), ("Case3", 4, 128),
                                  ("CaseSmall1", 1, 3), ("CaseSmall2", 1, 2),
                                  ("CaseSmall3", 1, 8), ("CaseVarSeq2", 1, 3),
                                  ("CaseVarSeq4", 1, 8))},
    # one SPMD mixed task of 24 blocks per case; one whose block count is a scalar
    "spmd_paged_attention": {c: {"PA": 1} for c in ("Case1", "Case2", "SmallCase1", "Small")},
    "spmd_paged_attention_highperf": {c: {"PA_HIGHPERF": 1} for c in HIGHPERF_BLOCKS},
    "chip_swimlane": {"Default": {"MATMUL_ADD": 3}},
    # the flagged one-block producer and the sync-start consumer (8 or 4 blocks)
    "chip_swimlane_sync_start_early_local_owner": {
        c: {"SLOW_FLAGGED_PRODUCER_AIC": 1, "SYNC_START_CONSUMER_AIV": 1}
        for c in ("single_scheduler_idle", "three_schedulers_idle")},
    "prefetch_async_demo": {"prefetch_copy": {"PREFETCH_COPY": 1}},
    "sdma_async_completion_demo": {"peer_fetch": {"SDMA_TGET_ASYNC": 1, "CONSUMER": 1}},
    # Case1: 256 requests of 64 blocks (one group each); Case2/3: 64 of 128 blocks (two)
    # six vector tasks (four ADD, two no-ops) and two alloc tasks around element access
    "scalar_data": {"Default": {"ADD": 4, "NOOP": 1, "NOOP_OUT": 1, "alloc": 2}},
    # SPMD tasks sized from the available core counts, with element writes of the layout
    "available_aicore_counts": {"Default": {"SPMD_MIX": 1}},
    "spmd_sync_start": {"Case1": {"SPMD_MIX": 4}},
    "spmd_sync_start_aiv": {"Case1": {"SPMD_WRITE_AIV": 4}},
    "spmd_sync_start_edge": {"Case1": {"SPMD_MIX": 5}},
    # six rounds of four + two mixed and two + one vector tasks
    "spmd_sync_start_stress": {"Case1": {"SPMD_MIX": 36, "SPMD_WRITE_AIV": 18}},
    "paged_attention_unroll_4dims": {"Case1": _pa_unroll(256, 256),
                                     "Case2": _pa_unroll(128, 64),
                                     "Case3": _pa_unroll(128, 64),
                                     "Small": _pa_unroll(3, 2)},
    # n producers, the dummy barrier, the consumer
    "dep_gen": {c: {"WRITE_CONST": n, "dummy": 1, "COPY_FIRST": 1} for c, n in (
        ("n_64_no_chain", 64), ("n_65_single_overflow", 65), ("n_200_single_overflow", 200),
        ("n_391_two_overflow", 391))},
    # scenes 1-4: 1, 4, 1 and 18 dummy tasks between producer(s) and consumer
    "dummy_task": {"SingleDummyAutoDep": {"WRITE_CONST": 1, "dummy": 1, "COPY_FIRST": 1},
                   "LongDummyChain": {"WRITE_CONST": 1, "dummy": 4, "COPY_FIRST": 1},
                   "DummyExplicitDepBarrier": {"WRITE_CONST": 2, "dummy": 1, "COPY_FIRST": 1},
                   "DenseFanoutFanin": {"WRITE_CONST": 1, "dummy": 18, "COPY_FIRST": 1}},
    # 64 producers and 64 consumers: dummy tasks, or the real kernel
    "fanin_lookup_perf": {"LookupOnlyProducers64Consumers64": {"dummy": 128},
                          "SwimlaneProducers64Consumers64": {"WRITE_CONST": 128}},
    # before the layers: alloc, tiling, a fence, copy_hidden, x_gamma0; then per layer two
    # allocs, 12 fences and 277 kernel tasks; copy_out at the end
    "qwen3_14b_decode": {"StressBatch16Seq3500": {
        "alloc": 81, "dummy": 481, "paged_attention_tiling_cce": 1, "copy_hidden": 1,
        "x_gamma0": 1, "copy_out": 1, **_per_iteration(
            40, attn_out_seed=1, rms_recip=1, q_seed=1, q_proj=1, kv_seed=1, mlp_out_seed=1,
            k_proj=1, v_proj=1, paged_attention_rope_cce=1, out_proj=26, out_proj_0=1,
            residual_rms_cast=1, residual_rms_cast_0=1, residual_rms_cast_1=1,
            residual_rms_cast_2=1, residual_rms_cast_3=1, post_rms_reduce=1,
            gate_proj=1, up_proj=1, gate_proj_0=1, up_proj_0=1, gate_proj_1=1, up_proj_1=1,
            gate_proj_2=1, up_proj_2=1, gate_proj_3=1, up_proj_3=1, gate_proj_4=55,
            up_proj_4=55, silu=17, down_proj=85, dcr_xgamma=1)}},
    "deepseek_v4_flash_decode": {"DecodeFwdEP2TP2": dict(_deepseek())},
}
# Findings of pto-check that a file's header lists and explains, by (program, case): each
# code as often as pto-check reports it (once per pair of submission sites).
FINDINGS = {("batch_paged_attention", c): ["E201"] for c in ("Case1", "Case2", "Case3")} | {
    ("spmd_sync_start_mix_spill", "Case1"): ["W302"],
    ("qwen3_14b_decode", "StressBatch16Seq3500"): ["E201"] * 35 + ["W301"] * 23,
    ("deepseek_v4_flash_decode", "DecodeFwdEP2TP2"): ["E201"] * 35 + ["W302"] * 16}
# Programs whose repeated blocks submit their own copies of a kernel (`gate`, `gate_0`, ...):
# their tasks are counted per kind of kernel.
COPIES = {"deepseek_v4_flash_decode"}
# Programs whose kernels have no NumPy implementation (their headers say so).
NO_NUMERICS = {"sdma_async_completion_demo", "spmd_paged_attention_highperf",
               "qwen3_14b_decode", "deepseek_v4_flash_decode"}
# Cases that are not the runtime's (the file says so): none but these.
OWN_CASES = {("paged_attention_unroll_4dims", "Small"), ("spmd_paged_attention", "Small"),
             ("spmd_paged_attention_highperf", "Small")}


def _program(name: str) -> Checked:
    return front_end(read_source(CORPUS / f"{name}.pto"))


def _cases() -> list[tuple[str, str]]:
    return [(p, c) for p, cases in TASKS.items() for c in cases]


def test_every_corpus_file_is_counted() -> None:
    assert {p.stem for p in CORPUS.glob("*.pto")} == set(TASKS)
    for name, cases in TASKS.items():
        assert case_names(_program(name).program) == list(cases), name


@pytest.mark.parametrize(("name", "case"), _cases())
def test_checks_clean_with_the_runtime_task_count(name: str, case: str) -> None:
    checked = _program(name)
    assert checked.warnings == []
    graph = instantiate_case(checked, case)
    expected = FINDINGS.get((name, case))
    if expected is None:
        assert check_graph(checked, graph) == []
    else:
        try:
            found = check_graph(checked, graph)
        except CompileError as err:
            found = err.diagnostics
        assert Counter(d.code for d in found) == Counter(expected)
        assert all(d.code in _header(name) for d in found)
    kinds = (re.sub(r"_\d+$", "", t.kernel) if name in COPIES else t.kernel
             for t in graph.tasks())
    assert Counter(kinds) == Counter(TASKS[name][case])


def test_deepseek_is_what_its_generator_writes() -> None:
    """deepseek_v4_flash_decode.pto is written from the pieces of its generator (the
    decoder's repeated blocks bound to their own kernel copies): the committed file is
    exactly what the generator writes, and the program is one decode step of 15,971 tasks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "deepseek_gen", CORPUS / "deepseek_v4_flash_decode_gen.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = CORPUS / "deepseek_v4_flash_decode.pto"
    assert gen.program() == path.read_text(encoding="utf-8")
    graph = instantiate_case(_program("deepseek_v4_flash_decode"), "DecodeFwdEP2TP2")
    assert (len(graph), graph.edge_count()) == (15971, 45917)


def test_cases_not_from_the_runtime_are_marked() -> None:
    marked = set()
    for path in CORPUS.glob("*.pto"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            m = re.match(r"(?:default )?case (\w+)", line)
            if m and any("Not a runtime case" in x for x in lines[max(n - 3, 0) : n]):
                marked.add((path.stem, m.group(1)))
    assert marked == OWN_CASES


def _edges(graph: TaskGraph) -> set[tuple[int, int]]:
    return {(p, c) for p, c, _ in graph.edges()}


def test_vector_example_has_the_runtime_dag() -> None:
    # the runtime's comment: t0->t1, t0->t2, t1->t3, t2->t3, t0->t4, t3->t4
    graph = instantiate_case(_program("vector_example"), "Default")
    assert _edges(graph) == {(0, 1), (0, 2), (1, 3), (2, 3), (0, 4), (3, 4)}


def test_spmd_programs_have_the_runtime_block_counts() -> None:
    launches = {name: [(t.blocks, t.sync_start) for t in graph.tasks()]
                for name in ("spmd_multiblock_aiv", "spmd_multiblock_mix",
                             "spmd_batch_dispatch_oob", "spmd_starvation",
                             "merge_pipeline_barrier", "spmd_basic")
                for graph in [instantiate_case(_program(name), None)]}
    assert launches["spmd_multiblock_aiv"] == [(n, False) for n in (4, 16, 24, 48, 96)]
    assert launches["spmd_multiblock_mix"] == [(n, False) for n in (2, 8, 12, 24, 48)]
    assert launches["spmd_batch_dispatch_oob"] == [(48, False)] * 2
    wave = [(4, False)] * 6
    assert launches["spmd_starvation"] == wave + [(6, True)] + wave + [(6, True)] + wave
    assert launches["merge_pipeline_barrier"] == [(8, False)]
    assert launches["spmd_basic"] == [(1, False)]


def test_spmd_paged_attentions_have_the_runtime_block_counts() -> None:
    checked = _program("spmd_paged_attention")
    for case in TASKS["spmd_paged_attention"]:
        assert [t.blocks for t in instantiate_case(checked, case).tasks()] == [24]
    checked = _program("spmd_paged_attention_highperf")
    for case, blocks in HIGHPERF_BLOCKS.items():
        assert [t.blocks for t in instantiate_case(checked, case).tasks()] == [blocks]


def test_predicated_dispatch_skips_the_clobber_only_when_the_gate_is_zero() -> None:
    checked = _program("predicated_dispatch")
    for case, counts in (("PredicateFalseSkips", [0, 1]), ("PredicateTrueDispatches", [1, 0])):
        graph = instantiate_case(checked, case)
        assert graph.task(2).predicate == (">", 0)
        assert set(graph.producers(2)) == {0, 1}  # the dep on the gate, x's writer
        result = simulate(checked, case, SimOptions())
        assert result.passed, result.checks
        assert result.runtime.sched.predicated == counts


def test_sync_start_programs_size_their_tasks_from_the_available_cores() -> None:
    """24 clusters and 48 AIV cores: the block counts the runtime's cohorts give there,
    and the orchestration's element writes of the layout, after the submit they follow."""
    launches, writes = {}, {}
    for name in ("available_aicore_counts", "spmd_sync_start", "spmd_sync_start_aiv",
                 "spmd_sync_start_edge", "spmd_sync_start_stress"):
        graph = instantiate_case(_program(name), None)
        launches[name] = [(t.blocks, t.sync_start) for t in graph.tasks()]
        writes[name] = [(r.access.buffer.name, r.access.region.offsets[0], r.after_tasks)
                        for r in graph.host_reads if r.write]
    assert launches["available_aicore_counts"] == [(24, True)]
    assert writes["available_aicore_counts"] == [("shape", 0, 1), ("shape", 1, 1)]
    assert launches["spmd_sync_start"] == [(2, True), (8, True), (2, False), (12, True)]
    assert [(i, n) for _, i, n in writes["spmd_sync_start"]] == [
        (i, i // 2 + 1) for i in range(8)]
    assert launches["spmd_sync_start_aiv"] == [(4, True), (16, True), (4, False), (24, True)]
    assert launches["spmd_sync_start_edge"] == [(1, True), (8, True), (9, True), (23, True),
                                                (1, False)]
    round_ = [(4, False)] * 4 + [(12, True)] * 2 + [(8, True)] * 2 + [(4, False)]
    assert launches["spmd_sync_start_stress"] == round_ * 6
    assert [n for _, _, n in writes["spmd_sync_start_stress"]] == [0] * 4


def test_qwen3_has_the_runtime_task_kinds_and_launches() -> None:
    """The decoder's tasks by core (docs/corpus.md's row) and its SPMD launches: per layer
    q_proj x50, k_proj/v_proj x10, the attention x24 with sync start, out_proj_0 x24, the
    ten early gate/up tasks x6; x_gamma0 and dcr_xgamma x5; the tiling task x1."""
    graph = instantiate_case(_program("qwen3_14b_decode"), "StressBatch16Seq3500")
    tasks = list(graph.tasks())
    assert Counter(t.core for t in tasks) == Counter(
        {"aic": 9400, "aiv": 1164, "mix": 40, "dummy": 481, "alloc": 81})
    launches = Counter((t.kernel, t.blocks, t.sync_start) for t in tasks if t.blocks > 1
                       or t.sync_start)
    spmd_mlp = {(k, 6, False): 40 for k in ("gate_proj", "up_proj", *(
        f"{g}_{i}" for g in ("gate_proj", "up_proj") for i in range(4)))}
    assert launches == Counter({("q_proj", 50, False): 40, ("k_proj", 10, False): 40,
                                ("v_proj", 10, False): 40, ("x_gamma0", 5, False): 1,
                                ("paged_attention_rope_cce", 24, True): 40,
                                ("out_proj_0", 24, False): 40, ("dcr_xgamma", 5, False): 40,
                                **spmd_mlp})
    assert sum(t.early_resolve for t in tasks) == 2 + 40 * (8 + 5 + 85 + 1)
    assert (len(tasks), graph.edge_count()) == (11166, 23605)


def test_chained_mix_is_a_chain() -> None:
    # two TensorMap dependencies per step pair (one per workspace), one edge each
    graph = instantiate_case(_program("chip_swimlane"), "Default")
    assert _edges(graph) == {(0, 1), (1, 2)}


def test_local_owner_is_a_flagged_producer_and_a_sync_start_cohort() -> None:
    """The idle cases: one block of the producer with early resolve, then the consumer's
    cohort of 8 or 4 vector blocks with sync start and one explicit dep on it, in a MANUAL
    scope; the pending mode (which polls device memory) is refused, not approximated."""
    checked = _program("chip_swimlane_sync_start_early_local_owner")
    for case, blocks in (("single_scheduler_idle", 8), ("three_schedulers_idle", 4)):
        graph = instantiate_case(checked, case)
        assert [(t.core, t.blocks, t.sync_start, t.early_resolve, t.explicit_deps,
                 t.scope_mode) for t in graph.tasks()] == [
            ("aic", 1, False, True, (), "manual"), ("aiv", blocks, True, False, (0,), "manual")]
    text = (CORPUS / "chip_swimlane_sync_start_early_local_owner.pto").read_text(
        encoding="utf-8")
    pending = text + "case pending { N = 1296, mode = 1, consumer_blocks = 8 }\n"
    checked = front_end(SourceFile("local_owner.pto", pending))
    with pytest.raises(CompileError) as exc:
        instantiate_case(checked, "pending")
    assert exc.value.diagnostics[0].code == "E186"
    assert "polls device memory" in exc.value.diagnostics[0].message


def _explicit_fanin(graph: TaskGraph) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for t in graph.tasks():
        out[t.id] = set(t.explicit_deps)
    return out


@pytest.mark.parametrize("case", sorted(TASKS["dep_gen"]))
def test_dep_gen_barrier_names_every_producer(case: str) -> None:
    # the runtime test's check on deps.json: one task with n explicit predecessors, all
    # of them producers, and the consumer's one explicit predecessor is that barrier
    graph = instantiate_case(_program("dep_gen"), case)
    n = TASKS["dep_gen"][case]["WRITE_CONST"]
    fanin = _explicit_fanin(graph)
    barrier = [t for t, preds in fanin.items() if len(preds) == n]
    assert len(barrier) == 1 and fanin[barrier[0]] == set(range(n))
    assert fanin[n + 1] == {barrier[0]}


def test_dummy_task_dense_fanin_names_all_eighteen() -> None:
    graph = instantiate_case(_program("dummy_task"), "DenseFanoutFanin")
    fanin = _explicit_fanin(graph)
    assert all(fanin[d] == {0} for d in range(1, 19))
    assert fanin[19] == set(range(1, 19))


def test_fanin_lookup_perf_is_a_complete_bipartite_graph() -> None:
    for case in TASKS["fanin_lookup_perf"]:
        graph = instantiate_case(_program("fanin_lookup_perf"), case)
        assert _edges(graph) == {(p, 64 + c) for p in range(64) for c in range(64)}


@pytest.mark.parametrize(("name", "item", "value"), [
    ("dep_gen", "n = 64", "n = 501"), ("dep_gen", "n = 64", "n = 0"),
    ("dummy_task", "case_id = 1", "case_id = 5"),
    ("fanin_lookup_perf", "producer_count = 64, consumer_count = 64, use_real_kernels = 0",
     "producer_count = 64, consumer_count = 65, use_real_kernels = 0")])
def test_bad_scalars_are_the_runtime_fatal_report(name: str, item: str, value: str) -> None:
    text = (CORPUS / f"{name}.pto").read_text(encoding="utf-8")
    assert item in text
    checked = front_end(SourceFile(f"{name}.pto", text.replace(item, value, 1)))
    with pytest.raises(CompileError) as exc:
        instantiate_case(checked, None)
    (diag,) = exc.value.diagnostics
    assert diag.code == "E186" and "code 5 (INVALID_ARGS)" in diag.message
    assert diag.span is not None and "fatal INVALID_ARGS" in diag.span.source.line_text(
        diag.span.line)


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
def test_corpus_compiles_in_the_current_dialect(tmp_path: Path) -> None:
    sources = []
    for path in sorted(CORPUS.glob("*.pto")):
        out = tmp_path / f"{path.stem}.cpp"
        out.write_text(compile_file(path, "current"), encoding="utf-8")
        sources.append(out)
    result = syntax_check(sources, include_dir(tmp_path / "include", "current"))
    assert result.returncode == 0, result.stderr[-4000:]


def _header(name: str) -> str:
    text = (CORPUS / f"{name}.pto").read_text(encoding="utf-8")
    return text.split("\nkernel ", 1)[0]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_header_names_the_runtime_program_and_how_it_runs(name: str) -> None:
    header = _header(name)
    assert f"`{name}`" in header
    assert ("--no-numerics" in header) == (name in NO_NUMERICS)
    assert ("pto-run checks the golden" in header) == (name not in NO_NUMERICS)


def _default_name(checked: Checked) -> str:
    case = default_case(checked.program)
    assert case is not None
    return case.name.name


@pytest.mark.parametrize("name", sorted(set(TASKS) - NO_NUMERICS))
def test_pto_run_passes_the_golden(name: str) -> None:
    checked = _program(name)
    result = simulate(checked, _default_name(checked), SimOptions())
    assert result.checks, f"{name}: no golden was compared"
    assert result.passed, result.checks


@pytest.mark.parametrize("name", sorted(NO_NUMERICS))
def test_pto_run_completes_without_numerics(name: str) -> None:
    checked = _program(name)
    case = _default_name(checked)
    result = simulate(checked, case, SimOptions(numerics=False))
    assert result.checks is None
    assert sum(result.runtime.task_counts.values()) == sum(TASKS[name][case].values())


def test_qwen3_tools_complete_and_the_docs_picture_is_their_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pto-check, pto-run --no-numerics and pto-graph --summary on the 40-layer decoder, as
    docs/corpus.md shows them: the findings its header explains (exit 1), the run of every
    task, and the picture (one node per submission site) whose command the doc gives."""
    path = str(CORPUS / "qwen3_14b_decode.pto")
    assert check_main([path, "--color", "never"]) == 1
    out, err = capsys.readouterr()
    assert "(35 errors and 23 warnings in all;" in err
    assert run_main([path, "--no-numerics"]) == 0
    out, err = capsys.readouterr()
    assert ": 11166 tasks (" in out and "numerics          off" in out
    doc = TABLE.read_text(encoding="utf-8")
    command = ("pto-graph examples/corpus/qwen3_14b_decode.pto --summary always "
               "-o docs/images/qwen3_14b_decode_pto.png")
    assert command in doc and "](images/qwen3_14b_decode_pto.png)" in doc
    assert (ROOT / "docs" / "images" / "qwen3_14b_decode_pto.png").exists()
    if shutil.which("dot") is None:
        return
    png = tmp_path / "qwen3.png"
    assert graph_main([path, "--summary", "always", "-o", str(png)]) == 1  # races drawn
    out, err = capsys.readouterr()
    assert f"wrote {png} (one node per submission site; 11166 tasks" in out + err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 2000 and height >= 1000  # big enough to read the site labels


ROW = re.compile(r"^\| `(?P<program>[\w/]+)` \| `(?P<file>\w+\.cpp)` \|(?P<rest>.*)\|\s*$", re.M)
DONE = re.compile(r"in `examples/corpus/(\w+)\.pto`")


def _rows() -> list[re.Match[str]]:
    return list(ROW.finditer(TABLE.read_text(encoding="utf-8")))


def test_table_lists_every_runtime_orchestration_once() -> None:
    rows = _rows()
    assert len(rows) == 38
    assert len({(r["program"], r["file"]) for r in rows}) == 38
    assert len({r["program"] for r in rows}) == 37


def test_table_marks_exactly_the_corpus_files_as_done() -> None:
    done = [m for r in _rows() for m in DONE.findall(r["rest"])]
    assert sorted(done) == sorted(p.stem for p in CORPUS.glob("*.pto"))
    for r in _rows():  # every row has a status: done, covered elsewhere or what it needs
        assert DONE.search(r["rest"]) or "needs:" in r["rest"] or "examples/paged_attention/" \
            in r["rest"], r["program"]
