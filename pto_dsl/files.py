"""Reading and writing the files of a run: outputs never half written, never onto an input,
never renamed over a device.

Every file a run reads (the program, kernel modules, case generators, goldens, --inputs,
deps.json) is recorded with `note_read`; every output goes through `check_output` before the
run (so a bad path fails in a second, not after a long run) and `write_atomic` after it.
A regular file is written to a temporary file in its directory and renamed over the target,
so a reader never sees a partial file; a character device or FIFO is written in place (a
rename would replace `/dev/null` with a regular file); other kinds of file are refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

Content = bytes | str | Callable[[BinaryIO], object]

FIFO_GRACE_S = 2.0  # how long a FIFO output waits for its reader to open it
_READ: dict[tuple[int, int], Path] = {}  # (st_dev, st_ino) of each file read -> its path


class OutputError(Exception):
    """An output path that must not be written (an input, a directory, a block device...)."""


@contextlib.contextmanager
def run_scope() -> Iterator[None]:
    """One tool run: the files read are those of this run only (tests run many in-process)."""
    saved = dict(_READ)
    _READ.clear()
    try:
        yield
    finally:
        _READ.clear()
        _READ.update(saved)


def note_read(path: Path | str | None) -> None:
    """Record that this run reads `path` (identified by device and inode, so a hard link, a
    symlink or another spelling of it is the same file)."""
    if path is None:
        return
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return
    if stat.S_ISREG(st.st_mode):
        _READ.setdefault((st.st_dev, st.st_ino), Path(path))


def check_output(path: Path, what: str, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output path that is a file this run reads (or `inputs`, read later), a
    directory or another non-writable kind of file, or whose directory does not exist or
    cannot be written. `what` names the option in the message ("-o out.cpp")."""
    for extra in inputs:
        note_read(extra)
    st = _stat(path)
    if st is None:
        parent = path.parent
        if not parent.is_dir():
            raise OutputError(f"{what}: directory '{parent}' does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{what}: cannot write in directory '{parent}': "
                              "permission denied")
        return
    _refuse_input(path, st, what)
    _refuse_kind(path, st, what)
    if not os.access(path, os.W_OK):
        raise OutputError(f"{what}: cannot write '{path}': permission denied")
    if stat.S_ISREG(st.st_mode) and not os.access(path.resolve().parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what}: cannot replace '{path}': its directory is not writable")


def check_distinct(outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Two outputs of one run must not be the same file."""
    seen: dict[object, str] = {}
    for what, path in outputs:
        if path is None:
            continue
        st = _stat(path)
        key: object = (st.st_dev, st.st_ino) if st else os.path.realpath(path)
        if key in seen:
            raise OutputError(f"{what}: the same file as {seen[key]}")
        seen[key] = what


def write_atomic(path: Path, content: Content) -> None:
    """Write `content` (bytes, UTF-8 text, or a function writing to a binary file) to
    `path`; OutputError naming the path if it must not or cannot be written."""
    try:
        _write(path, content)
    except OSError as exc:
        raise OutputError(f"cannot write '{path}': {exc.strerror or exc}") from None


def _write(path: Path, content: Content) -> None:
    st = _stat(path)
    if st is not None:
        _refuse_input(path, st, str(path))
        _refuse_kind(path, st, str(path))
        if not stat.S_ISREG(st.st_mode):
            _write_in_place(path, content)
            return
    target = Path(os.path.realpath(path))  # through a symlink: replace the file it names
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, (st.st_mode & 0o7777) if st else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as out:
            _put(out, content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_in_place(path: Path, content: Content) -> None:
    """A character device or a FIFO: open it as it is. A FIFO without a reader is an error
    (ENXIO from the non-blocking open) after a short grace for a reader being started, not a
    wait for a reader that may never come."""
    deadline = time.monotonic() + FIFO_GRACE_S
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if time.monotonic() >= deadline:
                raise OutputError(f"cannot write '{path}': it is a FIFO with no reader") \
                    from None
            time.sleep(0.05)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as out:
        _put(out, content)


def _put(out: BinaryIO, content: Content) -> None:
    if isinstance(content, str):
        out.write(content.encode("utf-8"))
    elif isinstance(content, bytes):
        out.write(content)
    else:
        content(out)


def _refuse_input(path: Path, st: os.stat_result, what: str) -> None:
    read = _READ.get((st.st_dev, st.st_ino))
    if read is not None:
        same = "" if os.path.realpath(read) == os.path.realpath(path) else f" ({read})"
        raise OutputError(f"{what}: '{path}' is a file this run reads{same}; "
                          "choose another output name")


def _refuse_kind(path: Path, st: os.stat_result, what: str) -> None:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise OutputError(f"{what}: '{path}' is a directory; name the output file")
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) \
            else "not a regular file"
        raise OutputError(f"{what}: '{path}' is {kind}; pto-dsl writes only regular files, "
                          "character devices and FIFOs")


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(f"cannot write '{path}': {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
