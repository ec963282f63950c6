"""The app makes no network connection and listens only on loopback (issue 14, point 1).

``streamlit run app.py`` is started exactly as a user starts it (no ``--server.address``: the
project's ``.streamlit/config.toml`` decides) inside a network namespace that has only loopback,
under ``strace -f -e trace=connect``. The test loads the page and the health endpoint, then
checks that the server listened only on 127.0.0.1 and that no process of the app tried to
connect anywhere over IP (a public-IP lookup, a DNS query, usage statistics would all show as a
``connect`` to a non-loopback address or to port 53). Skips locally without ``ip``/``strace`` or
the rights to make a namespace; fails in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netns import loopback_netns, missing_prerequisite, run, stop_server

ROOT = Path(__file__).resolve().parents[2]
PORT = 8511
START_TIMEOUT_S = 120.0
# connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16)
INET_CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((?P<port>\d+)\), "
    r"(?:sin_addr=inet_addr\(\"(?P<v4>[^\"]+)\"\)|.*?inet_pton\(AF_INET6, \"(?P<v6>[^\"]+)\")"
)


@pytest.fixture
def netns() -> Iterator[str]:
    """A new network namespace with only the loopback interface, up."""
    for tool in ("ip", "strace", "ss"):
        if shutil.which(tool) is None:
            missing_prerequisite(f"the '{tool}' command is missing (Debian: iproute2, strace)")
    with loopback_netns("valgus-net") as ns:
        yield ns


def _fetch(ns: str, path: str) -> str:
    """GET http://127.0.0.1:PORT/path from inside the namespace (not traced)."""
    code = ("import urllib.request,sys;"
            f"print(urllib.request.urlopen('http://127.0.0.1:{PORT}{path}', timeout=10)"
            ".read().decode('utf-8', 'replace'))")
    proc = run("ip", "netns", "exec", ns, sys.executable, "-c", code)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def outbound_attempts(trace: str) -> list[str]:
    """The ``connect`` calls in an strace log that go over IP to anything but loopback, or to
    a DNS server (port 53) wherever it is."""
    found = []
    for line in trace.splitlines():
        m = INET_CONNECT.search(line)
        if m is None:
            continue
        addr = m["v4"] or m["v6"] or ""
        loopback = addr.startswith("127.") or addr in ("::1", "::ffff:127.0.0.1")
        if not loopback or m["port"] == "53":
            found.append(line.strip())
    return found


def test_outbound_attempts_finds_lookups_and_ignores_loopback() -> None:
    trace = "\n".join([
        '123 connect(5, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH',
        '124 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2600::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
        '125 connect(7, {sa_family=AF_INET, sin_port=htons(8501), '
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '126 connect(8, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0',
    ])
    assert [line.split()[0] for line in outbound_attempts(trace)] == ["123", "124"]


def test_app_listens_on_loopback_only_and_makes_no_outbound_connection(
    netns: str, tmp_path: Path
) -> None:
    trace = tmp_path / "connect.trace"
    log = tmp_path / "server.log"
    env = {**os.environ, "VALGUS_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("STREAMLIT_SERVER_ADDRESS", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            ["ip", "netns", "exec", netns, "strace", "-f", "-qq", "-e", "trace=connect",
             "-o", str(trace), sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(PORT), "--server.headless", "true",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "URL:" not in log.read_text():
            assert server.poll() is None, "streamlit exited:\n" + log.read_text()
            assert time.monotonic() < deadline, "streamlit did not start:\n" + log.read_text()
            time.sleep(0.5)
        assert "ok" in _fetch(netns, "/_stcore/health")
        assert "<html" in _fetch(netns, "/").lower()
        # Give start-up work that runs in the background (an IP lookup) time to show.
        time.sleep(5)
        listening = run("ip", "netns", "exec", netns, "ss", "-H", "-ltnu").stdout
        local = [line.split()[4] for line in listening.splitlines() if line.strip()]
        shown = log.read_text()
    finally:
        stop_server(server, wait_s=30)
    attempts = outbound_attempts(trace.read_text())
    assert attempts == [], "the app tried to reach the network:\n" + "\n".join(attempts)
    assert local, "nothing listens in the namespace"
    assert all(a.startswith("127.0.0.1:") for a in local), f"listens on {local}"
    assert "Network URL" not in shown and "External URL" not in shown, shown
