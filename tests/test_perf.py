"""The collector pause of the large passes: in a one-shot tool run, what a paused burst
made is frozen afterwards, so no later collection walks it; elsewhere (the language server,
the tests) nothing is frozen."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from pto_dsl import perf


@pytest.fixture
def one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(perf, "_freeze", False)
    perf.one_shot()
    yield
    gc.unfreeze()


def _burst() -> list[list[int]]:
    with perf.paused_gc():
        return [[i] for i in range(50_000)]


def test_a_burst_is_frozen_in_a_one_shot_run(one_shot: None) -> None:
    before = gc.get_freeze_count()
    made = _burst()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(made)
    assert gc.get_count()[0] < 700  # the burst is not waiting for a collection


def test_nothing_is_frozen_otherwise() -> None:
    assert not perf._freeze
    before = gc.get_freeze_count()
    _burst()
    assert gc.get_freeze_count() == before


def test_otherwise_a_burst_goes_to_the_oldest_generation_unwalked() -> None:
    """No young collection walks what the burst made, yet a full collection still frees a
    cycle among it (the language server runs for hours)."""
    class Node:
        other: object = None

    with perf.paused_gc():
        made = [[i] for i in range(50_000)]
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle that only a full collection frees
    assert gc.isenabled()
    assert gc.get_count()[0] < 700  # the burst is not waiting for a young collection
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(made[0]) in oldest and id(a) in oldest
    import weakref
    alive = weakref.ref(a)
    del a, b
    assert alive() is not None
    gc.collect()
    assert alive() is None


def test_the_console_scripts_are_one_shot_runs() -> None:
    code = ("import sys; from pto_dsl import entry, perf; "
            "entry.load_tool('pto_dsl.cli', 'check_main', 'pto-check'); "
            "sys.exit(0 if perf._freeze else 1)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
