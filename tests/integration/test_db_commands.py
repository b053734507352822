"""`tollgate db reprice` and `tollgate db prune` on a database a real Tollgate wrote (SPEC §6, §10)."""

import json
import os
import sqlite3
import subprocess
import time
from decimal import Decimal

import openai
from conftest import BINARY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSG = [{"role": "user", "content": "hi"}]
DAY_MS = 86_400_000


def traffic(tg, n):
    client = openai.OpenAI(base_url=tg.url + "/openai/v1", api_key="sk-test", max_retries=0)
    for _ in range(n):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert tg.stop() == 0  # SIGTERM flushes every event


def cli(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60)


def stats(db):
    # Whole UTC days, so every hour is read from the rollups: a range ending now would read the
    # current hour's first minutes from raw events, which this file's prune test edits behind them.
    tomorrow = (int(time.time()) // 86_400 + 1) * 86_400
    to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tomorrow))
    out = cli("stats", "--format", "json", "--from", "365d", "--to", to, "--db", db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout, parse_float=Decimal)


def test_reprice_recomputes_a_period_with_a_new_pricing_file(start_tollgate, tmp_path):
    tg = start_tollgate()
    traffic(tg, 3)
    # Default mock usage: 12 in, 9 out; gpt-4o-mini at $0.15 / $0.60 per M → $0.0000072 each.
    assert stats(tg.db)["cost_usd"] == Decimal("0.0000216")
    with open(os.path.join(ROOT, "pricing.json")) as f:
        table = json.load(f)
    table["version"] = "test-doubled-input"
    table["models"]["gpt-4o-mini"]["input"] = "0.30"
    pricing = tmp_path / "pricing.json"
    pricing.write_text(json.dumps(table))

    dry = cli("db", "reprice", "--from", "1d", "--pricing", str(pricing), "--dry-run", "--db", tg.db)
    assert dry.returncode == 0, dry.stderr
    assert "would reprice 3 of 3 events" in dry.stdout and "test-doubled-input" in dry.stdout
    assert stats(tg.db)["cost_usd"] == Decimal("0.0000216")

    done = cli("db", "reprice", "--from", "1d", "--pricing", str(pricing), "--db", tg.db)
    assert done.returncode == 0, done.stderr
    assert "repriced 3 of 3 events" in done.stdout
    assert "$0.0000216 → $0.000027" in done.stdout
    after = stats(tg.db)  # read from the rebuilt rollups
    assert after["cost_usd"] == Decimal("0.000027")  # 3 × (12 × 0.30 + 9 × 0.60) / 1e6
    with sqlite3.connect(tg.db) as db:
        versions = {v for (v,) in db.execute("SELECT pricing_version FROM usage_events")}
    assert versions == {"test-doubled-input"}


def test_prune_deletes_old_events_and_keeps_their_rollups(start_tollgate):
    tg = start_tollgate()
    traffic(tg, 4)
    old_ms = int(time.time() * 1000) - 100 * DAY_MS
    with sqlite3.connect(tg.db) as db:
        # Two events back-dated 100 days: older than the default 90-day raw-event retention.
        ids = [r for (r,) in db.execute("SELECT request_id FROM usage_events ORDER BY request_id LIMIT 2")]
        db.executemany("UPDATE usage_events SET started_at = ? WHERE request_id = ?", [(old_ms, i) for i in ids])
    before = stats(tg.db)["requests"]  # the rollups still count all four, now
    out = cli("db", "prune", "--db", tg.db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("deleted 2 events (kept 90 days)"), out.stdout
    with sqlite3.connect(tg.db) as db:
        assert db.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM usage_events WHERE request_id IN (?, ?)", ids).fetchone()[0] == 0
    assert stats(tg.db)["requests"] == before == 4  # totals come from the rollups, which stay
    bad = cli("db", "prune", "--events-days", "x", "--db", tg.db)
    assert bad.returncode != 0 and "events-days" in bad.stderr
