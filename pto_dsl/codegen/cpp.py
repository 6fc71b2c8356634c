"""The C++ backend: a checked program -> orchestration source for the PTO2 runtime.

`generate` lowers the structured program to the view model (`cpp_lower`) and lays it out
with the jinja2 template; `interface_header` gives this project's declarations of the
dialect's runtime API, against which every generated file must compile.
"""

from __future__ import annotations

import functools
from importlib import resources

import jinja2

from pto_dsl import ir

from .cpp_lower import lower_program
from .cpp_model import FileView
from .dialect_table import API_HEADER, CPP_DIALECTS, CppDialect

__all__ = ["API_HEADER", "CPP_DIALECTS", "generate", "interface_header", "view_model"]


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pto_dsl.backends", "templates"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False)


def view_model(program: ir.Program, dialect: str, source_name: str,
               tool: str = "pto-compile") -> FileView:
    return lower_program(program, CPP_DIALECTS[dialect], source_name, tool)


def generate(program: ir.Program, dialect: str, source_name: str,
             tool: str = "pto-compile") -> str:
    """The orchestration .cpp; raises CompileError for what C++ cannot express."""
    model = view_model(program, dialect, source_name, tool)
    return _environment().get_template("orchestration.cpp.j2").render(f=model)


def interface_header(dialect: str | CppDialect) -> str:
    """This project's declaration-only header for one dialect, self-contained (the shared
    part inlined), to be installed as pto_orchestration_api.h (see docs/compile.md)."""
    row = CPP_DIALECTS[dialect] if isinstance(dialect, str) else dialect
    include = resources.files("pto_dsl.backends").joinpath("include")
    text = include.joinpath(row.header).read_text(encoding="utf-8")
    common = include.joinpath(_COMMON).read_text(encoding="utf-8").replace(
        "#pragma once\n", "", 1)
    return text.replace(f'#include "{_COMMON}"\n', common, 1)


_COMMON = "pto2_api_common.h"
