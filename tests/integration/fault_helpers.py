"""Helpers for the fault-injection suite (issue 12, "every request settled exactly once").

`Faults` is one Tollgate in front of the mock with a Tollgate key that has a budget, so every
request it makes holds a reservation. `Faults.settled(...)` asserts the four invariants every
fault case ends with:

  1. the process lives: `GET /healthz` answers 200;
  2. exactly one usage event per request: the key has exactly `total` events (none lost, none
     twice), the request's event (by its X-Tollgate-Request-Id, else the newest) has the expected
     outcome, `tollgate_requests_total` counts every event once and the writer saw no duplicate;
  3. the budget's `reserved_usd` is back to 0;
  4. nothing is left in flight: `tollgate_requests_in_flight 0` and
     `tollgate_upstream_transfers_active 0` on /metrics (a missing series is a failure).

Everything asynchronous (the writer's flush, settlement, the gauges) is polled with a deadline.
Raw-socket helpers give the tests exact control of the client side of a connection.
"""

import json
import os
import socket
import time
from decimal import Decimal

import anthropic
import httpx
import openai

from access_helpers import start

# Invariant 4 on or off. Tests never change it; it exists so a local run against a binary that
# lacks the two gauges can check the other invariants (see the report in test_faults.py).
CHECK_GAUGES = os.environ.get("FAULTS_SKIP_GAUGES") != "1"
IN_FLIGHT_GAUGES = ("tollgate_requests_in_flight", "tollgate_upstream_transfers_active")

SETTLE_LIMIT = 5.0  # seconds for an event / settlement to show up after the client has its answer
ABORT_LIMIT = 3.0  # seconds from a client's close to its client_abort event and the upstream close
MODEL = "gpt-4o-mini"  # priced: its requests reserve budget
MSG = [{"role": "user", "content": "Say hi"}]
ORG = "faults"


def wait_for(condition, timeout, interval=0.05):
    """Polls condition() until truthy (returned) or the deadline passes (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def parse_metrics(text):
    """Prometheus text → {name: [(labels text, float)]}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        out.setdefault(name, []).append((labels.rstrip("}"), float(value)))
    return out


def metric_sum(metrics, name):
    return sum(v for _, v in metrics.get(name, []))


class Faults:
    """One Tollgate (admin key, provider credentials, 50 ms flush) with org `faults`, a client key
    and a generous total budget on that key."""

    def __init__(self, start_tollgate, mock, limit_usd=1000, **env):
        self.tg, self.admin = start(start_tollgate, **env)
        self.mock = mock
        self.admin.create_org(ORG)
        self.key = self.admin.create_key(ORG, name="faults")
        self.secret = self.key["key"]
        self.budget = self.admin.create_budget(scope="key", scope_id=self.key["id"], org=ORG,
                                               limit_usd=limit_usd, period="total")

    # -- clients ---------------------------------------------------------------------------------------
    @property
    def url(self):
        return self.tg.url

    def auth(self, **extra):
        return {"Authorization": f"Bearer {self.secret}", **extra}

    def openai(self, **kw):
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 30)
        return openai.OpenAI(base_url=self.url + "/openai/v1", api_key=self.secret, **kw)

    def anthropic(self, **kw):
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 30)
        return anthropic.Anthropic(base_url=self.url + "/anthropic", api_key=self.secret, **kw)

    def chat_body(self, stream=False, content="Say hi", **extra):
        body = {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}
        if stream:
            body["stream"] = True
        return body

    # -- state -----------------------------------------------------------------------------------------
    def metrics(self):
        r = httpx.get(self.url + "/metrics", timeout=15)
        assert r.status_code == 200, r.text
        return parse_metrics(r.text)

    def gauge(self, name):
        """A gauge's value, or None when /metrics has no such series."""
        m = self.metrics()
        return metric_sum(m, name) if name in m else None

    def events(self):
        """The key's usage events, newest first (the newest 1000)."""
        return self.admin.call("GET", "/admin/usage", params={"key": self.key["id"], "limit": 1000})["data"]

    def all_events(self):
        """Every usage event of the key, page by page."""
        out, cursor = [], None
        while True:
            params = {"key": self.key["id"], "limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = self.admin.call("GET", "/admin/usage", params=params)
            out += page["data"]
            cursor = page.get("next_cursor")
            if not cursor or not page["data"]:
                return out

    def count(self):
        """How many usage events the key has (from /admin/stats, so beyond one page too)."""
        return self.admin.stats(key=self.key["id"])["requests"]

    def newest_event(self, within):
        """Polls until the key has an event; returns the newest (None if none within the deadline)."""
        found = wait_for(lambda: self.events()[:1], within)
        return found[0] if found else None

    def all_requests(self):
        return self.admin.stats()["requests"]

    def reserved(self):
        return self.admin.budget(self.budget["id"])["reserved_usd"]

    def rss_kib(self):
        with open(f"/proc/{self.tg.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc/<pid>/status")

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.tg.proc.pid}/fd"))

    def alive(self):
        assert self.tg.proc.poll() is None, f"tollgate died (exit {self.tg.proc.returncode}):\n{self.tg.logs(3000)}"
        r = httpx.get(self.url + "/healthz", timeout=10)
        assert r.status_code == 200, f"GET /healthz → {r.status_code}"

    def wait_in_flight(self, n, timeout=3.0):
        """Polls tollgate_requests_in_flight until it reaches n (the gauge is part of the contract)."""
        if not CHECK_GAUGES:
            time.sleep(0.3)  # local runs without the gauge: the client's think time stands in for it
            return
        assert self.gauge("tollgate_requests_in_flight") is not None, "/metrics has no tollgate_requests_in_flight series"
        value = wait_for(lambda: (self.gauge("tollgate_requests_in_flight") or 0) >= n, timeout)
        assert value, (f"tollgate_requests_in_flight did not reach {n} within {timeout}s "
                       f"(now {self.gauge('tollgate_requests_in_flight')})")

    # -- the invariants --------------------------------------------------------------------------------
    def settled(self, outcome, request_id=None, total=1, within=SETTLE_LIMIT, status=None):
        """Asserts the four invariants after a test's `total` requests with the key; returns the event
        of `request_id` (else the newest) so the test can check more of it."""
        self.alive()
        # 2. the event arrives (polled), with the right outcome
        if not wait_for(lambda: self.count() >= total, within):
            got = self.events()
            raise AssertionError(
                f"{len(got)} usage events for the key within {within}s, expected {total}; "
                f"so far {summary(got)}")
        events = self.events()
        if request_id is not None:
            mine = [e for e in events if e["request_id"] == request_id]
            assert len(mine) == 1, f"{len(mine)} events with request id {request_id}: {summary(events)}"
            event = mine[0]
        else:
            event = events[0]
        print(f"settled: {summary([event])[0]} tokens {tokens(event)} cached {event.get('cached')}")
        outcomes = (outcome,) if isinstance(outcome, str) else tuple(outcome)
        assert event["outcome"] in outcomes, \
            f"outcome {event['outcome']!r}, expected {' or '.join(outcomes)} (status {event['status']}, error {event.get('error')!r})"
        if status is not None:
            assert event["status"] == status, f"status {event['status']}, expected {status}: {summary([event])}"
        # 3. the reservation is settled
        reserved = wait_for(lambda: self.reserved() == 0, SETTLE_LIMIT)
        assert reserved, f"budget reserved_usd is {self.reserved()}, not 0, {SETTLE_LIMIT}s after the request ended"
        # 4. nothing in flight
        self.assert_nothing_in_flight()
        # 2, again once nothing can add an event: exactly `total`, each counted once
        drained = wait_for(lambda: self.gauge("tollgate_usage_writer_pending_events") == 0, SETTLE_LIMIT)
        assert drained, "the usage writer still has pending events"
        count = self.count()
        assert count == total, f"{count} usage events for the key, expected exactly {total}: {summary(self.events()[:20])}"
        m = self.metrics()
        assert metric_sum(m, "tollgate_usage_writer_events_duplicate_total") == 0, \
            "the writer was handed the same request twice (tollgate_usage_writer_events_duplicate_total > 0)"
        counted = metric_sum(m, "tollgate_requests_total")
        stored = self.all_requests()
        assert counted == stored, f"tollgate_requests_total counts {counted:g} requests, the database {stored}"
        self.alive()
        return event

    def assert_nothing_in_flight(self, timeout=ABORT_LIMIT):
        if not CHECK_GAUGES:
            return
        m = self.metrics()
        missing = [g for g in IN_FLIGHT_GAUGES if g not in m]
        assert not missing, f"/metrics has no {' / '.join(missing)} series"
        ok = wait_for(lambda: all(metric_sum(self.metrics(), g) == 0 for g in IN_FLIGHT_GAUGES), timeout)
        if not ok:
            m = self.metrics()
            raise AssertionError("still in flight after %ss: %s" % (
                timeout, ", ".join(f"{g} {metric_sum(m, g):g}" for g in IN_FLIGHT_GAUGES)))


def summary(events):
    return [(e["request_id"], e["outcome"], e["status"], e.get("usage_source")) for e in events]


def tokens(event):
    return event["input_tokens"], event["output_tokens"]


# -- raw HTTP/1.1 over a socket, for exact control of the client side ---------------------------------------

def send_raw(h, path, body, headers=None, rcvbuf=None, timeout=30):
    """Opens a connection to Tollgate and sends one POST; returns the socket (the answer unread)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", h.tg.port))
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{h.tg.port}", "Content-Type: application/json",
            f"Content-Length: {len(data)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in {**h.auth(), **(headers or {})}.items()]
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    return s


def read_head(s):
    """Reads the response head: (status, lower-cased headers, body bytes already read)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"the connection closed before the response head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), fields, rest


def read_until(s, rest, needle, limit=1 << 20):
    """Reads until `needle` appears in the body read so far (or `limit` bytes); returns the bytes."""
    data = rest
    while needle not in data and len(data) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def close_now(s):
    """The client goes away: closes the socket (unread data makes the kernel send a reset)."""
    closed = time.monotonic()
    s.close()
    return closed


def usd(value):
    return Decimal(str(value))
