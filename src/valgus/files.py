"""Writing output files so that each is either complete or absent and private (0600 files, 0700
folders: ``analyze --out``, batch results, reports), and CSV cells that a spreadsheet reads as
text, never as a formula (``csv_cell``), and text with its control characters escaped
(``printable``: for the terminal and for CSV cells); the sha256 of a file (``sha256_file``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

# Temporary files of an atomic write start with this; a killed process can leave some behind
# (``valgus batch`` removes them from its output folder when it starts).
PARTIAL_PREFIX = ".valgus-partial-"

# A cell starting with one of these is a formula (or can start one) in Excel, LibreOffice and
# Google Sheets; OWASP's "CSV injection" list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A number as valgus writes it (e.g. "-3.2000", "1e-05", "nan"): left as it is, it is data.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf)", re.IGNORECASE)


# C0 controls, DEL and C1 controls: ESC starts a terminal escape sequence, CR rewrites the line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

_HASH_CHUNK = 1 << 20


def printable(text: str) -> str:
    """``text`` with each control character written out (``\\x1b``, ``\\n``, ``\\t``), so a clip
    name or message printed on a terminal or put in a CSV cannot move the cursor, recolour the
    screen or inject escape sequences. Other text is left as it is."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as typed: control characters escaped
    (``printable``), then text starting with ``FORMULA_START`` (user text such as clip names,
    person codes, reasons) gets a leading apostrophe, so ``=HYPERLINK(...)`` stays text.
    Numbers, and text that is a number (``-3.2``), are left as they are: a negative FPPA stays
    a number. The one rule for every CSV valgus writes."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(values: Mapping[str, object]) -> dict[str, object]:
    """``csv_cell`` on every value of a ``csv.DictWriter`` row."""
    return {key: csv_cell(value) for key, value in values.items()}


def private_dir(path: Path) -> Path:
    """``path`` as a folder, each folder made here made 0700 (whatever the umask); folders that
    are there already are left as they are. Raises OSError."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``: a temporary file in the same folder, flushed to disk, then
    renamed over ``path``, so a crash or a full disk never leaves half a file. The file is 0600
    (``mkstemp``). Raises OSError (the temporary file removed)."""
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


def sha256_file(path: Path) -> str:
    """sha256 (hex) of a file's content, read in chunks (never whole into memory). Raises
    OSError."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
