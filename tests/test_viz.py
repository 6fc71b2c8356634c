"""pto-graph: every example in every format, with the content read back from the files."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from pto_dsl.cli_graph import main
from pto_dsl.graph import Origin, TaskGraph
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.safety import run_graph_checks
from pto_dsl.viz import analysis, graphviz
from pto_dsl.viz.view import ORIGIN_ORDER

ROOT = Path(__file__).resolve().parent.parent
# The decoders (11,166 and 15,971 tasks, races their headers explain) are drawn only as
# one-node-per-site summaries: tests/test_corpus.py's picture test of qwen3's, and
# test_decoder_summary_is_one_node_per_site below.
DECODER = ROOT / "examples" / "corpus" / "deepseek_v4_flash_decode.pto"
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.pto")
                  if p.name not in ("qwen3_14b_decode.pto", DECODER.name))
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' missing")

RACY = """
kernel U aiv 0 (inout x: f32[N])
kernel R aiv 1 (in x: f32[N], out y: f32[N])
entry e(inout buf: f32[N], out o: f32[N]) {
    scope manual {
        let u = U(buf)
        R(buf, o)
    }
}
default case Small { N = 8 }
"""

REDUNDANT = """
kernel UPDATE aiv 0 (inout x: f32[N])
entry main(inout buf: f32[N]) {
    scope manual {
        let a = UPDATE(buf)
        let b = UPDATE(buf) dep a
        UPDATE(buf) dep b, a
    }
}
case c { N = 64 }
"""


def load(path: Path, case: str | None = None) -> TaskGraph:
    return instantiate_case(front_end(read_source(path)), case)


def expected_edges(g: TaskGraph) -> Counter[str]:
    """Edges by the class they are drawn with: the first origin in ORIGIN_ORDER, + races."""
    out: Counter[str] = Counter()
    for _, _, origins in g.edges():
        names = {o.value for o in origins}
        out[next(o for o in ORIGIN_ORDER if o in names)] += 1
    return out


def svg_counts(svg: Path) -> tuple[Counter[str], Counter[str], set[str]]:
    """Nodes by core type and edges by class, from the classes Graphviz copies to SVG."""
    root = ET.parse(svg).getroot()
    nodes: Counter[str] = Counter()
    edges: Counter[str] = Counter()
    clusters: set[str] = set()
    for g in root.iter(f"{SVG}g"):
        cls = g.get("class", "").split()
        if cls[:2] == ["node", "task"]:
            nodes[cls[2]] += 1
        elif cls[:2] == ["edge", "dep"]:
            edges[cls[2]] += 1
        elif cls[:2] == ["cluster", "scope"]:
            clusters.add(cls[2])
    return nodes, edges, clusters


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@needs_dot
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_in_every_format(example: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    g = load(example)
    for ext in (".dot", ".svg", ".png", ".html", ".json"):
        out = tmp_path / f"g{ext}"
        code, printed, _ = run([str(example), "-o", str(out), "--summary", "never"], capsys)
        assert code == 0 and out.is_file(), (ext, code)
        assert f"wrote {out}" in printed
    nodes, edges, clusters = svg_counts(tmp_path / "g.svg")
    assert nodes == Counter(t.core for t in g.tasks())
    assert edges == expected_edges(g)
    assert clusters == {s.decl.mode for s in g.scopes}
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    dot = (tmp_path / "g.dot").read_text()
    assert dot.count("subgraph cluster_c") == len(g.scopes)
    assert dot.count("subgraph cluster_legend") == 1
    page = (tmp_path / "g.html").read_text()
    assert page.count('class="node task ') == len(g)
    doc = json.loads((tmp_path / "g.json").read_text())
    kernels = [t for t in g.tasks() if t.core != "alloc"]
    assert len(doc["tasks"]) == len(kernels)
    pairs = {(e["pred"], e["succ"]) for e in doc["edges"]}
    assert len(pairs) == g.edge_count()
    sources = Counter(e["source"] for e in doc["edges"])
    assert set(sources) == set(g.edges_by_origin())


@needs_dot
def test_race_is_a_red_dashed_edge_and_the_file_is_still_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "racy.pto"
    src.write_text(RACY)
    out = tmp_path / "racy.svg"
    code, _, err = run([str(src), "-o", str(out)], capsys)
    assert code == 1 and "error[E201]" in err  # the race is still an error ...
    nodes, edges, _ = svg_counts(out)  # ... and it is drawn
    assert nodes == Counter({"aiv": 2}) and edges == Counter({"race": 1})
    root = ET.parse(out).getroot()
    race = next(g for g in root.iter(f"{SVG}g") if "race" in g.get("class", "").split())
    path = next(race.iter(f"{SVG}path"))
    assert path.get("stroke") == "#d62728" and path.get("stroke-dasharray")
    title = next(race.iter(f"{SVG}title")).text or ""
    assert title == "t0->t1"


@needs_dot
def test_redundant_dep_is_grey(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "red.pto"
    src.write_text(REDUNDANT)
    code, _, err = run([str(src), "-o", str(tmp_path / "red.svg")], capsys)
    assert code == 0 and "warning[W302]" in err
    root = ET.parse(tmp_path / "red.svg").getroot()
    grey = [g for g in root.iter(f"{SVG}g")
            if {"dep", "redundant"} <= set(g.get("class", "").split())]
    assert len(grey) == 1 and grey[0].get("id") == "e2"  # the edge a -> third UPDATE
    assert next(grey[0].iter(f"{SVG}path")).get("stroke") == "#b0b0b0"


def test_critical_path_uses_kernel_costs(tmp_path: Path) -> None:
    text = """
kernel BIG aiv 0 (in x: f32[N], out y: f32[N]) cost 10 * N
kernel SMALL aiv 1 (in x: f32[N], out y: f32[N]) cost 1
kernel JOIN aiv 2 (in a: f32[N], in b: f32[N], out y: f32[N]) cost 2
entry e(in x: f32[N], out y: f32[N]) {
    scope {
        let s = SMALL(x, new f32[N])
        let s2 = SMALL(s.y, new f32[N])
        let b = BIG(x, new f32[N])
        JOIN(s2.y, b.y, y)
    }
}
default case c { N = 4 }
"""
    src = tmp_path / "cp.pto"
    src.write_text(text)
    checked = front_end(read_source(src))
    g = instantiate_case(checked, None)
    found = analysis.analyse(checked.program, g, [])
    assert found.costs == [1.0, 1.0, 40.0, 2.0]
    assert (found.critical, found.critical_cost) == ([2, 3], 42.0)


@needs_dot
def test_summary_collapses_loop_iterations(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples/paged_attention/auto.pto"
    out = tmp_path / "s.svg"
    code, printed, _ = run([str(example), "--case", "CaseVarSeq4", "-o", str(out),
                            "--summary-above", "20"], capsys)
    assert code == 0 and "one node per submission site" in printed
    nodes, edges, clusters = svg_counts(out)
    assert nodes == Counter({"alloc": 1, "aic": 2, "aiv": 2})  # one per site
    assert edges == Counter({"creator": 5, "tensormap": 1})  # UP -> UP is the loop edge
    labels = " ".join(t.text or "" for t in ET.parse(out).getroot().iter(f"{SVG}text"))
    assert "QK x16" in labels and "alloc x4" in labels and "x12" in labels
    assert clusters == {"auto"}


def test_case1_renders_in_summary_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The big case must render in summary mode (65,792 tasks); the time limit is kept by
    bench/graph.py, this checks the content."""
    pytest.importorskip("networkx")
    out = tmp_path / "case1.dot"
    code, _, _ = run([str(ROOT / "examples/paged_attention/manual.pto"), "--case", "Case1",
                      "-o", str(out)], capsys)
    text = out.read_text()
    assert code == 0 and "QK x16384" in text and "alloc x256" in text
    assert re.search(r'label="x16128"', text)  # the update chain, 63 per (b, qt)


def test_without_graphviz_dot_and_html_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(graphviz, "dot_path", lambda: None)
    example = str(ROOT / "examples/teaching/nested_scopes.pto")
    code, _, err = run([example, "-o", str(tmp_path / "g.svg")], capsys)
    assert code == 3 and "apt-get install graphviz" in err
    assert (tmp_path / "g.dot").is_file() and not (tmp_path / "g.svg").exists()
    code, _, _ = run([example, "-o", str(tmp_path / "g.html")], capsys)
    page = (tmp_path / "g.html").read_text()
    assert code == 0 and "Graphviz not installed: laid out in the browser" in page
    data = re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', page)
    assert data is not None  # drawn by the page (tests/test_viz_html.py renders it)
    g = load(Path(example))
    layout = json.loads(data.group(1))
    assert [n["id"] for n in layout["nodes"]] == [f"t{t.id}" for t in g.tasks()]
    assert len(layout["clusters"]) == len(g.scopes) and len(layout["edges"]) == g.edge_count()
    assert "function ptoLayout" in page


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples/teaching/chain.pto"
    with pytest.raises(SystemExit) as exc:
        main([str(example), "-o", str(tmp_path / "g.gif")])
    assert exc.value.code == 2 and "cannot tell the format" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(example)])
    assert "nothing to do" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(example), "-o", str(tmp_path / "g.dot"), "--keep", "0"])
    assert "not a positive number: '0'" in capsys.readouterr().err
    copy = tmp_path / "chain.html"
    copy.write_text(example.read_text())
    code, _, err = run([str(copy), "-o", str(copy)], capsys)
    assert code == 2 and "is a file this run reads" in err
    assert copy.read_text() == example.read_text()
    code, _, err = run([str(example), "-o", str(tmp_path / "no/such/dir.dot")], capsys)
    assert code == 2 and "does not exist" in err
    code, _, err = run([str(example), "--case", "Nope", "-o", str(tmp_path / "x.dot")], capsys)
    assert code == 2 and "no case named 'Nope'" in err


def test_front_end_errors_write_nothing(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.pto"
    src.write_text("kernel K aiv 0 (in x: f32[N])\nentry e(in a: f32[N]) { K(b) }\n")
    code, _, err = run([str(src), "-o", str(tmp_path / "bad.dot")], capsys)
    assert code == 1 and "error[E101]" in err and not (tmp_path / "bad.dot").exists()


def test_origins_cover_the_graph_enum() -> None:
    assert set(ORIGIN_ORDER) == {o.value for o in Origin}


@needs_dot
def test_ends_summary_keeps_first_and_last_iterations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CaseVarSeq4 of auto.pto: batches 0..3 with 3, 4, 8 and 1 KV blocks. Batches 0 and 3
    stay; so do blocks 0 and 2 of batch 0 (block 1 becomes an ellipsis node per site), and
    batches 1 and 2 become one ellipsis node per site."""
    example = ROOT / "examples/paged_attention/auto.pto"
    out = tmp_path / "e.svg"
    code, printed, _ = run([str(example), "--case", "CaseVarSeq4", "-o", str(out),
                            "--summary", "always", "--collapse", "ends"], capsys)
    assert code == 0 and "first and last 1 iterations" in printed
    nodes, edges, _ = svg_counts(out)
    assert nodes == Counter({"alloc": 3, "aic": 10, "aiv": 10})
    labels = [t.text or "" for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    assert "QK ... x12" in labels and "alloc ... x2" in labels  # batches 1, 2: 4 + 8 blocks
    assert "b 1..2" in labels
    assert "b=0 qt=0 bn 1..1" in labels and "UP #12" in labels
    # every task edge is kept, merged: the counts on the merged edges add up
    g = load(example, "CaseVarSeq4")
    root = ET.parse(out).getroot()
    total = 0
    for e in root.iter(f"{SVG}g"):
        if "dep" in e.get("class", "").split():
            texts = [t.text or "" for t in e.iter(f"{SVG}text")]
            total += int(texts[0][1:]) if texts else 1
    assert total == g.edge_count()
    assert sum(edges.values()) < g.edge_count()


def test_graphviz_failure_keeps_the_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def fail(dot: str, fmt: str) -> bytes:
        raise graphviz.GraphvizFailed("dot failed (exit 1): syntax error")

    monkeypatch.setattr(graphviz, "render", fail)
    example = str(ROOT / "examples/teaching/chain.pto")
    code, _, err = run([example, "-o", str(tmp_path / "g.png")], capsys)
    assert code == 3 and "dot failed (exit 1)" in err and (tmp_path / "g.dot").is_file()


@needs_dot
def test_races_merge_per_pair_of_sites_in_a_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "loop.pto"
    src.write_text(RACY.replace("        let u = U(buf)\n        R(buf, o)\n",
                                "        for i in 0 .. 3 {\n            let u = U(buf)\n"
                                "            R(buf, o)\n        }\n"))
    out = tmp_path / "loop.svg"
    code, _, err = run([str(src), "-o", str(out), "--summary", "always"], capsys)
    assert code == 1 and "error[E201]" in err
    checked = front_end(read_source(src))
    g = instantiate_case(checked, None)
    found = analysis.analyse(checked.program, g, run_graph_checks(checked.program, g))
    per_pair = Counter((g.task(a).site, g.task(b).site) for a, b in found.races)
    nodes, edges, _ = svg_counts(out)
    assert nodes == Counter({"aiv": 2}) and edges["race"] == len(per_pair) >= 2
    labels = {t.text for t in ET.parse(out).getroot().iter(f"{SVG}text")}
    assert {f"x{n}" for n in per_pair.values() if n > 1} <= labels


@pytest.mark.parametrize("ext", [".dot", ".json", ".html"])
def test_output_is_deterministic(ext: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    example = str(ROOT / "examples/paged_attention/auto.pto")
    first, second = tmp_path / f"a{ext}", tmp_path / f"b{ext}"
    assert run([example, "--case", "CaseVarSeq2", "-o", str(first)], capsys)[0] == 0
    assert run([example, "--case", "CaseVarSeq2", "-o", str(second)], capsys)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_decoder_summary_is_one_node_per_site(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The deepseek decoder's summary: one node per submission site, its races drawn (exit
    code 1), and the expert tiles' sites (one dispatch predicate per expert) list a few of
    their launches and how many kinds there are, not all 640."""
    out = tmp_path / "decoder.dot"
    code, printed, _ = run([str(DECODER), "--summary", "always", "-o", str(out)], capsys)
    assert code == 1
    assert "one node per submission site; 15971 tasks, 45917 dependency pairs" in printed
    dot = out.read_text(encoding="utf-8")
    label = re.search(r'label="exp_gate_mm_1 x640\\n[^"]*"', dot)
    assert label is not None and "... (640 kinds)" in label.group(0)
    assert len(label.group(0)) < 400
    # its 510 nodes in 37 scopes get a tenth of dot's crossing passes (with all of them,
    # dot ran two minutes and Graphviz 2.43 then failed with "lost edge")
    assert "mclimit=0.1" in dot.split("\n", 2)[1]


def test_small_views_get_all_of_dots_passes(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.dot"
    example = str(ROOT / "examples/paged_attention/auto.pto")
    assert run([example, "--case", "CaseVarSeq2", "-o", str(out)], capsys)[0] == 0
    assert "mclimit" not in out.read_text(encoding="utf-8")
