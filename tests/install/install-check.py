# install-check.py: the installed library through PyGObject, run by
# check-install.py with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into
# the install (and PYTHONPATH at its overrides, when it has them).
#
# Builds relu(x·w + b), runs it on the CPU backend and compares with plain
# Python; checks that the typelib and the library were loaded from the
# install. Exits non-zero on any mismatch.
#
# SPDX-License-Identifier: MIT

import os
import sys

import gi

gi.require_version("Ane", "1.0")
from gi.repository import Ane  # noqa: E402

install_root = os.path.realpath(sys.argv[1])
want_overrides = sys.argv[2] if len(sys.argv) > 2 else ""


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def inside_install(path):
    return os.path.realpath(path).startswith(install_root + os.sep)


typelib = gi.Repository.get_default().get_typelib_path("Ane")
if not inside_install(typelib):
    fail(f"Ane typelib loaded from {typelib}, not from the install under {install_root}")

xs = [1.0, 2.0, 3.0]
ws = [1.0, -1.0, 0.0, 2.0, 0.5, 1.0]
bs = [-1.0, -4.0]
g = Ane.Graph.new()
x = g.input("x", Ane.DType.FLOAT32, [1, 3])
w = g.const(Ane.Tensor.new_from_floats("w", [3, 2], ws))
b = g.const(Ane.Tensor.new_from_floats("b", [2], bs))
g.add_output("y", g.relu(g.add(g.matmul(x, w, False, False), b)))
exe = Ane.Executable.new(g, Ane.Backend.CPU)
exe.props.precision = Ane.Precision.FLOAT32
exe.compile(None)
got = exe.run_one(Ane.Tensor.new_from_floats("x", [1, 3], xs)).dup_floats()
want = [max(0.0, bs[j] + sum(xs[k] * ws[k * 2 + j] for k in range(3))) for j in range(2)]
if len(got) != 2 or any(abs(a - e) > 1e-5 for a, e in zip(got, want)):
    fail(f"y = {list(got)}, expected {want}")

with open("/proc/self/maps") as maps:
    libs = {line.split()[-1] for line in maps if "libane-glib-1.0.so" in line}
if not libs or not all(inside_install(lib) for lib in libs):
    fail(f"libane-glib loaded from {sorted(libs)}, not from the install under {install_root}")

if want_overrides:
    # The overrides module installed beside the library must be the one
    # PyGObject picked up for Ane.
    module = sys.modules.get("gi.overrides.Ane")
    if module is None:
        fail(f"gi.overrides.Ane was not loaded (installed at {want_overrides})")
    if os.path.realpath(module.__file__) != os.path.realpath(want_overrides):
        fail(f"gi.overrides.Ane came from {module.__file__}, not {want_overrides}")
    # and it works: the MLP again, numpy in and out (docs/python.md)
    import numpy as np
    xa = np.array([xs], dtype=np.float32)
    out = exe.run({"x": xa})
    if set(out) != {"y"} or not np.allclose(out["y"], np.array([want], dtype=np.float32), atol=1e-5):
        fail(f"exe.run({{'x': ...}}) gave {out}, expected y = {want}")
    t = Ane.Tensor.from_numpy("t", xa)
    if not np.array_equal(t.to_numpy(), xa):
        fail("Tensor.from_numpy / to_numpy do not round-trip")

print(f"python ok {Ane.get_major_version()}.{Ane.get_minor_version()}.{Ane.get_micro_version()}"
      f"{' with overrides' if want_overrides else ''}")
