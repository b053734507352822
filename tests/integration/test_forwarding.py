"""Forwarding core, driven by the official SDKs: OpenAI, Anthropic and Google Gen AI → Tollgate → mock."""

import json
import threading
import time
import concurrent.futures

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

KEY = "sk-test-123"


def oai(tg, **kw):
    return openai.OpenAI(base_url=tg.url + "/openai/v1", api_key=KEY, max_retries=0, **kw)


def ant(tg, **kw):
    return anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key="sk-ant-test", max_retries=0, **kw)


def gem(tg):
    return genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=tg.url + "/gemini"))


MSG = [{"role": "user", "content": "Say hi"}]


# -- each provider, streaming and not ---------------------------------------------------------

def test_openai_chat_non_streaming_and_streaming(tollgate, mock):
    client = oai(tollgate)
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert answer.choices[0].message.content == "Hello from the mock provider."
    assert answer.usage.prompt_tokens == 12
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello from the"


def test_anthropic_messages_non_streaming_and_streaming(tollgate, mock):
    client = ant(tollgate)
    answer = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MSG)
    assert answer.content[0].text == "Hello from the mock provider."
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=MSG) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from the"
    assert final.usage.output_tokens == 9


def test_gemini_generate_and_stream(tollgate, mock):
    client = gem(tollgate)
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say hi")
    assert answer.text == "Hello from the mock provider."
    assert answer.usage_metadata.prompt_token_count == 12
    text = "".join(c.text or "" for c in client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hi"))
    assert text == "Hello from the"
    assert mock.last().headers.get("x-goog-api-key") == "AIza-test"
    assert mock.last().path.endswith(":streamGenerateContent?alt=sse")


def test_openai_completions_embeddings_and_responses(tollgate, mock):
    client = oai(tollgate)
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi").choices[0].text == "Hello from the mock provider."
    assert client.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding == [0.1, 0.2, 0.3]
    assert client.responses.create(model="gpt-4o-mini", input="hi").output_text == "Hello from the mock provider."
    with client.responses.stream(model="gpt-4o-mini", input="hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hello from the mock provider."


# -- bytes and headers pass through untouched ------------------------------------------------------

def test_client_receives_exactly_the_mock_bytes(tollgate, mock):
    body = {"model": "gpt-4o-mini", "messages": MSG}
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer " + KEY})
    assert r.status_code == 200
    assert r.content == mock.last().sent

    body = {"model": "mock-slow", "messages": MSG, "stream": True, "stream_options": {"include_usage": True}}
    with httpx.stream("POST", tollgate.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer " + KEY}) as r:
        received = b"".join(r.iter_raw())
    assert mock.wait_for(lambda: mock.last().completed)
    assert received == mock.last().sent
    assert b"[DONE]" in received


def test_mock_gets_client_token_and_no_tollgate_headers(tollgate, mock):
    headers = {"X-Tollgate-User": "alice", "X-Tollgate-Org": "acme", "X-Tollgate-Tag-Feature": "search",
               "X-Tollgate-Session": "s1"}
    oai(tollgate, default_headers=headers).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    seen = mock.last().headers
    assert seen["authorization"] == "Bearer " + KEY
    assert not [h for h in seen if h.startswith("x-tollgate-")]
    ant(tollgate, default_headers=headers).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    seen = mock.last().headers
    # Anthropic SDK 2.x sends its key as Authorization: Bearer; either way it arrives unchanged.
    assert seen.get("x-api-key") == "sk-ant-test" or seen.get("authorization") == "Bearer sk-ant-test"
    assert "anthropic-version" in seen
    assert not [h for h in seen if h.startswith("x-tollgate-")]


def test_every_response_has_a_request_id(tollgate, mock):
    auth = {"Authorization": "Bearer " + KEY}
    ok = httpx.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG}, headers=auth)
    provider_error = httpx.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "mock-error-429", "messages": MSG}, headers=auth)
    own_error = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=b"{bad", headers=auth)
    unmetered = httpx.get(tollgate.url + "/openai/v1/models", headers=auth)
    ids = [r.headers.get("x-tollgate-request-id") for r in (ok, provider_error, own_error, unmetered)]
    assert all(i and i.startswith("req_") for i in ids), ids
    assert len(set(ids)) == 4


def test_provider_errors_pass_through_unchanged(tollgate, mock):
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "mock-error-429", "messages": MSG},
                   headers={"Authorization": "Bearer " + KEY})
    assert r.status_code == 429
    assert r.content == mock.last().sent
    assert r.headers["x-mock-error"] == "yes"
    with pytest.raises(anthropic.RateLimitError):
        ant(tollgate).messages.create(model="mock-error-429", max_tokens=10, messages=MSG)


# -- streaming behaviour ---------------------------------------------------------------------------------

def test_hundred_concurrent_streams_complete(tollgate, mock):
    client = oai(tollgate, timeout=30)

    def one(i):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True, user=f"u{i}")
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, range(100), timeout=60))
    assert results == ["Hello from the"] * 100


def test_sse_chunks_arrive_spaced_as_sent(tollgate, mock):
    client = oai(tollgate)
    arrivals = []
    for chunk in client.chat.completions.create(model="mock-slow", messages=MSG, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
    assert len(arrivals) == 5
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # The mock spaces chunks 150 ms apart; buffering to the end would collapse the gaps to ~0.
    assert all(g > 0.08 for g in gaps), gaps
    assert arrivals[-1] - arrivals[0] > 0.45


def test_client_abort_cancels_the_upstream_transfer(tollgate, mock):
    body = {"model": "mock-long", "messages": MSG, "stream": True}
    started = time.monotonic()
    with httpx.stream("POST", tollgate.url + "/openai/v1/chat/completions", json=body,
                      headers={"Authorization": "Bearer " + KEY}, timeout=10) as r:
        chunks = 0
        for _ in r.iter_raw():
            chunks += 1
            if chunks >= 3:
                break
    rec = mock.last()
    # mock-long would run 10 s; the abort must reach the mock long before that.
    assert mock.wait_for(lambda: rec.disconnected, timeout=5), "the mock never saw the transfer cancelled"
    assert not rec.completed
    assert time.monotonic() - started < 6


def test_upstream_dropping_mid_stream_makes_the_sdk_raise(tollgate, mock):
    client = oai(tollgate)
    with pytest.raises((openai.APIError, httpx.HTTPError)):
        for _ in client.chat.completions.create(model="mock-drop", messages=MSG, stream=True):
            pass


# -- Tollgate's own errors ---------------------------------------------------------------------------------

def test_upstream_refused_is_502_and_sdks_raise_typed_errors(start_tollgate):
    from conftest import free_port
    dead = f"http://127.0.0.1:{free_port()}"
    tg = start_tollgate(TOLLGATE_OPENAI_BASE_URL=dead, TOLLGATE_ANTHROPIC_BASE_URL=dead)
    with pytest.raises(openai.InternalServerError) as err:
        oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert err.value.status_code == 502
    assert err.value.body["code"] == "upstream_unavailable"
    with pytest.raises(anthropic.APIStatusError) as err:
        ant(tg).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    assert err.value.status_code == 502
    assert err.value.body["error"]["code"] == "upstream_unavailable"


def test_silent_upstream_times_out_with_504(tollgate, mock):
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as err:
        oai(tollgate).chat.completions.create(model="mock-hang", messages=MSG)
    assert err.value.status_code == 504
    assert err.value.body["code"] == "upstream_timeout"
    assert time.monotonic() - started < 5


def test_malformed_json_is_400_in_each_provider_shape(tollgate, mock):
    before = len(mock.requests)
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", content=b"{bad", headers={"Authorization": "Bearer " + KEY})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_request" and err["type"] == "invalid_request_error" and "JSON" in err["message"]
    r = httpx.post(tollgate.url + "/anthropic/v1/messages", content=b"{bad", headers={"x-api-key": "sk-ant"})
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "error" and body["error"]["code"] == "invalid_request"
    r = httpx.post(tollgate.url + "/gemini/v1beta/models/gemini-2.5-flash:generateContent", content=b"[",
                   headers={"x-goog-api-key": "AIza"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert len(mock.requests) == before, "a malformed request must not reach the provider"


def test_body_over_the_limit_is_413(start_tollgate, mock):
    from conftest import Tollgate  # noqa: F401
    tg = start_tollgate()
    big = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + b"x" * (33 * 1024 * 1024) + b'"}]}'
    r = httpx.post(tg.url + "/openai/v1/chat/completions", content=big, headers={"Authorization": "Bearer " + KEY}, timeout=30)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_passthrough_disabled_is_401(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ALLOW_PASSTHROUGH="false")
    with pytest.raises(openai.AuthenticationError) as err:
        oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert err.value.body["code"] == "invalid_api_key"


def test_missing_key_is_401(tollgate, mock):
    r = httpx.post(tollgate.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


# -- routing -------------------------------------------------------------------------------------------------

def test_plain_v1_means_openai(tollgate, mock):
    client = openai.OpenAI(base_url=tollgate.url + "/v1", api_key=KEY, max_retries=0)
    assert client.chat.completions.create(model="gpt-4o-mini", messages=MSG).choices[0].message.content
    assert mock.last().path == "/v1/chat/completions"


def test_base_url_path_prefix_is_kept(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_OPENAI_BASE_URL=mock.url + "/prefix")
    oai(tg).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert mock.last().path == "/prefix/v1/chat/completions"


def test_custom_openai_compatible_provider_from_env(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_MYLLM_BASE_URL=mock.url, TOLLGATE_MYLLM_FORMAT="openai")
    client = openai.OpenAI(base_url=tg.url + "/myllm/v1", api_key=KEY, max_retries=0)
    assert client.chat.completions.create(model="llama-3", messages=MSG).choices[0].message.content
    assert mock.last().path == "/v1/chat/completions"


def test_unknown_provider_is_404_with_a_hint(tollgate):
    r = httpx.post(tollgate.url + "/nope/v1/chat/completions", json={}, headers={"Authorization": "Bearer " + KEY})
    assert r.status_code == 404
    assert "openai" in r.json()["error"]["message"]


# -- lifecycle ---------------------------------------------------------------------------------------------------

def test_health_and_readiness_need_no_auth(tollgate):
    assert httpx.get(tollgate.url + "/healthz").status_code == 200
    assert httpx.get(tollgate.url + "/readyz").status_code == 200


def test_sigterm_lets_an_in_flight_stream_finish_and_exits_zero(start_tollgate, mock):
    tg = start_tollgate()
    result = {}

    def consume():
        stream = oai(tg).chat.completions.create(model="mock-slow", messages=MSG, stream=True)
        result["text"] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    worker = threading.Thread(target=consume)
    worker.start()
    assert mock.wait_for(lambda: mock.requests and mock.last().body and json.loads(mock.last().body).get("model") == "mock-slow")
    time.sleep(0.2)
    assert tg.stop() == 0
    worker.join(10)
    assert result.get("text") == "Hello from the mock provider"
