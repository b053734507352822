"""Forwarding, driven by the official SDKs: OpenAI, Anthropic and Google Gen AI → Tollgate → mock provider.

Each test starts its own Tollgate (see conftest.py) in front of the session's mock provider; the mock's
records are cleared at the start of each test.
"""

import concurrent.futures
import json
import threading
import time

import anthropic
import httpx
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

from conftest import free_port
from mock_provider import TEXT

KEY = "sk-test-0123456789abcdef"
ANT_KEY = "sk-ant-test-0123456789"
GOOG_KEY = "AIza-test-0123456789"
MSG = [{"role": "user", "content": "Say hi"}]
TOLLGATE_HEADERS = {"X-Tollgate-User": "alice", "X-Tollgate-Org": "acme", "X-Tollgate-Tag-Feature": "search",
                    "X-Tollgate-Session": "conv-1"}
STREAM_ERRORS = (openai.APIError, anthropic.APIError, httpx.HTTPError, httpx2.HTTPError)


def oai(tg, prefix="/openai/v1", **kw):
    return openai.OpenAI(base_url=tg.url + prefix, api_key=KEY, max_retries=0, **kw)


def ant(tg, **kw):
    return anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key=ANT_KEY, max_retries=0, **kw)


def gem(tg, headers=None):
    opts = {"base_url": tg.url + "/gemini"}
    if headers:
        opts["headers"] = headers
    return genai.Client(api_key=GOOG_KEY, http_options=opts)


def bearer(key=KEY):
    return {"Authorization": "Bearer " + key}


def no_tollgate_headers(rec):
    return [h for h in rec.headers if h.startswith("x-tollgate")]


# -- each provider, streaming and not, returns the mock's content ------------------------------------------

def test_openai_chat_returns_the_mock_content_streaming_and_not(tollgate, mock):
    client = oai(tollgate)
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert answer.choices[0].message.content == TEXT
    assert answer.model == "gpt-4o-mini" and answer.usage.prompt_tokens == 12
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == TEXT
    assert [r.path for r in mock.requests] == ["/v1/chat/completions"] * 2


def test_anthropic_messages_return_the_mock_content_streaming_and_not(tollgate, mock):
    client = ant(tollgate)
    answer = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MSG)
    assert answer.content[0].text == TEXT and answer.usage.output_tokens == 9
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=MSG) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT
    assert final.usage.input_tokens == 12 and final.usage.output_tokens == 9
    assert [r.path for r in mock.requests] == ["/v1/messages"] * 2


def test_gemini_generate_and_stream_return_the_mock_content(tollgate, mock):
    client = gem(tollgate)
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say hi")
    assert answer.text == TEXT and answer.usage_metadata.prompt_token_count == 12
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hi"))
    assert "".join(c.text or "" for c in chunks) == TEXT
    assert chunks[-1].usage_metadata.candidates_token_count == 9
    # google-genai 3.x calls /v1/models/…; the v1beta path of older SDKs and the SPEC's example must work too
    assert mock.last().path == "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    r = httpx.post(tollgate.url + "/gemini/v1beta/models/gemini-2.0-flash:generateContent",
                   json={"contents": [{"parts": [{"text": "hi"}]}]}, headers={"x-goog-api-key": GOOG_KEY})
    assert r.status_code == 200 and r.json()["candidates"][0]["content"]["parts"][0]["text"] == TEXT
    assert mock.last().path == "/v1beta/models/gemini-2.0-flash:generateContent"


def test_openai_completions_embeddings_and_responses_are_forwarded(tollgate, mock):
    client = oai(tollgate)
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi").choices[0].text == TEXT
    stream = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices) == TEXT
    assert client.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding == [0.1, 0.2, 0.3]
    assert client.responses.create(model="gpt-4.1-mini", input="hi").output_text == TEXT
    with client.responses.stream(model="gpt-4.1-mini", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == TEXT and final.output_text == TEXT and final.usage.total_tokens == 21


# -- bytes pass through untouched ----------------------------------------------------------------------------

def test_non_streaming_answer_reaches_the_client_byte_for_byte(tollgate, mock):
    body = json.dumps({"model": "gpt-4o-mini", "messages": MSG, "temperature": 0.5}, indent=1).encode()
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=body,
                   headers=bearer() | {"content-type": "application/json"})
    assert r.status_code == 200
    rec = mock.last()
    assert r.content == rec.sent
    assert rec.body == body, "the request body must reach the provider unchanged"
    assert r.headers["x-request-id"] == dict(rec.response_headers)["x-request-id"]
    assert r.headers["content-type"] == "application/json"


STREAM_CASES = {
    "openai-chat": ("/openai/v1/chat/completions", bearer(),
                    {"model": "mock-slow", "messages": MSG, "stream": True, "stream_options": {"include_usage": True}}),
    "openai-completions": ("/openai/v1/completions", bearer(),
                           {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "stream": True,
                            "stream_options": {"include_usage": True}}),
    "openai-responses": ("/openai/v1/responses", bearer(), {"model": "gpt-4.1-mini", "input": "hi", "stream": True}),
    "anthropic": ("/anthropic/v1/messages", {"x-api-key": ANT_KEY, "anthropic-version": "2023-06-01"},
                  {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": MSG, "stream": True}),
    "gemini": ("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", {"x-goog-api-key": GOOG_KEY},
               {"contents": [{"parts": [{"text": "hi"}]}]}),
}


@pytest.mark.parametrize("case", list(STREAM_CASES))
def test_stream_reaches_the_client_byte_for_byte(tollgate, mock, case):
    path, headers, payload = STREAM_CASES[case]
    body = json.dumps(payload).encode()
    with httpx.stream("POST", tollgate.url + path, content=body,
                      headers=headers | {"content-type": "application/json"}, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        received = b"".join(r.iter_raw())
    rec = mock.last()
    assert rec.wait_done(5) and rec.completed
    assert rec.body == body
    assert received == rec.sent


def test_proxy_asks_for_stream_usage_but_the_client_sees_no_usage_chunk(tollgate, mock):
    chunks = list(oai(tollgate).chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True))
    assert mock.last().json()["stream_options"]["include_usage"] is True, "Tollgate should ask for usage (SPEC §5)"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert all(c.choices for c in chunks), "the extra usage chunk (choices: []) must be removed"
    assert all(c.usage is None for c in chunks)
    # and on the wire: the stream still ends cleanly with [DONE], with no usage in it
    body = {"model": "gpt-4o-mini", "messages": MSG, "stream": True}
    with httpx.stream("POST", tollgate.url + "/openai/v1/chat/completions", json=body, headers=bearer()) as r:
        raw = b"".join(r.iter_raw())
    assert raw.endswith(b"data: [DONE]\n\n") and b'"choices":[]' not in raw and b"prompt_tokens" not in raw


# -- credentials and headers --------------------------------------------------------------------------------

def test_provider_gets_the_client_token_unchanged_and_no_tollgate_headers(tollgate, mock):
    extra = TOLLGATE_HEADERS | {"X-Custom-Client": "kept"}
    oai(tollgate, default_headers=extra).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    rec = mock.last()
    assert rec.headers["authorization"] == "Bearer " + KEY
    assert rec.headers["x-custom-client"] == "kept"
    assert not no_tollgate_headers(rec)

    # the Anthropic SDK 2.x sends its key as a bearer token …
    ant(tollgate, default_headers=extra).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    rec = mock.last()
    assert rec.headers["authorization"] == "Bearer " + ANT_KEY and "anthropic-version" in rec.headers
    assert not no_tollgate_headers(rec)
    # … and other clients as x-api-key
    r = httpx.post(tollgate.url + "/anthropic/v1/messages",
                   json={"model": "claude-haiku-4-5", "max_tokens": 10, "messages": MSG},
                   headers=TOLLGATE_HEADERS | {"x-api-key": ANT_KEY, "anthropic-version": "2023-06-01"})
    assert r.status_code == 200
    rec = mock.last()
    assert rec.headers["x-api-key"] == ANT_KEY and not no_tollgate_headers(rec)

    gclient = gem(tollgate, headers=extra)  # keep a reference: a dropped Client closes its HTTP client
    gclient.models.generate_content(model="gemini-2.5-flash", contents="hi")
    rec = mock.last()
    assert rec.headers["x-goog-api-key"] == GOOG_KEY and not no_tollgate_headers(rec)
    assert rec.headers["x-custom-client"] == "kept"


def test_every_response_carries_a_request_id(start_tollgate, mock):
    tg = start_tollgate()
    auth = bearer()
    url = tg.url + "/openai/v1/chat/completions"
    answers = {
        "ok": httpx.post(url, json={"model": "gpt-4o-mini", "messages": MSG}, headers=auth),
        "provider error": httpx.post(url, json={"model": "mock-error-429", "messages": MSG}, headers=auth),
        "tollgate error": httpx.post(url, content=b"{bad", headers=auth),
        "no key": httpx.post(url, json={"model": "gpt-4o-mini", "messages": MSG}),
        "unmetered": httpx.get(tg.url + "/openai/v1/models", headers=auth),
    }
    with httpx.stream("POST", url, json={"model": "gpt-4o-mini", "messages": MSG, "stream": True}, headers=auth) as r:
        r.read()
        answers["stream"] = r
    dead = start_tollgate(TOLLGATE_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}")
    answers["upstream down"] = httpx.post(dead.url + "/openai/v1/chat/completions",
                                          json={"model": "gpt-4o-mini", "messages": MSG}, headers=auth)
    assert [r.status_code for r in answers.values()] == [200, 429, 400, 401, 200, 200, 502]
    ids = {name: r.headers.get("x-tollgate-request-id") for name, r in answers.items()}
    assert all(ids.values()), ids
    assert len(set(ids.values())) == len(ids), ids


# -- streaming behaviour -----------------------------------------------------------------------------------

def test_hundred_concurrent_streams_all_complete_with_full_content(tollgate, mock):
    client = oai(tollgate, timeout=30)
    deadline = time.monotonic() + 60

    def one(i):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True, user=f"u{i}",
                                                extra_headers={"X-Mock-Interval-Ms": "20"})
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(one, i) for i in range(100)]
        results = [f.result(timeout=max(1, deadline - time.monotonic())) for f in futures]
    assert results == [TEXT] * 100
    recs = mock.find(path="/chat/completions")
    assert len(recs) == 100 and all(r.wait_done(5) and r.completed for r in recs)
    assert sorted(r.json()["user"] for r in recs) == sorted(f"u{i}" for i in range(100))


def test_sse_chunks_arrive_spaced_as_the_provider_sent_them(tollgate, mock):
    arrivals = []
    for chunk in oai(tollgate).chat.completions.create(model="mock-slow", messages=MSG, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
    assert len(arrivals) == 6
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # The mock spaces chunks 150 ms apart; a proxy that buffered the stream would collapse the gaps to ~0.
    assert all(0.08 < g < 0.6 for g in gaps), gaps
    assert arrivals[-1] - arrivals[0] > 0.6


def test_client_abort_mid_stream_cancels_the_upstream_transfer(tollgate, mock):
    body = {"model": "mock-long", "messages": MSG, "stream": True}
    with httpx.stream("POST", tollgate.url + "/openai/v1/chat/completions", json=body, headers=bearer(), timeout=10) as r:
        assert r.status_code == 200
        for i, _ in enumerate(r.iter_raw()):
            if i == 2:
                break
    closed = time.monotonic()
    rec = mock.last(model="mock-long")
    # mock-long would run 10 s; the abort must reach the provider long before that.
    assert rec.wait_done(5), "the provider's transfer was not cancelled after the client went away"
    assert rec.disconnected and not rec.completed
    assert rec.ended_at - closed < 5
    assert len(rec.chunk_times) < 60


def test_upstream_dropping_mid_stream_cuts_the_clients_stream(tollgate, mock):
    with pytest.raises(STREAM_ERRORS):
        for _ in oai(tollgate).chat.completions.create(model="mock-drop", messages=MSG, stream=True,
                                                       stream_options={"include_usage": True}):
            pass
    with pytest.raises(STREAM_ERRORS):
        with ant(tollgate).messages.stream(model="mock-drop", max_tokens=10, messages=MSG) as stream:
            stream.get_final_message()


def test_upstream_idle_mid_stream_past_the_idle_timeout_cuts_the_stream(tollgate, mock):
    started = time.monotonic()
    got = []
    with pytest.raises(STREAM_ERRORS):
        for chunk in oai(tollgate, timeout=15).chat.completions.create(model="mock-stall", messages=MSG, stream=True):
            got.append(chunk)
    assert got, "the chunks sent before the stall should have reached the client"
    assert time.monotonic() - started < 8  # TOLLGATE_IDLE_TIMEOUT=2
    rec = mock.last(model="mock-stall")
    assert rec.wait_done(5) and rec.disconnected


# -- Tollgate's own errors ---------------------------------------------------------------------------------

def test_upstream_refused_is_502_upstream_unavailable_and_sdks_raise_typed_errors(start_tollgate, mock):
    dead = f"http://127.0.0.1:{free_port()}"
    tg = start_tollgate(TOLLGATE_OPENAI_BASE_URL=dead, TOLLGATE_ANTHROPIC_BASE_URL=dead, TOLLGATE_GEMINI_BASE_URL=dead)
    with pytest.raises(openai.InternalServerError) as err:
        oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert err.value.status_code == 502
    assert err.value.body["code"] == "upstream_unavailable" and err.value.body["message"]
    assert err.value.response.headers["content-type"].startswith("application/json")
    with pytest.raises(anthropic.InternalServerError) as err:
        ant(tg).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    assert err.value.status_code == 502
    body = err.value.body
    assert body["type"] == "error" and body["error"]["code"] == "upstream_unavailable" and body["error"]["type"]
    client = gem(tg)
    with pytest.raises(genai_errors.ServerError) as err:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert err.value.code == 502
    assert err.value.details["error"]["reason"] == "upstream_unavailable"
    assert mock.requests == []


def test_silent_upstream_past_the_first_byte_timeout_is_504(tollgate, mock):
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as err:
        oai(tollgate, timeout=15).chat.completions.create(model="mock-hang", messages=MSG)
    elapsed = time.monotonic() - started
    assert err.value.status_code == 504
    assert err.value.body["code"] == "upstream_timeout"
    assert 1.5 < elapsed < 6, elapsed  # TOLLGATE_FIRST_BYTE_TIMEOUT=2
    # the abandoned upstream transfer is closed, not left hanging
    rec = mock.last(model="mock-hang")
    assert rec.wait_done(5) and rec.disconnected


def test_malformed_json_is_400_invalid_request_in_each_provider_shape(tollgate, mock):
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=b"{bad",
                   headers=bearer() | {"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_request" and err["type"] and err["message"]
    r = httpx.post(tollgate.url + "/anthropic/v1/messages", content=b"{bad",
                   headers={"x-api-key": ANT_KEY, "content-type": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "error" and body["error"]["code"] == "invalid_request"
    assert body["error"]["type"] and body["error"]["message"]
    r = httpx.post(tollgate.url + "/gemini/v1beta/models/gemini-2.5-flash:generateContent", content=b"[",
                   headers={"x-goog-api-key": GOOG_KEY, "content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == 400 and err["status"] == "INVALID_ARGUMENT" and err["reason"] == "invalid_request"
    # The message says what is wrong and where: here a trailing comma, which JSON does not allow.
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=b'{"model":"gpt-4o-mini","messages":[],}',
                   headers=bearer() | {"content-type": "application/json"})
    assert r.status_code == 400
    assert "unexpected '}' where an object key should start (byte 37)" in r.json()["error"]["message"], r.text
    assert mock.requests == [], "a malformed request must not reach the provider"


@pytest.mark.parametrize("status", [429, 400])
def test_provider_errors_pass_through_unchanged(tollgate, mock, status):
    model = f"mock-error-{status}"
    cases = [("/openai/v1/chat/completions", bearer(), {"model": model, "messages": MSG}),
             ("/anthropic/v1/messages", {"x-api-key": ANT_KEY}, {"model": model, "max_tokens": 5, "messages": MSG}),
             (f"/gemini/v1beta/models/{model}:generateContent", {"x-goog-api-key": GOOG_KEY}, {"contents": []})]
    for path, headers, payload in cases:
        r = httpx.post(tollgate.url + path, json=payload, headers=headers)
        rec = mock.last()
        assert r.status_code == status, path
        assert r.content == rec.sent, path
        assert r.headers["x-mock-error"] == str(status), path
        assert r.headers["x-request-id"] == dict(rec.response_headers)["x-request-id"], path
        assert r.headers.get("x-tollgate-request-id"), path
    expected = {429: (openai.RateLimitError, anthropic.RateLimitError),
                400: (openai.BadRequestError, anthropic.BadRequestError)}[status]
    with pytest.raises(expected[0]) as err:
        oai(tollgate).chat.completions.create(model=model, messages=MSG)
    assert err.value.body["code"] == f"mock_error_{status}"
    with pytest.raises(expected[1]):
        ant(tollgate).messages.create(model=model, max_tokens=10, messages=MSG)


def test_body_over_the_limit_is_413(tollgate, mock):
    big = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + b"x" * (33 * 1024 * 1024) + b'"}]}'
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=big, headers=bearer(), timeout=30)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"
    assert mock.requests == []


def test_passthrough_disabled_is_401_invalid_api_key(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ALLOW_PASSTHROUGH="false")
    with pytest.raises(openai.AuthenticationError) as err:
        oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert err.value.status_code == 401 and err.value.body["code"] == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError) as err:
        ant(tg).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    assert err.value.body["error"]["code"] == "invalid_api_key"
    assert mock.requests == []


def test_missing_key_is_401(tollgate, mock):
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert mock.requests == []


# -- routing -------------------------------------------------------------------------------------------------

def test_plain_v1_path_means_openai(tollgate, mock):
    answer = oai(tollgate, prefix="/v1").chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert answer.choices[0].message.content == TEXT
    assert mock.last().path == "/v1/chat/completions"
    assert mock.last().headers["authorization"] == "Bearer " + KEY


def test_base_url_path_prefix_is_kept_before_the_client_path(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_OPENAI_BASE_URL=mock.url + "/prefix")
    assert oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG).choices[0].message.content == TEXT
    assert mock.last().path == "/prefix/v1/chat/completions"


def test_custom_openai_compatible_provider_from_env(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_MYLLM_BASE_URL=mock.url + "/myllm-upstream", TOLLGATE_MYLLM_FORMAT="openai")
    client = oai(tg, prefix="/myllm/v1")
    assert client.chat.completions.create(model="llama-3-70b", messages=MSG).choices[0].message.content == TEXT
    rec = mock.last()
    assert rec.path == "/myllm-upstream/v1/chat/completions"
    assert rec.headers["authorization"] == "Bearer " + KEY


def test_unmetered_paths_are_forwarded_unchanged(tollgate, mock):
    r = httpx.get(tollgate.url + "/openai/v1/models", headers=bearer())
    assert r.status_code == 200 and r.content == mock.last().sent
    r = httpx.put(tollgate.url + "/openai/v1/mock/echo?a=1&b=two", content=b"not json at all",
                  headers=bearer() | {"X-Tollgate-User": "bob"})
    assert r.status_code == 200
    rec = mock.last()
    assert rec.method == "PUT" and rec.path == "/v1/mock/echo?a=1&b=two" and rec.body == b"not json at all"
    assert not no_tollgate_headers(rec)


def test_unknown_provider_is_404_naming_the_known_ones(tollgate, mock):
    r = httpx.post(tollgate.url + "/nope/v1/chat/completions", json={}, headers=bearer())
    assert r.status_code == 404
    assert "openai" in r.json()["error"]["message"]
    assert mock.requests == []


# -- lifecycle ---------------------------------------------------------------------------------------------------

def test_health_and_readiness_answer_200_without_auth(tollgate):
    assert httpx.get(tollgate.url + "/healthz").status_code == 200
    assert httpx.get(tollgate.url + "/readyz").status_code == 200


def test_sigterm_lets_an_in_flight_stream_finish_and_exits_zero(start_tollgate, mock):
    tg = start_tollgate()
    result = {}

    def consume():
        try:
            stream = oai(tg, timeout=15).chat.completions.create(model="mock-slow", messages=MSG, stream=True)
            result["text"] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        except Exception as e:  # noqa: BLE001 - reported below
            result["error"] = repr(e)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    rec = mock.wait_for(model="mock-slow", timeout=5)
    assert rec, "the stream never reached the provider"
    assert mock.wait_for(lambda: len(rec.chunk_times) >= 2, timeout=5)
    assert tg.stop() == 0
    worker.join(10)
    assert result.get("text") == TEXT, result
    assert rec.completed
