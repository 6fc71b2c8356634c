"""The data of the C++ backend: the jinja2 templates of the orchestration source and the
declaration-only runtime API headers (read with importlib.resources by pto_dsl.codegen)."""
