"""Parse stage: source text -> Lark parse tree, with syntax errors turned into diagnostics.

Knows nothing of the AST classes (see `build`); loads the grammar from package data.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from importlib import resources
from pathlib import Path

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from pto_dsl.diagnostics import CompileError, Diagnostic, Note, Stage, error
from pto_dsl.source import SourceFile, Span

# What the user sees instead of Lark's terminal names.
_TOKEN_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string",
    "CMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '%'",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "DOT": "'.'",
    "MINUS": "'-'", "DEFAULT": "'default'", "$END": "end of file",
}

# Every token that can start an operand (and 'not' a condition): shown as "an expression".
_OPERAND_START = frozenset({"NAME", "INT", "FLOAT", "LPAR", "LSQB", "MINUS", "NEW", "ALLOC",
                            "TASKS", "DUMMY", "NONE", "TRUE", "FALSE"})
_CLOSERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
# Unexpected tokens that suggest an earlier bracket was left open.
_AFTER_UNCLOSED = frozenset({"KERNEL", "ENTRY", "CASE", "DEFAULT", "RPAR", "RSQB", "RBRACE"})
# Words the contextual lexer reads as a name where their keyword is not allowed.
_KEYWORDS = frozenset({"kernel", "entry", "case", "default", "let", "for", "if", "else", "scope",
                       "dep", "when", "blocks", "sync", "early", "predicate", "dummy", "step",
                       "seed", "from", "impl", "cost"})

# The clauses after a submission, in the order the grammar takes them.
_CLAUSE_WORDS = frozenset({"blocks", "early", "predicate", "dep"})
_CLAUSE_ORDER = ("a submission's clauses come in this order: 'blocks N [sync]', 'early', "
                 "'predicate ELEMENT OP N', 'dep ...'")

_MLIR_MARKERS = re.compile(
    r"^\s*(module\b.*\{|func\.func\b|%[\w.]+\s*=|\"?builtin\.module|pto\.\w+|!pto\.)", re.M)
# A file with pto-dsl declarations is not MLIR, whatever a typo made one line look like.
_PTO_DECLARATION = re.compile(r"^\s*(kernel|entry|(default\s+)?case)\s+\w", re.M)


MAX_EXPR_DEPTH = 200  # expressions nest at most this deep (docs/language.md, E006)
# Strings and comments, whose brackets do not count, and the brackets that do.
_BRACKETS = re.compile(r'"[^"\r\n]*"|#[^\r\n]*|[(\[]|[)\]]')


def grammar_text() -> str:
    try:
        return resources.files("pto_dsl.grammar").joinpath("pto.lark").read_text("utf-8")
    except ModuleNotFoundError:  # running from a source tree that was not installed
        return (Path(__file__).resolve().parent.parent / "grammar" / "pto.lark").read_text("utf-8")


@functools.cache
def parser() -> lark.Lark:
    """The parser, built once per process. Building it (with strict mode's collision
    checks) takes about 0.3 s, so the tables are cached on disk, keyed by the grammar."""
    return lark.Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True,
                     maybe_placeholders=True, cache=_cache_file())


def _cache_file() -> str | bool:
    """A writable cache file for the parser tables, or False to build without one."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "pto-dsl")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    tag = f"{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}"
    return os.path.join(folder, f"grammar-{tag}.lark-cache")


def parse(source: SourceFile) -> lark.Tree[lark.Token]:
    """Parse a whole file; raises CompileError with one located syntax diagnostic."""
    _check_brackets(source)
    try:
        return parser().parse(source.text)
    except UnexpectedInput as exc:
        raise CompileError([_syntax_diagnostic(source, exc)]) from None


def _check_brackets(source: SourceFile) -> None:
    """E006 at the bracket that nests past the limit: brackets leave no node in the tree,
    so the builder's depth count cannot see `((((1))))`; one linear scan of the text can."""
    depth = 0
    for m in _BRACKETS.finditer(source.text):
        c = m.group()
        if c == "(" or c == "[":
            depth += 1
            if depth > MAX_EXPR_DEPTH:
                raise CompileError([error(
                    "E006", f"parentheses and brackets nest more than {MAX_EXPR_DEPTH} levels "
                    "deep", Span(source, m.start(), m.end()),
                    help=("split the expression into several 'let' bindings",),
                    stage=Stage.SYNTAX)])
        elif c == ")" or c == "]":
            depth = max(0, depth - 1)


def looks_like_mlir(text: str) -> bool:
    return bool(_MLIR_MARKERS.search(text)) and not _PTO_DECLARATION.search(text)


def _describe(tok: lark.Token) -> str:
    if tok.type == "$END":
        return "end of file"
    return f"'{tok.value}'"


def _expected(names: set[str]) -> str:
    whole_expr = names >= _OPERAND_START
    if whole_expr:
        names = names - _OPERAND_START - {"NOT"}
    elif "NAME" in names:  # a statement: 'dummy(...)' is shown with the calls, as a name
        names = names - {"DUMMY"}
    shown = sorted(_TOKEN_NAMES.get(n, f"'{n.lower()}'") for n in names)
    if whole_expr:
        shown.append("an expression")
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
    expected = _accepted(exc)
    notes = _unclosed(source, exc, expected)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        keyword = _misplaced_keyword(exc, expected)
        if keyword is not None:
            return _keyword_diagnostic(source, keyword)
        tok = exc.token
        start = tok.start_pos if tok.start_pos is not None else pos
        end = tok.end_pos if tok.end_pos is not None else start + 1
        return error("E002", f"unexpected {_describe(tok)}", Span(source, start, end),
                     notes=notes if tok.type in _AFTER_UNCLOSED else (),
                     help=(f"expected {_expected(expected)}",)
                     + _token_help(source, tok, expected),
                     stage=Stage.SYNTAX)
    end = len(source.text)
    return error("E003", "unexpected end of file", Span(source, max(0, end - 1), end),
                 notes=notes, help=(f"expected {_expected(expected)}",) if expected else (),
                 stage=Stage.SYNTAX)


def _accepted(exc: UnexpectedInput) -> set[str]:
    """The terminals the parser accepts here (the lexer's own list folds keywords into NAME)."""
    if not isinstance(exc, (UnexpectedEOF, UnexpectedToken)):
        return set()
    if isinstance(exc, UnexpectedToken) and exc.interactive_parser is not None:
        return set(exc.accepts)
    return set(exc.expected)


def _stack_tokens(exc: UnexpectedInput) -> list[lark.Token]:
    parser_ = getattr(exc, "interactive_parser", None)
    if parser_ is None:
        return []
    return [v for v in parser_.parser_state.value_stack if isinstance(v, lark.Token)]


def _unclosed(source: SourceFile, exc: UnexpectedInput, expected: set[str]) -> list[Note]:
    """A note on the innermost bracket still open, when the parser wants it closed."""
    opened: list[lark.Token] = []
    for tok in _stack_tokens(exc):
        if tok.type in _CLOSERS:
            opened.append(tok)
        elif opened and tok.type == _CLOSERS[opened[-1].type]:
            opened.pop()
    if not opened or _CLOSERS[opened[-1].type] not in expected:
        return []
    start = opened[-1].start_pos or 0
    return [Note(f"this '{opened[-1].value}' is not closed", Span(source, start, start + 1))]


def _misplaced_keyword(exc: UnexpectedToken, expected: set[str]) -> lark.Token | None:
    """A keyword read as the name starting a statement (e.g. 'kernel' inside the entry)."""
    before = _stack_tokens(exc)[-1:]
    if expected in ({"LPAR", "EQUAL"}, {"LPAR", "EQUAL", "LSQB"}) and before \
            and before[0].value in _KEYWORDS:
        return before[0]
    return None


def _token_help(source: SourceFile, tok: lark.Token, expected: set[str]) -> tuple[str, ...]:
    """A likelier fix than the list of expected tokens, for the mistakes people make."""
    if tok.value == "/" and source.text.startswith("//", tok.start_pos or 0):
        return ("comments start with '#'",)
    if tok.type == "ELSE":
        return ("'else' must follow the '}' of an 'if' block",)
    if tok.type == "SYNC":
        return ("'sync' follows a block count: 'blocks N sync'",)
    if str(tok.value) in _CLAUSE_WORDS:
        return (_CLAUSE_ORDER,)
    start = tok.start_pos or 0
    line = source.text[source.text.rfind("\n", 0, start) + 1 : start]
    if tok.type in ("RPAR", "COMMA") and re.search(r"\bdummy\s*\([^()]*$", line):
        return ("each argument of 'dummy(...)' starts with its direction: in, out or inout",)
    if tok.type == "EQUAL" and "CMP_OP" in expected:
        return ("did you mean '=='? ('=' binds a name; '==' compares)",)
    return ()


def _keyword_diagnostic(source: SourceFile, tok: lark.Token) -> Diagnostic:
    word, start = str(tok.value), tok.start_pos or 0
    if word in ("kernel", "entry", "case", "default"):
        help_ = f"'{word}' declarations go at the top level, not inside the entry's body"
    elif word in _CLAUSE_WORDS:
        help_ = _CLAUSE_ORDER
    else:
        help_ = f"'{word}' is a keyword and cannot start a statement here"
    return error("E002", f"unexpected '{word}'", Span(source, start, start + len(word)),
                 help=(help_,), stage=Stage.SYNTAX)


def _char_help(ch: str) -> tuple[str, ...]:
    if ch == ";":
        return ("statements need no terminator: remove the ';'",)
    if ch in "'":
        return ("strings use double quotes",)
    if ch == "/":
        return ("comments start with '#'",)
    if ch == '"':
        return ("a string ends with '\"' on the same line",)
    return ()
