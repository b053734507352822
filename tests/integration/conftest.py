"""Fixtures: the mock provider in a thread of this process, and Tollgate as a real subprocess in front of it.

TOLLGATE_BIN names the binary (default: .build/debug/tollgate in the repository). Tests that need it
fail, with a message saying how to build it, when it is missing; test_mock_provider.py does not need it.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time

import httpx
import pytest

from mock_provider import MockProvider

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("TOLLGATE_BIN", os.path.join(ROOT, ".build", "debug", "tollgate"))
READY_LIMIT = 15  # seconds to wait for /healthz
STOP_LIMIT = 35  # seconds to wait for exit after SIGTERM (Tollgate drains for at most 30 s)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tollgate:
    """One `tollgate serve` on a free loopback port, its output in a log file; stopped by its PID."""

    def __init__(self, env, workdir):
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(f"no Tollgate binary at {BINARY}: run `swift build` or set TOLLGATE_BIN")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.db = os.path.join(workdir, "tollgate.db")
        self.log_path = os.path.join(workdir, "tollgate.log")
        # A developer's own TOLLGATE_* settings must not leak into the tests.
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
        full_env.update({
            "TOLLGATE_LISTEN": f"127.0.0.1:{self.port}",
            "TOLLGATE_DB": self.db,
            "TOLLGATE_CONNECT_TIMEOUT": "2",
            "TOLLGATE_FIRST_BYTE_TIMEOUT": "2",
            "TOLLGATE_IDLE_TIMEOUT": "2",
            "TOLLGATE_LOG_LEVEL": "debug",
        })
        full_env.update(env)
        self.env = full_env
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BINARY, "serve"], env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=workdir)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + READY_LIMIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"tollgate exited with {self.proc.returncode} before it was ready:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"tollgate did not answer GET /healthz with 200 within {READY_LIMIT}s:\n{self.logs()}")

    def logs(self, tail=None):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            text = f.read().decode(errors="replace")
        return text[-tail:] if tail else text

    def stop(self, timeout=STOP_LIMIT):
        """SIGTERM by PID, then a bounded wait; returns the exit code. Idempotent."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"tollgate did not exit within {timeout}s of SIGTERM:\n{self.logs(4000)}")
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL by PID (a crash); teardown then does not expect exit code 0."""
        self.killed = True
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


@pytest.fixture(scope="session")
def mock_server():
    server = MockProvider().start()
    yield server
    server.stop()


@pytest.fixture
def mock(mock_server):
    """The session's mock provider with its request records cleared for this test."""
    mock_server.reset()
    return mock_server


@pytest.fixture
def start_tollgate(mock, tmp_path, request):
    """Factory: start_tollgate(**env) → a running Tollgate whose built-in OpenAI, Anthropic and Gemini
    providers point at the mock; keyword arguments add or override environment variables. Every
    instance is stopped with SIGTERM at the end of the test and must exit 0."""
    started = []

    def start(**env):
        base = {
            "TOLLGATE_OPENAI_BASE_URL": mock.url,
            "TOLLGATE_ANTHROPIC_BASE_URL": mock.url,
            "TOLLGATE_GEMINI_BASE_URL": mock.url,
        }
        base.update({k: str(v) for k, v in env.items()})
        tg = Tollgate(base, tempfile.mkdtemp(dir=tmp_path, prefix="tollgate-"))
        started.append(tg)
        return tg

    yield start
    failed = any(getattr(request.node, "rep_" + w, None) is not None and getattr(request.node, "rep_" + w).failed
                 for w in ("setup", "call"))
    problems = []
    for tg in started:
        try:
            code = tg.stop()
        except AssertionError as e:
            problems.append(str(e))
            continue
        if failed:
            print(f"\n--- tollgate log ({tg.log_path}), last 4000 characters ---\n{tg.logs(4000)}")
        if code != 0 and not getattr(tg, "killed", False):
            problems.append(f"tollgate exited {code} after SIGTERM:\n{tg.logs(4000)}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def tollgate(start_tollgate):
    """One Tollgate with the default test settings, in front of the mock."""
    return start_tollgate()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 4 MiB tmpfs (root only, as CI runs): a database on it fills up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_up(disk):
    """Writes a file on `disk` until the filesystem has no space left. Unbuffered: a buffered
    writer would keep the bytes that did not fit and fail again on close."""
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return disk / "filler"

