"""Cases: values written in the program, generated contents, and Python generators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import checked

from pto_dsl.cases import evaluate, find_case
from pto_dsl.diagnostics import CompileError
from pto_dsl.pipeline import front_end, instantiate_case, read_source

PROGRAM = """
kernel K aiv 0 (in x: f32[N])
entry e(in lens: i32[B], in x: f32[N], scale: f32) {
    for b in 0 .. B { let n = lens[b] }
}
"""


def test_values_symbols_and_lazy_seeded_contents() -> None:
    c = checked(PROGRAM + """
case A seed 7 { B = 2, N = 2 * B + 1, lens = [3, 4], x = uniform(-1, 1), scale = 2 }
""")
    values = evaluate(c.program, find_case(c.program, "A"), Path("."))
    assert values.symbols == {"B": 2, "N": 5}
    assert values.scalars == {"scale": 2.0}
    assert values.contents("lens").tolist() == [3, 4]
    x = values.contents("x")
    assert x.shape == (5,) and x.dtype == np.float32 and (abs(x) <= 1).all()
    again = evaluate(c.program, find_case(c.program, "A"), Path("."))
    assert (again.contents("x") == x).all()  # reproducible for the same seed


def test_default_case_and_unspecified_contents_are_zero() -> None:
    c = checked(PROGRAM + """
case A { B = 1, N = 1, scale = 1.0 }
default case B { B = 3, N = 2, scale = 1.0, lens = fill(2) }
""")
    case = find_case(c.program, None)
    assert case.name.name == "B"
    values = evaluate(c.program, case, Path("."))
    assert values.contents("lens").tolist() == [2, 2, 2]
    assert values.contents("x").tolist() == [0.0, 0.0]


def test_python_generator(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text(
        "import numpy as np\n"
        "def make():\n"
        "    return {'B': 2, 'N': 3, 'scale': 0.5, 'lens': np.array([1, 2])}\n")
    src = tmp_path / "p.pto"
    src.write_text(PROGRAM + 'case G from "gen.py:make"\n')
    g = instantiate_case(front_end(read_source(src)), "G")
    assert len(g.host_reads) == 2


def test_generator_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text("def make():\n    raise ValueError('no data')\n")
    src = tmp_path / "p.pto"
    src.write_text(PROGRAM + 'case G from "gen.py:make"\n')
    with pytest.raises(CompileError) as info:
        instantiate_case(front_end(read_source(src)), "G")
    (diag,) = info.value.diagnostics
    assert diag.code == "E163" and "ValueError: no data" in diag.message
    assert diag.span is not None and diag.span.line == PROGRAM.count("\n") + 1


def test_contents_of_the_wrong_size() -> None:
    c = checked(PROGRAM + "case A { B = 2, N = 1, scale = 1.0, lens = [1, 2, 3] }\n")
    with pytest.raises(CompileError) as info:
        evaluate(c.program, find_case(c.program, "A"), Path("."))
    assert [d.code for d in info.value.diagnostics] == ["E162"]
