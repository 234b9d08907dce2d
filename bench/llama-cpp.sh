#!/usr/bin/env bash
# bench/llama-cpp.sh — reference measurements against llama.cpp (issue 15).
#
# A benchmark, never a test: the test command does not run it.  It
#   1. fetches llama.cpp's sources without git, from the PyPI sdist of
#      llama-cpp-python (which vendors them under vendor/llama.cpp), pinned by
#      version and sha256;
#   2. builds llama.cpp's CPU-only llama-bench (and libggml) with cmake;
#   3. runs llama-bench on the synthetic GGUFs `bench-llm --data DIR` writes
#      (same 134M shape, F32 F16 Q8_0 Q4_0 Q4_K) at -t 1 and -t 2 and prints
#      them beside bench-llm's own figures;
#   4. builds bench/dequant-ggml.c against that libggml and compares
#      ane_dequant_blocks_f32 with ggml's to_float per scheme.
#
# Usage: bench/llama-cpp.sh [BUILD_DIR]        (default: _build)
#   LLAMA_CPP_CACHE   where the sdist is unpacked and built
#                     (default: BUILD_DIR/llama-cpp)
#   LLAMA_CPP_SDIST   a local copy of the pinned sdist (checked by sha256)
#   BENCH_STEPS       the steps to run, space-separated: "build" (llama-bench),
#                     "llm" (3.), "dequant" (4.); default all three
#   BENCH_TYPES, BENCH_THREADS   weight types and thread counts
#                     (default f32,f16,q8_0,q4_0,q4_k and 1,2)
#   BENCH_LLM_ARGS    bench-llm's sizes (default --prompt 128 --generate 64)
#   BENCH_LLM_REUSE=1 reuse the last bench-llm table (results/bench-llm.txt)
#   BENCH_REPS        llama-bench repetitions (default 3)
#   BENCH_DEPTH       the cache depth llama-bench's tg starts at (default 128:
#                     bench-llm generates after its 128-token prompt, so
#                     its decode steps attend over 128–192 rows; llama-bench's
#                     tg at depth 0 attends over 0–64, also printed)
#   ANE_CPU_QUANTIZE_ACTIVATIONS=1  bench-llm multiplies Q8_0 / Q4_0 weights
#                     by 8-bit activations, as llama.cpp does
#                     (AneExecutable:quantize-activations); say so in the
#                     table's title
#   BENCH_DEQUANT_SIZES  N:REPEATS pairs for dequant-ggml
#                     (default "262144:300 16777216:5")
set -eu -o pipefail

LCP_VERSION=0.3.36
LCP_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LCP_URL=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-${LCP_VERSION}.tar.gz

die() { echo "llama-cpp.sh: error: $*" >&2; exit 1; }
say() { echo "llama-cpp.sh: $*" >&2; }

SRCROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRCROOT/_build}
[ -d "$BUILD" ] || die "build dir '$BUILD' does not exist (meson setup _build && ninja -C _build)"
BUILD=$(cd "$BUILD" && pwd)
CACHE=${LLAMA_CPP_CACHE:-$BUILD/llama-cpp}
STEPS=${BENCH_STEPS:-build llm dequant}
mkdir -p "$CACHE"

command -v cmake >/dev/null || die "cmake not found (apt-get install cmake)"
command -v python3 >/dev/null || die "python3 not found"

# --- 1. fetch the pinned sdist ----------------------------------------------
SDIST=$CACHE/llama_cpp_python-$LCP_VERSION.tar.gz
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$LCP_SHA256" ]; }
if ! sha_ok "$SDIST"; then
  for local_copy in "${LLAMA_CPP_SDIST:-}" /tmp/lcp/l.tar.gz; do
    if [ -n "$local_copy" ] && sha_ok "$local_copy"; then
      say "using local copy $local_copy"
      cp "$local_copy" "$SDIST.part" && mv "$SDIST.part" "$SDIST"
      break
    fi
  done
fi
if ! sha_ok "$SDIST"; then
  say "downloading llama-cpp-python $LCP_VERSION sdist (~77 MB)"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$SDIST.part" "$LCP_URL" || die "download failed: $LCP_URL"
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
      "$LCP_URL" "$SDIST.part" || die "download failed: $LCP_URL"
  fi
  mv "$SDIST.part" "$SDIST"
  sha_ok "$SDIST" || die "sha256 mismatch for $SDIST (expected $LCP_SHA256)"
fi

# --- 2. unpack vendor/llama.cpp and build ------------------------------------
SRC=$CACHE/src-$LCP_VERSION
if [ ! -f "$SRC/.unpacked" ]; then
  say "unpacking vendor/llama.cpp into $SRC"
  rm -rf "$SRC" "$SRC.part"
  mkdir -p "$SRC.part"
  tar xzf "$SDIST" -C "$SRC.part" --strip-components=3 \
    "llama_cpp_python-$LCP_VERSION/vendor/llama.cpp" \
    || die "unpacking $SDIST failed"
  touch "$SRC.part/.unpacked"
  mv "$SRC.part" "$SRC"
fi
LBUILD=$CACHE/build-$LCP_VERSION
LLAMA_BENCH=$LBUILD/bin/llama-bench
GGML_BASE=$LBUILD/bin/libggml-base.so

# llama_build TARGET...: configure once (CPU only, native, Release), then
# build only the targets asked for (cmake reuses what is built).
llama_build() {
  if [ ! -f "$LBUILD/CMakeCache.txt" ]; then
    say "configuring llama.cpp (CPU only, native, Release) in $LBUILD"
    cmake -S "$SRC" -B "$LBUILD" -DCMAKE_BUILD_TYPE=Release \
      -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
      -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_OPENCL=OFF \
      >"$CACHE/cmake-configure.log" 2>&1 \
      || { rm -f "$LBUILD/CMakeCache.txt"; die "cmake configure failed, see $CACHE/cmake-configure.log"; }
  fi
  say "building $* (-j2; llama-bench takes a while on 2 cores), log: $CACHE/cmake-build.log"
  cmake --build "$LBUILD" -j2 --target "$@" >"$CACHE/cmake-build.log" 2>&1 \
    || die "cmake build failed, see $CACHE/cmake-build.log"
}
case " $STEPS " in *" build "*|*" llm "*)
  [ -x "$LLAMA_BENCH" ] || llama_build llama-bench
  say "llama-bench: $LLAMA_BENCH"
;; esac
case " $STEPS " in *" dequant "*)
  [ -f "$GGML_BASE" ] || llama_build ggml-base
;; esac

# --- 3. llama-bench beside bench-llm -----------------------------------------
# Sizes: llama-bench's pp/tg are those of issue 15 (-p 128 -n 64). bench-llm
# takes BENCH_LLM_ARGS (default the same 128/64); its prompt runs one token
# per step, so a shorter prompt changes its prompt tok/s little.
TYPES=${BENCH_TYPES:-f32,f16,q8_0,q4_0,q4_k}
THREADS=${BENCH_THREADS:-1,2}
REPS=${BENCH_REPS:-3}
DEPTH=${BENCH_DEPTH:-128}
BENCH_LLM_ARGS=${BENCH_LLM_ARGS:---prompt 128 --generate 64}
DATA=$CACHE/gguf
OUT=$CACHE/results
case " $STEPS " in *" llm "*)
  BENCH_LLM=$BUILD/bench/bench-llm
  [ -x "$BENCH_LLM" ] || die "$BENCH_LLM not built (ninja -C $BUILD bench/bench-llm)"
  mkdir -p "$DATA/llama-cpp" "$OUT"
  if [ "${BENCH_LLM_REUSE:-0}" = 1 ] && [ -s "$OUT/bench-llm.txt" ]; then
    say "reusing $OUT/bench-llm.txt (BENCH_LLM_REUSE=1)"
  else
    say "bench-llm $BENCH_LLM_ARGS on $TYPES at threads $THREADS (fp32) -> $OUT/bench-llm.txt"
    # shellcheck disable=SC2086 # BENCH_LLM_ARGS is a list of options
    "$BENCH_LLM" --data "$DATA" --types "$TYPES" --threads "$THREADS" --precisions fp32 \
      $BENCH_LLM_ARGS >"$OUT/bench-llm.txt.part" || die "bench-llm failed"
    mv "$OUT/bench-llm.txt.part" "$OUT/bench-llm.txt"
  fi
  cat "$OUT/bench-llm.txt"
  for t in $(echo "$TYPES" | tr , ' '); do
    ours=$DATA/llama134m-$t.gguf
    theirs=$DATA/llama-cpp/llama134m-$t.gguf
    [ -f "$ours" ] || die "bench-llm wrote no $ours"
    if [ ! -f "$theirs" ] || [ "$ours" -nt "$theirs" ]; then
      python3 "$SRCROOT/bench/gguf-vocab-none.py" "$ours" "$theirs" || die "cannot copy $ours for llama.cpp"
    fi
    for th in $(echo "$THREADS" | tr , ' '); do
      say "llama-bench $t -t $th"
      rss=$OUT/llama-bench-$t-t$th.rss
      if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$rss.time" "$LLAMA_BENCH" -m "$theirs" -p 128 -n 64 -d "0,$DEPTH" -t "$th" -r "$REPS" -o json \
          >"$OUT/llama-bench-$t-t$th.json" 2>"$OUT/llama-bench-$t-t$th.log" \
          || die "llama-bench failed on $theirs, see $OUT/llama-bench-$t-t$th.log"
        sed -n 's/.*Maximum resident set size (kbytes): *//p' "$rss.time" >"$rss"
      else
        # No GNU time: the child's peak RSS from getrusage (kB on Linux).
        python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1] + ".json", "w"), stderr=open(sys.argv[1] + ".log", "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$OUT/llama-bench-$t-t$th" "$LLAMA_BENCH" -m "$theirs" -p 128 -n 64 -d "0,$DEPTH" -t "$th" -r "$REPS" -o json \
          >"$rss" || die "llama-bench failed on $theirs, see $OUT/llama-bench-$t-t$th.log"
      fi
    done
  done
  python3 - "$OUT" "$TYPES" "$THREADS" "$DEPTH" <<'PY'
import json, sys
out, types, threads, depth = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), int(sys.argv[4])
ours = {}
for line in open(out + "/bench-llm.txt"):
    f = line.split()
    # type prec threads load prompt-per-step prompt-one-call max|dlogit| gen RSS GGUF
    if len(f) == 10 and f[1] == "fp32":
        ours[(f[0], f[2])] = (float(f[5]), float(f[7]), float(f[8]), float(f[9]))
print()
import os
q8x = os.environ.get("ANE_CPU_QUANTIZE_ACTIVATIONS") == "1"
print("ane-glib (bench-llm, CPU backend, fp32, %s) beside llama.cpp (llama-bench %s) on the same GGUFs"
      % ("8-bit activations for Q8_0 / Q4_0 / Q4_K" if q8x else "float activations", "pp128/tg64 @ depth 0,%d" % depth))
print("pp ours: bench-llm's prompt in one call (the n-token decode step `generate` runs) after a warm-up call,")
print("like llama-bench's batched pp at depth 0 after its warm-up; tg: one token per step on both sides, ours after the prompt, llama.cpp's at")
print("depth %d (tg llama d0: at depth 0, for reference)." % depth)
hdr = ("type", "thr", "pp ours", "pp llama", "pp ratio", "tg ours", "tg llama", "tg ratio", "tg lla d0",
       "RSS ours", "RSS llama", "RSS ratio", "GGUF MiB")
print("%-5s %3s %9s %9s %8s %8s %9s %8s %9s %9s %9s %9s %8s" % hdr)
for t in types:
    for th in threads:
        res = json.load(open("%s/llama-bench-%s-t%s.json" % (out, t, th)))
        pp = next(r["avg_ts"] for r in res if r["n_prompt"] > 0 and r["n_gen"] == 0 and r.get("n_depth", 0) == 0)
        tg = next(r["avg_ts"] for r in res if r["n_gen"] > 0 and r["n_prompt"] == 0 and r.get("n_depth", 0) == depth)
        tg0 = next(r["avg_ts"] for r in res if r["n_gen"] > 0 and r["n_prompt"] == 0 and r.get("n_depth", 0) == 0)
        rss = int(open("%s/llama-bench-%s-t%s.rss" % (out, t, th)).read().split()[0]) / 1024.0
        o = ours.get((t, th))
        if o is None:
            print("%-5s %3s %9s %9.1f %8s %8s %9.2f %8s %9.2f %9s %9.0f %9s" % (t, th, "-", pp, "-", "-", tg, "-", tg0, "-", rss, "-"))
            continue
        print("%-5s %3s %9.1f %9.1f %7.3fx %8.2f %9.2f %7.3fx %9.2f %9.0f %9.0f %8.2fx %8.0f"
              % (t, th, o[0], pp, o[0] / pp, o[1], tg, o[1] / tg, tg0, o[2], rss, o[2] / rss, o[3]))
print("(tok/s; ratio = ours / llama.cpp, > 1 means ane-glib is faster / uses more memory; RSS in MiB, peak)")
PY
;; esac

# --- 4. dequantization against ggml's to_float --------------------------------
case " $STEPS " in *" dequant "*)
  INTERNAL=$BUILD/ane-glib/libane-glib-internal.a
  [ -f "$INTERNAL" ] || die "$INTERNAL not built (ninja -C $BUILD)"
  command -v pkg-config >/dev/null || die "pkg-config not found"
  HARNESS=$CACHE/dequant-ggml
  say "building $HARNESS against $GGML_BASE"
  # The internal archive's dependencies (ane-glib/meson.build: lib_deps);
  # only the objects the harness needs are pulled from the archive.
  # shellcheck disable=SC2046
  ${CC:-cc} -O2 -std=gnu11 -o "$HARNESS" "$SRCROOT/bench/dequant-ggml.c" \
    -DANE_COMPILATION -I"$BUILD/ane-glib" -I"$BUILD" -I"$SRCROOT" -I"$SRCROOT/ane-glib" \
    -I"$SRC/ggml/include" $(pkg-config --cflags glib-2.0 gobject-2.0 gio-2.0 json-glib-1.0) \
    "$INTERNAL" "$GGML_BASE" -Wl,-rpath,"$(dirname "$GGML_BASE")" \
    $(pkg-config --libs glib-2.0 gobject-2.0 gio-2.0 json-glib-1.0 libprotobuf-c) \
    $(pkg-config --libs openblas 2>/dev/null || pkg-config --libs blas 2>/dev/null || true) -fopenmp -lm \
    >"$CACHE/dequant-ggml-build.log" 2>&1 || die "building the harness failed, see $CACHE/dequant-ggml-build.log"
  mkdir -p "$OUT"
  # Two sizes: 1 MiB of output stays in cache (the dequantizers' own
  # speed), 64 MiB goes to memory (where both approach memcpy).
  : >"$OUT/dequant-ggml.txt"
  for size in ${BENCH_DEQUANT_SIZES:-262144:300 16777216:5}; do
    "$HARNESS" "${size%%:*}" "${size##*:}" | tee -a "$OUT/dequant-ggml.txt" \
      || die "dequant-ggml: ane-glib and ggml differ (or failed)"
  done
;; esac
