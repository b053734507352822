"""SPEC §13 configured rollup tags (`analytics.rollup_tags`): tags named there are rolled up hourly and daily,
so breakdowns and filters by them answer from rollups and outlive raw-event retention; a tag added later
is rolled up from the kept events at the next start; values past the per-day bound share one "(other)"
group. Every figure is checked against sums over the raw events it covers (the oracle of test_analytics.py).
"""

import datetime
import re
import sqlite3

import pytest

from access_helpers import iso, loads, oai, start
from analytics_helpers import (ORG_TOKENS, all_usage, assert_summary, away_from_midnight, get, group_by, run_cli, setup,
                               utc_today, wait_flushed)
from test_analytics import assert_breakdown

pytestmark = pytest.mark.filterwarnings("ignore:The model 'claude-sonnet-4-5' is deprecated:DeprecationWarning")

# Extra passthrough calls with an agent tag beside TRAFFIC's feature tags.
AGENTS = [("acme", "planner"), ("acme", "writer"), ("globex", "planner"), ("acme", None)]


def whole_days():
    """Yesterday to tomorrow in UTC: only whole hours, so a rollup answers all of it."""
    today = utc_today()
    return {"from": iso(today - datetime.timedelta(days=1)), "to": iso(today + datetime.timedelta(days=1))}


def send_agents(tg):
    for org, agent in AGENTS:
        headers = {"X-Tollgate-Org": org, **({"X-Tollgate-Tag-Agent": agent} if agent else {})}
        oai(tg, ORG_TOKENS[org]).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers=headers)


def tag_answers(admin, events):
    """The breakdowns and filters by feature and agent, each checked against the raw events; returns them."""
    days = whole_days()
    answers = {}
    for by in ("tag.feature", "tag.agent"):
        answer = get(admin, "/admin/stats/breakdown", by=by, limit=100, **days)
        assert_breakdown(answer, events, by, f"breakdown {by}", users=False)
        answers[by] = answer
        acme = get(admin, "/admin/stats/breakdown", by=by, org="acme", limit=100, **days)
        assert_breakdown(acme, [e for e in events if e["org"] == "acme"], by, f"acme breakdown {by}", users=False)
        answers[by + " acme"] = acme
    chat = get(admin, "/admin/stats", **{"tag.feature": "chat"}, **days)
    assert_summary(chat, [e for e in events if e["tags"].get("feature") == "chat"], "tag.feature=chat", users=False)
    answers["chat"] = chat
    hours = get(admin, "/admin/stats/timeseries", granularity="hour", **{"tag.agent": "planner"}, **days)
    planner = [e for e in events if e["tags"].get("agent") == "planner"]
    assert sum(b["requests"] for b in hours["data"]) == len(planner)
    answers["planner hours"] = hours
    return answers


def without_times(answer):
    return {k: v for k, v in answer.items() if k not in ("from", "to")}


def test_configured_tags_outlive_raw_events_and_a_tag_added_later_is_rolled_up(start_tollgate, mock):
    away_from_midnight(120)
    tg, admin, _, sent = setup(start_tollgate, TOLLGATE_ROLLUP_TAGS="feature")
    send_agents(tg)
    wait_flushed(admin, len(sent) + len(AGENTS))
    events, _ = all_usage(admin)
    assert re.search(r"rollup_tags=feature\b", tg.logs()), "the startup line names the rolled-up tags"
    with_agent_raw = tag_answers(admin, events)  # feature from rollups, agent from raw events
    assert tg.stop() == 0

    # A second start also names agent: it is rolled up from the events kept, and answers the same.
    tg2, admin2 = start(start_tollgate, TOLLGATE_DB=tg.db, TOLLGATE_ROLLUP_TAGS="feature,agent")
    assert re.search(r"tag=agent .*tag rolled up from kept events", tg2.logs()), tg2.logs(3000)
    assert not re.search(r"tag=feature .*tag rolled up from kept events", tg2.logs()), "feature was rolled up already"
    both_rolled = tag_answers(admin2, events)
    assert {k: without_times(v) for k, v in both_rolled.items()} == {k: without_times(v) for k, v in with_agent_raw.items()}
    assert tg2.stop() == 0

    # Retention pruned every raw event: the configured tags still answer from their rollups, to the digit;
    # the CLI reads the same rollups.
    with sqlite3.connect(tg.db) as db:
        db.execute("DELETE FROM usage_events")
    tg3, admin3 = start(start_tollgate, TOLLGATE_DB=tg.db, TOLLGATE_ROLLUP_TAGS="feature,agent")
    days = whole_days()
    for by in ("tag.feature", "tag.agent"):
        answer = get(admin3, "/admin/stats/breakdown", by=by, limit=100, **days)
        assert without_times(answer) == without_times(both_rolled[by]), by
        out = run_cli("stats", "--by", by, "--limit", "100", "--from", days["from"], "--to", days["to"], "--format", "json",
                      "--db", tg.db)
        assert out.returncode == 0, out.stderr
        assert without_times(loads(out.stdout)) == without_times(answer), f"tollgate stats --by {by}"
    assert without_times(get(admin3, "/admin/stats", **{"tag.feature": "chat"}, **days)) == without_times(both_rolled["chat"])
    # A tag beside another dimension, or one not configured, reads raw events: none are left.
    assert get(admin3, "/admin/stats", **{"tag.feature": "chat", "model": "gpt-4o"}, **days)["requests"] == 0
    assert get(admin3, "/admin/stats/breakdown", by="user", **days)["data"], "the other rollups still answer"
    assert tg3.stop() == 0

    # A start whose config forgot agent reads it from raw events (none left), and destroys nothing:
    # named again, it answers from its kept rollup rows.
    tg4, admin4 = start(start_tollgate, TOLLGATE_DB=tg.db, TOLLGATE_ROLLUP_TAGS="feature")
    assert "tag no longer rolled up" in tg4.logs()
    assert get(admin4, "/admin/stats/breakdown", by="tag.agent", **days)["data"] == []
    assert without_times(get(admin4, "/admin/stats/breakdown", by="tag.feature", limit=100, **days)) == \
        without_times(both_rolled["tag.feature"])
    assert tg4.stop() == 0
    tg5, admin5 = start(start_tollgate, TOLLGATE_DB=tg.db, TOLLGATE_ROLLUP_TAGS="feature,agent")
    assert without_times(get(admin5, "/admin/stats/breakdown", by="tag.agent", limit=100, **days)) == \
        without_times(both_rolled["tag.agent"])


def test_values_past_the_daily_bound_are_counted_as_other(start_tollgate, mock):
    away_from_midnight(120)
    tg, admin = start(start_tollgate, TOLLGATE_ROLLUP_TAGS="prompt", TOLLGATE_ROLLUP_TAG_VALUES="2")
    prompts = ["p1", "p2", "p3", "p1", "p4", None]
    client = oai(tg, ORG_TOKENS["acme"])
    for i, prompt in enumerate(prompts):
        headers = {"X-Tollgate-Org": "acme", **({"X-Tollgate-Tag-Prompt": prompt} if prompt else {})}
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                       extra_headers=headers)
        wait_flushed(admin, i + 1)  # one commit each, so values arrive in this order
    events, _ = all_usage(admin)
    days = whole_days()
    answer = get(admin, "/admin/stats/breakdown", by="tag.prompt", limit=100, **days)
    groups = {row["group"]: row for row in answer["data"]}
    assert set(groups) == {"p1", "p2", "(other)", None}, answer
    by_prompt = group_by(events, "tag.prompt")
    assert_summary(groups["p1"], by_prompt["p1"], "p1", users=False)
    assert_summary(groups["p2"], by_prompt["p2"], "p2", users=False)
    assert_summary(groups["(other)"], by_prompt["p3"] + by_prompt["p4"], "(other)", users=False)
    assert_summary(groups[None], by_prompt[None], "untagged", users=False)
    # A filter on an overflowed value reads raw events, so it is still exact.
    assert_summary(get(admin, "/admin/stats", **{"tag.prompt": "p3"}, **days), by_prompt["p3"], "p3", users=False)
