"""`tollgate pricing import FILE` (issue 15): a price map in LiteLLM's format updates pricing.json, after
printing every model it adds or changes; a running server prices with it once reloaded."""

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import httpx

from conftest import BINARY

ROOT = Path(__file__).parents[2]
MAP = {
    "sample_spec": {"max_tokens": "set to max_output_tokens", "litellm_provider": "one of …", "mode": "one of: chat"},
    # A price change, a new model, and the source's old Claude 3.7 price ($3.60 / $18): shown before written.
    "gpt-4o": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
               "litellm_provider": "openai", "mode": "chat", "max_output_tokens": 16384},
    "gpt-9-mini": {"input_cost_per_token": 1.1e-07, "output_cost_per_token": 4.4e-07, "litellm_provider": "openai",
                   "mode": "chat", "max_output_tokens": 32768},
    "claude-3-7-sonnet": {"input_cost_per_token": 3.6e-06, "output_cost_per_token": 1.8e-05,
                          "litellm_provider": "anthropic", "mode": "chat"},
    "bedrock/anthropic.claude-x": {"input_cost_per_token": 3e-06, "litellm_provider": "bedrock", "mode": "chat"},
    "dall-e-3": {"input_cost_per_pixel": 1e-07, "litellm_provider": "openai", "mode": "image_generation"},
}


def run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30, env=env)


def test_import_prints_the_changes_then_writes_a_file_that_prices_requests(start_tollgate, mock, tmp_path):
    pricing = tmp_path / "pricing.json"
    shutil.copy(ROOT / "pricing.json", pricing)
    original = pricing.read_text()
    (tmp_path / "map.json").write_text(json.dumps(MAP))

    dry = run("pricing", "import", str(tmp_path / "map.json"), "--pricing", str(pricing), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "read 3 models" in out and "3 left out" in out
    assert "+ gpt-9-mini (openai): input $0.11, output $0.44 / 1M tokens" in out
    assert "~ gpt-4o: input $2.5 → $3" in out
    assert "~ claude-3-7-sonnet: input $3 → $3.6, output $15 → $18" in out
    assert "1 added, 2 changed, 0 unchanged" in out
    assert pricing.read_text() == original, "a dry run writes nothing"

    tg = start_tollgate(TOLLGATE_PRICING=str(pricing), TOLLGATE_ADMIN_KEY="admin-secret")
    written = run("pricing", "import", str(tmp_path / "map.json"), "--pricing", str(pricing))
    assert written.returncode == 0, written.stderr
    assert "wrote " + str(pricing) in written.stdout
    doc = json.loads(pricing.read_text())
    before = json.loads(original)
    assert doc["models"]["gpt-9-mini"] == {"provider": "openai", "input": "0.11", "output": "0.44", "max_output_tokens": 32768}
    assert doc["models"]["gpt-4o"]["input"] == "3.00"
    # Every other model and alias kept exactly as it was; a new version and source.
    assert set(doc["models"]) == set(before["models"]) | {"gpt-9-mini"}
    for name in set(before["models"]) - {"gpt-4o", "claude-3-7-sonnet"}:
        assert doc["models"][name] == before["models"][name], name
    assert doc["aliases"] == before["aliases"]
    assert doc["version"] != before["version"] and "map.json" in doc["source"] and before["version"] in doc["source"]
    check = run("pricing", "check", "--pricing", str(pricing))
    assert check.returncode == 0 and "ok" in check.stdout

    r = httpx.post(tg.url + "/admin/pricing/reload", headers={"Authorization": "Bearer admin-secret"}, timeout=10)
    assert r.status_code == 200, r.text
    answer = httpx.post(tg.url + "/openai/v1/chat/completions", timeout=10, headers={"Authorization": "Bearer sk-own"},
                        json={"model": "gpt-9-mini", "messages": [{"role": "user", "content": "hi"}]})
    # The mock's usage is 12 in, 9 out: 12 × 0.11 + 9 × 0.44 micro-dollars.
    assert Decimal(answer.headers["x-tollgate-cost-usd"]) == (12 * Decimal("0.11") + 9 * Decimal("0.44")) / 10**6


def test_import_refuses_what_is_no_price_map_and_writes_nothing(tmp_path):
    pricing = tmp_path / "pricing.json"
    shutil.copy(ROOT / "pricing.json", pricing)
    (tmp_path / "bad.json").write_text("[1, 2")
    result = run("pricing", "import", str(tmp_path / "bad.json"), "--pricing", str(pricing))
    assert result.returncode != 0 and "not a LiteLLM price map" in result.stderr
    assert pricing.read_text() == (ROOT / "pricing.json").read_text()
    missing = run("pricing", "import", str(tmp_path / "bad.json"), "--pricing", str(tmp_path / "none.json"))
    assert missing.returncode != 0 and "No pricing file at" in missing.stderr
