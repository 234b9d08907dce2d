#!/usr/bin/python3
# check-install.py: installs the build into a temporary DESTDIR and uses it
# the ways an application would -- from C through pkg-config, from Python
# through PyGObject, from Vala through the vapi -- with nothing from the
# build tree on any path. Prints TAP, one line per part.
#
# `meson install --destdir TMP --no-rebuild` installs what `meson test` has
# already built, so it can run from inside `meson test` (a rebuild would wait
# on the ninja that meson test itself runs under).
#
# pkg-config: the installed .pc says prefix=/usr/local (or whatever the
# build was configured with); under a DESTDIR that prefix is elsewhere.
# PKG_CONFIG_SYSROOT_DIR cannot be used for this: pkgconf prepends the
# sysroot to every package's paths, GLib's too, which are not under the
# DESTDIR. So a copy of the .pc with only its prefix= line moved into the
# DESTDIR is used instead; everything else in it (includedir, libdir, Libs,
# Cflags, Requires) is what was installed.
#
# --reuse DIR runs the checks on an existing DESTDIR without installing
# (to check that each part fails when a file is removed from it).
#
# SPDX-License-Identifier: MIT

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PC_NAME = "ane-glib-1.0"

results = []


def report(ok, what, details=""):
    n = len(results) + 1
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    for line in details.rstrip().splitlines():
        print(f"# {line}")
    sys.stdout.flush()


def run(argv, env=None, cwd=None):
    """Runs argv; returns (exit status, stdout + stderr)."""
    p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return p.returncode, f"$ {' '.join(argv)}\n{p.stdout}"


def clean_env():
    """The environment without anything that could find the build tree."""
    env = dict(os.environ)
    for var in ("LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR",
                "PKG_CONFIG_SYSROOT_DIR", "PYTHONPATH", "XDG_DATA_DIRS"):
        env.pop(var, None)
    env["G_DEBUG"] = "fatal-criticals"
    return env


def build_options(meson, build_dir):
    out = subprocess.run([meson, "introspect", "--buildoptions", build_dir],
                         stdout=subprocess.PIPE, check=True, text=True).stdout
    return {o["name"]: o["value"] for o in json.loads(out)}


def preload_sanitizer(env, root_libdir):
    """A library built with -Db_sanitize=address needs ASan's runtime first in
    a program that is not: without it, a program built here against the
    install stops at start ("ASan runtime does not come first in initial
    library list"). LD_PRELOAD is the remedy ASan's message names; leak
    reports of the test programs are not this test's business."""
    lib = os.path.join(root_libdir, "libane-glib-1.0.so")
    try:
        out = subprocess.run(["ldd", lib], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
    except OSError:
        return
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libasan.so") and len(parts) >= 3 and parts[1] == "=>":
            env["LD_PRELOAD"] = parts[2]
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
            return


def under(destdir, path):
    """An absolute install path, moved under destdir."""
    return os.path.join(destdir, os.path.relpath(path, "/"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--meson", default="meson")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--pkg-config", default="pkg-config")
    ap.add_argument("--python", default="", help="a Python with PyGObject; empty: no Python part")
    ap.add_argument("--valac", default="", help="empty: no Vala part")
    ap.add_argument("--reuse", default="", help="check this DESTDIR instead of installing")
    args = ap.parse_args()

    opts = build_options(args.meson, args.build_dir)
    prefix = opts["prefix"]
    libdir = os.path.join(prefix, opts["libdir"])
    datadir = os.path.join(prefix, opts["datadir"])

    tmp = tempfile.mkdtemp(prefix="ane-install-")
    try:
        destdir = args.reuse or os.path.join(tmp, "root")
        if not args.reuse:
            status, log = run([args.meson, "install", "-C", args.build_dir, "--destdir", destdir,
                               "--no-rebuild", "--quiet"])
            report(status == 0, "meson install --destdir", log if status else "")
            if status != 0:
                return 1
        root_prefix = under(destdir, prefix)
        root_libdir = under(destdir, libdir)

        env = clean_env()
        env["LD_LIBRARY_PATH"] = root_libdir
        preload_sanitizer(env, root_libdir)
        env["PKG_CONFIG_PATH"] = relocated_pc_dir(tmp, root_libdir, prefix, root_prefix)

        check_c(args, env, tmp, destdir)
        check_python(args, env, destdir, root_prefix, root_libdir)
        check_vala(args, env, tmp, under(destdir, datadir))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


def relocated_pc_dir(tmp, root_libdir, prefix, root_prefix):
    pc = os.path.join(root_libdir, "pkgconfig", PC_NAME + ".pc")
    pc_dir = os.path.join(tmp, "pkgconfig")
    os.makedirs(pc_dir)
    if not os.path.exists(pc):
        report(False, f"{PC_NAME}.pc installed", f"{pc} does not exist")
        return pc_dir
    with open(pc) as f:
        lines = f.read().splitlines()
    moved = [f"prefix={root_prefix}" if line == f"prefix={prefix}" else line for line in lines]
    report(moved != lines, f"{PC_NAME}.pc installed with prefix={prefix}",
           "" if moved != lines else "\n".join(lines))
    with open(os.path.join(pc_dir, PC_NAME + ".pc"), "w") as f:
        f.write("\n".join(moved) + "\n")
    return pc_dir


def check_c(args, env, tmp, destdir):
    status, flags_log = run([args.pkg_config, "--cflags", "--libs", PC_NAME], env=env)
    if status != 0:
        report(False, "pkg-config --cflags --libs " + PC_NAME, flags_log)
        return
    flags = flags_log.splitlines()[1].split()
    exe = os.path.join(tmp, "install-check")
    status, log = run(args.cc.split() + [os.path.join(HERE, "install-check.c"), "-o", exe] + flags + ["-lm"],
                      env=env)
    report(status == 0, "C program builds against the install (pkg-config)", log if status else "")
    if status == 0:
        status, log = run([exe], env=env)
        lib = next((line.split(" ", 1)[1] for line in log.splitlines() if line.startswith("library ")), "")
        from_install = os.path.realpath(lib).startswith(os.path.realpath(destdir) + os.sep)
        report(status == 0 and from_install, "C program runs with the installed library",
               log + ("" if from_install else f"library not from {destdir}\n"))

    # ANE_AVAILABLE_IN_0_2 against ANE_VERSION_MAX_ALLOWED: a program that
    # asks for the 0.1 API is warned about 0.2 symbols; without it, no warning.
    src = os.path.join(HERE, "too-new-api.c")
    obj = os.path.join(tmp, "too-new-api.o")
    cflags = [f for f in flags if not f.startswith(("-l", "-L"))]
    strict = ["-Werror=deprecated-declarations", "-c", src, "-o", obj] + cflags
    status_ok, log_ok = run(args.cc.split() + strict, env=env)
    status_old, log_old = run(args.cc.split() + ["-DANE_VERSION_MAX_ALLOWED=ANE_VERSION_0_1"] + strict, env=env)
    report(status_ok == 0 and status_old != 0 and "ane_get_major_version" in log_old,
           "ANE_VERSION_MAX_ALLOWED=ANE_VERSION_0_1 flags 0.2 API, the default does not",
           log_ok + log_old)


def check_python(args, env, destdir, root_prefix, root_libdir):
    if not args.python:
        return
    env = dict(env)
    env["GI_TYPELIB_PATH"] = os.path.join(root_libdir, "girepository-1.0")
    overrides = sorted(glob.glob(os.path.join(root_prefix, "**", "gi", "overrides", "Ane.py"), recursive=True))
    argv = [args.python, os.path.join(HERE, "install-check.py"), destdir]
    if not overrides:
        # python/meson.build installs them whenever the typelib is built
        report(False, "the Python overrides gi/overrides/Ane.py are installed", "")
        return
    if overrides:
        # gi.overrides extends its __path__ over sys.path (pkgutil), so the
        # directory holding gi/overrides/Ane.py goes on PYTHONPATH.
        env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.dirname(overrides[0])))
        argv.append(overrides[0])
    status, log = run(argv, env=env)
    what = "Python (PyGObject) uses the installed typelib and library"
    report(status == 0, what + (" and overrides" if overrides else " (no overrides installed)"), log)


def check_vala(args, env, tmp, root_datadir):
    if not args.valac:
        return
    vapidir = os.path.join(root_datadir, "vala", "vapi")
    exe = os.path.join(tmp, "install-check-vala")
    # No --pkg gio-2.0: the installed ane-glib-1.0.deps must bring it.
    status, log = run([args.valac, "--vapidir", vapidir, "--pkg", PC_NAME,
                       "-X", "-w", "-X", "-lm", "-o", exe, os.path.join(HERE, "install-check.vala")],
                      env=dict(env, TMPDIR=tmp), cwd=tmp)
    report(status == 0, "Vala program builds against the installed vapi", log if status else "")
    if status == 0:
        status, log = run([exe], env=env)
        report(status == 0, "Vala program runs with the installed library", log)


if __name__ == "__main__":
    sys.exit(main())
