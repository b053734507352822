#!/usr/bin/env bash
# CPU per request of provider credentials Tollgate computes (issue 15's floor: ≤ 20 µs): AWS
# Signature V4 for Bedrock at three body sizes against a SHA-256 of the same body, and the RS256
# assertion of Vertex AI's service account (once per token). Prints a table; figures go to
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building SigningBench (release)…" >&2
swift build -c release --product SigningBench >&2
key="$(mktemp)"
trap 'rm -f "$key"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
.build/release/SigningBench --iterations "${ITERATIONS:-20000}" --pem "$key"
