#!/bin/sh
# The greedy-text table of docs/compression.md: stories260K converted to a
# directory (ane-tool convert-llm, context 256), its model.mlpackage
# compressed per mode and put in place of the float16 one, then 200 greedy
# tokens from "Once upon a time" on the CPU backend: how many characters
# stay the same as the float16 package's.
#
#   bench/compress-greedy.sh _build/tools/ane-tool "--palettize 8" "--quantize int8" ...
#
# SPDX-License-Identifier: MIT
set -e
tool=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$tool" convert-llm "$here/data/models/stories260K.bin" --tokenizer "$here/data/models/tok512.bin" \
  -o "$tmp/plain" --context 256 >/dev/null
want=$("$tool" generate --model-dir "$tmp/plain" --prompt "Once upon a time" -n 200 2>/dev/null)
for mode in "$@"; do
  rm -rf "$tmp/c"; cp -r "$tmp/plain" "$tmp/c"; rm -rf "$tmp/c/model.mlpackage"
  # word splitting of $mode is wanted: it holds the flags
  # shellcheck disable=SC2086
  if ! "$tool" compress "$tmp/plain/model.mlpackage" -o "$tmp/c/model.mlpackage" $mode >/dev/null 2>&1; then
    echo "| \`$mode\` | refused |"; continue
  fi
  got=$("$tool" generate --model-dir "$tmp/c" --prompt "Once upon a time" -n 200 2>/dev/null)
  python3 -c '
import sys
a, b, mode = sys.argv[1:]
same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
print("| `%s` | %d of %d |" % (mode, same, len(a)))' "$want" "$got" "$mode"
done
