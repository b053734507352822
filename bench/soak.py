#!/usr/bin/env python3
"""Soak test: a release Tollgate in front of the integration suite's mock provider, under mixed traffic for
minutes, to catch what a short test cannot: slow leaks of memory, file descriptors, upstream transfers
or budget reservations, and usage events lost or counted twice.

Usage (from the repository root; the venv from `make venv` has everything, plain python3 works too):

    swift build -c release
    .venv/bin/python bench/soak.py                      # 10 minutes, .build/release/tollgate
    .venv/bin/python bench/soak.py --minutes 2 --binary /tmp/faults-bin/tollgate --concurrency 32

It starts the mock (tests/integration/mock_provider.py, in a thread of this process) and Tollgate
(`tollgate serve`, a subprocess) on free 127.0.0.1 ports with a throw-away database, creates an org, a
client key under a generous budget and a key whose budget is spent (every request refused), then runs
`--concurrency` clients back to back:

    30 %  JSON chat completion                     15 %  stream, client leaves after 1-3 events
    25 %  stream read to the end                     5 %  client leaves before the response head
    15 %  cache on, one of 20 bodies (mostly hits)   5 %  Anthropic messages (JSON)
     5 %  the refused key (429 budget_exceeded)

Every 30 s it prints progress; at the end, once nothing is in flight: requests sent and usage events
recorded, RSS at start (after a warm-up) and end with the growth, open file descriptors at start and end,
`tollgate_upstream_transfers_active`, `tollgate_requests_in_flight` and the budget's `reserved_usd`. Exit
status 1 when events != requests, something is left in flight or reserved, or Tollgate died.
Every process it starts is stopped by PID (SIGTERM, then SIGKILL after 40 s).
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from mock_provider import MockProvider  # noqa: E402

ADMIN = "soak-admin-key"
PROVIDER_KEYS = {"TOLLGATE_OPENAI_API_KEY": "sk-soak-openai", "TOLLGATE_ANTHROPIC_API_KEY": "sk-ant-soak",
                 "TOLLGATE_GEMINI_API_KEY": "AIza-soak"}
GAUGES = ("tollgate_upstream_transfers_active", "tollgate_requests_in_flight")
MIX = [("json", 30), ("stream", 25), ("cache", 15), ("abort_events", 15), ("abort_head", 5),
       ("anthropic", 5), ("refused", 5)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tollgate:
    def __init__(self, binary, mock_url, workdir, flush_ms):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(workdir, "tollgate.db")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
        env.update({"TOLLGATE_LISTEN": f"127.0.0.1:{self.port}", "TOLLGATE_DB": self.db, "TOLLGATE_ADMIN_KEY": ADMIN,
                    "TOLLGATE_OPENAI_BASE_URL": mock_url, "TOLLGATE_ANTHROPIC_BASE_URL": mock_url,
                    "TOLLGATE_GEMINI_BASE_URL": mock_url, "TOLLGATE_FLUSH_MS": str(flush_ms),
                    "TOLLGATE_FIRST_BYTE_TIMEOUT": "20", "TOLLGATE_IDLE_TIMEOUT": "20", "TOLLGATE_LOG_LEVEL": "info",
                    **PROVIDER_KEYS})
        self.log_path = os.path.join(workdir, "tollgate.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "serve"], env=env, cwd=workdir, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"tollgate exited with {self.proc.returncode} at start; log: {self.log_path}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"tollgate did not answer /healthz within 30 s; log: {self.log_path}")
            time.sleep(0.1)

    def call(self, method, path, body=None, token=ADMIN):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path):
        return self.call("GET", path)

    def admin(self, method, path, body=None, expect=(200, 201)):
        status, data = self.call(method, path, body)
        if status not in expect:
            raise SystemExit(f"{method} {path} → {status}: {data[:300]!r}")
        return json.loads(data)

    def metrics(self):
        status, data = self.get("/metrics")
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                head, _, value = line.rpartition(" ")
                name = head.split("{", 1)[0]
                out[name] = out.get(name, 0.0) + float(value)
        return out

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


class Traffic:
    """The clients: raw HTTP/1.1, one connection per request (Connection: close), so a client that
    leaves is exactly a socket closed by this process."""

    def __init__(self, tg, key, refused_key, seed):
        self.tg = tg
        self.key = key
        self.refused_key = refused_key
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sent = 0
        self.results = {}
        self.errors = []
        self.kinds = [k for k, w in MIX for _ in range(w)]

    def note(self, what):
        with self.lock:
            self.results[what] = self.results.get(what, 0) + 1

    def one(self, rng):
        kind = rng.choice(self.kinds)
        token = self.refused_key if kind == "refused" else self.key
        headers = {"Authorization": f"Bearer {token}"}
        path = "/openai/v1/chat/completions"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"soak {rng.random()}"}]}
        if kind in ("stream", "abort_events", "abort_head"):
            body["stream"] = True
            headers["X-Mock-Interval-Ms"] = "20"
        if kind == "abort_head":
            headers["X-Mock-Delay-Ms"] = "500"
        if kind == "cache":
            headers["X-Tollgate-Cache"] = "on"
            body["messages"][0]["content"] = f"cached prompt {rng.randrange(20)}"
            body["stream"] = rng.random() < 0.5
        if kind == "anthropic":
            path = "/anthropic/v1/messages"
            body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": body["messages"]}
            headers = {"x-api-key": token, "anthropic-version": "2023-06-01"}
        data = json.dumps(body).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{self.tg.port}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", "Connection: close"] + [f"{k}: {v}" for k, v in headers.items()]
        s = socket.create_connection(("127.0.0.1", self.tg.port), timeout=60)
        try:
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            with self.lock:
                self.sent += 1
            if kind == "abort_head":
                time.sleep(0.1)  # the client's patience: it leaves while the provider thinks
                self.note("left before head")
                return
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed before the head ({kind})")
                got += chunk
            status = int(got.split(b" ", 2)[1])
            if kind == "abort_events":
                want = rng.randint(1, 3)
                while got.count(b"\n\n") < want + 1:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                self.note("left mid-stream")
                return
            while chunk := s.recv(65536):
                pass
            self.note(f"{kind} {status}")
        finally:
            s.close()

    def worker(self, stop, seed):
        rng = random.Random(seed)
        while not stop.is_set():
            try:
                self.one(rng)
            except Exception as e:  # noqa: BLE001 - counted and shown
                with self.lock:
                    self.errors.append(repr(e))
                self.note("client error")


def wait_quiet(tg, timeout=60):
    """Waits until nothing is in flight (where the gauges exist) and the writer has nothing pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = tg.metrics()
        if all(m.get(g, 0) == 0 for g in GAUGES) and m.get("tollgate_usage_writer_pending_events", 0) == 0:
            return True
        time.sleep(0.2)
    return False


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10, help="how long to run the traffic (default 10)")
    p.add_argument("--binary", default=os.environ.get("TOLLGATE_BIN", os.path.join(ROOT, ".build", "release", "tollgate")),
                   help="the tollgate binary (default $TOLLGATE_BIN or .build/release/tollgate)")
    p.add_argument("--concurrency", type=int, default=16, help="clients sending back to back (default 16)")
    p.add_argument("--warmup", type=float, default=15, help="seconds of traffic before the start figures (default 15)")
    p.add_argument("--flush-ms", type=int, default=100, help="TOLLGATE_FLUSH_MS (default 100)")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--keep", action="store_true", help="keep the database and log directory")
    args = p.parse_args(argv)
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"no tollgate binary at {args.binary}: `swift build -c release`, or pass --binary")

    workdir = tempfile.mkdtemp(prefix="tollgate-soak-")
    mock = MockProvider(max_records=1000).start()
    tg = Tollgate(args.binary, mock.url, workdir, args.flush_ms)
    stop = threading.Event()
    threads = []
    ok = True
    try:
        tg.admin("POST", "/admin/orgs", {"id": "soak", "name": "Soak"})
        key = tg.admin("POST", "/admin/keys", {"org": "soak", "name": "soak"})
        budget = tg.admin("POST", "/admin/budgets", {"scope": "key", "scope_id": key["id"], "org": "soak",
                                                     "limit_usd": 100000, "period": "total"})
        refused = tg.admin("POST", "/admin/keys", {"org": "soak", "name": "spent"})
        tg.admin("POST", "/admin/budgets", {"scope": "key", "scope_id": refused["id"], "org": "soak",
                                            "limit_usd": 0, "period": "total"})
        traffic = Traffic(tg, key["key"], refused["key"], args.seed)
        print(f"soak: {args.binary} on {tg.url}, mock on {mock.url}, {args.concurrency} clients, "
              f"{args.minutes:g} min after a {args.warmup:g} s warm-up; work dir {workdir}", flush=True)
        rss_launch, fds_launch = tg.rss_kib(), tg.fds()
        for i in range(args.concurrency):
            t = threading.Thread(target=traffic.worker, args=(stop, args.seed * 1000 + i), daemon=True)
            t.start()
            threads.append(t)
        time.sleep(args.warmup)
        rss_start, fds_start = tg.rss_kib(), tg.fds()
        started = time.monotonic()
        end = started + args.minutes * 60
        next_report = started + 30
        while time.monotonic() < end and tg.alive():
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            if time.monotonic() >= next_report:
                next_report += 30
                m = tg.metrics()
                print(f"  {time.monotonic() - started:6.0f} s  sent {traffic.sent}  RSS {tg.rss_kib()} KiB  "
                      f"fds {tg.fds()}  in flight {m.get('tollgate_requests_in_flight', 'n/a')}  "
                      f"transfers {m.get('tollgate_upstream_transfers_active', 'n/a')}  "
                      f"writer pending {m.get('tollgate_usage_writer_pending_events', 'n/a')}  "
                      f"client errors {len(traffic.errors)}", flush=True)
        stop.set()
        for t in threads:
            t.join(90)
        if not tg.alive():
            print(f"FAIL: tollgate died with {tg.proc.returncode}; log {tg.log_path}")
            return 1
        quiet = wait_quiet(tg)
        m = tg.metrics()
        stats = tg.admin("GET", "/admin/stats?from=7d")
        events = stats["requests"]
        reserved = tg.admin("GET", f"/admin/budgets/{budget['id']}")["reserved_usd"]
        rss_end, fds_end = tg.rss_kib(), tg.fds()
        growth = (rss_end - rss_start) / rss_start * 100
        print("\nresults")
        print(f"  requests sent              {traffic.sent}")
        print(f"  usage events recorded      {events}" + ("" if events == traffic.sent else "   <-- MISMATCH"))
        print(f"  client outcomes            {dict(sorted(traffic.results.items()))}")
        if traffic.errors:
            print(f"  client errors              {len(traffic.errors)}, e.g. {traffic.errors[:3]}")
        print(f"  RSS                        launch {rss_launch} KiB, start {rss_start} KiB, end {rss_end} KiB, "
              f"growth {growth:+.1f} %")
        print(f"  open fds                   launch {fds_launch}, start {fds_start}, end {fds_end}")
        for g in GAUGES:
            print(f"  {g:<34} {m[g]:g}" if g in m else f"  {g:<34} MISSING from /metrics")
        print(f"  writer pending events      {m.get('tollgate_usage_writer_pending_events', 'n/a')}")
        print(f"  budget reserved_usd        {reserved}")
        ok = (events == traffic.sent and quiet and all(m.get(g) == 0 for g in GAUGES) and reserved == 0)
        print("\nverdict: " + ("OK" if ok else "FAIL"))
        return 0 if ok else 1
    finally:
        stop.set()
        code = tg.stop()
        mock.stop()
        if code not in (0, None):
            print(f"tollgate exited {code} after SIGTERM; log {tg.log_path}")
        if args.keep or not ok:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
