"""Ane.ComputePlan and Ane.ComputeDevice from Python, and `ane-tool plan`
as a shell user sees it.

Off Apple there is no CoreML: the plan cannot be made, and the error must
say so plainly. The plan itself is tested against fake CoreML classes in
tests/coreml/test-coreml-plan.m."""

import os
import subprocess
import sys
import tempfile
import unittest

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane, GLib

TOOL = os.environ.get("ANE_TOOL")
APPLE = sys.platform == "darwin"
NO_PLAN = ("MLComputePlan needs CoreML.framework on macOS 14.4 / iOS 17.4 or later; "
           "this platform has none")


def write_package(path):
    g = Ane.Graph()
    x = g.input("x", Ane.DType.FLOAT32, [1, 8])
    g.add_output("y", g.relu(x))
    Ane.Package.new_from_graph(g, Ane.Target.IOS17, Ane.Precision.FLOAT16).save(path, False)


class FlagsTest(unittest.TestCase):
    def test_device_values(self):
        self.assertEqual(int(Ane.ComputeDevice.NONE), 0)
        self.assertEqual(int(Ane.ComputeDevice.CPU), 1)
        self.assertEqual(int(Ane.ComputeDevice.GPU), 2)
        self.assertEqual(int(Ane.ComputeDevice.NEURAL_ENGINE), 4)
        both = Ane.ComputeDevice.CPU | Ane.ComputeDevice.NEURAL_ENGINE
        self.assertIsInstance(both, Ane.ComputeDevice)
        self.assertTrue(both & Ane.ComputeDevice.NEURAL_ENGINE)
        self.assertFalse(both & Ane.ComputeDevice.GPU)

    def test_compute_units(self):
        self.assertEqual(int(Ane.ComputeUnits.ALL), 0)
        self.assertEqual(int(Ane.ComputeUnits.CPU_AND_NE), 3)

    def test_class(self):
        self.assertTrue(Ane.ComputePlan.__gtype__.is_a(Ane.ComputePlan.__gtype__.parent))
        names = {p.name for p in Ane.ComputePlan.list_properties()}
        self.assertEqual(names, {"compute-units", "n-operations"})


class ComputePlanTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.package = os.path.join(self.dir.name, "relu.mlpackage")
        write_package(self.package)

    def tearDown(self):
        self.dir.cleanup()

    def test_missing_path(self):
        missing = os.path.join(self.dir.name, "missing.mlpackage")
        with self.assertRaises(GLib.Error) as ctx:
            Ane.ComputePlan.new_for_package(missing, Ane.ComputeUnits.ALL, None)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.NOT_FOUND))
        self.assertIn(missing, ctx.exception.message)

    def test_not_a_model(self):
        with self.assertRaises(GLib.Error) as ctx:
            Ane.ComputePlan.new_for_package(self.dir.name, Ane.ComputeUnits.ALL, None)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.INVALID_ARGUMENT))
        self.assertIn(self.dir.name, ctx.exception.message)

    @unittest.skipIf(APPLE, "on Apple platforms CoreML may make the plan")
    def test_unsupported(self):
        with self.assertRaises(GLib.Error) as ctx:
            Ane.ComputePlan.new_for_package(self.package, Ane.ComputeUnits.CPU_AND_NE, None)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.UNSUPPORTED))
        self.assertIn(NO_PLAN, ctx.exception.message)
        self.assertIn(self.package, ctx.exception.message)

    @unittest.skipIf(APPLE, "on Apple platforms CoreML may make the plan")
    def test_unsupported_async(self):
        loop = GLib.MainLoop()
        outcome = {}

        def done(source, result):
            try:
                Ane.ComputePlan.new_for_package_finish(result)
            except GLib.Error as e:
                outcome["error"] = e
            loop.quit()

        Ane.ComputePlan.new_for_package_async(self.package, Ane.ComputeUnits.ALL, None, done)
        loop.run()
        self.assertTrue(outcome["error"].matches(Ane.error_quark(), Ane.Error.UNSUPPORTED))
        self.assertIn(NO_PLAN, outcome["error"].message)


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class PlanToolTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.package = os.path.join(self.dir.name, "relu.mlpackage")
        write_package(self.package)

    def tearDown(self):
        self.dir.cleanup()

    def tool(self, *args):
        return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)

    def test_help(self):
        r = self.tool("plan", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--compute-units", r.stdout)
        self.assertIn("MLComputePlan", r.stdout)
        self.assertIn("plan", self.tool("--help").stdout)

    def test_usage(self):
        self.assertEqual(self.tool("plan").returncode, 2)
        self.assertEqual(self.tool("plan", self.package, "extra").returncode, 2)
        r = self.tool("plan", self.package, "--compute-units", "gpu")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'gpu'", r.stderr)

    def test_missing(self):
        missing = os.path.join(self.dir.name, "missing.mlpackage")
        r = self.tool("plan", missing)
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr)
        self.assertEqual(r.stdout, "")

    @unittest.skipIf(APPLE, "on Apple platforms CoreML may make the plan")
    def test_unsupported(self):
        for units in ("all", "cpu", "cpu-gpu", "cpu-ne"):
            r = self.tool("plan", self.package, "--compute-units", units)
            self.assertEqual(r.returncode, 1, units)
            self.assertTrue(r.stderr.startswith("ane-tool plan: "), r.stderr)
            self.assertIn(NO_PLAN, r.stderr)
            self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
