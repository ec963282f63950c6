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


@contextlib.contextmanager
def app_in_netns(
    prefix: str, data: Any, tmp: Any, port: int, chromium: Any, flags: Sequence[str],
    forbid_tracebacks: bool = False,
) -> Iterator[Any]:
    """``streamlit run app.py`` on records folder ``data`` and a headless Chromium, both inside
    a loopback-only namespace; yields the launched browser (the app at 127.0.0.1:``port``).
    ``forbid_tracebacks``: fail if the server printed one. Missing Playwright, Chromium or
    ``ip``: ``missing_prerequisite``."""
    import shutil
    import sys
    import threading
    from pathlib import Path

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_prerequisite("Playwright is not installed (pip install -e '.[test]')")
    if not Path(chromium).is_file() or shutil.which("ip") is None:
        missing_prerequisite(f"{chromium} or the 'ip' command is missing")
    root = Path(__file__).resolve().parents[1]
    with contextlib.ExitStack() as namespace:
        ns = namespace.enter_context(loopback_netns(prefix))
        wrapper = Path(tmp) / "chromium-in-netns.sh"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {ns} {chromium} "$@"\n')
        wrapper.chmod(0o755)
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(port), "--server.headless", "true",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=root, env={**os.environ, "VALGUS_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        ready = threading.Event()
        log: list[str] = []

        def pump() -> None:
            assert server.stdout is not None
            for line in server.stdout:
                log.append(line)
                if "URL:" in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        try:
            if not ready.wait(timeout=120):
                pytest.fail("streamlit did not start:\n" + "".join(log[-40:]))
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(wrapper), headless=True,
                                             args=list(flags))
                try:
                    yield browser
                finally:
                    browser.close()
            if forbid_tracebacks:
                assert not [line for line in log if "Traceback" in line], "".join(log[-80:])
        finally:
            stop_server(server)
