"""SPEC §13 erasure: `DELETE /admin/users/{user}?org=…` leaves no event, rollup, key, feedback, export or audit
detail naming the user, every total unchanged, and is itself audited — checked by reading every text column of
every table in the SQLite file, and every stats answer before and after.
"""

import datetime
import json
import sqlite3

import httpx
import pytest
from access_helpers import Admin, iso, oai, start
from analytics_helpers import get, wait_flushed

SECRET_NAME = "alice.o'hara+eu"  # the person to forget; characters that need encoding in a URL


def traffic(tg, admin):
    admin.create_org("acme")
    key = admin.create_key("acme", name="support-bot", user=SECRET_NAME)
    sent = []
    for token, user, model in [("sk-acme", SECRET_NAME, "gpt-4o"), ("sk-acme", "bob", "gpt-4o-mini"),
                               (key["key"], None, "gpt-4o-mini"), ("sk-acme", SECRET_NAME, "gpt-4o-mini")]:
        headers = {"X-Tollgate-Org": "acme", **({"X-Tollgate-User": user} if user else {})}
        raw = oai(tg, token).chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": "hi"}], extra_headers=headers)
        sent.append(raw.headers["x-tollgate-request-id"])
    httpx.post(tg.url + "/tollgate/v1/feedback", json={"request_id": sent[0], "rating": 5},
               headers={"Authorization": "Bearer sk-acme"}, timeout=10).raise_for_status()
    wait_flushed(admin, len(sent))
    # An export filtered on the user: its audit entry names them in the query.
    assert admin.request("GET", "/admin/export", params={"format": "json", "user": SECRET_NAME}).status_code == 200
    return key, sent


def mentions(db_path, text):
    """(table, column) of every text cell in the database that contains `text`."""
    found = []
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]:
                n = db.execute(f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?) > 0', [text]).fetchone()[0]
                if n:
                    found.append((table, column, n))
    return found


# One fixed range for both sides of the comparison: the default range ends "now", so two reads a
# second apart answer different `from` and `to`.
RANGE = {"from": iso(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)),
         "to": iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1))}


def answers(admin):
    """Every stats answer that does not name users, for a before/after comparison."""
    return {
        "stats": get(admin, "/admin/stats", org="acme", **RANGE),
        "by model": get(admin, "/admin/stats/breakdown", by="model", org="acme", **RANGE),
        "by key": get(admin, "/admin/stats/breakdown", by="key", org="acme", **RANGE),
        "hours": get(admin, "/admin/stats/timeseries", granularity="hour", org="acme", **RANGE),
    }


def test_erasing_a_user_forgets_the_name_everywhere_and_keeps_every_total(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    key, sent = traffic(tg, admin)
    assert mentions(tg.db, SECRET_NAME), "the traffic should have stored the name somewhere"
    before = answers(admin)
    users_before = {row["group"]: row for row in get(admin, "/admin/stats/breakdown", by="user", org="acme")["data"]}

    r = admin.request("DELETE", "/admin/users/" + httpx.URL(path=SECRET_NAME).raw_path.decode(), params={"org": "acme"})
    assert r.status_code == 200, r.text
    result = r.json()
    erased = result["erased_as"]
    assert erased.startswith("erased_") and len(erased) == len("erased_") + 16 and SECRET_NAME not in r.text
    assert result["events"] == 3 and result["keys"] == 1 and result["feedback"] == 1 and result["audit_entries"] == 1
    assert result["rollup_rows"] > 0

    assert mentions(tg.db, SECRET_NAME) == [], "the name is still stored"
    assert answers(admin) == before, "a total changed"
    users_after = {row["group"]: row for row in get(admin, "/admin/stats/breakdown", by="user", org="acme")["data"]}
    assert users_after[erased] == {**users_before[SECRET_NAME], "group": erased}
    assert set(users_after) == set(users_before) - {SECRET_NAME} | {erased}
    for fmt in ("csv", "json"):
        text = admin.request("GET", "/admin/export", params={"format": fmt, "org": "acme"}).text
        assert SECRET_NAME not in text and erased in text
    audit = admin.call("GET", "/admin/audit")["data"]
    assert SECRET_NAME not in json.dumps(audit)
    erasure = admin.call("GET", "/admin/audit", params={"action": "user.erase"})["data"]
    assert [(e["target"], e["org"], e["actor"]) for e in erasure] == [(erased, "acme", "master")]
    assert get(admin, f"/admin/keys/{key['id']}")["user"] == erased
    # The key's next request is attributed to the erased id too: the proxy reloaded it.
    oai(tg, key["key"]).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    wait_flushed(admin, len(sent) + 1)
    assert get(admin, "/admin/usage", key=key["id"])["data"][0]["user"] == erased


def test_erasure_is_held_to_one_org_and_its_admin(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    traffic(tg, admin)
    admin.create_org("globex")
    globex = Admin(tg, token=admin.create_key("globex", name="boss", role="admin")["key"])
    r = globex.request("DELETE", "/admin/users/bob", params={"org": "acme"})
    assert r.status_code == 403
    r = admin.request("DELETE", "/admin/users/bob")
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("'org'")
    assert admin.request("DELETE", "/admin/users/bob", params={"org": "nope"}).status_code == 404
    # Erasing in globex touches nothing of acme's bob.
    r = globex.request("DELETE", "/admin/users/bob")
    assert r.status_code == 200 and r.json()["events"] == 0
    assert "bob" in {row["group"] for row in get(admin, "/admin/stats/breakdown", by="user", org="acme")["data"]}
