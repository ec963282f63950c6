"""What the app tests that run a real server share: a network namespace with only loopback (so
nothing leaves the machine), a command runner, stopping the server's process group, and the rule
for a missing prerequisite (skip locally, fail in CI where these tests must run)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest


def missing_prerequisite(reason: str) -> None:
    """Skip locally; fail in CI, where the tests that need a browser or a namespace must run."""
    if os.environ.get("CI"):
        pytest.fail(f"test cannot run in CI: {reason}")
    pytest.skip(reason)


def run(*cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


@contextlib.contextmanager
def loopback_netns(prefix: str, extra_addresses: Sequence[str] = ()) -> Iterator[str]:
    """A new network namespace named ``prefix-<random>`` with only the loopback interface, up,
    plus ``extra_addresses`` on it (e.g. ``127.0.0.2/8``); deleted afterwards."""
    ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
    cmds = [("ip", "netns", "add", ns), ("ip", "-n", ns, "link", "set", "lo", "up")]
    cmds += [("ip", "-n", ns, "addr", "add", a, "dev", "lo") for a in extra_addresses]
    for cmd in cmds:
        proc = run(*cmd)
        if proc.returncode != 0:
            run("ip", "netns", "del", ns)
            missing_prerequisite(f"cannot set up a network namespace ({' '.join(cmd)}: "
                                 f"{proc.stderr.strip()}); needs root or CAP_SYS_ADMIN")
    try:
        yield ns
    finally:
        run("ip", "netns", "del", ns)


def stop_server(proc: subprocess.Popen[Any], wait_s: float = 20) -> None:
    """Stop a server started in a session of its own: SIGTERM to its process group, then
    SIGKILL if it is still there after ``wait_s`` seconds."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=wait_s)
