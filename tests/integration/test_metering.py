"""Metering as a user sees it: exact cost headers, and streams that look as they would without the proxy."""

import json
from decimal import Decimal

import httpx
import openai

KEY = "sk-test-123"
MSG = [{"role": "user", "content": "Say hi"}]


def post(tg, path, body, headers=None, **kw):
    h = {"Authorization": "Bearer " + KEY}
    h.update(headers or {})
    return httpx.post(tg.url + path, json=body, headers=h, **kw)


def test_non_streaming_answer_carries_its_exact_cost(tollgate, mock):
    # gpt-4o: $2.50 in, $10 out per 1M; mock usage 12 in / 9 out → 30 + 90 µ$ = $0.00012
    r = post(tollgate, "/openai/v1/chat/completions", {"model": "gpt-4o", "messages": MSG})
    assert r.headers["x-tollgate-cost-usd"] == "0.00012"
    # cached and reasoning tokens: 1000 prompt (400 cached at $1.25), 500 out → 1500 + 500 + 5000 µ$ = $0.007
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
             "prompt_tokens_details": {"cached_tokens": 400}, "completion_tokens_details": {"reasoning_tokens": 200}}
    r = post(tollgate, "/openai/v1/chat/completions", {"model": "gpt-4o-2024-08-06", "messages": MSG},
             headers={"X-Mock-Usage": json.dumps(usage)})
    assert Decimal(r.headers["x-tollgate-cost-usd"]) == Decimal("0.007")


def test_anthropic_cache_tokens_are_priced_at_their_rates(tollgate, mock):
    usage = {"input_tokens": 100, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 1000, "output_tokens": 300}
    r = post(tollgate, "/anthropic/v1/messages", {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10, "messages": MSG},
             headers={"X-Mock-Usage": json.dumps(usage)})
    # 100×3 + 2000×0.30 + 1000×3.75 + 300×15 = 9150 µ$
    assert r.headers["x-tollgate-cost-usd"] == "0.00915"


def test_gemini_thoughts_are_billed_as_output(tollgate, mock):
    usage = {"promptTokenCount": 1000, "cachedContentTokenCount": 200, "candidatesTokenCount": 50, "thoughtsTokenCount": 150}
    r = httpx.post(tollgate.url + "/gemini/v1beta/models/gemini-2.5-pro:generateContent", json={"contents": []},
                   headers={"x-goog-api-key": "AIza", "X-Mock-Usage": json.dumps(usage)})
    # 800×1.25 + 200×0.125 + 200×10 = 3025 µ$
    assert r.headers["x-tollgate-cost-usd"] == "0.003025"


def test_unknown_model_has_no_fake_price(tollgate, mock):
    r = post(tollgate, "/openai/v1/chat/completions", {"model": "brand-new-model", "messages": MSG})
    assert r.status_code == 200
    assert r.headers["x-tollgate-cost-usd"] == "0"


def test_openai_stream_without_usage_request_gets_no_usage_chunk(tollgate, mock):
    client = openai.OpenAI(base_url=tollgate.url + "/openai/v1", api_key=KEY, max_retries=0)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks), "a usage-only chunk reached the client"
    sent = mock.last().json()
    assert sent["stream_options"] == {"include_usage": True}
    assert b'"usage"' in mock.last().sent


def test_openai_stream_that_asked_for_usage_keeps_it(tollgate, mock):
    client = openai.OpenAI(base_url=tollgate.url + "/openai/v1", api_key=KEY, max_retries=0)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].usage.prompt_tokens == 12


def test_gemini_stream_without_alt_sse_is_metered_from_its_json_array(start_tollgate, mock):
    import sqlite3, time
    tg = start_tollgate(TOLLGATE_FLUSH_MS="50")
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 50, "thoughtsTokenCount": 150, "totalTokenCount": 1200}
    r = httpx.post(tg.url + "/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent", json={"contents": []},
                   headers={"x-goog-api-key": "AIza", "X-Mock-Usage": json.dumps(usage)})
    assert r.status_code == 200 and r.content == mock.last().sent
    assert json.loads(r.content)[-1]["usageMetadata"]["thoughtsTokenCount"] == 150
    deadline = time.monotonic() + 5
    row = None
    while row is None and time.monotonic() < deadline:
        with sqlite3.connect(tg.db) as db:
            row = db.execute("SELECT input_tokens, output_tokens, usage_source, cost_nanos FROM usage_events").fetchone()
        time.sleep(0.05)
    # 1000 × $1.25 + 200 × $10 per 1M = 3250 µ$ = 3 250 000 n$
    assert row == (1000, 200, "provider", 3_250_000)
