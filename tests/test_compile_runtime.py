"""Optional: the generated code compiles against a real checkout of the runtime
(hw-native-sys/simpler) when PTO_SIMPLER_ROOT points at one. The dialect follows the
checkout: `pto2_rt_submit_*` in its orchestration header means v0, otherwise current."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_compile_support import (
    CONSTRUCTS,
    EXAMPLES,
    GXX,
    GXX_FLAGS,
    compile_file,
    expressible,
    golden_name,
)

ROOT_VAR = "PTO_SIMPLER_ROOT"
TMR = Path("src/a2a3/runtime/tensormap_and_ringbuffer")
# Include folders of an orchestration build (reference §1.1), plus the platform headers.
INCLUDES = [TMR / "orchestration", TMR / "runtime", TMR / "common",
            Path("src/common/task_interface"), Path("src/a2a3/platform/include"),
            Path("src/common/platform/include")]


def _checkout() -> Path:
    value = os.environ.get(ROOT_VAR)
    if not value:
        pytest.skip(f"{ROOT_VAR} is not set: set it to a checkout of hw-native-sys/simpler "
                    "to compile the generated code against the real runtime headers")
    root = Path(value)
    if not (root / TMR / "orchestration" / "pto_orchestration_api.h").is_file():
        pytest.fail(f"{ROOT_VAR}={root} is not a simpler checkout: no {TMR}/orchestration/"
                    "pto_orchestration_api.h")
    if GXX is None:
        pytest.skip("g++ is not installed")
    return root


def test_compiles_against_the_real_runtime(tmp_path: Path) -> None:
    root = _checkout()
    api = (root / TMR / "orchestration" / "pto_orchestration_api.h").read_text("utf-8")
    dialect = "v0" if "pto2_rt_submit_aic_task" in api else "current"
    sources = []
    for path in [p for p in [*EXAMPLES, *CONSTRUCTS] if expressible(p, dialect)]:
        out = tmp_path / golden_name(path, dialect)
        out.write_text(compile_file(path, dialect), encoding="utf-8")
        sources.append(str(out))
    includes = [f"-I{root / d}" for d in INCLUDES if (root / d).is_dir()]
    assert GXX is not None
    result = subprocess.run([GXX, *GXX_FLAGS, *includes, *sources], capture_output=True,
                            text=True, check=False, timeout=600)
    assert result.returncode == 0, f"dialect {dialect}:\n{result.stderr[-4000:]}"
