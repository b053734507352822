"""Helpers for the analytics tests (SPEC §5, §9, §10): one fixed mix of SDK traffic through Tollgate, the
raw usage events read back page by page, and the summary fields of SPEC §9 recomputed from those events
in Python (exact Decimal money), so every stats endpoint can be checked against the events it covers.
"""

import csv
import datetime
import hashlib
import io
import json
import sqlite3
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import anthropic
import openai
from access_helpers import Admin, expected_cost, parse_iso, start
from conftest import BINARY

NANO = Decimal("0.000000001")
MSG = [{"role": "user", "content": "Say hi"}]

# Passthrough tokens, one per org (SPEC §3: attributed to pt_ + 16 hex digits of their SHA-256).
ORG_TOKENS = {"acme": "sk-acme-analytics-7d41", "globex": "sk-globex-analytics-2c90"}
ACME_MARKUP = 20  # percent; acme is created through the admin API, globex by its first passthrough request

# SPEC §5 field names, in the order exports use.
EVENT_FIELDS = [
    "request_id", "started_at", "org", "key_id", "team", "user", "department", "session", "tags", "provider",
    "endpoint", "model", "status", "outcome", "stream", "cached", "input_tokens", "output_tokens",
    "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "potential_cost_usd",
    "prompt_cache_savings_usd", "charged_usd", "latency_ms", "ttfb_ms", "upstream_ms", "bytes_in", "bytes_out",
    "usage_source", "priced", "pricing_version", "error",
]
MONEY_FIELDS = {"cost_usd", "potential_cost_usd", "prompt_cache_savings_usd", "charged_usd"}
INT_FIELDS = {"status", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens",
              "reasoning_tokens", "bytes_in", "bytes_out"}

# The SPEC §9 summary fields that are plain sums over events (latency percentiles come from a histogram).
SUM_FIELDS = [
    "requests", "ok_requests", "error_requests", "blocked_requests", "cached_requests", "unpriced_requests",
    "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
    "cost_usd", "potential_cost_usd", "savings_usd", "prompt_cache_savings_usd", "charged_usd", "profit_usd",
]
BLOCKED = {"budget_blocked", "rate_limited", "unauthorized", "forbidden"}


def key_id(token):
    return "pt_" + hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Call:
    """One request of the traffic mix and what its usage event must say."""

    sdk: str  # "openai" | "anthropic"
    org: str
    model: str
    user: str | None = None
    user_via: str | None = None  # "header" (X-Tollgate-User) | "body" (OpenAI `user`) | None
    feature: str | None = None  # X-Tollgate-Tag-Feature
    stream: bool = False
    usage: dict | None = None  # X-Mock-Usage; None = the mock's default (12 in / 9 out)

    @property
    def failing(self):
        return self.model.startswith("mock-error-")

    def tokens(self):
        """(input, output, cached input, cache write) as SPEC §5 normalizes them."""
        if self.failing:
            return 0, 0, 0, 0
        u = self.usage or {}
        if self.sdk == "openai":
            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
            return u.get("prompt_tokens", 12), u.get("completion_tokens", 9), cached, 0
        read, write = u.get("cache_read_input_tokens", 0), u.get("cache_creation_input_tokens", 0)
        return u.get("input_tokens", 12) + read + write, u.get("output_tokens", 9), read, write

    def cost(self):
        if self.failing:
            return Decimal(0)
        inp, out, cached, written = self.tokens()
        return expected_cost(self.model, inp, out, cached, written)


# Varied on purpose: three models, two providers, two orgs, users from the header and from the body (and the
# header winning over the body), none at all, three features and none, streams, different usage and one
# upstream error.
TRAFFIC = [
    Call("openai", "acme", "gpt-4o-mini", "alice", "header", "chat", usage={"prompt_tokens": 120, "completion_tokens": 45}),
    Call("openai", "acme", "gpt-4o", "bob", "body", "search",
         usage={"prompt_tokens": 1234, "completion_tokens": 567, "prompt_tokens_details": {"cached_tokens": 1000}}),
    Call("openai", "acme", "gpt-4o-mini", "alice", "header", "chat", stream=True, usage={"prompt_tokens": 77, "completion_tokens": 33}),
    Call("anthropic", "acme", "claude-sonnet-4-5", "carol", "header", "search",
         usage={"input_tokens": 11, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 500, "output_tokens": 222}),
    Call("anthropic", "acme", "claude-sonnet-4-5", "bob", "header", None, stream=True, usage={"input_tokens": 400, "output_tokens": 80}),
    Call("openai", "acme", "mock-error-500", "alice", "header", "chat"),
    Call("openai", "acme", "gpt-4o", "alice", "both", "search", stream=True, usage={"prompt_tokens": 999, "completion_tokens": 1}),
    Call("openai", "globex", "gpt-4o", "dave", "header", "chat", usage={"prompt_tokens": 500, "completion_tokens": 250}),
    Call("openai", "globex", "gpt-4o-mini", "erin", "body", "summarize", stream=True),
    Call("anthropic", "globex", "claude-sonnet-4-5", "dave", "header", "summarize", usage={"input_tokens": 2000, "output_tokens": 700}),
    Call("openai", "globex", "gpt-4o", None, None, None, usage={"prompt_tokens": 33, "completion_tokens": 7}),
    Call("anthropic", "globex", "claude-sonnet-4-5", "erin", "header", "chat"),
]


def send(tg, call):
    """Sends `call` through Tollgate with its SDK; returns Tollgate's request id."""
    headers = {"X-Tollgate-Org": call.org}
    if call.usage is not None:
        headers["X-Mock-Usage"] = json.dumps(call.usage)
    if call.user_via in ("header", "both"):
        headers["X-Tollgate-User"] = call.user
    if call.feature:
        headers["X-Tollgate-Tag-Feature"] = call.feature
    token = ORG_TOKENS[call.org]
    if call.sdk == "openai":
        client = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key=token, max_retries=0)
        extra = {}
        if call.user_via == "body":
            extra["user"] = call.user
        elif call.user_via == "both":
            extra["user"] = "body-user-overridden-by-header"
        try:
            raw = client.chat.completions.with_raw_response.create(
                model=call.model, messages=MSG, stream=call.stream, extra_headers=headers, **extra)
        except openai.APIStatusError as e:
            assert call.failing, f"{call} failed: {e}"
            return e.response.headers["x-tollgate-request-id"]
    else:
        client = anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key=token, max_retries=0)
        raw = client.messages.with_raw_response.create(
            model=call.model, max_tokens=300, messages=MSG, stream=call.stream, extra_headers=headers)
    assert not call.failing, f"{call} should have failed"
    answer = raw.parse()
    if call.stream:
        assert list(answer), f"{call}: empty stream"
    return raw.headers["x-tollgate-request-id"]


def setup(start_tollgate, **env):
    """A Tollgate (master admin key, 50 ms flush) with org acme (20 % markup) and an admin-role key for it,
    after the whole TRAFFIC mix went through and every event is committed.
    Returns (tg, master Admin, acme's org Admin, {request_id: Call})."""
    tg, admin = start(start_tollgate, **env)
    admin.create_org("acme", markup_pct=ACME_MARKUP)
    acme_admin = Admin(tg, token=admin.create_key("acme", name="acme-admin", role="admin")["key"])
    sent = {send(tg, call): call for call in TRAFFIC}
    assert len(sent) == len(TRAFFIC), "request ids are not unique"
    wait_flushed(admin, len(TRAFFIC))
    return tg, admin, acme_admin, sent


def wait_flushed(admin, n, timeout=10):
    """Polls /admin/stats until it counts `n` requests (the usage writer flushed); more is a failure."""
    deadline = time.monotonic() + timeout
    while True:
        s = admin.call("GET", "/admin/stats")
        if s["requests"] >= n:
            assert s["requests"] == n, f"/admin/stats counts {s['requests']} requests, {n} were sent"
            return s
        if time.monotonic() >= deadline:
            raise AssertionError(f"/admin/stats counts {s['requests']} of {n} requests after {timeout}s")
        time.sleep(0.05)


def get(admin, path, expect=200, **params):
    return admin.call("GET", path, params=params or None, expect=expect)


def all_usage(admin, limit=1000, max_pages=200, **params):
    """Every event /admin/usage returns for `params`, following next_cursor; (events, pages)."""
    events, pages, cursor = [], [], None
    for _ in range(max_pages):
        q = {"limit": limit, **params}
        if cursor is not None:
            q["cursor"] = cursor
        page = get(admin, "/admin/usage", **q)
        pages.append(page)
        events += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events, pages
    raise AssertionError(f"/admin/usage {params} still had a next_cursor after {max_pages} pages")


def summarize(events):
    """SPEC §9 summary fields recomputed from raw usage events (money in Decimal)."""
    s = {f: 0 for f in SUM_FIELDS}
    for f in ("cost_usd", "potential_cost_usd", "prompt_cache_savings_usd", "charged_usd"):
        s[f] = Decimal(0)
    latency_us = 0
    for e in events:
        s["requests"] += 1
        s["ok_requests"] += e["outcome"] == "ok"
        s["blocked_requests"] += e["outcome"] in BLOCKED
        s["error_requests"] += e["outcome"] != "ok" and e["outcome"] not in BLOCKED
        s["cached_requests"] += bool(e["cached"])
        s["unpriced_requests"] += (not e["priced"] and e["endpoint"] != "other"
                                   and e["outcome"] not in BLOCKED | {"invalid_request"})
        for f in ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
                  "cost_usd", "potential_cost_usd", "prompt_cache_savings_usd", "charged_usd"):
            s[f] += e[f]
        latency_us += int((Decimal(e["latency_ms"]) * 1000).to_integral_value(rounding=ROUND_HALF_UP))
    s["savings_usd"] = s["potential_cost_usd"] - s["cost_usd"]
    s["profit_usd"] = s["charged_usd"] - s["cost_usd"]
    s["total_tokens"] = s["input_tokens"] + s["output_tokens"]
    s["active_users"] = len({e["user"] for e in events if e["user"]})
    n = s["requests"]
    s["success_rate"] = half_up(Decimal(s["ok_requests"]) / n, 4) if n else Decimal(0)
    s["avg_cost_per_request_usd"] = half_up(s["cost_usd"] / n, 9) if n else Decimal(0)
    s["avg_latency_ms"] = Decimal(latency_us) / s["requests"] / 1000 if s["requests"] else Decimal(0)
    return s


def assert_summary(actual, events, where, users=True):
    """`actual` (an answer's summary fields) equals the sums over `events`, exactly; latency to 1 µs.
    `users=False`: the query names a dimension no rollup keeps with users, so `active_users` is null."""
    expected = summarize(events)
    if not users:
        assert actual["active_users"] is None, f"{where}: active_users should be null, got {actual['active_users']}"
        expected["active_users"] = None
    derived = ["total_tokens", "success_rate", "avg_cost_per_request_usd", "active_users"]
    wrong = {f: (actual.get(f), expected[f]) for f in SUM_FIELDS + derived if actual.get(f) != expected[f]}
    assert not wrong, f"{where}: fields differ from the sums of its {len(events)} events (answer, events): {wrong}"
    avg = Decimal(str(actual["avg_latency_ms"]))
    assert abs(avg - expected["avg_latency_ms"]) <= Decimal("0.001"), \
        f"{where}: avg_latency_ms {avg} but the events average {expected['avg_latency_ms']}"
    assert actual["p50_latency_ms"] <= actual["p95_latency_ms"] <= actual["p99_latency_ms"], f"{where}: {actual}"


def group_value(event, by):
    if by.startswith("tag."):
        return event["tags"].get(by[4:].lower())
    if by == "status":
        return str(event["status"])  # grouped as its decimal text
    return event["key_id" if by == "key" else by]


def group_by(events, by):
    groups = defaultdict(list)
    for e in events:
        groups[group_value(e, by)].append(e)
    return dict(groups)


def hour_of(started_at):
    return parse_iso(started_at).replace(minute=0, second=0, microsecond=0)


def day_of(started_at):
    return parse_iso(started_at).replace(hour=0, minute=0, second=0, microsecond=0)


def half_up(value, places):
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_csv(text):
    """(header, rows as dicts) of an RFC 4180 CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    rows = [dict(zip(header, row, strict=True)) for row in reader]
    return header, rows


def csv_matches(event, row):
    """The fields of a CSV row that disagree with the JSON usage event (empty when they agree)."""
    wrong = {}
    for name in EVENT_FIELDS:
        value, text = event[name], row[name]
        if value is None:
            ok = text == ""
        elif isinstance(value, bool):
            ok = text == ("true" if value else "false")
        elif name == "tags":
            ok = json.loads(text) == value
        elif isinstance(value, (int, Decimal)):
            ok = text != "" and Decimal(text) == Decimal(value)
        else:
            ok = text == value
        if not ok:
            wrong[name] = (value, text)
    return wrong


def run_cli(*args, timeout=60):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)


def usage_columns(db):
    with sqlite3.connect(db) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(usage_events)")]


def insert_history(db, template_request_id, rows):
    """Copies of one stored event, back-dated: rows of (request_id, started_at ms, org, cost nanos); cost,
    potential cost and charged all set to the cost. The rollups are then rebuilt with the CLI (SPEC §10)."""
    columns = usage_columns(db)
    quoted = ", ".join(f'"{c}"' for c in columns)
    replaced = {"request_id", "started_at", "org", "cost_nanos", "potential_cost_nanos", "charged_nanos"}
    assert replaced <= set(columns), f"usage_events columns changed: {columns}"
    with sqlite3.connect(db, timeout=10) as conn:
        for request_id, started_at, org, nanos in rows:
            values = {"request_id": request_id, "started_at": started_at, "org": org, "cost_nanos": nanos,
                      "potential_cost_nanos": nanos, "charged_nanos": nanos}
            select = ", ".join("?" if c in replaced else f'"{c}"' for c in columns)
            args = [values[c] for c in columns if c in replaced]
            cur = conn.execute(f"INSERT INTO usage_events ({quoted}) SELECT {select} FROM usage_events WHERE request_id = ?",
                               [*args, template_request_id])
            assert cur.rowcount == 1
    out = run_cli("db", "rebuild-rollups", "--db", db)
    assert out.returncode == 0, out.stderr


def utc_today():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def away_from_midnight(margin=30):
    """Forecast windows end at today's UTC midnight: near it, wait for the new day to begin."""
    now = datetime.datetime.now(datetime.timezone.utc)
    left = 86_400 - (now.hour * 3600 + now.minute * 60 + now.second)
    if left < margin:
        time.sleep(left + 1)

