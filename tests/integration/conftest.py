"""Fixtures: a mock provider in-process, and Tollgate as a real subprocess in front of it."""

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tollgate:
    """One `tollgate serve` process on a free loopback port; stopped by PID."""

    def __init__(self, env, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.db = os.path.join(workdir, "tollgate.db")
        self.log_path = os.path.join(workdir, f"tollgate-{self.port}.log")
        full_env = dict(os.environ)
        full_env.update({
            "TOLLGATE_LISTEN": f"127.0.0.1:{self.port}",
            "TOLLGATE_DB": self.db,
            "TOLLGATE_CONNECT_TIMEOUT": "2",
            "TOLLGATE_FIRST_BYTE_TIMEOUT": "2",
            "TOLLGATE_IDLE_TIMEOUT": "2",
            "TOLLGATE_LOG_LEVEL": "debug",
        })
        full_env.update(env)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BINARY, "serve"], env=full_env, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        self._wait_ready()

    def _wait_ready(self, limit=15):
        deadline = time.time() + limit
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"tollgate exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"tollgate not ready within {limit}s:\n{self.logs()}")

    def logs(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=35):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tollgate did not stop within the drain limit after SIGTERM")
        self.log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def mock():
    server = MockProvider().start()
    yield server
    server.stop()


@pytest.fixture
def start_tollgate(mock, tmp_path):
    """Factory: start_tollgate(**env) → a running Tollgate pointed at the mock for every built-in format."""
    started = []

    def start(**env):
        base = {
            "TOLLGATE_OPENAI_BASE_URL": mock.url,
            "TOLLGATE_ANTHROPIC_BASE_URL": mock.url,
            "TOLLGATE_GEMINI_BASE_URL": mock.url,
        }
        base.update({k: str(v) for k, v in env.items()})
        workdir = tempfile.mkdtemp(dir=tmp_path)
        tg = Tollgate(base, workdir)
        started.append(tg)
        return tg

    yield start
    for tg in started:
        code = tg.stop()
        assert code == 0, f"tollgate exited {code} after SIGTERM:\n{tg.logs()[-3000:]}"


@pytest.fixture
def tollgate(start_tollgate):
    return start_tollgate()
