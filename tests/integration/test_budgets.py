"""Budgets end to end (SPEC §7, §9): reservations that hold under 40 parallel clients, exact spend that
equals the recorded usage to the nano-dollar, key / team / org scopes (passthrough traffic included),
spend that survives a restart, and the 429 each SDK sees when a budget is exhausted.

Money: every request here has a known worst case W (access_helpers: 100 estimated input tokens, a
1000-token output cap on gpt-4o-mini = $0.000615) and, through X-Mock-Usage, an actual cost equal to
it, so a limit of k × W admits exactly k requests. Amounts are compared as Decimals parsed from the
JSON text, never through floats.
"""

import concurrent.futures
import datetime
import threading
import time
from decimal import Decimal

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from access_helpers import (FULL_USAGE, MAX_TOKENS, MSG, W, assert_field_error, ant, chat, oai,
                            parse_iso, start, worst_case)

BUDGET_FIELDS = {"id", "scope", "scope_id", "org", "limit_usd", "period", "thresholds", "action", "enforcement",
                 "spent_usd", "reserved_usd", "remaining_usd", "period_start", "period_end"}


def assert_budget_exceeded(err):
    """An OpenAI-route refusal: 429, insufficient_quota / budget_exceeded, x-should-retry: false."""
    assert err.status_code == 429
    assert err.body["code"] == "budget_exceeded" and err.body["type"] == "insufficient_quota", err.body
    assert err.body["message"]
    assert err.response.headers.get("x-should-retry") == "false", dict(err.response.headers)


# -- the admin API ---------------------------------------------------------------------------------------

def test_budgets_are_created_read_updated_and_deleted_through_the_admin_api(start_tollgate):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", team="search")
    now = datetime.datetime.now(datetime.timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    org_budget = admin.create_budget(scope="org", scope_id="acme", limit_usd=10, period="month")
    assert BUDGET_FIELDS <= set(org_budget), BUDGET_FIELDS - set(org_budget)
    assert org_budget["id"].startswith("bud_") and org_budget["org"] == "acme"
    assert org_budget["limit_usd"] == 10 and org_budget["period"] == "month"
    assert org_budget["thresholds"] == [Decimal("0.5"), Decimal("0.8"), Decimal("1.0")]
    assert org_budget["action"] == "block" and org_budget["enforcement"] == "strict"
    assert org_budget["spent_usd"] == 0 and org_budget["reserved_usd"] == 0 and org_budget["remaining_usd"] == 10
    month_start = midnight.replace(day=1)
    next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
    assert parse_iso(org_budget["period_start"]) == month_start
    assert parse_iso(org_budget["period_end"]) == next_month

    key_budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=Decimal("2.5"), period="week",
                                     thresholds=[Decimal("0.25"), Decimal("0.75")], action="alert",
                                     enforcement="soft")
    assert key_budget["org"] == "acme", "a key budget belongs to the key's org"
    assert key_budget["thresholds"] == [Decimal("0.25"), Decimal("0.75")]
    assert key_budget["action"] == "alert" and key_budget["enforcement"] == "soft"
    assert key_budget["limit_usd"] == Decimal("2.5") and key_budget["remaining_usd"] == Decimal("2.5")
    monday = midnight - datetime.timedelta(days=midnight.weekday())
    assert parse_iso(key_budget["period_start"]) == monday
    assert parse_iso(key_budget["period_end"]) == monday + datetime.timedelta(days=7)

    team_budget = admin.create_budget(scope="team", scope_id="search", org="acme", limit_usd=1, period="day")
    assert team_budget["org"] == "acme" and team_budget["scope_id"] == "search"
    assert parse_iso(team_budget["period_start"]) == midnight
    assert parse_iso(team_budget["period_end"]) == midnight + datetime.timedelta(days=1)

    total_budget = admin.create_budget(scope="org", scope_id="default", limit_usd=100, period="total")
    assert total_budget["period_end"] is None

    listed = admin.call("GET", "/admin/budgets")
    assert "next_cursor" in listed
    by_id = {b["id"]: b for b in listed["data"]}
    assert {org_budget["id"], key_budget["id"], team_budget["id"], total_budget["id"]} <= set(by_id)
    for b in by_id.values():
        assert BUDGET_FIELDS <= set(b), BUDGET_FIELDS - set(b)
    assert admin.budget(key_budget["id"]) == key_budget

    patched = admin.call("PATCH", f"/admin/budgets/{key_budget['id']}", {"limit_usd": 5, "enforcement": "strict"})
    assert patched["limit_usd"] == 5 and patched["remaining_usd"] == 5 and patched["enforcement"] == "strict"
    assert patched["scope_id"] == key["id"] and patched["action"] == "alert"
    assert admin.budget(key_budget["id"])["limit_usd"] == 5

    deleted = admin.call("DELETE", f"/admin/budgets/{team_budget['id']}")
    assert deleted["id"] == team_budget["id"]
    assert admin.request("GET", f"/admin/budgets/{team_budget['id']}").status_code == 404
    assert team_budget["id"] not in {b["id"] for b in admin.budgets()}

    for method in ("GET", "PATCH", "DELETE"):
        body = {"limit_usd": 1} if method == "PATCH" else None
        assert admin.request(method, "/admin/budgets/bud_doesnotexist", body).status_code == 404, method


@pytest.mark.parametrize("change, field", [
    ({"scope": "planet"}, "scope"),
    ({"period": "year"}, "period"),
    ({"limit_usd": -1}, "limit_usd"),
    ({"limit_usd": "ten"}, "limit_usd"),
    ({"action": "explode"}, "action"),
    ({"enforcement": "medium"}, "enforcement"),
    ({"thresholds": "half"}, "thresholds"),
    ({"scope": "key", "scope_id": "key_doesnotexist"}, "scope_id"),
    ({"scope_id": "no-such-org"}, ("scope_id", "org")),
])
def test_budget_with_an_invalid_field_is_400_naming_it(start_tollgate, change, field):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    body = {"scope": "org", "scope_id": "acme", "limit_usd": 10, "period": "month", **change}
    assert_field_error(admin.request("POST", "/admin/budgets", body), field)
    assert admin.budgets() == []


# -- blocking ------------------------------------------------------------------------------------------------

def test_openai_sdk_works_until_the_budget_is_spent_then_raises_rate_limit_error_without_retrying(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme", "Acme Corp", markup_pct=20)
    key = admin.create_key("acme", name="app")
    budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=3 * W, period="month")
    client = oai(tg, key["key"], max_retries=2)  # the SDK's default retry policy
    for _ in range(3):
        assert chat(client).choices[0].message.content
    with pytest.raises(openai.RateLimitError) as err:
        chat(client)
    assert_budget_exceeded(err.value)
    assert len(mock.requests) == 3, "the blocked call (or a retry of it) reached the provider"

    s = admin.wait_requests(4, key=key["id"])
    time.sleep(0.3)
    s = admin.stats(key=key["id"])
    assert s["requests"] == 4, "the SDK retried a budget refusal"
    assert s["ok_requests"] == 3 and s["blocked_requests"] == 1
    b = admin.wait_settled(budget["id"], spent=3 * W)
    assert b["remaining_usd"] == 0 and b["spent_usd"] == s["cost_usd"] == 3 * W
    # budgets count what the provider billed; the org's markup shows only in charged_usd
    assert s["charged_usd"] == 3 * W * Decimal("1.2")


def test_anthropic_route_refuses_with_rate_limit_error_and_budget_exceeded(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    # claude-haiku-4-5 ($1 / $5 per 1M): 100 input tokens + a 100-token cap = $0.0006 worst case
    wc = worst_case("claude-haiku-4-5", 100, 100)
    assert wc == Decimal("0.0006")
    admin.create_budget(scope="key", scope_id=key["id"], limit_usd=wc, period="total")
    client = ant(tg, key["key"], max_retries=2)
    usage = {"X-Mock-Usage": '{"input_tokens": 100, "output_tokens": 100}'}
    assert client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MSG, extra_headers=usage).content
    with pytest.raises(anthropic.RateLimitError) as err:
        client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MSG, extra_headers=usage)
    assert err.value.status_code == 429
    body = err.value.body
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert body["error"]["code"] == "budget_exceeded" and body["error"]["message"]
    assert err.value.response.headers.get("x-should-retry") == "false"
    assert len(mock.requests) == 1
    s = admin.wait_requests(2, key=key["id"])
    assert s["requests"] == 2 and s["blocked_requests"] == 1


def test_gemini_route_refuses_with_resource_exhausted_and_budget_exceeded(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    admin.create_budget(scope="key", scope_id=key["id"], limit_usd=Decimal("0.000000001"), period="total")
    client = genai.Client(api_key=key["key"], http_options=genai_types.HttpOptions(base_url=tg.url + "/gemini"))
    with pytest.raises(genai_errors.ClientError) as err:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert err.value.code == 429
    body = err.value.details["error"]
    assert body["status"] == "RESOURCE_EXHAUSTED" and body["reason"] == "budget_exceeded" and body["code"] == 429
    assert mock.requests == []


def test_strict_admission_is_exact_to_the_nano_dollar(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    # no output cap in the request: the model's max_output_tokens from pricing.json is reserved.
    # "Say hi" is 6 bytes → 2 estimated tokens; gpt-4o-mini allows 16384 output tokens.
    short = [{"role": "user", "content": "Say hi"}]
    no_cap = worst_case("gpt-4o-mini", 2, 16384)
    assert no_cap == Decimal("0.0098307")
    capped = worst_case("gpt-4o-mini", 100, 200)  # max_completion_tokens 200 on the 400-byte message
    assert capped == Decimal("0.000135")
    nano = Decimal("0.000000001")
    cases = [(no_cap, dict(messages=short), True), (no_cap - nano, dict(messages=short), False),
             (capped, dict(messages=MSG, max_completion_tokens=200), True),
             (capped - nano, dict(messages=MSG, max_completion_tokens=200), False)]
    for limit, request, admitted in cases:
        key = admin.create_key("acme")
        admin.create_budget(scope="key", scope_id=key["id"], limit_usd=limit, period="total")
        client = oai(tg, key["key"])
        if admitted:
            assert client.chat.completions.create(model="gpt-4o-mini", **request).choices, (limit, request)
        else:
            with pytest.raises(openai.RateLimitError) as err:
                client.chat.completions.create(model="gpt-4o-mini", **request)
            assert_budget_exceeded(err.value)
    assert len(mock.requests) == 2


@pytest.mark.parametrize("enforcement, limit, admitted", [
    ("strict", 10 * W, 10),  # exactly ten worst cases fit
    ("strict", Decimal("9.5") * W, 9),  # the tenth would pass the limit
    ("soft", Decimal("9.5") * W, 10),  # admitted while spent + reserved < limit: one in-flight overshoot
], ids=["strict-10W", "strict-9.5W", "soft-9.5W"])
def test_forty_parallel_clients_cannot_overspend(start_tollgate, mock, enforcement, limit, admitted):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", name="parallel")
    budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=limit, period="total",
                                 enforcement=enforcement)
    client = oai(tg, key["key"], timeout=30)
    barrier = threading.Barrier(40)
    # each admitted stream lasts ~1 s (6 chunks 150 ms apart), so all forty are decided while the
    # first ones are still in flight: only reservations, not settled spend, can hold the line
    slow = {**FULL_USAGE, "X-Mock-Interval-Ms": "150"}

    def one(_):
        barrier.wait(timeout=10)
        try:
            stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=MAX_TOKENS,
                                                    stream=True, extra_headers=slow)
            return "ok" if "".join(c.choices[0].delta.content or "" for c in stream if c.choices) else "empty"
        except openai.RateLimitError as e:
            return e.body.get("code") if isinstance(e.body, dict) else repr(e.body)
        except Exception as e:  # noqa: BLE001 - reported in the assertion below
            return repr(e)

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(one, range(40), timeout=60))
    counts = {r: results.count(r) for r in set(results)}
    assert counts == {"ok": admitted, "budget_exceeded": 40 - admitted}, counts
    recs = mock.find(path="/chat/completions")
    assert len(recs) == admitted
    assert all(r.wait_done(5) and r.completed for r in recs)
    assert max(r.received_at for r in recs) < min(r.ended_at for r in recs), "the admitted streams did not overlap"

    s = admin.wait_requests(40, key=key["id"])
    assert s["ok_requests"] == admitted and s["blocked_requests"] == 40 - admitted
    b = admin.wait_settled(budget["id"], spent=admitted * W)
    assert b["spent_usd"] == s["cost_usd"], "the budget's spend must equal the recorded events' cost exactly"
    if enforcement == "strict":
        assert b["spent_usd"] <= limit
        assert b["remaining_usd"] == limit - admitted * W
    else:
        assert limit < b["spent_usd"] < limit + W, "soft overspend is bounded by one in-flight worst case"
        assert b["remaining_usd"] <= 0


# -- scopes: team, org, passthrough -------------------------------------------------------------------------

def test_team_budget_is_shared_by_the_keys_of_that_team(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    admin.create_org("beta")
    k1 = admin.create_key("acme", name="search-1", team="search")
    k2 = admin.create_key("acme", name="search-2", team="search")
    ads = admin.create_key("acme", name="ads", team="ads")
    other_org = admin.create_key("beta", name="beta-search", team="search")
    budget = admin.create_budget(scope="team", scope_id="search", org="acme", limit_usd=2 * W, period="month")
    chat(oai(tg, k1["key"]))
    chat(oai(tg, k2["key"]))
    for key in (k1, k2):
        with pytest.raises(openai.RateLimitError) as err:
            chat(oai(tg, key["key"]))
        assert_budget_exceeded(err.value)
    chat(oai(tg, ads["key"]))  # another team of the same org
    chat(oai(tg, other_org["key"]))  # a team of the same name in another org
    assert len(mock.requests) == 4
    admin.wait_requests(5, org="acme")
    b = admin.wait_settled(budget["id"], spent=2 * W)
    assert b["spent_usd"] == admin.stats(org="acme", team="search")["cost_usd"]


def test_org_budget_covers_every_team_and_passthrough_traffic(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("beta")
    k_x = admin.create_key("beta", team="x")
    k_y = admin.create_key("beta", team="y")
    budget = admin.create_budget(scope="org", scope_id="beta", limit_usd=4 * W, period="month")
    assert budget["org"] == "beta"
    passthrough = oai(tg, "sk-client-own-key", default_headers={"X-Tollgate-Org": "beta"})
    chat(oai(tg, k_x["key"]))
    chat(oai(tg, k_y["key"]))
    chat(passthrough)
    assert mock.last().headers["authorization"] == "Bearer sk-client-own-key"
    chat(passthrough)
    admin.wait_settled(budget["id"], spent=4 * W)
    for client in (oai(tg, k_x["key"]), oai(tg, k_y["key"]), passthrough):
        with pytest.raises(openai.RateLimitError) as err:
            chat(client)
        assert_budget_exceeded(err.value)
    assert len(mock.requests) == 4
    # passthrough traffic of another org, or of none, is not covered
    chat(oai(tg, "sk-client-own-key", default_headers={"X-Tollgate-Org": "gamma"}))
    chat(oai(tg, "sk-client-own-key"))
    assert len(mock.requests) == 6
    s = admin.wait_requests(7, org="beta")
    assert s["requests"] == 7 and s["ok_requests"] == 4 and s["blocked_requests"] == 3
    assert admin.budget(budget["id"])["spent_usd"] == s["cost_usd"] == 4 * W


def test_alert_action_never_blocks(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=2 * W, period="total", action="alert")
    client = oai(tg, key["key"])
    for _ in range(4):
        assert chat(client).choices
    assert len(mock.requests) == 4
    b = admin.wait_settled(budget["id"], spent=4 * W)
    assert b["remaining_usd"] <= 0


# -- persistence -----------------------------------------------------------------------------------------------

def test_spend_survives_a_restart_and_the_budget_still_blocks(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=2 * W, period="month")
    client = oai(tg, key["key"])
    chat(client)
    chat(client)
    before = admin.wait_settled(budget["id"], spent=2 * W)
    assert tg.stop() == 0

    tg2, admin2 = start(start_tollgate, TOLLGATE_DB=tg.db)
    after = admin2.budget(budget["id"])
    assert after["spent_usd"] == before["spent_usd"] == 2 * W
    assert after["reserved_usd"] == 0 and after["remaining_usd"] == 0
    assert after["period_start"] == before["period_start"]
    client2 = oai(tg2, key["key"])
    with pytest.raises(openai.RateLimitError) as err:
        chat(client2)
    assert_budget_exceeded(err.value)
    assert len(mock.requests) == 2
    # raising the limit admits exactly one more worst case
    admin2.call("PATCH", f"/admin/budgets/{budget['id']}", {"limit_usd": 3 * W})
    chat(client2)
    with pytest.raises(openai.RateLimitError):
        chat(client2)
    assert len(mock.requests) == 3
    admin2.wait_requests(5, key=key["id"])
    b = admin2.wait_settled(budget["id"], spent=3 * W)
    assert b["spent_usd"] == admin2.stats(key=key["id"])["cost_usd"]


def test_spend_after_a_crash_matches_the_recorded_events(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=10 * W, period="total")
    client = oai(tg, key["key"])
    for _ in range(3):
        chat(client)
    admin.wait_settled(budget["id"], spent=3 * W)
    # a crash may lose the last flush window (TOLLGATE_FLUSH_MS); wait until the events are committed
    admin.wait_requests(3, key=key["id"])
    tg.kill()

    tg2, admin2 = start(start_tollgate, TOLLGATE_DB=tg.db)
    b = admin2.budget(budget["id"])
    s = admin2.stats(key=key["id"])
    assert b["spent_usd"] == s["cost_usd"] == 3 * W and s["requests"] == 3
    assert b["reserved_usd"] == 0, "a crash must not leave reservations behind"
    for _ in range(7):
        chat(oai(tg2, key["key"]))
    with pytest.raises(openai.RateLimitError):
        chat(oai(tg2, key["key"]))
    assert admin2.wait_settled(budget["id"], spent=10 * W)["remaining_usd"] == 0
