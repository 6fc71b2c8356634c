"""Gantt charts of a schedule (pto_dsl/viz/gantt.py): bars land in their rows, in their
kernel's colour, in the format the extension names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pto_dsl.viz import gantt

pytest.importorskip("matplotlib", reason="the Gantt chart needs the 'plots' extra")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "paged_attention" / "manual.pto"
ROWS = ["orchestrator", "AIC0", "AIV0"]
BARS = [gantt.Bar(0, 0.0, 1.0, ""), gantt.Bar(0, 1.0, 2.0, ""),
        gantt.Bar(1, 1.0, 9.0, "QK"), gantt.Bar(2, 9.0, 12.0, "SF"),
        gantt.Bar(1, 12.0, 20.0, "QK")]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_kernel_colours_follow_first_appearance() -> None:
    assert gantt.kernel_colours(BARS) == {"QK": gantt.PALETTE[0], "SF": gantt.PALETTE[1]}


def test_png_has_the_bars_in_kernel_colours(tmp_path: Path) -> None:
    import matplotlib.image

    out = tmp_path / "chart.png"
    gantt.render(ROWS, BARS, out, "demo")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = (matplotlib.image.imread(out)[:, :, :3] * 255).round().astype(int)
    colours = {tuple(p) for p in pixels.reshape(-1, 3)}
    for colour in (gantt.PALETTE[0], gantt.PALETTE[1], gantt.SUBMIT_COLOUR):
        assert _rgb(colour) in colours, colour
    assert _rgb(gantt.PALETTE[2]) not in colours  # no third kernel, no third colour


def test_svg_names_every_row(tmp_path: Path) -> None:
    out = tmp_path / "chart.svg"
    gantt.render(ROWS, BARS, out, "demo")
    text = out.read_text("utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert not list(tmp_path.glob(".chart.svg.*"))  # no temporary file left behind


def test_without_matplotlib_it_says_how_to_install(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(gantt.GanttUnavailable, match=r"pto-dsl\[plots\]"):
        gantt.render(ROWS, BARS, tmp_path / "chart.png", "demo")
    assert not (tmp_path / "chart.png").exists()


def test_pto_run_draws_its_schedule(tmp_path: Path) -> None:
    from pto_dsl.cli_run import main

    out = tmp_path / "schedule.png"
    assert main([str(EXAMPLE), "--case", "CaseSmall2", "--gantt", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([str(EXAMPLE), "--gantt", str(tmp_path / "schedule.gif")]) == 2
    assert not (tmp_path / "schedule.gif").exists()
