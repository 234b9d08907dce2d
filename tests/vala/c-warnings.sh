#!/bin/sh
# c-warnings.sh: the C that valac makes of our Vala programs compiles
# without warnings against ane-glib-1.0.vapi.
#
#   c-warnings.sh VALAC VAPIDIR CC [CFLAGS...] -- FILE.vala...
#
# Meson compiles valac's output with -w (its no-warning arguments for
# generated code), so a binding that makes valac write wrong C -- a const
# pointer assigned to a non-const one, an incompatible pointer -- would
# never show. This compiles each program's C again with -Werror. Only the
# unused-* warnings are let through: valac emits unused temporaries and
# array-size variables in any program, whatever the bindings.
#
# SPDX-License-Identifier: MIT
set -eu

valac=$1 vapidir=$2 cc=$3
shift 3
cflags=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  cflags="$cflags $1"
  shift
done
[ $# -gt 0 ] && shift

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..$#"
n=0 failed=0
for source in "$@"; do
  n=$((n + 1))
  name=$(basename "$source" .vala)
  out="$tmp/$name"
  mkdir -p "$out"
  # valac keeps a relative source path's directories under -d: find the C
  # shellcheck disable=SC2086  # cflags is a list of words
  if "$valac" -C -q --vapidir "$vapidir" --pkg ane-glib-1.0 --pkg gio-2.0 -d "$out" "$source" &&
     c=$(find "$out" -name "$name.c" | head -n 1) && [ -n "$c" ] &&
     $cc -fsyntax-only -Wall -Wextra -Werror -Wno-unused-variable -Wno-unused-but-set-variable \
         -Wno-unused-parameter -Wno-unused-function $cflags $(pkg-config --cflags gio-2.0) "$c"; then
    echo "ok $n $name.vala"
  else
    echo "not ok $n $name.vala"
    failed=1
  fi
done
exit $failed
