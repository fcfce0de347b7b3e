"""Files written whole: a reader finds the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def read_bytes(path: Path | str, limit: int | None = None) -> tuple[int, bytes]:
    """A file's size and its bytes (none when it is larger than ``limit``), with half the overhead
    of Path.stat and Path.read_bytes (one open, no buffered file object): it counts over 10,000
    small files."""
    handle = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(handle).st_size
        if limit is not None and size > limit:
            return size, b""
        chunks = []
        while chunk := os.read(handle, 1 << 20):
            chunks.append(chunk)
        return size, b"".join(chunks)
    finally:
        os.close(handle)


def folders_holding(files: Iterable[str]) -> set[str]:
    """The folders that hold these files (relative paths with "/"), however deep; "" is the one they
    are relative to."""
    found = {""}
    for folder in {file.rpartition("/")[0] for file in files}:
        while folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return found


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
