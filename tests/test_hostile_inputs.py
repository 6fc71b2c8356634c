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
