"""Hostile inputs to the front end: line endings, byte order marks, error floods, nesting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pto_dsl import cli
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CHAIN = (ROOT / "examples" / "teaching" / "chain.pto").read_text("utf-8")


def test_cr_only_line_endings_count_as_lines(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "cr.pto"
    src.write_bytes(CHAIN.replace("RELU(scaled.y", "RELU(scaledd.y").replace("\n", "\r")
                    .encode())
    assert cli.check_main([str(src)]) == 1
    err = capsys.readouterr().err
    assert "cr.pto:15:14: error[E101]: undefined name 'scaledd'" in err
    assert "   15 |         RELU(scaledd.y, y)          # writes the entry's output" in err


def test_line_starts_of_every_line_ending() -> None:
    text = "a\nb\r\nc\rd"
    s = SourceFile("x", text)
    assert s.line_count == 4
    assert [s.line_text(i) for i in (1, 2, 3, 4)] == ["a", "b", "c", "d"]
    assert s.line_col(text.index("d")) == (4, 1)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bom.pto"
    src.write_bytes(b"\xef\xbb\xbf" + CHAIN.encode())
    assert cli.check_main([str(src)]) == 0
    assert capsys.readouterr().out.startswith(f"{src}: entry 'chain': no errors")


def test_an_error_flood_shows_the_first_50_and_a_count(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    body = "    let inputs = 1\n" + "\n".join(f"    let a{i} = input{i} + 1" for i in range(120))
    src = tmp_path / "flood.pto"
    src.write_text(f"entry e(in x: f32[4]) {{\n{body}\n}}\n")
    assert cli.check_main([str(src)]) == 1
    err = capsys.readouterr().err
    assert err.count("error[E101]") == cli.MAX_SHOWN == 50
    assert err.count("did you mean 'inputs'?") == 50  # hints for the shown ones only
    assert err.rstrip().endswith("pto-check: 70 more diagnostics not shown (120 errors and "
                                 "0 warnings in all; --json lists every one)")
    assert cli.check_main([str(src), "--json"]) == 1
    assert capsys.readouterr().out.count('"code": "E101"') == 120


def test_hundred_thousand_parentheses_are_e006(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "deep.pto"
    src.write_text("entry e() { let x = " + "(" * 100_000 + "1" + ")" * 100_000 + " }\n")
    assert cli.check_main([str(src)]) == 1
    assert "deep.pto:1:221: error[E006]: parentheses and brackets nest more than 200 " \
           "levels deep" in capsys.readouterr().err
    ok = tmp_path / "ok.pto"
    ok.write_text("entry e() { let x = " + "(" * 200 + "1" + ")" * 200 + " }\n")
    assert cli.check_main([str(ok)]) == 0


# ---- the target's integer semantics --------------------------------------------------

INT_PROGRAM = """kernel K aiv 0 (out y: f32[N])
entry e(out y: f32[N], a: i64, b: i64) {
    let n = EXPR
    if n > 0 { K(y) }
}
default case c { N = 4, a = A, b = B }
"""


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    src = tmp_path / "ints.pto"
    src.write_text(text)
    code = cli.check_main([str(src)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("expr, a, b, message", [
    ("a / b", -(2**63) + 0, -1, "integer overflow: 9223372036854775808 does not fit in int64_t"),
    ("a * b", 2**32, 2**32, "integer overflow: 18446744073709551616 does not fit in int64_t"),
    ("a + b", 2**63 - 1, 1, "integer overflow: 9223372036854775808"),
    ("-a", -(2**63), 0, "integer overflow: 9223372036854775808"),
    ("a % b", 7, 0, "division by zero"),
])
def test_instantiation_computes_in_int64(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         expr: str, a: int, b: int, message: str) -> None:
    text = INT_PROGRAM.replace("EXPR", expr).replace("A", str(a)).replace("B", str(b))
    code, err = _check(tmp_path, text, capsys)
    assert code == 1 and "ints.pto:3:13: error[E170]: " + message in err, err


def test_an_integer_scalar_outside_int64_is_e170(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = INT_PROGRAM.replace("a: i64", "a: u64").replace("EXPR", "a").replace(
        "A", str(2**64 - 1)).replace("B", "1")
    code, err = _check(tmp_path, text, capsys)
    assert code == 1 and "error[E170]: scalar 'a' is 18446744073709551615" in err, err


def test_in_range_arithmetic_is_fine(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    text = INT_PROGRAM.replace("EXPR", "a * b - 1").replace("A", str(2**31)).replace(
        "B", str(2**31))
    assert _check(tmp_path, text, capsys)[0] == 0


def test_a_float_literal_that_overflows_is_an_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    text = "entry e(in x: f32[4], s: f32) {\n    let big = 1e400 * s\n}\ncase c { s = 1 }\n"
    code, err = _check(tmp_path, text, capsys)
    assert code == 1 and "ints.pto:2:15: error[E112]: 1e400 does not fit in a double" in err
    code, err = _check(tmp_path, text.replace("1e400 * s", "1e300 * s"), capsys)
    assert code == 0, err


@pytest.mark.parametrize("spec", ["aiv 2147483648", "aiv 4294967296",
                                  "mix (aic 1, aiv0 2147483648)"])
def test_func_ids_fit_int32(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            spec: str) -> None:
    text = f"kernel K {spec} (in x: f32[4])\nentry e(in x: f32[4]) {{ K(x) }}\n"
    code, err = _check(tmp_path, text, capsys)
    assert code == 1 and "does not fit in int32_t, the type of func_ids" in err, err
    ok = text.replace("2147483648", "2147483647").replace("4294967296", "2147483647")
    assert _check(tmp_path, ok, capsys)[0] == 0
