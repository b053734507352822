"""The response cache end to end (SPEC §2, §5, §8, §9): SDK and raw traffic → Tollgate → mock provider,
counting what reaches the provider, reading Tollgate's X-Tollgate-Cache / -Cost-USD / -Saved-USD headers,
and checking the admin API, the stats and the CLI.

Each test starts its own Tollgate on a fresh database, so nothing is cached at the start. A HIT must
never reach the mock: every test counts the mock's records. Money is compared as exact Decimals;
gpt-4o-mini with the mock's default usage (12 in, 9 out) costs $0.0000072.
"""

import concurrent.futures
import json
import re
import threading
import time
from decimal import Decimal

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from access_helpers import ADMIN, Admin, ant, assert_field_error, oai, start
from cache_helpers import (CHAT, COMPLETIONS, DEFAULT_MAX_BYTES, EMBEDDINGS, GEMINI_GENERATE, GEMINI_STREAM,
                           MESSAGES, PASSTHROUGH, RESPONSES, assert_cache, cache_info, cache_of, chat_body, cli,
                           cli_json, cost, describe, post, prompt_cache_savings, sse_events, stream_post, usd,
                           usage_events, wait_cache)
from mock_provider import TEXT

MSG = [{"role": "user", "content": "Say hi"}]
C = cost("gpt-4o-mini", 12, 9)  # one default mock answer on gpt-4o-mini
GOOG_KEY = "AIza-cache-test-1"


def upstream(mock):
    """Requests that reached the provider on a metered route."""
    return [r for r in mock.requests if "/mock/echo" not in r.path and not r.path.endswith("/v1/models")]


def assert_reached(mock, n, why=""):
    got = upstream(mock)
    assert len(got) == n, f"{len(got)} requests reached the provider, expected {n} {why}: {got}"


# -- SDK helpers that return (headers, text, parsed) ----------------------------------------------------------

def openai_chat(client, mode, content="Say hi", headers=None, **kw):
    """mode 'json': a non-streaming completion; 'stream': a streamed one read to the end."""
    messages = [{"role": "user", "content": content}]
    if mode == "json":
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages,
                                                               extra_headers=headers or {}, **kw)
        completion = raw.parse()
        return raw.headers, completion.choices[0].message.content, completion
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True,
                                            extra_headers=headers or {}, **kw)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return stream.response.headers, text, chunks


def anthropic_message(client, mode, content="Say hi", headers=None):
    messages = [{"role": "user", "content": content}]
    if mode == "json":
        raw = client.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=100, messages=messages,
                                                       extra_headers=headers or {})
        message = raw.parse()
        return raw.headers, "".join(b.text for b in message.content if b.type == "text"), message
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=messages,
                                extra_headers=headers or {}) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        headers_seen = stream.response.headers
    return headers_seen, text, final


def gemini_client(tg):
    return genai.Client(api_key=GOOG_KEY, http_options=genai_types.HttpOptions(base_url=tg.url + "/gemini"))


def fire_together(n, fn):
    """Runs fn(i) in n threads released at once by a barrier; returns the results in order."""
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait(timeout=10)
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        return [f.result(timeout=60) for f in futures]


# -- turning it on and off ----------------------------------------------------------------------------------------

def test_cache_is_off_by_default_and_adds_no_cache_header(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    for _ in range(2):
        r = post(tg, CHAT, chat_body())
        assert r.status_code == 200, describe(r)
        assert cache_of(r) is None, f"the cache was not considered, so no X-Tollgate-Cache: {describe(r)}"
        assert r.headers.get("x-tollgate-saved-usd") is None, describe(r)
        assert usd(r.headers["x-tollgate-cost-usd"]) == C, describe(r)
    assert_reached(mock, 2, "with the cache off by default")
    info = cache_info(admin)
    assert info["entries"] == 0 and info["memory_entries"] == 0, info
    assert info["max_bytes"] == DEFAULT_MAX_BYTES, f"cache.max_bytes defaults to 256 MiB: {info}"


def test_tollgate_cache_on_answers_a_repeat_without_reaching_the_provider(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = oai(tg, PASSTHROUGH)
    h1, text1, first = openai_chat(client, "json")
    assert h1.get("x-tollgate-cache") == "MISS", dict(h1)
    h2, text2, second = openai_chat(client, "json")
    assert h2.get("x-tollgate-cache") == "HIT", dict(h2)
    assert h2.get("x-tollgate-cache-source") == "memory", f"a fresh entry is served from memory: {dict(h2)}"
    assert text1 == text2 == TEXT
    assert second.model_dump() == first.model_dump(), "a hit returns the stored answer"
    assert h2["x-tollgate-request-id"] != h1["x-tollgate-request-id"], "a hit is a request of its own"
    assert_reached(mock, 1)
    assert not [h for h in mock.last().headers if h.startswith("x-tollgate")], \
        f"X-Tollgate-* request headers must not reach the provider: {mock.last().headers}"


def test_unmetered_paths_never_carry_a_cache_header(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    for headers in ({}, {"X-Tollgate-Cache": "on"}):
        r = httpx.get(tg.url + "/openai/v1/models", headers={"Authorization": "Bearer " + PASSTHROUGH, **headers})
        assert r.status_code == 200 and cache_of(r) is None, describe(r)
    assert len(mock.find(path="/v1/models")) == 2, "an unmetered request is always forwarded"


def test_request_header_turns_the_cache_on_when_the_config_is_off(start_tollgate, mock):
    tg, _ = start(start_tollgate)
    on = {"X-Tollgate-Cache": "on"}
    assert_cache(post(tg, CHAT, chat_body(), on), "MISS")
    hit = post(tg, CHAT, chat_body(), on)
    assert_cache(hit, "HIT")
    assert hit.json()["choices"][0]["message"]["content"] == TEXT
    assert_reached(mock, 1)
    # without the header the config (off) applies: not considered at all, forwarded
    plain = post(tg, CHAT, chat_body())
    assert plain.status_code == 200 and cache_of(plain) is None, describe(plain)
    assert_reached(mock, 2)


def test_header_off_bypasses_the_cache_and_leaves_the_entry_alone(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    off = {"X-Tollgate-Cache": "off"}
    # off before anything is cached: forwarded and not stored
    assert_cache(post(tg, CHAT, chat_body(), off), "BYPASS")
    assert_reached(mock, 1)
    assert_cache(post(tg, CHAT, chat_body()), "MISS")
    assert_reached(mock, 2)
    # off with an entry present: forwarded, and its (different) answer does not replace the entry
    other = {**off, "X-Mock-Usage": json.dumps({"prompt_tokens": 500})}
    bypass = post(tg, CHAT, chat_body(), other)
    assert_cache(bypass, "BYPASS")
    assert bypass.json()["usage"]["prompt_tokens"] == 500
    assert_reached(mock, 3)
    hit = post(tg, CHAT, chat_body())
    assert_cache(hit, "HIT")
    assert hit.json()["usage"]["prompt_tokens"] == 12, f"the bypassed answer replaced the entry: {describe(hit)}"
    assert_reached(mock, 3)


def test_refresh_fetches_anew_and_the_next_call_hits_the_new_answer(start_tollgate, mock):
    tg, _ = start(start_tollgate)
    on, refresh = {"X-Tollgate-Cache": "on"}, {"X-Tollgate-Cache": "refresh"}
    old = post(tg, CHAT, chat_body(), {**on, "X-Mock-Usage": json.dumps({"prompt_tokens": 100})})
    assert_cache(old, "MISS")
    assert_cache(post(tg, CHAT, chat_body(), on), "HIT")
    assert_reached(mock, 1)
    new = post(tg, CHAT, chat_body(), {**refresh, "X-Mock-Usage": json.dumps({"prompt_tokens": 200})})
    assert_cache(new, "REFRESH")
    assert new.json()["usage"]["prompt_tokens"] == 200, describe(new)
    assert usd(new.headers["x-tollgate-cost-usd"]) == cost("gpt-4o-mini", 200, 9), describe(new)
    assert_reached(mock, 2, "refresh always goes upstream")
    hit = post(tg, CHAT, chat_body(), on)
    assert_cache(hit, "HIT")
    assert hit.json()["usage"]["prompt_tokens"] == 200, f"the hit should reuse the refreshed answer: {describe(hit)}"
    assert usd(hit.headers["x-tollgate-saved-usd"]) == cost("gpt-4o-mini", 200, 9), describe(hit)
    assert_reached(mock, 2)


def test_per_request_ttl_expires_the_entry(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    ttl = {"X-Tollgate-Cache-TTL": "1"}
    assert_cache(post(tg, CHAT, chat_body(), ttl), "MISS")
    assert_cache(post(tg, CHAT, chat_body(), ttl), "HIT")
    assert_reached(mock, 1)
    time.sleep(1.6)
    assert_cache(post(tg, CHAT, chat_body(), ttl), "MISS")
    assert_reached(mock, 2, "an expired entry must not answer")


def test_tollgate_cache_ttl_is_the_default_and_a_request_can_override_it(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on", TOLLGATE_CACHE_TTL="1")
    short, long_ = chat_body("short-lived"), chat_body("long-lived")
    long_ttl = {"X-Tollgate-Cache-TTL": "3600"}
    assert_cache(post(tg, CHAT, short), "MISS")
    assert_cache(post(tg, CHAT, long_, long_ttl), "MISS")
    assert_cache(post(tg, CHAT, short), "HIT")
    wait_cache(admin, lambda i: i["entries"] == 2, message="both entries stored")
    time.sleep(1.6)
    info = cache_info(admin)
    assert info["entries"] == 1, f"GET /admin/cache counts entries that have not expired: {info}"
    assert_cache(post(tg, CHAT, short), "MISS")
    assert_cache(post(tg, CHAT, long_, long_ttl), "HIT")
    assert_reached(mock, 3)


# -- key policy and precedence --------------------------------------------------------------------------------------

def test_key_policy_turns_the_cache_on_and_the_header_overrides_it(start_tollgate, mock):
    tg, admin = start(start_tollgate)  # TOLLGATE_CACHE off
    admin.create_org("acme")
    k_on = admin.create_key("acme", name="cache-on", cache="on")
    k_default = admin.create_key("acme", name="cache-default", cache="default")
    k_off = admin.create_key("acme", name="cache-off", cache="off")
    assert (k_on["cache"], k_default["cache"], k_off["cache"]) == ("on", "default", "off")

    assert_cache(post(tg, CHAT, chat_body("policy on"), token=k_on["key"]), "MISS")
    assert_cache(post(tg, CHAT, chat_body("policy on"), token=k_on["key"]), "HIT")
    assert_reached(mock, 1)
    for _ in range(2):  # default follows TOLLGATE_CACHE (off): not considered
        r = post(tg, CHAT, chat_body("policy default"), token=k_default["key"])
        assert r.status_code == 200 and cache_of(r) is None, describe(r)
    assert_reached(mock, 3)
    assert_cache(post(tg, CHAT, chat_body("policy off"), token=k_off["key"]), "BYPASS")
    assert_reached(mock, 4)
    # the request header wins over the key policy, both ways
    on = {"X-Tollgate-Cache": "on"}
    assert_cache(post(tg, CHAT, chat_body("policy off, header on"), on, token=k_off["key"]), "MISS")
    assert_cache(post(tg, CHAT, chat_body("policy off, header on"), on, token=k_off["key"]), "HIT")
    assert_reached(mock, 5)
    assert_cache(post(tg, CHAT, chat_body("policy on"), {"X-Tollgate-Cache": "off"}, token=k_on["key"]), "BYPASS")
    assert_reached(mock, 6)


def test_key_policy_off_wins_over_tollgate_cache_on(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    admin.create_org("acme")
    k_off = admin.create_key("acme", name="cache-off", cache="off")
    k_default = admin.create_key("acme", name="cache-default")
    for _ in range(2):
        assert_cache(post(tg, CHAT, chat_body("off"), token=k_off["key"]), "BYPASS")
    assert_reached(mock, 2)
    assert_cache(post(tg, CHAT, chat_body("default"), token=k_default["key"]), "MISS")
    assert_cache(post(tg, CHAT, chat_body("default"), token=k_default["key"]), "HIT")
    assert_reached(mock, 3)
    # a policy change through the admin API applies to the next request
    admin.call("PATCH", f"/admin/keys/{k_default['id']}", {"cache": "off"})
    assert_cache(post(tg, CHAT, chat_body("default"), token=k_default["key"]), "BYPASS")
    assert_reached(mock, 4)
    assert_field_error(admin.request("POST", "/admin/keys", {"org": "acme", "cache": "sometimes"}), "cache")


# -- what is cached -------------------------------------------------------------------------------------------------

ENDPOINTS = {
    "openai-chat": (CHAT, chat_body()),
    "openai-completions": (COMPLETIONS, {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"}),
    "openai-embeddings": (EMBEDDINGS, {"model": "text-embedding-3-small", "input": "Say hi"}),
    "openai-responses": (RESPONSES, {"model": "gpt-4.1-mini", "input": "Say hi"}),
    "anthropic-messages": (MESSAGES, {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MSG}),
    "gemini-generate": (GEMINI_GENERATE, {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_cacheable_endpoint_answers_a_repeat_from_the_cache(start_tollgate, mock, endpoint):
    path, body = ENDPOINTS[endpoint]
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    miss = post(tg, path, body)
    assert miss.status_code == 200, describe(miss)
    assert_cache(miss, "MISS")
    hit = post(tg, path, body)
    assert hit.status_code == 200, describe(hit)
    assert_cache(hit, "HIT")
    assert hit.json() == miss.json(), f"the hit should be the stored answer: {describe(hit)}"
    assert hit.headers["content-type"].startswith("application/json"), describe(hit)
    assert usd(hit.headers["x-tollgate-cost-usd"]) == 0, describe(hit)
    assert usd(hit.headers["x-tollgate-saved-usd"]) == usd(miss.headers["x-tollgate-cost-usd"]) > 0, describe(hit)
    assert_reached(mock, 1)


def test_streaming_responses_request_is_bypassed(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = oai(tg, PASSTHROUGH)
    for expected_reached in (1, 2):
        stream = client.responses.create(model="gpt-4.1-mini", input="Say hi", stream=True)
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        assert "".join(deltas) == TEXT
        assert stream.response.headers.get("x-tollgate-cache") == "BYPASS", dict(stream.response.headers)
        assert_reached(mock, expected_reached)
    raw = client.responses.with_raw_response.create(model="gpt-4.1-mini", input="Say hi")
    assert raw.headers.get("x-tollgate-cache") == "MISS" and raw.parse().output_text == TEXT
    raw = client.responses.with_raw_response.create(model="gpt-4.1-mini", input="Say hi")
    assert raw.headers.get("x-tollgate-cache") == "HIT" and raw.parse().output_text == TEXT
    assert_reached(mock, 3)
    stream = client.responses.create(model="gpt-4.1-mini", input="Say hi", stream=True)
    assert "".join(e.delta for e in stream if e.type == "response.output_text.delta") == TEXT
    assert stream.response.headers.get("x-tollgate-cache") == "BYPASS"
    assert_reached(mock, 4, "a streaming Responses request is never answered from the cache")


@pytest.mark.parametrize("model,status", [("mock-error-500", 500), ("mock-error-400", 400)])
def test_an_upstream_error_is_not_cached(start_tollgate, mock, model, status):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    for n in (1, 2):
        r = post(tg, CHAT, chat_body(model=model))
        assert r.status_code == status, describe(r)
        assert_cache(r, "MISS")
        assert r.json()["error"]["code"] == f"mock_error_{status}", "the provider's error passes through"
        assert_reached(mock, n)
    info = cache_info(admin)
    assert info["entries"] == 0 and info["memory_entries"] == 0, info


def test_a_stream_cut_short_is_not_cached(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    for n in (1, 2):
        with pytest.raises(httpx.HTTPError):
            stream_post(tg, CHAT, chat_body(model="mock-drop", stream=True))
        assert_reached(mock, n, "an incomplete answer must not be replayed")
    info = cache_info(admin)
    assert info["entries"] == 0, info


# -- the cache key --------------------------------------------------------------------------------------------------

def test_key_order_whitespace_and_number_spelling_do_not_change_the_key(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    compact = (b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"canonical"}],'
               b'"temperature":1,"logit_bias":{"50256":100}}')
    spread = (b'{\n  "logit_bias" : { "50256" : 1e2 },\n\t"temperature": 1.0,\n'
              b'  "messages": [ { "content": "canonical", "role": "user" } ],\n  "model": "gpt-4o-mini"\n}\n')
    miss = post(tg, CHAT, compact)
    assert_cache(miss, "MISS")
    assert mock.last().body == compact, "the request body reaches the provider unchanged"
    hit = post(tg, CHAT, spread)
    assert_cache(hit, "HIT")
    assert hit.json() == miss.json()
    assert_reached(mock, 1)


def test_user_and_metadata_do_not_change_the_key_and_the_hit_is_attributed_to_its_caller(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    first = post(tg, CHAT, chat_body(user="alice", metadata={"run": "1"}))
    assert_cache(first, "MISS")
    second = post(tg, CHAT, chat_body(user="bob", metadata={"run": "2", "extra": "x"}))
    assert_cache(second, "HIT")
    third = post(tg, CHAT, chat_body())
    assert_cache(third, "HIT")
    assert_reached(mock, 1)
    events = {e["request_id"]: e for e in usage_events(tg, 3)}
    hit_event = events[second.headers["x-tollgate-request-id"]]
    assert hit_event["user"] == "bob" and hit_event["cached"] is True, hit_event


def test_different_parameters_or_model_miss(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    assert_cache(post(tg, CHAT, chat_body(temperature=0.2)), "MISS")
    assert_cache(post(tg, CHAT, chat_body(temperature=0.7)), "MISS")
    assert_cache(post(tg, CHAT, chat_body(temperature=0.2)), "HIT")
    assert_cache(post(tg, CHAT, chat_body(temperature=0.2, model="gpt-4o")), "MISS")
    assert_cache(post(tg, CHAT, chat_body("Say bye", temperature=0.2)), "MISS")
    assert_reached(mock, 4)


def test_one_org_never_receives_another_orgs_answer(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    acme, globex = {"X-Tollgate-Org": "acme"}, {"X-Tollgate-Org": "globex"}
    a1 = post(tg, CHAT, chat_body(), {**acme, "X-Mock-Usage": json.dumps({"prompt_tokens": 111})})
    assert_cache(a1, "MISS")
    g1 = post(tg, CHAT, chat_body(), globex)
    assert_cache(g1, "MISS")
    assert g1.json()["usage"]["prompt_tokens"] == 12, f"globex got acme's answer: {describe(g1)}"
    assert_reached(mock, 2)
    a2 = post(tg, CHAT, chat_body(), acme)
    assert_cache(a2, "HIT")
    assert a2.json()["usage"]["prompt_tokens"] == 111
    g2 = post(tg, CHAT, chat_body(), globex)
    assert_cache(g2, "HIT")
    assert g2.json()["usage"]["prompt_tokens"] == 12
    assert_cache(post(tg, CHAT, chat_body()), "MISS")  # the default org has nothing cached
    assert_reached(mock, 3)


def test_keys_of_one_org_share_entries_and_keys_of_two_orgs_do_not(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    admin.create_org("acme")
    admin.create_org("globex")
    acme1, acme2 = admin.create_key("acme", name="a1"), admin.create_key("acme", name="a2")
    globex = admin.create_key("globex", name="g1")
    first = post(tg, CHAT, chat_body(), {"X-Mock-Usage": json.dumps({"prompt_tokens": 111})}, token=acme1["key"])
    assert_cache(first, "MISS")
    shared = post(tg, CHAT, chat_body(), token=acme2["key"])
    assert_cache(shared, "HIT")
    assert shared.json()["usage"]["prompt_tokens"] == 111
    other = post(tg, CHAT, chat_body(), token=globex["key"])
    assert_cache(other, "MISS")
    assert other.json()["usage"]["prompt_tokens"] == 12, f"globex got acme's answer: {describe(other)}"
    assert_reached(mock, 2)


# -- streams answered from the cache --------------------------------------------------------------------------------

MODES = [("stream", "stream"), ("json", "stream"), ("stream", "json")]


@pytest.mark.parametrize("original,repeat", MODES)
def test_openai_sdk_gets_the_original_text_from_a_hit(start_tollgate, mock, original, repeat):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = oai(tg, PASSTHROUGH)
    h1, text1, _ = openai_chat(client, original)
    assert h1.get("x-tollgate-cache") == "MISS" and text1 == TEXT, dict(h1)
    h2, text2, parsed = openai_chat(client, repeat)
    assert h2.get("x-tollgate-cache") == "HIT", dict(h2)
    assert text2 == TEXT
    if repeat == "stream":
        assert h2["content-type"].startswith("text/event-stream"), dict(h2)
        assert parsed[-1].choices[0].finish_reason == "stop", parsed[-1]
    else:
        assert parsed.choices[0].finish_reason == "stop"
        assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens) == (12, 9), parsed.usage
    assert_reached(mock, 1)


def test_openai_hit_stream_carries_a_usage_chunk_only_when_asked(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = oai(tg, PASSTHROUGH)
    h, text, chunks = openai_chat(client, "stream")
    assert h.get("x-tollgate-cache") == "MISS" and not [c for c in chunks if c.usage], chunks
    h, text, chunks = openai_chat(client, "stream", stream_options={"include_usage": True})
    assert h.get("x-tollgate-cache") == "HIT" and text == TEXT
    with_usage = [c for c in chunks if c.usage]
    assert len(with_usage) == 1 and chunks[-1] is with_usage[0], chunks
    assert chunks[-1].choices == []
    u = chunks[-1].usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (12, 9, 21), u
    h, text, chunks = openai_chat(client, "stream")
    assert h.get("x-tollgate-cache") == "HIT" and text == TEXT
    assert not [c for c in chunks if c.usage], f"usage chunk the client did not ask for: {chunks}"
    assert_reached(mock, 1)


@pytest.mark.parametrize("original,repeat", MODES)
def test_anthropic_sdk_gets_the_original_text_from_a_hit(start_tollgate, mock, original, repeat):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = ant(tg, "sk-ant-cache-test")
    h1, text1, _ = anthropic_message(client, original)
    assert h1.get("x-tollgate-cache") == "MISS" and text1 == TEXT, dict(h1)
    h2, text2, message = anthropic_message(client, repeat)
    assert h2.get("x-tollgate-cache") == "HIT", dict(h2)
    assert text2 == TEXT
    assert message.stop_reason == "end_turn" and message.role == "assistant", message
    assert message.usage.output_tokens == 9, message.usage
    if repeat == "stream":
        assert h2["content-type"].startswith("text/event-stream"), dict(h2)
    assert_reached(mock, 1)


@pytest.mark.parametrize("original,repeat", MODES)
def test_gemini_sdk_gets_the_original_text_from_a_hit(start_tollgate, mock, original, repeat):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    client = gemini_client(tg)

    def ask(mode):
        if mode == "json":
            answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say hi")
            return answer.text, answer.usage_metadata
        chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hi"))
        return "".join(c.text or "" for c in chunks), chunks[-1].usage_metadata

    assert ask(original)[0] == TEXT
    text, usage = ask(repeat)
    assert text == TEXT
    assert usage.candidates_token_count == 9, usage
    assert_reached(mock, 1, f"{original} original, {repeat} repeat: the repeat should be a hit")


def _openai_stream_text(events, chunk_object, piece):
    assert events and events[-1] == (None, "[DONE]"), f"an OpenAI stream ends with data: [DONE]: {events[-3:]}"
    chunks = [json.loads(data) for name, data in events[:-1]]
    assert all(name is None for name, _ in events), events
    assert all(c["object"] == chunk_object for c in chunks), chunks
    assert not [c for c in chunks if c.get("usage")], f"a usage chunk the client did not ask for: {chunks}"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop", chunks[-1]
    return "".join(piece(c["choices"][0]) or "" for c in chunks if c["choices"])


def _anthropic_stream_text(events):
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    for required in ("content_block_start", "content_block_delta", "content_block_stop", "message_delta"):
        assert required in names, f"{required} missing: {names}"
    datas = [json.loads(data) for _, data in events]
    assert all(d["type"] == name for d, name in zip(datas, names)), events
    assert datas[0]["message"]["usage"]["input_tokens"] == 12, datas[0]
    delta = datas[names.index("message_delta")]
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["usage"]["output_tokens"] == 9, delta
    return "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta")


def _gemini_stream_text(events):
    assert all(name is None for name, _ in events), events
    chunks = [json.loads(data) for _, data in events]
    last = chunks[-1]
    assert last["candidates"][0]["finishReason"] == "STOP", last
    assert last["usageMetadata"]["candidatesTokenCount"] == 9, last
    return "".join(p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"])


STREAMS = {
    "openai-chat": (CHAT, chat_body(stream=True),
                    lambda ev: _openai_stream_text(ev, "chat.completion.chunk", lambda ch: ch["delta"].get("content"))),
    "openai-completions": (COMPLETIONS, {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", "stream": True},
                           lambda ev: _openai_stream_text(ev, "text_completion", lambda ch: ch["text"])),
    "anthropic": (MESSAGES, {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MSG, "stream": True},
                  _anthropic_stream_text),
    "gemini": (GEMINI_STREAM, {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}, _gemini_stream_text),
}


@pytest.mark.parametrize("case", list(STREAMS))
def test_a_stream_hit_is_in_the_providers_own_event_format(start_tollgate, mock, case):
    path, body, text_of = STREAMS[case]
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    r1, raw1 = stream_post(tg, path, body)
    assert r1.status_code == 200 and cache_of(r1) == "MISS", describe(r1)
    assert text_of(sse_events(raw1)) == TEXT
    r2, raw2 = stream_post(tg, path, body)
    assert r2.status_code == 200 and cache_of(r2) == "HIT", describe(r2)
    assert r2.headers["content-type"].startswith("text/event-stream"), dict(r2.headers)
    assert text_of(sse_events(raw2)) == TEXT, raw2
    assert_reached(mock, 1)


# -- concurrency ------------------------------------------------------------------------------------------------------

def test_twenty_concurrent_identical_requests_reach_the_provider_once(start_tollgate, mock):
    tg, _ = start(start_tollgate, TOLLGATE_CACHE="on")
    slow = {"X-Mock-Interval-Ms": "1000"}  # mock-slow answers after the interval
    results = fire_together(20, lambda i: post(tg, CHAT, chat_body(model="mock-slow"), slow, timeout=30))
    assert all(r.status_code == 200 for r in results), [describe(r) for r in results if r.status_code != 200]
    assert_reached(mock, 1, "20 identical requests while none is cached")
    assert sorted(cache_of(r) for r in results) == ["HIT"] * 19 + ["MISS"], [cache_of(r) for r in results]
    assert len({json.dumps(r.json(), sort_keys=True) for r in results}) == 1, "every caller gets the same answer"
    assert results[0].json()["choices"][0]["message"]["content"] == TEXT


def test_twenty_concurrent_identical_streams_reach_the_provider_once_and_are_counted(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    slow = {"X-Mock-Interval-Ms": "150"}  # 6 chunks: about 0.75 s upstream
    results = fire_together(20, lambda i: stream_post(tg, CHAT, chat_body(stream=True), slow, timeout=30))
    assert all(r.status_code == 200 for r, _ in results), [describe(r) for r, _ in results]
    assert_reached(mock, 1, "20 identical streams while none is cached")
    assert sorted(cache_of(r) for r, _ in results) == ["HIT"] * 19 + ["MISS"], [cache_of(r) for r, _ in results]
    texts = [_openai_stream_text(sse_events(raw), "chat.completion.chunk", lambda ch: ch["delta"].get("content"))
             for _, raw in results]
    assert texts == [TEXT] * 20
    s = admin.wait_requests(20)
    assert s["requests"] == 20 and s["cached_requests"] == 19, s
    assert s["cost_usd"] == C and s["potential_cost_usd"] == 20 * C and s["savings_usd"] == 19 * C, s
    events = usage_events(tg, 20)
    hits = [e for e in events if e["cached"]]
    assert len(hits) == 19 and all(e["stream"] for e in events), events
    assert all(e["cost_usd"] == 0 and e["potential_cost_usd"] == C for e in hits), hits


# -- accounting -------------------------------------------------------------------------------------------------------

def test_a_hit_costs_nothing_and_reports_the_cost_it_saved(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    assert C == Decimal("0.0000072")
    client = oai(tg, PASSTHROUGH)
    miss = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MSG)
    assert miss.headers.get("x-tollgate-cache") == "MISS"
    assert usd(miss.headers["x-tollgate-cost-usd"]) == C, dict(miss.headers)
    hit = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MSG)
    assert hit.headers.get("x-tollgate-cache") == "HIT"
    assert usd(hit.headers["x-tollgate-cost-usd"]) == 0, dict(hit.headers)
    assert usd(hit.headers["x-tollgate-saved-usd"]) == C, dict(hit.headers)
    assert_reached(mock, 1)

    s = admin.wait_requests(2)
    assert s["requests"] == 2 and s["ok_requests"] == 2 and s["cached_requests"] == 1, s
    assert s["cache_hit_rate"] == Decimal("0.5"), s
    assert s["cost_usd"] == C, s
    assert s["potential_cost_usd"] == 2 * C, s
    assert s["savings_usd"] == C, s
    assert s["savings_pct"] == 50, s

    events = {e["request_id"]: e for e in usage_events(tg, 2)}
    m, h = events[miss.headers["x-tollgate-request-id"]], events[hit.headers["x-tollgate-request-id"]]
    assert m["cached"] is False and m["cost_usd"] == C and m["potential_cost_usd"] == C, m
    assert h["cached"] is True and h["cost_usd"] == 0 and h["potential_cost_usd"] == C, h
    assert h["status"] == 200 and h["outcome"] == "ok" and h["model"] == "gpt-4o-mini", h
    assert h["charged_usd"] == 0, h


def test_provider_prompt_cache_savings_are_reported_net_of_the_write_premium(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    openai_savings = prompt_cache_savings("gpt-4o-mini", cached=800)
    anthropic_savings = prompt_cache_savings("claude-sonnet-4-5", cached=1000, written=200)
    # by hand: 800 × (0.15 − 0.075) / 1e6 and 1000 × (3 − 0.30) / 1e6 − 200 × (3.75 − 3) / 1e6
    assert openai_savings == Decimal("0.00006") and anthropic_savings == Decimal("0.00255")

    u = {"prompt_tokens": 1000, "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 800}}
    r = post(tg, CHAT, chat_body(), {"X-Mock-Usage": json.dumps(u)})
    assert usd(r.headers["x-tollgate-cost-usd"]) == cost("gpt-4o-mini", 1000, 10, cached=800), describe(r)
    u = {"input_tokens": 100, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200, "output_tokens": 10}
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": MSG}
    r = post(tg, MESSAGES, body, {"X-Mock-Usage": json.dumps(u)})
    assert usd(r.headers["x-tollgate-cost-usd"]) == cost("claude-sonnet-4-5", 1300, 10, cached=1000, written=200)

    s = admin.wait_requests(2)
    assert s["prompt_cache_savings_usd"] == openai_savings + anthropic_savings, s
    assert admin.stats(provider="openai")["prompt_cache_savings_usd"] == openai_savings
    assert admin.stats(provider="anthropic")["prompt_cache_savings_usd"] == anthropic_savings
    assert s["cached_input_tokens"] == 1800 and s["cache_write_tokens"] == 200, s
    # the provider's prompt cache is not the response cache
    assert s["cached_requests"] == 0 and s["savings_usd"] == 0 and s["potential_cost_usd"] == s["cost_usd"], s
    by_provider = {e["provider"]: e for e in usage_events(tg, 2)}
    assert by_provider["openai"]["prompt_cache_savings_usd"] == openai_savings
    assert by_provider["anthropic"]["prompt_cache_savings_usd"] == anthropic_savings


# -- persistence and the memory bound -------------------------------------------------------------------------------

def test_entries_survive_a_restart(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    miss = post(tg, CHAT, chat_body())
    assert_cache(miss, "MISS")
    wait_cache(admin, lambda i: i["entries"] == 1, message="the entry is persisted")
    assert tg.stop() == 0

    tg2, admin2 = start(start_tollgate, TOLLGATE_CACHE="on", TOLLGATE_DB=tg.db)
    assert cache_info(admin2)["entries"] == 1
    hit = post(tg2, CHAT, chat_body())
    assert_cache(hit, "HIT")
    assert hit.json() == miss.json()
    assert usd(hit.headers["x-tollgate-saved-usd"]) == C, describe(hit)
    assert_reached(mock, 1, "the restarted Tollgate should answer from its database")


def test_memory_bound_evicts_the_least_recently_used_entry(start_tollgate, mock):
    bound = 3000
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on", TOLLGATE_CACHE_MAX_BYTES=str(bound))
    assert cache_info(admin)["max_bytes"] == bound
    ask = lambda name: post(tg, CHAT, chat_body(f"entry {name}"))
    for name in "ABC":
        assert_cache(ask(name), "MISS")
    info = wait_cache(admin, lambda i: i["entries"] == 3, message="A, B, C stored")
    assert info["memory_entries"] == 3 and info["memory_bytes"] <= bound, \
        f"three ~500-byte answers fit in {bound} bytes: {info}"
    touch = ask("A")
    assert_cache(touch, "HIT")
    assert touch.headers.get("x-tollgate-cache-source") == "memory", describe(touch)
    # LRU order is now B, C, A: add entries until the first one leaves memory
    added = 0
    while True:
        added += 1
        assert added <= 20, f"nothing was evicted from memory after 20 more entries: {info}"
        assert_cache(ask(f"X{added}"), "MISS")
        info = wait_cache(admin, lambda i: i["entries"] == 3 + added, message=f"X{added} stored")
        assert info["memory_bytes"] <= bound, info
        if info["memory_entries"] < info["entries"]:
            break
    assert info["entries"] - info["memory_entries"] == 1, f"one entry of equal size makes room: {info}"
    a = ask("A")
    assert_cache(a, "HIT")
    assert a.headers.get("x-tollgate-cache-source") == "memory", f"A was used recently: {describe(a)}"
    b = ask("B")
    assert_cache(b, "HIT")
    assert b.headers.get("x-tollgate-cache-source") == "database", f"B was least recently used: {describe(b)}"
    assert_reached(mock, 3 + added)


def test_memory_stays_within_the_bound_and_evicted_entries_still_hit_from_the_database(start_tollgate, mock):
    bound, n = 3000, 25
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on", TOLLGATE_CACHE_MAX_BYTES=str(bound))
    for i in range(n):
        assert_cache(post(tg, CHAT, chat_body(f"many {i}")), "MISS")
        info = cache_info(admin)
        assert info["memory_bytes"] <= bound, f"after {i + 1} inserts: {info}"
    info = wait_cache(admin, lambda i: i["entries"] == n, message=f"{n} entries stored")
    assert 1 <= info["memory_entries"] < n and info["memory_bytes"] <= bound, info
    assert info["bytes"] > info["memory_bytes"], info
    for i in range(n):
        r = post(tg, CHAT, chat_body(f"many {i}"))
        assert_cache(r, "HIT")
        assert r.headers.get("x-tollgate-cache-source") in ("memory", "database"), describe(r)
        assert cache_info(admin)["memory_bytes"] <= bound
    assert_reached(mock, n)


# -- the admin API and the command line ------------------------------------------------------------------------------

def test_admin_cache_reports_entries_and_clears_by_org(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    info = cache_info(admin)
    assert (info["entries"], info["bytes"], info["memory_entries"], info["memory_bytes"]) == (0, 0, 0, 0), info
    acme, globex = {"X-Tollgate-Org": "acme"}, {"X-Tollgate-Org": "globex"}
    for body, org in ((chat_body("one"), acme), (chat_body("two"), acme), (chat_body("one"), globex)):
        assert_cache(post(tg, CHAT, body, org), "MISS")
    info = wait_cache(admin, lambda i: i["entries"] == 3, message="three entries stored")
    assert info["memory_entries"] == 3 and info["bytes"] > 0 and info["memory_bytes"] > 0, info

    assert admin.call("DELETE", "/admin/cache", params={"org": "acme"})["deleted"] == 2
    info = cache_info(admin)
    assert info["entries"] == 1 and info["memory_entries"] == 1, info
    assert_cache(post(tg, CHAT, chat_body("one"), acme), "MISS")
    assert_cache(post(tg, CHAT, chat_body("one"), globex), "HIT")
    assert_reached(mock, 4)

    wait_cache(admin, lambda i: i["entries"] == 2, message="acme's new entry stored")
    assert admin.call("DELETE", "/admin/cache")["deleted"] == 2
    info = cache_info(admin)
    assert (info["entries"], info["memory_entries"], info["memory_bytes"]) == (0, 0, 0), info
    assert_cache(post(tg, CHAT, chat_body("one"), globex), "MISS")
    assert_reached(mock, 5)


def test_admin_cache_needs_the_admin_key(start_tollgate):
    tg, _ = start(start_tollgate)
    assert httpx.get(tg.url + "/admin/cache").status_code == 401
    assert httpx.delete(tg.url + "/admin/cache", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert Admin(tg, ADMIN).request("GET", "/admin/cache").status_code == 200


def test_cli_shows_and_clears_the_cache_of_a_running_server(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="on")
    acme, globex = {"X-Tollgate-Org": "acme"}, {"X-Tollgate-Org": "globex"}
    for body, org in ((chat_body("one"), acme), (chat_body("two"), acme), (chat_body("one"), globex)):
        assert_cache(post(tg, CHAT, body, org), "MISS")
    api = wait_cache(admin, lambda i: i["entries"] == 3, message="three entries stored")

    doc = cli_json(cli("cache", "stats", "--format", "json", db=tg.db))
    assert {"entries", "bytes"} <= set(doc), doc
    assert doc["entries"] == api["entries"] == 3 and doc["bytes"] == api["bytes"], (doc, api)
    table = cli("cache", "stats", db=tg.db)
    assert table.returncode == 0 and "entries" in table.stdout.lower() and re.search(r"\b3\b", table.stdout), table

    out = cli("cache", "clear", "--org", "acme", db=tg.db)
    assert out.returncode == 0 and re.search(r"\b2\b", out.stdout), out
    # the running server drops its memory copy too
    # (the server may drop more of its memory copy than acme's: globex's entry is still in the database)
    wait_cache(admin, lambda i: i["entries"] == 1 and i["memory_entries"] <= 1, timeout=3,
               message="the server forgets acme's entries after `tollgate cache clear --org acme`")
    assert_cache(post(tg, CHAT, chat_body("one"), acme), "MISS")
    assert_cache(post(tg, CHAT, chat_body("one"), globex), "HIT")
    assert_reached(mock, 4)

    wait_cache(admin, lambda i: i["entries"] == 2, message="acme's new entry stored")
    out = cli("cache", "clear", db=tg.db)
    assert out.returncode == 0 and re.search(r"\b2\b", out.stdout), out
    wait_cache(admin, lambda i: i["entries"] == 0 and i["memory_entries"] == 0, timeout=3,
               message="the server forgets every entry after `tollgate cache clear`")
    assert_cache(post(tg, CHAT, chat_body("one"), globex), "MISS")
    assert_reached(mock, 5)

    bad = cli("cache", "stats", "--format", "xml", db=tg.db)
    assert bad.returncode != 0 and "--format" in bad.stderr, bad
    assert cli("cache", "no-such-subcommand", db=tg.db).returncode != 0
