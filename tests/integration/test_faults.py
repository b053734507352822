"""Issue 12, "every request settled exactly once": faults on the provider's side, clients that go away at
every stage of a request, a database that cannot take writes, and a storm of parallel streams with
random aborts. Every case ends with the same four invariants (fault_helpers.Faults.settled): the process
lives, the request left exactly one usage event with the right outcome, its budget reservation is back
to 0, and nothing is left in flight (`tollgate_requests_in_flight` and
`tollgate_upstream_transfers_active` both 0 on /metrics).

Each test starts its own Tollgate with a tg_ key under a budget (so every request holds a reservation)
and points faults at a priced model through the mock's `X-Mock-Mode` header. Client-gone cases raise
the upstream first-byte and idle timeouts to 10 s, so only noticing the client's close can settle them
within ABORT_LIMIT.

FAULTS_SKIP_GAUGES=1 turns invariant 4 off (never in CI): it exists to check the other invariants
against a binary that predates the two gauges.
"""

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time

import anthropic
import httpx
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from conftest import fill_up, free_port
from fault_helpers import (ABORT_LIMIT, MODEL, MSG, Faults, close_now, metric_sum, read_head, read_until,
                           send_raw, summary, wait_for)
from mock_provider import BAD_JSON, TEXT

CHAT = "/openai/v1/chat/completions"
STREAM_ERRORS = (openai.APIError, anthropic.APIError, httpx.HTTPError, httpx2.HTTPError)
# Client-gone cases: the upstream limits are far away, so only the client's close can end the request.
PATIENT = {"TOLLGATE_FIRST_BYTE_TIMEOUT": "10", "TOLLGATE_IDLE_TIMEOUT": "10"}


def mode(name, **extra):
    return {"X-Mock-Mode": name, **extra}


def gemini(h, headers):
    """A Google Gen AI client on the key, sending `headers`, never retrying."""
    return genai.Client(api_key=h.secret, http_options=genai_types.HttpOptions(
        base_url=h.url + "/gemini", headers=headers, retry_options=genai_types.HttpRetryOptions(attempts=1)))


def rid(headers):
    value = headers.get("x-tollgate-request-id")
    assert value, f"no X-Tollgate-Request-Id in {dict(headers)}"
    return value


def assert_upstream_closed(rec, closed, why="the client went away"):
    """The mock saw Tollgate close its upstream connection within ABORT_LIMIT of `closed`."""
    assert rec.wait_done(max(0.1, closed + ABORT_LIMIT - time.monotonic())), \
        f"the provider's connection was still open {ABORT_LIMIT}s after {why}: {rec}"
    assert rec.disconnected and not rec.completed, f"the provider's answer was not cut off: {rec}"
    assert rec.disconnected_at - closed < ABORT_LIMIT, \
        f"the provider saw the close {rec.disconnected_at - closed:.2f}s after {why}"


# -- faults on the provider's side ----------------------------------------------------------------------------

def test_upstream_refused_is_502_upstream_unavailable(start_tollgate, mock):
    h = Faults(start_tollgate, mock, TOLLGATE_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(openai.InternalServerError) as err:
        h.openai().chat.completions.create(model=MODEL, messages=MSG)
    assert err.value.status_code == 502 and err.value.body["code"] == "upstream_unavailable", err.value.body
    h.settled("upstream_unavailable", rid(err.value.response.headers), status=502)
    assert mock.requests == []


@pytest.mark.parametrize("sdk, status", [("openai", 500), ("openai", 429), ("anthropic", 503), ("gemini", 500)],
                         ids=["openai-500", "openai-429", "anthropic-503", "gemini-500"])
def test_upstream_error_status_passes_through_as_upstream_error(start_tollgate, mock, sdk, status):
    h = Faults(start_tollgate, mock)
    headers = mode(f"mock-error-{status}")
    if sdk == "openai":
        with pytest.raises(openai.APIStatusError) as err:
            h.openai().chat.completions.create(model=MODEL, messages=MSG, extra_headers=headers)
        assert err.value.body["code"] == f"mock_error_{status}", "the provider's body passes through"
    elif sdk == "gemini":
        client = gemini(h, headers)  # kept: a dropped Client closes its HTTP client
        with pytest.raises(genai_errors.APIError) as err:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert err.value.code == status and err.value.status == "INTERNAL", err.value.details
        assert len(mock.requests) == 1, "the SDK retried"
        h.settled("upstream_error", status=status)
        return
    else:
        with pytest.raises(anthropic.APIStatusError) as err:
            h.anthropic().messages.create(model="claude-haiku-4-5", max_tokens=50, messages=MSG, extra_headers=headers)
    assert err.value.status_code == status
    assert err.value.response.headers.get("x-mock-error") == str(status), "the provider's headers pass through"
    h.settled("upstream_error", rid(err.value.response.headers), status=status)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_first_byte_timeout_is_504_upstream_timeout(start_tollgate, mock, stream):
    h = Faults(start_tollgate, mock)  # conftest: TOLLGATE_FIRST_BYTE_TIMEOUT=2
    started = time.monotonic()
    r = httpx.post(h.url + CHAT, json=h.chat_body(stream), headers=h.auth(**mode("mock-hang")), timeout=20)
    assert r.status_code == 504, r.text
    assert r.json()["error"]["code"] == "upstream_timeout", r.text
    assert time.monotonic() - started < 8
    rec = mock.last(model=MODEL)
    assert rec.wait_done(ABORT_LIMIT) and rec.disconnected, "the timed-out transfer was left open"
    h.settled("upstream_timeout", rid(r.headers), status=504)


def read_until_cut(stream):
    """Reads an SDK stream that must break off (its SDK raises); returns the chunks it got first."""
    got = []
    with pytest.raises(STREAM_ERRORS):
        for chunk in stream:
            got.append(chunk)
    return got


def test_idle_timeout_mid_stream_cuts_the_stream_as_upstream_timeout(start_tollgate, mock):
    h = Faults(start_tollgate, mock)  # conftest: TOLLGATE_IDLE_TIMEOUT=2
    stream = h.openai().chat.completions.create(model=MODEL, messages=MSG, stream=True,
                                                extra_headers=mode("mock-stall"))
    request_id = rid(stream.response.headers)
    assert read_until_cut(stream), "the events sent before the stall should have reached the client"
    event = h.settled("upstream_timeout", request_id)
    assert event["usage_source"] == "estimated" and event["output_tokens"] > 0, summary([event])


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_upstream_drop_is_upstream_dropped(start_tollgate, mock, stream):
    h = Faults(start_tollgate, mock)
    if stream:
        s = h.openai().chat.completions.create(model=MODEL, messages=MSG, stream=True, extra_headers=mode("mock-drop"))
        request_id = rid(s.response.headers)
        assert read_until_cut(s), "the events sent before the drop should have reached the client"
    else:
        # a Content-Length answer cut in the middle of its body: the client gets Tollgate's 502
        r = httpx.post(h.url + CHAT, json=h.chat_body(), headers=h.auth(**mode("mock-drop")), timeout=20)
        assert r.status_code == 502, r.text
        request_id = rid(r.headers)
    event = h.settled("upstream_dropped", request_id)
    if stream:
        assert event["usage_source"] == "estimated" and event["output_tokens"] > 0, summary([event])


def test_broken_json_answer_is_forwarded_untouched(start_tollgate, mock):
    h = Faults(start_tollgate, mock)
    r = httpx.post(h.url + CHAT, json=h.chat_body(), headers=h.auth(**mode("mock-bad-json")), timeout=20)
    assert r.status_code == 200 and r.content == BAD_JSON, (r.status_code, r.content[:200])
    h.settled("ok", rid(r.headers), status=200)


@pytest.mark.parametrize("sdk, stream", [("openai", False), ("openai", True), ("gemini", True)],
                         ids=["openai-json", "openai-stream", "gemini-stream"])
def test_gzip_answer_reaches_the_client_decoded_and_is_metered(start_tollgate, mock, sdk, stream):
    h = Faults(start_tollgate, mock)
    client = h.openai()
    request_id = None
    if sdk == "gemini":
        gclient = gemini(h, mode("mock-gzip"))  # kept: a dropped Client closes its HTTP client
        chunks = list(gclient.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        assert "".join(c.text or "" for c in chunks) == TEXT
        assert chunks[-1].usage_metadata.candidates_token_count == 9
    elif stream:
        s = client.chat.completions.create(model=MODEL, messages=MSG, stream=True, extra_headers=mode("mock-gzip"))
        assert "".join(c.choices[0].delta.content or "" for c in s if c.choices) == TEXT
        request_id = rid(s.response.headers)
    else:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MSG,
                                                               extra_headers=mode("mock-gzip"))
        assert raw.parse().choices[0].message.content == TEXT
        request_id = rid(raw.headers)
    rec = mock.last()
    assert ("content-encoding", "gzip") in rec.response_headers, "the mock should have answered gzip-encoded"
    event = h.settled("ok", request_id, status=200)
    assert (event["input_tokens"], event["output_tokens"]) == (12, 9), summary([event])
    assert event["usage_source"] == "provider", summary([event])


def test_malformed_sse_is_forwarded_and_recorded_with_estimated_tokens(start_tollgate, mock):
    h = Faults(start_tollgate, mock)
    # include_usage asked by the client: Tollgate has nothing to strip, so the bytes pass untouched
    body = h.chat_body(stream=True, stream_options={"include_usage": True})
    with httpx.stream("POST", h.url + CHAT, json=body, headers=h.auth(**mode("mock-bad-sse")), timeout=20) as r:
        assert r.status_code == 200
        request_id = rid(r.headers)
        received = b"".join(r.iter_raw())
    rec = mock.last(model=MODEL)
    assert rec.wait_done(5) and rec.completed
    assert received == rec.sent, "the stream, malformed events and all, must reach the client untouched"
    event = h.settled("ok", request_id, status=200)
    assert event["usage_source"] == "estimated", summary([event])
    assert event["input_tokens"] > 0 and event["output_tokens"] > 0, summary([event])


def test_truncated_sse_is_recorded_with_estimated_tokens(start_tollgate, mock):
    """The provider's body ends cleanly in the middle of an event: no [DONE], no usage."""
    h = Faults(start_tollgate, mock)
    with httpx.stream("POST", h.url + CHAT, json=h.chat_body(stream=True), headers=h.auth(**mode("mock-truncated")),
                      timeout=20) as r:
        assert r.status_code == 200
        request_id = rid(r.headers)
        try:
            b"".join(r.iter_raw())
        except httpx.HTTPError:
            pass  # cutting the client's stream is fine too
    event = h.settled(("ok", "upstream_dropped"), request_id)
    assert event["usage_source"] == "estimated", summary([event])
    assert event["input_tokens"] > 0 and event["output_tokens"] > 0, summary([event])


def test_endless_stream_abandoned_by_the_client_is_client_abort(start_tollgate, mock):
    h = Faults(start_tollgate, mock, **PATIENT)
    stream = h.openai().chat.completions.create(model=MODEL, messages=MSG, stream=True,
                                                extra_headers=mode("mock-endless"))
    request_id = rid(stream.response.headers)
    for i, _ in enumerate(stream):
        if i == 4:
            break
    closed = time.monotonic()
    stream.close()
    event = h.settled("client_abort", request_id, within=ABORT_LIMIT)
    assert event["usage_source"] == "estimated" and event["output_tokens"] > 0, summary([event])
    assert_upstream_closed(mock.last(model=MODEL), closed)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_answer_of_40_mib_leaves_the_process_alive_and_one_event(start_tollgate, mock, stream):
    h = Faults(start_tollgate, mock)
    size = 40 << 20
    body = h.chat_body(stream)
    with httpx.stream("POST", h.url + CHAT, json=body, timeout=60,
                      headers=h.auth(**mode("mock-huge"), **{"X-Mock-Bytes": str(size)})) as r:
        status = r.status_code
        request_id = rid(r.headers)
        received, whole = 0, True
        try:
            for chunk in r.iter_raw():
                received += len(chunk)
        except httpx.HTTPError:
            whole = False
    rec = mock.last(model=MODEL)
    assert rec.wait_done(10)
    # Served whole, it is `ok`; refused or cut, it must say so. Either way: one event, nothing held.
    served = status == 200 and whole and received >= size
    h.settled("ok" if served else ("upstream_error", "upstream_unavailable", "upstream_dropped"), request_id, within=10)
    if served and not stream:
        assert received == rec.sent_len, "the answer must reach the client whole"


# -- the client goes away --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_client_gone_before_the_response_head(start_tollgate, mock, stream):
    h = Faults(start_tollgate, mock, **PATIENT)
    s = send_raw(h, CHAT, h.chat_body(stream), mode("mock-hang"))
    rec = mock.wait_for(model=MODEL, timeout=5)
    assert rec, "the request never reached the provider"
    closed = close_now(s)
    event = h.settled("client_abort", within=ABORT_LIMIT, status=499)
    # The provider had the prompt: its input is recorded, estimated and flagged, so a client that
    # leaves early cannot spend below its budget; no output was seen.
    assert event["usage_source"] == "estimated" and event["input_tokens"] > 0, summary([event])
    assert event["output_tokens"] == 0 and event["cost_usd"] > 0, summary([event])
    assert_upstream_closed(rec, closed)


def test_client_gone_after_the_first_sse_event(start_tollgate, mock):
    h = Faults(start_tollgate, mock, **PATIENT)
    s = send_raw(h, CHAT, h.chat_body(stream=True), mode("mock-long"))
    status, fields, rest = read_head(s)
    assert status == 200, fields
    assert b"data: " in read_until(s, rest, b"\n\n"), "no first event"
    closed = close_now(s)
    event = h.settled("client_abort", rid(fields), within=ABORT_LIMIT)
    assert event["usage_source"] == "estimated", summary([event])
    assert event["input_tokens"] > 0 and event["output_tokens"] > 0, "the tokens seen so far are recorded"
    assert_upstream_closed(mock.last(model=MODEL), closed)


def test_client_gone_while_waiting_for_a_non_stream_answer(start_tollgate, mock):
    h = Faults(start_tollgate, mock, **PATIENT)
    s = send_raw(h, CHAT, h.chat_body(), {"X-Mock-Delay-Ms": "8000"})
    rec = mock.wait_for(model=MODEL, timeout=5)
    assert rec, "the request never reached the provider"
    closed = close_now(s)
    event = h.settled("client_abort", within=ABORT_LIMIT, status=499)
    assert event["usage_source"] == "estimated" and event["output_tokens"] == 0, summary([event])
    assert_upstream_closed(rec, closed)


def test_client_gone_during_a_cache_hit_replay(start_tollgate, mock):
    h = Faults(start_tollgate, mock, **PATIENT)
    on = {"X-Tollgate-Cache": "on"}
    size = 24 << 20  # far more than the two socket buffers hold
    r = httpx.post(h.url + CHAT, json=h.chat_body(), timeout=60,
                   headers=h.auth(**on, **mode("mock-huge"), **{"X-Mock-Bytes": str(size)}))
    assert r.status_code == 200 and r.headers.get("x-tollgate-cache") == "MISS", r.headers
    assert wait_for(lambda: h.admin.call("GET", "/admin/cache")["memory_entries"] >= 1, 5), "the answer was not cached"
    # the replay, as a stream, into a client that reads a little and leaves
    s = send_raw(h, CHAT, h.chat_body(stream=True), on, rcvbuf=64 << 10)
    status, fields, rest = read_head(s)
    assert status == 200 and fields.get("x-tollgate-cache") == "HIT", fields
    read_until(s, rest, b"\x00never\x00", limit=256 << 10)
    close_now(s)
    # client_abort when the close is seen before the replay was handed to the connection whole;
    # NIO's writer may take the whole answer into its buffer first, and then it is `ok` with every
    # byte counted (nothing tells Tollgate when the socket drained).
    event = h.settled(("client_abort", "ok"), rid(fields), total=2, within=ABORT_LIMIT)
    assert event["cached"] is True, summary([event])
    if event["outcome"] == "ok":
        assert event["bytes_out"] == int(fields["content-length"]), summary([event])
    else:
        assert event["bytes_out"] < int(fields["content-length"]), summary([event])
    assert len(mock.requests) == 1, "the hit must not reach the provider"


def test_client_gone_while_waiting_on_a_coalesced_cache_miss(start_tollgate, mock):
    h = Faults(start_tollgate, mock, **PATIENT)
    on = {"X-Tollgate-Cache": "on"}
    body = h.chat_body(content="coalesce me")
    leader = {}

    def lead():
        leader["r"] = httpx.post(h.url + CHAT, json=body, headers=h.auth(**on, **{"X-Mock-Delay-Ms": "5000"}),
                                 timeout=30)

    thread = threading.Thread(target=lead, daemon=True)
    thread.start()
    rec = mock.wait_for(model=MODEL, timeout=5)
    assert rec, "the leader never reached the provider"
    s = send_raw(h, CHAT, body, on)
    h.wait_in_flight(2)  # the follower waits on the leader's answer
    close_now(s)
    # the follower's event comes within ABORT_LIMIT, while the leader is still upstream
    event = h.newest_event(ABORT_LIMIT)
    assert event is not None, f"no event for the follower within {ABORT_LIMIT}s of its close"
    assert not rec.done.is_set(), "the follower was settled only when the leader's answer came"
    assert event["outcome"] == "client_abort", summary([event])
    # the leader still completes normally
    thread.join(30)
    r = leader["r"]
    assert r.status_code == 200 and r.headers.get("x-tollgate-cache") == "MISS", r.headers
    assert r.json()["choices"][0]["message"]["content"] == TEXT
    assert rec.completed and len(mock.requests) == 1
    h.settled("ok", rid(r.headers), total=2)
    assert [e["outcome"] for e in h.events()].count("client_abort") == 1


# -- the database cannot take writes ---------------------------------------------------------------------------

LOCKER = r"""
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))  # the fault's length
db.execute("COMMIT")
print("released", flush=True)
"""


def some_traffic(h, n):
    """n requests with the key, alternating JSON and streams; all must be answered."""
    client = h.openai(timeout=20)
    for i in range(n):
        if i % 2:
            s = client.chat.completions.create(model=MODEL, messages=MSG, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in s if c.choices) == TEXT
        else:
            assert client.chat.completions.create(model=MODEL, messages=MSG).choices[0].message.content == TEXT


def writer_failing(h):
    """/metrics and /readyz while the usage writer cannot commit: both must show it."""
    m = h.metrics()
    if not (metric_sum(m, "tollgate_usage_writer_consecutive_failures") > 0
            and metric_sum(m, "tollgate_usage_writer_pending_events") > 0):
        return None
    r = httpx.get(h.url + "/readyz", timeout=15)
    return r


def assert_failure_visible(h, within):
    r = wait_for(lambda: writer_failing(h), within, interval=0.1)
    assert r is not None, (f"/metrics showed no failing writer with pending events within {within}s: "
                           f"{ {k: v for k, v in h.metrics().items() if 'usage_writer' in k} }")
    assert r.status_code == 503, f"/readyz answered {r.status_code} while no event could be committed: {r.text}"
    ready = r.json()
    assert ready["error"]["code"] == "usage_writer_failing", ready
    assert ready["usage_writer"]["pending_events"] > 0 and ready["usage_writer"]["last_error"], ready
    return ready


def assert_recovered(h, n):
    h.settled("ok", total=n, within=20)
    assert all(e["outcome"] == "ok" for e in h.events())
    r = wait_for(lambda: httpx.get(h.url + "/readyz", timeout=15).status_code == 200, 10)
    assert r, "/readyz did not answer 200 again once the database took writes"
    assert metric_sum(h.metrics(), "tollgate_usage_writer_consecutive_failures") == 0


def test_sqlite_busy_events_wait_and_are_written_once_the_lock_goes(start_tollgate, mock):
    h = Faults(start_tollgate, mock)
    n = 10
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, h.tg.db, "10"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked", "the locker could not take the lock"
        some_traffic(h, n)
        h.alive()
        # A load balancer's probe must get an answer in time, not wait on the lock (5 s busy timeout).
        started = time.monotonic()
        ready = httpx.get(h.url + "/readyz", timeout=10)
        assert time.monotonic() - started < 3.5, f"/readyz took {time.monotonic() - started:.1f} s under the lock"
        assert ready.status_code == 503, ready.text
        assert_failure_visible(h, within=9)
        assert locker.poll() is None, "the lock went before the failure showed: the test proves nothing"
    finally:
        locker.wait(30)
    assert locker.returncode == 0
    assert_recovered(h, n)


def test_sqlite_read_only_events_kept_and_retried(start_tollgate, mock):
    h = Faults(start_tollgate, mock)
    files = [p for p in (h.tg.db, h.tg.db + "-wal") if os.path.exists(p)]
    made = subprocess.run(["chattr", "+i", *files], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i refused on {files}: {made.stderr.strip()}")
    n = 10
    try:
        some_traffic(h, n)
        h.alive()
        ready = assert_failure_visible(h, within=10)
        assert "read" in ready["usage_writer"]["last_error"].lower() or "permit" in ready["usage_writer"]["last_error"].lower() \
            or "i/o" in ready["usage_writer"]["last_error"].lower(), ready
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
    assert_recovered(h, n)




def test_sqlite_full_disk_events_kept_and_retried(start_tollgate, mock, tiny_disk):
    h = Faults(start_tollgate, mock, TOLLGATE_DB=str(tiny_disk / "tollgate.db"))
    filler = fill_up(tiny_disk)
    n = 40
    try:
        client = h.openai(timeout=20)
        big = [{"role": "user", "content": "x" * 2000}]  # fat events outgrow the WAL's free pages
        for i in range(n):
            assert client.chat.completions.create(model=MODEL, messages=big, user=f"u{i}").choices
        h.alive()
        ready = assert_failure_visible(h, within=10)
        assert "full" in ready["usage_writer"]["last_error"].lower(), ready
    finally:
        filler.unlink()
    assert_recovered(h, n)


# -- the acceptance storm --------------------------------------------------------------------------------------

STORM_SECONDS = 20
STORM_WORKERS = 200
STORM_CAP = 6000  # requests at most, whatever the machine's speed


async def storm(h, seconds, workers, cap, rng):
    """`workers` clients, each sending streaming requests back to back for `seconds`: 10 % close
    right after sending, 20 % after the head and 0–3 events, the rest read to the end."""
    body = json.dumps(h.chat_body(stream=True)).encode()
    head = (f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{h.tg.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\nAuthorization: Bearer {h.secret}\r\n"
            f"X-Mock-Interval-Ms: 20\r\n\r\n").encode()
    tally = {"started": 0, "sent": 0, "completed": 0, "aborted": 0, "errors": []}
    deadline = time.monotonic() + seconds

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", h.tg.port)
        try:
            writer.write(head + body)
            await writer.drain()
            tally["sent"] += 1
            p = rng.random()
            if p < 0.1:
                tally["aborted"] += 1
                return
            await reader.readuntil(b"\r\n\r\n")
            if p < 0.3:
                want, seen = rng.randint(0, 3), b""
                while seen.count(b"\n\n") < want:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    seen += chunk
                tally["aborted"] += 1
                return
            data = await reader.read()
            assert b"data: [DONE]" in data, data[-200:]
            tally["completed"] += 1
        finally:
            writer.transport.abort()

    async def worker():
        while time.monotonic() < deadline and tally["started"] < cap:
            tally["started"] += 1
            try:
                await asyncio.wait_for(one(), 30)
            except Exception as e:  # noqa: BLE001 - listed in the assertion
                tally["errors"].append(repr(e))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return tally


def quiet(h, timeout=15):
    """Waits until nothing is in flight and every event is committed."""
    h.assert_nothing_in_flight(timeout)
    assert wait_for(lambda: h.gauge("tollgate_usage_writer_pending_events") == 0, timeout), "the writer never drained"


def test_storm_of_200_parallel_streams_with_random_aborts(start_tollgate, mock):
    h = Faults(start_tollgate, mock)
    rng = random.Random(12)
    warm = asyncio.run(storm(h, 5, STORM_WORKERS, 1500, rng))
    assert not warm["errors"], warm["errors"][:5]
    quiet(h)
    assert wait_for(lambda: h.count() >= warm["sent"], 15), f"{h.count()} events after {warm['sent']} requests"
    rss_before = h.rss_kib()

    tally = asyncio.run(storm(h, STORM_SECONDS, STORM_WORKERS, STORM_CAP, rng))
    assert not tally["errors"], f"{len(tally['errors'])} client errors, e.g. {tally['errors'][:5]}"
    sent = warm["sent"] + tally["sent"]
    quiet(h)
    wait_for(lambda: h.count() >= sent, 20)
    # Back within 10 %, before the checks below read every event (that grows SQLite's page cache):
    # Tollgate returns freed memory once it is idle (MemoryTrimService, every 2 s).
    back = wait_for(lambda: h.rss_kib() <= rss_before * 1.10, 10)
    rss_after = h.rss_kib()
    growth = (rss_after - rss_before) / rss_before
    assert back, f"RSS grew {growth:.1%}: {rss_before} KiB after the warm-up, {rss_after} KiB 10 s after the storm"
    h.alive()
    events = h.all_events()
    by_outcome = {}
    for e in events:
        by_outcome[e["outcome"]] = by_outcome.get(e["outcome"], 0) + 1
    assert len(events) == h.count() == sent, \
        f"{sent} requests sent, {h.count()} events recorded ({len(events)} listed): {by_outcome}"
    assert len({e["request_id"] for e in events}) == len(events), "a request id twice"
    completed = warm["completed"] + tally["completed"]
    assert by_outcome.get("ok", 0) >= completed, f"{completed} streams read to the end, events: {by_outcome}"
    assert set(by_outcome) <= {"ok", "client_abort"}, by_outcome
    assert h.reserved() == 0, f"reserved_usd {h.reserved()} after the storm"
    print(f"storm: {sent} requests ({tally['sent']} in {STORM_SECONDS}s), outcomes {by_outcome}, "
          f"RSS {rss_before} → {rss_after} KiB")
    h.settled(("ok", "client_abort"), total=sent, within=10)
