"""What keeps batch runs from hurting each other: one run per output folder (``folder_lock``)
and worker processes that end with the run that started them (``die_with_parent``)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from valgus.errors import ValgusError

# The lock file in an output folder (hidden: never taken for a clip or an output).
LOCK_NAME = ".valgus-batch.lock"
# How often (s) a worker checks that its driver is still there, where the kernel cannot say.
PARENT_CHECK_S = 1.0
# linux/prctl.h
_PR_SET_PDEATHSIG = 1


class FolderBusyError(ValgusError):
    """Another ``valgus batch`` run holds the output folder."""


def _try_lock(fd: int) -> bool:
    """An exclusive lock on the open file ``fd`` without waiting; False when it is held."""
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[Path]:
    """Hold ``out_dir``'s lock (``LOCK_NAME``, 0600) while the block runs, so that a second run
    on the same folder neither removes this one's files in progress nor overwrites its results.
    The lock is the operating system's (released when the process ends, however it ends); the
    file stays, naming the last holder. Raises FolderBusyError when another run holds it,
    OSError when the folder cannot be written."""
    path = out_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            holder = ""
            with contextlib.suppress(OSError):
                os.lseek(fd, 0, os.SEEK_SET)
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            raise FolderBusyError(
                f"another valgus batch run is writing to {out_dir}"
                + (f" ({holder})" if holder else "")
                + ": wait for it to finish, or give this run another --out folder"
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode())
        yield path
    finally:
        os.close(fd)  # releases the lock


def die_with_parent(parent_pid: int) -> None:
    """End this (worker) process when the process ``parent_pid`` that started it ends, even
    when it is killed with no chance to stop its workers: on Linux the kernel sends SIGKILL
    (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread checks every ``PARENT_CHECK_S``
    that the parent is still this process's parent (an orphan is handed to another)."""
    if sys.platform.startswith("linux"):
        libc_name = ctypes.util.find_library("c")
        if libc_name:
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(libc_name, use_errno=True)
                libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="valgus-parent-watch", daemon=True).start()
