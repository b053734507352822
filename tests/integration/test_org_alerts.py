"""SPEC §13 alerts: per-budget and per-org webhook URLs (else the server's), and the org-level kinds
`error_rate` (failed share over 5 minutes) and `spend_anomaly` (this hour against the trailing week) —
delivered to real signed webhook receivers, each once per org and hour.
"""

import datetime
import time
from decimal import Decimal

import pytest
from access_helpers import W, WebhookReceiver, chat, oai, start
from analytics_helpers import Call, insert_history, send, wait_flushed

SECRET = "whsec-org-alerts-0b7e"


def test_an_alert_goes_to_its_budgets_webhook_else_its_orgs_else_the_servers(start_tollgate, mock):
    with WebhookReceiver(SECRET) as server, WebhookReceiver(SECRET) as org_hook, WebhookReceiver(SECRET) as budget_hook:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=server.url, TOLLGATE_ALERT_SECRET=SECRET)
        assert admin.create_org("acme", webhook_url=org_hook.url)["webhook_url"] == org_hook.url
        admin.create_org("globex")
        own = admin.create_key("acme", name="own")
        plain = admin.create_key("acme", name="plain")
        other = admin.create_key("globex", name="other")
        budgets = {
            "own": admin.create_budget(scope="key", scope_id=own["id"], limit_usd=2 * W, action="alert", thresholds=[Decimal("0.5")],
                                       webhook_url=budget_hook.url),
            "plain": admin.create_budget(scope="key", scope_id=plain["id"], limit_usd=2 * W, action="alert", thresholds=[Decimal("0.5")]),
            "other": admin.create_budget(scope="key", scope_id=other["id"], limit_usd=2 * W, action="alert", thresholds=[Decimal("0.5")]),
        }
        assert budgets["own"]["webhook_url"] == budget_hook.url and budgets["plain"]["webhook_url"] is None
        for key in (own, plain, other):
            chat(oai(tg, key["key"]))
        for receiver, name in [(budget_hook, "own"), (org_hook, "plain"), (server, "other")]:
            receiver.wait(lambda r: [d.json()["budget_id"] for d in r.accepted("threshold")] == [budgets[name]["id"]], 10,
                          f"the {name} budget's alert")
        for receiver in (server, org_hook, budget_hook):
            assert all(d.signature_ok for d in receiver.all())
        alerts = {a["budget_id"]: a for a in admin.alerts()}
        assert all(alerts[b["id"]]["delivered"] for b in budgets.values())

        # Clearing a budget's URL falls back to its org's; clearing the org's to the server's.
        assert admin.call("PATCH", f"/admin/budgets/{budgets['own']['id']}", {"webhook_url": None})["webhook_url"] is None
        assert admin.call("PATCH", "/admin/orgs/acme", {"webhook_url": None})["webhook_url"] is None


@pytest.mark.parametrize("url", ["ftp://hooks.example/x", "not a url", "http://169.254.169.254/latest/meta-data/",
                                 "http://metadata.google.internal/computeMetadata/v1/"])
def test_a_webhook_url_that_is_not_http_or_points_at_cloud_metadata_is_refused(start_tollgate, mock, url):
    tg, admin = start(start_tollgate)
    r = admin.request("POST", "/admin/orgs", {"id": "acme", "webhook_url": url})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'webhook_url'"), r.text
    admin.create_org("acme")
    r = admin.request("POST", "/admin/budgets", {"scope": "org", "scope_id": "acme", "limit_usd": 1, "webhook_url": url})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'webhook_url'"), r.text


def test_an_orgs_error_rate_over_five_minutes_fires_once(start_tollgate, mock):
    with WebhookReceiver(SECRET) as receiver:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET,
                          TOLLGATE_ALERT_CHECK_SECONDS="1", TOLLGATE_ALERT_ERROR_RATE="0.25")
        acme, globex = oai(tg, "sk-acme"), oai(tg, "sk-globex")
        # acme: 7 of 24 fail (29 % > 25 %); globex: 10 of 10 fail, but below the 20-request minimum;
        # initech: 5 of 25 fail (20 %), below the threshold.
        for client, org, failing, ok in [(acme, "acme", 7, 17), (globex, "globex", 10, 0), (oai(tg, "sk-initech"), "initech", 5, 20)]:
            for i in range(failing + ok):
                model = "mock-error-500" if i < failing else "gpt-4o-mini"
                try:
                    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                   extra_headers={"X-Tollgate-Org": org})
                except Exception:
                    assert model.startswith("mock-error")
        wait_flushed(admin, 24 + 10 + 25)
        receiver.wait(lambda r: r.accepted("error_rate"), 10, "the error_rate alert")
        more = acme.with_options(max_retries=0)
        for _ in range(5):
            with pytest.raises(Exception):
                more.chat.completions.create(model="mock-error-500", messages=[{"role": "user", "content": "hi"}],
                                             extra_headers={"X-Tollgate-Org": "acme"})
        wait_flushed(admin, 24 + 10 + 25 + 5)
        time.sleep(2.5)  # at least two more checks: the condition holds, but it fired this hour already
        fired = receiver.accepted("error_rate")
        assert [d.json()["org"] for d in fired] == ["acme"], [d.json() for d in fired]
        payload = fired[0].json()
        assert "of org acme failed" in payload["message"] and payload["budget_id"] is None
        assert [a["kind"] for a in admin.alerts() if a["kind"] == "error_rate"] == ["error_rate"]


def test_an_hour_above_three_times_the_weeks_hourly_average_fires_a_spend_anomaly(start_tollgate, mock):
    with WebhookReceiver(SECRET) as receiver:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET,
                          TOLLGATE_ALERT_CHECK_SECONDS="1")
        # The check compares the hour it runs in: keep clear of the next one.
        left = 3600 - time.time() % 3600
        if left < 30:
            time.sleep(left + 1)
        template = send(tg, Call("openai", "acme", "gpt-4o-mini", "alice", "header"))
        wait_flushed(admin, 1)
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
        hour = now - now % 3_600_000
        day = 86_400_000
        rows = []
        for d in range(1, 8):
            # acme: $0.24 a day before (hourly average $0.01); globex: $240 a day ($10 an hour).
            rows.append((f"acme-{d}", hour - d * day + 600_000, "acme", 240_000_000))
            rows.append((f"globex-{d}", hour - d * day + 600_000, "globex", 240_000_000_000))
        # This hour: acme $2 (above $1 and 3 × $0.01), globex $20 (below 3 × $10), initech $0.90 (below $1).
        rows += [("acme-now", hour + 1, "acme", 2_000_000_000), ("globex-now", hour + 1, "globex", 20_000_000_000),
                 ("initech-now", hour + 1, "initech", 900_000_000)]
        insert_history(tg.db, template, rows)
        receiver.wait(lambda r: r.accepted("spend_anomaly"), 10, "the spend_anomaly alert")
        time.sleep(2.5)  # two more checks: nothing else fires
        fired = receiver.accepted("spend_anomaly")
        assert [d.json()["org"] for d in fired] == ["acme"], [d.json() for d in fired]
        this_hour = admin.stats(org="acme", **{"from": datetime.datetime.fromtimestamp(hour / 1000, datetime.timezone.utc).isoformat()})
        assert fired[0].json()["spent_usd"] == this_hour["cost_usd"] > Decimal("2")
