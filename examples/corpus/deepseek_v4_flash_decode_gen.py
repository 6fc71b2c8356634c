"""Writes deepseek_v4_flash_decode.pto from the pieces below (tests/test_corpus.py checks that
the committed file is what this writes):

    python3 examples/corpus/deepseek_v4_flash_decode_gen.py > \
        examples/corpus/deepseek_v4_flash_decode.pto

The runtime's decoder repeats a few blocks of submissions (the hyper-connection prologue of
every sub-layer, the attention projections, the output projection, the MoE FFN), and every
repetition submits its own copy of the kernels (its own func_ids). A `.pto` program has no
functions, so the repetitions are written out: each piece here is `.pto` text, `@name(` is a
kernel call whose kernel is the next unused copy of `name` in the kernel table (the table is
in func_id order, the order in which the runtime's program first submits each copy), and
`{x}` is a parameter of the piece.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The signature of the runtime's C++ (its kernel table and entry), written from the runtime's
# own tables by tests/record/runtime/deepseek_signature.py.
SIGNATURE = ROOT / "tests" / "record" / "runtime" / "deepseek_v4_flash_decode.pto"
# Entry tensors the test hands over as inputs that the orchestration's tasks write (the comm
# windows the dispatch and combine fill): writable here.
WRITTEN = {"recv_meta_buf": "inout", "recv_x_buf": "inout", "recv_aux_buf": "inout",
           "recv_route_buf": "inout", "routed_y_buf_buf": "inout"}

def fill(text: str, **values: str) -> str:
    """`text` with each `{name}` replaced (block braces of .pto are never `{word}`)."""
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)


HEADER = """\
# The runtime's DeepSeek-V4 flash decoder (`deepseek_v4_flash_decode`, examples/a2a3/
# tensormap_and_ringbuffer, decode_fwd.cpp): one decode step of 43 layers on rank 0 of an
# expert-parallel pair, 15,971 tasks. Recorded on the runtime test's case, the C++ builds
# exactly this program's graph: the same submissions in order, kernels and func_ids, block
# counts, early resolve, dispatch predicates, arguments, scalars, scopes and explicit deps
# (tests/test_record_runtime.py). Written from deepseek_v4_flash_decode_gen.py (each
# repeated block of the decoder submits its own copies of the kernels, so the pieces are
# written once there and bound to the copies here).
#
# The layers: 0 and 1 sliding-window attention; 2 .. 41 twenty pairs of a compressed-sparse
# (CSA) and a heavily-compressed (HCA) attention layer; 42 a CSA layer. Every attention
# and FFN sub-layer starts with the hyper-connection pre-mix (4 residual streams of D
# columns mixed into one: rms, linear, reduce, split, Sinkhorn, mix) and ends with the
# post-mix back into the streams. The attention projects q (low rank, int8) and kv, writes
# the kv cache and attends over it; its output projection runs 8 groups of heads in a
# manual scope. The FFN routes the 8 tokens to experts (by a hash table in layers 0 .. 2,
# by the gate's top scores after), dispatches them to the experts' owners through the comm
# windows, runs the 32 local experts tile by tile under dispatch predicates on the row
# counts the dispatch wrote, and combines the results back. The head folds the streams,
# normalises and runs the lm head split over the two ranks.
#
# The kernels are the runtime test's table (func_ids and directions; no types, no NumPy
# implementations: pto-run runs the graph with --no-numerics), from the signature
# tests/record/runtime/deepseek_v4_flash_decode.pto; the comm windows the
# dispatch and combine write (recv_*_buf, routed_y_buf_buf) are declared inout here, where
# the test hands them over as inputs.
#
# pto-check reports what the C++ does (sameness wins over silencing findings):
# * E201 x25, not real: in each of the 5 output projections (its manual scope), the 8
#   groups' proj_a_mm / quant / proj_b_mm write and read the same whole scratch tensors
#   (o_r_pad, o_r_i8_pad, act_scale_dq, partials) and each group's kernels pick their
#   tile through the scalar offsets g * 8, g * 1024; only the chain of one group is
#   ordered. The checker sees whole-tensor accesses (as for qwen3's decoder).
# * E201 x10, real by the runtime's rules: in each of the 5 FFN copies, x_norm_scale is
#   made with manual_dep (the C++'s create-info flag), so the runtime tracks only its
#   creator: ffn_norm writes it, gate_pre_route reads and rewrites it (INOUT) and
#   sh_gate_up_act_q reads it, with nothing ordering them (ffn_norm -> gate_pre_route,
#   gate_pre_route -> sh_gate_up_act_q). Whether the hardware's dispatch order hides it
#   was not checked on hardware.
# * W302 x16, harmless (each costs a fanin slot): 11 explicit deps that a creator or
#   TensorMap edge duplicates (qk_pv on the gather, merge_norm on qk_pv and rope_cs in the
#   window layers, qk_pv on the plan in the CSA layers, the HCA cache write on the pool,
#   hc_head_linear on its zeroed input) and 5 (combine_wait on dispatch_push) that its
#   other producers already imply.
"""

PROLOGUE = """\
    let T = 8                 # tokens of this step (4 requests x 2 rows)
    let TM = 16               # T rounded up to the matmul tile
    let D = 4096              # hidden size
    let HC = 4                # hyper-connection streams
    let KV_BLOCKS = 128       # kv_cache blocks of one layer (5504 over 43 layers)
    let EXPERT_ROWS = 16      # rows budgeted per expert (its tile grid is fixed)
    let CMP_BLOCKS = 32       # cmp_kv blocks of one layer (1376 over 43 layers)
    let IDX_BLOCKS = 64       # idx_kv_cache blocks of one CSA layer (1344 over 21)

    # Slot mappings and the residual streams that live through every layer.
    let meta = alloc(
        ori_slot_mapping: i64[T], swa_slot_mapping: i64[T], swa_indices: i32[T, 128],
        swa_lens: i32[T], hca_cmp_slot_mapping: i64[T], hca_state_slot_mapping: i64[T],
        csa_cmp_slot_mapping: i64[T], csa_idx_slot_mapping: i64[T],
        csa_state_slot_mapping: i64[T], csa_inner_state_slot_mapping: i64[T],
        x_hc: f32[T, HC, D], x_attn0: f32[T, HC, D], x_attn1: f32[T, HC, D],
        hidden: f32[T, HC, D], x_attn_last: f32[T, HC, D], x_head: bf16[T, D],
    )
    @decode_build_swa_metadata(position_ids, block_table, meta.swa_indices) blocks 8
    @decode_build_swa_scalar_metadata(position_ids, block_table, meta.swa_slot_mapping,
                                      meta.swa_lens, 0, 0)
    @decode_build_cache_metadata(
        position_ids, block_table, meta.ori_slot_mapping, block_counts, cmp_block_table,
        meta.hca_cmp_slot_mapping, idx_block_table, meta.csa_cmp_slot_mapping,
        meta.csa_idx_slot_mapping, hca_compress_state_block_table, meta.hca_state_slot_mapping,
        csa_compress_state_block_table, meta.csa_state_slot_mapping,
        csa_inner_compress_state_block_table, meta.csa_inner_state_slot_mapping,
    )
    @pack_x_hc(reshape(meta.x_hc, [T * HC, D]), input_ids, embed_weight) blocks 48

    # The most tokens any owner sends (the dispatch's row budget).
    let nt = 0
    for owner in 0 .. 2 {
        nt = max(nt, num_tokens_per_owner[owner])
    }

    # Rope tables: the sliding-window profile and the compressed one.
    let swa_cos = reshape(freqs_cos, [2 * 16384, 64])[0 : 16384, :]
    let swa_sin = reshape(freqs_sin, [2 * 16384, 64])[0 : 16384, :]
    let cmp_cos_tab = reshape(freqs_cos, [2 * 16384, 64])[16384 : 2 * 16384, :]
    let cmp_sin_tab = reshape(freqs_sin, [2 * 16384, 64])[16384 : 2 * 16384, :]
    let kv_flat = reshape(kv_cache, [5504 * 128, 512])
    let cmp_kv_flat = reshape(cmp_kv, [1376 * 128, 512])
"""

# The hyper-connection pre-mix of a sub-layer: {x} (streams) mixed into {a}.x_mixed with
# the layer's {hc}_fn / {hc}_scale / {hc}_base; {a}.post and {a}.comb keep the post-mix.
HC_PRE = """\
        let x_flat = reshape({x}, [T, HC * D])
        let hc1 = alloc(inv_rms: f32[TM, 1])
        let hc2 = alloc(mixes: f32[TM, 32])
        let hc3 = alloc(partials: f32[TM * 4, 32])
        let hc_fn = {hc}_fn[layer * 24 : layer * 24 + 24, :]
        let hc_scale = {hc}_scale[layer * 3 : layer * 3 + 3]
        let hc_base = {hc}_base[layer * 24 : layer * 24 + 24]
        let hc_base_row = reshape({hc}_base, [43, 24])[layer : layer + 1, :]
        @hc_pre_rms(x_flat, hc1.inv_rms) blocks T / 8 early
        @hc_pre_linear(x_flat, hc_fn, hc3.partials, T, TM) blocks TM / 16 * 4 early
        @hc_pre_linear_reduce(hc3.partials, hc2.mixes, TM) blocks TM / 16 early
        let hc4 = alloc(pre: f32[TM, 8])
        @split_pre_post(hc1.inv_rms, hc_base, hc2.mixes, hc4.pre, {post}, hc_scale)
            blocks T / 8 early
        @comb_sinkhorn(hc1.inv_rms, hc2.mixes, hc_base_row, {comb}, hc_scale)
            blocks T / 8 early
        @mix_x(hc4.pre, {a}.x_mixed, x_flat) blocks T / 8 * 4 early
"""

# q (low-rank, int8 quantised, rope) and kv projections of an attention layer.
Q_KV_PROJ = """\
        let r1 = alloc(cos_il: f32[T, 64])
        let r2 = alloc(sin_signed: f32[T, 64])
        let r3 = alloc(swap_idx: i32[T, 64])
        @q_rope_prepare(a.rope_cos, a.rope_sin, r1.cos_il, r2.sin_signed, r3.swap_idx)
            blocks T / 8 early
        let p1 = alloc(qr: f32[TM, 1024])
        let p2 = alloc(qr_partials: f32[TM * 2, 1024])
        let p3 = alloc(qr_i8: i8[TM, 1024])
        @qr_proj_matmul(p2.qr_partials, a.x_normed, wq_a[layer * D : layer * D + D, :], TM, T)
            blocks 16 early
        @qr_proj_reduce(p2.qr_partials, p1.qr, TM) blocks TM / 16 * 8 early
        @qr_rms_norm_quant(p1.qr, gamma_cq[layer * 1024 : layer * 1024 + 1024], {qr_scale},
                           p3.qr_i8, {qr})
            blocks T / 8 early
        let p4 = alloc(q_i32: i32[TM, 32768])
        @qproj_matmul(p4.q_i32, p3.qr_i8, wq_b[layer * 1024 : layer * 1024 + 1024, :], TM)
            blocks 64
        @qproj_dequant_rms_nope_rope(
            reshape(a.q, [T, 64 * 512]), {qr_scale}, r1.cos_il, r2.sin_signed, r3.swap_idx,
            p4.q_i32, wq_b_scale[layer * 32768 : layer * 32768 + 32768], 0, T,
        ) blocks 16 early
        let p5 = alloc(kv: f32[TM, 512])
        let p6 = alloc(kv_partials: f32[TM * 4, 512])
        @kv_proj_matmul(p6.kv_partials, a.x_normed, wkv[layer * D : layer * D + D, :], TM, T)
            blocks 16 dep fence
        @kv_proj_reduce(p6.kv_partials, p5.kv, TM) blocks TM / 16 * 4 early
        @kv_rms_norm_rope(p5.kv, a.kv, gamma_ckv[layer * 512 : layer * 512 + 512], r1.cos_il,
                          r2.sin_signed, r3.swap_idx)
            blocks T / 8
"""

# The output projection: 8 groups of heads (a, quantise, b) chained in a manual scope, then
# the activation once every group's b is done.
PROJ_OUT = """\
        let wo_a_l = wo_a[layer * 8 : layer * 8 + 8, :, :]
        let wo_b_l = wo_b[layer * D : layer * D + D, :]
        let proj_b = tasks[8]
        scope manual {
            for g in 0 .. 8 {
                let pa = @proj_a_mm({o_packed}, wo_a_l, {o_r_pad}, g * 8, g, g * 1024)
                    blocks 8 early dep merge
                let q = @quant({act}, {o_r_i8}, {o_r_pad}, g * 1024, g)
                    early dep pa
                proj_b[g] = @proj_b_mm({partials}, {o_r_i8}, wo_b_l, 0, g * 1024, g)
                    blocks 8 early dep q
            }
        }
        let wo_b_scale_l = wo_b_scale[layer * D : layer * D + D]
        @proj_b_act(wo_b_scale_l, {partials}, {act}, {attn_out})
            blocks 8 early dep proj_b
        @hc_post(reshape({y}, [T, HC * D]), a.post, {attn_out}, a.comb,
                 reshape({x}, [T, HC * D]))
            blocks T / 4 * 4
    }
"""

ATTN_ALLOCS = """\
        let a = alloc(
            x_mixed: bf16[T, D], post: f32[T, HC], comb: f32[T, HC * HC],
            rope_cos: bf16[T, 64], rope_sin: bf16[T, 64], x_normed: bf16[T, D],
            q: bf16[T, 64, 512], kv: bf16[T, 512], qr: i8[T, 1024], qr_scale: f32[T, 1],
            sparse_bias: f32[T, 128], attn_out: bf16[T, D], partials: i32[TM, 32768],
            act_scale_dq: f32[T, 8], swa_kv: bf16[1024, 512], o_packed_heads: bf16[512, 512],
        )
        let b = alloc(
            blk_mi: f32[512, 1], blk_li: f32[512, 1], blk_oi: f32[512, 512],
            pipe: f32[32768 * 8], rope_cos_il: f32[T, 64], rope_sin_signed: f32[T, 64],
            rope_swap_idx: i32[TM, 64], o_r_pad: f32[TM, 8192], o_r_i8_pad: i8[TM, 8192],
        )
"""

ATTN_SWA = """\
    # ---- layer {layer}: sliding-window attention, {x} -> {y} ----
    scope {
        let layer = {layer}
""" + ATTN_ALLOCS + "{hc_pre}" + """\
        @swa_rope_step(a.rope_cos, a.rope_sin, position_ids, swa_cos, swa_sin)
        let rms = @rms_norm(a.x_mixed, a.x_normed, attn_norm_w[layer * D : layer * D + D])
            blocks T / 8 early
        let fence = dummy() dep rms
""" + fill(Q_KV_PROJ, qr="a.qr", qr_scale="a.qr_scale") + """\
        let kv_layer = kv_flat[layer * KV_BLOCKS * 128 : (layer + 1) * KV_BLOCKS * 128, :]
        @swa_cache_insert_valid_bias(kv_layer, meta.swa_slot_mapping, a.kv, meta.swa_lens,
                                     a.sparse_bias)
        let gathered = @swa_gather_kv(a.swa_kv, meta.swa_indices, kv_layer) blocks 32
        let qk = @qk_pv(a.sparse_bias, a.swa_kv, b.blk_li, b.blk_mi, b.blk_oi,
                        reshape(a.q, [512, 512]), manual_dep(b.pipe))
            blocks 8 early dep gathered
        let rope = @rope_cs(b.rope_swap_idx, b.rope_cos_il, b.rope_sin_signed, a.rope_cos,
                            a.rope_sin)
        let sink = attn_sink[layer * 64 : layer * 64 + 64]
        let merge = @merge_norm(b.blk_mi, b.blk_li, b.blk_oi, sink, b.rope_swap_idx,
                                b.rope_cos_il, b.rope_sin_signed, a.o_packed_heads)
            blocks 32 early dep qk, rope
        let o_packed = reshape(a.o_packed_heads, [64, D])
""" + fill(PROJ_OUT, o_packed="o_packed", o_r_pad="b.o_r_pad",
           o_r_i8="b.o_r_i8_pad", act="a.act_scale_dq", partials="a.partials",
           attn_out="a.attn_out", x="{x}", y="{y}")

# The token-to-expert routing of hash-routed layers (the first three): the expert ids come
# from a table indexed by the token id.
ROUTE_HASH = """\
        @route_hash(input_ids, tid2eid[layer * 129280 : layer * 129280 + 129280, :],
                    f.route_scores, f.indices, f.weights, active)
            blocks cdiv(active, 8) early
"""

# The routing of the other layers: the top experts by the biased gate scores.
ROUTE_SORT = """\
        @route_sort(f.biased_scores, f.route_scores, f.indices, f.weights, active)
            blocks cdiv(active, 8) early
"""

# The MoE FFN of a layer, {x} -> {y}: the pre-mix, the gate and the routing ({route}), the
# shared expert, the dispatch of the tokens to their experts' owners, the 32 local
# experts tile by tile (each tile's tasks run only if the expert received rows past the
# tile's first: a dispatch predicate on the count dispatch_meta writes), the combine back
# and the post-mix.
FFN = """\
    # ---- layer {layer}: MoE FFN, {x} -> {y} ----
    scope {
        let layer = {layer}
        let f = alloc(
            x_mixed: bf16[T, D], post: f32[T, HC], comb: f32[T, HC * HC], x_norm_i8: i8[T, D],
            x_norm_scale: f32[T, 1], indices: i32[T, 6], weights: f32[T, 6], xg: f32[TM, D],
            inv_rms: f32[TM, 1], xn_scale: f32[TM, 1], route_scores: f32[TM, 256],
            biased_scores: f32[TM, 256], sh: bf16[T, D], recv_x: i8[32, 16, D],
            recv_scale: f32[32, 16], recv_w: f32[32, 16],
        )
        let r = alloc(recv_route: i32[32, 16], recv_count: i32[32, 1], meta_local: i32[2, 32])
""" + "{hc_pre}" + """\
        let active = min(nt, T)
        let gate_tiles = cdiv(active, 16)
        let gate_tokens = min(gate_tiles * 16, T)
        @ffn_norm(f.x_mixed, reshape(norm_w, [43, D])[layer : layer + 1, :], f.xg, f.inv_rms,
                  manual_dep(f.x_norm_scale), f.xn_scale)
            blocks gate_tokens early
        let quant_fence = dummy()
        for t0 in 0 .. gate_tokens step 8 {
            @x_norm_quant(f.xn_scale, f.x_norm_i8, f.xg, t0) early dep quant_fence
        }
        @gate_pre_route(manual_dep(f.x_norm_scale), f.indices, f.weights, f.biased_scores,
                        active)
        let pipe = alloc(pipe: f32[2048 * gate_tiles * 4])
        let gate_bias_l = gate_bias[layer * 64 : layer * 64 + 64]
        let gate_w_l = gate_w[layer * 64 : layer * 64 + 64, :]
        @gate(
            gate_bias_l, f.xg, gate_w_l, f.inv_rms, f.route_scores,
            {gate_tail},
        ) blocks gate_tiles * 4 early
{route}
        # The shared expert, one tile of 16 tokens.
        for mt in 0 .. 1 {
            let s = alloc(gate: i32[16, 2048], up: i32[16, 2048], h: f32[16, 2048],
                          h_i8: i8[16, 2048], h_scale: f32[16, 8], y: i32[16, D])
            let rows = layer * 2048
            @sh_gate_mm(f.x_norm_i8, shared_w1[rows : rows + 2048, :], s.gate, 0)
                blocks 8 early
            @sh_up_mm(f.x_norm_i8, shared_w3[rows : rows + 2048, :], s.up, 0)
                blocks 8 early
            @sh_gate_up_act_q(
                manual_dep(f.x_norm_scale), s.h, s.gate, s.up,
                shared_w1_scale[rows : rows + 2048], shared_w3_scale[rows : rows + 2048],
                manual_dep(s.h_scale), s.h_i8, 0, 0,
            ) blocks 4
            @sh_w2_mm(s.h_i8, shared_w2[layer * D : layer * D + D, :], s.y) blocks 16
            @sh_w2_act(manual_dep(s.h_scale), f.sh, s.y,
                       shared_w2_scale[layer * D : layer * D + D], 0, 0)
                blocks 1 early
        }

        # Dispatch: the routing metadata, the token rows pushed to their experts' owners,
        # the wait for every owner's rows, and the gather of the rows this rank received.
        let dmeta = @dispatch_meta(
            f.indices, recv_meta_buf, arrived_buf, manual_dep(r.meta_local), r.recv_count, nt,
            rank, {epoch}comm_ctx0, comm_ctx4,
        ) early
        let push = @dispatch_push(
            f.indices, recv_x_buf, f.x_norm_i8, manual_dep(f.x_norm_scale), f.weights,
            recv_aux_buf, recv_route_buf, data_arrived_buf, nt, rank, comm_ctx1, comm_ctx2,
            comm_ctx3, comm_ctx5,
        ) blocks 32 early
        let wait = @dispatch_wait(f.indices, data_arrived_buf, rank, {epoch}comm_ctx5)
            early dep push
        @dispatch_gather(
            reshape(f.recv_x, [32 * 16, D]), manual_dep(r.meta_local), recv_x_buf, recv_aux_buf,
            manual_dep(f.recv_scale), manual_dep(f.recv_w), recv_route_buf,
            manual_dep(r.recv_route), comm_ctx1, comm_ctx2, comm_ctx3,
        ) blocks 32 dep wait, dmeta

        scope {
            let o = alloc(recv_y: bf16[32, 16, D], ffn_out: bf16[T, D])
            let recv_x = reshape(f.recv_x, [32 * 16, D])
            let recv_y = reshape(o.recv_y, [32 * 16, D])
            let experts = layer * 32
            let w1 = routed_w1[experts : experts + 32, :, :]
            let w3 = routed_w3[experts : experts + 32, :, :]
            let w1_scale = routed_w1_scale[experts : experts + 32, :]
            let w3_scale = routed_w3_scale[experts : experts + 32, :]
            scope {
                let h = alloc(h_i8: i8[32 * 16, 2048], h_scale: f32[32 * 16, 1])
                # Gate and up projections of every expert's tiles, then the activation.
                for e in 0 .. 32 {
                    for t in 0 .. cdiv(EXPERT_ROWS, 16) {
                        let row = e * 16 + t * 16
                        scope {
                            let x = alloc(gate: i32[16, 2048], up: i32[16, 2048],
                                          h: f32[16, 2048])
                            @exp_gate_mm(x.gate, recv_x, w1, row, e)
                                blocks 2 predicate r.recv_count[e, 0] > t * 16
                            @exp_up_mm(x.up, recv_x, w3, row, e)
                                blocks 2 predicate r.recv_count[e, 0] > t * 16
                            @exp_gate_up_act(x.h, x.gate, x.up, manual_dep(f.recv_scale),
                                             w1_scale, w3_scale, r.recv_count, e, t * 16)
                                blocks 4 predicate r.recv_count[e, 0] > t * 16
                            @exp_h_q(x.h, h.h_scale[row : row + 16, :],
                                     h.h_i8[row : row + 16, :])
                                predicate r.recv_count[e, 0] > t * 16
                        }
                    }
                }
                # Down projections.
                scope {
                    for e in 0 .. 32 {
                        for t in 0 .. cdiv(EXPERT_ROWS, 16) {
                            let row = e * 16 + t * 16
                            let y = alloc(y: i32[16, D])
                            @exp_w2_mm(y.y, h.h_i8[row : row + 16, :],
                                       routed_w2[experts : experts + 32, :, :], e)
                                blocks 4 early predicate r.recv_count[e, 0] > t * 16
                            @exp_w2_act(manual_dep(f.recv_w), h.h_scale[row : row + 16, :],
                                        recv_y[row : row + 16, :], y.y,
                                        routed_w2_scale[experts : experts + 32, :], e, t * 16)
                                blocks 1 early predicate r.recv_count[e, 0] > t * 16
                        }
                    }
                }
            }
            # Combine: the expert outputs back to the tokens' owners, then shared + routed.
            let comb_push = @combine(manual_dep(r.meta_local), manual_dep(r.recv_route),
                                     routed_y_buf_buf, recv_y, comm_ctx6)
                blocks 32
            let cwait = @combine_wait(combine_arrived_buf, rank, {epoch}comm_ctx7)
                dep comb_push, push
            @shared_routed(f.sh, routed_y_buf_buf, o.ffn_out, min(nt, T), comm_ctx6)
                blocks 8 dep cwait
            @hc_post(reshape({y}, [T, HC * D]), manual_dep(f.post), o.ffn_out,
                     f.comb, reshape({x}, [T, HC * D]))
                blocks T / 4 * 4
        }
    }
"""

# The attention of a compressed-sparse layer (CSA {ci} of 21): besides the sliding window,
# a compressor pools the layer's kv into a compressed cache, an indexer scores every
# compressed block and keeps the top ones, and the attention runs over both.
ATTN_CSA = """\
    # ---- layer {layer}: compressed sparse attention, {x} -> {y} ----
    scope {
        let layer = {layer}
        let ci = {ci}
        let a = alloc(
            x_mixed: bf16[T, D], post: f32[T, HC], comb: f32[T, HC * HC],
            rope_cos: bf16[T, 64], rope_sin: bf16[T, 64], step_cos: f32[4, 32],
            step_sin: f32[4, 32], step_cos_il: f32[4, 64], step_sin_signed: f32[4, 64],
            cmp_cos: f32[4, 32], cmp_sin: f32[4, 32], cmp_cos_il: f32[4, 64],
            cmp_sin_signed: f32[4, 64], x_normed: bf16[T, D], q: bf16[T, 64, 512],
            kv: bf16[T, 512],
        )
        let c = alloc(
            qr: i8[T, 1024], qr_scale: f32[T, 1], cmp_out: f32[4, 2, 512],
            cmp_kv_proj: f32[TM, 1024], cmp_score_proj: f32[TM, 1024],
            pooled_kv: f32[TM, 512], normed_kv: f32[TM, 512], idx_kv: f32[4, 2, 128],
            idx_score: f32[4, 2, 4096],
            idx_topk: i32[4, 2, 4096], qr_acc: i32[TM, 8192], qr_proj: f32[T, 8192],
            qr_bf16: bf16[512, 128], rope_swap_idx_t: i32[32, 64], qh_acc: f32[512, 128],
            qr_hadamard_i8: i8[512, 128],
        )
        let d = alloc(
            qr_hadamard_scale: f32[512, 1], weights: f32[TM, 64],
            weights_partial: f32[64, 64], kv_proj: f32[TM, 256], score_proj: f32[TM, 256],
            inner_pooled_kv: f32[TM, 128], inner_normed_kv: bf16[TM, 128],
            kv_final: f32[TM, 128], score_pipe: f32[16384 * 16], attn_out: bf16[T, D],
            sparse_bias: f32[T, 640], cmp_sparse_indices: i32[T, 512],
            valid_block_mask: i32[T, 5], qk_order: i32[40], qk_wcur: i32[1],
            blk_mi: f32[2560, 1],
        )
        let b = alloc(
            blk_li: f32[2560, 1], blk_oi: f32[2560, 512], pipe: f32[32768 * 24],
            rope_cos_il: f32[T, 64], rope_sin_signed: f32[T, 64], rope_swap_idx: i32[TM, 64],
            o_packed: bf16[64, D], o_r_pad: f32[TM, 8192], o_r_i8_pad: i8[TM, 8192],
            act_scale_dq: f32[T, 8], partials: i32[TM, 32768],
        )
""" + "{hc_pre}" + """\
        @csa_rope_step(a.rope_cos, a.rope_sin, a.step_cos, a.step_sin, position_ids,
                       cmp_cos_tab, cmp_sin_tab)
        @rope_interleave(a.step_cos, a.step_cos_il, a.step_sin, a.step_sin_signed) early
        @csa_cmp_rope(a.cmp_cos, a.cmp_sin, position_ids, cmp_cos_tab, cmp_sin_tab)
        @rope_interleave(a.cmp_cos, a.cmp_cos_il, a.cmp_sin, a.cmp_sin_signed) early
        let rms = @rms_norm(a.x_mixed, a.x_normed, attn_norm_w[layer * D : layer * D + D])
            blocks T / 8 early
        let fence = dummy() dep rms
""" + fill(Q_KV_PROJ, qr="c.qr", qr_scale="c.qr_scale") + """\
        let kv_layer = kv_flat[layer * KV_BLOCKS * 128 : (layer + 1) * KV_BLOCKS * 128, :]
        let cmp_rows = layer * CMP_BLOCKS * 128
        let cmp_layer = cmp_kv_flat[cmp_rows : cmp_rows + CMP_BLOCKS * 128, :]
        let positions = reshape(position_ids, [4, 2])
        @csa_cache_writeback(kv_layer, meta.ori_slot_mapping, a.kv) blocks 1

        # Compressor: kv and score projections pooled into the compress state, normalised,
        # roped and written to the compressed cache.
        let state_rows = ci * 65 * 4     # the compress state's 1365 blocks over 21 CSA layers
        let cmp_state = reshape(csa_compress_state, [1365 * 4, 2048])
        @kv_score_proj(a.x_normed, csa_cmp_wkv[ci * 1024 : ci * 1024 + 1024, :],
                       csa_cmp_wgate[ci * 1024 : ci * 1024 + 1024, :], c.cmp_kv_proj,
                       c.cmp_score_proj)
            blocks 16 dep fence
        @scatter_softmax_pool(
            cmp_state[state_rows : state_rows + 260, :], c.pooled_kv, positions,
            reshape(meta.csa_state_slot_mapping, [4, 2]), c.cmp_kv_proj, c.cmp_score_proj,
            csa_cmp_ape[ci * 4 : ci * 4 + 4, :], csa_compress_state_block_table,
        )
        @rmsnorm_rope_cache_write(
            a.cmp_cos_il, a.cmp_sin_signed, c.pooled_kv, c.normed_kv,
            reshape(csa_cmp_norm_w, [21, 512])[ci : ci + 1, :], cmp_layer,
            reshape(c.cmp_out, [T, 512]), positions, reshape(meta.csa_cmp_slot_mapping, [4, 2]),
        ) early

        # Indexer query: q projected again, roped, Hadamard-rotated and quantised; its
        # per-head weights.
        @idx_qr_proj_matmul(c.qr_acc, c.qr, csa_idx_wq_b[ci * 1024 : ci * 1024 + 1024, :])
            blocks 8 early
        @idx_qr_proj_dequant(csa_idx_wq_b_scale[ci * 8192 : ci * 8192 + 8192], c.qr_acc,
                             c.qr_scale, c.qr_proj)
            blocks 8 early
        @qr_rope_swap_idx(c.rope_swap_idx_t) early
        @qr_rope(c.rope_swap_idx_t, a.step_cos_il, a.step_sin_signed,
                 reshape(c.qr_proj, [512, 128]), c.qr_bf16)
            blocks 16 early
        let hadamard = csa_hadamard_idx[ci * 128 : ci * 128 + 128, :]
        @qr_hadamard_matmul(c.qr_bf16, hadamard, c.qh_acc) blocks 8 early
        @qr_hadamard_quant(c.qh_acc, d.qr_hadamard_scale, c.qr_hadamard_i8) blocks 8 early
        @weights_proj(a.x_normed, csa_weights_proj[ci * D : ci * D + D, :], d.weights_partial)
            blocks 4 dep fence
        @weights_proj_reduce(d.weights_partial, d.weights) early

        # Indexer keys: the inner compressor, rotated, quantised into the index cache.
        @kv_score_proj(a.x_normed, csa_inner_wkv[ci * 256 : ci * 256 + 256, :],
                       csa_inner_wgate[ci * 256 : ci * 256 + 256, :], d.kv_proj, d.score_proj)
            blocks 8 dep fence
        let inner_state = reshape(csa_inner_compress_state, [1365 * 4, 512])
        @scatter_softmax_pool(
            inner_state[state_rows : state_rows + 260, :], d.inner_pooled_kv, positions,
            reshape(meta.csa_inner_state_slot_mapping, [4, 2]), d.kv_proj, d.score_proj,
            csa_inner_ape[ci * 4 : ci * 4 + 4, :], csa_inner_compress_state_block_table,
        ) early
        @rmsnorm_rope(a.step_cos_il, a.step_sin_signed, d.inner_pooled_kv, d.inner_normed_kv,
                      reshape(csa_inner_norm_w, [21, 128])[ci : ci + 1, :])
        @kv_hadamard(d.inner_normed_kv, d.kv_final, hadamard)
        let idx_rows = ci * IDX_BLOCKS * 128
        let idx_end = idx_rows + IDX_BLOCKS * 128
        let idx_cache = reshape(idx_kv_cache, [1344 * 128, 128])[idx_rows : idx_end, :]
        let idx_scale = reshape(idx_kv_scale, [1344 * 128, 1])[idx_rows : idx_end, :]
        @kv_and_cache_write(d.kv_final, idx_cache, reshape(c.idx_kv, [T, 128]), positions,
                            reshape(meta.csa_idx_slot_mapping, [4, 2]), idx_scale)
            early

        # Score the compressed blocks, keep the top ones, plan the sparse attention.
        let scores = reshape(c.idx_score, [T, 4096])
        let top_blocks = reshape(c.idx_topk, [T, 4096])
        @score(
            kv_seq_lens, positions, c.qr_hadamard_i8, d.qr_hadamard_scale, d.weights, scores,
            reshape(idx_block_table, [4 * 64]), idx_cache, idx_scale, manual_dep(d.score_pipe),
        ) blocks 16 early
        @topk(top_blocks, kv_seq_lens, positions, scores) blocks 8 early
        @kv_touch(kv_layer) early
        let plan = @csa_slots_build_valid_qk_plan(
            top_blocks, reshape(position_ids, [T, 1]), d.cmp_sparse_indices, d.valid_block_mask,
            meta.swa_indices, d.sparse_bias, d.qk_wcur, d.qk_order,
        ) early
        let qk = @qk_pv(
            b.blk_li, d.blk_mi, b.blk_oi, d.qk_order, d.sparse_bias, d.valid_block_mask,
            reshape(position_ids, [T, 1]), meta.swa_indices, kv_layer, d.cmp_sparse_indices,
            cmp_block_table, cmp_layer, reshape(a.q, [512, 512]), manual_dep(b.pipe),
        ) blocks 24 early dep plan
        @rope_cs(b.rope_swap_idx, a.rope_cos, a.rope_sin, b.rope_cos_il, b.rope_sin_signed)
            early
        let sink = attn_sink[layer * 64 : layer * 64 + 64]
        let merge = @merge_norm(d.blk_mi, b.blk_li, b.blk_oi, sink, b.rope_cos_il,
                                b.rope_sin_signed, b.rope_swap_idx, b.o_packed)
            blocks 32
""" + fill(PROJ_OUT, o_packed="b.o_packed", o_r_pad="b.o_r_pad", o_r_i8="b.o_r_i8_pad",
           act="b.act_scale_dq", partials="b.partials", attn_out="d.attn_out", x="{x}", y="{y}")

# The attention of a heavily-compressed layer (HCA {hi} of 20): the compressed cache only,
# its top blocks picked by position, gathered with the window.
ATTN_HCA = """\
    # ---- layer {layer}: heavily compressed attention, {x} -> {y} ----
    scope {
        let layer = {layer}
        let hi = {hi}
        let a = alloc(
            x_mixed: bf16[T, D], post: f32[T, HC], comb: f32[T, HC * HC],
            rope_cos: bf16[T, 64], rope_sin: bf16[T, 64], cmp_cos: f32[4, 32],
            cmp_sin: f32[4, 32], cmp_cos_il: f32[4, 64], cmp_sin_signed: f32[4, 64],
            x_normed: bf16[T, D], q: bf16[T, 64, 512], kv: bf16[T, 512], qr: i8[T, 1024],
            qr_scale: f32[T, 1], cmp_out: f32[4, 2, 512], kv_proj: f32[TM, 512],
        )
        let b = alloc(
            score_proj: f32[TM, 512], pooled_kv: f32[TM, 512], normed_kv: f32[TM, 512],
            attn_out: bf16[T, D], topk_idxs: i32[T, 128], sparse_bias: f32[T, 256],
            gathered_kv: bf16[2048, 512], o_packed: bf16[64, D], blk_mi: f32[1024, 1],
            blk_li: f32[1024, 1], blk_oi: f32[1024, 512], pipe: f32[32768 * 16],
            rope_cos_il: f32[T, 64], rope_sin_signed: f32[T, 64], rope_swap_idx: i32[TM, 64],
            o_r_pad: f32[TM, 8192],
        )
        let c = alloc(o_r_i8_pad: i8[TM, 8192], act_scale_dq: f32[T, 8],
                      partials: i32[TM, 32768])
""" + "{hc_pre}" + """\
        @hca_rope(a.cmp_cos, a.cmp_sin, a.rope_cos, a.rope_sin, position_ids, cmp_cos_tab,
                  cmp_sin_tab)
        @rope_interleave(a.cmp_cos, a.cmp_cos_il, a.cmp_sin, a.cmp_sin_signed) early
        let rms = @rms_norm(a.x_mixed, a.x_normed, attn_norm_w[layer * D : layer * D + D])
            blocks T / 8 early
        let fence = dummy() dep rms
""" + fill(Q_KV_PROJ, qr="a.qr", qr_scale="a.qr_scale") + """\
        let kv_layer = kv_flat[layer * KV_BLOCKS * 128 : (layer + 1) * KV_BLOCKS * 128, :]
        let cmp_rows = layer * CMP_BLOCKS * 128
        let cmp_layer = cmp_kv_flat[cmp_rows : cmp_rows + CMP_BLOCKS * 128, :]
        let positions = reshape(position_ids, [4, 2])
        @hca_cache_writeback(kv_layer, meta.ori_slot_mapping, a.kv)

        # Compressor (128 tokens per block): pooled, normalised, roped, cached.
        @kv_score_proj(a.x_normed, hca_cmp_wkv[hi * 512 : hi * 512 + 512, :],
                       hca_cmp_wgate[hi * 512 : hi * 512 + 512, :], a.kv_proj, b.score_proj, 8)
            blocks 8 dep fence
        let state_rows = hi * 64 * 8     # the compress state's 1280 blocks over 20 HCA layers
        let pool = @scatter_softmax_pool(
            reshape(hca_compress_state, [1280 * 8, 1024])[state_rows : state_rows + 512, :],
            b.pooled_kv, positions, reshape(meta.hca_state_slot_mapping, [4, 2]), a.kv_proj,
            b.score_proj, hca_cmp_ape[hi * 128 : hi * 128 + 128, :],
            hca_compress_state_block_table, 4, 2,
        )
        @rmsnorm_rope_cache_write(
            a.cmp_cos_il, a.cmp_sin_signed, b.pooled_kv, b.normed_kv,
            reshape(hca_cmp_norm_w, [20, 512])[hi : hi + 1, :], cmp_layer,
            reshape(a.cmp_out, [T, 512]), positions, reshape(meta.hca_cmp_slot_mapping, [4, 2]),
            4, 2,
        ) dep pool

        # The top compressed blocks by position, gathered with the window, attended.
        @hca_cache_topk(position_ids, kv_seq_lens, b.topk_idxs)
        @build_valid(meta.swa_indices, b.topk_idxs, b.sparse_bias) early
        let gathered = @hca_gather_kv(b.gathered_kv, meta.swa_indices, kv_layer, b.topk_idxs,
                                      cmp_block_table, cmp_layer)
            blocks 32
        let qk = @qk_pv(b.sparse_bias, b.gathered_kv, b.blk_li, b.blk_mi, b.blk_oi,
                        reshape(a.q, [512, 512]), manual_dep(b.pipe))
            blocks 16 early dep gathered
        @rope_swap(b.rope_swap_idx)
        @rope_cs(a.rope_cos, a.rope_sin, b.rope_cos_il, b.rope_sin_signed) blocks 2
        let sink = attn_sink[layer * 64 : layer * 64 + 64]
        let merge = @merge_norm(b.blk_mi, b.blk_li, b.blk_oi, sink, b.rope_cos_il,
                                b.rope_sin_signed, b.rope_swap_idx, b.o_packed)
            blocks 32
""" + fill(PROJ_OUT, o_packed="b.o_packed", o_r_pad="b.o_r_pad", o_r_i8="c.o_r_i8_pad",
           act="c.act_scale_dq", partials="c.partials", attn_out="b.attn_out", x="{x}", y="{y}")

# The head: the hyper-connection streams folded into one, the final norm, and the lm head
# split over the two ranks (hidden rows pushed to the owner of each logit row, logits
# computed and pushed back), then the greedy sample.
HEAD = """\
    # ---- the head ----
    scope {
        let h = alloc(hidden: bf16[T, D], hidden_rows: bf16[TM, D], logits_part: f32[TM, 64640])
        let hr = alloc(inv_rms: f32[TM, 8])
        let streams = reshape(pre_hc_hidden_out, [T, HC * D])
        @hc_head_rms(streams, hr.inv_rms) blocks 16
        let mixes = @hc_head_mixes_zero(new f32[16, 16])
        @hc_head_linear(streams, hc_head_fn, mixes.t0) blocks 16 dep mixes
        @hc_head_reduce(hc_head_scale, hc_head_base, hr.inv_rms, mixes.t0, meta.x_head, streams)
            blocks 8
        @rms_norm(meta.x_head, hidden_out, final_norm_w) blocks T / 8 early
        @lm_head_dispatch_push(hidden_out, logit_row_indices, h.hidden, lm_head_hidden_window_buf,
                               lm_head_hidden_done_buf, rank, comm_ctx8, comm_ctx9)
            blocks 8
        let hidden_wait = @lm_head_dispatch_wait(hidden_out, lm_head_hidden_done_buf, rank,
                                                 comm_ctx9)
        @lm_head_dispatch_gather(lm_head_hidden_window_buf, h.hidden_rows, comm_ctx8)
            blocks 8 dep hidden_wait
        @lm_head_matmul(h.logits_part, h.hidden_rows, lm_head_weight) blocks 24
        @lm_head_combine_push(lm_head_logits_window_buf, h.logits_part, lm_head_logits_done_buf,
                              rank, comm_ctx10, comm_ctx11)
            blocks 24
        let logits_wait = @lm_head_combine_wait(h.logits_part, lm_head_logits_done_buf, rank,
                                                comm_ctx11)
        @lm_head_combine_gather(logits, lm_head_logits_window_buf, comm_ctx10)
            blocks 24 dep logits_wait
        @lm_head_signal_clear(logits, lm_head_hidden_done_buf, lm_head_logits_done_buf, comm_ctx9,
                              comm_ctx11)
        @lm_head_greedy_sample(logits, sampled_ids) blocks 8
    }
"""

CASE = """\

# The runtime test's case (DecodeFwdEP2TP2) as rank 0 runs it: every owner's token count 8
# (the test's fill), the comm-context pointers any non-zero value.
default case DecodeFwdEP2TP2 {
    num_tokens_per_owner = fill(8), rank = 0,
    comm_ctx0 = 4096, comm_ctx1 = 8192, comm_ctx2 = 12288, comm_ctx3 = 16384,
    comm_ctx4 = 20480, comm_ctx5 = 24576, comm_ctx6 = 28672, comm_ctx7 = 32768,
    comm_ctx8 = 36864, comm_ctx9 = 40960, comm_ctx10 = 45056, comm_ctx11 = 49152,
}
"""


class Kernels:
    """The kernel table, and the next unused copy of each kernel."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.copies: dict[str, deque[str]] = {}
        for line in lines:
            name = line.split()[1]
            self.copies.setdefault(re.sub(r"_\d+$", "", name), deque()).append(name)

    def bind(self, text: str) -> str:
        """`text` with every `@name(` replaced by the next copy of `name`; lines continuing
        a call's arguments under its parenthesis move with it."""
        out: list[str] = []
        column, shift, depth = -1, 0, 0
        for line in text.splitlines(keepends=True):
            if depth > 0:
                if len(line) - len(line.lstrip(" ")) == column and line.strip():
                    line = " " * (column + shift) + line.lstrip(" ")
                depth += line.count("(") - line.count(")")
                out.append(line)
                continue
            match = re.search(r"@(\w+)\(", line)
            if match:
                name = self.copies[match.group(1)].popleft()
                column, shift = match.end(), len(name) - len(match.group(1)) - 1
                line = line[:match.start()] + name + line[match.start() + len(match.group(1)) + 1:]
                depth = line[match.start():].count("(") - line[match.start():].count(")")
            out.append(line)
        return "".join(out)


def indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def hc_pre(x: str, sub: str) -> str:
    if sub == "attn":
        return fill(HC_PRE, x=x, hc="hc_attn", a="a", post="a.post", comb="a.comb")
    return fill(HC_PRE, x=x, hc="hc_ffn", a="f", post="manual_dep(f.post)", comb="f.comb")


def attn(kernels: Kernels, piece: str, x: str, y: str, **values: str) -> str:
    return kernels.bind(fill(piece, hc_pre=hc_pre(x, "attn"), x=x, y=y, **values))


def ffn(kernels: Kernels, layer: str, x: str, y: str, route: str, gate_tail: str,
        epoch: str) -> str:
    return kernels.bind(fill(FFN, hc_pre=hc_pre(x, "ffn"), route=route, layer=layer, x=x, y=y,
                             gate_tail=gate_tail, epoch=epoch))


def signature() -> tuple[list[str], str]:
    """The kernel table and the entry's parameters (with WRITTEN's directions)."""
    lines = SIGNATURE.read_text(encoding="utf-8").splitlines()
    kernels = [line for line in lines if line.startswith("kernel ")]
    start = lines.index("extern entry decode_fwd(")
    end = lines.index(")", start)
    params = []
    for line in lines[start + 1:end]:
        words = line.split()
        if words[0] in ("in", "out", "inout") and words[1].rstrip(":") in WRITTEN:
            line = line.replace(words[0], WRITTEN[words[1].rstrip(":")], 1)
        params.append(line)
    return kernels, "entry decode_fwd(\n" + "\n".join(params) + "\n)"


def program() -> str:
    table, entry = signature()
    k = Kernels(table)
    gate_l01 = "manual_dep(pipe.pipe)"
    route_either = ("        if layer < 3 {\n" + indent(ROUTE_HASH, 4) + "        } else {\n"
                    + indent(ROUTE_SORT, 4) + "        }\n")
    layers = [
        k.bind(PROLOGUE),
        attn(k, ATTN_SWA, "meta.x_hc", "meta.x_attn0", layer="0"),
        ffn(k, "0", "meta.x_attn0", "meta.hidden", ROUTE_HASH, gate_l01, ""),
        attn(k, ATTN_SWA, "meta.hidden", "meta.x_attn1", layer="1"),
        ffn(k, "1", "meta.x_attn1", "meta.hidden", ROUTE_HASH, gate_l01, ""),
    ]
    pair = [
        attn(k, ATTN_CSA, "meta.hidden", "lp.x_attn_csa", layer="2 + 2 * i", ci="i"),
        ffn(k, "2 + 2 * i", "lp.x_attn_csa", "lp.hidden_mid", route_either,
            "f.biased_scores, manual_dep(pipe.pipe), 4, layer", "layer + 1, "),
        attn(k, ATTN_HCA, "lp.hidden_mid", "lp.x_attn_hca", layer="3 + 2 * i", hi="i"),
        ffn(k, "3 + 2 * i", "lp.x_attn_hca", "meta.hidden", ROUTE_SORT,
            "f.biased_scores, manual_dep(pipe.pipe), 4", "layer + 1, "),
    ]
    layers.append(
        "    # ---- layers 2 .. 41: pairs of a compressed-sparse and a heavily-compressed layer\n"
        "    for i in 0 .. 20 {\n"
        "        let lp = alloc(x_attn_csa: f32[T, HC, D], x_attn_hca: f32[T, HC, D],\n"
        "                       hidden_mid: f32[T, HC, D])\n"
        + "\n".join(indent(piece, 4) for piece in pair) + "    }\n")
    layers += [
        attn(k, ATTN_CSA, "meta.hidden", "meta.x_attn_last", layer="42", ci="20"),
        ffn(k, "42", "meta.x_attn_last", "pre_hc_hidden_out", ROUTE_SORT,
            "f.biased_scores, manual_dep(pipe.pipe)", "layer + 1, "),
        k.bind("    # Clear the MoE signals for the next step.\n"
               "    @moe_signal_clear(pre_hc_hidden_out, arrived_buf, data_arrived_buf,\n"
               "                      combine_arrived_buf, comm_ctx4, comm_ctx5, comm_ctx7)\n"),
        k.bind(HEAD),
    ]
    return (HEADER + "\n" + "\n".join(table) + "\n\n" + entry + " {\n" + "\n".join(layers)
            + "}\n" + CASE)


if __name__ == "__main__":
    sys.stdout.write(program())
