"""The task graph follows the runtime's dependency rules (reference §2.1-2.3), including
the ones that surprise people."""

from __future__ import annotations

import pytest
from helpers import checked, edges, graph

from pto_dsl.diagnostics import CompileError

KERNELS = """
kernel PRODUCE aiv 0 (out y: f32[R, C])
kernel READ aiv 1 (in x: f32[R, C])
kernel UPDATE aiv 2 (inout x: f32[R, C])
kernel WRITE aiv 3 (in x: f32[R, C], out y: f32[R, C])
"""
CASE = "\ndefault case Small { N = 8, C = 4 }\n"


def prog(body: str, params: str = "inout buf: f32[N, C]") -> str:
    return KERNELS + f"entry e({params}) {{\n{body}\n}}" + CASE


def test_creator_edges_in_auto_scope() -> None:
    g = graph(prog("""
        scope {
            let p = PRODUCE(new f32[N, C])
            READ(p.y)
            UPDATE(p.y)
        }"""))
    assert edges(g) == {("PRODUCE#0", "READ#1"): {"creator"},
                        ("PRODUCE#0", "UPDATE#2"): {"creator"}}


def test_tensormap_raw_edge_from_inout_writer() -> None:
    g = graph(prog("scope { UPDATE(buf)\n READ(buf) }"))
    assert edges(g) == {("UPDATE#0", "READ#1"): {"tensormap"}}


def test_no_war_edge_in_auto_scope() -> None:
    # A pure reader is never inserted into the TensorMap: the later writer does not wait.
    g = graph(prog("scope { READ(buf)\n UPDATE(buf) }"))
    assert edges(g) == {}


def test_output_existing_takes_no_waw_lookup() -> None:
    g = graph(prog("scope { WRITE(buf, buf)\n WRITE(buf, buf) }"))
    # each WRITE reads buf (INPUT, a lookup) and writes it (OUTPUT_EXISTING, no lookup):
    # the second one finds the first through its *input*, not through its output
    assert edges(g) == {("WRITE#0", "WRITE#1"): {"tensormap"}}
    g = graph(prog("""
        scope {
            WRITE(x, buf)
            WRITE(x, buf)
        }""", "in x: f32[N, C], out buf: f32[N, C]"))
    assert edges(g) == {}


def test_inout_after_output_existing_finds_the_writer() -> None:
    g = graph(prog("scope { WRITE(x, buf)\n UPDATE(buf) }",
                   "in x: f32[N, C], inout buf: f32[N, C]"))
    assert edges(g) == {("WRITE#0", "UPDATE#1"): {"tensormap"}}


def test_inout_removes_covered_entries() -> None:
    g = graph(prog("scope { UPDATE(buf)\n UPDATE(buf)\n READ(buf) }"))
    assert edges(g) == {("UPDATE#0", "UPDATE#1"): {"tensormap"},
                        ("UPDATE#1", "READ#2"): {"tensormap"}}


def test_partial_overlap_keeps_the_older_entry() -> None:
    text = KERNELS.replace("[R, C]", "[_, C]") + """
entry e(inout buf: f32[N, C]) {
    scope {
        UPDATE(buf[0 : 4, :])
        UPDATE(buf[2 : 6, :])
        READ(buf[0 : 2, :])
        READ(buf[6 : 8, :])
    }
}
default case Small { N = 8, C = 4 }
"""
    g = graph(text)
    assert edges(g) == {("UPDATE#0", "UPDATE#1"): {"tensormap"},
                        ("UPDATE#0", "READ#2"): {"tensormap"}}


def test_manual_scope_has_only_explicit_edges() -> None:
    g = graph(prog("""
        scope manual {
            let p = PRODUCE(new f32[N, C])
            READ(p.y)
            let u = UPDATE(buf)
            READ(buf) dep u
        }"""))
    assert edges(g) == {("UPDATE#2", "READ#3"): {"explicit"}}


def test_dep_on_none_is_skipped_and_guards_apply() -> None:
    g = graph(prog("""
        scope manual {
            let prev = none
            for i in 0 .. 3 {
                let u = UPDATE(buf) dep prev when i != 1
                prev = u
            }
        }"""))
    assert edges(g) == {("UPDATE#1", "UPDATE#2"): {"explicit"}}
    assert [t.explicit_deps for t in g.tasks()] == [(), (), (1,)]


def test_explicit_and_inferred_origins_merge_on_one_edge() -> None:
    g = graph(prog("scope { let p = PRODUCE(new f32[N, C])\n READ(p.y) dep p }"))
    assert edges(g) == {("PRODUCE#0", "READ#1"): {"explicit", "creator"}}
    assert g.edges_by_origin() == {"explicit": 1, "creator": 1}


def test_manual_dep_skips_the_tensormap_but_keeps_the_creator() -> None:
    g = graph(prog("""
        scope {
            UPDATE(manual_dep(buf))
            READ(buf)
            let p = PRODUCE(new f32[N, C])
            READ(manual_dep(p.y))
        }"""))
    assert edges(g) == {("PRODUCE#2", "READ#3"): {"creator"}}


def test_reshaped_alias_overlap_is_conservative() -> None:
    text = KERNELS.replace("[R, C]", "[_, _]") + """
entry e(inout buf: f32[N, C]) {
    let flat = reshape(buf, [N * C, 1])
    scope {
        UPDATE(buf[0 : 1, :])
        READ(flat[0 : 4, :])
        READ(flat[4 : 8, :])
    }
}
default case Small { N = 8, C = 4 }
"""
    g = graph(text)
    # row 0 is elements 0..3: the first read overlaps it, the second does not
    assert edges(g) == {("UPDATE#0", "READ#1"): {"tensormap"}}


def test_auto_reader_does_not_see_manual_writers() -> None:
    g = graph(prog("""
        scope {
            scope manual { UPDATE(buf) }
            READ(buf)
        }"""))
    assert edges(g) == {}


def test_rings_scopes_and_modes() -> None:
    g = graph(prog("""
        READ(buf)
        scope {
            READ(buf)
            scope {
                scope manual {
                    READ(buf)
                    scope manual { READ(buf) }
                }
            }
        }"""))
    rings = [t.ring for t in g.tasks()]
    assert rings == [0, 1, 3, 3]
    assert [t.scope_mode for t in g.tasks()] == ["auto", "auto", "manual", "manual"]
    assert [len(t.scope_path) for t in g.tasks()] == [0, 1, 3, 4]
    assert g.scopes_by_mode() == {"auto": 2, "manual": 2}


def test_alloc_task_is_a_node_without_fanin_and_owns_its_outputs() -> None:
    g = graph(prog("""
        scope {
            let acc = alloc(t: f32[N, C])
            UPDATE(acc.t)
            UPDATE(acc.t)
        }"""))
    alloc = g.task(0)
    assert (alloc.kernel, alloc.core, g.producers(0)) == ("alloc", "alloc", [])
    assert edges(g) == {("alloc#0", "UPDATE#1"): {"creator"},
                        ("alloc#0", "UPDATE#2"): {"creator"},
                        ("UPDATE#1", "UPDATE#2"): {"tensormap"}}


def test_orchestration_reads_are_recorded_and_counted() -> None:
    text = """
kernel FILL aiv 0 (inout x: i32[N])
kernel USE aiv 1 (in x: f32[C])
entry e(inout lens: i32[N], in v: f32[C]) {
    scope {
        FILL(lens[2 : 4])
        let k = lens[1]
        for i in 0 .. k { USE(v) }
    }
}
default case Small { N = 4, C = 2, lens = [0, 3, 0, 0] }
"""
    g = graph(text)
    assert len(g) == 4
    (read,) = g.host_reads
    assert (read.after_tasks, read.access.region.offsets) == (1, (1,))
    assert g.tensormap_lookups == 1 + 1 + 3  # FILL's inout, the read, three USE inputs


def test_an_element_a_task_wrote_cannot_steer_the_graph() -> None:
    """pto-check runs no kernels: a read of task-written data is 'computed', which may be
    combined and stored but not decide a branch (E171 at the read, naming the task)."""
    text = """
kernel FILL aiv 0 (inout x: i32[N])
entry e(inout lens: i32[N]) {
    FILL(lens[0 : 2])
    let k = lens[1] * 2 + 1
    lens[3] = k
    if k > 0 { FILL(lens) }
}
default case Small { N = 4 }
"""
    with pytest.raises(CompileError) as info:
        graph(text)
    (diag,) = info.value.diagnostics
    assert diag.code == "E171" and "FILL#0" in diag.message and diag.span.line == 5
    stored = graph(text.replace("if k > 0 { FILL(lens) }", "FILL(lens)"))
    assert [(r.write, r.waited) for r in stored.host_reads] == [(False, (0,)), (True, (0,))]


def test_an_element_the_orchestration_wrote_reads_back() -> None:
    text = """
kernel FILL aiv 0 (inout x: i32[N])
entry e(inout lens: i32[N]) {
    lens[1] = 3
    for i in 0 .. lens[1] { FILL(lens[i : i + 1]) }
}
default case Small { N = 4 }
"""
    assert len(graph(text)) == 3


def test_instances_name_the_loop_values() -> None:
    g = graph(prog("for i in 0 .. 2 { for j in 1 .. 4 step 2 { scope { READ(buf) } } }"))
    assert [t.instance for t in g.tasks()] == [
        (("i", 0), ("j", 1)), (("i", 0), ("j", 3)), (("i", 1), ("j", 1)), (("i", 1), ("j", 3))]
    assert g.task(3).label == "READ#3 (i=1, j=3)"


def test_kernel_cost_and_impl_are_checked() -> None:
    ok = """
kernel K aic 0 (in x: f32[M, N], s: f32) impl "pkg.mod:k" cost 2 * M * N + max(s, 1.5)
entry e(in x: f32[A, B]) { }
"""
    checked(ok)
    bad = ok.replace('"pkg.mod:k"', '"nocolon"').replace("max(s, 1.5)", "Q")
    with pytest.raises(CompileError) as info:
        checked(bad)
    assert [d.code for d in info.value.diagnostics] == ["E153", "E154"]


def test_a_view_does_not_inherit_manual_dep() -> None:
    # like the runtime's view(shapes, offsets, manual_dep=false)
    g = graph(prog("""
        let m = manual_dep(buf)
        scope {
            UPDATE(m[0 : N, :])
            READ(buf)
        }"""))
    assert edges(g) == {("UPDATE#0", "READ#1"): {"tensormap"}}


def test_reshape_to_another_element_count_is_located() -> None:
    with pytest.raises(CompileError) as info:
        graph(prog("let r = reshape(buf, [3, 2])"))
    (diag,) = info.value.diagnostics
    assert diag.code == "E173" and "[8, 4] (32 elements) to [3, 2] (6 elements)" in diag.message


def test_the_networkx_view_has_the_same_edges_and_origins() -> None:
    g = graph(prog("""
        scope {
            let p = PRODUCE(new f32[N, C])
            READ(p.y) dep p
            UPDATE(buf)
            UPDATE(buf)
        }"""))
    view = g.nx
    assert sorted(view.nodes) == [t.id for t in g.tasks()]
    assert sorted(view.edges(data="origins")) == sorted(g.edges())
    assert g.edge_count() == view.number_of_edges() == 2
    assert (g.producers(1), g.consumers(0), g.consumers(2)) == ([0], [1], [3])


def test_topological_order_is_submission_order() -> None:
    g = graph(prog("scope { let p = PRODUCE(new f32[N, C])\n READ(p.y)\n UPDATE(buf) }"))
    order = g.topo_order()
    assert order == [0, 1, 2]
    assert all(order.index(u) < order.index(v) for u, v, _ in g.edges())
