"""Helpers for the response-cache tests (SPEC §8): raw requests whose bytes the test controls, the
cache admin endpoints, SSE parsing of each provider's stream, and SPEC §6's cost and prompt-cache
savings in Decimal, computed independently from pricing.json.
"""

import json
import os
import sqlite3
import subprocess
import time
from decimal import ROUND_HALF_UP, Decimal

import httpx

from access_helpers import PRICES, loads
from conftest import BINARY

NANO = Decimal("0.000000001")
PASSTHROUGH = "sk-cache-passthrough-1"
ANT_VERSION = "2023-06-01"
CACHE_INFO_FIELDS = {"entries", "bytes", "memory_entries", "memory_bytes", "max_bytes"}
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

# One cacheable request per endpoint (SPEC §2, §8): Tollgate path, body.
CHAT = "/openai/v1/chat/completions"
COMPLETIONS = "/openai/v1/completions"
EMBEDDINGS = "/openai/v1/embeddings"
RESPONSES = "/openai/v1/responses"
MESSAGES = "/anthropic/v1/messages"
GEMINI_GENERATE = "/gemini/v1beta/models/gemini-2.5-flash:generateContent"
GEMINI_STREAM = "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def chat_body(content="Say hi", model="gpt-4o-mini", **extra):
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def auth_headers(path, token=PASSTHROUGH):
    """The credential header each provider's SDK sends."""
    if path.startswith("/anthropic"):
        return {"x-api-key": token, "anthropic-version": ANT_VERSION}
    if path.startswith("/gemini"):
        return {"x-goog-api-key": token}
    return {"Authorization": "Bearer " + token}


def post(tg, path, body, headers=None, token=PASSTHROUGH, timeout=15):
    """POST `body` (a dict, sent as compact JSON, or bytes sent exactly as given) to Tollgate."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    hs = {"content-type": "application/json", **auth_headers(path, token), **(headers or {})}
    return httpx.post(tg.url + path, content=content, headers=hs, timeout=timeout)


def cache_of(r):
    """The X-Tollgate-Cache answer header of an httpx / SDK raw response (None when absent)."""
    return r.headers.get("x-tollgate-cache")


def describe(r):
    """The exchange in one line, for assertion messages."""
    req = r.request
    sent = {k: v for k, v in req.headers.items() if k.lower().startswith(("x-tollgate", "x-mock"))}
    got = {k: v for k, v in r.headers.items() if k.lower().startswith("x-tollgate")}
    return (f"{req.method} {req.url.raw_path.decode()} {sent} {req.content[:300]!r} → {r.status_code} {got} "
            f"{r.content[:300]!r}")


def assert_cache(r, expected):
    assert cache_of(r) == expected, f"X-Tollgate-Cache should be {expected!r}: {describe(r)}"


def usd(text):
    """A money header or field as an exact Decimal."""
    return Decimal(str(text))


def cost(model, inp, out, cached=0, written=0):
    """SPEC §6 in Decimal: `inp` is every input token (cached and written included), one rounding
    per request to the nano-dollar."""
    p = PRICES[model]
    rate = lambda k, default: Decimal(p.get(k) or default) / Decimal(1_000_000)
    i, o = rate("input", 0), rate("output", 0)
    c, w = rate("cached_input", p["input"]), rate("cache_write", p["input"])
    total = (inp - cached - written) * i + cached * c + written * w + out * o
    return total.quantize(NANO, rounding=ROUND_HALF_UP)


def prompt_cache_savings(model, cached=0, written=0):
    """SPEC §5: cached tokens at the full input rate minus what was billed for them, net of the
    cache-write premium."""
    p = PRICES[model]
    i = Decimal(p["input"])
    c = Decimal(p.get("cached_input") or p["input"])
    w = Decimal(p.get("cache_write") or p["input"])
    return (cached * (i - c) - written * (w - i)) / Decimal(1_000_000)


# -- SSE ---------------------------------------------------------------------------------------------------

def sse_events(raw):
    """[(event name or None, data text)] of an SSE body; LF or CRLF line ends."""
    text = raw.decode().replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].lstrip(" "))
        assert data, f"an SSE event without data: {block!r} in {raw!r}"
        events.append((name, "\n".join(data)))
    return events


def stream_post(tg, path, body, headers=None, token=PASSTHROUGH, timeout=15):
    """A streaming POST read to the end: (httpx response with headers, every body byte)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    hs = {"content-type": "application/json", **auth_headers(path, token), **(headers or {})}
    with httpx.stream("POST", tg.url + path, content=content, headers=hs, timeout=timeout) as r:
        data = b"".join(r.iter_bytes())
    return r, data


# -- the cache admin API and CLI ------------------------------------------------------------------------------

def cache_info(admin):
    info = admin.call("GET", "/admin/cache")
    assert CACHE_INFO_FIELDS <= set(info), f"GET /admin/cache lacks {CACHE_INFO_FIELDS - set(info)}: {info}"
    return info


def wait_cache(admin, condition, timeout=5, message="GET /admin/cache condition"):
    """Polls GET /admin/cache until condition(info) holds; returns that answer."""
    deadline = time.monotonic() + timeout
    while True:
        info = cache_info(admin)
        if condition(info):
            return info
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message}: not within {timeout}s; last answer {info}")
        time.sleep(0.05)


def usage_events(tg, n, timeout=10):
    """The usage events in the database (SPEC §5 field names, money as Decimal USD, flags as bool) once
    at least `n` are committed; read from SQLite, as the stats tests do."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(tg.db) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute("SELECT * FROM usage_events ORDER BY started_at DESC")]
        if len(rows) >= n:
            break
        if time.monotonic() >= deadline:
            raise AssertionError(f"{len(rows)} usage events in the database, not {n}, after {timeout}s: {rows}")
        time.sleep(0.05)
    events = []
    for row in rows:
        event = {}
        for name, value in row.items():
            if name.endswith("_nanos"):
                event[name[: -len("_nanos")] + "_usd"] = Decimal(value) / Decimal(10**9)
            elif name in ("cached", "stream", "priced"):
                event[name] = bool(value)
            else:
                event[name] = value
        events.append(event)
    return events


def cli(*args, db):
    """`tollgate ARGS --db DB` without the developer's TOLLGATE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    return subprocess.run([BINARY, *args, "--db", db], capture_output=True, text=True, timeout=30, env=env)


def cli_json(out):
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return loads(out.stdout)
