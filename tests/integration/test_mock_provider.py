"""The mock provider on its own: each official SDK pointed straight at it parses what it sends, and its
switches, usage numbers and records behave as documented. Needs no Tollgate binary."""

import json
import os
import signal
import subprocess
import sys
import time

import anthropic
import httpx
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

from mock_provider import TEXT

MSG = [{"role": "user", "content": "Say hi"}]
HERE = os.path.dirname(os.path.abspath(__file__))


def oai(mock, **kw):
    return openai.OpenAI(base_url=mock.url + "/v1", api_key="sk-test-direct", max_retries=0, **kw)


def ant(mock, **kw):
    return anthropic.Anthropic(base_url=mock.url, api_key="sk-ant-direct", max_retries=0, **kw)


def gem(mock, headers=None):
    opts = {"base_url": mock.url}
    if headers:
        opts["headers"] = headers
    return genai.Client(api_key="AIza-direct", http_options=opts)


# -- OpenAI ---------------------------------------------------------------------------------------

def test_openai_sdk_parses_chat_json_with_default_usage(mock):
    answer = oai(mock).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert answer.choices[0].message.content == TEXT
    assert answer.model == "gpt-4o-mini"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (12, 9, 21)
    rec = mock.last()
    assert rec.path == "/v1/chat/completions" and rec.method == "POST"
    assert rec.headers["authorization"] == "Bearer sk-test-direct"
    assert rec.json()["messages"] == MSG
    assert rec.completed and not rec.disconnected
    assert rec.raw.startswith(b"HTTP/1.1 200 OK\r\n") and rec.raw.endswith(rec.sent)


def test_openai_chat_stream_has_usage_chunk_only_when_asked(mock):
    client = oai(mock)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert b'"usage"' not in mock.last().sent

    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 21
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    sent = mock.last().sent
    assert sent.endswith(b"data: [DONE]\n\n") and b'"choices":[],' in sent


def test_openai_completions_embeddings_and_responses_parse(mock):
    client = oai(mock)
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi").choices[0].text == TEXT
    text = "".join(c.choices[0].text for c in client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="hi", stream=True, stream_options={"include_usage": True}) if c.choices)
    assert text == TEXT
    emb = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.embedding for d in emb.data] == [[0.1, 0.2, 0.3]] * 2 and emb.usage.prompt_tokens == 8
    resp = client.responses.create(model="gpt-4.1-mini", input="hi")
    assert resp.output_text == TEXT and resp.usage.input_tokens == 12 and resp.model == "gpt-4.1-mini"
    with client.responses.stream(model="gpt-4.1-mini", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == TEXT and final.output_text == TEXT
    assert final.usage.output_tokens == 9
    assert b"event: response.completed\n" in mock.last().sent


def test_x_mock_usage_overrides_openai_usage_and_recomputes_the_total(mock):
    usage = {"prompt_tokens": 1000, "completion_tokens": 250, "prompt_tokens_details": {"cached_tokens": 400}}
    client = oai(mock, default_headers={"X-Mock-Usage": json.dumps(usage)})
    answer = client.chat.completions.create(model="gpt-4o", messages=MSG)
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (1000, 250, 1250)
    assert answer.usage.prompt_tokens_details.cached_tokens == 400
    assert answer.usage.completion_tokens_details.reasoning_tokens == 0  # default kept


def test_x_mock_usage_null_leaves_usage_out(mock):
    r = httpx.post(mock.url + "/v1/chat/completions", json={"model": "gpt-4o", "messages": MSG},
                   headers={"X-Mock-Usage": "null"})
    assert r.status_code == 200 and "usage" not in r.json()


# -- Anthropic ---------------------------------------------------------------------------------------

def test_anthropic_sdk_parses_messages_json_and_stream(mock):
    client = ant(mock)
    answer = client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MSG)
    assert answer.content[0].text == TEXT and answer.model == "claude-sonnet-4-6"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 9)
    assert answer.usage.cache_read_input_tokens == 0 and answer.usage.cache_creation_input_tokens == 0
    # anthropic 2.x sends the API key as a bearer token
    assert mock.last().headers["authorization"] == "Bearer sk-ant-direct"
    assert "anthropic-version" in mock.last().headers
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=100, messages=MSG) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT and final.usage.output_tokens == 9 and final.usage.input_tokens == 12
    sent = mock.last().sent
    assert sent.startswith(b"event: message_start\ndata: ") and sent.endswith(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")


def test_x_mock_usage_sets_anthropic_cache_fields_in_message_start(mock):
    usage = {"input_tokens": 5, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 300, "output_tokens": 42}
    client = ant(mock, default_headers={"X-Mock-Usage": json.dumps(usage)})
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=100, messages=MSG) as stream:
        final = stream.get_final_message()
    assert final.usage.cache_read_input_tokens == 2000 and final.usage.cache_creation_input_tokens == 300
    assert final.usage.output_tokens == 42 and final.usage.input_tokens == 5
    events = [json.loads(line[6:]) for line in mock.last().sent.split(b"\n") if line.startswith(b"data: ")]
    assert events[0]["message"]["usage"] == {"input_tokens": 5, "cache_creation_input_tokens": 300,
                                             "cache_read_input_tokens": 2000, "output_tokens": 1}
    assert [e for e in events if e["type"] == "message_delta"][0]["usage"] == {"output_tokens": 42}


# -- Gemini -------------------------------------------------------------------------------------------------

def test_gemini_sdk_parses_generate_and_stream(mock):
    client = gem(mock)
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say hi")
    assert answer.text == TEXT
    assert answer.usage_metadata.prompt_token_count == 12 and answer.usage_metadata.candidates_token_count == 9
    assert answer.usage_metadata.total_token_count == 21
    rec = mock.last()
    # google-genai 3.x defaults to api_version v1 (older releases used v1beta); the mock takes both
    assert rec.path == "/v1/models/gemini-2.5-flash:generateContent"
    assert rec.headers["x-goog-api-key"] == "AIza-direct"
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hi"))
    assert "".join(c.text or "" for c in chunks) == TEXT
    assert chunks[-1].usage_metadata.candidates_token_count == 9
    assert mock.last().path == "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert mock.last().sent.endswith(b"}\r\n\r\n")
    r = httpx.post(mock.url + "/v1beta/models/gemini-2.0-flash:generateContent", json={"contents": []})
    assert r.json()["modelVersion"] == "gemini-2.0-flash" and r.json()["usageMetadata"]["totalTokenCount"] == 21


def test_x_mock_usage_sets_gemini_cached_and_thought_tokens(mock):
    usage = {"promptTokenCount": 5000, "cachedContentTokenCount": 4000, "candidatesTokenCount": 100,
             "thoughtsTokenCount": 700}
    client = gem(mock, headers={"X-Mock-Usage": json.dumps(usage)})
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-pro", contents="Say hi"))
    meta = chunks[-1].usage_metadata
    assert (meta.prompt_token_count, meta.cached_content_token_count, meta.candidates_token_count,
            meta.thoughts_token_count, meta.total_token_count) == (5000, 4000, 100, 700, 5800)
    assert chunks[0].usage_metadata.candidates_token_count is None  # intermediate chunks: prompt side only


# -- switches -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 400])
def test_mock_error_models_answer_in_each_provider_shape(mock, status):
    with pytest.raises(openai.APIStatusError) as err:
        oai(mock).chat.completions.create(model=f"mock-error-{status}", messages=MSG)
    assert err.value.status_code == status and err.value.response.headers["x-mock-error"] == str(status)
    assert err.value.body["code"] == f"mock_error_{status}"
    with pytest.raises(anthropic.APIStatusError) as err:
        ant(mock).messages.create(model=f"mock-error-{status}", max_tokens=10, messages=MSG)
    assert err.value.status_code == status
    assert err.value.body["error"]["type"] == {429: "rate_limit_error", 400: "invalid_request_error"}[status]
    gclient = gem(mock)  # keep a reference: a dropped Client closes its HTTP client
    with pytest.raises(genai_errors.ClientError) as err:
        gclient.models.generate_content(model=f"mock-error-{status}", contents="hi")
    assert err.value.code == status
    assert err.value.status == {429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT"}[status]


def test_openai_sdk_types_for_mock_errors(mock):
    with pytest.raises(openai.RateLimitError):
        oai(mock).chat.completions.create(model="mock-error-429", messages=MSG)
    with pytest.raises(anthropic.BadRequestError):
        ant(mock).messages.create(model="mock-error-400", max_tokens=10, messages=MSG)


def test_mock_slow_spaces_chunks(mock):
    arrivals = []
    for chunk in oai(mock).chat.completions.create(model="mock-slow", messages=MSG, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert len(arrivals) == 6 and all(0.1 < g < 0.5 for g in gaps), gaps
    rec = mock.last()
    sent_gaps = [b - a for a, b in zip(rec.chunk_times, rec.chunk_times[1:])]
    assert all(g >= 0.14 for g in sent_gaps), sent_gaps


def test_mock_long_records_a_client_that_goes_away(mock):
    body = {"model": "mock-long", "messages": MSG, "stream": True}
    with httpx.stream("POST", mock.url + "/v1/chat/completions", json=body, timeout=10) as r:
        for i, _ in enumerate(r.iter_raw()):
            if i == 2:
                break
    rec = mock.last()
    assert rec.wait_done(3), "the mock did not notice the client leaving"
    assert rec.disconnected and not rec.completed
    assert len(rec.chunk_times) < 20


def test_mock_hang_answers_nothing_until_the_client_leaves(mock):
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(mock.url + "/v1/messages", json={"model": "mock-hang", "max_tokens": 5, "messages": MSG}, timeout=0.5)
    rec = mock.last()
    assert rec.wait_done(3) and rec.disconnected and rec.raw == b"" and rec.status is None


def test_mock_stall_sends_two_events_then_nothing(mock):
    body = {"model": "mock-stall", "messages": MSG, "stream": True}
    got = b""
    with pytest.raises(httpx.ReadTimeout):
        with httpx.stream("POST", mock.url + "/v1/chat/completions", json=body, timeout=0.7) as r:
            for data in r.iter_raw():
                got += data
    assert got.count(b"data: ") == 2
    assert mock.last().wait_done(3) and mock.last().disconnected


def test_mock_drop_cuts_the_stream_without_its_end(mock):
    with pytest.raises((openai.APIError, httpx.HTTPError, httpx2.HTTPError)):
        for _ in oai(mock).chat.completions.create(model="mock-drop", messages=MSG, stream=True):
            pass
    rec = mock.last()
    # The client can see the cut before the mock's thread has marked the record: wait for it.
    assert rec.wait_done(5)
    assert rec.dropped and not rec.completed and not rec.raw.endswith(b"0\r\n\r\n")
    with pytest.raises((anthropic.APIError, httpx.HTTPError, httpx2.HTTPError)):
        with ant(mock).messages.stream(model="mock-drop", max_tokens=10, messages=MSG) as stream:
            stream.get_final_message()


# -- HTTP plumbing and records ----------------------------------------------------------------------

def test_records_hold_exact_bytes_and_keep_alive_is_used(mock):
    with httpx.Client() as client:
        a = client.post(mock.url + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG})
        with client.stream("POST", mock.url + "/v1/messages",
                           json={"model": "claude-haiku-4-5", "max_tokens": 5, "messages": MSG, "stream": True}) as r:
            b = r.read()
            assert r.headers["transfer-encoding"] == "chunked"
    first, second = mock.requests
    assert a.content == first.sent and b == second.sent
    assert first.client == second.client, "the second request should reuse the keep-alive connection"
    assert b"\r\ntransfer-encoding: chunked\r\n" in second.raw and second.raw.endswith(b"\r\n0\r\n\r\n")
    assert a.headers["x-request-id"].startswith("mock-req-")


def test_path_prefix_chunked_request_bodies_and_echo(mock):
    def gen():
        yield b'{"model": "gpt-4o-mini", '
        yield b'"messages": []}'
    r = httpx.post(mock.url + "/some/prefix/v1/chat/completions", content=gen())
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == TEXT
    rec = mock.last()
    assert rec.path == "/some/prefix/v1/chat/completions" and rec.body == b'{"model": "gpt-4o-mini", "messages": []}'
    assert rec.headers["transfer-encoding"] == "chunked"
    r = httpx.put(mock.url + "/v1/mock/echo?x=1", content=b"raw", headers={"X-Thing": "y"})
    assert r.json()["method"] == "PUT" and r.json()["path"] == "/v1/mock/echo?x=1" and r.json()["body"] == "raw"
    assert httpx.post(mock.url + "/v1/unknown", json={}).status_code == 404


def test_wait_for_and_reset(mock):
    oai(mock).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    rec = mock.wait_for(model="gpt-4o-mini", path="/chat/completions")
    assert rec.wait_done(2) and rec.completed
    assert mock.wait_for(model="nothing-like-this", timeout=0.1) is None
    assert mock.wait_for(lambda: len(mock.requests) == 1, timeout=0.1)
    mock.reset()
    assert mock.requests == []


def test_standalone_process_serves_and_stops_on_sigterm(tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "mock_provider.py"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("mock provider listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0)
        assert client.chat.completions.create(model="gpt-4o-mini", messages=MSG).choices[0].message.content == TEXT
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
