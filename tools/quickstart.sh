#!/bin/sh
# quickstart.sh: install what is missing, build, and run the demo or every test.
#
#   sh tools/quickstart.sh demo   build, convert the bundled stories260K for the Neural
#                                 Engine, generate a story from it and lint the package
#   sh tools/quickstart.sh test   build with warnings as errors, run every test suite,
#                                 then the C suites again under ASan + UBSan, once more
#                                 built by clang, the threaded tests under ThreadSanitizer,
#                                 and the fuzz targets (tests/fuzz) for 60 s each plus
#                                 their regressions
#
# Works on a fresh Debian 12 machine as root (it uses apt-get for what is missing).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-demo}

packages="build-essential pkg-config meson ninja-build libglib2.0-dev libjson-glib-dev
gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 valac python3-gi python3-numpy
gi-docgen protobuf-c-compiler libprotobuf-c-dev libopenblas-dev gobjc libgnustep-base-dev
python3-venv clang libclang-rt-14-dev"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "quickstart: need root to install packages (run as root or install them yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

jobs=$(nproc 2>/dev/null || echo 2)

# _venv: Apple's coremltools (pinned, tools/requirements-contract.txt) for the
# Apple-loader contract suite, in a virtual environment made from Debian's
# python with --system-site-packages so python3-gi and numpy stay visible.
# Made again whenever the requirements change.
setup_venv () {
  req=tools/requirements-contract.txt
  if [ -x _venv/bin/python3 ] && cmp -s "$req" _venv/.requirements; then
    return 0
  fi
  echo "quickstart: creating _venv (coremltools for the contract suite)"
  rm -rf _venv
  /usr/bin/python3 -m venv --system-site-packages _venv
  _venv/bin/python3 -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  _venv/bin/python3 -c "import coremltools, numpy, onnx, onnxruntime"
  cp "$req" _venv/.requirements
}

case "$mode" in
  demo)
    [ -d _build ] || meson setup _build
    ninja -C _build -j "$jobs"
    # The bundled stories260K (llama2.c checkpoint + tokenizer) converted for
    # the Neural Engine: one package with its prompt (prefill) and one-token
    # (decode) steps sharing the weights, KV caches in states, plus the
    # embedding table, the tokenizer and a manifest (docs/ane-lowering.md).
    ./_build/tools/ane-tool convert-llm data/models/stories260K.bin --tokenizer data/models/tok512.bin \
      -o _build/demo/stories260K -f
    # That directory run by the default backend (on Linux the CPU backend,
    # interpreting the very MIL program a Mac would get) to tell a story.
    ./_build/tools/ane-tool generate --model-dir _build/demo/stories260K --prompt "Once upon a time" -n 200
    # What of the package would leave the Neural Engine, and why: nothing
    # (exit 0; 1 would mean a fallback).
    ./_build/tools/ane-tool lint _build/demo/stories260K/model.mlpackage
    ;;
  test)
    setup_venv
    ci_opts="-Dwerror=true -Dgir_fatal_warnings=true -Ddocumentation=true -Dcoremltools_python=$here/_venv/bin/python3"
    if [ -d _build-ci ]; then
      # shellcheck disable=SC2086
      meson configure _build-ci $ci_opts
    else
      # shellcheck disable=SC2086
      meson setup _build-ci $ci_opts
    fi
    ninja -C _build-ci -j "$jobs"
    meson test -C _build-ci --print-errorlogs --num-processes "$jobs"

    # The C suites once more under AddressSanitizer + UndefinedBehaviorSanitizer.
    [ -d _build-asan ] || meson setup _build-asan -Db_sanitize=address,undefined \
      -Db_lundef=false -Dintrospection=disabled -Dvapi=disabled -Dwerror=true
    ninja -C _build-asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C _build-asan --suite c --print-errorlogs --num-processes "$jobs"

    # The C suites built by clang (the library, tests and tools, -Werror),
    # the Objective-C shim tests too (OBJC=clang against GNUstep).
    [ -d _build-clang ] || CC=clang OBJC=clang meson setup _build-clang -Dwerror=true \
      -Dintrospection=disabled -Dvapi=disabled
    ninja -C _build-clang -j "$jobs"
    meson test -C _build-clang --suite c --print-errorlogs --num-processes "$jobs"

    # The threaded tests under ThreadSanitizer (docs/safety.md, "Threads"):
    # GLib's locks and GTask hand-offs are annotated in a TSan build
    # (ane-glib/ane-tsan-private.h); tests/tsan.supp says what else TSan
    # cannot see. G_SLICE=always-malloc: GLib's slice magazines are not
    # instrumented either.
    [ -d _build-tsan ] || meson setup _build-tsan -Db_sanitize=thread -Db_lundef=false \
      -Dintrospection=disabled -Dvapi=disabled -Dwerror=true
    ninja -C _build-tsan -j "$jobs" tests/test-threads
    G_SLICE=always-malloc TSAN_OPTIONS="suppressions=$here/tests/tsan.supp halt_on_error=1" \
      meson test -C _build-tsan --no-rebuild --print-errorlogs test-threads

    # The libFuzzer targets (tests/fuzz/README.md): every crasher kept in
    # tests/fuzz/regressions and every seed once, then each target for 60 s.
    [ -d _build-fuzz ] || CC=clang meson setup _build-fuzz -Dfuzzing=enabled \
      -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false \
      -Dintrospection=disabled -Dvapi=disabled -Dwerror=true
    ninja -C _build-fuzz -j "$jobs"
    meson test -C _build-fuzz --suite fuzz --print-errorlogs --num-processes "$jobs"
    echo "quickstart: all tests passed"
    ;;
  *)
    echo "usage: sh tools/quickstart.sh demo|test" >&2
    exit 2
    ;;
esac
