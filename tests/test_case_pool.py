"""`pto-check --all-cases` and `--suggest-deps` give the same output, diagnostics and exit
status whether the cases are taken in this process (`--jobs 1`) or by worker processes
(`--jobs 2`)."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
from pathlib import Path

import pytest

from pto_dsl import workers
from pto_dsl.cli import check_main

ROOT = Path(__file__).resolve().parent.parent

# Four cases: races (E201) and a redundant dep (W302) that three cases share, and an
# out-of-bounds slice (E172) that stops the fourth.
MIXED = """\
kernel P aiv 0 (in x: f32[N], out y: f32[N])
kernel C aiv 1 (in y: f32[N], inout acc: f32[N])
entry e(in x: f32[L], out acc: f32[N]) {
    scope manual {
        for i in 0 .. L / N {
            let p = P(x[i * N : i * N + N], new f32[N])
            let c = C(p.y, acc) dep p
        }
    }
    let q = P(x[L - 2 * N : L - N], new f32[N])
    C(q.y, acc) dep q
}
default case ok { L = 8, N = 4 }
case many { L = 64, N = 4 }
case bad { L = 4, N = 4 }
case last { L = 16, N = 8 }
"""


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = check_main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.skipif(not workers.can_fork(), reason="workers are forked (Linux)")
@pytest.mark.parametrize("extra", [[], ["--json"], ["--Werror"], ["--suggest-deps"]])
@pytest.mark.parametrize("program", ["mixed", "examples/paged_attention/unroll_manual.pto",
                                     "examples/corpus/spmd_basic.pto"])
def test_workers_report_what_one_process_reports(tmp_path: Path, program: str,
                                                  extra: list[str]) -> None:
    if program == "mixed":
        path = tmp_path / "mixed.pto"
        path.write_text(MIXED)
    else:
        path = ROOT / program
    argv = [str(path), "--all-cases", "-q", "--color", "never", *extra]
    alone = _run([*argv, "--jobs", "1"])
    assert _run([*argv, "--jobs", "2"]) == alone
    if program == "mixed" and "--suggest-deps" not in extra:  # each kind of case result
        assert alone[0] == 1 and "E172" in alone[1] + alone[2]


def test_one_job_checks_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker process for one job")
    monkeypatch.setattr(multiprocessing, "get_context", no_pool)
    code, out, _ = _run([str(ROOT / "examples/paged_attention/unroll_manual.pto"),
                         "--all-cases", "--jobs", "1", "-q"])
    assert code == 0 and "case Case1" in out
