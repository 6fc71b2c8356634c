"""Guards for inferred deps: conditions on the position in the enclosing loops.

A dep that a submission needs in some iterations only (the alloc task on the first and the
last block, say) gets a `when` guard. Guards are built from two atoms per enclosing loop,
"first iteration" and "last iteration", their negations, and the `and` / `or` of two such
literals: the shapes hand-written orchestration uses. Each atom is evaluated on every
instance of the submission while recording; the simplest guard true wherever the dep is
needed and false wherever it would add an edge that is not needed is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from pto_dsl import ir
from pto_dsl.source import Span


@dataclass(frozen=True)
class Atom:
    """`loop` is in its first (`last=False`) or last iteration."""

    loop: ir.ForStmt
    last: bool

    def expr(self, negated: bool = False) -> ir.Expr:
        """The atom (or its negation) as IR, in the form `text` prints."""
        loop, span = self.loop, self.loop.span
        var = ir.Load(loop.var, ir.INT, span)
        if not self.last:  # v == start, or v > start (loop values never go below it)
            return ir.Binary(">" if negated else "==", var, loop.start, ir.BOOL, span)
        if loop.step is None:  # v == stop - 1, or v < stop - 1
            bound = ir.Binary("-", loop.stop, ir.Const(1, ir.INT, span), ir.INT, span)
            return ir.Binary("<" if negated else "==", var, bound, ir.BOOL, span)
        ahead = ir.Binary("+", var, loop.step, ir.INT, span)  # v + step >= stop, or <
        return ir.Binary("<" if negated else ">=", ahead, loop.stop, ir.BOOL, span)

    def text(self, negated: bool = False) -> str:
        loop = self.loop
        name = loop.var.name
        if not self.last:
            return f"{name} {'>' if negated else '=='} {_text(loop.start.span)}"
        if loop.step is None:
            return f"{name} {'<' if negated else '=='} {_text(loop.stop.span)} - 1"
        return (f"{name} + {_text(loop.step.span)} {'<' if negated else '>='} "
                f"{_text(loop.stop.span)}")


def _text(span: Span) -> str:
    return span.source.text[span.start:span.end]


def atoms_for(loops: Sequence[ir.ForStmt]) -> tuple[Atom, ...]:
    """The atoms of a submission's enclosing loops, innermost loop first."""
    return tuple(Atom(loop, last) for loop in reversed(loops) for last in (False, True))


Literal = tuple[int, bool]  # (atom index, negated)


@dataclass(frozen=True)
class Guard:
    """True (no literal), one literal, or two literals joined by `and` / `or`."""

    literals: tuple[Literal, ...] = ()
    conj: bool = True

    def holds(self, atoms: Sequence[bool]) -> bool:
        values = [atoms[i] != neg for i, neg in self.literals]
        if not values:
            return True
        return all(values) if self.conj else any(values)

    def expr(self, atoms: Sequence[Atom]) -> ir.Expr | None:
        parts = [atoms[i].expr(neg) for i, neg in self.literals]
        if not parts:
            return None
        out = parts[0]
        for part in parts[1:]:
            out = ir.Binary("and" if self.conj else "or", out, part, ir.BOOL, part.span)
        return out

    def text(self, atoms: Sequence[Atom]) -> str:
        joiner = " and " if self.conj else " or "
        return joiner.join(atoms[i].text(neg) for i, neg in self.literals)


def _candidates(count: int) -> list[Guard]:
    """Every guard over `count` atoms, simplest first (never two literals of one atom)."""
    literals = [(i, neg) for i in range(count) for neg in (False, True)]
    out = [Guard()] + [Guard((lit,)) for lit in literals]
    for a, b in combinations(literals, 2):
        if a[0] != b[0]:
            out += [Guard((a, b), True), Guard((a, b), False)]
    return out


def choose(count: int, must: Sequence[Sequence[bool]],
           avoid: Sequence[Sequence[bool]]) -> tuple[Guard, int]:
    """The simplest guard true on every `must` instance and false on every `avoid` one;
    if none separates them, the one true on every `must` instance that admits the fewest
    `avoid` instances. Returns the guard and the number of `avoid` instances it admits."""
    best: tuple[int, Guard] | None = None
    for guard in _candidates(count):
        if not all(guard.holds(m) for m in must):
            continue
        extra = sum(1 for a in avoid if guard.holds(a))
        if extra == 0:
            return guard, 0
        if best is None or extra < best[0]:
            best = (extra, guard)
    assert best is not None  # the unguarded dep holds everywhere
    return best[1], best[0]
