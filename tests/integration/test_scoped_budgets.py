"""SPEC §7 / §13 budgets per user and per department: enforced like the others (reservation of the worst
case, strict refusal with the 429 every SDK raises), counting exactly the spend attributed to them, and
shown to a key that is covered by them on /tollgate/v1/me.
"""

import json
from decimal import Decimal

import httpx
import openai
import pytest
from access_helpers import W, chat, oai, start
from analytics_helpers import run_cli
from test_budgets import assert_budget_exceeded


def test_a_user_budget_admits_exactly_what_fits_and_leaves_other_users_alone(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    budget = admin.create_budget(scope="user", scope_id="alice", org="acme", limit_usd=2 * W, period="day")
    client = oai(tg, "sk-acme-shared")
    alice = {"X-Tollgate-Org": "acme", "X-Tollgate-User": "alice"}
    for _ in range(2):
        chat(client, headers=alice)
    with pytest.raises(openai.RateLimitError) as err:
        chat(client, headers=alice)
    assert_budget_exceeded(err.value)
    assert "user alice" in err.value.body["message"]
    for _ in range(3):
        chat(client, headers={"X-Tollgate-Org": "acme", "X-Tollgate-User": "bob"})
    settled = admin.wait_settled(budget["id"], spent=2 * W)
    assert settled["remaining_usd"] == 0 and settled["scope"] == "user"


def test_a_department_budget_covers_keys_and_passthrough_of_that_department(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    budget = admin.create_budget(scope="department", scope_id="research", org="acme", limit_usd=3 * W)
    key = admin.create_key("acme", name="lab", department="research")
    other = admin.create_key("acme", name="books", department="finance")
    chat(oai(tg, key["key"]))
    chat(oai(tg, "sk-passthrough"), headers={"X-Tollgate-Org": "acme", "X-Tollgate-Department": "research"})
    chat(oai(tg, key["key"]))
    with pytest.raises(openai.RateLimitError) as err:
        chat(oai(tg, key["key"]))
    assert_budget_exceeded(err.value)
    chat(oai(tg, other["key"]))  # finance is not research
    assert admin.wait_settled(budget["id"], spent=3 * W)["remaining_usd"] == 0
    me = httpx.get(tg.url + "/tollgate/v1/me", headers={"Authorization": f"Bearer {key['key']}"}).json()
    assert budget["id"] in {b["id"] for b in me["budgets"]}
    me = httpx.get(tg.url + "/tollgate/v1/me", headers={"Authorization": f"Bearer {other['key']}"}).json()
    assert budget["id"] not in {b["id"] for b in me["budgets"]}


def test_spend_before_the_budget_counts_from_the_rollups(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    client = oai(tg, "sk-acme-shared")
    for user, department in [("alice", "research"), ("alice", "finance"), ("bob", "research")]:
        chat(client, headers={"X-Tollgate-Org": "acme", "X-Tollgate-User": user, "X-Tollgate-Department": department})
    admin.wait_requests(3)
    by_user = admin.create_budget(scope="user", scope_id="alice", org="acme", limit_usd=10 * W)
    by_department = admin.create_budget(scope="department", scope_id="research", org="acme", limit_usd=10 * W)
    assert admin.budget(by_user["id"])["spent_usd"] == 2 * W
    assert admin.budget(by_department["id"])["spent_usd"] == 2 * W
    r = admin.request("POST", "/admin/budgets", {"scope": "user", "scope_id": "carol", "limit_usd": 1})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'org'")
    # The command line sets the same budgets, and the running server sees them with the same spend.
    out = run_cli("budgets", "set", "--scope", "department", "--scope-id", "research", "--org", "acme", "--limit-usd", "1",
                  "--db", tg.db, "--format", "json")
    assert out.returncode == 0, out.stderr
    set_by_cli = json.loads(out.stdout, parse_float=Decimal)
    assert set_by_cli["id"] == by_department["id"] and set_by_cli["limit_usd"] == 1 and set_by_cli["spent_usd"] == 2 * W
    out = run_cli("budgets", "set", "--scope", "user", "--scope-id", "bob", "--org", "acme", "--limit-usd", "1", "--db", tg.db)
    assert out.returncode == 0 and "bob" in out.stdout, out.stderr
