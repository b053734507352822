"""Shared helpers for the key, budget and alert tests: an admin API client that reads money as exact
Decimals, the budget arithmetic of SPEC §7 in Decimal, and a webhook receiver that records and verifies
signed alert deliveries.
"""

import datetime
import hashlib
import hmac
import json
import os
import re
import threading
import time
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import httpx
import openai

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "pricing.json")) as _f:
    PRICES = json.load(_f)["models"]
ADMIN = "admin-secret"
SECRET_RE = re.compile(r"tg_[0-9A-Za-z]{32}")
NANO = Decimal("0.000000001")

# One request whose worst case is known exactly (SPEC §7): 400 bytes of text → 100 estimated input
# tokens, an output cap of 1000 tokens; the mock is told to report exactly that usage, so the actual
# cost equals the reservation.
CONTENT = "x" * 400
MSG = [{"role": "user", "content": CONTENT}]
MAX_TOKENS = 1000
FULL_USAGE = {"X-Mock-Usage": json.dumps({"prompt_tokens": 100, "completion_tokens": MAX_TOKENS})}


def expected_cost(model, inp, out, cached=0, written=0):
    """SPEC §6 in Decimal, independently of Tollgate: one rounding per request, half up, to 1e-9 USD."""
    p = PRICES[model]
    rate = lambda k, default: Decimal(p.get(k) or default) / Decimal(1_000_000)
    i, o = rate("input", 0), rate("output", 0)
    c, w = rate("cached_input", p["input"]), rate("cache_write", p["input"])
    usd = (inp - cached - written) * i + cached * c + written * w + out * o
    return usd.quantize(NANO, rounding=ROUND_HALF_UP)


def worst_case(model="gpt-4o-mini", input_tokens=100, output_cap=MAX_TOKENS):
    """SPEC §7's reservation in Decimal: input estimate × input price + output cap × output price,
    rounded up to the nano-dollar."""
    p = PRICES[model]
    usd = (input_tokens * Decimal(p["input"]) + output_cap * Decimal(p["output"])) / Decimal(1_000_000)
    return usd.quantize(NANO, rounding=ROUND_CEILING)


W = worst_case()  # gpt-4o-mini, 100 in, 1000 out: $0.000615

# Provider credentials Tollgate swaps in for requests made with a Tollgate key (SPEC §3).
PROVIDER_KEYS = {
    "TOLLGATE_OPENAI_API_KEY": "sk-provider-openai-6b1f0c",
    "TOLLGATE_ANTHROPIC_API_KEY": "sk-ant-provider-93d2e7",
    "TOLLGATE_GEMINI_API_KEY": "AIza-provider-4c8a15",
}


def start(start_tollgate, **env):
    """A Tollgate with the master admin key, provider credentials and a 50 ms flush; (tg, Admin)."""
    tg = start_tollgate(**{"TOLLGATE_ADMIN_KEY": ADMIN, "TOLLGATE_FLUSH_MS": "50", **PROVIDER_KEYS, **env})
    return tg, Admin(tg)


def oai(tg, api_key, **kw):
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=tg.url + "/openai/v1", api_key=api_key, **kw)


def ant(tg, api_key, **kw):
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key=api_key, **kw)


def chat(client, model="gpt-4o-mini", headers=None, **kw):
    """One chat completion with the known worst case (W for gpt-4o-mini) and actual cost = worst case."""
    return client.chat.completions.create(model=model, messages=MSG, max_tokens=MAX_TOKENS,
                                          extra_headers={**FULL_USAGE, **(headers or {})}, **kw)


def loads(text):
    return json.loads(text, parse_float=Decimal)


def dumps(obj):
    """JSON with Decimals written as exact plain numbers (never through a float)."""
    subs = {}

    def conv(o):
        if isinstance(o, Decimal):
            token = f"__decimal_{len(subs)}__"
            subs[token] = format(o, "f")
            return token
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [conv(v) for v in o]
        return o

    text = json.dumps(conv(obj))
    for token, number in subs.items():
        text = text.replace(f'"{token}"', number)
    return text


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class AdminError(AssertionError):
    pass


class Admin:
    """The admin API of one Tollgate, as `token` (the master key by default, or a tg_ admin key)."""

    def __init__(self, tg, token=ADMIN):
        self.tg = tg
        self.token = token
        self.http = httpx.Client(base_url=tg.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def request(self, method, path, body=None, params=None):
        headers = {"content-type": "application/json"} if body is not None else {}
        return self.http.request(method, path, content=None if body is None else dumps(body), params=params,
                                 headers=headers)

    def call(self, method, path, body=None, params=None, expect=200):
        r = self.request(method, path, body, params)
        if r.status_code != expect:
            raise AdminError(f"{method} {path} {dumps(body) if body is not None else ''} params={params} → "
                             f"{r.status_code} (expected {expect}): {r.text}")
        return loads(r.text)

    # -- orgs, keys, budgets, alerts ---------------------------------------------------------------------
    def create_org(self, id, name=None, **fields):
        return self.call("POST", "/admin/orgs", {"id": id, "name": name or id.title(), **fields}, expect=201)

    def create_key(self, org, **fields):
        return self.call("POST", "/admin/keys", {"org": org, **fields}, expect=201)

    def key(self, key_id):
        return self.call("GET", f"/admin/keys/{key_id}")

    def keys(self, **params):
        return self.call("GET", "/admin/keys", params=params or None)["data"]

    def revoke_key(self, key_id):
        return self.call("DELETE", f"/admin/keys/{key_id}")

    def create_budget(self, **fields):
        return self.call("POST", "/admin/budgets", fields, expect=201)

    def budget(self, budget_id):
        return self.call("GET", f"/admin/budgets/{budget_id}")

    def budgets(self):
        return self.call("GET", "/admin/budgets")["data"]

    def alerts(self, **params):
        return self.call("GET", "/admin/alerts", params=params or None)["data"]

    def stats(self, **params):
        return self.call("GET", "/admin/stats", params={"from": "1d", **params})

    # -- waiting for the asynchronous parts (flush, settlement) ------------------------------------------
    def wait_requests(self, n, timeout=10, **params):
        """Waits until /admin/stats with `params` counts at least `n` requests; returns that summary."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats(**params)
            if s["requests"] >= n:
                return s
            if time.monotonic() >= deadline:
                raise AssertionError(f"/admin/stats {params} counts {s['requests']} requests, not {n}, after {timeout}s")
            time.sleep(0.05)

    def wait_settled(self, budget_id, timeout=10, spent=None):
        """Waits until the budget has nothing reserved (and, if given, spent_usd == spent); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            b = self.budget(budget_id)
            if b["reserved_usd"] == 0 and (spent is None or b["spent_usd"] == spent):
                return b
            if time.monotonic() >= deadline:
                raise AssertionError(f"budget {budget_id} not settled after {timeout}s: {b}")
            time.sleep(0.05)

    def close(self):
        self.http.close()


def wait_until(condition, timeout, interval=0.05, message="condition"):
    """Polls `condition` until it returns something truthy (returned) or `timeout` passes (fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} not met within {timeout}s")
        time.sleep(interval)


# -- webhook receiver -----------------------------------------------------------------------------------

class Delivery:
    """One POST the receiver got: raw body, headers, arrival time, the answer it gave, and whether the
    signature matched."""

    def __init__(self, path, headers, body, status, signature_ok):
        self.path = path
        self.headers = headers
        self.body = body
        self.received_at = time.monotonic()
        self.status = status
        self.signature_ok = signature_ok

    def json(self):
        return loads(self.body)

    def __repr__(self):
        try:
            j = self.json()
            what = f"{j.get('kind')} {j.get('threshold')} {j.get('alert_id')}"
        except ValueError:
            what = repr(self.body[:80])
        return f"<Delivery {what} → {self.status} sig_ok={self.signature_ok}>"


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 (free port, in a thread) that records every delivery and checks
    X-Tollgate-Signature = "sha256=" + hex(HMAC-SHA256(secret, raw body)). `fail_first=N` answers 500 to
    the first N deliveries of each alert (by the body's alert_id) and 200 afterwards."""

    def __init__(self, secret, fail_first=0):
        self.secret = secret.encode()
        self.fail_first = fail_first
        self.deliveries = []
        self._tries = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status = receiver._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                answer = b'{"ok":true}' if status == 200 else b'{"error":"receiver failing on purpose"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tollgate"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True, name="webhook-receiver")

    def _record(self, path, headers, body):
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        signature_ok = hmac.compare_digest(headers.get("x-tollgate-signature", ""), expected)
        try:
            alert_id = loads(body).get("alert_id")
        except (ValueError, AttributeError):
            alert_id = None
        with self._lock:
            n = self._tries.get(alert_id, 0) + 1
            self._tries[alert_id] = n
            status = 500 if n <= self.fail_first else 200
            self.deliveries.append(Delivery(path, headers, body, status, signature_ok))
        return status

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def all(self):
        with self._lock:
            return list(self.deliveries)

    def accepted(self, kind=None):
        """Deliveries answered 200, optionally only those whose body's kind is `kind`."""
        return [d for d in self.all() if d.status == 200 and (kind is None or d.json().get("kind") == kind)]

    def wait(self, condition, timeout, message="webhook deliveries"):
        """Polls condition(self) until truthy; fails with what was received after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"{message}: not within {timeout}s; received {self.all()}")
            time.sleep(0.05)


def assert_field_error(r, field):
    """A 400 invalid_request whose message names `field` (or one of a tuple of names) (SPEC §9)."""
    names = (field,) if isinstance(field, str) else field
    assert r.status_code == 400, \
        f"{r.request.method} {r.request.url} {r.request.content!r} → {r.status_code} {r.text} (expected 400 naming {names})"
    err = r.json()["error"]
    assert err["code"] == "invalid_request", r.text
    assert any(n in err["message"] for n in names), f"the message should name {names}: {err['message']!r}"


def sleep_past_minute_edge(margin=6):
    """Rate-limit tests make their requests within one wall-clock minute, so that a fixed-window limiter
    and a sliding one give the same answers: near the end of a minute, wait for the next one to begin."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)
