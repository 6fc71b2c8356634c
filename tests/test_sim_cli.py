"""pto-run end to end: PASS on the default case, stats and trace files, exploration,
--inputs/--save, and errors as diagnostics with exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pto_dsl.cli_run import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MANUAL = EXAMPLES / "paged_attention" / "manual.pto"
TEACHING = EXAMPLES / "teaching"


def test_default_case_prints_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(MANUAL)]) == 0
    out = capsys.readouterr().out
    assert "case CaseSmall1: 13 tasks" in out
    assert "PASS out: max abs error" in out


def test_stats_and_trace(tmp_path: Path) -> None:
    stats_path, trace_path = tmp_path / "s.json", tmp_path / "t.json"
    assert main([str(MANUAL), "--case", "CaseVarSeq2", "--stats-json", str(stats_path),
                 "--trace", str(trace_path), "--dialect", "v0"]) == 0
    stats = json.loads(stats_path.read_text())
    assert stats["tasks"] == 22 and stats["dependency_pairs"]["by_origin"]["explicit"] == 27
    assert stats["dependency_pairs"]["total"] == stats["deps_json_records"]["total"] == 27
    assert stats["tensormap_lookups"] == 2 + 5 and stats["tensormap_inserts"] == 0
    assert stats["ring_peak_tasks"][1] > 0 and stats["makespan_us"] > 0
    assert 0 < stats["orchestration_us"] <= stats["makespan_us"]
    assert stats["outputs"] == {"out": {"max_error": stats["outputs"]["out"]["max_error"],
                                        "pass": True}}
    events = json.loads(trace_path.read_text())["traceEvents"]
    tracks = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert "orchestrator" in tracks and "AIC0" in tracks and "AIV47" in tracks
    runs = [e for e in events if e["ph"] == "X" and e.get("cat") == "task"]
    assert len(runs) == 22 - 2  # alloc tasks never run
    assert not list(tmp_path.glob(".*.tmp"))


def test_no_numerics_and_block_dim(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(MANUAL), "--no-numerics", "--block-dim", "9"]) == 0
    out = capsys.readouterr().out
    assert "numerics          off" in out and "(9 clusters)" in out


def _racy(tmp_path: Path) -> Path:
    shutil.copy(TEACHING / "teaching_kernels.py", tmp_path)
    path = tmp_path / "racy.pto"
    path.write_text("""
kernel TILE aic 1 (in x: f32[T, C], out y: f32[T, C]) impl "teaching_kernels:tile"
kernel ACCUM aiv 2 (in y: f32[T, C], inout acc: f32[T, C]) impl "teaching_kernels:accum"
entry racy(in x: f32[N, C], inout out: f32[T, C]) {
    scope manual {
        for i in 0 .. N / T {
            let tile = TILE(x[i * T : i * T + T, :], new f32[T, C])
            ACCUM(tile.y, out) dep tile       # missing: dep on the previous ACCUM
        }
    }
}
default case Small { N = 256, T = 64, C = 16, x = uniform(-1, 1) }
""")
    return path


def test_explore_finds_the_missing_dep(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_racy(tmp_path)), "--explore", "6"]) == 1
    out = capsys.readouterr().out
    assert "outputs DIFFER" in out and "out: seed 0 and adversarial run 1 differ" in out


def test_explore_finds_nothing_on_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TEACHING / "nested_scopes.pto"), "--explore", "5"]) == 0
    assert "every output identical" in capsys.readouterr().out


def test_save_then_run_on_the_saved_inputs(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "run.npz"
    assert main([str(TEACHING / "chain.pto"), "--save", str(saved)]) == 0
    with np.load(saved) as data:
        assert set(data.files) == {"a", "b", "y", "s", "output.y"}
        a, b, s, y = data["a"], data["b"], data["s"], data["output.y"]
    assert np.allclose(y, np.maximum((a + b) * s, 0))
    changed = tmp_path / "in.npz"
    np.savez(changed, a=np.ones(1024, np.float32), b=np.ones(1024, np.float32),
             s=np.float32(2.0))
    again = tmp_path / "again.npz"
    assert main([str(TEACHING / "chain.pto"), "--inputs", str(changed), "--save",
                 str(again)]) == 0
    with np.load(again) as data:
        assert (data["output.y"] == 4).all()
    assert "PASS y" in capsys.readouterr().out


def test_inputs_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.ones(3, np.float32), s=np.float32(1), extra=np.zeros(1))
    assert main([str(TEACHING / "chain.pto"), "--inputs", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "error[E512]: 'a' in" in err and "has shape [3]; the case gives it shape [1024]" in err
    assert "error[E511]: --inputs file" in err and "has no tensor 'b'" in err
    assert "error[E513]" in err and "'extra'" in err
    assert "chain.pto:" in err  # located at the entry's parameters
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a zip")
    assert main([str(TEACHING / "chain.pto"), "--inputs", str(garbage)]) == 1
    assert "error[E510]" in capsys.readouterr().err


def test_never_writes_onto_an_input(tmp_path: Path) -> None:
    program = tmp_path / "chain.pto"
    shutil.copy(TEACHING / "chain.pto", program)
    shutil.copy(TEACHING / "teaching_kernels.py", tmp_path)
    before = program.read_text()
    assert main([str(program), "--stats-json", str(program)]) == 2
    assert program.read_text() == before


def test_failing_golden_prints_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(TEACHING / "chain.pto", tmp_path)
    shutil.copy(TEACHING / "teaching_kernels.py", tmp_path)
    (tmp_path / "golden.py").write_text(
        "def chain(inputs):\n    return {'y': inputs['a'] + 0.5}\n")
    assert main([str(tmp_path / "chain.pto")]) == 1
    assert "FAIL y: max abs error" in capsys.readouterr().out


def test_kernel_errors_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "k.py").write_text("def boom(x, y):\n    raise ValueError('bad tile')\n")
    (tmp_path / "p.pto").write_text("""kernel K aiv 0 (in x: f32[N], out y: f32[N]) impl "k:boom"
kernel L aiv 1 (in x: f32[N], out y: f32[N]) impl "nowhere:f"
entry e(in x: f32[N]) {
    let a = K(x, new f32[N])
    L(a.y, new f32[N])
}
case c { N = 4 }
""")
    assert main([str(tmp_path / "p.pto")]) == 1
    assert "error[E504]: cannot load impl 'nowhere:f'" in capsys.readouterr().err
    (tmp_path / "p.pto").write_text((tmp_path / "p.pto").read_text().replace(
        '"nowhere:f"', '"k:boom"'))
    assert main([str(tmp_path / "p.pto")]) == 1
    err = capsys.readouterr().err
    assert "p.pto:4:5: error[E502]: kernel 'K' failed: ValueError: bad tile" in err


def test_kernels_without_impl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One E503 per kernel without an impl while some have one; a program none of whose
    kernels has one (a decoder declares dozens) gets a single E503 at its first kernel."""
    (tmp_path / "k.py").write_text("def copy(x, y):\n    y[:] = x\n")
    text = """kernel K aiv 0 (in x: f32[N], out y: f32[N]) impl "k:copy"
kernel L aiv 1 (in x: f32[N], out y: f32[N])
kernel M aiv 2 (in x: f32[N], out y: f32[N])
entry e(in x: f32[N]) {
    let a = K(x, new f32[N])
    let b = L(a.y, new f32[N])
    M(b.y, new f32[N])
}
case c { N = 4 }
"""
    (tmp_path / "p.pto").write_text(text)
    assert main([str(tmp_path / "p.pto")]) == 1
    err = capsys.readouterr().err
    assert err.count("error[E503]") == 2 and "kernel 'L' has no impl" in err
    (tmp_path / "p.pto").write_text(text.replace(' impl "k:copy"', ""))
    assert main([str(tmp_path / "p.pto")]) == 1
    err = capsys.readouterr().err
    assert err.count("error[E503]") == 1
    assert "p.pto:1:1: error[E503]: none of the 3 kernels this program submits has an impl" \
        in err and "--no-numerics" in err
    assert main([str(tmp_path / "p.pto"), "--no-numerics"]) == 0


def test_critical_path_of_the_manual_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(MANUAL)]) == 0  # CaseSmall1: QK -> SF -> PV -> UP, then the UP chain
    assert "critical path     6 tasks (cost 658): QK > SF > PV > UP x3" in capsys.readouterr().out


def test_a_program_without_case_is_a_usage_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "p.pto"
    prog.write_text("kernel K aiv 0 (inout a: f32[N])\nentry e(inout x: f32[N]) { K(x) }\n")
    assert main([str(prog)]) == 2
    assert "declares no case" in capsys.readouterr().err


def test_a_failing_golden_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(TEACHING / "chain.pto", tmp_path)
    shutil.copy(TEACHING / "teaching_kernels.py", tmp_path)
    (tmp_path / "golden.py").write_text(
        "def chain(inputs):\n    x = inputs['a']\n    return {'y': x['nope']}\n")
    assert main([str(tmp_path / "chain.pto")]) == 1
    err = capsys.readouterr().err
    program = tmp_path / "chain.pto"
    line = program.read_text().splitlines().index(next(
        s for s in program.read_text().splitlines() if s.startswith("entry chain"))) + 1
    assert f"chain.pto:{line}:" in err and "error[E505]: the golden failed: IndexError" in err
    assert f"note: raised in the golden 'chain' at {tmp_path / 'golden.py'}:3" in err
