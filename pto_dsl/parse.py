"""Parse stage: source text -> Lark parse tree, with syntax errors turned into diagnostics.

Knows nothing of the AST classes (see `build`); loads the grammar from package data.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from pto_dsl.diagnostics import CompileError, Diagnostic, Stage, error
from pto_dsl.source import SourceFile, Span

# What the user sees instead of Lark's terminal names.
_TOKEN_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string",
    "CMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '%'",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "DOT": "'.'",
    "MINUS": "'-'", "DEFAULT": "'default'", "$END": "end of file",
}

_MLIR_MARKERS = re.compile(
    r"^\s*(module\b.*\{|func\.func\b|%[\w.]+\s*=|\"?builtin\.module|pto\.\w+|!pto\.)", re.M)


def grammar_text() -> str:
    try:
        return resources.files("pto_dsl.grammar").joinpath("pto.lark").read_text("utf-8")
    except ModuleNotFoundError:  # running from a source tree that was not installed
        return (Path(__file__).resolve().parent.parent / "grammar" / "pto.lark").read_text("utf-8")


@functools.cache
def parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True,
                     maybe_placeholders=True, cache=False)


def parse(source: SourceFile) -> lark.Tree[lark.Token]:
    """Parse a whole file; raises CompileError with one located syntax diagnostic."""
    try:
        return parser().parse(source.text)
    except UnexpectedInput as exc:
        raise CompileError([_syntax_diagnostic(source, exc)]) from None


def looks_like_mlir(text: str) -> bool:
    return bool(_MLIR_MARKERS.search(text))


def _describe(tok: lark.Token) -> str:
    if tok.type == "$END":
        return "end of file"
    return f"'{tok.value}'"


def _expected(names: set[str]) -> str:
    shown = sorted(_TOKEN_NAMES.get(n, f"'{n.lower()}'") for n in names)
    if len(shown) > 6:
        shown = shown[:6] + ["..."]
    return ", ".join(shown)


def _syntax_diagnostic(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None or pos < 0:
        pos = len(source.text)
    pos = min(pos, len(source.text))
    if looks_like_mlir(source.text):
        return error("E004", "this looks like an MLIR file for the PTO assembler (PTOAS), "
                     "not a pto-dsl orchestration program", Span(source, pos, pos + 1),
                     help=("PTOAS also uses the .pto extension; pass its MLIR files to ptoas, "
                           "and pto-dsl programs (kernel/entry/case declarations) here",),
                     stage=Stage.SYNTAX)
    if isinstance(exc, UnexpectedCharacters):
        ch = source.text[pos] if pos < len(source.text) else ""
        return error("E001", f"unexpected character {ch!r}", Span(source, pos, pos + 1),
                     help=_char_help(ch), stage=Stage.SYNTAX)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        start = tok.start_pos if tok.start_pos is not None else pos
        end = tok.end_pos if tok.end_pos is not None else start + 1
        return error("E002", f"unexpected {_describe(tok)}", Span(source, start, end),
                     help=(f"expected {_expected(set(exc.expected))}",), stage=Stage.SYNTAX)
    expected = set(exc.expected) if isinstance(exc, (UnexpectedEOF, UnexpectedToken)) else set()
    end = len(source.text)
    return error("E003", "unexpected end of file", Span(source, max(0, end - 1), end),
                 help=(f"expected {_expected(expected)}",) if expected else (),
                 stage=Stage.SYNTAX)


def _char_help(ch: str) -> tuple[str, ...]:
    if ch == ";":
        return ("statements need no terminator: remove the ';'",)
    if ch in "'":
        return ("strings use double quotes",)
    if ch == "/":
        return ("comments start with '#'",)
    return ()
