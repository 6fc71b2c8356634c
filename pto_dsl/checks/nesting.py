"""Check: no AUTO scope nested, at any depth, inside a MANUAL one (runtime-model.md).

The runtime rejects it when the scope opens, with fatal code 5 and the message
"auto scope nested inside manual scope is not supported".
"""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, error
from pto_dsl.dialects import Dialect


def check(program: ir.Program, dialect: Dialect) -> list[Diagnostic]:
    found = []
    for scope in program.scopes:
        if scope.manual:
            continue
        outer = scope.parent
        while outer is not None and not outer.manual:
            outer = outer.parent
        if outer is not None:
            found.append(error(
                "E120", "an auto scope cannot be nested inside a manual scope", scope.span,
                notes=[Note("the enclosing manual scope", outer.span)],
                help=("the runtime stops with \"auto scope nested inside manual scope is not "
                      "supported\" (fatal code 5); make this scope manual, or move it out",)))
    return found
