"""Tollgate keys end to end (SPEC §3, §4, §9, §10): the admin API for orgs and keys, the credential swap
seen from the provider's side, attribution, 401 / 403 / 429 in each SDK's error type, org-admin scoping,
secrets kept out of the logs, and the `tollgate orgs|keys|budgets` commands against a running server.
"""

import datetime
import hashlib
import os
import re
import subprocess
import time
from decimal import Decimal

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from access_helpers import (ADMIN, PROVIDER_KEYS, SECRET_RE, W, Admin, assert_field_error, ant, chat, iso,
                            loads, oai, parse_iso, sleep_past_minute_edge, start, wait_until)
from conftest import BINARY

KEY_FIELDS = {"id", "prefix", "org", "name", "team", "user", "department", "role", "allowed_models", "rpm_limit",
              "tpm_limit", "cache", "expires_at", "created_at", "revoked_at", "last_used_at"}
SHORT = [{"role": "user", "content": "Say hi"}]


def secret_is_well_formed(secret):
    return re.fullmatch(r"tg_[0-9A-Za-z]{32}", secret) is not None


def no_secret_in(text, secret):
    """Neither the secret nor its SHA-256 (what the database keeps) appears in `text`."""
    return secret not in text and hashlib.sha256(secret.encode()).hexdigest() not in text


# -- the admin API for orgs and keys ------------------------------------------------------------------------

def test_an_org_named_by_passthrough_is_created_with_defaults(start_tollgate, mock):
    """SPEC §3: an org a passthrough request names that does not exist yet is created with defaults."""
    tg, admin = start(start_tollgate)
    r = httpx.post(tg.url + "/openai/v1/chat/completions", timeout=10,
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                   headers={"Authorization": "Bearer sk-client-own", "X-Tollgate-Org": "newco"})
    assert r.status_code == 200
    org = wait_until(lambda: next((o for o in admin.call("GET", "/admin/orgs")["data"] if o["id"] == "newco"), None),
                     5, message="org newco listed")
    assert org["name"] == "newco" and org["markup_pct"] == 0
    assert admin.call("GET", "/admin/orgs/newco")["id"] == "newco"


def test_orgs_are_created_listed_updated_and_deleted_through_the_admin_api(start_tollgate):
    tg, admin = start(start_tollgate)
    org = admin.create_org("acme", "Acme Corp", markup_pct=20)
    assert org["id"] == "acme" and org["name"] == "Acme Corp" and org["markup_pct"] == 20
    assert abs(parse_iso(org["created_at"]) - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=1)

    listed = admin.call("GET", "/admin/orgs")
    assert "next_cursor" in listed
    ids = [o["id"] for o in listed["data"]]
    assert "acme" in ids and "default" in ids, ids
    assert admin.call("GET", "/admin/orgs/acme") == org

    updated = admin.call("PATCH", "/admin/orgs/acme", {"name": "Acme Inc", "markup_pct": Decimal("12.5")})
    assert updated["name"] == "Acme Inc" and updated["markup_pct"] == Decimal("12.5") and updated["id"] == "acme"
    assert admin.call("GET", "/admin/orgs/acme")["markup_pct"] == Decimal("12.5")

    assert admin.request("POST", "/admin/orgs", {"id": "acme", "name": "again"}).status_code == 409
    assert_field_error(admin.request("POST", "/admin/orgs", {"id": "Not A Slug!", "name": "x"}), "id")
    assert_field_error(admin.request("POST", "/admin/orgs", {"id": "-leading-dash", "name": "x"}), "id")
    assert_field_error(admin.request("POST", "/admin/orgs", {"id": "ok-org", "markup_pct": "lots"}), "markup_pct")
    assert admin.request("GET", "/admin/orgs/no-such-org").status_code == 404
    assert admin.request("PATCH", "/admin/orgs/no-such-org", {"name": "x"}).status_code == 404

    admin.create_org("temp_1")
    deleted = admin.call("DELETE", "/admin/orgs/temp_1")
    assert deleted["id"] == "temp_1"
    assert admin.request("GET", "/admin/orgs/temp_1").status_code == 404


def test_keys_are_created_listed_updated_and_revoked_and_the_secret_is_shown_once(start_tollgate):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    expires = iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30))
    created = admin.create_key("acme", name="ci", team="search", user="alice", department="r&d",
                               allowed_models=["gpt-4o*"], rpm_limit=60, tpm_limit=100000, cache="off",
                               expires_at=expires)
    secret = created["key"]
    assert secret_is_well_formed(secret), secret
    assert created["id"].startswith("key_") and created["prefix"] == secret[:11]
    assert KEY_FIELDS <= set(created), KEY_FIELDS - set(created)
    assert created["org"] == "acme" and created["name"] == "ci" and created["team"] == "search"
    assert created["user"] == "alice" and created["department"] == "r&d" and created["role"] == "client"
    assert created["allowed_models"] == ["gpt-4o*"] and created["rpm_limit"] == 60 and created["tpm_limit"] == 100000
    assert created["cache"] == "off" and parse_iso(created["expires_at"]) == parse_iso(expires)
    assert created["revoked_at"] is None and created["last_used_at"] is None

    # only org is required; the rest takes defaults
    minimal = admin.create_key("acme")
    assert minimal["role"] == "client" and minimal["allowed_models"] == [] and minimal["cache"] == "default"
    assert minimal["rpm_limit"] is None and minimal["tpm_limit"] is None and minimal["expires_at"] is None
    assert minimal["key"] != secret and minimal["id"] != created["id"]
    other = admin.create_key("default", name="elsewhere")

    # the secret never appears again: not in the record, not in any listing
    one = admin.request("GET", f"/admin/keys/{created['id']}")
    assert one.status_code == 200 and "key" not in one.json() and no_secret_in(one.text, secret)
    assert {k: v for k, v in one.json().items()} == {k: v for k, v in created.items() if k != "key"}
    everything = admin.request("GET", "/admin/keys")
    assert everything.status_code == 200 and "next_cursor" in everything.json()
    for s in (secret, minimal["key"], other["key"]):
        assert no_secret_in(everything.text, s)
    assert all("key" not in k for k in everything.json()["data"])
    assert {created["id"], minimal["id"], other["id"]} <= {k["id"] for k in everything.json()["data"]}
    assert {k["id"] for k in admin.keys(org="acme")} == {created["id"], minimal["id"]}

    patched = admin.call("PATCH", f"/admin/keys/{created['id']}",
                         {"name": "renamed", "rpm_limit": 5, "allowed_models": ["gpt-4o-mini", "claude-*"]})
    assert patched["name"] == "renamed" and patched["rpm_limit"] == 5
    assert patched["allowed_models"] == ["gpt-4o-mini", "claude-*"] and patched["org"] == "acme"
    assert patched["team"] == "search" and "key" not in patched
    assert_field_error(admin.request("PATCH", f"/admin/keys/{created['id']}", {"org": "default"}), "org")

    revoked = admin.revoke_key(created["id"])
    assert revoked["id"] == created["id"] and revoked["revoked_at"] is not None
    assert parse_iso(revoked["revoked_at"]) >= parse_iso(created["created_at"])
    listed = {k["id"]: k for k in admin.keys(org="acme")}
    assert listed[created["id"]]["revoked_at"] == revoked["revoked_at"], "a revoked key stays listed"

    assert admin.request("GET", "/admin/keys/key_doesnotexist").status_code == 404
    assert admin.request("PATCH", "/admin/keys/key_doesnotexist", {"name": "x"}).status_code == 404
    assert admin.request("DELETE", "/admin/keys/key_doesnotexist").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"org": "no-such-org"}, "org"),
    ({"name": "no org at all"}, "org"),
    ({"org": "acme", "role": "superuser"}, "role"),
    ({"org": "acme", "cache": "sometimes"}, "cache"),
    ({"org": "acme", "allowed_models": "gpt-4o"}, "allowed_models"),
    ({"org": "acme", "rpm_limit": -1}, "rpm_limit"),
    ({"org": "acme", "tpm_limit": "many"}, "tpm_limit"),
    ({"org": "acme", "expires_at": "next tuesday"}, "expires_at"),
])
def test_key_with_an_invalid_field_is_400_naming_it(start_tollgate, body, field):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    assert_field_error(admin.request("POST", "/admin/keys", body), field)
    assert admin.keys(org="acme") == []


# -- the credential swap and attribution --------------------------------------------------------------------

def test_tollgate_key_is_swapped_for_the_provider_credential_in_each_sdk(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", name="app", team="search", user="alice", department="r&d")
    secret = key["key"]

    assert oai(tg, secret).chat.completions.create(model="gpt-4o-mini", messages=SHORT).usage.prompt_tokens == 12
    rec = mock.last(path="/v1/chat/completions")
    assert rec.headers["authorization"] == "Bearer " + PROVIDER_KEYS["TOLLGATE_OPENAI_API_KEY"]

    answer = ant(tg, secret).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT)
    assert answer.usage.output_tokens == 9
    rec = mock.last(path="/v1/messages")
    assert rec.headers["x-api-key"] == PROVIDER_KEYS["TOLLGATE_ANTHROPIC_API_KEY"]
    assert "authorization" not in rec.headers, "the client's own Authorization header must be removed"
    # a client that sends the key as x-api-key, as older Anthropic SDKs do
    r = httpx.post(tg.url + "/anthropic/v1/messages", headers={"x-api-key": secret, "anthropic-version": "2023-06-01"},
                   json={"model": "claude-haiku-4-5", "max_tokens": 10, "messages": SHORT})
    assert r.status_code == 200, r.text
    assert mock.last(path="/v1/messages").headers["x-api-key"] == PROVIDER_KEYS["TOLLGATE_ANTHROPIC_API_KEY"]

    gclient = genai.Client(api_key=secret, http_options=genai_types.HttpOptions(base_url=tg.url + "/gemini"))
    assert gclient.models.generate_content(model="gemini-2.5-flash", contents="hi").usage_metadata.prompt_token_count == 12
    rec = mock.last(path=":generateContent")
    assert rec.headers["x-goog-api-key"] == PROVIDER_KEYS["TOLLGATE_GEMINI_API_KEY"]
    assert "authorization" not in rec.headers

    assert len(mock.requests) == 4
    for rec in mock.requests:
        for name, value in rec.header_list:
            assert secret not in value and "tg_" not in value, f"{name}: {value} reached the provider"
        assert secret.encode() not in rec.body
        assert not [h for h in rec.headers if h.startswith("x-tollgate")]

    # every request is attributed to the key's org, id, team and user
    s = admin.wait_requests(4, key=key["id"])
    assert s["requests"] == 4 and s["ok_requests"] == 4
    assert admin.stats(org="acme")["requests"] == 4
    assert admin.stats(team="search", org="acme")["requests"] == 4
    assert admin.stats(user="alice")["requests"] == 4
    assert admin.stats(org="default")["requests"] == 0
    used = wait_until(lambda: admin.key(key["id"])["last_used_at"], 5, message="last_used_at set after use")
    assert parse_iso(used) >= parse_iso(key["created_at"])


def test_x_tollgate_user_refines_the_user_of_a_key(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", user="alice")
    client = oai(tg, key["key"])
    client.chat.completions.create(model="gpt-4o-mini", messages=SHORT, extra_headers={"X-Tollgate-User": "bob"})
    client.chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    admin.wait_requests(2, key=key["id"])
    assert admin.stats(user="bob")["requests"] == 1
    assert admin.stats(user="alice")["requests"] == 1


def test_provider_without_a_configured_credential_is_500_naming_the_setting(start_tollgate, mock):
    tg = start_tollgate(TOLLGATE_ADMIN_KEY=ADMIN)  # no TOLLGATE_*_API_KEY at all
    admin = Admin(tg)
    admin.create_org("acme")
    secret = admin.create_key("acme")["key"]
    with pytest.raises(openai.InternalServerError) as err:
        oai(tg, secret).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert err.value.status_code == 500
    assert err.value.body["code"] == "provider_not_configured"
    assert "TOLLGATE_OPENAI_API_KEY" in err.value.body["message"]
    with pytest.raises(anthropic.InternalServerError) as err:
        ant(tg, secret).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT)
    assert err.value.body["error"]["code"] == "provider_not_configured"
    assert "TOLLGATE_ANTHROPIC_API_KEY" in err.value.body["error"]["message"]
    assert mock.requests == []
    # passthrough traffic is unaffected
    assert oai(tg, "sk-client-own").chat.completions.create(model="gpt-4o-mini", messages=SHORT).choices


# -- refusals: 401, 403, 429 ----------------------------------------------------------------------------

def test_unknown_revoked_and_expired_keys_are_401(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    unknown = "tg_" + "A" * 32
    with pytest.raises(openai.AuthenticationError) as err:
        oai(tg, unknown).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert err.value.status_code == 401 and err.value.body["code"] == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError) as err:
        ant(tg, unknown).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT)
    assert err.value.body["error"]["code"] == "invalid_api_key"

    # revocation takes effect for the very next request
    key = admin.create_key("acme", name="to-revoke")
    client, aclient = oai(tg, key["key"]), ant(tg, key["key"])
    assert client.chat.completions.create(model="gpt-4o-mini", messages=SHORT).choices
    admin.revoke_key(key["id"])
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert err.value.body["code"] == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError):
        aclient.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT)

    # a key works until its expiry and not after
    expires_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=3)
    expiring = admin.create_key("acme", name="short-lived", expires_at=iso(expires_at))
    client = oai(tg, expiring["key"])
    assert client.chat.completions.create(model="gpt-4o-mini", messages=SHORT).choices
    time.sleep(max(0.0, (expires_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.5)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert err.value.body["code"] == "invalid_api_key"

    assert len(mock.requests) == 2, mock.requests  # the two successful ones only
    s = admin.wait_requests(7)  # every refusal is recorded too, as unauthorized
    assert s["requests"] == 7 and s["ok_requests"] == 2 and s["blocked_requests"] == 5, s


def test_model_outside_the_allow_list_is_403_model_not_allowed(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", allowed_models=["gpt-4o*", "claude-haiku-*"])
    client = oai(tg, key["key"])
    assert client.chat.completions.create(model="gpt-4o", messages=SHORT).choices
    assert client.chat.completions.create(model="gpt-4o-mini", messages=SHORT).choices
    with pytest.raises(openai.PermissionDeniedError) as err:
        client.chat.completions.create(model="o3", messages=SHORT)
    assert err.value.status_code == 403 and err.value.body["code"] == "model_not_allowed"
    assert "o3" in err.value.body["message"]
    aclient = ant(tg, key["key"])
    assert aclient.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT).content
    with pytest.raises(anthropic.PermissionDeniedError) as err:
        aclient.messages.create(model="claude-opus-4-1", max_tokens=10, messages=SHORT)
    assert err.value.body["error"]["code"] == "model_not_allowed"
    assert [r.model for r in mock.requests] == ["gpt-4o", "gpt-4o-mini", "claude-haiku-4-5"]
    s = admin.wait_requests(5, key=key["id"])
    assert s["ok_requests"] == 3 and s["blocked_requests"] == 2


def test_sixth_request_in_a_minute_is_429_with_retry_after(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", rpm_limit=5)
    neighbour = admin.create_key("acme", rpm_limit=5)
    sleep_past_minute_edge()
    url = tg.url + "/openai/v1/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": SHORT}
    statuses = [httpx.post(url, json=body, headers={"Authorization": "Bearer " + key["key"]}).status_code
                for _ in range(5)]
    assert statuses == [200] * 5
    r = httpx.post(url, json=body, headers={"Authorization": "Bearer " + key["key"]})
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    assert re.fullmatch(r"[0-9]+", r.headers.get("retry-after", "")), r.headers
    assert 1 <= int(r.headers["retry-after"]) <= 60
    with pytest.raises(openai.RateLimitError) as err:
        oai(tg, key["key"]).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert err.value.body["code"] == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as err:
        ant(tg, key["key"]).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=SHORT)
    assert err.value.body["error"]["code"] == "rate_limit_exceeded" and err.value.body["error"]["type"] == "rate_limit_error"
    # the limit is the key's own: another key of the same org is not affected
    assert oai(tg, neighbour["key"]).chat.completions.create(model="gpt-4o-mini", messages=SHORT).choices
    assert len(mock.requests) == 6
    s = admin.wait_requests(8, key=key["id"])
    assert s["ok_requests"] == 5 and s["blocked_requests"] == 3


def test_checks_run_key_then_allow_list_then_rate_limit_then_budget(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", allowed_models=["gpt-4o*"], rpm_limit=1)
    admin.create_budget(scope="key", scope_id=key["id"], limit_usd=W, period="total")
    sleep_past_minute_edge()
    client = oai(tg, key["key"])
    chat(client)  # spends the whole budget and the minute's one request
    with pytest.raises(openai.PermissionDeniedError) as err:  # allow-list before the rate limit
        chat(client, model="o3")
    assert err.value.body["code"] == "model_not_allowed"
    with pytest.raises(openai.RateLimitError) as err:  # rate limit before the budget
        chat(client)
    assert err.value.body["code"] == "rate_limit_exceeded"
    admin.revoke_key(key["id"])
    with pytest.raises(openai.AuthenticationError):  # the key before everything
        chat(client, model="o3")
    assert len(mock.requests) == 1


# -- org admins -------------------------------------------------------------------------------------------

def test_org_admin_key_sees_only_its_own_org(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("org-a")
    admin.create_org("org-b")
    a_client = admin.create_key("org-a", name="a-app")
    b_client = admin.create_key("org-b", name="b-app")
    a_admin = admin.create_key("org-a", name="a-admin", role="admin")
    b_budget = admin.create_budget(scope="org", scope_id="org-b", limit_usd=100, period="month")
    a_budget = admin.create_budget(scope="org", scope_id="org-a", limit_usd=100, period="month")
    for _ in range(2):
        oai(tg, a_client["key"]).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    for _ in range(3):
        oai(tg, b_client["key"]).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    admin.wait_requests(5)

    org_admin = Admin(tg, token=a_admin["key"])
    own = org_admin.stats()
    assert own["requests"] == 2 and own["cost_usd"] == admin.stats(org="org-a")["cost_usd"]
    assert org_admin.stats(org="org-a")["requests"] == 2
    r = org_admin.request("GET", "/admin/stats", params={"org": "org-b", "from": "1d"})
    assert r.status_code == 403, r.text

    keys = org_admin.keys()
    assert {k["id"] for k in keys} == {a_client["id"], a_admin["id"]}
    assert all(k["org"] == "org-a" for k in keys)
    assert org_admin.request("GET", f"/admin/keys/{b_client['id']}").status_code in (403, 404)
    assert org_admin.request("DELETE", f"/admin/keys/{b_client['id']}").status_code in (403, 404)
    assert admin.key(b_client["id"])["revoked_at"] is None
    assert org_admin.request("POST", "/admin/keys", {"org": "org-b"}).status_code in (403, 404)
    assert org_admin.request("POST", "/admin/orgs", {"id": "org-c", "name": "C"}).status_code == 403
    assert admin.request("GET", "/admin/orgs/org-c").status_code == 404
    budget_ids = {b["id"] for b in org_admin.budgets()}
    assert a_budget["id"] in budget_ids and b_budget["id"] not in budget_ids

    # a client-role key is no admin at all
    client_as_admin = Admin(tg, token=a_client["key"])
    for path in ("/admin/stats", "/admin/keys", "/admin/budgets"):
        assert client_as_admin.request("GET", path).status_code == 403, path
    # the org admin can still do its own org's work
    assert org_admin.create_key("org-a", name="made-by-org-admin")["org"] == "org-a"


# -- secrets stay out of the logs -------------------------------------------------------------------------

def test_provider_credential_and_tollgate_keys_never_reach_the_logs(start_tollgate, mock):
    provider_secret = "sk-live-PROVIDER-SECRET-9f8e7d6c5b4a"
    tg, admin = start(start_tollgate, TOLLGATE_OPENAI_API_KEY=provider_secret)  # debug logging (conftest)
    admin.create_org("acme")
    key = admin.create_key("acme", rpm_limit=50)
    tight = admin.create_key("acme", name="tight")
    admin.create_budget(scope="key", scope_id=tight["id"], limit_usd=W, period="total")
    client = oai(tg, key["key"])
    chat(client)  # ok
    list(client.chat.completions.create(model="gpt-4o-mini", messages=SHORT, stream=True))  # ok, streamed
    with pytest.raises(openai.InternalServerError):  # the provider's own error
        client.chat.completions.create(model="mock-error-500", messages=SHORT)
    chat(oai(tg, tight["key"]))
    with pytest.raises(openai.RateLimitError):  # budget exhausted
        chat(oai(tg, tight["key"]))
    with pytest.raises(openai.AuthenticationError):  # unknown key
        oai(tg, "tg_" + "Z" * 32).chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert any(r.headers.get("authorization") == "Bearer " + provider_secret for r in mock.requests)
    admin.wait_requests(6)
    assert tg.stop() == 0
    logs = tg.logs()
    assert logs.strip(), "debug logging should have written something"
    assert provider_secret not in logs
    assert provider_secret[:20] not in logs
    for secret in (key["key"], tight["key"], "tg_" + "Z" * 32):
        assert secret not in logs
    leaked = SECRET_RE.findall(logs)
    assert not leaked, f"Tollgate key secrets in the log: {leaked}"


# -- the command line -------------------------------------------------------------------------------------

def cli(*args, db):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    return subprocess.run([BINARY, *args, "--db", db], capture_output=True, text=True, timeout=30, env=env)


def cli_json_list(out):
    doc = loads(out)
    return doc["data"] if isinstance(doc, dict) else doc


def poll_status(tg, secret, wanted, timeout=3.0):
    """Sends one small request every 100 ms until the answer's status is `wanted`; returns the time it took."""
    started = time.monotonic()
    statuses = []
    while True:
        r = httpx.post(tg.url + "/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": SHORT},
                       headers={"Authorization": "Bearer " + secret})
        statuses.append(r.status_code)
        if r.status_code == wanted:
            return r
        if time.monotonic() - started > timeout:
            raise AssertionError(f"no {wanted} within {timeout}s; got {statuses[-5:]} (last: {r.text})")
        time.sleep(0.1)


def test_cli_manages_orgs_keys_and_budgets_while_the_server_runs(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    out = cli("orgs", "create", "acme", "--name", "Acme", "--markup-pct", "10", db=tg.db)
    assert out.returncode == 0, out.stderr
    out = cli("orgs", "list", db=tg.db)
    assert out.returncode == 0 and "acme" in out.stdout and "default" in out.stdout, out
    org = admin.call("GET", "/admin/orgs/acme")
    assert org["name"] == "Acme" and org["markup_pct"] == 10

    out = cli("keys", "create", "--org", "acme", "--name", "ci", "--team", "platform", "--allowed-model", "gpt-4o*",
              "--rpm", "50", db=tg.db)
    assert out.returncode == 0, out.stderr
    secrets = SECRET_RE.findall(out.stdout)
    assert len(secrets) == 1, out.stdout
    secret = secrets[0]
    assert any(secret in line for line in out.stdout.splitlines())

    # the running server accepts the new key within ~2 s, with the key's attributes
    poll_status(tg, secret, 200)
    with pytest.raises(openai.PermissionDeniedError):
        oai(tg, secret).chat.completions.create(model="o3", messages=SHORT)

    out = cli("keys", "list", "--org", "acme", "--format", "json", db=tg.db)
    assert out.returncode == 0, out.stderr
    assert secret not in out.stdout and hashlib.sha256(secret.encode()).hexdigest() not in out.stdout
    listed = cli_json_list(out.stdout)
    assert len(listed) == 1
    cli_key = listed[0]
    assert KEY_FIELDS <= set(cli_key) and "key" not in cli_key
    assert cli_key["prefix"] == secret[:11] and cli_key["org"] == "acme" and cli_key["team"] == "platform"
    assert cli_key["allowed_models"] == ["gpt-4o*"] and cli_key["rpm_limit"] == 50 and cli_key["role"] == "client"
    api_key = admin.key(cli_key["id"])
    assert {k: v for k, v in cli_key.items() if k != "last_used_at"} == \
           {k: v for k, v in api_key.items() if k != "last_used_at"}

    # an admin key made by the CLI is an org admin on the running server
    out = cli("keys", "create", "--org", "acme", "--name", "ops", "--role", "admin", db=tg.db)
    assert out.returncode == 0, out.stderr
    admin_secret = SECRET_RE.findall(out.stdout)[0]
    org_admin = Admin(tg, token=admin_secret)
    wait_until(lambda: org_admin.request("GET", "/admin/keys").status_code == 200, 3, message="CLI admin key accepted")
    assert {k["org"] for k in org_admin.keys()} == {"acme"}

    # budgets
    out = cli("budgets", "set", "--scope", "org", "--scope-id", "acme", "--limit-usd", "5", "--period", "month",
              "--action", "block", "--enforcement", "strict", db=tg.db)
    assert out.returncode == 0, out.stderr
    out = cli("budgets", "list", "--format", "json", db=tg.db)
    assert out.returncode == 0, out.stderr
    budgets = [b for b in cli_json_list(out.stdout) if b["scope"] == "org" and b["scope_id"] == "acme"]
    assert len(budgets) == 1, out.stdout
    b = budgets[0]
    assert b["id"].startswith("bud_") and b["limit_usd"] == 5 and b["period"] == "month"
    assert b["action"] == "block" and b["enforcement"] == "strict" and b["org"] == "acme"
    assert admin.budget(b["id"])["limit_usd"] == 5

    # a budget set by the CLI is enforced by the running server: $0.0001 is less than any request's worst case
    out = cli("budgets", "set", "--scope", "key", "--scope-id", cli_key["id"], "--limit-usd", "0.0001",
              "--period", "total", db=tg.db)
    assert out.returncode == 0, out.stderr
    r = poll_status(tg, secret, 429)
    assert r.json()["error"]["code"] == "budget_exceeded"

    # revoking through the CLI shuts the key out of the running server within ~2 s
    out = cli("keys", "revoke", cli_key["id"], db=tg.db)
    assert out.returncode == 0, out.stderr
    poll_status(tg, secret, 401)
    assert admin.key(cli_key["id"])["revoked_at"] is not None


@pytest.mark.parametrize("args, names", [
    (["keys", "create", "--name", "no-org"], "org"),
    (["keys", "create", "--org", "no-such-org"], "org"),
    (["keys", "create", "--org", "default", "--role", "superuser"], "role"),
    (["keys", "create", "--org", "default", "--rpm", "lots"], "rpm"),
    (["keys", "revoke", "key_doesnotexist"], "key_doesnotexist"),
    (["orgs", "create", "Not A Slug!"], ("Not A Slug!", "slug")),
    (["budgets", "set", "--scope", "planet", "--scope-id", "default", "--limit-usd", "5", "--period", "month"], "scope"),
    (["budgets", "set", "--scope", "org", "--scope-id", "default", "--limit-usd", "five", "--period", "month"],
     ("limit-usd", "limit_usd")),
    (["budgets", "set", "--scope", "org", "--scope-id", "default", "--limit-usd", "5", "--period", "year"], "period"),
    (["keys", "list", "--format", "xml"], "format"),
])
def test_cli_bad_arguments_exit_non_zero_with_an_error_naming_the_problem(tmp_path, args, names):
    db = str(tmp_path / "tg.db")
    assert cli("orgs", "list", db=db).returncode == 0  # creates and migrates the database
    out = cli(*args, db=db)
    assert out.returncode != 0, out
    first = out.stderr.strip().splitlines()[0] if out.stderr.strip() else ""
    names = (names,) if isinstance(names, str) else names
    assert any(n in first for n in names), f"the error's first line should name {names}: {out.stderr!r}"
    assert not SECRET_RE.search(out.stdout), "no key may be made by a failed command"
