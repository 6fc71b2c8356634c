"""Counters as the runtime's profiling build reports them: TensorMap lookups and inserts
per target (v0 counts every lookup call; the current runtime only lookups that reach a
bucket an insert has used), measured on the paged-attention examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pto_dsl.cli_run import main as run_main
from pto_dsl.dialects import LookupCount
from pto_dsl.regions import Region
from pto_dsl.sim.tmap import RuntimeTensorMap

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"

# (program, case) -> lookups/inserts the runtime's profiling build measured, per target
MEASURED = {
    ("auto", "CaseSmall1"): {"v0": (40, 12), "current": (8, 12)},
    ("auto", "CaseSmall2"): {"v0": (105, 32), "current": (28, 32)},
    ("manual", "CaseSmall1"): {"v0": (4, 0), "current": (0, 0)},
    ("manual", "CaseSmall2"): {"v0": (9, 0), "current": (0, 0)},
}


@pytest.mark.parametrize("dialect", ["v0", "current"])
@pytest.mark.parametrize(("program", "case"), sorted(MEASURED))
def test_stats_json_counts_lookups_as_the_target_does(tmp_path: Path, program: str,
                                                      case: str, dialect: str) -> None:
    out = tmp_path / "stats.json"
    assert run_main([str(PA / f"{program}.pto"), "--case", case, "--dialect", dialect,
                     "--no-numerics", "--stats-json", str(out)]) == 0
    stats = json.loads(out.read_text())
    assert (stats["tensormap_lookups"], stats["tensormap_inserts"]) == \
        MEASURED[program, case][dialect]


def test_a_bucket_counts_once_used_even_after_its_entries_are_gone() -> None:
    """The current runtime's epoch check: a bucket stays initialised for the run."""
    alive = [0]
    region = Region((4,), (0,), (4,))
    tmap = RuntimeTensorMap(1, lambda r: alive[0], LookupCount.NONEMPTY_BUCKET)
    assert tmap.lookup(0x100, region, 0, False) == [] and tmap.lookups == 0
    tmap.insert(0x100, region, 0, producer=7, ring=0, local=0)
    assert tmap.lookup(0x200, region, 0, False) == [] and tmap.lookups == 0  # other bucket
    assert tmap.lookup(0x100, region, 0, True) == [7] and tmap.lookups == 1  # removes it
    assert tmap.lookup(0x100, region, 0, False) == [] and tmap.lookups == 2
    every = RuntimeTensorMap(1, lambda r: alive[0], LookupCount.EVERY_CALL)
    every.lookup(0x100, region, 0, False)
    assert every.lookups == 1
