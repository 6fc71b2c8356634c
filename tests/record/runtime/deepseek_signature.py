"""Writes deepseek_v4_flash_decode.pto, the signature of the runtime's deepseek_v4_flash_decode
orchestration, from a checkout of the runtime (facts only: names, func_ids, directions,
shapes):

    python3 tests/record/runtime/deepseek_signature.py /path/to/simpler > \
        tests/record/runtime/deepseek_v4_flash_decode.pto

* kernels: the runtime test's kernel table (func_id, name, core type, tensor directions);
  each kernel's scalar count is what its source reads past its tensors (`args[N]`); the AIC
  and AIV halves the orchestration submits together as `MixedKernels {a, v, v}` are one
  `mix` kernel (named by their common prefix);
* the entry: the test's argument steps in order (per-rank shards, comm-window views, the
  whole per-owner token counts), with the shapes and dtypes of the runtime's input
  generator (evaluated from its constants, without running it), then the rank and the
  twelve comm-context pointers as scalars;
* one case, rank 0 of the two the test runs (every rank runs the same orchestration on its
  own shards; the rank is a scalar the orchestration only passes on).
"""

from __future__ import annotations

import ast
import math
import re
import sys
from pathlib import Path

EXAMPLE = "examples/a2a3/tensormap_and_ringbuffer/deepseek_v4_flash_decode"
GOLDEN = "simpler_setup/goldens/deepseek_v4_flash_decode.py"
DTYPES = {"bfloat16": "bf16", "float32": "f32", "int32": "i32", "int8": "i8", "float16": "f16",
          "int64": "i64", "uint8": "u8", "BFLOAT16": "bf16", "FLOAT32": "f32", "INT32": "i32",
          "INT8": "i8"}
DIRS = {"i": "in", "o": "out", "x": "inout"}
ENTRY_DIRS = {"INPUT": "in", "INOUT": "inout", "OUTPUT_EXISTING": "out"}


def literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                assert node.value is not None
                return ast.literal_eval(node.value)
    raise KeyError(name)


def constants(tree: ast.Module) -> dict[str, object]:
    """The golden module's top-level constants, evaluated in order (those that can be)."""
    env: dict[str, object] = {"math": math}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                env[node.targets[0].id] = eval(compile(ast.Expression(node.value), "", "eval"),
                                               env)
            except Exception:  # a tensor or a call: not a shape constant
                continue
    return env


def entry_shapes(tree: ast.Module) -> dict[str, tuple[tuple[int, ...], str]]:
    env = constants(tree)
    [fn] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "generate_inputs"]
    [entries] = [n.value for n in ast.walk(fn) if isinstance(n, ast.Assign)
                 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "entries"]
    assert isinstance(entries, ast.List)
    out = {}
    for item in entries.elts:
        assert isinstance(item, ast.Tuple)
        name = ast.literal_eval(item.elts[0])
        shape = eval(compile(ast.Expression(item.elts[1]), "", "eval"), env)
        dtype = item.elts[2]
        assert isinstance(dtype, ast.Attribute)
        out[name] = (tuple(shape), DTYPES[dtype.attr])
    return out


def scalar_count(source: Path, tensors: int) -> int:
    used = [int(n) for n in re.findall(r"\bargs\[(\d+)\]", source.read_text())]
    return max(0, max(used, default=-1) + 1 - tensors)


def params(sig: str, scalars: int) -> str:
    ps = [f"{DIRS[c]} t{i}" for i, c in enumerate(sig)] + [f"s{i}: u64" for i in range(scalars)]
    return ", ".join(ps)


def kernels(root: Path, table: list[tuple[int, str, str, str]], orch: str) -> list[str]:
    by_id = {fid: (name, core, sig) for fid, name, core, sig in table}
    mixes = [tuple(int(x) for x in m) for m in
             re.findall(r"MixedKernels \w+ = \{(\d+), (\d+), (\d+)\};", orch)]
    lines, in_mix = [], set()
    for aic, aiv0, aiv1 in sorted(set(mixes)):
        (cname, _, csig), (vname, _, vsig) = by_id[aic], by_id[aiv0]
        assert aiv0 == aiv1 and csig == vsig, (aic, aiv0, aiv1)
        prefix = cname.removesuffix("_aic")
        scalars = max(scalar_count(root / EXAMPLE / "kernels" / c / f"{n}.cpp", len(csig))
                      for n, c in ((cname, "aic"), (vname, "aiv")))
        lines.append(f"kernel {prefix} mix(aic {aic}, aiv0 {aiv0}, aiv1 {aiv1}) "
                     f"({params(csig, scalars)})")
        in_mix |= {aic, aiv0}
    for fid, name, core, sig in table:
        if fid in in_mix:
            continue
        scalars = scalar_count(root / EXAMPLE / "kernels" / core / f"{name}.cpp", len(sig))
        lines.append(f"kernel {name} {core} {fid} ({params(sig, scalars)})")
    return lines


def main(root: Path) -> None:
    test = ast.parse((root / EXAMPLE / "test_deepseek_v4_flash_decode.py").read_text())
    table = literal(test, "_KERNELS")
    steps = literal(test, "_ARG_STEPS")
    ctx = literal(test, "_N_CTX_SCALARS")
    shapes = entry_shapes(ast.parse((root / GOLDEN).read_text()))
    orch = (root / EXAMPLE / "kernels" / "orchestration" / "decode_fwd.cpp").read_text()
    assert isinstance(table, list) and isinstance(steps, list) and isinstance(ctx, int)
    print("# Signature of the runtime's a2a3 tensormap_and_ringbuffer deepseek_v4_flash_decode")
    print("# orchestration (decode_fwd.cpp, 43 layers), written by deepseek_signature.py from a")
    print("# checkout of the runtime: its kernels with func_ids and tensor directions, the entry")
    print("# with the runtime test's shapes, and the test's case on rank 0 of its two ranks.")
    print("# Kernel parameters are untyped: the signature gives directions and scalar counts.")
    for line in kernels(root, table, orch):
        print(line)
    print()
    args = []
    for step in steps:
        kind, name, tag = step[0], step[1], step[-1]
        if kind == "window":
            shape, dtype = step[2], DTYPES[step[3]]
        else:
            shape, dtype = shapes[name]
        dims = ", ".join(str(d) for d in shape)
        args.append(f"    {ENTRY_DIRS[tag]} {name}: {dtype}[{dims}],")
    args.append("    rank: i64,")
    args += [f"    comm_ctx{i}: u64," for i in range(ctx)]
    print("extern entry decode_fwd(")
    print("\n".join(args))
    print(")")
    print()
    print("# The test's case (DecodeFwdEP2TP2) as rank 0 runs it: batch 4 x 2 token rows,")
    print("# every owner's token count 8 (the test's fill), the comm-context pointers any")
    print("# non-zero value.")
    fills = ", ".join(f"comm_ctx{i} = {4096 * (i + 1)}" for i in range(ctx))
    print(f"default case DecodeFwdEP2TP2 {{ num_tokens_per_owner = fill(8), rank = 0, {fills} }}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
