"""pto-graph pictures: the one legend in every format, and the elided middle of
`--collapse ends` inside its scope cluster (read back from the written files)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pto_dsl.cli_graph import main
from pto_dsl.viz import graphviz
from pto_dsl.viz.style import LEGEND, NODE_STYLE, line_style

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' missing")
DIAMOND = ROOT / "examples/teaching/diamond_manual.pto"
SHAPE_TAG = {"box": "path", "ellipse": "ellipse", "diamond": "polygon", "note": "polygon"}


def classes(e: ET.Element) -> list[str]:
    return e.get("class", "").split()


def write(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 0
    capsys.readouterr()


@needs_dot
def test_svg_legend_has_every_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.svg"
    write([str(DIAMOND), "-o", str(out)], capsys)
    root = ET.parse(out).getroot()
    legend = [g for g in root.iter(f"{SVG}g") if classes(g)[:2] == ["cluster", "legend"]]
    assert len(legend) == 1
    found = []
    lines = {}
    for g in root.iter(f"{SVG}g"):  # Graphviz writes clusters and nodes side by side
        cls = classes(g)
        if cls[:2] == ["node", "legend-swatch"]:
            cls = cls[1:]
            text = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
            found.append((cls[1], cls[2], text))
            if cls[1] == "core":  # drawn in the shape of its core type
                assert g.find(f"{SVG}{SHAPE_TAG[NODE_STYLE[cls[2]][0]]}") is not None, cls
        elif cls[:2] == ["edge", "legend-line"]:
            lines[cls[2]] = {p.get("stroke") for p in g.iter(f"{SVG}path")}
    assert sorted(found) == sorted((s.group, s.key, s.label) for s in LEGEND)
    for s in LEGEND:
        if s.group in ("edge", "mark"):  # each line in its own colour
            assert line_style(s)[0] in lines[s.key], s
    # the legend sits beside the graph, not over it
    tasks = [g for g in root.iter(f"{SVG}g") if classes(g)[:2] == ["node", "task"]]
    assert len(tasks) == 4


def test_png_is_rendered_from_dot_with_the_legend(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, str] = {}

    def render(dot: str, fmt: str) -> bytes:
        seen[fmt] = dot
        return b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(graphviz, "render", render)
    write([str(DIAMOND), "-o", str(tmp_path / "d.png")], capsys)
    dot = seen["png"]
    block = dot[dot.index("subgraph cluster_legend {"):]
    labels = re.findall(r'class="legend-swatch (\w+) (\w+)", label="([^"]*)"', block)
    assert labels == [(s.group, s.key, s.label) for s in LEGEND]
    assert 'label="diamond_manual.pto: entry diamond, case Small' in dot  # the title


@needs_dot
def test_png_with_legend_is_wider(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The PNG really draws the legend: without it, the same picture is much narrower."""
    write([str(DIAMOND), "-o", str(tmp_path / "d.png")], capsys)
    write([str(DIAMOND), "-o", str(tmp_path / "d.dot")], capsys)
    plain = re.sub(r"\n  subgraph cluster_legend \{.*\n  \}", "",
                   (tmp_path / "d.dot").read_text(), flags=re.S)
    assert "legend" not in plain

    def width(png: bytes) -> int:
        return int.from_bytes(png[16:20], "big")  # the IHDR chunk
    assert width((tmp_path / "d.png").read_bytes()) > width(graphviz.render(plain, "png")) + 200


@needs_dot
def test_html_page_has_one_legend_and_one_title(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.html"
    write([str(DIAMOND), "-o", str(out)], capsys)
    page = out.read_text()
    spans = re.findall(r'<span class="legend-swatch (\w+) (\w+)">.*?</[ib]>([^<]*)</span>', page)
    assert spans == [(s.group, s.key, s.label) for s in LEGEND]
    assert "cluster_legend" not in page and 'class="legend-swatch core aic"' in page
    title = "diamond_manual.pto: entry diamond, case Small"
    body = page[page.index("<body>"):]
    assert body.count(title) == 1  # the header's, not again in the picture


def _box(e: ET.Element) -> tuple[float, float, float, float]:
    """The bounding box of a node's or cluster's outline in Graphviz's SVG."""
    shape = next(x for x in e.iter() if x.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
    if shape.tag == f"{SVG}ellipse":
        cx, cy, rx, ry = (float(shape.get(k, "0")) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?",
                                         shape.get("d") or shape.get("points") or "")]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


@needs_dot
def test_ends_elided_middle_stays_in_its_scope_cluster(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """manual.pto CaseVarSeq4: one MANUAL scope per batch; batches 1 and 2 collapse, and
    their ellipsis nodes sit in an elided MANUAL cluster for those two scope instances."""
    out = tmp_path / "e.svg"
    write([str(ROOT / "examples/paged_attention/manual.pto"), "--case", "CaseVarSeq4",
           "-o", str(out), "--summary", "always", "--collapse", "ends"], capsys)
    root = ET.parse(out).getroot()
    clusters = {g.get("id"): g for g in root.iter(f"{SVG}g") if classes(g)[:2] ==
                ["cluster", "scope"]}
    elided = [g for g in clusters.values()
              if "b 1..2 qt=0 (2 instances)" in (next(g.iter(f"{SVG}text")).text or "")]
    assert len(elided) == 1 and classes(elided[0])[2] == "manual"
    x0, y0, x1, y1 = _box(elided[0])
    inside = []
    for g in root.iter(f"{SVG}g"):
        label = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
        if classes(g)[:2] == ["node", "task"] and "b 1..2" in label:
            a0, b0, a1, b1 = _box(g)
            assert x0 <= a0 and y0 <= b0 and a1 <= x1 and b1 <= y1, label
            inside.append(label.split()[0])
    assert sorted(inside) == ["PV", "QK", "SF", "UP", "alloc"]
    # every ellipsis node of the picture is inside a scope cluster, as its tasks are
    boxes = [_box(g) for g in clusters.values()]
    for g in root.iter(f"{SVG}g"):
        label = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
        if classes(g)[:2] == ["node", "task"] and " ... " in label:
            a0, b0, a1, b1 = _box(g)
            assert any(x0 <= a0 and y0 <= b0 and a1 <= x1 and b1 <= y1
                       for x0, y0, x1, y1 in boxes), label
