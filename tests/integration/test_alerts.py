"""Budget alerts end to end (SPEC §7, §9): each threshold fires once per budget and period, is POSTed to
a real webhook receiver signed with HMAC-SHA256, is retried with backoff when the receiver fails, and is
listed by GET /admin/alerts with its delivery status.

Burn-rate alerts may arrive besides the threshold ones; the assertions about thresholds look only at
deliveries whose kind is "threshold".
"""

import time
from decimal import Decimal

from access_helpers import W, WebhookReceiver, chat, oai, parse_iso, start, wait_until

SECRET = "whsec-tollgate-test-5e1d"
PAYLOAD_FIELDS = {"alert_id", "budget_id", "kind", "threshold", "org", "limit_usd", "spent_usd"}
ALERT_FIELDS = {"id", "budget_id", "org", "kind", "threshold", "period_start", "fired_at", "message", "delivered",
                "attempts", "last_error"}


def thresholds_received(receiver, budget_id):
    return sorted(d.json()["threshold"] for d in receiver.accepted("threshold") if d.json()["budget_id"] == budget_id)


def test_each_threshold_fires_once_signed_even_as_traffic_continues(start_tollgate, mock):
    with WebhookReceiver(SECRET) as receiver:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET)
        admin.create_org("acme")
        key = admin.create_key("acme", name="app")
        limit = 10 * W
        budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=limit, period="month", action="alert")
        quiet = admin.create_budget(scope="org", scope_id="acme", limit_usd=1000, period="month")
        client = oai(tg, key["key"])

        def spend(n, total):
            for _ in range(n):
                assert chat(client).choices  # action "alert" never blocks
            admin.wait_settled(budget["id"], spent=total * W)

        spend(4, 4)  # 40 %: below every threshold
        time.sleep(0.7)
        assert thresholds_received(receiver, budget["id"]) == []
        spend(1, 5)  # exactly 50 %: a threshold fires when spent ≥ threshold
        receiver.wait(lambda r: thresholds_received(r, budget["id"]) == [Decimal("0.5")], 10, "the 50 % alert")
        spend(3, 8)
        receiver.wait(lambda r: thresholds_received(r, budget["id"]) == [Decimal("0.5"), Decimal("0.8")], 10,
                      "the 80 % alert")
        spend(2, 10)
        receiver.wait(lambda r: len(thresholds_received(r, budget["id"])) == 3, 10, "the 100 % alert")
        spend(4, 14)  # past the limit: nothing fires again
        time.sleep(1.5)
        assert thresholds_received(receiver, budget["id"]) == [Decimal("0.5"), Decimal("0.8"), Decimal("1.0")]
        assert len(mock.requests) == 14

        deliveries = receiver.all()
        assert all(d.signature_ok for d in deliveries), [(d, d.headers.get("x-tollgate-signature")) for d in deliveries]
        assert all(d.headers.get("content-type", "").startswith("application/json") for d in deliveries)
        assert all(d.path == "/hooks/tollgate" for d in deliveries)
        assert all(d.status == 200 for d in deliveries), "the receiver answered 200 every time: no retries expected"
        payloads = {d.json()["threshold"]: d.json() for d in receiver.accepted("threshold")}
        for threshold, p in payloads.items():
            assert PAYLOAD_FIELDS <= set(p), PAYLOAD_FIELDS - set(p)
            assert isinstance(p["text"], str) and p["text"].strip(), "Slack-compatible text is required"
            assert p["budget_id"] == budget["id"] and p["kind"] == "threshold" and p["org"] == "acme"
            assert p["limit_usd"] == limit
            assert threshold * limit <= p["spent_usd"] <= 14 * W, p
            assert p["alert_id"].startswith("alt_")
        assert len({p["alert_id"] for p in payloads.values()}) == 3

        listed = [a for a in admin.alerts(budget_id=budget["id"]) if a["kind"] == "threshold"]
        assert sorted(a["threshold"] for a in listed) == [Decimal("0.5"), Decimal("0.8"), Decimal("1.0")]
        assert {a["id"] for a in listed} == {p["alert_id"] for p in payloads.values()}
        for a in listed:
            assert ALERT_FIELDS <= set(a), ALERT_FIELDS - set(a)
            assert a["budget_id"] == budget["id"] and a["org"] == "acme" and a["message"]
            assert a["delivered"] is True and a["attempts"] == 1 and a["last_error"] is None, a
            assert a["period_start"] == budget["period_start"]
            parse_iso(a["fired_at"])
        assert all(a["budget_id"] == budget["id"] for a in admin.alerts(budget_id=budget["id"]))
        assert [a for a in admin.alerts(budget_id=quiet["id"]) if a["kind"] == "threshold"] == []
        assert {a["id"] for a in listed} <= {a["id"] for a in admin.alerts()}


def test_a_failing_receiver_gets_the_alert_on_the_third_try(start_tollgate, mock):
    with WebhookReceiver(SECRET, fail_first=2) as receiver:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET)
        admin.create_org("acme")
        key = admin.create_key("acme")
        budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=2 * W, period="total",
                                     thresholds=[Decimal("0.5")])
        chat(oai(tg, key["key"]))  # spends half the limit
        ok = receiver.wait(lambda r: r.accepted("threshold"), 15, "a delivery after two failures")
        alert_id = ok[0].json()["alert_id"]
        tries = [d for d in receiver.all() if d.json().get("alert_id") == alert_id]
        assert [d.status for d in tries] == [500, 500, 200], tries
        assert all(d.signature_ok for d in tries)
        gaps = [b.received_at - a.received_at for a, b in zip(tries, tries[1:])]
        assert gaps[0] >= 0.4 and gaps[1] >= 0.8, f"retries should back off (0.5 s, 1 s, …): {gaps}"

        def delivered():
            found = [a for a in admin.alerts(budget_id=budget["id"]) if a["id"] == alert_id]
            return found[0] if found and found[0]["delivered"] else None

        alert = wait_until(delivered, 5, message="GET /admin/alerts shows the alert delivered")
        assert alert["attempts"] == 3 and alert["kind"] == "threshold" and alert["threshold"] == Decimal("0.5")
        time.sleep(1.0)
        assert len([d for d in receiver.all() if d.json().get("alert_id") == alert_id]) == 3, "delivered once only"


def test_a_threshold_does_not_fire_again_after_a_restart(start_tollgate, mock):
    with WebhookReceiver(SECRET) as receiver:
        env = dict(TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET)
        tg, admin = start(start_tollgate, **env)
        admin.create_org("acme")
        key = admin.create_key("acme")
        budget = admin.create_budget(scope="key", scope_id=key["id"], limit_usd=2 * W, period="total",
                                     thresholds=[Decimal("0.5")], action="alert")
        chat(oai(tg, key["key"]))
        receiver.wait(lambda r: thresholds_received(r, budget["id"]) == [Decimal("0.5")], 10, "the 50 % alert")
        assert tg.stop() == 0

        tg2, admin2 = start(start_tollgate, TOLLGATE_DB=tg.db, **env)
        for _ in range(2):
            chat(oai(tg2, key["key"]))
        admin2.wait_settled(budget["id"], spent=3 * W)
        time.sleep(1.5)
        assert thresholds_received(receiver, budget["id"]) == [Decimal("0.5")]
        listed = [a for a in admin2.alerts(budget_id=budget["id"]) if a["kind"] == "threshold"]
        assert len(listed) == 1 and listed[0]["delivered"] is True


def test_an_unpriced_model_is_alerted_once(start_tollgate, mock):
    with WebhookReceiver(SECRET) as receiver:
        tg, admin = start(start_tollgate, TOLLGATE_ALERT_WEBHOOK=receiver.url, TOLLGATE_ALERT_SECRET=SECRET)
        client = oai(tg, "sk-client-own-key")
        for _ in range(3):
            client.chat.completions.create(model="mystery-model-7", messages=[{"role": "user", "content": "hi"}])
        received = receiver.wait(lambda r: r.accepted("unpriced_model"), 10, "the unpriced-model alert")
        time.sleep(1.0)
        received = receiver.accepted("unpriced_model")
        assert len(received) == 1, received
        assert received[0].signature_ok and "mystery-model-7" in received[0].json()["text"]
        listed = [a for a in admin.alerts() if a["kind"] == "unpriced_model"]
        assert len(listed) == 1 and "mystery-model-7" in listed[0]["message"]
