"""Writing output files: atomically, with the usual permissions, never half a file.

Every tool writes its outputs through `write_atomic`: the data goes to a temporary file in
the target's directory, which is then renamed over the target, so a reader never sees a
partial file and a failure leaves the previous file (or none) in place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Content = bytes | str | Callable[[BinaryIO], object]


def write_atomic(path: Path, content: Content) -> None:
    """Write `content` (bytes, UTF-8 text, or a function writing to a binary file) to
    `path`. OSError propagates: the caller says what could not be written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, str):
                out.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                out.write(content)
            else:
                content(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
