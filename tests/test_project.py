"""Project set-up that a fresh install depends on."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "pto_dsl").rglob("__init__.py")}
    found |= {".".join(("pto_dsl", *p.parent.relative_to(ROOT).parts))
              for p in (ROOT / "backends").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert {"pto_dsl.grammar", "pto_dsl.backends"} <= listed
