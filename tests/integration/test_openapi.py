"""docs/openapi.yaml against a live Tollgate. Schemathesis generates requests for every operation of
the spec — its examples, coverage cases for each parameter and body (valid and invalid), property-based
ones, and stateful sequences that follow the ids one answer gives to the next operation — sends them
with the token each operation's security requirement names, and checks every answer against the spec:
no 5xx, a documented status, content type and headers, and a body that matches the response schema
exactly (the schemas close their objects, so a member added, dropped, renamed or retyped in the Swift
answer types fails here).

Before that, real traffic goes through the proxy with the official openai SDK, each request ending
differently, so stats, usage, errors, alerts and the cache have rows to show: a client key of `acme`
(with a key and an org budget) makes three requests, passthrough traffic fills `globex` and
`default`. `globex` gets 20 requests within seconds: one failing (its `error_rate` alert, with
`alerts.error_rate` at 1 % and checks every second), one of a model the pricing file does not know
(`unpriced_model`) and one costing $2.50 (its `spend_anomaly` alert: over $1 in an hour with no
history), so every alert kind is listed — `spend_anomaly` unless the UTC hour turns between that
request and the next check.

Two schemathesis runs, each with both bearer schemes configured (`bearerAuth`: the master admin key;
`clientKey`: the client key of `acme`), so each operation gets the token its security requirement
names. The self-service operations (`/tollgate/v1/…`) run first and alone (no links between them, so
no stateful phase): the admin run may revoke or expire that client key (its id is in
`GET /admin/keys`), after which they could only answer 401.
`POST /tollgate/v1/feedback` needs a request that key made: the run reads the spec as it is but for the
feedback example, whose `request_id` becomes the first request's X-Tollgate-Request-Id (the examples
and coverage phases build on it), and the generated bodies' `request_id` is overridden with it too, so
valid bodies are answered 201 (invalid ones 400; the coverage phase's own ids 404).

Schemathesis runs as its CLI (`st run`) in a subprocess: its pytest integration for a schema built in a
fixture (`schemathesis.pytest.from_fixture`, needed here since the server's URL is known only once the
fixture has started it) fails under pytest 9.2 (it reads and rewrites `Function._nodeid`, which pytest
9.2 no longer has). The runs are deterministic (`generation.deterministic` derandomizes every phase; no
example database) and write nothing outside the test's temporary directory.

Operations excluded: none. The destructive ones are harmless to this throwaway server once the traffic
is in: deleting an org is refused (409) for `default` and for `acme` (it has keys and budgets), and
otherwise deletes `globex` (the spec's example id: an org the passthrough traffic made, with no keys or
budgets) or an org the run made itself (`initech`, the spec's create example); revoking a key or
deleting a budget reaches only records whose ids the run found or made; `DELETE /admin/users/{user}`
(the spec's example: `alice` of `acme`, the key's user) rewrites that user's name in events and rollups
and keeps every total; `DELETE /admin/cache` and `POST /admin/pricing/reload` change nothing the
checks rely on. The admin request and sign-in limits
are switched off (`0`): the run makes a few thousand admin requests within seconds, which the default
limit would answer 429.
"""

import json
import subprocess
import sys
import time

import openai
import pytest
import yaml

from access_helpers import ADMIN, ROOT, oai, start, wait_until
from analytics_helpers import wait_flushed

SPEC = f"{ROOT}/docs/openapi.yaml"
MAX_EXAMPLES = 12  # property-based examples per operation, besides the spec's examples and the coverage cases
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance"]
RUN_LIMIT = 80  # seconds for each schemathesis run (about 3 and 14 on a 2-core machine)
SELF_SERVICE = "^/tollgate/"  # the operations the client key answers; the first run, alone

# `clientKey` and the feedback's request id are filled in once the traffic is in.
CONFIG = """
workers = 1
request-timeout = 15
[cache]
enabled = false
[generation]
deterministic = true
database = "none"
max-examples = {max_examples}
[auth.openapi.bearerAuth]
bearer = "{admin}"
[auth.openapi.clientKey]
bearer = "{client_key}"

[[operations]]
include-operation-id = "rateAnswer"
[operations.parameters]
"body.request_id" = "{request_id}"
"""


def send_traffic(tg, admin):
    """Real requests through the proxy, each ending differently; returns how many were sent, the client
    key (a `tg_` secret) and the request id of its first request."""
    # `acme` (with keys and budgets, so it stays) is the org the spec's key and budget examples use.
    admin.create_org("acme", markup_pct=20)
    # Its rpm_limit shows in /tollgate/v1/me's rate_limits (its requests stay far below it).
    key = admin.create_key("acme", name="ci", team="search", user="alice", department="research",
                           allowed_models=["gpt-4o*"], rpm_limit=1000)
    # An alert-only budget so small that the first request crosses every threshold: alerts to list.
    admin.create_budget(scope="key", scope_id=key["id"], limit_usd=0.000001, action="alert")
    admin.create_budget(scope="org", scope_id="acme", limit_usd=10, period="month")
    client = oai(tg, key["key"])
    passthrough = oai(tg, "sk-openapi-passthrough-5e21")
    hi = [{"role": "user", "content": "hi"}]
    first = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=hi, extra_headers={"X-Tollgate-Session": "conv-1", "X-Tollgate-Tag-Feature": "search"})
    request_id = first.headers["x-tollgate-request-id"]
    assert list(client.chat.completions.create(model="gpt-4o", messages=hi, stream=True))
    with pytest.raises(openai.PermissionDeniedError):  # not among the key's models: refused, outcome forbidden
        client.chat.completions.create(model="claude-sonnet-4-5", messages=hi)
    # globex: 20 requests within seconds, one failing (error_rate), one costing $2.50 (spend_anomaly), one unpriced.
    globex = {"X-Tollgate-Org": "globex"}
    with pytest.raises(openai.InternalServerError):  # the provider fails: upstream_error
        passthrough.chat.completions.create(model="mock-error-500", messages=hi, extra_headers=globex)
    passthrough.chat.completions.create(
        model="gpt-4o", messages=hi,
        extra_headers={**globex, "X-Mock-Usage": json.dumps({"prompt_tokens": 1_000_000, "completion_tokens": 1})})
    # A model the pricing file does not know: recorded unpriced, and alerted once.
    passthrough.chat.completions.create(model="openapi-unpriced-1", messages=hi, extra_headers=globex)
    for _ in range(17):
        passthrough.embeddings.create(model="text-embedding-3-small", input="hi", extra_headers=globex)
    cache = {"X-Tollgate-Cache": "on", "X-Tollgate-Team": "ops", "X-Tollgate-Department": "finance"}
    for _ in range(2):  # the second is answered from the response cache
        passthrough.chat.completions.create(model="gpt-4o-mini", messages=hi, extra_headers=cache)
    passthrough.embeddings.create(model="text-embedding-3-small", input="hi")
    return 3 + 20 + 3, key["key"], request_id


def utc_hour():
    return int(time.time() // 3600)


def spec_operations():
    with open(SPEC) as f:
        paths = yaml.safe_load(f)["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items()
            for method in item if method in ("get", "put", "post", "patch", "delete")}


def write_spec(path, request_id):
    """The spec as JSON at `path`, its feedback example rating the request `request_id`."""
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    spec["paths"]["/tollgate/v1/feedback"]["post"]["requestBody"]["content"]["application/json"]["example"]["request_id"] = request_id
    path.write_text(json.dumps(spec))


def st_run(tg, tmp_path, name, operations):
    """One `st run` of the spec in `tmp_path` over the operations `operations` selects (CLI arguments);
    its JSON report and its output."""
    report = tmp_path / f"{name}.json"
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(tmp_path / "schemathesis.toml"), "run",
         str(tmp_path / "openapi.json"), "--url", tg.url, *operations, "--checks", ",".join(CHECKS), "--report", "json",
         "--report-json-path", str(report), "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=RUN_LIMIT)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis ({name}) found the spec and the server disagreeing (exit {run.returncode}):\n{output}"
    summary = json.loads(report.read_text())
    assert summary["complete"] and summary["stop_reason"] == "completed", output
    assert summary["failures"] == [] and summary["errors"] == [], output
    return summary, output


def test_api_matches_openapi(start_tollgate, mock, tmp_path):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_REQUESTS_PER_MINUTE=0, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE=0,
                      TOLLGATE_ALERT_CHECK_SECONDS=1, TOLLGATE_ALERT_ERROR_RATE="0.01")
    hour = utc_hour()
    sent, client_key, request_id = send_traffic(tg, admin)
    wait_flushed(admin, sent)

    def alerts_in():
        kinds = {a["kind"] for a in admin.alerts()}
        # spend_anomaly compares the hour the check runs in: once the hour has turned, it cannot fire.
        return {"threshold", "unpriced_model", "error_rate"} <= kinds and ("spend_anomaly" in kinds or utc_hour() != hour)
    wait_until(alerts_in, timeout=10, message="the threshold, unpriced_model, error_rate and spend_anomaly alerts")

    (tmp_path / "schemathesis.toml").write_text(CONFIG.format(
        max_examples=MAX_EXAMPLES, admin=ADMIN, client_key=client_key, request_id=request_id))
    write_spec(tmp_path / "openapi.json", request_id)
    # No links between the two self-service operations: no stateful phase there.
    own, own_output = st_run(tg, tmp_path, "self-service",
                             ["--include-path-regex", SELF_SERVICE, "--phases", "examples,coverage,fuzzing"])
    rest, rest_output = st_run(tg, tmp_path, "admin", ["--exclude-path-regex", SELF_SERVICE])
    output = own_output + rest_output

    expected = spec_operations()
    self_service = {op for op in expected if op.split(" ", 1)[1].startswith("/tollgate/")}
    assert len(self_service) == 2 and len(expected) > 20, sorted(expected)
    for summary, selected in [(own, self_service), (rest, expected - self_service)]:
        assert summary["operations"] == {"total": len(expected), "selected": len(selected), "tested": len(selected),
                                         "errored": 0, "skipped": 0, "skip_reasons": []}, output
    # Every operation was exercised for real: at least one of its requests was answered 2xx.
    answered = {op for summary in (own, rest) for op, phases in summary["valid_rates"].items()
                if any(p["accepted"] for p in phases.values())}
    assert expected - answered == set(), f"operations never answered 2xx: {sorted(expected - answered)}\n{output}"
    generated = own["test_cases"]["generated"] + rest["test_cases"]["generated"]
    assert generated >= 20 * len(expected), (own["test_cases"], rest["test_cases"])
