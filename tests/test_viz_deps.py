"""deps.json export in the runtime's dep_gen schema, and `pto-graph --diff`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pto_dsl.cli_graph import main
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.viz import deps_json

ROOT = Path(__file__).resolve().parent.parent
PA = ROOT / "examples" / "paged_attention"
RING = 1 << 32


def export(name: str, case: str = "CaseSmall1") -> dict[str, object]:
    checked = front_end(read_source(PA / name))
    return deps_json.export(checked.program, instantiate_case(checked, case))


def triples(doc: dict[str, object]) -> set[tuple[int, int, str]]:
    return {(int(e["pred"]), int(e["succ"]), e["source"]) for e in doc["edges"]}  # type: ignore[attr-defined]


def test_auto_case_small1_has_the_edges_of_reference_3_3() -> None:
    """PA (AUTO): alloc on ring 1, the per-block tasks on ring 2 (inner scope); creator
    edges inside a block and to the alloc, the update chain through the TensorMap."""
    alloc = 1 * RING + 0
    want: set[tuple[int, int, str]] = set()
    for bn in range(3):  # context 33, block 16: three blocks
        qk, sf, pv, up = (2 * RING + 4 * bn + k for k in range(4))
        want |= {(qk, sf, "creator"), (sf, pv, "creator"), (sf, up, "creator"),
                 (pv, up, "creator"), (alloc, up, "creator")}
        if bn:
            want.add((up - 4, up, "tensormap"))
    doc = export("auto.pto")
    assert triples(doc) == want
    tasks = doc["tasks"]
    assert isinstance(tasks, list) and len(tasks) == 12  # the alloc task has no record
    assert {t["scope"] for t in tasks} == {"auto"}
    chain = [e for e in doc["edges"] if e["source"] == "tensormap"]  # type: ignore[attr-defined]
    assert all(e["flags"] == ["wait"] and e["overlap"] == "covered" for e in chain)


def test_manual_case_small1_has_the_edges_of_reference_3_4() -> None:
    """PAM (MANUAL, deps as at v0): everything on ring 1, explicit edges only: SF <- QK,
    PV <- SF, UP <- SF, PV, alloc (first), previous UP, alloc (last, not first)."""
    alloc = RING
    want: set[tuple[int, int, str]] = set()
    for bn in range(3):
        qk, sf, pv, up = (RING + 1 + 4 * bn + k for k in range(4))
        want |= {(qk, sf, "explicit"), (sf, pv, "explicit"), (sf, up, "explicit"),
                 (pv, up, "explicit")}
        want.add((alloc, up, "explicit") if bn in (0, 2) else (up - 4, up, "explicit"))
        if bn == 2:
            want.add((up - 4, up, "explicit"))
    doc = export("manual.pto")
    assert triples(doc) == want and len(want) == 16
    for e in doc["edges"]:  # type: ignore[attr-defined]
        assert e["arg"] == -1 and e["flags"] == ["wait", "retain"] and "tensor_id" not in e
    assert {t["scope"] for t in doc["tasks"]} == {"manual"}  # type: ignore[attr-defined]


def test_tasks_and_tensors_follow_the_schema() -> None:
    doc = export("auto.pto")
    tensors = {t["tensor_id"]: t for t in doc["tensors"]}  # type: ignore[attr-defined]
    qk, sf, pv, up = doc["tasks"][:4]  # type: ignore[index]
    assert qk["task_id"] == str(2 * RING) and qk["kernel_ids"] == [0, -1, -1]
    assert sf["kernel_ids"] == [-1, 1, -1] and pv["kernel_ids"] == [2, -1, -1]
    assert [a["type"] for a in up["args"]] == ["INPUT"] * 3 + ["INOUT"] * 4
    assert qk["args"][2] == {"idx": 2, "type": "OUTPUT"}  # no tensor before it exists
    kj = qk["args"][1]  # rows [blk * 16, +16) of the key cache viewed as [48, 16]
    assert kj["shape"] == [16, 16] and kj["strides"] == [16, 1]
    assert int(kj["start_offset"]) % 256 == 0 and kj["dtype"] == "BFLOAT16"
    for task in doc["tasks"]:  # type: ignore[attr-defined]
        for arg in task["args"]:
            assert arg["type"] == "OUTPUT" or arg["tensor_id"] in tensors
    for e in doc["edges"]:  # type: ignore[attr-defined]
        assert e["source"] == "explicit" or e["tensor_id"] in tensors
    key = tensors[kj["tensor_id"]]
    assert key["buffer_numel"] == str(3 * 16 * 1 * 16) and key["version"] == 0
    assert key["tensor_id"] == str(deps_json.fnv1a_tensor_id(int(key["buffer_addr"]), 0))


def test_tensor_id_is_the_runtimes_fnv1a() -> None:
    # the example row of the runtime's docs/dfx/dep-gen.md §4
    assert deps_json.fnv1a_tensor_id(29204938752, 0) == 13451765318376212391


# ---- --diff --------------------------------------------------------------------------

def write(tmp_path: Path, doc: object, name: str = "deps.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1))
    return path


def test_diff_reports_exactly_the_edited_edges(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    doc = export("manual.pto")
    same = write(tmp_path, doc, "same.json")
    args = [str(PA / "manual.pto"), "--case", "CaseSmall1", "--diff"]
    assert main([*args, str(same)]) == 0
    assert "16 edge records in both, 0 only in" in capsys.readouterr().out
    removed = doc["edges"][5]  # type: ignore[index]
    doc["edges"] = [e for e in doc["edges"] if e is not removed]  # type: ignore[attr-defined]
    doc["edges"].append({"pred": str(RING + 1), "succ": str(RING + 12), "arg": -1,  # type: ignore[attr-defined]
                         "source": "explicit", "flags": ["wait", "retain"]})
    code = main([*args, str(write(tmp_path, doc))])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 1 and lines[0].startswith("15 edge records in both, 1 only in manual.pto")
    assert lines[1].startswith("15 dependency pairs in both, 1 only in manual.pto")
    assert lines[2].startswith("records only in manual.pto") and lines[4].startswith(
        "records only in")
    assert lines[3].strip().startswith(f"{removed['pred']} (ring 1") and \
        f"-> {removed['succ']} (ring 1" in lines[3]
    checked = front_end(read_source(PA / "manual.pto"))
    g = instantiate_case(checked, "CaseSmall1")
    qk, up = g.task(1), g.task(12)
    assert (qk.kernel, up.kernel) == ("QK", "UP")
    assert lines[5].strip() == (f"{RING + 1} (ring 1, local 1) QK #1 line {qk.span.line} -> "
                                f"{RING + 12} (ring 1, local 12) UP #12 line {up.span.line}: "
                                "explicit, flags wait+retain")
    assert len(lines) == 6


def test_diff_compares_source_flags_and_overlap_not_only_pairs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same (pred, succ) pairs, different records: the diff fails and names them."""
    doc = export("auto.pto")
    edges = doc["edges"]
    assert isinstance(edges, list)
    chain = next(e for e in edges if e["source"] == "tensormap")
    chain["overlap"] = "other"
    creator = next(e for e in edges if e["source"] == "creator")
    creator["flags"] = ["wait"]
    args = [str(PA / "auto.pto"), "--case", "CaseSmall1", "--diff"]
    assert main([*args, str(write(tmp_path, doc))]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("21 edge records in both, 2 only in auto.pto")
    assert lines[1].startswith("17 dependency pairs in both, 0 only in auto.pto")
    theirs = lines[lines.index(next(x for x in lines if x.startswith("records only in ")
                                    and "auto.pto" not in x)) + 1:]
    assert sorted(x.split(": ", 1)[1] for x in theirs) == [
        "creator, arg 0, flags wait", "tensormap, arg 3, flags wait, overlap other"]


def test_auto_records_are_the_runtimes_replay() -> None:
    """Creator records once per (producer, consumer) at the producer's first argument,
    TensorMap records once per hit (UP's four INOUT lookups each hit the previous UP)."""
    for case, creator, tensormap, pairs in (("CaseSmall1", 15, 8, 17),
                                           ("CaseSmall2", 40, 28, 47)):
        doc = export("auto.pto", case)
        edges = doc["edges"]
        assert isinstance(edges, list)
        sources = [e["source"] for e in edges]
        assert (len(edges), sources.count("creator"), sources.count("tensormap")) == \
            (creator + tensormap, creator, tensormap)
        assert len({(e["pred"], e["succ"]) for e in edges}) == pairs
    doc = export("auto.pto")
    up = str(2 * RING + 3)  # the first UP: mij, lij (SF), oi_new (PV), mi..dst (alloc)
    first = [(e["pred"], e["arg"]) for e in doc["edges"] if e["succ"] == up]  # type: ignore[attr-defined]
    assert first == [(str(2 * RING + 1), 0), (str(2 * RING + 2), 2), (str(RING), 3)]
    second = [(e["source"], e["arg"], e["overlap"]) for e in doc["edges"]  # type: ignore[attr-defined]
              if e["succ"] == str(2 * RING + 7) and e["source"] == "tensormap"]
    assert second == [("tensormap", arg, "covered") for arg in (3, 4, 5, 6)]


def test_buffer_numel_pads_runtime_outputs_to_1024_bytes() -> None:
    doc = export("auto.pto")
    checked = front_end(read_source(PA / "auto.pto"))
    graph = instantiate_case(checked, "CaseSmall1")
    by_shape = {(b.dtype, b.shape, b.owner is None): deps_json.buffer_numel(b)
                for b in graph.buffers}
    assert by_shape[("bf16", (16, 16), False)] == 512  # 512 B -> 1024 B
    assert by_shape[("f32", (16,), False)] == 256  # 64 B -> 1024 B
    assert by_shape[("f32", (16, 16), False)] == 256  # already 1024 B
    assert by_shape[("bf16", (3, 16, 1, 16), True)] == 768  # entry tensors: exact
    numels = {t["buffer_numel"] for t in doc["tensors"]}  # type: ignore[attr-defined]
    assert numels == {"256", "512", "768"}


DEP_AND_CREATOR = """\
kernel P aiv 0 (out y: f32[N])
kernel C aiv 1 (in a: f32[N], in b: f32[N], out w: f32[N])
entry e(out o: f32[N]) {
    let p = P(new f32[N])
    C(p.y, p.y, o) dep p
}
default case S { N = 16 }
"""


def test_a_producer_named_by_a_dep_gets_no_creator_record(tmp_path: Path) -> None:
    path = tmp_path / "dep.pto"
    path.write_text(DEP_AND_CREATOR)
    checked = front_end(read_source(path))
    graph = instantiate_case(checked, "S")
    doc = deps_json.export(checked.program, graph)
    assert [(e["pred"], e["succ"], e["source"]) for e in doc["edges"]] == [
        ("0", "1", "explicit")]  # ring 0: the entry's own level
    assert graph.edge_count() == 1


@pytest.mark.parametrize("name", ["auto.pto", "manual.pto", "unroll_auto.pto",
                                  "unroll_manual.pto"])
def test_records_cover_exactly_the_graphs_dependency_pairs(name: str) -> None:
    checked = front_end(read_source(PA / name))
    graph = instantiate_case(checked, None)
    doc = deps_json.export(checked.program, graph)
    ids = deps_json.task_ids(graph)
    pairs = {(ids[p], ids[c]) for p, c, _ in graph.edges()}
    assert {(int(e["pred"]), int(e["succ"])) for e in doc["edges"]} == pairs


def test_diff_file_that_is_not_json_is_located(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tasks": [],\n "edges": [\n  {"pred": "1" "succ": "2"}\n ]}\n')
    assert main([str(PA / "manual.pto"), "--diff", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:16: error[E601]: this file is not JSON" in err
    assert '  {"pred": "1" "succ": "2"}' in err and "^" in err


def test_diff_file_with_a_bad_edge_is_located(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = export("manual.pto")
    doc["edges"][3]["pred"] = "task seven"  # type: ignore[index]
    del doc["edges"][9]["succ"]  # type: ignore[index]
    path = write(tmp_path, doc)
    lines = path.read_text().splitlines()
    bad_line = next(i for i, line in enumerate(lines, 1) if "task seven" in line)
    assert main([str(PA / "manual.pto"), "--diff", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{bad_line}:" in err and "error[E602]" in err
    assert "edge 3: 'pred' must be a task id" in err and "edge 9: 'succ'" in err
    shapes: list[object] = [[], {"edges": 3}, {"tasks": []}]
    for shape in shapes:
        assert main([str(PA / "manual.pto"), "--diff", str(write(tmp_path, shape))]) == 1
        assert "error[E602]" in capsys.readouterr().err


def test_diff_file_missing_is_a_usage_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(PA / "manual.pto"), "--diff", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


PARTIAL_OVERLAP = """\
kernel W aiv 0 (inout y: f32[M, C])
kernel Rd aiv 1 (in a: f32[M, C], out w: f32[M, C])
kernel Rw aiv 2 (in a: f32[N, C], out w: f32[M, C])
entry e(inout t: f32[N, C], out o: f32[M, C]) {
    W(t[0 : 8, :])
    Rd(t[4 : 12, :], o)
    Rw(t, o)
}
default case S { N = 16, C = 16, M = 8 }
"""


def _every_example_case(tmp_path: Path) -> list[tuple[Path, str]]:
    from pto_dsl.cases import case_names

    partial = tmp_path / "partial.pto"  # a TensorMap hit of overlap "other"
    partial.write_text(PARTIAL_OVERLAP)
    found = [(partial, "S")]
    for path in sorted((ROOT / "examples").rglob("*.pto")):
        try:
            checked = front_end(read_source(path))
        except Exception:
            continue
        found += [(path, case) for case in case_names(checked.program)  # all but the
                  if path.parent != PA or case not in ("Case1", "Case2")]  # full-size ones
    return found


def test_the_fast_writer_writes_the_bytes_of_json_dumps(tmp_path: Path) -> None:
    """`export_bytes` (what pto-graph writes) is byte for byte `json.dumps` of `export`,
    on every example's every small case; together they have every kind of record."""
    seen: set[str] = set()
    for path, case in _every_example_case(tmp_path):
        checked = front_end(read_source(path))
        graph = instantiate_case(checked, case)
        doc = deps_json.export(checked.program, graph)
        general = (json.dumps(doc, separators=(",", ":")) + "\n").encode("utf-8")
        assert deps_json.export_bytes(checked.program, graph) == general, (path, case)
        seen |= {e["source"] + e.get("overlap", "") for e in doc["edges"]}  # type: ignore[attr-defined, operator]
        seen |= {a["type"] for t in doc["tasks"] for a in t["args"]}  # type: ignore[attr-defined, index]
        seen |= {f"early {t['early_dispatch']}" for t in doc["tasks"]}  # type: ignore[attr-defined, index]
        seen |= {t["scope"] for t in doc["tasks"]}  # type: ignore[attr-defined, index]
    assert seen >= {"explicit", "creator", "tensormapcovered", "tensormapother", "INPUT",
                    "INOUT", "OUTPUT", "OUTPUT_EXISTING", "early True", "early False",
                    "auto", "manual"}, seen
