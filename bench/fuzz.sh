#!/bin/sh
# fuzz.sh: run every libFuzzer target of tests/fuzz for longer than the test suite does
#
#   sh bench/fuzz.sh [SECONDS-PER-TARGET] [TARGET...]
#
# SECONDS-PER-TARGET defaults to 600; the targets to all of them (package mil
# graph gguf llama2c tokenizer). The build directory is $ANE_FUZZ_BUILD
# (default _build-fuzz), configured here with clang, ASan + UBSan and
# -Dfuzzing=enabled when it does not exist yet (needs clang and
# libclang-rt-14-dev on Debian 12).
#
# Unlike the meson tests (a fresh copy of the seeds every time), each
# target keeps a corpus that grows from run to run in
# BUILD/tests/fuzz/long/TARGET/corpus, started from tests/fuzz/corpus/TARGET.
# A crash, leak, out-of-memory or timeout stops that target and leaves its
# input in BUILD/tests/fuzz/long/TARGET/artifacts/; replay it with
# BUILD/tests/fuzz/replay-TARGET FILE (ANE_FUZZ_VERBOSE=1 says how far it
# gets) and, once understood, add it to tests/fuzz/regressions/TARGET/.
# Every target runs even when one fails; the exit status is 1 if any did.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-package mil graph gguf llama2c tokenizer}
build=${ANE_FUZZ_BUILD:-_build-fuzz}

if [ ! -d "$build" ]; then
  CC=clang meson setup "$build" -Dfuzzing=enabled -Db_sanitize=address,undefined -Db_lundef=false \
    -Dtests=false -Dintrospection=disabled -Dvapi=disabled
fi
ninja -C "$build"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=""
for t in $targets; do
  work="$build/tests/fuzz/long/$t"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  cp -n tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
  dict=""
  [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  echo "fuzz.sh: $t for $seconds s (corpus $work/corpus)"
  # shellcheck disable=SC2086
  if ! TMPDIR="$work/tmp" "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
       -timeout=10 -artifact_prefix="$work/artifacts/" -print_final_stats=1 $dict "$work/corpus" \
       > "$work/log.txt" 2>&1; then
    failed="$failed $t"
    echo "fuzz.sh: $t FAILED, see $work/log.txt and $work/artifacts/"
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$work/log.txt" || true
done
if [ -n "$failed" ]; then
  echo "fuzz.sh: findings in:$failed"
  exit 1
fi
echo "fuzz.sh: no findings"
