"""SPEC §13 feedback: `POST /tollgate/v1/feedback` rates one answer with the token that asked for it (or an
admin key), and `feedback_count` / `avg_rating` appear in every stats answer, filtered and grouped like the
other figures — checked against the ratings the test gave.
"""

import datetime
import sqlite3
from decimal import Decimal

import httpx
import pytest
from access_helpers import ADMIN, Admin, oai, start
from analytics_helpers import get, half_up, wait_flushed

MSG = [{"role": "user", "content": "hi"}]


def ask(tg, token, user, model="gpt-4o-mini", **headers):
    raw = oai(tg, token).chat.completions.with_raw_response.create(
        model=model, messages=MSG, extra_headers={"X-Tollgate-User": user, **headers})
    return raw.headers["x-tollgate-request-id"]


def rate(tg, token, header="authorization", **body):
    value = f"Bearer {token}" if header == "authorization" else token
    return httpx.post(tg.url + "/tollgate/v1/feedback", json=body, headers={header: value}, timeout=10)


def test_a_caller_rates_its_answers_and_stats_show_it_by_every_dimension(start_tollgate, mock):
    # A long flush interval: the first rating arrives before its request is committed.
    tg, admin = start(start_tollgate, TOLLGATE_FLUSH_MS="5000")
    first = ask(tg, "sk-team-a", "alice")
    r = rate(tg, "sk-team-a", request_id=first, rating=5, helpful=True, comment="spot on")
    assert r.status_code == 201, r.text
    assert r.json() == {"request_id": first, "rating": 5, "helpful": True, "comment": "spot on", "rated_at": r.json()["rated_at"]}
    ratings = {first: 5}
    for user, model, stars in [("alice", "gpt-4o", 2), ("bob", "gpt-4o-mini", 4), ("bob", "gpt-4o", None)]:
        rid = ask(tg, "sk-team-a", user, model=model)
        r = rate(tg, "sk-team-a", header="x-api-key", request_id=rid, **({"rating": stars} if stars else {"helpful": False}))
        assert r.status_code == 201, r.text
        ratings[rid] = stars
    unrated = ask(tg, "sk-team-a", "carol")
    wait_flushed(admin, 5)
    # Rating again replaces the earlier rating.
    assert rate(tg, "sk-team-a", request_id=first, rating=3).status_code == 201
    ratings[first] = 3

    events = {e["request_id"]: e for e in get(admin, "/admin/usage")["data"]}
    assert unrated in events

    def expect(rids):
        rated = [ratings[r] for r in rids if ratings.get(r)]
        return len([r for r in rids if r in ratings]), (half_up(Decimal(sum(rated)) / len(rated), 2) if rated else None)

    s = get(admin, "/admin/stats")
    assert (s["feedback_count"], s["avg_rating"]) == expect(list(events))
    by_user = {row["group"]: row for row in get(admin, "/admin/stats/breakdown", by="user")["data"]}
    for user in ("alice", "bob", "carol"):
        rids = [r for r, e in events.items() if e["user"] == user]
        assert (by_user[user]["feedback_count"], by_user[user]["avg_rating"]) == expect(rids), user
    model = get(admin, "/admin/stats", model="gpt-4o")
    assert (model["feedback_count"], model["avg_rating"]) == expect([r for r, e in events.items() if e["model"] == "gpt-4o"])
    series = get(admin, "/admin/stats/timeseries", granularity="hour")["data"]
    assert sum(row["feedback_count"] for row in series) == len(ratings)
    # Feedback is kept with the request's dimensions: retention deleting raw events does not lose it
    # (whole hours, which the rollups answer without raw events).
    now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    hours = {"from": (now - datetime.timedelta(hours=1)).isoformat(), "to": (now + datetime.timedelta(hours=2)).isoformat()}
    with sqlite3.connect(tg.db) as db:
        db.execute("DELETE FROM usage_events")
    alice = get(admin, "/admin/stats", user="alice", **hours)
    assert alice["requests"] == 2 and (alice["feedback_count"], alice["avg_rating"]) == \
        expect([r for r, e in events.items() if e["user"] == "alice"])


def test_only_the_token_that_asked_or_an_admin_may_rate(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    key_a = admin.create_key("acme", name="a")
    key_b = admin.create_key("acme", name="b")
    acme_admin = admin.create_key("acme", name="boss", role="admin")
    admin.create_org("globex")
    globex_admin = admin.create_key("globex", name="boss", role="admin")
    mine = ask(tg, key_a["key"], "alice")
    passthrough = ask(tg, "sk-provider-key", "dave")
    wait_flushed(admin, 2)
    for token, rid in [(key_b["key"], mine), ("sk-other-provider-key", passthrough), (globex_admin["key"], mine),
                       (key_a["key"], passthrough), (key_a["key"], "req_does_not_exist")]:
        r = rate(tg, token, request_id=rid, rating=1)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (token, rid, r.text)
    for token, rid in [(key_a["key"], mine), ("sk-provider-key", passthrough), (acme_admin["key"], mine), (ADMIN, passthrough)]:
        assert rate(tg, token, request_id=rid, rating=4).status_code == 201, (token, rid)
    assert rate(tg, "tg_" + "x" * 32, request_id=mine, rating=4).status_code == 401
    admin.revoke_key(key_a["id"])
    assert rate(tg, key_a["key"], request_id=mine, rating=4).status_code == 401
    assert get(admin, "/admin/stats")["feedback_count"] == 2


@pytest.mark.parametrize("body,field", [
    ({"rating": 6}, "'rating'"), ({"rating": 0}, "'rating'"), ({"rating": 2.5}, "'rating'"), ({}, "'rating'"),
    ({"helpful": "yes"}, "'helpful'"), ({"rating": 3, "comment": "x" * 2001}, "'comment'"), ({"rating": 3, "stars": 3}, "'stars'"),
])
def test_bad_feedback_is_a_400_naming_the_field(start_tollgate, mock, body, field):
    tg, admin = start(start_tollgate)
    rid = ask(tg, "sk-team-a", "alice")
    wait_flushed(admin, 1)
    r = rate(tg, "sk-team-a", request_id=rid, **body)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(field), r.text
    r = rate(tg, "sk-team-a", rating=3)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'request_id'"), r.text
    assert get(admin, "/admin/stats")["feedback_count"] == 0 and get(admin, "/admin/stats")["avg_rating"] is None
