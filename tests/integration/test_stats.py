"""Metering end to end: SDK traffic → Tollgate → SQLite → /admin/stats, exact to the nano-dollar."""

import concurrent.futures
import json
from pathlib import Path
import os
import sqlite3
import subprocess
import threading
import time
from decimal import Decimal

import anthropic
import httpx
import openai
from access_helpers import expected_cost
from conftest import BINARY
from google import genai
from google.genai import types as genai_types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN = "admin-secret"
MSG = [{"role": "user", "content": "Say hi"}]


def stats(tg, **params):
    r = httpx.get(tg.url + "/admin/stats", params={"from": "1h", **params}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 200, r.text
    return json.loads(r.text, parse_float=Decimal)


def rows(tg, sql, *args):
    with sqlite3.connect(tg.db) as db:
        return db.execute(sql, args).fetchall()


def wait_rows(tg, n, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rows(tg, "SELECT COUNT(*) FROM usage_events")[0][0] >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} usage events after {timeout}s")


def test_stats_totals_equal_the_sum_of_each_request_to_the_nano_dollar(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_FLUSH_MS="50")
    oai = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key="sk-a", max_retries=0)
    ant = anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key="sk-b", max_retries=0)
    gem = genai.Client(api_key="AIza-c", http_options=genai_types.HttpOptions(base_url=tg.url + "/gemini"))
    expected, tokens_in, tokens_out = Decimal(0), 0, 0

    u = {"prompt_tokens": 1234, "completion_tokens": 567, "total_tokens": 1801, "prompt_tokens_details": {"cached_tokens": 1000}}
    oai.chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"X-Mock-Usage": json.dumps(u)})
    expected += expected_cost("gpt-4o", 1234, 567, cached=1000); tokens_in += 1234; tokens_out += 567

    u = {"prompt_tokens": 77, "completion_tokens": 33, "total_tokens": 110}
    list(oai.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True, extra_headers={"X-Mock-Usage": json.dumps(u)}))
    expected += expected_cost("gpt-4o-mini", 77, 33); tokens_in += 77; tokens_out += 33

    u = {"input_tokens": 11, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 500, "output_tokens": 222}
    ant.messages.create(model="claude-sonnet-4-5-20250929", max_tokens=300, messages=MSG, extra_headers={"X-Mock-Usage": json.dumps(u)})
    expected += expected_cost("claude-sonnet-4-5", 3511, 222, cached=3000, written=500); tokens_in += 3511; tokens_out += 222
    with ant.messages.stream(model="claude-haiku-4-5", max_tokens=300, messages=MSG, extra_headers={"X-Mock-Usage": json.dumps(u)}) as s:
        s.get_final_message()
    expected += expected_cost("claude-haiku-4-5", 3511, 222, cached=3000, written=500); tokens_in += 3511; tokens_out += 222

    u = {"promptTokenCount": 4000, "cachedContentTokenCount": 1000, "candidatesTokenCount": 100, "thoughtsTokenCount": 50, "totalTokenCount": 4150}
    cfg = genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(headers={"X-Mock-Usage": json.dumps(u)}))
    gem.models.generate_content(model="gemini-2.5-pro", contents="hi", config=cfg)
    list(gem.models.generate_content_stream(model="gemini-2.5-flash", contents="hi", config=cfg))
    expected += expected_cost("gemini-2.5-pro", 4000, 150, cached=1000) + expected_cost("gemini-2.5-flash", 4000, 150, cached=1000)
    tokens_in += 8000; tokens_out += 300

    wait_rows(tg, 6)
    s = stats(tg)
    assert s["requests"] == 6 and s["ok_requests"] == 6
    assert s["input_tokens"] == tokens_in and s["output_tokens"] == tokens_out
    assert s["cost_usd"] == expected, (s["cost_usd"], expected)
    assert s["unpriced_requests"] == 0
    # Every stored event agrees with the header the client saw, and the rollups with the events.
    per_event = sum(Decimal(n) for (n,) in rows(tg, "SELECT cost_nanos FROM usage_events")) / Decimal(10**9)
    assert per_event == expected
    assert stats(tg, provider="anthropic")["input_tokens"] == 7022
    assert stats(tg, model="gpt-4o")["cost_usd"] == expected_cost("gpt-4o", 1234, 567, cached=1000)


def test_aborted_stream_is_recorded_as_estimated(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_FLUSH_MS="50")
    with httpx.stream("POST", tg.url + "/openai/v1/chat/completions", json={"model": "mock-long", "messages": MSG, "stream": True},
                      headers={"Authorization": "Bearer sk-x"}, timeout=10) as r:
        for i, _ in enumerate(r.iter_raw()):
            if i >= 3:
                break
    deadline = time.monotonic() + 5
    found = []
    while time.monotonic() < deadline and not found:
        found = rows(tg, "SELECT outcome, usage_source, output_tokens FROM usage_events WHERE model = 'mock-long'")
        time.sleep(0.05)
    assert found, "the aborted stream left no usage event"
    outcome, source, output_tokens = found[0]
    assert outcome == "client_abort" and source == "estimated" and output_tokens >= 1


def test_blocked_and_failed_requests_leave_records(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_FLUSH_MS="50")
    httpx.post(tg.url + "/openai/v1/chat/completions", content=b"{bad", headers={"Authorization": "Bearer sk-x"})
    httpx.post(tg.url + "/openai/v1/chat/completions", json={"model": "gpt-4o", "messages": MSG})  # no key
    httpx.post(tg.url + "/openai/v1/chat/completions", json={"model": "mock-error-429", "messages": MSG}, headers={"Authorization": "Bearer sk-x"})
    wait_rows(tg, 3)
    outcomes = sorted(o for (o,) in rows(tg, "SELECT outcome FROM usage_events"))
    assert outcomes == ["invalid_request", "unauthorized", "upstream_error"]
    s = stats(tg)
    assert s["requests"] == 3 and s["blocked_requests"] == 1 and s["error_requests"] == 2


def test_admin_stats_needs_the_admin_key(start_tollgate):
    tg = start_tollgate()
    r = httpx.get(tg.url + "/admin/stats")
    assert r.status_code == 403 and "TOLLGATE_ADMIN_KEY" in r.json()["error"]["message"]
    tg2 = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN)
    assert httpx.get(tg2.url + "/admin/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(tg2.url + "/admin/stats", params={"from": "yesterday-ish"}, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 400


def test_rebuild_rollups_gives_the_same_totals(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_FLUSH_MS="50")
    client = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key="sk-r", max_retries=0)
    for model in ["gpt-4o", "gpt-4o-mini", "o3", "unknown-x"]:
        client.chat.completions.create(model=model, messages=MSG)
    wait_rows(tg, 4)
    before = stats(tg)
    assert before["unpriced_requests"] == 1
    out = subprocess.run([BINARY, "db", "rebuild-rollups", "--db", tg.db], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    after = stats(tg)
    for field in ["requests", "input_tokens", "output_tokens", "cost_usd", "unpriced_requests"]:
        assert after[field] == before[field], field


def test_sigterm_under_load_loses_no_event(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_FLUSH_MS="1000")
    answered = []
    lock = threading.Lock()

    def one(i):
        try:
            r = httpx.post(tg.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG},
                           headers={"Authorization": "Bearer sk-load"}, timeout=10)
            with lock:
                answered.append(r.headers.get("x-tollgate-request-id"))
        except httpx.HTTPError:
            pass

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(one, i) for i in range(300)]
        time.sleep(0.3)
        assert tg.stop() == 0
        concurrent.futures.wait(futures, timeout=30)
    stored = {r for (r,) in rows(tg, "SELECT request_id FROM usage_events")}
    assert answered, "no request was answered before SIGTERM"
    missing = [r for r in answered if r not in stored]
    assert not missing, f"{len(missing)} answered requests were not recorded"


def test_sigkill_loses_at_most_one_flush_window(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_FLUSH_MS="100")
    ids = []
    for _ in range(40):
        r = httpx.post(tg.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MSG},
                       headers={"Authorization": "Bearer sk-kill"})
        ids.append(r.headers["x-tollgate-request-id"])
    time.sleep(0.35)  # more than the 100 ms flush window
    tg.kill()
    stored = {r for (r,) in rows(tg, "SELECT request_id FROM usage_events")}
    assert set(ids) <= stored


def test_admin_pricing_lists_models_with_prices_and_filters(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    doc = json.loads((Path(__file__).parents[2] / "pricing.json").read_text())
    everything = httpx.get(tg.url + "/admin/pricing", headers=auth).json()
    assert everything["models"] == len(doc["models"]) == len(everything["data"])
    mini = next(m for m in everything["data"] if m["model"] == "gpt-4o-mini")
    assert mini["provider"] == "openai" and mini["max_output_tokens"] == 16384
    # exact decimals, as the pricing file lists them (USD per million tokens)
    assert (mini["input_per_mtok"], mini["output_per_mtok"], mini["cached_input_per_mtok"]) == (0.15, 0.6, 0.075)
    assert mini["cache_write_per_mtok"] == 0.1875  # no cache-write rate listed: 1.25 × input
    haiku = httpx.get(tg.url + "/admin/pricing", params={"model": "claude-3-5-haiku"}, headers=auth).json()["data"]
    assert [m["model"] for m in haiku] == ["claude-3-5-haiku"] and "claude-3-5-haiku-latest" in haiku[0]["aliases"]
    anthropic = httpx.get(tg.url + "/admin/pricing", params={"provider": "anthropic", "model": "claude-3*"}, headers=auth).json()["data"]
    assert anthropic and all(m["provider"] == "anthropic" and m["model"].startswith("claude-3") for m in anthropic)
    assert httpx.get(tg.url + "/admin/pricing", params={"provider": "nobody"}, headers=auth).json()["data"] == []


def test_pricing_reloads_on_sighup_and_admin_post(start_tollgate, mock, tmp_path):
    import signal
    pricing = tmp_path / "pricing.json"
    doc = {"version": "t-1", "models": {"gpt-4o": {"input": "2.50", "output": "10"}}, "aliases": {}}
    pricing.write_text(json.dumps(doc))
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_PRICING=str(pricing))
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert httpx.get(tg.url + "/admin/pricing", headers=auth).json()["version"] == "t-1"
    body = {"model": "gpt-4o", "messages": MSG}
    assert httpx.post(tg.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}).headers["x-tollgate-cost-usd"] == "0.00012"

    doc["version"], doc["models"]["gpt-4o"]["input"] = "t-2", "5"
    pricing.write_text(json.dumps(doc))
    os.kill(tg.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while httpx.get(tg.url + "/admin/pricing", headers=auth).json()["version"] != "t-2":
        assert time.monotonic() < deadline, "SIGHUP did not reload pricing"
        time.sleep(0.05)
    # 12 × $5 + 9 × $10 per 1M = 150 µ$
    assert httpx.post(tg.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}).headers["x-tollgate-cost-usd"] == "0.00015"

    doc["version"] = "t-3"
    pricing.write_text(json.dumps(doc))
    r = httpx.post(tg.url + "/admin/pricing/reload", headers=auth)
    assert r.status_code == 200 and r.json()["version"] == "t-3" and r.json()["previous_version"] == "t-2"
    pricing.write_text("{broken")
    assert httpx.post(tg.url + "/admin/pricing/reload", headers=auth).status_code == 422
    assert httpx.get(tg.url + "/admin/pricing", headers=auth).json()["version"] == "t-3"


def test_cli_stats_and_pricing_show_what_the_api_shows(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN, TOLLGATE_FLUSH_MS="50")
    client = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key="sk-cli", max_retries=0)
    for model in ["gpt-4o", "gpt-4o-mini"]:
        client.chat.completions.create(model=model, messages=MSG)
    wait_rows(tg, 2)
    api = stats(tg, **{"from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"})

    run = lambda *args: subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
    window = ["--from", "2026-01-01T00:00:00Z", "--to", "2030-01-01T00:00:00Z", "--db", tg.db]
    out = run("stats", "--format", "json", *window)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout, parse_float=Decimal) == api
    table = run("stats", *window)
    assert table.returncode == 0, table.stderr
    lines = dict(line.split(None, 1) for line in table.stdout.splitlines())
    assert lines["requests"] == "2" and Decimal(lines["cost_usd"]) == api["cost_usd"]

    lookup = run("pricing", "lookup", "gpt-4o-2024-08-06", "--pricing", os.path.join(ROOT, "pricing.json"))
    assert lookup.returncode == 0 and "$2.5 / 1M tokens" in lookup.stdout
    assert run("pricing", "lookup", "no-such-model").returncode != 0
    assert run("pricing", "check").returncode == 0

    bad = run("stats", "--format", "xml", "--db", tg.db)
    assert bad.returncode != 0 and "--format" in bad.stderr
    assert run("--help").returncode == 0 and "serve" in run("--help").stdout
