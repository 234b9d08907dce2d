#!/bin/sh
# run-fuzzer.sh: one bounded libFuzzer run of a target on a fresh copy of its seeds
#
#   run-fuzzer.sh FUZZER SEEDS WORKDIR SECONDS [LIBFUZZER-OPTION...]
#
# WORKDIR is emptied, then gets corpus/ (a copy of SEEDS, where libFuzzer
# adds what it finds), artifacts/ (the input of any crash, leak, OOM or
# timeout: the file to move to tests/fuzz/regressions/TARGET/) and tmp/
# (the target's scratch files). Exits non-zero on any finding, as libFuzzer
# does. Used by the meson tests of suite `fuzz`, where ANE_FUZZ_SECONDS, when
# set, replaces SECONDS (add --timeout-multiplier for longer runs).
set -eu

if [ $# -lt 4 ]; then
  echo "usage: $0 FUZZER SEEDS WORKDIR SECONDS [LIBFUZZER-OPTION...]" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 work=$3 seconds=${ANE_FUZZ_SECONDS:-$4}
shift 4

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
cp "$seeds"/* "$work/corpus/"

# -rss_limit_mb also bounds any single malloc (-malloc_limit_mb defaults to
# it): an allocation the memory budget should have refused is a finding.
# -timeout: seconds per input; the targets run each program once, on
# inputs that fit a 64 MiB budget.
status=0
TMPDIR="$work/tmp" "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" "$work/corpus" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run-fuzzer: $(basename "$fuzzer") failed (exit $status); reproducer(s):" >&2
  ls -l "$work/artifacts" >&2
fi
exit "$status"
