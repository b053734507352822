#!/usr/bin/env python3
"""Builds pricing.json (and the copy compiled into the binary) from LiteLLM's published price map.

Source: the JSON price map shipped inside the `litellm` package on PyPI
(`litellm/model_prices_and_context_window_backup.json`). Prices are public facts; this script only
converts them: USD per token → decimal strings in USD per million tokens, tiers from the
`*_above_<N>k_tokens` fields, dated snapshots kept as their own entries.

Usage: scripts/convert_pricing.py [--source FILE] [--version V]
Without --source it downloads the newest litellm wheel with pip into a temporary folder.
"""

import argparse
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

# litellm provider → (Tollgate provider, prefix to strip from litellm's key). First-party providers
# come first: when two providers list the same model name, the first one's price wins.
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
    ("openrouter", "openrouter", "openrouter/"),
]
MODES = {"chat", "completion", "embedding", "responses"}
TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def per_million(cost):
    """USD per token (a float in the source) → exact decimal string in USD per million tokens."""
    if cost is None:
        return None
    value = (decimal.Decimal(repr(cost)) * 1_000_000).quantize(decimal.Decimal("0.000001"))
    text = format(value.normalize(), "f")
    return text if "." in text or text == "0" else text


def convert(source):
    models = {}
    for litellm_provider, provider, prefix in PROVIDERS:
        for key, entry in source.items():
            if not isinstance(entry, dict) or entry.get("litellm_provider") != litellm_provider:
                continue
            if entry.get("mode") not in MODES or "input_cost_per_token" not in entry:
                continue
            name = key[len(prefix):] if prefix and key.startswith(prefix) else key
            if name.startswith("ft:") or name in models:
                continue
            price = {
                "provider": provider,
                "input": per_million(entry.get("input_cost_per_token")),
                "output": per_million(entry.get("output_cost_per_token", 0)),
                "cached_input": per_million(entry.get("cache_read_input_token_cost")),
                "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
                "max_output_tokens": entry.get("max_output_tokens") or entry.get("max_tokens"),
            }
            tiers = []
            for field, value in entry.items():
                match = TIER.match(field)
                if not match:
                    continue
                suffix = f"_above_{match.group(1)}k_tokens"
                tier = {
                    "above_input_tokens": int(match.group(1)) * 1000,
                    "input": per_million(value),
                    "output": per_million(entry.get("output_cost_per_token" + suffix, entry.get("output_cost_per_token", 0))),
                    "cached_input": per_million(entry.get("cache_read_input_token_cost" + suffix, entry.get("cache_read_input_token_cost"))),
                    "cache_write": per_million(entry.get("cache_creation_input_token_cost" + suffix, entry.get("cache_creation_input_token_cost"))),
                }
                tiers.append({k: v for k, v in tier.items() if v is not None})
            if tiers:
                price["tiers"] = sorted(tiers, key=lambda t: t["above_input_tokens"])
            models[name] = {k: v for k, v in price.items() if v is not None}
    return models


def aliases(models):
    """Common names clients send that the source lists under another name."""
    table = {}
    for name in models:
        # Anthropic's "-latest" names point at the undated model.
        if models[name]["provider"] == "anthropic" and re.search(r"-\d{8}$", name):
            base = name[:-9]
            if base not in models:
                table[base + "-latest"] = name
    if "chatgpt-4o-latest" in models:
        table.setdefault("gpt-4o-latest", "chatgpt-4o-latest")
    return dict(sorted(table.items()))


def load_source(path):
    if path:
        with open(path) as f:
            return json.load(f), os.path.basename(path)
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "litellm", "-d", tmp], check=True)
    wheel = glob.glob(os.path.join(tmp, "litellm-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read("litellm/model_prices_and_context_window_backup.json"))
    return data, os.path.basename(wheel)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source")
    parser.add_argument("--version", default=None)
    args = parser.parse_args()
    source, origin = load_source(args.source)
    models = convert(source)
    import datetime
    today = datetime.date.today().isoformat()
    doc = {
        "version": args.version or f"{today}.1",
        "source": f"LiteLLM price map ({origin})",
        "updated": today,
        "unit": "USD per 1M tokens",
        "models": dict(sorted(models.items())),
        "aliases": aliases(models),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    with open(os.path.join(ROOT, "pricing.json"), "w") as f:
        f.write(text)
    swift = os.path.join(ROOT, "Sources", "TollgateCore", "Metering", "BuiltInPricing.swift")
    with open(swift, "w") as f:
        f.write("// Generated by scripts/convert_pricing.py from pricing.json: do not edit by hand.\n\n")
        f.write("/// The pricing file compiled into the binary, used when no pricing.json is found.\n")
        f.write("package enum BuiltInPricing {\n    package static let json = #\"\"\"\n")
        f.write(text)
        f.write("\"\"\"#\n}\n")
    by_provider = {}
    for m in models.values():
        by_provider[m["provider"]] = by_provider.get(m["provider"], 0) + 1
    print(f"{len(models)} models ({', '.join(f'{k} {v}' for k, v in sorted(by_provider.items()))}), "
          f"{len(doc['aliases'])} aliases → pricing.json")


if __name__ == "__main__":
    main()
