"""Case generators of corpus programs whose runtime test builds inputs that a written
`case` cannot spell (ramps); each returns the runtime test's tensors by entry name."""

from __future__ import annotations

import numpy as np


def scalar_data() -> dict[str, object]:
    """scalar_data's one case: a = 2.0, b = 0, 1, 2, ... (128 x 128 elements each)."""
    size = 128 * 128
    return {"N": size, "a": np.full(size, 2.0, dtype=np.float32),
            "b": np.arange(size, dtype=np.float32)}
