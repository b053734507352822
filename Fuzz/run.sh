#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for FUZZ_SECONDS (default 60), seeded from the test
# fixtures; exits non-zero if any target crashed (its reproducer is kept in $FUZZ_OUT/<target>/).
# Usage: Fuzz/run.sh [TARGET...]      Env: FUZZ_SECONDS, FUZZ_OUT (default .build-fuzz/out)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-$PWD/.build-fuzz/out}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(FuzzRequestBody FuzzStreamMeter FuzzUsageParser FuzzPricing)
echo "Building ${TARGETS[*]} with -sanitize=fuzzer (release, .build-fuzz)…"
for t in "${TARGETS[@]}"; do
  TOLLGATE_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product "$t" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -use-ld=lld 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -3
done
BIN=$(TOLLGATE_FUZZ=1 swift build -c release --scratch-path .build-fuzz --show-bin-path)
FIX=Tests/TollgateCoreTests/Fixtures
# Seeds: each fixture behind the scenario byte that names its format and endpoint (FuzzSupport).
seed() {  # target, scenario byte (octal), file, [extra byte]
  mkdir -p "$OUT/$1/corpus"
  { printf "\\$2"; [[ -n ${4:-} ]] && printf "\\$4"; cat "$3"; } > "$OUT/$1/corpus/$(basename "$3").$2"
}
for t in FuzzUsageParser FuzzRequestBody; do
  seed $t 000 $FIX/openai_chat_completion.json; seed $t 002 $FIX/openai_embeddings.json
  seed $t 003 $FIX/openai_responses.json; seed $t 004 $FIX/anthropic_message.json
  seed $t 005 $FIX/gemini_generate_content.json; seed $t 005 $FIX/gemini_stream_array.json
done
printf '\000{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":10}' > "$OUT/FuzzRequestBody/corpus/chat"
for f in openai_chat_stream_include_usage.sse:000 openai_responses_stream.sse:003 anthropic_messages_stream.sse:004 gemini_stream.sse:005; do
  seed FuzzStreamMeter "${f#*:}" "$FIX/${f%%:*}" 017
done
mkdir -p "$OUT/FuzzPricing/corpus"; cp pricing.json "$OUT/FuzzPricing/corpus/"
# JSON and SSE syntax and the keys metering reads, so mutations reach past the first few bytes.
DICT=$PWD/Fuzz/tollgate.dict
# Swift's runtime backtracer would take the trap's signal and exit before libFuzzer's handler
# writes the crash-… reproducer: leave crashes to libFuzzer.
export SWIFT_BACKTRACE=enable=no
crashed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$OUT/$t/corpus"
  # Every crash found before (Fuzz/crashes/<target>-<n>) must stay fixed.
  for f in Fuzz/crashes/"$t"-*; do
    [[ -e $f ]] || continue
    if ! "$BIN/$t" "$f" > "$OUT/$t/regression.log" 2>&1; then
      crashed=1; echo "$t CRASHED again on $f"; tail -20 "$OUT/$t/regression.log"
    fi
  done
  echo "== $t: ${SECS}s"
  if ! (cd "$OUT/$t" && "$BIN/$t" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -dict="$DICT" corpus > log 2>&1); then
    crashed=1
    echo "$t CRASHED: reproducer in $OUT/$t ($(ls "$OUT/$t" | grep -E '^(crash|oom|timeout)-' | head -1))"; tail -30 "$OUT/$t/log"
  fi
  { grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/$t/log" || true; } | tr '\n' ' '; echo "corpus $(ls "$OUT/$t/corpus" | wc -l)"
done
exit $crashed
