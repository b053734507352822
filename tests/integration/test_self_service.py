"""SPEC §13 self-service: `GET /tollgate/v1/me` with a client key — its own spend (checked against its raw
usage events), the budgets that cover it with live figures, its rate limits and its org's average key; and
nobody else's. Driven through the official openai SDK, the key sent as each SDK sends it.
"""

from decimal import Decimal

import httpx
import pytest
from access_helpers import oai, start
from analytics_helpers import assert_summary, get, half_up, summarize, wait_flushed


def me(tg, token, header="authorization", **params):
    value = f"Bearer {token}" if header == "authorization" else token
    return httpx.get(tg.url + "/tollgate/v1/me", params=params, headers={header: value}, timeout=10)


@pytest.fixture
def team(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    alice = admin.create_key("acme", name="alice-bot", team="core", rpm_limit=100)
    bob = admin.create_key("acme", name="bob-bot", team="growth")
    budgets = {
        "own": admin.create_budget(scope="key", scope_id=alice["id"], limit_usd=Decimal("5")),
        "team": admin.create_budget(scope="team", scope_id="core", org="acme", limit_usd=Decimal("50"), period="day"),
        "org": admin.create_budget(scope="org", scope_id="acme", limit_usd=Decimal("500")),
        "bob": admin.create_budget(scope="key", scope_id=bob["id"], limit_usd=Decimal("1")),
        "other team": admin.create_budget(scope="team", scope_id="growth", org="acme", limit_usd=Decimal("9")),
    }
    for key, prompt_tokens in [(alice, 1000), (alice, 250), (bob, 40)]:
        oai(tg, key["key"]).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Mock-Usage": f'{{"prompt_tokens": {prompt_tokens}, "completion_tokens": 30}}'})
    wait_flushed(admin, 3)
    return tg, admin, alice, bob, budgets


def test_a_key_sees_its_own_spend_budgets_and_limits(team):
    tg, admin, alice, bob, budgets = team
    r = me(tg, alice["key"])
    assert r.status_code == 200, r.text
    answer = r.json(parse_float=Decimal)
    assert answer["key"]["id"] == alice["id"] and answer["key"]["name"] == "alice-bot" and "key" not in answer["key"]
    events = get(admin, "/admin/usage", key=alice["id"])["data"]
    assert len(events) == 2
    assert_summary(answer["summary"], events, "/tollgate/v1/me summary")
    # The budgets its requests count against, with the same live figures the admin API shows.
    covering = {budgets[name]["id"] for name in ("own", "team", "org")}
    assert {b["id"] for b in answer["budgets"]} == covering
    for b in answer["budgets"]:
        assert b == admin.budget(b["id"]), b["id"]
        assert b["spent_usd"] == summarize(events if b["scope"] != "org" else get(admin, "/admin/usage", org="acme")["data"])["cost_usd"]
    assert answer["rate_limits"] == {"rpm_limit": 100, "tpm_limit": None}
    # The org's average key: both keys had traffic.
    org_events = get(admin, "/admin/usage", org="acme")["data"]
    average = answer["org_average_key"]
    assert average["keys"] == 2 and average["requests"] == Decimal("1.5")
    assert average["cost_usd"] == half_up(summarize(org_events)["cost_usd"] / 2, 9)


def test_the_key_travels_as_each_sdk_sends_it_and_sees_only_itself(team):
    tg, admin, alice, bob, _ = team
    for header in ("authorization", "x-api-key", "x-goog-api-key"):
        r = me(tg, bob["key"], header=header)
        assert r.status_code == 200 and r.json()["key"]["id"] == bob["id"], (header, r.text)
    # Naming another key changes nothing: a key has no view of any other.
    r = me(tg, bob["key"], key=alice["id"], org="other")
    assert r.status_code == 200 and r.json()["key"]["id"] == bob["id"] and r.json()["summary"]["requests"] == 1


@pytest.mark.parametrize("token", [None, "sk-provider-key", "tg_" + "x" * 32])
def test_anything_but_a_live_tollgate_key_is_refused(team, token):
    tg = team[0]
    r = httpx.get(tg.url + "/tollgate/v1/me", headers={"authorization": f"Bearer {token}"} if token else {}, timeout=10)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized" and "Tollgate key" in r.json()["error"]["message"]


def test_a_revoked_key_is_refused_at_once(team):
    tg, admin, alice = team[:3]
    admin.revoke_key(alice["id"])
    r = me(tg, alice["key"])
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_a_bad_range_is_a_400_naming_it(team):
    tg, _, alice = team[:3]
    r = me(tg, alice["key"], **{"from": "yesterday"})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'from'")
    r = me(tg, alice["key"], **{"from": "1h"})
    assert r.status_code == 200 and r.json()["summary"]["requests"] == 2


def test_unknown_tollgate_paths_are_tollgates_own_404(team):
    tg, _, alice = team[:3]
    r = httpx.get(tg.url + "/tollgate/v1/nothing", headers={"authorization": f"Bearer {alice['key']}"}, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
