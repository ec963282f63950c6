"""Writing output files so that each is either complete or absent (batch results, reports)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

# Temporary files of an atomic write start with this; a killed process can leave some behind
# (``valgus batch`` removes them from its output folder when it starts).
PARTIAL_PREFIX = ".valgus-partial-"


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``: a temporary file in the same folder, flushed to disk, then
    renamed over ``path``, so a crash or a full disk never leaves half a file. Raises OSError
    (the temporary file removed)."""
    fd, tmp = tempfile.mkstemp(prefix=PARTIAL_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
