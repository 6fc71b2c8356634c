"""Build stage: Lark parse tree -> AST (`nodes`), checking the words the grammar leaves open.

Core types, directions, dtypes and scope modes are names in the grammar; this stage
validates them so that a misspelling gets a precise message. No name resolution here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from lark import Token, Tree

from pto_dsl import nodes as n
from pto_dsl.diagnostics import DiagnosticSink, Note, Stage, error
from pto_dsl.parse import MAX_EXPR_DEPTH
from pto_dsl.source import SourceFile, Span
from pto_dsl.types import DTYPES, MAX_FUNC_ID, SCALAR_TYPES

CORES = ("aic", "aiv", "mix")
MIX_SLOTS = ("aic", "aiv0", "aiv1")
DIRECTIONS = ("in", "out", "inout")
SCOPE_MODES = ("auto", "manual")
SCOPE_OPTIONS = ("infer",)
# Nesting limits: every later stage recurses over the tree, so these keep all of them
# well inside Python's recursion limit (and no real program comes close).
MAX_STMT_DEPTH = 50
MAX_INT = 2**64 - 1  # integers are int64/uint64 in the generated C++
KEYWORDS = frozenset({"kernel", "entry", "case", "default", "seed", "from", "impl", "cost", "let",
                      "for", "in", "step", "if", "else", "scope", "blocks", "sync", "early",
                      "predicate", "dep", "when", "new", "alloc", "dummy", "none", "true",
                      "false", "and", "or", "not", "extern", "tasks", "fatal"})


# Spellings from other languages, for a "did you mean" when no close match exists.
_ALIASES = {"int": "i32", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
            "long": "i64", "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
            "float": "f32", "float32": "f32", "half": "f16", "float16": "f16",
            "bfloat16": "bf16", "double": "f64", "float64": "f64", "input": "in",
            "output": "out", "cube": "aic", "vector": "aiv"}


def _closest(word: str, options: tuple[str, ...] | list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if found:
        return found[0]
    alias = _ALIASES.get(word.lower())
    return alias if alias in options else None


class Builder:
    def __init__(self, source: SourceFile, sink: DiagnosticSink) -> None:
        self.source = source
        self.sink = sink
        self.stmt_depth = 0
        self.expr_depth = 0

    # ---- helpers -------------------------------------------------------------
    def span(self, node: Tree[Token] | Token) -> Span:
        if isinstance(node, Token):
            start = node.start_pos or 0
            end = node.end_pos if node.end_pos is not None else start + len(node.value)
            return Span(self.source, start, end)
        meta = node.meta
        if getattr(meta, "empty", True):
            return Span(self.source, 0, 0)
        return Span(self.source, meta.start_pos, meta.end_pos)

    def ident(self, tok: Token) -> n.Ident:
        self.not_keyword(tok)
        return n.Ident(str(tok), self.span(tok))

    def not_keyword(self, tok: Token, in_expression: bool = False) -> None:
        """The contextual lexer reads a keyword as a name where the keyword cannot stand;
        such a name is always a mistake, in an expression most often one that ended early."""
        if str(tok) in KEYWORDS:
            help_ = ("if this starts a new statement, the expression before it is incomplete",
                     ) if in_expression else ("choose another name",)
            self.sink.add(error("E011", f"'{tok}' is a keyword and cannot be a name",
                                self.span(tok), help=help_, stage=Stage.SYNTAX))

    def integer(self, tok: Token) -> int:
        """An integer literal; one beyond 64 bits is an error (and 0 from then on)."""
        digits = str(tok).lstrip("0") or "0"
        if len(digits) > 20 or int(digits) > MAX_INT:  # no int() of thousands of digits
            self.sink.add(error("E112", "this integer does not fit in 64 bits", self.span(tok),
                                help=(f"the largest integer is {MAX_INT}",), stage=Stage.SYNTAX))
            return 0
        return int(digits)

    def word(self, tok: Token, options: tuple[str, ...], what: str) -> str:
        value = str(tok)
        if value not in options:
            guess = _closest(value, options)
            help_ = (f"did you mean '{guess}'?",) if guess else ()
            self.sink.add(error("E010", f"unknown {what} '{value}'", self.span(tok),
                                help=help_ + (f"expected one of: {', '.join(options)}",),
                                stage=Stage.SYNTAX))
        return value

    # ---- declarations -------------------------------------------------------
    def program(self, tree: Tree[Token]) -> n.Program:
        kernels, entries, cases = [], [], []
        for item in tree.children:
            assert isinstance(item, Tree)
            if item.data == "kernel":
                kernels.append(self.kernel(item))
            elif item.data in ("entry", "extern_entry"):
                entries.append(self.entry(item))
            else:
                cases.append(self.case(item))
        return n.Program(tuple(kernels), tuple(entries), tuple(cases),
                         Span(self.source, 0, len(self.source.text)))

    def kernel(self, tree: Tree[Token]) -> n.Kernel:
        name, core_spec, kparams, *attrs = tree.children
        assert isinstance(name, Token) and isinstance(core_spec, Tree)
        core, func_ids = self.core_spec(core_spec)
        params = tuple(self.param(p) for p in _trees(kparams))
        impl: n.StringLit | None = None
        cost: n.Expr | None = None
        seen: dict[str, Span] = {}
        for attr in attrs:
            assert isinstance(attr, Tree)
            word = "impl" if attr.data == "impl_attr" else "cost"
            if word in seen:
                self.sink.add(error("E012", f"'{word}' is given twice", self.span(attr),
                                    notes=[Note("first given here", seen[word])],
                                    stage=Stage.SYNTAX))
            seen[word] = self.span(attr)
            value = attr.children[0]
            if word == "impl":
                assert isinstance(value, Token)
                impl = n.StringLit(str(value)[1:-1], self.span(value))
            else:
                cost = self.expr(value)
        return n.Kernel(self.ident(name), core, func_ids, params, impl, cost, self.span(tree))

    def core_spec(self, tree: Tree[Token]) -> tuple[str, tuple[tuple[str, int], ...]]:
        core_tok = tree.children[0]
        assert isinstance(core_tok, Token)
        if tree.data == "single_core":
            core = self.word(core_tok, ("aic", "aiv"), "core type") if str(core_tok) != "mix" \
                else "mix"
            if core == "mix":
                self.sink.add(error("E010", "a mix kernel lists its slots", self.span(core_tok),
                                    help=("write e.g. 'mix(aic 4, aiv0 5, aiv1 5)'",),
                                    stage=Stage.SYNTAX))
            fid = tree.children[1]
            assert isinstance(fid, Token)
            return core, ((core if core != "aiv" else "aiv0", self.func_id(fid)),)
        if str(core_tok) != "mix":
            self.sink.add(error("E010", f"only mix kernels take a slot list, not '{core_tok}'",
                                self.span(core_tok), stage=Stage.SYNTAX))
        slots: list[tuple[str, int]] = []
        for slot in tree.children[1:]:
            assert isinstance(slot, Tree)
            slot_name, fid = slot.children
            assert isinstance(slot_name, Token)
            assert isinstance(fid, Token)
            name = self.word(slot_name, MIX_SLOTS, "mix slot")
            if any(name == other for other, _ in slots):
                self.sink.add(error("E010", f"slot '{name}' is listed twice",
                                    self.span(slot_name), stage=Stage.SYNTAX))
            slots.append((name, self.func_id(fid)))
        if len(slots) < 2:
            self.sink.add(error("E010", "a mix kernel uses at least two slots", self.span(tree),
                                help=("a one-slot kernel is 'aic ID' or 'aiv ID'",),
                                stage=Stage.SYNTAX))
        return "mix", tuple(slots)

    def param(self, tree: Tree[Token]) -> n.Param:
        if tree.data in ("tensor_param", "entry_tensor"):
            direction, name, ttype = tree.children
            assert isinstance(direction, Token) and isinstance(name, Token)
            d = self.word(direction, DIRECTIONS, "direction")
            tt = self.ttype(ttype) if isinstance(ttype, Tree) else None
            return n.TensorParam(d, self.ident(name), tt, self.span(tree))
        name, stype = tree.children
        assert isinstance(name, Token) and isinstance(stype, Token)
        return n.ScalarParam(self.ident(name), self.word(stype, SCALAR_TYPES, "scalar type"),
                             self.span(tree))

    def ttype(self, tree: Tree[Token]) -> n.TensorType:
        dtype_tok, *dims = tree.children
        assert isinstance(dtype_tok, Token)
        dtype = self.word(dtype_tok, DTYPES, "dtype")
        out: list[n.Ident | n.IntLit] = []
        for d in dims:
            if d is None:
                continue
            assert isinstance(d, Tree)
            tok = d.children[0]
            assert isinstance(tok, Token)
            out.append(n.IntLit(self.integer(tok), self.span(tok)) if tok.type == "INT"
                       else self.ident(tok))
        return n.TensorType(dtype, tuple(out), self.span(tree))

    def entry(self, tree: Tree[Token]) -> n.Entry:
        if tree.data == "extern_entry":  # a signature: an empty body, marked extern
            name, eparams = tree.children
            assert isinstance(name, Token)
            params = tuple(self.param(p) for p in _trees(eparams))
            span = self.span(tree)
            return n.Entry(self.ident(name), params, n.Block((), span), span, extern=True)
        name, eparams, body = tree.children
        assert isinstance(name, Token) and isinstance(body, Tree)
        params = tuple(self.param(p) for p in _trees(eparams))
        return n.Entry(self.ident(name), params, self.block(body), self.span(tree))

    def case(self, tree: Tree[Token]) -> n.Case:
        default, name, seed, body = tree.children
        assert isinstance(name, Token) and isinstance(body, Tree)
        seed_value = self.integer(seed) if isinstance(seed, Token) else None
        if body.data == "case_generator":
            tok = body.children[0]
            assert isinstance(tok, Token)
            return n.Case(self.ident(name), default is not None, seed_value, (),
                          str(tok)[1:-1], self.span(tok), self.span(tree))
        items = []
        for item in _trees(body):
            item_name, value = item.children
            assert isinstance(item_name, Token)
            items.append(n.CaseItem(self.ident(item_name), self.expr(value), self.span(item)))
        return n.Case(self.ident(name), default is not None, seed_value, tuple(items), None,
                      None, self.span(tree))

    # ---- statements ---------------------------------------------------------
    def block(self, tree: Tree[Token]) -> n.Block:
        return n.Block(tuple(self.stmt(s) for s in _trees(tree)), self.span(tree))

    def stmt(self, tree: Tree[Token]) -> n.Stmt:
        handler: Callable[[Tree[Token]], n.Stmt] = getattr(self, "stmt_" + str(tree.data))
        if self.stmt_depth >= MAX_STMT_DEPTH:
            self.too_deep(tree, f"statements nest more than {MAX_STMT_DEPTH} levels deep",
                          "move the inner part into fewer nested blocks")
            return n.Scope(False, n.Block((), self.span(tree)), self.span(tree))
        self.stmt_depth += 1
        try:
            return handler(tree)
        finally:
            self.stmt_depth -= 1

    def too_deep(self, tree: Tree[Token], message: str, help_: str) -> None:
        self.sink.add(error("E006", message, self.span(tree), help=(help_,),
                            stage=Stage.SYNTAX))

    def stmt_let_stmt(self, tree: Tree[Token]) -> n.Stmt:
        name, value, launch, early, pred, deps = tree.children
        assert isinstance(name, Token)
        return n.Let(self.ident(name), self.expr(value), self.deps(deps), self.span(tree),
                     self.launch(launch), self.dispatch(early, pred))

    def stmt_assign_stmt(self, tree: Tree[Token]) -> n.Stmt:
        name, value, launch, early, pred, deps = tree.children
        assert isinstance(name, Token)
        return n.Assign(self.ident(name), self.expr(value), self.deps(deps), self.span(tree),
                        self.launch(launch), self.dispatch(early, pred))

    def stmt_expr_stmt(self, tree: Tree[Token]) -> n.Stmt:
        call, launch, early, pred, deps = tree.children
        expr = self.expr(call)
        assert isinstance(expr, (n.Call, n.Dummy))
        return n.ExprStmt(expr, self.deps(deps), self.span(tree), self.launch(launch),
                          self.dispatch(early, pred))

    def stmt_element_assign_stmt(self, tree: Tree[Token]) -> n.Stmt:
        name, *rest = tree.children
        *indices, value, launch, early, pred, deps = rest
        assert isinstance(name, Token)
        return n.ElementAssign(self.ident(name), tuple(self.expr(i) for i in indices),
                               self.expr(value), self.deps(deps), self.span(tree),
                               self.launch(launch), self.dispatch(early, pred))

    def stmt_fatal_stmt(self, tree: Tree[Token]) -> n.Stmt:
        code, message = tree.children
        assert isinstance(code, Token) and isinstance(message, Token)
        word = self.word(code, tuple(n.FATAL_CODES), "fatal code")
        return n.Fatal(word, self.span(code), str(message)[1:-1], self.span(tree))

    def stmt_for_stmt(self, tree: Tree[Token]) -> n.Stmt:
        var, start, stop, step, body = tree.children
        assert isinstance(var, Token) and isinstance(body, Tree)
        return n.For(self.ident(var), self.expr(start), self.expr(stop),
                     self.expr(step) if step is not None else None, self.block(body),
                     self.span(tree))

    def stmt_if_stmt(self, tree: Tree[Token]) -> n.Stmt:
        cond, then, orelse = tree.children
        assert isinstance(then, Tree)
        other: n.Block | None = None
        if isinstance(orelse, Tree):
            if orelse.data == "block":
                other = self.block(orelse)
            else:
                nested = self.stmt(orelse)
                other = n.Block((nested,), nested.span)
        return n.If(self.expr(cond), self.block(then), other, self.span(tree))

    def stmt_scope_stmt(self, tree: Tree[Token]) -> n.Stmt:
        spec, body = tree.children
        assert isinstance(body, Tree)
        mode, option = spec.children if isinstance(spec, Tree) else (None, None)
        manual = infer = False
        if isinstance(mode, Token):
            manual = self.word(mode, SCOPE_MODES, "scope mode") == "manual"
        if isinstance(option, Token):
            infer = self.word(option, SCOPE_OPTIONS, "scope option") == "infer"
            if infer and not manual and str(mode) in SCOPE_MODES:
                self.sink.add(error("E013", "only a manual scope can infer its deps",
                                    self.span(option), help=(
                                        "an AUTO scope finds its deps at run time already; "
                                        "write 'scope manual infer'",), stage=Stage.SYNTAX))
        return n.Scope(manual, self.block(body), self.span(tree), infer and manual)

    def launch(self, tree: Tree[Token] | Token | None) -> n.Launch | None:
        if tree is None:
            return None
        assert isinstance(tree, Tree)
        blocks, sync = tree.children
        return n.Launch(self.expr(blocks), sync is not None, self.span(tree))

    def dispatch(self, early: Tree[Token] | Token | None,
                 pred: Tree[Token] | Token | None) -> n.Dispatch | None:
        """`early` and `predicate EXPR` (the expression is checked when lowering)."""
        if early is None and pred is None:
            return None
        early_span = self.span(early) if isinstance(early, Token) else None
        expr = None
        if isinstance(pred, Tree):
            expr = self.expr(pred.children[0])
        spans = [s for s in (early_span, self.span(pred) if pred is not None else None) if s]
        return n.Dispatch(early_span, expr, spans[0].to(spans[-1]))

    def deps(self, tree: Tree[Token] | Token | None) -> tuple[n.DepItem, ...] | None:
        if tree is None:
            return None
        assert isinstance(tree, Tree)
        items = []
        for item in _trees(tree):
            name, elements, guard = item.children
            assert isinstance(name, Token)
            items.append(n.DepItem(self.ident(name),
                                   self.expr(guard) if guard is not None else None,
                                   self.span(item), self.subscript(elements)))
        return tuple(items)

    # ---- expressions --------------------------------------------------------
    def expr(self, node: Tree[Token] | Token | None) -> n.Expr:
        assert isinstance(node, Tree), node
        handler: Callable[[Tree[Token]], n.Expr] = getattr(self, "expr_" + str(node.data))
        if self.expr_depth >= MAX_EXPR_DEPTH:
            self.too_deep(node, f"an expression nests more than {MAX_EXPR_DEPTH} levels deep",
                          "split it into several 'let' bindings")
            return n.IntLit(0, self.span(node))
        self.expr_depth += 1
        try:
            return handler(node)
        finally:
            self.expr_depth -= 1

    def expr_name(self, t: Tree[Token]) -> n.Expr:
        tok = t.children[0]
        assert isinstance(tok, Token)
        self.not_keyword(tok, in_expression=True)
        return n.Name(str(tok), self.span(t))

    def expr_int_lit(self, t: Tree[Token]) -> n.Expr:
        tok = t.children[0]
        assert isinstance(tok, Token)
        return n.IntLit(self.integer(tok), self.span(t))

    def expr_float_lit(self, t: Tree[Token]) -> n.Expr:
        value = float(str(t.children[0]))
        if math.isinf(value):  # Python reads 1e400 as inf; C++ would not compile it
            self.sink.add(error("E112", f"{t.children[0]} does not fit in a double", self.span(t),
                                help=("the largest double is about 1.8e308",),
                                stage=Stage.SYNTAX))
            value = 0.0
        return n.FloatLit(value, self.span(t))

    def func_id(self, tok: Token) -> int:
        """A func_id: an int32_t in the runtime (a larger one would name another kernel)."""
        value = self.integer(tok)
        if value > MAX_FUNC_ID:
            self.sink.add(error("E112", f"func_id {value} does not fit in int32_t, the type "
                                "of func_ids in the runtime", self.span(tok),
                                help=(f"func_ids are 0 to {MAX_FUNC_ID}",),
                                stage=Stage.SYNTAX))
            return 0
        return value

    def expr_none_lit(self, t: Tree[Token]) -> n.Expr:
        return n.NoneLit(self.span(t))

    def expr_true_lit(self, t: Tree[Token]) -> n.Expr:
        return n.BoolLit(True, self.span(t))

    def expr_false_lit(self, t: Tree[Token]) -> n.Expr:
        return n.BoolLit(False, self.span(t))

    def expr_or_op(self, t: Tree[Token]) -> n.Expr:
        return n.BinOp("or", self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def expr_and_op(self, t: Tree[Token]) -> n.Expr:
        return n.BinOp("and", self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def expr_not_op(self, t: Tree[Token]) -> n.Expr:
        return n.Unary("not", self.expr(t.children[0]), self.span(t))

    def expr_neg_op(self, t: Tree[Token]) -> n.Expr:
        return n.Unary("-", self.expr(t.children[0]), self.span(t))

    def expr_cmp_op(self, t: Tree[Token]) -> n.Expr:
        left, op, right = t.children
        return n.Compare(str(op), self.expr(left), self.expr(right), self.span(t))

    def expr_bin_op(self, t: Tree[Token]) -> n.Expr:
        left, op, right = t.children
        return n.BinOp(str(op), self.expr(left), self.expr(right), self.span(t))

    def expr_index(self, t: Tree[Token]) -> n.Expr:
        base, *subs = t.children
        out: list[n.Subscript] = []
        for s in subs:
            assert isinstance(s, Tree)
            sub = self.subscript(s)
            assert sub is not None
            out.append(sub)
        return n.Index(self.expr(base), tuple(out), self.span(t))

    def subscript(self, s: Tree[Token] | Token | None) -> n.Subscript | None:
        """One subscript (`i` or `a:b`); a `dep_elements` tree holds one."""
        if s is None:
            return None
        assert isinstance(s, Tree)
        if s.data == "dep_elements":
            return self.subscript(s.children[0])
        if s.data == "sub_index":
            return self.expr(s.children[0])
        lo, hi = s.children
        return n.Slice(self.expr(lo) if lo is not None else None,
                       self.expr(hi) if hi is not None else None, self.span(s))

    def expr_task_array(self, t: Tree[Token]) -> n.Expr:
        return n.TaskArray(self.expr(t.children[0]), self.span(t))

    def expr_attr(self, t: Tree[Token]) -> n.Expr:
        base, name = t.children
        assert isinstance(name, Token)
        return n.Attr(self.expr(base), self.ident(name), self.span(t))

    def expr_call(self, t: Tree[Token]) -> n.Expr:
        func, *args = t.children
        assert isinstance(func, Token)
        return n.Call(self.ident(func), tuple(self.expr(a) for a in args if a is not None),
                      self.span(t))

    def expr_dummy(self, t: Tree[Token]) -> n.Expr:
        args = []
        for arg in _trees(t):
            if arg.data == "dummy_in":
                direction, value = "in", arg.children[0]
            else:
                word, value = arg.children
                assert isinstance(word, Token)
                direction = self.word(word, DIRECTIONS, "direction")
            args.append(n.DummyArg(direction, self.expr(value), self.span(arg)))
        return n.Dummy(tuple(args), self.span(t))

    def expr_new_tensor(self, t: Tree[Token]) -> n.Expr:
        dtype, *dims = t.children
        assert isinstance(dtype, Token)
        return n.NewTensor(self.word(dtype, DTYPES, "dtype"),
                           tuple(self.expr(d) for d in dims if d is not None), self.span(t))

    def expr_alloc(self, t: Tree[Token]) -> n.Expr:
        items = []
        for item in _trees(t):
            name, dtype, *dims, init = item.children
            assert isinstance(name, Token) and isinstance(dtype, Token)
            items.append(n.AllocItem(self.ident(name), self.word(dtype, DTYPES, "dtype"),
                                     tuple(self.expr(d) for d in dims if d is not None),
                                     self.span(item),
                                     self.expr(init) if init is not None else None))
        return n.Alloc(tuple(items), self.span(t))

    def expr_list_lit(self, t: Tree[Token]) -> n.Expr:
        return n.ListLit(tuple(self.expr(c) for c in t.children if c is not None), self.span(t))


def _trees(node: Tree[Token] | Token | None) -> list[Tree[Token]]:
    if node is None:
        return []
    assert isinstance(node, Tree)
    return [c for c in node.children if isinstance(c, Tree)]


def build(tree: Tree[Token], source: SourceFile) -> n.Program:
    """Convert a parse tree; raises CompileError if a word was not recognised."""
    sink = DiagnosticSink()
    program = Builder(source, sink).program(tree)
    sink.raise_if_errors()
    return program
