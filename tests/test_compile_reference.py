"""The generated orchestrations do what the reference's hand-written ones do (reference
§3.3, §3.4, §3.6, §3.7): the same loops and scopes, the same submits in the same order with
the same arguments in the same order (tensors by tag, then scalars), and the same explicit
deps with the same conditions. The comparison works on an outline of the view model, so it
does not depend on line numbers or on the C++ spelling of either dialect."""

from __future__ import annotations

import re

import pytest
from test_compile_support import DIALECT_NAMES, ROOT, load

from pto_dsl.codegen.cpp import view_model
from pto_dsl.codegen.cpp_model import BlockView, Code, FileView, Node, SubmitView

PA = ROOT / "examples" / "paged_attention"
_CI = re.compile(r"TensorCreateInfo (\w+)\((\w+), \d+, DataType::(\w+)\);")
_ARRAY = re.compile(r"uint32_t (\w+)\[\d+\] = \{(.*)\};")
_DESC = re.compile(r"(?:const )?(?:Tensor|ChipTensor) &?(\w+) = (\w+(?:\.get_ref\(\d+\))?)"
                   r"(?:\.(view|reshape)\((\w+), (\w+)(, true)?\))?;")
_DTYPE = {"FLOAT32": "f32", "BFLOAT16": "bf16", "INT32": "i32"}


class Outline:
    """One line per loop, scope, `let` value, view and submit, indented by nesting."""

    def __init__(self, model: FileView) -> None:
        self.lines: list[str] = []
        self.arrays: dict[str, str] = {}
        self.cis: dict[str, str] = {}
        self.kernel_of: dict[str, str] = {}
        self.consts = {k.name: k.comment.split()[0] for k in model.kernels}
        self.nodes(model.body, 0)

    def nodes(self, nodes: tuple[Node, ...], depth: int) -> None:
        for n in nodes:
            if isinstance(n, Code):
                self.code(n.lines, depth)
            elif isinstance(n, SubmitView):
                self.submit(n, depth)
            else:
                self.block(n, depth)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def code(self, lines: tuple[str, ...], depth: int) -> None:
        for line in lines:
            line = re.sub(r"static_cast<\w+>\(([^()]*(?:\([^()]*\))?[^()]*)\)", r"\1",
                          line.removeprefix("[[maybe_unused]] "))
            line = re.sub(r"pto_read<\w+, (\w+)>", r"pto_read<\1>", line)  # the element type
            array, ci, desc = _ARRAY.match(line), _CI.match(line), _DESC.match(line)
            if array:
                self.arrays[array.group(1)] = "[" + array.group(2) + "]"
            elif ci:
                dtype = _DTYPE[ci.group(3)]
                self.cis[ci.group(1)] = f"new {dtype}{self.arrays[ci.group(2)]}"
            elif desc:
                name, base, op, shapes, offsets, manual = desc.groups()
                flag = " manual_dep" if manual else ""
                if op == "view":
                    self.emit(depth, f"{name} = view({self.arg(base)}, "
                              f"{self.arrays[shapes]}, {self.arrays[offsets]}){flag}")
                elif "make_tensor_external" not in line:
                    self.emit(depth, f"{name} = {self.arg(base)}")
            elif "make_tensor_external" not in line:
                match = re.match(r"(?:const \w+|PTO2TaskId) (\w+) = (.*);", line) \
                    or re.match(r"(\w+) = (.*);", line)
                assert match, line
                self.emit(depth, f"{match.group(1)} = {match.group(2)}")

    def arg(self, value: str) -> str:
        ref = re.fullmatch(r"(\w+)\.get_ref\((\d+)\)", value)
        if ref:
            return f"{self.kernel_of[ref.group(1)]}.out{ref.group(2)}"
        return self.cis.get(value, value)

    def submit(self, s: SubmitView, depth: int) -> None:
        self.code(s.setup, depth)
        if s.kind == "alloc":
            infos = re.findall(r"\w+", s.call.removeprefix("alloc_tensors"))
            kernel = "alloc"
            text = f"alloc({', '.join(self.cis[i] for i in infos)})"
        else:
            const = re.match(r"\w+\((\w+),", s.call)
            assert const is not None
            kernel = self.consts[const.group(1)]
            core = "aic" if "aic_task" in s.call else "aiv"
            args = [f"{t.method.removeprefix('add_')} {self.arg(t.value)}" for t in s.tensors]
            scalars = [re.sub(r"static_cast<(\w+)>", r"\1", v) for v in s.scalars]
            deps = [self.dep(d.task_id) + (f" if {d.condition}" if d.condition else "")
                    for d in s.deps]
            text = (f"{kernel} {core}({', '.join(args)}; {', '.join(scalars)})"
                    + (f" deps({', '.join(deps)})" if deps else ""))
        if s.target is not None:
            self.kernel_of[s.target] = kernel
            text = f"{s.target} = {text}"
        self.emit(depth, text)

    def dep(self, task_id: str) -> str:
        name = task_id.removesuffix(".task_id()")
        return self.kernel_of.get(name, name) if name != task_id else name

    def block(self, b: BlockView, depth: int) -> None:
        self.code(b.setup, depth)
        if b.kind == "for":
            assert b.loop is not None
            step = f" step {b.loop.step}" if b.loop.step else ""
            self.emit(depth, f"for {b.loop.var} in {b.loop.start} .. {b.loop.stop}{step}")
        elif b.kind == "scope":
            self.emit(depth, "scope manual" if b.scope_mode else "scope auto")
        else:
            self.emit(depth, f"if {b.condition}")
        self.nodes(b.body, depth + 1)


# What the reference's hand-written orchestrations do, per (batch, head tile) and block,
# written from §3.3/§3.4 (non-unroll) and §3.6/§3.7 (unroll). Shared prologue: q_tile =
# min(H, 128), q_loop = ceil(H / q_tile); per batch cur_seq = context_lens[b] (a
# get_tensor_data read) and nblk = ceil(cur_seq / BS).
PROLOGUE = """\
q_tile = std::min<int64_t>(H, 128)
q_loop = pto_cdiv(H, q_tile)
for b in 0 .. B
  cur_seq = pto_read<int32_t>(context_lens, b)
  nblk = pto_cdiv(cur_seq, BS)
  for qt in 0 .. q_loop
"""
# §3.3/§3.4: qi and out_view are rows [b*H + q*q_tile, +q_tile) of query and out; alloc of
# tile2d, scalar, scalar gives oi, li_update, mi_update; per block: blk = block_table[b, bn],
# valid = min(BS, cur_seq - bn*BS), kj/vj rows [blk*BS, +BS) of the caches; QK(qi, kj ->
# sij f32[q_tile, BS]); SF(sij.view([q_tile, valid], [0, 0]) -> pij (data dtype bf16), mi, li;
# scale); PV(pij, vj -> f32[q_tile, D]); UP(mi, li, oi_tmp; inout mi_update, li_update, oi,
# out_view; is_first = bn == 0, is_last = bn == nblk - 1).
BLOCK_BODY = """\
blk = pto_read<int32_t>(block_table, b, bn)
valid = std::min<int64_t>(BS, cur_seq - (bn * BS))
kj = view(kc, [BS, D], [blk * BS, 0])
vj = view(vc, [BS, D], [blk * BS, 0])
qk = QK aic(input qi, input kj, output new f32[q_tile, BS]; ){qk_deps}
sf_sij = view(QK.out0, [q_tile, valid], [0, 0])
sf = SF aiv(input sf_sij, output new bf16[q_tile, BS], output new f32[q_tile], \
output new f32[q_tile]; float(scale)){sf_deps}
pv = PV aic(input SF.out0, input vj, output new f32[q_tile, D]; ){pv_deps}
{up}UP aiv(input SF.out1, input SF.out2, input PV.out0, inout alloc.out2, inout alloc.out1, \
inout alloc.out0, inout out_view; uint64_t(bn == 0), uint64_t(bn == (nblk - 1))){up_deps}
"""
PER_TILE = """\
row = (b * H) + (qt * q_tile)
qi = view(q2, [q_tile, D], [row, 0])
out_view = view(o2, [q_tile, D], [row, 0]){flag}
acc = alloc(new f32[q_tile, D], new f32[q_tile], new f32[q_tile])
"""
# §3.6/§3.7: groups of up to 64 blocks; the kernels read the block table; out_view has
# manual_dep = true; UP's is_last is bn + n >= nblk.
GROUP_BODY = """\
n = std::min<int64_t>(64, nblk - bn)
valid_last = std::min<int64_t>(BS, cur_seq - (((bn + n) - 1) * BS))
qk = QK aic(input qi, input kc, input block_table, output new f32[q_tile, n * BS]; \
uint64_t(n), uint64_t((b * MMB) + bn)){qk_deps}
sf = SF aiv(input QK.out0, output new bf16[q_tile, n * BS], output new f32[q_tile], \
output new f32[q_tile]; float(scale), uint64_t(n), uint64_t(valid_last)){sf_deps}
pv = PV aic(input SF.out0, input vc, input block_table, output new f32[q_tile, D]; \
uint64_t(n), uint64_t((b * MMB) + bn)){pv_deps}
{up}UP aiv(input SF.out1, input SF.out2, input PV.out0, inout alloc.out2, inout alloc.out1, \
inout alloc.out0, inout out_view; uint64_t(bn == 0), uint64_t((bn + n) >= nblk)){up_deps}
"""
AUTO_DEPS = {"qk_deps": "", "sf_deps": "", "pv_deps": "", "up": "", "up_deps": ""}
# §3.4 at v0: SF <- QK, PV <- SF, UP <- SF, PV, alloc when first, the previous UP when there
# is one, alloc again when last and not first.
PAM_DEPS = {"qk_deps": "", "sf_deps": " deps(QK)", "pv_deps": " deps(SF)", "up": "up = ",
            "up_deps": " deps(SF, PV, alloc if bn == 0, prev if prev.is_valid(), "
                       "alloc if (bn > 0) && (bn == (nblk - 1)))"}
# §3.7 at v0: SF <- QK, PV <- SF, UP <- PV, alloc when first, the previous UP (if any) and
# alloc when last and not first.
PAUM_DEPS = {"qk_deps": "", "sf_deps": " deps(QK)", "pv_deps": " deps(SF)", "up": "up = ",
             "up_deps": " deps(PV, alloc if bn == 0, prev if prev.is_valid(), "
                        "alloc if (bn > 0) && ((bn + n) >= nblk))"}


def _indent(text: str, depth: int) -> str:
    return "".join("  " * depth + line + "\n" for line in text.splitlines())


def _expected(variant: str) -> str:
    manual = variant in ("manual", "unroll_manual")
    unroll = variant.startswith("unroll")
    deps = (PAUM_DEPS if unroll else PAM_DEPS) if manual else AUTO_DEPS
    scope = "scope manual" if manual else "scope auto"
    tile = PER_TILE.format(flag=" manual_dep" if unroll else "")
    if manual:
        tile += "prev = PTO2TaskId::invalid()\n"
    body = (GROUP_BODY if unroll else BLOCK_BODY).format(**deps)
    if manual:
        body += "prev = up.task_id()\n"
    loop = "for bn in 0 .. nblk step 64" if unroll else "for bn in 0 .. nblk"
    inner = _indent(body, 1) if manual or unroll else _indent("scope auto\n", 1) + \
        _indent(body, 2)
    return (PROLOGUE + _indent(scope, 2) + _indent(tile, 3) + _indent(loop, 3)
            + _indent(inner, 3))


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
@pytest.mark.parametrize("variant", ["auto", "manual", "unroll_auto", "unroll_manual"])
def test_matches_the_reference_orchestration(variant: str, dialect: str) -> None:
    checked = load(PA / f"{variant}.pto", dialect)
    outline = Outline(view_model(checked.program, dialect, f"{variant}.pto"))
    assert "\n".join(outline.lines) + "\n" == _expected(variant)


def test_entry_tensors_are_wrapped_with_the_reshapes() -> None:
    """§3.3 prologue: query, the caches and out are wrapped 2-D, block_table and
    context_lens as declared; config expects 6 tensors + 1 scalar."""
    checked = load(PA / "manual.pto", "current")
    model = view_model(checked.program, "current", "manual.pto")
    text = "\n".join(line for n in model.prologue + model.body if isinstance(n, Code)
                     for line in n.lines if "make_tensor_external" in line)
    wrapped = re.findall(r"ChipTensor (\w+) = make_tensor_external\(orch_args\.tensor\((\d)\)"
                         r"\.ref\(\)\.data_as<void>\(\), \w+, (\d), DataType::(\w+)\)", text)
    assert sorted(wrapped) == sorted([
        ("block_table", "3", "2", "INT32"), ("context_lens", "4", "1", "INT32"),
        ("q2", "0", "2", "BFLOAT16"), ("kc", "1", "2", "BFLOAT16"),
        ("vc", "2", "2", "BFLOAT16"), ("o2", "5", "2", "FLOAT32")])
    assert model.expected_arg_count == 7
