"""GET /metrics end to end: SDK traffic → Tollgate → Prometheus text that agrees with /admin/stats to the
last token and nano-dollar; budget utilisation; `metrics.require_admin` closing the endpoint."""

import json
import re
from collections import defaultdict
from decimal import Decimal

import httpx
import pytest

from access_helpers import ADMIN, FULL_USAGE, MAX_TOKENS, MSG, PROVIDER_KEYS, Admin, chat, oai, start, wait_until

NANOS = Decimal(1_000_000_000)
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Prometheus text format → {name: [(labels dict, value as int or float)]}; checks TYPE lines too."""
    samples, types = defaultdict(list), {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        number = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
        samples[name].append((dict(LABEL.findall(labels or "")), number))
    for name in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, f"{name} has no TYPE line"
    return samples, types


def scrape(tg, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.get(tg.url + "/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    return parse(r.text)


def total(samples, name, **labels):
    """The sum of every series of `name` whose labels include `labels`; ints stay ints."""
    return sum(v for l, v in samples.get(name, []) if all(l.get(k) == w for k, w in labels.items()))


def test_counters_equal_admin_stats_to_the_token_and_nano_dollar(start_tollgate, mock):
    tg, admin = start(start_tollgate, TOLLGATE_CACHE="off")
    client = oai(tg, "sk-passthrough")
    u = {"prompt_tokens": 1234, "completion_tokens": 567, "prompt_tokens_details": {"cached_tokens": 1000},
         "completion_tokens_details": {"reasoning_tokens": 300}}
    client.chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"X-Mock-Usage": json.dumps(u)})
    u = {"prompt_tokens": 77, "completion_tokens": 33}
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                        extra_headers={"X-Mock-Usage": json.dumps(u)}))
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    for _ in range(2):  # a miss, then a hit from the response cache
        chat(client, headers={"X-Tollgate-Cache": "on"})
    r = httpx.post(tg.url + "/openai/v1/chat/completions", content=b"{not json",
                   headers={"Authorization": "Bearer sk-x", "Content-Type": "application/json"})
    assert r.status_code == 400
    n = 6

    s = admin.wait_requests(n)
    assert s["requests"] == n and s["cached_requests"] == 1 and s["cost_usd"] > 0, s
    m, types = scrape(tg)

    assert types["tollgate_requests_total"] == "counter"
    assert total(m, "tollgate_requests_total") == s["requests"]
    assert total(m, "tollgate_requests_total", cached="true") == s["cached_requests"]
    assert total(m, "tollgate_requests_total", outcome="ok") == s["ok_requests"]
    assert total(m, "tollgate_requests_total", provider="openai", endpoint="chat", outcome="ok", cached="true") == 1
    assert total(m, "tollgate_requests_total", provider="openai", endpoint="embedding", outcome="ok") == 1
    assert total(m, "tollgate_requests_total", outcome="invalid_request") == 1
    for direction, field in [("input", "input_tokens"), ("output", "output_tokens"),
                             ("cached_input", "cached_input_tokens"), ("cache_write", "cache_write_tokens"),
                             ("reasoning", "reasoning_tokens")]:
        assert total(m, "tollgate_tokens_total", direction=direction) == s[field], (direction, s)

    cost = total(m, "tollgate_cost_nanodollars_total")
    assert isinstance(cost, int) and cost == s["cost_usd"] * NANOS, (cost, s["cost_usd"])
    assert total(m, "tollgate_cache_hits_total") == s["cached_requests"] == 1
    assert total(m, "tollgate_cache_savings_nanodollars_total") == s["savings_usd"] * NANOS > 0
    assert total(m, "tollgate_prompt_cache_savings_nanodollars_total") == s["prompt_cache_savings_usd"] * NANOS > 0

    assert types["tollgate_request_duration_seconds"] == "histogram"
    assert total(m, "tollgate_request_duration_seconds_count") == n
    assert total(m, "tollgate_request_duration_seconds_bucket", le="+Inf") == n
    assert total(m, "tollgate_time_to_first_byte_seconds_count", provider="openai") == 4  # forwarded ones only
    assert total(m, "tollgate_usage_writer_events_written_total") == n
    assert total(m, "tollgate_usage_writer_events_dropped_total") == 0
    assert total(m, "tollgate_usage_writer_pending_events") == 0
    assert total(m, "tollgate_cache_memory_entries") == 1
    assert total(m, "tollgate_cache_memory_bytes") > 0
    assert total(m, "tollgate_process_uptime_seconds") > 0

    # counters only grow: one more request moves them by exactly its own figures
    chat(client)
    s2 = admin.wait_requests(n + 1)
    m2, _ = scrape(tg)
    assert total(m2, "tollgate_requests_total") == n + 1
    assert total(m2, "tollgate_cost_nanodollars_total") == s2["cost_usd"] * NANOS
    assert total(m2, "tollgate_tokens_total", direction="output") == s["output_tokens"] + MAX_TOKENS


def test_budget_utilisation_is_spent_plus_reserved_over_the_limit(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", name="svc", team="ml")
    small = admin.create_budget(scope="org", scope_id="acme", limit_usd=0.01, period="month")
    team = admin.create_budget(scope="team", scope_id="ml", org="acme", limit_usd=1, period="day", action="alert")
    chat(oai(tg, key["key"]))
    spent = admin.wait_settled(small["id"])["spent_usd"]
    assert spent > 0

    m, types = scrape(tg)
    assert types["tollgate_budget_utilization_ratio"] == "gauge"
    series = {l["budget_id"]: (l, v) for l, v in m["tollgate_budget_utilization_ratio"]}
    labels, value = series[small["id"]]
    assert labels == {"budget_id": small["id"], "scope": "org", "org": "acme"}
    assert value == pytest.approx(float(spent / Decimal("0.01")), rel=1e-12)
    labels, value = series[team["id"]]
    assert labels == {"budget_id": team["id"], "scope": "team", "org": "acme"}
    assert value == pytest.approx(float(spent / Decimal(1)), rel=1e-12)

    admin.call("DELETE", f"/admin/budgets/{team['id']}")
    m, _ = scrape(tg)
    assert {l["budget_id"] for l, _ in m["tollgate_budget_utilization_ratio"]} == {small["id"]}


def test_metrics_are_open_by_default_even_without_an_admin_key(tollgate):
    m, _ = scrape(tollgate)
    assert total(m, "tollgate_requests_total") == 0
    assert total(m, "tollgate_process_uptime_seconds") > 0


def test_require_admin_closes_metrics_to_all_but_admin_keys(start_tollgate, mock, tmp_path):
    config = tmp_path / "tollgate.yaml"
    config.write_text("metrics:\n  require_admin: true\n")
    tg, admin = start(start_tollgate, TOLLGATE_CONFIG=str(config))
    admin.create_org("acme")
    org_admin = admin.create_key("acme", name="ops", role="admin")["key"]
    client_key = admin.create_key("acme", name="app")["key"]

    r = httpx.get(tg.url + "/metrics")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key", r.text
    assert httpx.get(tg.url + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = httpx.get(tg.url + "/metrics", headers={"Authorization": f"Bearer {client_key}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    scrape(tg, ADMIN)
    m, _ = scrape(tg, org_admin)
    assert "tollgate_process_uptime_seconds" in m


def test_require_admin_without_an_admin_key_says_how_to_enable_it(start_tollgate, mock, tmp_path):
    config = tmp_path / "tollgate.yaml"
    config.write_text("metrics: {require_admin: true}\n")
    tg = start_tollgate(TOLLGATE_CONFIG=str(config))
    r = httpx.get(tg.url + "/metrics")
    assert r.status_code == 403 and r.json()["error"]["code"] == "admin_disabled", r.text
    assert "TOLLGATE_ADMIN_KEY" in r.json()["error"]["message"]
