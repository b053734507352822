"""SPEC §13 audit log end to end: every admin write (through the API and the CLI), sign-in (failed ones too),
export, pricing reload and cache clear is on record with who, what, which record, which org, from where and
how it ended; the record is written with the change or not at all, is append-only, and an org admin reads
only its own org's part.
"""

import os
import pwd
import json
import sqlite3
from decimal import Decimal

import httpx
import pytest
from access_helpers import ADMIN, Admin, oai, start
from analytics_helpers import run_cli, wait_flushed

ENTRY_FIELDS = {"id", "at", "actor", "action", "target", "org", "ip", "outcome"}


def audit(admin, **params):
    return admin.call("GET", "/admin/audit", params=params or None)["data"]


def actions(entries):
    return [(e["actor"], e["action"], e["target"], e["org"], e["outcome"]) for e in entries]


def test_every_admin_write_is_recorded_with_its_actor_target_org_and_address(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme", markup_pct=5)
    admin.call("PATCH", "/admin/orgs/acme", {"markup_pct": 7})
    boss = admin.create_key("acme", name="acme-admin", role="admin")
    acme = Admin(tg, token=boss["key"])
    bot = acme.create_key("acme", name="bot")
    acme.call("PATCH", f"/admin/keys/{bot['id']}", {"rpm_limit": 60})
    budget = acme.create_budget(scope="key", scope_id=bot["id"], limit_usd=Decimal("3"))
    acme.call("PATCH", f"/admin/budgets/{budget['id']}", {"limit_usd": 4})
    acme.call("DELETE", f"/admin/budgets/{budget['id']}")
    acme.call("DELETE", f"/admin/keys/{bot['id']}")
    admin.create_org("temp")
    admin.call("DELETE", "/admin/orgs/temp")

    entries = audit(admin)
    assert all(set(e) == ENTRY_FIELDS for e in entries), entries[0]
    assert all(e["ip"] == "127.0.0.1" for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True), "newest first"
    assert list(reversed(actions(entries))) == [
        ("master", "org.create", "acme", "acme", "ok"),
        ("master", "org.update", "acme", "acme", "ok"),
        ("master", "key.create", boss["id"], "acme", "ok"),
        (boss["id"], "key.create", bot["id"], "acme", "ok"),
        (boss["id"], "key.update", bot["id"], "acme", "ok"),
        (boss["id"], "budget.create", budget["id"], "acme", "ok"),
        (boss["id"], "budget.update", budget["id"], "acme", "ok"),
        (boss["id"], "budget.delete", budget["id"], "acme", "ok"),
        (boss["id"], "key.revoke", bot["id"], "acme", "ok"),
        ("master", "org.create", "temp", "temp", "ok"),
        ("master", "org.delete", "temp", "temp", "ok"),
    ]
    # Filters, and an org admin reads its own org's entries only.
    assert {e["action"] for e in audit(admin, action="key.create")} == {"key.create"}
    assert {e["actor"] for e in audit(admin, actor=boss["id"])} == {boss["id"]}
    assert {e["org"] for e in acme.call("GET", "/admin/audit")["data"]} == {"acme"}
    assert acme.request("GET", "/admin/audit", params={"org": "temp"}).status_code == 403


def test_a_refused_change_leaves_no_entry_and_the_log_cannot_be_rewritten(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    before = audit(admin)
    assert admin.request("POST", "/admin/orgs", {"id": "acme"}).status_code == 409
    assert admin.request("POST", "/admin/keys", {"org": "nope"}).status_code == 400
    assert audit(admin) == before
    # No endpoint edits or deletes it, and the database itself refuses an UPDATE.
    for method in ("DELETE", "PATCH", "PUT", "POST"):
        assert admin.request(method, "/admin/audit").status_code == 404, method
    with sqlite3.connect(tg.db) as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE audit_log SET actor = 'someone-else'")
    assert audit(admin) == before


def test_sign_ins_exports_reloads_and_cache_clears_are_on_record(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    # Failed sign-ins: the API and the dashboard form.
    assert httpx.get(tg.url + "/admin/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(tg.url + "/dashboard/login", data={"key": "wrong"}).status_code == 401
    # A dashboard sign-in, an export, a pricing reload and a cache clear.
    assert httpx.post(tg.url + "/dashboard/login", data={"key": ADMIN}).status_code == 303
    oai(tg, "sk-passthrough").chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    wait_flushed(admin, 1)
    assert admin.request("GET", "/admin/export", params={"format": "json", "model": "gpt-4o"}).status_code == 200
    assert admin.request("POST", "/admin/pricing/reload").status_code == 200
    assert admin.request("DELETE", "/admin/cache").status_code == 200
    got = {(e["actor"], e["action"], e["outcome"]) for e in audit(admin)}
    assert {("unknown", "signin.api", "failed"), ("unknown", "signin.dashboard", "failed"), ("master", "signin.dashboard", "ok"),
            ("master", "export", "ok"), ("master", "pricing.reload", "ok"), ("master", "cache.clear", "ok")} <= got, got
    export = audit(admin, action="export")[0]
    assert "format=json" in export["target"] and "model=gpt-4o" in export["target"]
    failed = audit(admin, action="signin.api")[0]
    assert failed["ip"] == "127.0.0.1" and failed["target"] == "invalid_api_key"


def test_cli_changes_are_recorded_under_the_os_user(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    out = run_cli("orgs", "create", "cli-org", "--db", tg.db)
    assert out.returncode == 0, out.stderr
    out = run_cli("keys", "create", "--org", "cli-org", "--name", "from-cli", "--db", tg.db, "--format", "json")
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)
    entries = audit(admin)
    assert actions(entries)[:2] == [(f"cli:{pwd.getpwuid(os.getuid()).pw_name}", "key.create", key["id"], "cli-org", "ok"),
                                    (f"cli:{pwd.getpwuid(os.getuid()).pw_name}", "org.create", "cli-org", "cli-org", "ok")]
    assert entries[0]["ip"] is None


def test_pages_visit_every_entry_once(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    for i in range(7):
        admin.create_org(f"org-{i}")
    seen, cursor = [], None
    while True:
        page = admin.call("GET", "/admin/audit", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["target"] for e in seen] == [f"org-{i}" for i in reversed(range(7))]
    assert len({e["id"] for e in seen}) == 7
    assert admin.request("GET", "/admin/audit", params={"cursor": "garbage"}).status_code == 400
