"""Programs for the runtime-rule tests: variants of the bundled examples, written next to
their kernels' implementations so that pto-run can execute them."""

from __future__ import annotations

import shutil
from pathlib import Path

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"
ALLOC = "                let acc = alloc(oi: f32[q_tile, D], li: f32[q_tile], mi: f32[q_tile])\n"
AFTER_SF = "                                new f32[q_tile], scale, n, valid_last)\n" \
           "                        dep qk\n"


def unroll_manual_alloc_after_sf() -> str:
    """unroll_manual.pto with the alloc task submitted after SF in each group: in a
    scope's first group no task older than SF is held, so SF's outputs may be recycled
    while UP reads them (one alloc per group: the numbers change, the rule is the point)."""
    text = (PA / "unroll_manual.pto").read_text()
    assert text.count(ALLOC) == 1 and text.count(AFTER_SF) == 1
    text = text.replace(ALLOC, "")
    return text.replace(AFTER_SF, AFTER_SF + "    " + ALLOC)


def write(tmp: Path, name: str, text: str) -> Path:
    """`text` as tmp/name, with the paged-attention kernels and golden beside it."""
    for support in ("pa_kernels.py", "golden.py"):
        if (PA / support).exists() and not (tmp / support).exists():
            shutil.copy(PA / support, tmp / support)
    path = tmp / name
    path.write_text(text)
    return path
