"""SPEC §13 dimensions end to end: team and department headers on passthrough traffic, the new filters and
breakdowns (department, session, endpoint, outcome, status), the usage event behind a request id, the
errors report and the added summary fields — each answer checked against the raw events it covers, money
exact in Decimal (the oracle of test_analytics.py).

The traffic is analytics_helpers.TRAFFIC plus EXTRA: passthrough calls with team, department and session
headers, and upstream failures of several kinds at different times.
"""

import json

import openai
import pytest
from decimal import Decimal

from access_helpers import oai, start
from analytics_helpers import (ORG_TOKENS, all_usage, assert_summary, get, half_up, parse_csv, run_cli, setup, summarize,
                               wait_flushed)
from test_analytics import assert_breakdown

pytestmark = pytest.mark.filterwarnings("ignore:The model 'claude-sonnet-4-5' is deprecated:DeprecationWarning")

# (org, model, headers): passthrough OpenAI calls beside TRAFFIC.
EXTRA = [
    ("acme", "gpt-4o-mini", {"X-Tollgate-Team": "search", "X-Tollgate-Department": "research", "X-Tollgate-Session": "conv-1"}),
    ("acme", "gpt-4o", {"X-Tollgate-Team": "search", "X-Tollgate-Department": "research", "X-Tollgate-Session": "conv-1"}),
    ("acme", "gpt-4o-mini", {"X-Tollgate-Department": "finance", "X-Tollgate-Session": "conv-2"}),
    ("globex", "gpt-4o", {"X-Tollgate-Team": "ops", "X-Tollgate-Department": "", "X-Tollgate-Session": "conv-3"}),
    ("acme", "mock-error-429", {"X-Tollgate-Department": "research"}),
    ("acme", "mock-error-500", {}),
    ("globex", "mock-error-400", {}),
]


def send_extra(tg):
    """Sends EXTRA; returns {request_id: (org, model, headers)}."""
    sent = {}
    for org, model, headers in EXTRA:
        client = oai(tg, ORG_TOKENS[org])
        try:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Tollgate-Org": org, **headers})
            rid = raw.headers["x-tollgate-request-id"]
        except openai.APIStatusError as e:
            assert model.startswith("mock-error-"), f"{model} failed: {e}"
            rid = e.response.headers["x-tollgate-request-id"]
        sent[rid] = (org, model, headers)
    return sent


@pytest.fixture
def traffic(start_tollgate, mock):
    tg, admin, acme_admin, sent = setup(start_tollgate)
    extra = send_extra(tg)
    wait_flushed(admin, len(sent) + len(extra))
    events, _ = all_usage(admin)
    return tg, admin, acme_admin, {e["request_id"]: e for e in events}, extra


def test_team_and_department_headers_attribute_passthrough_traffic(traffic):
    tg, admin, _, events, extra = traffic
    for rid, (org, model, headers) in extra.items():
        e = events[rid]
        assert e["team"] == (headers.get("X-Tollgate-Team") or None), e
        assert e["department"] == (headers.get("X-Tollgate-Department") or None), e
        assert e["session"] == headers.get("X-Tollgate-Session"), e


def test_a_keys_own_team_and_department_win_over_headers(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("initech")
    key = admin.create_key("initech", team="core", department="engineering")
    bare = admin.create_key("initech")
    for token in (key["key"], bare["key"]):
        oai(tg, token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Tollgate-Team": "elsewhere", "X-Tollgate-Department": "elsewhere"})
    wait_flushed(admin, 2)
    usage = get(admin, "/admin/usage", org="initech")["data"]
    assert len(usage) == 2
    by_key = {e["key_id"]: e for e in usage}
    assert (by_key[key["id"]]["team"], by_key[key["id"]]["department"]) == ("core", "engineering")
    # A key without a team is not given one by a header: the header would charge another team's budget.
    assert (by_key[bare["id"]]["team"], by_key[bare["id"]]["department"]) == (None, None)


@pytest.mark.parametrize("by", ["department", "session", "endpoint", "outcome", "status"])
def test_breakdown_by_a_new_dimension_equals_the_sums_of_its_raw_events(traffic, by):
    tg, admin, _, events, _ = traffic
    answer = get(admin, "/admin/stats/breakdown", by=by, limit=1000)
    assert answer["by"] == by
    assert_breakdown(answer, list(events.values()), by, f"breakdown by={by}", users=False)
    assert len(answer["data"]) > 1, f"the traffic should give several {by} groups: {answer['data']}"


@pytest.mark.parametrize("name,value", [("department", "research"), ("session", "conv-1"), ("endpoint", "messages"),
                                        ("outcome", "upstream_error"), ("status", "500")])
def test_a_new_filter_narrows_every_endpoint_exactly(traffic, name, value):
    tg, admin, acme_admin, events, _ = traffic
    chosen = [e for e in events.values() if str(e[name]) == value]
    assert chosen, f"no event has {name}={value}"
    assert_summary(get(admin, "/admin/stats", **{name: value}), chosen, f"/admin/stats {name}={value}", users=False)
    series = get(admin, "/admin/stats/timeseries", granularity="hour", **{name: value})
    assert sum(row["requests"] for row in series["data"]) == len(chosen)
    assert sum(row["cost_usd"] for row in series["data"]) == summarize(chosen)["cost_usd"]
    assert_breakdown(get(admin, "/admin/stats/breakdown", by="org", **{name: value}), chosen, "org", f"by org, {name}={value}", users=False)
    assert {e["request_id"] for e in get(admin, "/admin/usage", **{name: value})["data"]} == {e["request_id"] for e in chosen}
    exported = json.loads(admin.request("GET", "/admin/export", params={"format": "json", name: value}).text)
    assert sorted(e["request_id"] for e in exported) == sorted(e["request_id"] for e in chosen)
    _, csv_rows = parse_csv(admin.request("GET", "/admin/export", params={"format": "csv", name: value}).text)
    assert len(csv_rows) == len(chosen)
    # An org admin's answer is the same filter within its own org.
    mine = [e for e in chosen if e["org"] == "acme"]
    assert acme_admin.call("GET", "/admin/stats", params={name: value})["requests"] == len(mine)


def test_request_id_finds_the_one_event_behind_it_within_the_callers_org(traffic):
    tg, admin, acme_admin, events, extra = traffic
    for rid, event in list(events.items())[:5]:
        page = get(admin, "/admin/usage", request_id=rid)
        assert [e["request_id"] for e in page["data"]] == [rid] and page["next_cursor"] is None
        assert page["data"][0] == event
    assert get(admin, "/admin/usage", request_id="req_does_not_exist")["data"] == []
    globex = next(rid for rid, e in events.items() if e["org"] == "globex")
    acme = next(rid for rid, e in events.items() if e["org"] == "acme")
    assert acme_admin.call("GET", "/admin/usage", params={"request_id": globex})["data"] == []
    assert [e["request_id"] for e in acme_admin.call("GET", "/admin/usage", params={"request_id": acme})["data"]] == [acme]


def expected_errors(events):
    failed = [e for e in events if e["outcome"] != "ok"]
    groups = {}
    for e in failed:
        groups.setdefault((e["outcome"], e["status"], e["provider"], e["model"]), []).append(e)
    return failed, groups


def test_errors_groups_every_failed_request_with_its_latest_message(traffic):
    tg, admin, acme_admin, events, _ = traffic
    # One more 500 from the same model later: its message is the group's latest.
    oai_client = oai(tg, ORG_TOKENS["acme"])
    with pytest.raises(openai.InternalServerError) as later:
        oai_client.chat.completions.create(model="mock-error-500", messages=[{"role": "user", "content": "hi"}],
                                           extra_headers={"X-Tollgate-Org": "acme"})
    wait_flushed(admin, len(events) + 1)
    all_events = list(all_usage(admin)[0])
    failed, groups = expected_errors(all_events)
    answer = get(admin, "/admin/stats/errors")
    assert answer["requests"] == len(all_events) and answer["failed_requests"] == len(failed)
    assert answer["error_rate"] == half_up(Decimal(len(failed)) / len(all_events), 4)
    assert answer["groups"] == len(groups) == len(answer["data"])
    counts = [row["requests"] for row in answer["data"]]
    assert counts == sorted(counts, reverse=True)
    for row in answer["data"]:
        members = groups[(row["outcome"], row["status"], row["provider"], row["model"])]
        assert row["requests"] == len(members)
        assert row["share"] == half_up(Decimal(len(members)) / len(failed), 4)
        latest = max(members, key=lambda e: (e["started_at"], e["request_id"]))
        assert row["latest_at"] == latest["started_at"]
        assert row["latest_error"] == latest["error"] and row["latest_error"], row
    five_hundred = next(r for r in answer["data"] if (r["outcome"], r["status"], r["model"]) == ("upstream_error", 500, "mock-error-500"))
    assert five_hundred["requests"] == 3
    later_id = later.value.response.headers["x-tollgate-request-id"]
    assert get(admin, "/admin/usage", request_id=later_id)["data"][0]["started_at"] == five_hundred["latest_at"]

    # Filters apply; an org admin sees its own org's failures only.
    only_429 = get(admin, "/admin/stats/errors", status="429")
    assert [(r["outcome"], r["status"]) for r in only_429["data"]] == [("upstream_error", 429)]
    mine = acme_admin.call("GET", "/admin/stats/errors")
    acme_failed = [e for e in failed if e["org"] == "acme"]
    assert mine["failed_requests"] == len(acme_failed)
    assert {r["model"] for r in mine["data"]} == {e["model"] for e in acme_failed}
    assert acme_admin.request("GET", "/admin/stats/errors", params={"org": "globex"}).status_code == 403


@pytest.mark.parametrize("params,field", [
    ({"outcome": "oops"}, "'outcome'"), ({"endpoint": "chats"}, "'endpoint'"), ({"status": "abc"}, "'status'"),
    ({"status": "42"}, "'status'"),
])
def test_a_value_no_request_can_have_is_a_400_naming_the_filter(traffic, params, field):
    tg, admin = traffic[:2]
    for path in ("/admin/stats", "/admin/stats/errors", "/admin/usage", "/admin/stats/breakdown"):
        r = admin.request("GET", path, params={"by": "model", **params})
        assert r.status_code == 400, f"{path} {params}: {r.status_code} {r.text}"
        error = json.loads(r.text)["error"]
        assert error["code"] == "invalid_request" and error["message"].startswith(field), error


def test_an_unknown_breakdown_lists_every_dimension(traffic):
    r = traffic[1].request("GET", "/admin/stats/breakdown", params={"by": "colour"})
    assert r.status_code == 400
    message = json.loads(r.text)["error"]["message"]
    for name in ("org", "team", "user", "key", "provider", "model", "department", "session", "endpoint", "outcome", "status",
                 "tag.<name>"):
        assert name in message, message


def test_cli_filters_and_breaks_down_by_the_new_dimensions_like_the_api(traffic):
    tg, admin, _, events, _ = traffic
    out = run_cli("stats", "--db", tg.db, "--by", "outcome", "--format", "json")
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    api = get(admin, "/admin/stats/breakdown", by="outcome", limit=20)
    assert [(r["group"], r["requests"], str(r["cost_usd"])) for r in cli["data"]] == \
        [(r["group"], r["requests"], str(r["cost_usd"])) for r in api["data"]]
    out = run_cli("stats", "--db", tg.db, "--department", "research", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["requests"] == len([e for e in events.values() if e["department"] == "research"])
    out = run_cli("export", "--db", tg.db, "--status", "500", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert {e["request_id"] for e in json.loads(out.stdout)} == {r for r, e in events.items() if e["status"] == 500}
    bad = run_cli("stats", "--db", tg.db, "--outcome", "oops")
    assert bad.returncode != 0 and "'outcome' must be one of" in bad.stderr
