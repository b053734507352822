"""SPEC §13 time zones and calendar buckets: `granularity=day|week|month` in `tz=<IANA zone>`, across daylight
saving changes, and `from`/`to` given as dates in that zone — every bucket compared with the back-dated raw
events it holds (Python's zoneinfo as the oracle), money exact in Decimal.
"""

import datetime
import sqlite3
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from access_helpers import start
from analytics_helpers import Call, get, insert_history, send, wait_flushed

NANO = Decimal("0.000000001")
DAY_MS = 86_400_000


def local_bucket(ms, zone, granularity):
    """The ISO-8601 start of the bucket holding `ms`, as the API labels it (offset of the zone, Z for UTC)."""
    t = datetime.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone))
    if granularity == "week":
        t = t - datetime.timedelta(days=t.weekday())
    if granularity == "month":
        t = t.replace(day=1)
    start = t.replace(hour=0, minute=0, second=0, microsecond=0)
    # Re-attach the zone so the offset is the one in force at local midnight (not at the event's time).
    start = datetime.datetime(start.year, start.month, start.day, tzinfo=ZoneInfo(zone))
    text = start.isoformat()
    return text.replace("+00:00", "Z") if zone == "UTC" else text


@pytest.fixture
def history(start_tollgate, mock):
    """One event every 7 h 13 min over the last 70 days (DST changes of late October and early November
    included), cost rising with each, plus the template event; rollups rebuilt."""
    tg, admin = start(start_tollgate)
    template = send(tg, Call("openai", "globex", "gpt-4o-mini", "alice", "header"))
    wait_flushed(admin, 1)
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    first = now - 70 * DAY_MS
    rows = [(f"tz-{i}", first + i * (7 * 3_600_000 + 13 * 60_000), "globex", (i + 1) * 1_000_000)
            for i in range(70 * 24 * 60 // (7 * 60 + 13) - 1)]
    insert_history(tg.db, template, rows)
    events = get(admin, "/admin/usage", limit=1000, **{"from": "71d"})["data"]
    assert len(events) == len(rows) + 1
    return tg, admin, events, first, now


def expected(events, zone, granularity, lo, hi):
    sums = defaultdict(lambda: [0, Decimal(0)])
    for e in events:
        ms = int(datetime.datetime.fromisoformat(e["started_at"].replace("Z", "+00:00")).timestamp() * 1000)
        if lo <= ms < hi:
            bucket = sums[local_bucket(ms, zone, granularity)]
            bucket[0] += 1
            bucket[1] += e["cost_usd"]
    return {k: (n, c) for k, (n, c) in sums.items()}


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"])
@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_buckets_in_a_zone_hold_exactly_the_events_of_their_local_days_weeks_and_months(history, zone, granularity):
    tg, admin, events, first, now = history
    # Whole seconds: the API's from/to are second-precision ISO text.
    lo, hi = (first // 1000) * 1000, ((now // 1000) + 1) * 1000
    iso = lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = get(admin, "/admin/stats/timeseries", granularity=granularity, tz=zone, **{"from": iso(lo), "to": iso(hi)})
    assert answer["granularity"] == granularity and answer["tz"] == zone
    got = {row["bucket"]: (row["requests"], row["cost_usd"]) for row in answer["data"]}
    want = expected(events, zone, granularity, lo, hi)
    assert got == want, f"{zone} {granularity}: buckets differ\n got  {sorted(got.items())}\n want {sorted(want.items())}"
    # Every event is alice's: one active user per bucket, however many hours or days it sums.
    assert {row["active_users"] for row in answer["data"]} == {1}
    assert [row["bucket"] for row in answer["data"]] == sorted(got, key=lambda b: datetime.datetime.fromisoformat(b.replace("Z", "+00:00")))


def test_dates_in_from_and_to_are_midnights_in_the_zone(history):
    tg, admin, events, first, now = history
    day = datetime.datetime.fromtimestamp(now / 1000 - 20 * 86_400, ZoneInfo("America/New_York")).date()
    answer = get(admin, "/admin/stats", tz="America/New_York", **{"from": day.isoformat(), "to": (day + datetime.timedelta(days=3)).isoformat()})
    midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("America/New_York"))
    assert answer["from"] == midnight.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lo = int(midnight.timestamp() * 1000)
    hi = int((midnight + datetime.timedelta(days=3)).timestamp() * 1000)
    inside = [e for e in events if lo <= int(datetime.datetime.fromisoformat(e["started_at"].replace("Z", "+00:00")).timestamp() * 1000) < hi]
    assert answer["requests"] == len(inside) and answer["cost_usd"] == sum(e["cost_usd"] for e in inside)


@pytest.mark.parametrize("params,field", [({"tz": "Mars/Olympus"}, "'tz'"), ({"tz": "Asia/Kolkata", "granularity": "day"}, "'tz'"),
                                          ({"granularity": "fortnight"}, "'granularity'")])
def test_a_zone_or_granularity_it_cannot_answer_is_a_400_naming_it(history, params, field):
    r = history[1].request("GET", "/admin/stats/timeseries", params=params)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(field), r.text


def test_a_zone_range_older_than_the_hourly_rollups_is_refused_not_summed_short(history):
    tg, admin, events, first, now = history
    # What retention.hourly_days does to old hours: gone from every hourly table, kept in the daily ones.
    cut = first + 30 * DAY_MS
    with sqlite3.connect(tg.db) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rollup_hourly%'")]
        for table in tables:
            db.execute(f"DELETE FROM {table} WHERE bucket_start < ?", [cut])
    r = admin.request("GET", "/admin/stats/timeseries", params={"granularity": "week", "tz": "Europe/Berlin", "from": "70d"})
    assert r.status_code == 400 and "retention.hourly_days" in r.json()["error"]["message"], r.text
    # UTC weeks come from the daily rollups, which still hold every day.
    utc = get(admin, "/admin/stats/timeseries", granularity="week", tz="UTC", **{"from": "71d"})
    assert sum(row["requests"] for row in utc["data"]) == len(events)
