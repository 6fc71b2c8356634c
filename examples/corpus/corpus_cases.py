"""Case generators of the corpus programs whose inputs the runtime's tests compute."""

from __future__ import annotations

import numpy as np


def prefetch_copy() -> dict[str, object]:
    n = 128
    return {"N": n, "src": np.arange(n, dtype=np.float32) / 8,
            "out": np.full(n, -1.0, dtype=np.float32)}
