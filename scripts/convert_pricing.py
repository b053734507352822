#!/usr/bin/env python3
"""Builds pricing.json (and the copy compiled into the binary) from LiteLLM's published price map.

Source: the JSON price map shipped inside the `litellm` package on PyPI
(`litellm/model_prices_and_context_window_backup.json`). Prices are public facts; this script
selects and converts them: USD per token (floats) -> decimal strings in USD per million tokens
(exact to 6 decimals), tiers from the `*_above_<N>k_tokens` fields.

Selection (docs/pricing.md says why):
  * the built-in providers' own listings: OpenAI, Anthropic, Gemini (AI Studio), xAI, DeepSeek,
    Mistral, Groq, Together and Fireworks; Gemini models only Vertex lists and Claude models only
    Bedrock still lists fill gaps at the same list prices;
  * text models only (chat, completion, responses, embedding), without fine-tunes, audio,
    realtime, image, TTS and search-priced variants, xAI's beta/experimental aliases, and
    models retired more than a year before `--updated`;
  * Fireworks: the popular open-weight families only (its list has hundreds of legacy models);
  * de-duplicated: a dated snapshot priced exactly like its undated model is dropped (Tollgate
    strips the date when matching); one priced differently keeps its own entry;
  * a name two providers list at different prices: the first provider (in PROVIDERS order) keeps
    the bare name, the others get `provider/name` entries, which Tollgate tries first for
    requests routed to that provider.
OpenRouter has no listing in the source: its `vendor/model` names reach the vendor's entry by
Tollgate's prefix rule, helped by aliases for Anthropic's dotted names (`claude-sonnet-4.5`).

Published list prices that differ from the source are corrected by CORRECTIONS below, each
citing the provider's page.

Reproduce the shipped file:
  python3 scripts/convert_pricing.py --litellm-version 1.109.1 --updated 2026-11-21 --version 2026-11-21.2
Newest prices:
  python3 scripts/convert_pricing.py --litellm-version latest --updated $(date -u +%F)
"""

import argparse
import datetime
import decimal
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_FILE = "litellm/model_prices_and_context_window_backup.json"

# (litellm provider, Tollgate provider, prefix of litellm's key to drop). First-party providers
# first: when two list a name at different prices, the earlier keeps the bare name.
PROVIDERS = [
    ("openai", "openai", ""),
    ("text-completion-openai", "openai", ""),
    ("anthropic", "anthropic", ""),
    ("gemini", "gemini", "gemini/"),
    ("xai", "xai", "xai/"),
    ("deepseek", "deepseek", "deepseek/"),
    ("mistral", "mistral", "mistral/"),
    ("groq", "groq", "groq/"),
    ("together_ai", "together", "together_ai/"),
    ("fireworks_ai", "fireworks", "fireworks_ai/"),
]
MODES = {"chat", "completion", "embedding", "responses"}
EXCLUDED = re.compile(
    r"(^ft:|audio|realtime|transcribe|tts|image|search|lyria|container|-beta|experimental|-gv2|^together-ai-)")
FIREWORKS_FAMILIES = re.compile(
    r"^accounts/fireworks/models/(deepseek|qwen3|llama-v3p[13]-|llama4|kimi|glm|gpt-oss|minimax|mixtral-8x22b)")
TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")
# Date suffixes Tollgate strips when matching (PricingTable.swift, ModelName.withoutDateSuffix).
DATE_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{4})$")
RETIRED_GRACE_DAYS = 365


def per_million(cost):
    """USD per token (a float in the source) -> decimal string of USD per 1M tokens, 2 to 6 decimals."""
    if cost is None:
        return None
    value = (decimal.Decimal(repr(float(cost))) * 1_000_000).quantize(decimal.Decimal("0.000001"))
    text = format(value, "f").rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def price_of(entry, provider):
    """One source entry -> a pricing.json model entry."""
    price = {
        "provider": provider,
        "input": per_million(entry.get("input_cost_per_token")),
        "output": per_million(entry.get("output_cost_per_token") or 0),
        "cached_input": per_million(entry.get("cache_read_input_token_cost")),
        "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
        "max_output_tokens": entry.get("max_output_tokens") or entry.get("max_tokens"),
    }
    if not isinstance(price["max_output_tokens"], int):
        price["max_output_tokens"] = None
    tiers = []
    for field, value in entry.items():
        match = TIER.match(field)
        if not match or value is None:
            continue
        suffix = f"_above_{match.group(1)}k_tokens"
        tier = {
            "above_input_tokens": int(match.group(1)) * 1000,
            "input": per_million(value),
            "output": per_million(entry.get("output_cost_per_token" + suffix)),
            "cached_input": per_million(entry.get("cache_read_input_token_cost" + suffix)),
            "cache_write": per_million(entry.get("cache_creation_input_token_cost" + suffix)),
        }
        tiers.append({k: v for k, v in tier.items() if v is not None})
    if tiers:
        price["tiers"] = sorted(tiers, key=lambda t: t["above_input_tokens"])
    reasoning = entry.get("output_cost_per_reasoning_token")
    if reasoning is not None and per_million(reasoning) != price["output"]:
        print(f"warning: {provider} model prices reasoning apart from output; output rate used", file=sys.stderr)
    return {k: v for k, v in price.items() if v is not None}


def comparable(price):
    """What makes two entries the same price (provider and output limit aside)."""
    return json.dumps({k: v for k, v in price.items() if k not in ("provider", "max_output_tokens")}, sort_keys=True)


def retired(entry, cutoff):
    date = entry.get("deprecation_date")
    return isinstance(date, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", date) and date < cutoff


def candidates(source, cutoff):
    """(Tollgate provider, model name, source entry) for every model selected, in PROVIDERS order."""
    for litellm_provider, provider, prefix in PROVIDERS:
        for key, entry in source.items():
            if not isinstance(entry, dict) or entry.get("litellm_provider") != litellm_provider:
                continue
            if entry.get("mode") not in MODES or entry.get("input_cost_per_token") is None:
                continue
            if prefix and not key.startswith(prefix):
                continue
            name = key[len(prefix):]
            if EXCLUDED.search(name) or retired(entry, cutoff):
                continue
            if provider == "fireworks" and not FIREWORKS_FAMILIES.match(name):
                continue
            yield provider, name, entry
    # Gaps: Gemini models only Vertex lists (same list prices as AI Studio's paid tier) ...
    for key, entry in source.items():
        if not isinstance(entry, dict) or not str(entry.get("litellm_provider", "")).startswith("vertex_ai"):
            continue
        name = key.split("/")[-1]
        if (name.startswith("gemini-") and entry.get("mode") in MODES and entry.get("input_cost_per_token") is not None
                and not EXCLUDED.search(name) and not retired(entry, cutoff)):
            yield "gemini", name, entry
    # ... and Claude models Anthropic's own listing dropped but Bedrock (global, not regional) keeps.
    for key, entry in source.items():
        match = re.match(r"^anthropic\.(claude-[a-z0-9-]+?)-(\d{8})-v\d+:0$", key)
        if match and isinstance(entry, dict) and not retired(entry, cutoff) and entry.get("input_cost_per_token"):
            yield "anthropic", match.group(1), entry


def convert(source, cutoff):
    chosen = {}  # bare name -> (provider, price)
    qualified = {}
    for provider, name, entry in candidates(source, cutoff):
        price = price_of(entry, provider)
        if name not in chosen:
            chosen[name] = price
        elif comparable(chosen[name]) != comparable(price) and chosen[name]["provider"] != provider:
            qualified.setdefault(f"{provider}/{name}", price)
    # A dated snapshot priced like its undated model adds nothing: the date is stripped on lookup.
    for name in list(chosen):
        base = DATE_SUFFIX.sub("", name)
        if base != name and base in chosen and comparable(chosen[base]) == comparable(chosen[name]):
            del chosen[name]
    models = dict(chosen)
    models.update(qualified)
    return dict(sorted(models.items()))


# Published list prices that differ from the source, each checked against the provider's own page
# and applied over it (USD per 1M tokens; the fields given replace the source's).
CORRECTIONS = {
    # Anthropic, https://docs.anthropic.com/en/docs/about-claude/pricing (checked 2026-12-05):
    # Claude Sonnet 3.7 is $3 input, $3.75 5-minute cache writes, $0.30 cache hits, $15 output.
    # The source had $3.60 / $18 (a 20 % overcharge on every such request).
    "claude-3-7-sonnet": {"input": "3.00", "output": "15.00", "cached_input": "0.30", "cache_write": "3.75"},
    # Same page, long context pricing: Claude Sonnet 4.5, like Sonnet 4, bills a request of more
    # than 200K input tokens at $6 input / $22.50 output (cache rates scaled alike). The source
    # listed the tier for Sonnet 4 only.
    "claude-sonnet-4-5": {"tiers": [{"above_input_tokens": 200000, "input": "6.00", "output": "22.50",
                                     "cached_input": "0.60", "cache_write": "7.50"}]},
}


def corrected(models):
    for name, fields in CORRECTIONS.items():
        if name not in models:
            sys.exit(f"correction for {name}, which the source no longer lists: check it and remove it")
        models[name] = {**models[name], **fields}
    return models


def aliases(models):
    """Names clients send for listed models that the source spells differently."""
    table = {}
    for name, price in models.items():
        if price["provider"] != "anthropic" or "/" in name:
            continue
        # OpenRouter spells versions with dots: anthropic/claude-sonnet-4.5, anthropic/claude-3.5-haiku.
        dotted = re.sub(r"-(\d+)-(\d+)(?=$|-)", r"-\1.\2", name, count=1)
        if dotted != name and dotted not in models:
            table[dotted] = name
        # Anthropic's own aliases: claude-sonnet-4-0, claude-3-7-sonnet-latest.
        if re.match(r"^claude-(sonnet|opus|haiku)-\d+$", name) and f"{name}-0" not in models:
            table[f"{name}-0"] = name
        if name.startswith("claude-3") and f"{name}-latest" not in models:
            table[f"{name}-latest"] = name
    return dict(sorted(table.items()))


def render(doc):
    """pricing.json text: one model per line, so a price change is a one-line diff."""
    lines = ["{"]
    for key in ("version", "source", "updated", "unit"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(doc[key])},")
    lines.append('  "models": {')
    items = list(doc["models"].items())
    for i, (name, price) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(price, ensure_ascii=False)}{comma}")
    lines.append("  },")
    lines.append('  "aliases": {')
    items = list(doc["aliases"].items())
    for i, (alias, target) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(alias)}: {json.dumps(target)}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def load_source(path, version):
    if path:
        with open(path) as f:
            return json.load(f), os.path.basename(path)
    tmp = tempfile.mkdtemp()
    requirement = "litellm" if version == "latest" else f"litellm=={version}"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", requirement, "-d", tmp], check=True)
    wheel = glob.glob(os.path.join(tmp, "litellm-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(SOURCE_FILE))
    return data, f"{os.path.basename(wheel)}: {SOURCE_FILE}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", help="a price map JSON file instead of downloading litellm")
    parser.add_argument("--litellm-version", default="1.109.1", help="litellm release to download, or 'latest'")
    parser.add_argument("--updated", default=datetime.date.today().isoformat(), help="the prices' date, YYYY-MM-DD")
    parser.add_argument("--version", help="pricing version (default: <updated>.1)")
    parser.add_argument("--out", default=ROOT, help="repository root to write into")
    args = parser.parse_args()

    source, origin = load_source(args.source, args.litellm_version)
    updated = datetime.date.fromisoformat(args.updated)
    cutoff = (updated - datetime.timedelta(days=RETIRED_GRACE_DAYS)).isoformat()
    models = corrected(convert(source, cutoff))
    doc = {
        "version": args.version or f"{updated.isoformat()}.1",
        "source": f"LiteLLM price map ({origin})",
        "updated": updated.isoformat(),
        "unit": "USD per 1M tokens",
        "models": models,
        "aliases": aliases(models),
    }
    text = render(doc)
    json.loads(text)  # the hand-rolled layout must still be JSON
    with open(os.path.join(args.out, "pricing.json"), "w") as f:
        f.write(text)
    swift = os.path.join(args.out, "Sources", "TollgateCore", "Metering", "BuiltInPricing.swift")
    with open(swift, "w") as f:
        f.write("// Generated by scripts/convert_pricing.py from pricing.json: do not edit by hand.\n\n")
        f.write("/// The pricing file compiled into the binary, used when no pricing.json is found.\n")
        f.write("package enum BuiltInPricing {\n    package static let json = #\"\"\"\n")
        f.write(text)
        f.write("\"\"\"#\n}\n")
    by_provider = {}
    for price in models.values():
        by_provider[price["provider"]] = by_provider.get(price["provider"], 0) + 1
    print(f"{len(models)} models ({', '.join(f'{k} {v}' for k, v in sorted(by_provider.items()))}), "
          f"{len(doc['aliases'])} aliases -> pricing.json, BuiltInPricing.swift")


if __name__ == "__main__":
    main()
