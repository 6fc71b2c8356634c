"""Benchmark: how soon pto-lsp shows the diagnostics of an edit, on every bundled example.

Run from the repository root with `python bench/lsp.py` (see docs/editor.md and
docs/performance.md). One pto-lsp process, driven over stdio by pto_dsl.lsp.client as an
editor drives it, opens each example; then each of `--edits` changes (a comment line added at
the end, so the whole pipeline reruns on the default case) is timed from sending
didChange to the first diagnostics of that version (the front end's) and to the end of its
checks (the graph checks' diagnostics, signalled by pto/checked). Both include the server's
debounce. Targets: front end within 50 ms, everything within 150 ms (medians).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pto_dsl.lsp.client import Client

ROOT = Path(__file__).resolve().parent.parent
FRONT_TARGET_MS = 50.0
FULL_TARGET_MS = 150.0


@dataclass
class Row:
    example: str
    case: str
    diagnostics: int
    front: list[float]
    full: list[float]

    def cells(self) -> list[str]:
        def ms(xs: list[float]) -> str:
            return f"{statistics.median(xs):.1f} ({min(xs):.1f})"
        met = (statistics.median(self.front) <= FRONT_TARGET_MS
               and statistics.median(self.full) <= FULL_TARGET_MS)
        return [self.example, self.case, str(self.diagnostics), ms(self.front), ms(self.full),
                "met" if met else "MISSED"]


def measure(client: Client, path: Path, edits: int) -> Row:
    uri = path.as_uri()
    text = path.read_text()
    client.open(uri, text)
    diags, done = client.checked(uri, 1, timeout=60)
    front: list[float] = []
    full: list[float] = []
    for i in range(2, edits + 2):
        text += f"# edit {i}\n"
        start = time.monotonic()
        client.change(uri, text, i)
        diags, done = client.checked(uri, i, timeout=60)
        first = next(n for n in client.last_published if n["params"].get("version") == i)
        front.append((first["params"]["received"] - start) * 1000)
        full.append((done["received"] - start) * 1000)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return Row(str(path.relative_to(ROOT)), done["case"] or "-", len(diags), front, full)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edits", type=int, default=20, help="timed edits per example (20)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; python {platform.python_version()}")
    client = Client()
    try:
        rows = [measure(client, p, args.edits)
                for p in sorted((ROOT / "examples").rglob("*.pto"))]
    finally:
        client.close()
    head = ["example", "case", "diagnostics", "front end ms median (min)",
            "all checks ms median (min)", f"targets {FRONT_TARGET_MS:g}/{FULL_TARGET_MS:g} ms"]
    _print(head, [r.cells() for r in rows], args.markdown)
    missed = [r for r in rows if r.cells()[-1] != "met"]
    return 1 if args.check and missed else 0


def _print(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    for r in [head, *rows]:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)))


if __name__ == "__main__":
    sys.exit(main())
