"""Builds pto-dsl (the project's metadata is in pyproject.toml) and compiles the simulator's
runtime model to C extensions with mypyc where the build can.

The runtime model (pto_dsl/sim: ring, scheduler, runtime, deps, counts, tmap) runs a few
thousand Python operations per simulated task; compiled, `pto-run` spends about a third
less time in it (docs/performance.md). It is compiled when a wheel is built (a regular
`pip install .` builds one), never for an editable install, whose sources must be what
runs. The extensions are optional: without a C compiler, or with PTO_DSL_PURE=1 set, the
same modules install as Python and behave identically (tests/test_packaging.py compares
the compiled ones with the sources).
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

COMPILED = ["ring", "scheduler", "runtime", "deps", "counts", "tmap"]
# the setup.py commands that build extensions (metadata and editable builds do not)
BUILDS = {"bdist_wheel", "build", "build_ext", "install"}


def ext_modules() -> list[object]:
    if os.environ.get("PTO_DSL_PURE") or not BUILDS.intersection(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify

        # mypyc type-checks what these modules import; the build environment has no
        # stubs for the dependencies (numpy, lark), which these modules use only as Any.
        # No mypy cache: a stale one in the source tree could fail a later build.
        extensions = mypycify(["--ignore-missing-imports", "--allow-subclassing-any",
                               "--cache-dir=/dev/null",
                               *(f"pto_dsl/sim/{name}.py" for name in COMPILED)],
                              opt_level="3", separate=True)
    except Exception as exc:  # no mypy (build isolation off), or mypyc failed: Python
        print(f"pto-dsl: the runtime model stays in Python ({exc})", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # a failed compile leaves the module in Python
    return list(extensions)


setup(ext_modules=ext_modules())
