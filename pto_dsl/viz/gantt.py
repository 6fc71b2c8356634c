"""Gantt charts of a simulated schedule: one row per core, the orchestrator on top.

Input is plain data (row names, bars with a row, a start, an end and a kernel name), so the
chart knows nothing of the simulator. The picture is drawn with matplotlib (the optional
`plots` extra): a bar chart of up to a few hundred thousand bars is what it does well, and
the format (PNG, SVG, PDF) follows the file's extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pto_dsl.files import write_atomic

FORMATS = (".png", ".svg", ".pdf")
INSTALL_HINT = "install the plotting extra: python3 -m pip install 'pto-dsl[plots]'"
ORCHESTRATOR = "orchestrator"
# Colours by kernel in order of first appearance (a colour-blind-safe qualitative palette);
# the orchestrator's submit calls are grey.
PALETTE = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
           "#332288", "#117733", "#882255")
SUBMIT_COLOUR = "#777777"


class GanttUnavailable(Exception):
    """matplotlib is not installed."""


@dataclass(frozen=True)
class Bar:
    row: int  # index into the rows; row 0 is the orchestrator
    start_us: float
    end_us: float
    kernel: str  # the kernel's name, or "" for an orchestrator submit call


def kernel_colours(bars: Sequence[Bar]) -> dict[str, str]:
    """A colour per kernel, in order of first appearance (submit calls excluded)."""
    colours: dict[str, str] = {}
    for bar in bars:
        if bar.kernel and bar.kernel not in colours:
            colours[bar.kernel] = PALETTE[len(colours) % len(PALETTE)]
    return colours


def render(rows: Sequence[str], bars: Sequence[Bar], path: Path, title: str) -> None:
    """Draw the chart and write it to `path` atomically (format from its extension)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: files only
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise GanttUnavailable(INSTALL_HINT) from None
    colours = kernel_colours(bars)
    per_row: list[tuple[list[tuple[float, float]], list[str]]] = [([], []) for _ in rows]
    for bar in bars:
        spans, fills = per_row[bar.row]
        spans.append((bar.start_us, max(bar.end_us - bar.start_us, 1e-6)))
        fills.append(colours.get(bar.kernel, SUBMIT_COLOUR))
    height = max(2.5, 0.6 + 0.16 * len(rows))
    fig, ax = plt.subplots(figsize=(12, height), dpi=100)
    try:
        for index, (spans, fills) in enumerate(per_row):
            if spans:  # row 0 at the top
                ax.broken_barh(spans, (len(rows) - 1 - index - 0.4, 0.8), facecolors=fills,
                               linewidth=0)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(list(reversed(rows)), fontsize=6 if len(rows) > 30 else 8)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("time (µs)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", linewidth=0.3)
        handles = [Patch(color=c, label=k) for k, c in colours.items()]
        handles.append(Patch(color=SUBMIT_COLOUR, label="submit (orchestrator)"))
        ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.9)
        fig.tight_layout()
        fmt = path.suffix.lstrip(".").lower()
        write_atomic(path, lambda out: fig.savefig(out, format=fmt))
    finally:
        plt.close(fig)
