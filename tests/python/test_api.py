#!/usr/bin/python3
# test_api.py: the public API polish of issue 12 seen from Python: the
# version getters, GObject properties (with notify) on Ane.Executable and
# Ane.Package, and the _async/_finish forms of Ane.Package's long calls run
# from a GLib.MainLoop.
#
# SPDX-License-Identifier: MIT

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np, to_tensor  # noqa: E402
from gi.repository import Gio, GObject  # noqa: E402

F32 = Ane.DType.FLOAT32


def mlp():
    rng = np.random.default_rng(7)
    g = Ane.Graph.new()
    x = g.input("x", F32, [2, 16])
    w = g.param_with_value(to_tensor("w", rng.standard_normal((16, 8)).astype(np.float32)))
    g.add_output("y", g.relu(g.matmul(x, w, False, False)))
    return g


class AsyncCall:
    """Runs one _async call in a GLib.MainLoop and finishes it in the callback."""

    def __init__(self, finish):
        self.finish = finish
        self.loop = GLib.MainLoop()
        self.value = None
        self.error = None

    def callback(self, source, result, *user_data):
        try:
            if source is None:
                self.value = self.finish(result)
            else:
                self.value = self.finish(source, result)
        except GLib.Error as e:
            self.error = e
        finally:
            self.loop.quit()

    def run(self, start):
        start(self.callback)
        # A callback that never comes fails the test instead of hanging it.
        timeout = GLib.timeout_add_seconds(60, self.loop.quit)
        self.loop.run()
        GLib.source_remove(timeout)
        if self.error is not None:
            raise self.error
        return self.value


def cancelled():
    c = Gio.Cancellable()
    c.cancel()
    return c


class VersionTest(unittest.TestCase):
    def test_getters_match_constants(self):
        self.assertEqual(Ane.get_major_version(), Ane.MAJOR_VERSION)
        self.assertEqual(Ane.get_minor_version(), Ane.MINOR_VERSION)
        self.assertEqual(Ane.get_micro_version(), Ane.MICRO_VERSION)
        # The API of issue 12 is in 0.2: the library cannot be older.
        self.assertGreaterEqual((Ane.get_major_version(), Ane.get_minor_version()), (0, 2))


class PropertiesTest(unittest.TestCase):
    def test_executable(self):
        exe = Ane.Executable.new(mlp(), Ane.Backend.CPU)
        self.assertEqual(exe.props.backend, Ane.Backend.CPU)
        self.assertEqual(exe.props.target, Ane.Target.IOS18)
        self.assertEqual(exe.props.precision, Ane.Precision.FLOAT16)
        self.assertEqual(exe.props.compute_units, Ane.ComputeUnits.ALL)
        self.assertEqual(exe.props.memory_budget, exe.get_memory_budget())

        seen = []
        exe.connect("notify", lambda obj, pspec: seen.append(pspec.name))
        exe.props.target = Ane.Target.IOS18          # unchanged: no notify
        exe.set_precision(Ane.Precision.FLOAT16)     # unchanged: no notify
        self.assertEqual(seen, [])
        exe.props.target = Ane.Target.IOS16
        exe.props.precision = Ane.Precision.FLOAT32
        exe.set_compute_units(Ane.ComputeUnits.CPU_ONLY)
        exe.props.memory_budget = 12345
        self.assertEqual(seen, ["target", "precision", "compute-units", "memory-budget"])
        self.assertEqual(exe.get_target(), Ane.Target.IOS16)
        self.assertEqual(exe.get_precision(), Ane.Precision.FLOAT32)
        self.assertEqual(exe.get_compute_units(), Ane.ComputeUnits.CPU_ONLY)
        self.assertEqual(exe.get_memory_budget(), 12345)

        # backend is construct-only: set through the constructor's keywords.
        pspec = Ane.Executable.find_property("backend")
        self.assertTrue(pspec.flags & GObject.ParamFlags.CONSTRUCT_ONLY)
        self.assertEqual(Ane.Executable(backend=Ane.Backend.REFERENCE).get_backend(), Ane.Backend.REFERENCE)

    def test_package(self):
        pkg = Ane.Package.new_from_graph(mlp(), Ane.Target.IOS17, Ane.Precision.FLOAT16)
        self.assertEqual(pkg.props.functions, pkg.list_functions())
        self.assertEqual(pkg.props.functions, ["main"])
        self.assertEqual(pkg.props.weight_bytes, pkg.get_weight_bytes())
        self.assertEqual(pkg.props.weight_bytes, 16 * 8 * 2)
        self.assertIsNone(pkg.props.path)


class AsyncTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ane-api-")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def new_from_graph(self, graph, cancellable=None):
        call = AsyncCall(Ane.Package.new_from_graph_finish)
        return call.run(lambda cb: Ane.Package.new_from_graph_async(
            graph, Ane.Target.IOS17, Ane.Precision.FLOAT16, cancellable, cb))

    def load(self, path, cancellable=None):
        call = AsyncCall(Ane.Package.load_finish)
        return call.run(lambda cb: Ane.Package.load_async(path, cancellable, cb))

    def save(self, pkg, path, cancellable=None):
        call = AsyncCall(Ane.Package.save_finish)
        return call.run(lambda cb: pkg.save_async(path, False, cancellable, cb))

    def test_equal_to_sync(self):
        graph = mlp()
        sync = Ane.Package.new_from_graph(graph, Ane.Target.IOS17, Ane.Precision.FLOAT16)
        pkg = self.new_from_graph(graph)
        self.assertIsInstance(pkg, Ane.Package)
        self.assertEqual(pkg.to_mil_text(), sync.to_mil_text())
        self.assertEqual(pkg.get_weight_bytes(), sync.get_weight_bytes())

        path = self.path("mlp.mlpackage")
        self.assertTrue(self.save(pkg, path))
        loaded = self.load(path)
        self.assertEqual(loaded.get_path(), path)
        self.assertEqual(loaded.to_string(), Ane.Package.load(path).to_string())

        x = np.arange(32, dtype=np.float32).reshape(2, 16) / 32
        exe = Ane.Executable.new_from_package(loaded, None)
        y = exe.run_one(to_tensor("x", x))
        self.assertEqual(list(y.get_shape()), [2, 8])

    def test_errors_are_the_sync_ones(self):
        with self.assertRaises(GLib.Error) as sync:
            Ane.Package.load(self.path("missing.mlpackage"))
        with self.assertRaises(GLib.Error) as async_:
            self.load(self.path("missing.mlpackage"))
        self.assertEqual((async_.exception.domain, async_.exception.code, async_.exception.message),
                         (sync.exception.domain, sync.exception.code, sync.exception.message))
        self.assertTrue(async_.exception.matches(Ane.error_quark(), Ane.Error.NOT_FOUND))

    def test_cancelled(self):
        graph = mlp()
        with self.assertRaises(GLib.Error) as e:
            self.new_from_graph(graph, cancelled())
        self.assertTrue(e.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))

        pkg = Ane.Package.new_from_graph(graph, Ane.Target.IOS17, Ane.Precision.FLOAT16)
        path = self.path("mlp.mlpackage")
        with self.assertRaises(GLib.Error) as e:
            self.save(pkg, path, cancelled())
        self.assertTrue(e.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertFalse(os.path.exists(path))

        self.assertTrue(pkg.save(path, False))
        with self.assertRaises(GLib.Error) as e:
            self.load(path, cancelled())
        self.assertTrue(e.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))


if __name__ == "__main__":
    unittest.main(verbosity=2)
