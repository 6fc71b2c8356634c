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


# ---- contents are validated, never silently converted --------------------------------

CONTENTS = """
kernel K aiv 0 (in x: i32[N])
entry e(in v: i32[N], in m: i32[N, N], in f: f32[N], in b: bool[N], in u: u8[N]) { K(v) }
"""


@pytest.mark.parametrize("item, message", [
    ("v = [1, 1.5, 2.5, 4]", "contents of 'v' are i32, so they must be integers, not 1.5"),
    ("v = [[1, 2], [3, 4]]", "contents of 'v' have shape [2, 2]; give the tensor's shape [4] "
                             "or a flat list of 4 elements"),
    ("v = [1, 2, 3]", "contents of 'v' have 3 elements, its shape [4] needs 4"),
    ("m = [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3]]",
     "contents of 'm' are not a 2-dimensional list of numbers"),
    ("m = [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]]",
     "contents of 'm' have shape [2, 8]; give the tensor's shape [4, 4] or a flat list of 16"),
    ("v = [1, 2, 3, 4294967296]", "contents of 'v' are i32: 4294967296 is outside "
                                  "[-2147483648, 2147483647]"),
    ("v = [1, 2, 3, 1e10]", "contents of 'v' are i32: 10000000000.0 is outside"),
    ("u = [1, 2, 3, -1]", "contents of 'u' are u8: -1 is outside [0, 255]"),
    ("b = [0, 1, 2, 1]", "contents of 'b' are bool: 2 is outside [0, 1]"),
    ("v = [-1, 2, 3, 18446744073709551615]", "contents of 'v' are i32: "
                                             "18446744073709551615 is outside"),
    ("f = [1, 2, 3, 1e300]", "contents of 'f' are f32: 1e+300 is outside its range"),
])
def test_written_contents_are_checked(item: str, message: str) -> None:
    c = checked(CONTENTS + f"case A {{ N = 4, {item} }}\n")
    with pytest.raises(CompileError) as info:
        evaluate(c.program, find_case(c.program, "A"), Path("."))
    (diag,) = info.value.diagnostics
    assert diag.code == "E162" and diag.message.startswith(message), diag.message
    assert diag.span is not None and diag.span.line == CONTENTS.count("\n") + 1
    assert diag.span.source.text[diag.span.start:diag.span.end] == item.split(" = ")[1]


@pytest.mark.parametrize("item", ["v = [1, 2, 3, 4]", "m = [[1, 2, 3, 4], [1, 2, 3, 4], "
                                  "[1, 2, 3, 4], [1, 2, 3, 4]]", "m = [0, 1, 2, 3, 4, 5, 6, 7, "
                                  "8, 9, 10, 11, 12, 13, 14, 15]", "v = [1.0, -2.0, 3, 4]",
                                  "f = [1, 2.5, -1e30, 0]", "b = [0, 1, 1, 0]",
                                  "u = [0, 255, 1, 2]"])
def test_valid_contents_are_kept(item: str) -> None:
    c = checked(CONTENTS + f"case A {{ N = 4, {item} }}\n")
    values = evaluate(c.program, find_case(c.program, "A"), Path("."))
    name = item.split(" ")[0]
    assert values.contents(name).shape == ((4, 4) if name == "m" else (4,))


def test_generator_contents_are_checked_and_located(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text(
        "import numpy as np\n"
        "def make():\n"
        "    return {'B': 2, 'N': 3, 'scale': 0.5, 'lens': np.array([1.25, 2.0])}\n")
    src = tmp_path / "p.pto"
    src.write_text(PROGRAM + 'case G from "gen.py:make"\n')
    with pytest.raises(CompileError) as info:
        instantiate_case(front_end(read_source(src)), "G")
    (diag,) = info.value.diagnostics
    assert diag.message == "contents of 'lens' are i32, so they must be integers, not 1.25"
    assert diag.span is not None and diag.span.line == PROGRAM.count("\n") + 1


def test_dtype_bounds_without_numpy_equal_numpys() -> None:
    """The case checks know each dtype's range without importing NumPy; it must be NumPy's."""
    import numpy as np

    from pto_dsl.case_contents import FLOAT_MAX, int_bounds

    for name in ("float32", "float16"):
        assert FLOAT_MAX[name] == float(np.finfo(name).max)
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        info = np.iinfo(name)
        assert int_bounds(name) == (int(info.min), int(info.max)), name
