"""Analytics end to end (SPEC §5, §9, §10): SDK traffic through Tollgate, then every analytics answer —
breakdown, timeseries, forecast, raw usage, exports, `tollgate stats --by` and `tollgate export` — checked
against the raw usage events it covers, money exact to the nano-dollar in Decimal.

Each test starts its own Tollgate and sends the same traffic mix (analytics_helpers.TRAFFIC: two orgs, three
models, two providers, several users and features, streams, one upstream 500).
"""

import datetime
from decimal import Decimal

import pytest
from access_helpers import Admin, assert_field_error, iso, loads, parse_iso, start
from analytics_helpers import (ACME_MARKUP, EVENT_FIELDS, MONEY_FIELDS, NANO, ORG_TOKENS, TRAFFIC, Call, all_usage,
                               assert_summary, away_from_midnight, csv_matches, day_of, get, group_by, half_up,
                               hour_of, insert_history, key_id, parse_csv, run_cli, send, setup, summarize,
                               utc_today, wait_flushed)

pytestmark = pytest.mark.filterwarnings("ignore:The model 'claude-sonnet-4-5' is deprecated:DeprecationWarning")

ANALYTICS = ["/admin/stats/timeseries", "/admin/stats/breakdown", "/admin/stats/forecast", "/admin/usage",
             "/admin/export"]
# The parameters each endpoint needs besides filters.
BASE = {"/admin/stats": {}, "/admin/stats/timeseries": {"granularity": "hour"}, "/admin/stats/breakdown": {"by": "model"},
        "/admin/stats/forecast": {}, "/admin/usage": {}, "/admin/export": {"format": "json"}}


def export(admin, fmt, **params):
    r = admin.request("GET", "/admin/export", params={"format": fmt, **params})
    assert r.status_code == 200, f"GET /admin/export format={fmt} {params} → {r.status_code} {r.text}"
    return r


def by_id(events):
    ids = [e["request_id"] for e in events]
    assert len(ids) == len(set(ids)), f"an event appears twice: {ids}"
    return {e["request_id"]: e for e in events}


def assert_breakdown(answer, events, by, where, users=True):
    """Every row of a breakdown equals the sums of the events in its group; `groups` counts them all."""
    expected = group_by(events, by)
    rows = {row["group"]: row for row in answer["data"]}
    assert len(rows) == len(answer["data"]), f"{where}: a group appears twice: {answer['data']}"
    assert answer["groups"] == len(expected), f"{where}: groups {answer['groups']}, events have {sorted(expected, key=str)}"
    assert set(rows) == set(expected), f"{where}: groups {sorted(rows, key=str)}, events have {sorted(expected, key=str)}"
    for group, row in rows.items():
        assert_summary(row, expected[group], f"{where} group {group!r}", users=users)


def assert_average(answer, events, where):
    """average = total / number of groups: counts to 2 decimals, cost half up to 1e-9 (SPEC §5 exact money)."""
    n = answer["groups"]
    total = summarize(events)
    avg = answer["average"]
    for field in ("requests", "input_tokens", "output_tokens"):
        assert Decimal(avg[field]) == half_up(Decimal(total[field]) / n, 2), \
            f"{where}: average {field} {avg[field]}, expected {total[field]}/{n}"
    assert avg["cost_usd"] == half_up(total["cost_usd"] / n, 9), \
        f"{where}: average cost_usd {avg['cost_usd']}, expected {total['cost_usd']}/{n} = {total['cost_usd'] / n}"


def test_usage_records_every_request_as_it_was_sent(start_tollgate, mock):
    tg, admin, _, sent = setup(start_tollgate)
    events, _ = all_usage(admin)
    stored = by_id(events)
    assert set(stored) == set(sent), f"usage ids {sorted(stored)} ≠ sent {sorted(sent)}"
    for rid, call in sent.items():
        e = stored[rid]
        assert set(e) >= set(EVENT_FIELDS), f"{rid} lacks {set(EVENT_FIELDS) - set(e)}"
        inp, out, cached, written = call.tokens()
        cost = call.cost()
        markup = Decimal(ACME_MARKUP if call.org == "acme" else 0) / 100
        expected = {
            "org": call.org, "key_id": key_id(ORG_TOKENS[call.org]), "user": call.user,
            "tags": {"feature": call.feature} if call.feature else {}, "model": call.model,
            "provider": call.sdk, "endpoint": "chat" if call.sdk == "openai" else "messages",
            "stream": call.stream, "cached": False, "status": 500 if call.failing else 200,
            "outcome": "upstream_error" if call.failing else "ok", "priced": not call.failing,
            "input_tokens": inp, "output_tokens": out, "cached_input_tokens": cached, "cache_write_tokens": written,
            "cost_usd": cost, "potential_cost_usd": cost,
            "charged_usd": (cost * (1 + markup)).quantize(NANO),
        }
        wrong = {k: (e[k], v) for k, v in expected.items() if e[k] != v}
        assert not wrong, f"event {rid} for {call}: (stored, expected) {wrong}"
        assert all(type(e[f]) in (int, Decimal) for f in MONEY_FIELDS), f"money as JSON numbers: {e}"
        assert parse_iso(e["started_at"]).tzinfo is not None
    # /admin/stats agrees with the events it covers.
    assert_summary(get(admin, "/admin/stats"), events, "/admin/stats")
    assert sum(c.cost() for c in TRAFFIC) == summarize(events)["cost_usd"]


@pytest.mark.parametrize("by", ["model", "user", "tag.feature", "org", "provider", "key", "team"])
def test_breakdown_rows_equal_the_sums_of_their_raw_events(start_tollgate, mock, by):
    tg, admin, _, _ = setup(start_tollgate)
    events, _ = all_usage(admin)
    answer = get(admin, "/admin/stats/breakdown", by=by)
    assert answer["by"] == by and answer["order"] == "cost"
    assert parse_iso(answer["from"]) < parse_iso(answer["to"])
    assert_breakdown(answer, events, by, f"breakdown by={by}", users=not by.startswith("tag."))
    costs = [row["cost_usd"] for row in answer["data"]]
    assert costs == sorted(costs, reverse=True), f"order=cost: rows not by cost descending: {costs}"
    assert_average(answer, events, f"breakdown by={by}")


def test_breakdown_order_and_limit_keep_the_totals(start_tollgate, mock):
    tg, admin, _, _ = setup(start_tollgate)
    events, _ = all_usage(admin)
    groups = group_by(events, "user")
    metric = {
        "cost": lambda evs: summarize(evs)["cost_usd"],
        "requests": lambda evs: len(evs),
        "tokens": lambda evs: sum(e["input_tokens"] + e["output_tokens"] for e in evs),
    }
    assert len({metric["requests"](g) for g in groups.values()}) > 1, "the traffic should give users different counts"
    for order, of in metric.items():
        full = get(admin, "/admin/stats/breakdown", by="user", order=order)
        values = [of(groups[row["group"]]) for row in full["data"]]
        assert values == sorted(values, reverse=True), f"order={order}: {[(r['group'], v) for r, v in zip(full['data'], values)]}"
        top = get(admin, "/admin/stats/breakdown", by="user", order=order, limit=2)
        assert top["order"] == order and len(top["data"]) == 2
        assert [of(groups[row["group"]]) for row in top["data"]] == values[:2]
        # The limit cuts rows, not the groups counted nor the average over all of them.
        assert top["groups"] == len(groups) and top["average"] == full["average"]
        assert_average(top, events, f"order={order} limit=2")
    assert_breakdown(get(admin, "/admin/stats/breakdown", by="user", limit=10000), events, "user", "limit=10000")


def test_timeseries_buckets_add_up_to_the_raw_events(start_tollgate, mock):
    tg, admin, _, _ = setup(start_tollgate)
    events, _ = all_usage(admin)

    hourly = get(admin, "/admin/stats/timeseries", granularity="hour")
    assert hourly["granularity"] == "hour" and hourly["group_by"] is None
    per_hour = {}
    for e in events:
        per_hour.setdefault(iso(hour_of(e["started_at"])), []).append(e)
    assert [b["bucket"] for b in hourly["data"]] == sorted(per_hour), hourly["data"]
    for b in hourly["data"]:
        assert b["group"] is None
        assert_summary(b, per_hour[b["bucket"]], f"hour bucket {b['bucket']}")
    total = {f: sum(b[f] for b in hourly["data"]) for f in ("requests", "input_tokens", "output_tokens", "cost_usd")}
    raw = summarize(events)
    assert total == {f: raw[f] for f in total}, (total, raw)

    # group_by=model: one row per (hour, model), each the sum of that model's events in that hour.
    by_model = get(admin, "/admin/stats/timeseries", granularity="hour", group_by="model")
    assert by_model["group_by"] == "model"
    expected = {}
    for e in events:
        expected.setdefault((iso(hour_of(e["started_at"])), e["model"]), []).append(e)
    got = {(b["bucket"], b["group"]): b for b in by_model["data"]}
    assert len(got) == len(by_model["data"]) and set(got) == set(expected), (sorted(got), sorted(expected))
    for key, b in got.items():
        assert_summary(b, expected[key], f"hour×model {key}")
    for model in {e["model"] for e in events}:
        assert sum(b["cost_usd"] for b in by_model["data"] if b["group"] == model) == \
            summarize([e for e in events if e["model"] == model])["cost_usd"], model
    assert [b["bucket"] for b in by_model["data"]] == sorted(b["bucket"] for b in by_model["data"])

    # group_by a tag (read from raw events), and days.
    by_tag = get(admin, "/admin/stats/timeseries", granularity="hour", group_by="tag.feature")
    expected = {}
    for e in events:
        expected.setdefault((iso(hour_of(e["started_at"])), e["tags"].get("feature")), []).append(e)
    got = {(b["bucket"], b["group"]): b for b in by_tag["data"]}
    assert set(got) == set(expected), (sorted(got, key=str), sorted(expected, key=str))
    for key, b in got.items():
        assert_summary(b, expected[key], f"hour×feature {key}", users=False)
    daily = get(admin, "/admin/stats/timeseries", granularity="day")
    per_day = {}
    for e in events:
        per_day.setdefault(iso(day_of(e["started_at"])), []).append(e)
    assert [b["bucket"] for b in daily["data"]] == sorted(per_day)
    for b in daily["data"]:
        assert_summary(b, per_day[b["bucket"]], f"day bucket {b['bucket']}")

    # A window on whole hours is answered from the hourly rollups: the same numbers as the raw events.
    first = min(hour_of(e["started_at"]) for e in events) - datetime.timedelta(hours=2)
    last = max(hour_of(e["started_at"]) for e in events) + datetime.timedelta(hours=2)
    window = {"from": iso(first), "to": iso(last)}
    aligned = get(admin, "/admin/stats/timeseries", granularity="hour", group_by="model", **window)
    assert aligned["from"] == window["from"] and aligned["to"] == window["to"]
    assert {(b["bucket"], b["group"]): b["cost_usd"] for b in aligned["data"]} == \
        {(b["bucket"], b["group"]): b["cost_usd"] for b in by_model["data"]}
    for b in aligned["data"]:
        assert_summary(b, [e for e in events if e["model"] == b["group"] and iso(hour_of(e["started_at"])) == b["bucket"]],
                       f"aligned window {b['bucket']} {b['group']}")
    assert_summary(get(admin, "/admin/stats", **window), events, "/admin/stats on whole hours")


def test_org_admin_sees_only_its_own_org_on_every_analytics_endpoint(start_tollgate, mock):
    tg, admin, acme, sent = setup(start_tollgate)
    events, _ = all_usage(admin)
    acme_events = [e for e in events if e["org"] == "acme"]
    assert 0 < len(acme_events) < len(events)
    acme_ids = {rid for rid, call in sent.items() if call.org == "acme"}

    assert_summary(get(acme, "/admin/stats"), acme_events, "org admin /admin/stats")
    for by in ("model", "user", "tag.feature", "org"):
        answer = get(acme, "/admin/stats/breakdown", by=by)
        assert_breakdown(answer, acme_events, by, f"org admin breakdown by={by}", users=not by.startswith("tag."))
        assert_average(answer, acme_events, f"org admin breakdown by={by}")
        # The master key asking for org=acme gets the same rows.
        master = get(admin, "/admin/stats/breakdown", by=by, org="acme")
        assert master["data"] == answer["data"] and master["average"] == answer["average"]
    series = get(acme, "/admin/stats/timeseries", granularity="hour", group_by="org")
    assert {b["group"] for b in series["data"]} == {"acme"}
    assert sum(b["cost_usd"] for b in series["data"]) == summarize(acme_events)["cost_usd"]
    assert sum(b["requests"] for b in series["data"]) == len(acme_events)

    own, _ = all_usage(acme, limit=2)
    assert set(by_id(own)) == acme_ids, "the org admin's /admin/usage"
    assert set(by_id(all_usage(acme, org="acme")[0])) == acme_ids
    _, csv_rows = parse_csv(export(acme, "csv").text)
    assert {row["request_id"] for row in csv_rows} == acme_ids and len(csv_rows) == len(acme_ids)
    assert {e["request_id"] for e in loads(export(acme, "json").text)} == acme_ids
    forecast = get(acme, "/admin/stats/forecast")
    assert forecast["history_cost_usd"] == 0  # history ends before today

    for path in ["/admin/stats", *ANALYTICS]:
        r = acme.request("GET", path, params={**BASE[path], "org": "globex"})
        assert r.status_code == 403, f"org admin of acme, GET {path} org=globex → {r.status_code} {r.text[:300]}"
        assert r.json()["error"]["code"] == "forbidden"
        r = acme.request("GET", path, params={**BASE[path], "org": "acme"})
        assert r.status_code == 200, f"org admin of acme, GET {path} org=acme → {r.status_code} {r.text[:300]}"

    client = Admin(tg, token=admin.create_key("acme", name="plain-client")["key"])
    for path in ANALYTICS:
        r = client.request("GET", path, params=BASE[path])
        assert r.status_code == 403, f"client-role key, GET {path} → {r.status_code} {r.text[:300]}"


def test_tag_filter_narrows_every_endpoint_exactly(start_tollgate, mock):
    tg, admin, _, sent = setup(start_tollgate)
    events, _ = all_usage(admin)
    search = [e for e in events if e["tags"].get("feature") == "search"]
    assert 0 < len(search) < len(events)
    ids = {e["request_id"] for e in search}
    for name in ("tag.feature", "tag.FEATURE"):  # tag names are lower-cased (SPEC §9)
        q = {name: "search"}
        assert_summary(get(admin, "/admin/stats", **q), search, f"/admin/stats {q}", users=False)
        answer = get(admin, "/admin/stats/breakdown", by="model", **q)
        assert_breakdown(answer, search, "model", f"breakdown by=model {q}", users=False)
        assert_average(answer, search, f"breakdown by=model {q}")
        assert_breakdown(get(admin, "/admin/stats/breakdown", by="tag.feature", **q), search, "tag.feature", f"by tag {q}", users=False)
        series = get(admin, "/admin/stats/timeseries", granularity="hour", **q)
        assert sum(b["requests"] for b in series["data"]) == len(search)
        assert sum(b["cost_usd"] for b in series["data"]) == summarize(search)["cost_usd"]
        assert set(by_id(all_usage(admin, limit=1, **q)[0])) == ids, f"/admin/usage {q}"
        assert {row["request_id"] for row in parse_csv(export(admin, "csv", **q).text)[1]} == ids
        assert [e["request_id"] for e in loads(export(admin, "json", **q).text)] == \
            [e["request_id"] for e in events if e["request_id"] in ids]

    # Combined with other filters, and a value nobody used.
    narrow = [e for e in search if e["org"] == "acme" and e["model"] == "gpt-4o"]
    assert narrow
    q = {"tag.feature": "search", "org": "acme", "model": "gpt-4o"}
    assert_summary(get(admin, "/admin/stats", **q), narrow, f"/admin/stats {q}", users=False)
    assert set(by_id(all_usage(admin, **q)[0])) == {e["request_id"] for e in narrow}
    none = {"tag.feature": "no-such-feature"}
    assert get(admin, "/admin/stats", **none)["requests"] == 0
    empty = get(admin, "/admin/stats/breakdown", by="model", **none)
    assert empty["data"] == [] and empty["groups"] == 0 and empty["average"]["cost_usd"] == 0
    assert get(admin, "/admin/stats/timeseries", granularity="hour", **none)["data"] == []
    assert get(admin, "/admin/usage", **none) == {"data": [], "next_cursor": None}
    assert parse_csv(export(admin, "csv", **none).text) == (EVENT_FIELDS, [])
    assert loads(export(admin, "json", **none).text) == []


@pytest.mark.parametrize("filters", [{}, {"org": "globex"}, {"model": "gpt-4o"}, {"user": "dave"},
                                     {"provider": "anthropic", "org": "acme"}, {"tag.feature": "chat"}],
                         ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_export_csv_and_json_hold_exactly_the_events_stats_count(start_tollgate, mock, filters):
    tg, admin, _, _ = setup(start_tollgate)
    events, _ = all_usage(admin, **filters)
    assert events, f"no events for {filters}"
    stats = get(admin, "/admin/stats", **filters)

    r = export(admin, "csv", **filters)
    assert r.headers["content-type"].startswith("text/csv")
    header, rows = parse_csv(r.text)
    assert header == EVENT_FIELDS
    assert len(rows) == len(events) == stats["requests"]
    assert sum(Decimal(row["cost_usd"]) for row in rows) == stats["cost_usd"]
    assert sum(Decimal(row["charged_usd"]) for row in rows) == stats["charged_usd"]
    assert sum(int(row["input_tokens"]) for row in rows) == stats["input_tokens"]
    assert sum(int(row["output_tokens"]) for row in rows) == stats["output_tokens"]
    assert [row["request_id"] for row in rows] == [e["request_id"] for e in events], "CSV rows not newest first"
    for row, event in zip(rows, events):
        wrong = csv_matches(event, row)
        assert not wrong, f"CSV row {row['request_id']} disagrees with /admin/usage (json, csv): {wrong}"

    r = export(admin, "json", **filters)
    assert r.headers["content-type"].startswith("application/json")
    assert loads(r.text) == events


def test_cli_stats_by_and_export_match_the_api(start_tollgate, mock, tmp_path):
    tg, admin, _, _ = setup(start_tollgate)
    events, _ = all_usage(admin)

    out = run_cli("stats", "--by", "model", "--format", "json", "--db", tg.db)
    assert out.returncode == 0, out.stderr
    cli = loads(out.stdout)
    api = get(admin, "/admin/stats/breakdown", by="model", limit=20)
    assert {k: v for k, v in cli.items() if k not in ("from", "to")} == {k: v for k, v in api.items() if k not in ("from", "to")}
    assert_breakdown(cli, events, "model", "tollgate stats --by model")
    table = run_cli("stats", "--by", "user", "--order", "requests", "--db", tg.db)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["GROUP", "REQUESTS"]
    counts = {parts[0]: int(parts[1]) for parts in (line.split() for line in lines[1:])}
    assert counts == {(u or "-"): len(evs) for u, evs in group_by(events, "user").items()}, table.stdout

    http_csv = export(admin, "csv").text
    path = tmp_path / "usage.csv"
    out = run_cli("export", "--format", "csv", "--out", str(path), "--db", tg.db)
    assert out.returncode == 0, out.stderr
    with open(path, newline="") as f:
        assert parse_csv(f.read()) == parse_csv(http_csv)
    assert path.read_bytes() == http_csv.encode(), "docs/analytics.md: the same bytes as GET /admin/export"
    assert f"exported {len(events)} events" in out.stderr, f"no progress line on stderr: {out.stderr!r}"
    assert out.stdout == ""
    path = tmp_path / "usage.json"
    out = run_cli("export", "--format", "json", "--out", str(path), "--db", tg.db)
    assert out.returncode == 0, out.stderr
    assert loads(path.read_text()) == events
    assert path.read_bytes() == export(admin, "json").content
    out = run_cli("export", "--format", "csv", "--org", "globex", "--db", tg.db)
    assert out.returncode == 0, out.stderr
    assert parse_csv(out.stdout) == parse_csv(export(admin, "csv", org="globex").text)

    bad = run_cli("export", "--format", "xml", "--db", tg.db)
    assert bad.returncode != 0 and "--format" in bad.stderr, (bad.returncode, bad.stderr)
    bad = run_cli("stats", "--by", "colour", "--db", tg.db)
    assert bad.returncode != 0 and "colour" in bad.stderr, (bad.returncode, bad.stderr)


def test_usage_pages_of_three_visit_every_event_once_newest_first(start_tollgate, mock):
    tg, admin, _, sent = setup(start_tollgate)
    events, pages = all_usage(admin, limit=3)
    assert [len(p["data"]) for p in pages[:-1]] == [3] * (len(pages) - 1) and len(pages[-1]["data"]) <= 3
    assert all(p["next_cursor"] for p in pages[:-1]) and pages[-1]["next_cursor"] is None
    assert set(by_id(events)) == set(sent) and len(events) == len(sent)
    one_page = get(admin, "/admin/usage", limit=1000)
    assert one_page["next_cursor"] is None and one_page["data"] == events
    started = [parse_iso(e["started_at"]) for e in events]
    assert started == sorted(started, reverse=True), "not newest first"
    # The requests were sent one after another: newest first is the reverse of the sending order.
    assert [e["request_id"] for e in events] == list(reversed(list(sent))), "events are not newest first"
    default = get(admin, "/admin/usage")
    assert default["data"] == events and default["next_cursor"] is None  # default limit 100

    globex, pages = all_usage(admin, limit=2, org="globex")
    assert {e["request_id"] for e in globex} == {rid for rid, c in sent.items() if c.org == "globex"}
    assert all(len(p["data"]) <= 2 for p in pages)

    for cursor in ("garbage", "zz:req_x", "1.5:req_x"):
        assert_field_error(admin.request("GET", "/admin/usage", params={"limit": 3, "cursor": cursor}), "cursor")
    for limit in ("0", "1001", "-1", "ten"):
        assert_field_error(admin.request("GET", "/admin/usage", params={"limit": limit}), "limit")
    assert len(get(admin, "/admin/usage", limit=1000)["data"]) == len(sent)


def test_bad_analytics_parameters_are_400_naming_them(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    ask = lambda path, **params: admin.request("GET", path, params=params)
    r = ask("/admin/stats/breakdown", by="colour")
    assert_field_error(r, "colour")
    assert_field_error(ask("/admin/stats/breakdown"), "by")
    assert_field_error(ask("/admin/stats/breakdown", by="tag."), "tag.")
    assert_field_error(ask("/admin/stats/breakdown", by="model", order="size"), "order")
    for limit in ("0", "10001", "many"):
        assert_field_error(ask("/admin/stats/breakdown", by="model", limit=limit), "limit")
    assert_field_error(ask("/admin/stats/timeseries", granularity="minute"), "granularity")
    assert_field_error(ask("/admin/stats/timeseries", granularity="hour", group_by="colour"), "colour")
    assert_field_error(ask("/admin/export", format="xml"), "format")
    assert_field_error(ask("/admin/stats/forecast", history_days="3"), "history_days")
    # The forecast's window is history_days (it replaces from/to), so it is left out of the window checks.
    for path in ["/admin/stats", *ANALYTICS]:
        if path != "/admin/stats/forecast":
            assert_field_error(ask(path, **BASE[path], **{"from": "yesterday-ish"}), "from")
            assert_field_error(ask(path, **BASE[path], **{"from": "1h", "to": "2h"}), ("from", "to"))
        r = Admin(tg, token="wrong").request("GET", path, params=BASE[path])
        assert r.status_code == 401, f"GET {path} with a wrong admin key → {r.status_code}"


@pytest.mark.parametrize("days", ["731", "many", "0"])
def test_forecast_history_days_out_of_range_is_400_naming_it(start_tollgate, mock, days):
    tg, admin = start(start_tollgate)
    assert_field_error(admin.request("GET", "/admin/stats/forecast", params={"history_days": days}), "history_days")


def test_forecast_without_history_is_zero_with_no_confidence(start_tollgate, mock):
    tg, admin = start(start_tollgate)
    send(tg, Call("openai", "acme", "gpt-4o", "alice", "header", usage={"prompt_tokens": 100000, "completion_tokens": 5000}))
    wait_flushed(admin, 1)
    away_from_midnight()
    today = utc_today()
    f = get(admin, "/admin/stats/forecast")
    assert f["history_days"] == 56
    assert f["history_to"] == iso(today) and f["history_from"] == iso(today - datetime.timedelta(days=56))
    assert f["history_cost_usd"] == 0, "today's traffic is not history yet"
    for h in (30, 90):
        assert f[f"next_{h}_days_low_usd"] <= f[f"next_{h}_days_usd"] <= f[f"next_{h}_days_high_usd"]
        assert f[f"next_{h}_days_usd"] == 0
    assert f["confidence"] == 0 and f["trend_usd_per_day"] == 0 and f["method"]
    week = get(admin, "/admin/stats/forecast", history_days=7)
    assert week["history_days"] == 7 and week["history_from"] == iso(today - datetime.timedelta(days=7))
    assert week["confidence"] == 0


def test_forecast_projects_back_dated_daily_spend(start_tollgate, mock):
    """Fourteen back-dated days of spend rising by $0.001 a day in acme and flat $0.005 in globex (copies of a
    real event, rollups rebuilt with the CLI): the history totals are exact and the projection follows the line."""
    tg, admin = start(start_tollgate)
    admin.create_org("acme")
    acme = Admin(tg, token=admin.create_key("acme", name="acme-admin", role="admin")["key"])
    template = send(tg, Call("openai", "acme", "gpt-4o-mini", "alice", "header"))
    wait_flushed(admin, 1)
    away_from_midnight()
    today = utc_today()
    ms = lambda dt: int(dt.timestamp() * 1000)
    start_ms, day_ms = ms(today - datetime.timedelta(days=14)), 86_400_000
    rows = []
    for t in range(14):
        # acme's first event on the window's first millisecond, globex's last on its last one
        rows.append((f"hist-acme-{t}", start_ms + t * day_ms, "acme", (t + 1) * 1_000_000))
        rows.append((f"hist-globex-{t}", start_ms + t * day_ms + (day_ms - 1 if t == 13 else 5 * 3_600_000), "globex", 5_000_000))
    rows.append(("hist-acme-older", start_ms - day_ms + 3_600_000, "acme", 999_000_000))  # outside 14 days
    insert_history(tg.db, template, rows)

    def check(f, history, trend, next30, next90, where):
        tol = Decimal("0.00000001")
        assert f["history_days"] == 14 and f["history_to"] == iso(today), f"{where}: {f}"
        assert f["history_from"] == iso(today - datetime.timedelta(days=14)), f"{where}: {f}"
        assert f["history_cost_usd"] == history, f"{where}: history_cost_usd {f['history_cost_usd']} ≠ {history}"
        assert abs(Decimal(f["trend_usd_per_day"]) - trend) <= tol, f"{where}: {f}"
        for h, value in ((30, next30), (90, next90)):
            assert f[f"next_{h}_days_low_usd"] <= f[f"next_{h}_days_usd"] <= f[f"next_{h}_days_high_usd"], f"{where}: {f}"
            assert abs(f[f"next_{h}_days_usd"] - value) <= tol, f"{where}: next {h} days {f[f'next_{h}_days_usd']} ≠ {value}"
            assert f[f"next_{h}_days_high_usd"] - f[f"next_{h}_days_low_usd"] <= Decimal("0.000001"), \
                f"{where}: a perfect line should leave no uncertainty: {f}"

    # Day t (0…13) costs 0.001·(t+1) in acme, 0.005 in globex; the next 30 days continue the line from t = 14.
    f = get(admin, "/admin/stats/forecast", history_days=14)
    check(f, Decimal("0.175"), Decimal("0.001"), Decimal("1.035"), Decimal("5.805"), "all orgs")
    assert f["confidence"] >= 0.999, f
    assert get(admin, "/admin/stats", **{"from": f["history_from"], "to": f["history_to"]})["cost_usd"] == f["history_cost_usd"]
    f = get(acme, "/admin/stats/forecast", history_days=14)
    check(f, Decimal("0.105"), Decimal("0.001"), Decimal("0.885"), Decimal("5.355"), "acme's admin")
    assert f["confidence"] >= 0.999, f
    check(get(admin, "/admin/stats/forecast", history_days=14, org="globex"),
          Decimal("0.07"), Decimal(0), Decimal("0.15"), Decimal("0.45"), "org=globex")
    assert acme.request("GET", "/admin/stats/forecast", params={"org": "globex"}).status_code == 403
    # The default 56 days reach the older event too.
    assert get(admin, "/admin/stats/forecast")["history_cost_usd"] == Decimal("1.174")

    # The daily series of the same window, per org, from the daily rollups.
    series = get(admin, "/admin/stats/timeseries", granularity="day", group_by="org",
                 **{"from": iso(today - datetime.timedelta(days=14)), "to": iso(today)})
    got = {(b["bucket"], b["group"]): b["cost_usd"] for b in series["data"]}
    expected = {}
    for _, started, org, nanos in rows[:-1]:
        bucket = iso(datetime.datetime.fromtimestamp(started // day_ms * 86_400, datetime.timezone.utc))
        expected[(bucket, org)] = expected.get((bucket, org), 0) + Decimal(nanos) / 10**9
    assert got == expected, f"daily buckets (answer vs inserted): {sorted(got.items())} vs {sorted(expected.items())}"
