"""Fixes that edit a submission's `dep` clause: add an item, or remove one with its guard.

Input: the spans the front end records (the statement, each dep item); output: `Fix`es that
diagnostics carry for editors. Nothing here parses help text or decides which dep is right.
"""

from __future__ import annotations

from collections.abc import Sequence

from pto_dsl.diagnostics import Edit, Fix
from pto_dsl.source import Span


def add_dep(statement: Span, items: Sequence[Span], item: str, kernel: str) -> Fix:
    """Append `item` ("p" or "p when i > 0") to the statement's dep clause, or give the
    statement a clause."""
    if items:
        at, text = items[-1].end, f", {item}"
    else:
        at, text = statement.end, f" dep {item}"
    where = Span(statement.source, at, at)
    return Fix(f"add 'dep {item}' to '{kernel}'", (Edit(where, text),))


def replace_deps(statement: Span, items: Sequence[Span], clause: str, title: str
                 ) -> Fix | None:
    """Replace the statement's dep clause (or its lack) by `clause` ("dep a, b when ...").
    None when a comment sits between 'dep' and the first item."""
    if not items:
        at = Span(statement.source, statement.end, statement.end)
        return Fix(title, (Edit(at, f" {clause}"),))
    keyword = _dep_keyword(items[0])
    if keyword is None:
        return None
    return Fix(title, (Edit(Span(statement.source, keyword, items[-1].end), clause),))


def remove_dep(items: Sequence[Span], index: int, name: str) -> Fix | None:
    """Remove item `index` of a dep clause (with its `when` guard); the whole clause when it
    is the only item. None when a comment sits between 'dep' and the item."""
    span = items[index]
    if len(items) > 1:
        if index > 0:  # ", b" after the previous item
            cut = Span(span.source, items[index - 1].end, span.end)
        else:  # "a, " before the next item
            cut = Span(span.source, span.start, items[1].start)
        return Fix(f"remove '{name}' from the dep clause", (Edit(cut, ""),))
    start = _clause_start(span)
    if start is None:
        return None
    return Fix(f"remove 'dep {name}'", (Edit(Span(span.source, start, span.end), ""),))


def _clause_start(first_item: Span) -> int | None:
    """Where the whitespace before the clause's 'dep' keyword begins."""
    keyword = _dep_keyword(first_item)
    return None if keyword is None else _skip_space_back(first_item.source.text, keyword)


def _dep_keyword(first_item: Span) -> int | None:
    """Where the clause's 'dep' keyword starts (None: something else precedes the item)."""
    text = first_item.source.text
    at = _skip_space_back(text, first_item.start)
    if text[at - 3:at] != "dep" or (at > 3 and (text[at - 4].isalnum() or text[at - 4] == "_")):
        return None
    return at - 3


def _skip_space_back(text: str, at: int) -> int:
    while at > 0 and text[at - 1] in " \t\r\n":
        at -= 1
    return at
