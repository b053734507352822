"""OpenTelemetry (SPEC §15): with OTEL_EXPORTER_OTLP_ENDPOINT set, one span per proxied request reaches an OTLP/HTTP
receiver (a small server in this test), attributed after the GenAI semantic conventions, joined to the client's
`traceparent`, which goes on to the provider naming Tollgate's span. No prompt text and no key in the export."""

import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import httpx
import openai
import pytest

from access_helpers import expected_cost, start
from cache_helpers import usage_events

CLIENT_TRACE, CLIENT_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
SENTINEL = "PROMPT-SENTINEL-7f3a9c do not export me"


class OTLPReceiver:
    """An OTLP/HTTP JSON collector on 127.0.0.1: keeps every POST /v1/traces (headers, raw body, spans)."""

    def __init__(self, status=200):
        self.status = status
        self.posts = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self):
        with self.lock:
            posts = list(self.posts)
        out = []
        for _, _, body in posts:
            for resource_spans in json.loads(body)["resourceSpans"]:
                for scope in resource_spans["scopeSpans"]:
                    out += scope["spans"]
        return out

    def wait_spans(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.spans()
            if len(spans) >= n:
                return spans
            time.sleep(0.02)
        raise AssertionError(f"{len(self.spans())} spans exported, not {n}, within {timeout}s")


def attributes(span):
    return {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}


@pytest.fixture
def traced(start_tollgate):
    receiver = OTLPReceiver()
    tg, admin = start(start_tollgate, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100",
                      OTEL_SERVICE_NAME="tollgate-test", OTEL_EXPORTER_OTLP_HEADERS="x-api-key=otel%20secret")
    admin.create_org("acme")
    yield tg, admin, admin.create_key("acme", name="traced-app", team="search"), receiver
    receiver.server.shutdown()


def test_a_span_continues_the_clients_trace_and_the_provider_sees_tollgates_span(traced, mock):
    tg, admin, key, receiver = traced
    client = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key=key["key"], max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": SENTINEL}],
                                   extra_headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    [span] = receiver.wait_spans(1)
    assert (span["traceId"], span["parentSpanId"]) == (CLIENT_TRACE, CLIENT_SPAN)
    assert span["spanId"] != CLIENT_SPAN and len(span["spanId"]) == 16
    assert mock.last().headers["traceparent"] == f"00-{CLIENT_TRACE}-{span['spanId']}-01"
    assert span["name"] == "chat gpt-4o-mini" and span["kind"] == 3 and span["status"] == {"code": 1}
    assert int(span["endTimeUnixNano"]) > int(span["startTimeUnixNano"])
    [event] = usage_events(tg, 1)
    attrs = attributes(span)
    assert attrs == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": "9",
        "tollgate.cost_usd": attrs["tollgate.cost_usd"], "tollgate.org": "acme", "tollgate.key_id": key["id"],
        "tollgate.team": "search", "tollgate.outcome": "ok", "tollgate.request_id": event["request_id"], "tollgate.cached": False,
        "http.response.status_code": "200"}
    [(path, headers, body)] = receiver.posts
    cost_text = body.decode().split('"tollgate.cost_usd","value":{"doubleValue":')[1].split("}")[0]
    assert Decimal(cost_text) == event["cost_usd"] == expected_cost("gpt-4o-mini", 12, 9), "exact, not a rounded float"
    assert path == "/v1/traces" and headers["content-type"] == "application/json" and headers["x-api-key"] == "otel secret"
    resource = json.loads(body)["resourceSpans"][0]["resource"]["attributes"]
    assert {"key": "service.name", "value": {"stringValue": "tollgate-test"}} in resource
    assert SENTINEL.encode() not in body and key["key"].encode() not in body
    assert tg.stop() == 0
    assert "otel secret" not in tg.logs()


def test_a_request_without_traceparent_starts_a_trace_streams_included(traced, mock):
    tg, admin, key, receiver = traced
    client = anthropic.Anthropic(base_url=tg.url + "/anthropic", api_key=key["key"], max_retries=0)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": SENTINEL}]) as s:
        assert "".join(s.text_stream)
    [span] = receiver.wait_spans(1)
    assert "parentSpanId" not in span and len(span["traceId"]) == 32
    assert mock.last().headers["traceparent"] == f"00-{span['traceId']}-{span['spanId']}-01"
    attrs = attributes(span)
    assert (attrs["gen_ai.provider.name"], attrs["gen_ai.operation.name"], attrs["gen_ai.usage.output_tokens"]) == ("anthropic", "chat", "9")


def test_refused_requests_have_error_spans_and_unsampled_traces_are_not_exported(traced, mock):
    tg, admin, key, receiver = traced
    unsampled = "00-%s-%s-00" % ("a" * 32, "b" * 16)
    httpx.post(tg.url + "/openai/v1/chat/completions", headers={"Authorization": "Bearer " + key["key"], "traceparent": unsampled},
               json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).raise_for_status()
    assert mock.last().headers["traceparent"].startswith("00-" + "a" * 32) and mock.last().headers["traceparent"].endswith("-00")
    refused = httpx.post(tg.url + "/openai/v1/chat/completions", headers={"Authorization": "Bearer tg_" + "x" * 32},
                         json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert refused.status_code == 401
    [span] = receiver.wait_spans(1)
    attrs = attributes(span)
    assert span["status"] == {"code": 2}
    assert (attrs["tollgate.outcome"], attrs["error.type"], attrs["http.response.status_code"]) == ("unauthorized", "unauthorized", "401")
    assert "gen_ai.response.model" not in attrs
    usage_events(tg, 2)  # both recorded; only the sampled one was exported
    assert all(s["traceId"] != "a" * 32 for s in receiver.spans())


def test_without_tracing_the_clients_traceparent_passes_through(tollgate, mock):
    parent = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
    httpx.post(tollgate.url + "/openai/v1/chat/completions", headers={"Authorization": "Bearer sk-own", "traceparent": parent},
               json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).raise_for_status()
    assert mock.last().headers["traceparent"] == parent


def test_a_failing_collector_costs_no_request_and_is_warned_about_once(start_tollgate, mock):
    receiver = OTLPReceiver(status=503)
    tg, admin = start(start_tollgate, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="50")
    for _ in range(3):
        httpx.post(tg.url + "/openai/v1/chat/completions", headers={"Authorization": "Bearer sk-own"},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).raise_for_status()
        n = len(receiver.posts)
        receiver.wait_spans(n + 1)  # each request's span was offered (and refused) before the next request
    assert tg.stop() == 0, "the exporter's failures never stop Tollgate"
    warnings = [line for line in tg.logs().splitlines() if "Could not export" in line]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0], warnings
    receiver.server.shutdown()
