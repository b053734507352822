"""The admin dashboard (SPEC §9, `GET /dashboard`) in a real headless Chromium: sign in through the
form, then read the figures from the DOM and compare them with the admin API's, exactly.

Chromium (the Debian package) is driven over the DevTools protocol with the `websockets` client; it
runs with its own profile in the test's temp dir and is killed by its process group at the end.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from decimal import Decimal

import httpx
import pytest
from websockets.sync.client import connect

from access_helpers import ADMIN, Admin, loads, oai, start, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ACTIVE_PORT_LIMIT = 30  # seconds for Chromium to open its DevTools port
CALL_LIMIT = 15  # seconds for one DevTools command
EVIL_USER = '<b id="pwned">eve & "co"</b>'


class Browser:
    """One headless Chromium with a DevTools websocket to its first tab."""

    def __init__(self, profile):
        if not CHROMIUM:
            raise AssertionError("chromium is not installed: apt-get install -y chromium")
        os.makedirs(profile, exist_ok=True)
        self.stack = contextlib.ExitStack()
        self.log = open(os.path.join(profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--window-size=1280,2000", f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = os.path.join(profile, "DevToolsActivePort")
            wait_until(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1, ACTIVE_PORT_LIMIT,
                       interval=0.1, message="Chromium's DevToolsActivePort file")
            port = int(open(port_file).read().split("\n")[0])
            pages = wait_until(lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                                        if t["type"] == "page"], 10, interval=0.1, message="a Chromium tab")
            self.ws = self.stack.enter_context(connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        except BaseException:
            self.close()
            raise
        self.next_id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_LIMIT
        while True:
            message = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == mine:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=15):
        """Polls a JS expression until it is truthy; a page mid-navigation just means "not yet"."""
        def check():
            try:
                return self.eval(expression)
            except AssertionError:
                return None
        return wait_until(check, timeout, interval=0.1, message=f"page condition {expression!r}")

    def goto(self, url, ready):
        self.call("Page.navigate", url=url)
        self.wait_for(f"document.readyState === 'complete' && location.href === {json.dumps(url)} && ({ready})")

    def fields(self, scope):
        """{data-field: text} of the elements under `scope` (a CSS selector)."""
        return self.eval(f"Object.fromEntries([...document.querySelectorAll({json.dumps(scope + ' [data-field]')})]"
                         ".map(e => [e.dataset.field, e.textContent]))")

    def rows(self, table):
        """[{group, requests, cost_usd, savings_usd, href}] of a top-N table."""
        return self.eval(f"""[...document.querySelectorAll({json.dumps('#' + table + ' tbody tr')})].map(tr => ({{
            group: tr.dataset.group, href: tr.querySelector('a')?.getAttribute('href') ?? null,
            ...Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(e => [e.dataset.field, e.textContent]))}}))""")

    def close(self):
        self.stack.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def browser(tmp_path):
    b = Browser(str(tmp_path / "chromium"))
    yield b
    b.close()


def traffic(tg):
    """Passthrough traffic from two provider keys, three models and users named by the body's `user`
    field and by X-Tollgate-User (one of them full of HTML); returns the number of requests."""
    alice, bob = oai(tg, "sk-alice-dash"), oai(tg, "sk-bob-dash")
    plan = [
        (alice, "gpt-4o", {"user": "alice"}, {}, (1200, 300)),
        (alice, "gpt-4o-mini", {"user": "alice"}, {}, (500, 50)),
        (bob, "gpt-4o-mini", {}, {"X-Tollgate-User": "bob"}, (800, 120)),
        (bob, "gpt-4.1-nano", {}, {"X-Tollgate-User": EVIL_USER}, (90, 10)),
        (alice, "gpt-4o", {}, {}, (2000, 700)),
    ]
    for client, model, body, headers, (inp, out) in plan:
        usage = {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **body,
                                       extra_headers={"X-Mock-Usage": json.dumps(usage), **headers})
    return len(plan)


def api(tg, path, **params):
    r = httpx.get(tg.url + path, params=params, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=15)
    assert r.status_code == 200, r.text
    return loads(r.text)


def same_numbers(dom, answer, names):
    for name in names:
        assert name in dom, f"the page has no data-field={name}"
        assert Decimal(dom[name]) == Decimal(str(answer[name])), f"{name}: page {dom[name]} ≠ API {answer[name]}"


SUMMARY_FIELDS = ["cost_usd", "savings_usd", "savings_pct", "potential_cost_usd", "requests", "ok_requests",
                  "cached_requests", "cache_hit_rate", "charged_usd", "profit_usd", "input_tokens", "output_tokens"]


def test_browser_signs_in_and_the_page_shows_the_admin_api_figures(start_tollgate, mock, browser, tmp_path):
    tg, admin = start(start_tollgate)
    budget = admin.create_budget(scope="org", scope_id="default", limit_usd=Decimal("0.01"), period="month",
                                 thresholds=[Decimal("0.1"), Decimal("0.5")], action="alert")
    n = traffic(tg)
    admin.wait_requests(n)
    wait_until(lambda: admin.budget(budget["id"])["reserved_usd"] == 0, 10, message="budget settled")

    # Not signed in: the form. A wrong key re-shows it with an error.
    browser.goto(tg.url + "/dashboard", "!!document.querySelector('#login-form')")
    browser.eval("document.getElementById('admin-key').value = 'wrong-key'; document.getElementById('sign-in').click(); true")
    browser.wait_for("!!document.querySelector('#login-error')")
    assert "admin key" in browser.eval("document.getElementById('login-error').textContent")

    browser.eval(f"document.getElementById('admin-key').value = {json.dumps(ADMIN)}; document.getElementById('sign-in').click(); true")
    browser.wait_for("location.pathname === '/dashboard' && !!document.querySelector('#summary')")

    # The session cookie: HttpOnly (invisible to scripts), SameSite=Strict, not the admin key.
    cookies = browser.call("Network.getCookies", urls=[tg.url])["cookies"]
    session = [c for c in cookies if c["name"] == "tollgate_session"]
    assert len(session) == 1 and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict" and session[0]["path"] == "/"
    assert ADMIN not in session[0]["value"] and len(session[0]["value"]) == 32
    assert browser.eval("document.cookie") == ""

    # Summary cards = /admin/stats, to the nano-dollar.
    stats = api(tg, "/admin/stats")
    dom = browser.fields("#summary")
    same_numbers(dom, stats, SUMMARY_FIELDS)
    assert stats["requests"] == n and stats["cost_usd"] > 0

    # Top tables = /admin/stats/breakdown, row by row, in the API's order.
    for table, by in [("top-models", "model"), ("top-users", "user"), ("top-keys", "key")]:
        expected = api(tg, "/admin/stats/breakdown", by=by, order="cost", limit=10)["data"]
        rows = browser.rows(table)
        assert [r["group"] for r in rows] == [e["group"] or "" for e in expected], table
        for row, e in zip(rows, expected):
            same_numbers(row, e, ["requests", "cost_usd", "savings_usd"])

    # Client-supplied names are text, never markup.
    users = [r["group"] for r in browser.rows("top-users")]
    assert EVIL_USER in users
    assert browser.eval("document.getElementById('pwned') === null && document.querySelectorAll('#top-users b').length === 0")

    # The trend chart: one bar with today's spend, the same exact figure.
    bars = browser.eval("[...document.querySelectorAll('#trend rect.bar')].map(r => r.dataset.value)")
    assert sum(Decimal(b) for b in bars) == stats["cost_usd"]

    # Budgets with spent/reserved/limit, and the alerts the API lists.
    b = admin.budget(budget["id"])
    budget_dom = browser.eval(f"""Object.fromEntries([...document.querySelectorAll('#budgets tr[data-budget="{budget['id']}"] [data-field]')]
        .map(e => [e.dataset.field, e.textContent]))""")
    same_numbers(budget_dom, b, ["spent_usd", "reserved_usd", "limit_usd", "remaining_usd"])
    alerts = admin.alerts()
    assert alerts, "the budget's thresholds should have fired"
    shown = browser.eval("[...document.querySelectorAll('#alerts tr[data-alert]')].map(tr => [tr.dataset.alert, tr.querySelector('[data-field=kind]').textContent, tr.querySelector('[data-field=delivered]').textContent])")
    assert shown == [[a["id"], a["kind"], "true" if a["delivered"] else "false"] for a in alerts[:10]]

    # Drill down: the model link filters the whole page.
    link = next(r for r in browser.rows("top-models") if r["group"] == "gpt-4o-mini")["href"]
    browser.goto(tg.url + link, "!!document.querySelector('#summary')")
    same_numbers(browser.fields("#summary"), api(tg, "/admin/stats", model="gpt-4o-mini"), SUMMARY_FIELDS)
    assert [r["group"] for r in browser.rows("top-models")] == ["gpt-4o-mini"]
    assert browser.eval("document.querySelector('[data-filter=model]').textContent").startswith("model = gpt-4o-mini")

    # A screenshot of the real rendering.
    browser.goto(tg.url + "/dashboard", "!!document.querySelector('#summary')")
    png = base64.b64decode(browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
    (tmp_path / "dashboard.png").write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000

    # Signing out ends the session: the form again, and the old cookie no longer works.
    browser.eval("document.getElementById('sign-out').click(); true")
    browser.wait_for("!!document.querySelector('#login-form')")
    r = httpx.get(tg.url + "/dashboard", cookies={"tollgate_session": session[0]["value"]})
    assert r.status_code == 200 and 'id="login-form"' in r.text


def test_sign_in_sets_a_session_cookie_and_wrong_keys_get_401(start_tollgate, mock):
    tg, _ = start(start_tollgate)
    r = httpx.get(tg.url + "/dashboard")
    assert r.status_code == 200 and 'id="login-form"' in r.text and r.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in r.headers["content-security-policy"]

    r = httpx.post(tg.url + "/dashboard/login", data={"key": "nope"})
    assert r.status_code == 401 and 'id="login-error"' in r.text and "set-cookie" not in r.headers

    r = httpx.post(tg.url + "/dashboard/login", data={"key": ADMIN}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers

    r = httpx.post(tg.url + "/dashboard/login", data={"key": ADMIN})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) == 32 and ADMIN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie

    page = httpx.get(tg.url + "/dashboard", cookies={"tollgate_session": token})
    assert page.status_code == 200 and 'id="summary"' in page.text and "master admin" in page.text
    assert "db;dur=" in page.headers["server-timing"]
    # A bad filter is a 400 page, not a crash.
    bad = httpx.get(tg.url + "/dashboard?from=yesterday-ish", cookies={"tollgate_session": token})
    assert bad.status_code == 400 and "&#39;from&#39; must be" in bad.text

    r = httpx.post(tg.url + "/dashboard/logout", cookies={"tollgate_session": token})
    assert r.status_code == 303 and "Max-Age=0" in r.headers["set-cookie"]
    assert 'id="login-form"' in httpx.get(tg.url + "/dashboard", cookies={"tollgate_session": token}).text


def test_an_org_admin_sees_only_its_org_and_loses_the_session_when_its_key_is_revoked(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key = admin.create_key("acme", name="acme admin", role="admin")
    oai(tg, "sk-acme-client").chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Tollgate-Org": "acme"})
    oai(tg, "sk-default-client").chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    admin.wait_requests(2)

    r = httpx.post(tg.url + "/dashboard/login", data={"key": key["key"]})
    assert r.status_code == 303
    cookies = {"tollgate_session": r.headers["set-cookie"].split(";")[0].split("=", 1)[1]}
    page = httpx.get(tg.url + "/dashboard", cookies=cookies)
    assert page.status_code == 200 and "org admin · acme" in page.text
    acme = api(tg, "/admin/stats", org="acme")
    assert acme["requests"] == 1
    assert f'<span class="num" data-field="cost_usd">{acme["cost_usd"]}</span>' in page.text
    assert 'data-group="gpt-4o-mini"' not in page.text
    assert 'id="top-orgs"' not in page.text, "only the master admin sees every org"

    other = httpx.get(tg.url + "/dashboard?org=default", cookies=cookies)
    assert other.status_code == 403 and "cannot see org" in other.text

    admin.revoke_key(key["id"])
    assert 'id="login-form"' in httpx.get(tg.url + "/dashboard", cookies=cookies).text


def test_the_new_panels_sort_export_and_time_zone_match_the_api(start_tollgate, mock, browser):
    """SPEC §13's dashboard: teams, departments, providers and (for the master admin) orgs panels, key names,
    the errors panel, headers that re-order the tables, the export link and the time-zone choice."""
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    bot = admin.create_key("acme", name="support-bot", team="care", department="ops")
    client = oai(tg, bot["key"])
    for tokens in (100, 2000, 300):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                       extra_headers={"X-Mock-Usage": json.dumps({"prompt_tokens": tokens, "completion_tokens": 5})})
    passthrough = oai(tg, "sk-dash-pt")
    for team, department in [("search", "research"), ("search", "research")]:
        passthrough.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                            extra_headers={"X-Tollgate-Team": team, "X-Tollgate-Department": department})
    with pytest.raises(Exception):
        passthrough.chat.completions.create(model="mock-error-429", messages=[{"role": "user", "content": "hi"}])
    admin.wait_requests(6)

    r = httpx.post(tg.url + "/dashboard/login", data={"key": ADMIN})
    token = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    browser.call("Network.setCookie", name="tollgate_session", value=token, url=tg.url)
    browser.goto(tg.url + "/dashboard", "!!document.querySelector('#summary')")

    for table, by in [("top-teams", "team"), ("top-departments", "department"), ("top-providers", "provider"), ("top-orgs", "org")]:
        expected = api(tg, "/admin/stats/breakdown", by=by, order="cost", limit=10)["data"]
        rows = browser.rows(table)
        assert [r["group"] for r in rows] == [e["group"] or "" for e in expected], table
        for row, e in zip(rows, expected):
            same_numbers(row, e, ["requests", "cost_usd", "savings_usd", "total_tokens"])
    key_row = browser.eval(f"document.querySelector('#top-keys tr[data-group=\"{bot['id']}\"]').textContent")
    assert "support-bot" in key_row

    errors = api(tg, "/admin/stats/errors")
    dom = browser.eval("[...document.querySelectorAll('#errors tbody tr')].map(tr => [tr.dataset.error, tr.querySelector('[data-field=requests]').textContent])")
    assert dom == [[e["outcome"], str(e["requests"])] for e in errors["data"]] and errors["failed_requests"] == 1

    # A header re-orders every top table; the order is kept in the links.
    href = browser.eval("document.querySelector('#top-keys a.sort[data-order=tokens]').getAttribute('href')")
    browser.goto(tg.url + href, "!!document.querySelector('#summary')")
    expected = api(tg, "/admin/stats/breakdown", by="key", order="tokens", limit=10)["data"]
    assert [r["group"] for r in browser.rows("top-keys")] == [e["group"] for e in expected]
    assert browser.eval("document.querySelector('#top-keys a.sort[data-order=tokens]').getAttribute('aria-sort')") == "descending"

    # The export link downloads the page's requests: the bytes /admin/export sends for the same filters.
    link = browser.eval("document.getElementById('export').getAttribute('href')")
    assert "order=" not in link
    download = httpx.get(tg.url + link, cookies={"tollgate_session": token})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.text == admin.request("GET", "/admin/export", params={"format": "csv"}).text
    assert httpx.get(tg.url + "/dashboard/export").status_code == 401
    assert any(e["target"].startswith("dashboard") and e["actor"] == "master" for e in admin.call("GET", "/admin/audit", params={"action": "export"})["data"])

    # A time zone: buckets are its local days, the same exact total.
    browser.goto(tg.url + "/dashboard?tz=Asia%2FTokyo", "!!document.querySelector('#trend')")
    assert "Asia/Tokyo" in browser.eval("document.querySelector('#trend h2').textContent")
    bars = browser.eval("[...document.querySelectorAll('#trend rect.bar')].map(r => r.dataset.value)")
    assert sum(Decimal(b) for b in bars) == api(tg, "/admin/stats")["cost_usd"]
    assert browser.eval("document.getElementById('tz').value") == "Asia/Tokyo"
    assert browser.eval("!!document.querySelector('#savings-trend svg')")
