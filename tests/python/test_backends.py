"""Backends from Python: compute units, the Apple backends' errors off Apple,
AUTO's report, and params bound on an executable, checked against numpy."""

import os
import platform
import re
import sys
import unittest

from anetest import Ane, GLib, np, to_tensor, to_numpy

APPLE = platform.system() == "Darwin"


def scale_graph(w=None):
    """y = x * w + b with w a param (bound in the graph when given) and b bound."""
    g = Ane.Graph.new()
    x = g.input("x", Ane.DType.FLOAT32, [2, 3])
    wp = g.param("w", Ane.DType.FLOAT32, [2, 3])
    b = g.param_with_value(to_tensor("b", np.full((2, 3), 0.5, np.float32)))
    g.add_output("y", g.add(g.mul(x, wp), b))
    if w is not None:
        g.bind_param("w", to_tensor("w", w))
    return g


class ComputeUnitsTest(unittest.TestCase):
    def test_values(self):
        self.assertEqual([int(Ane.ComputeUnits.ALL), int(Ane.ComputeUnits.CPU_ONLY),
                          int(Ane.ComputeUnits.CPU_AND_GPU), int(Ane.ComputeUnits.CPU_AND_NE)],
                         [0, 1, 2, 3])

    def test_set_on_any_backend(self):
        exe = Ane.Executable.new(scale_graph(np.ones((2, 3), np.float32)), Ane.Backend.CPU)
        exe.set_compute_units(Ane.ComputeUnits.CPU_AND_NE)   # ignored by the CPU backend
        exe.compile(None)
        y = exe.run_one(to_tensor("x", np.ones((2, 3), np.float32)))
        np.testing.assert_array_equal(to_numpy(y), np.full((2, 3), 1.5, np.float32))


@unittest.skipIf(APPLE, "checks what a non-Apple platform says")
class AppleBackendsOffAppleTest(unittest.TestCase):
    def compile_error(self, backend):
        exe = Ane.Executable.new(scale_graph(np.ones((2, 3), np.float32)), backend)
        with self.assertRaises(GLib.Error) as cm:
            exe.compile(None)
        self.assertFalse(exe.is_compiled())
        return cm.exception

    def test_coreml(self):
        e = self.compile_error(Ane.Backend.COREML)
        self.assertEqual(e.domain, "ane-error-quark")
        self.assertEqual(e.code, int(Ane.Error.UNSUPPORTED))
        self.assertIn("backend 'coreml': CoreML.framework is only available on Apple platforms", e.message)

    def test_ane(self):
        e = self.compile_error(Ane.Backend.ANE)
        self.assertEqual(e.code, int(Ane.Error.UNSUPPORTED))
        self.assertIn("backend 'ane': ", e.message)
        self.assertIn("AppleNeuralEngine.framework", e.message)

    def test_auto_report(self):
        w = np.arange(6, dtype=np.float32).reshape(2, 3)
        x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
        exe = Ane.Executable.new(scale_graph(w), Ane.Backend.AUTO)
        self.assertEqual(exe.dup_backend_report(), "")
        exe.compile(None)
        self.assertEqual(exe.get_backend(), Ane.Backend.CPU)
        lines = exe.dup_backend_report().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertRegex(lines[0], r"^ane: passed over: .+")
        self.assertRegex(lines[1], r"^coreml: passed over: .+")
        self.assertEqual(lines[2], "cpu: selected")
        y = exe.run_one(to_tensor("x", x))
        # default precision float16: the program rounds x, w, x*w and the sum
        f16 = lambda a: a.astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(to_numpy(y), f16(f16(f16(x) * f16(w)) + np.float32(0.5)))


CONFORMANCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "conformance")


class PackageBackendsTest(unittest.TestCase):
    """Apple-written packages on a chosen backend (new_from_package_full)."""

    def setUp(self):
        self.package = Ane.Package.load(os.path.join(CONFORMANCE, "mlp_fp32", "model.mlpackage"))

    def test_auto_runs_like_cpu(self):
        cpu = Ane.Executable.new_from_package(self.package, None)
        auto = Ane.Executable.new_from_package_full(self.package, None, Ane.Backend.AUTO)
        self.assertTrue(auto.is_compiled())
        report = auto.dup_backend_report().splitlines()
        self.assertRegex(report[0], r"^ane: passed over: the Neural Engine's in-memory path runs graphs")
        if not APPLE:
            self.assertEqual(auto.get_backend(), Ane.Backend.CPU)
            self.assertRegex(report[1], r"^coreml: passed over: CoreML.framework is only available")
            self.assertEqual(report[2], "cpu: selected")
        x = np.random.default_rng(1).standard_normal(
            tuple(self.package.list_inputs(None)[0].get_shape())).astype(np.float32)
        a = to_numpy(cpu.run([to_tensor(self.package.list_inputs(None)[0].get_name(), x)], None)[0])
        b = to_numpy(auto.run([to_tensor(self.package.list_inputs(None)[0].get_name(), x)], None)[0])
        if auto.get_backend() == Ane.Backend.CPU:
            np.testing.assert_array_equal(a, b)

    def test_refused_backends(self):
        for backend, words in ((Ane.Backend.ANE, "runs graphs ane-glib lowers"),
                               (Ane.Backend.REFERENCE, "evaluates graphs")):
            with self.assertRaises(GLib.Error) as cm:
                Ane.Executable.new_from_package_full(self.package, None, backend)
            self.assertEqual(cm.exception.code, int(Ane.Error.UNSUPPORTED))
            self.assertIn(words, cm.exception.message)

    @unittest.skipIf(APPLE, "checks what a non-Apple platform says")
    def test_coreml_off_apple(self):
        with self.assertRaises(GLib.Error) as cm:
            Ane.Executable.new_from_package_full(self.package, None, Ane.Backend.COREML)
        self.assertIn("backend 'coreml': CoreML.framework is only available", cm.exception.message)


class BoundParamsTest(unittest.TestCase):
    """A value bound on the executable replaces the graph's, on every backend."""

    def test_override(self):
        rng = np.random.default_rng(4)
        w_graph = rng.standard_normal((2, 3)).astype(np.float32)
        w_exe = rng.standard_normal((2, 3)).astype(np.float32)
        b_exe = rng.standard_normal((2, 3)).astype(np.float32)
        x = rng.standard_normal((2, 3)).astype(np.float32)
        for backend in (Ane.Backend.REFERENCE, Ane.Backend.CPU):
            exe = Ane.Executable.new(scale_graph(w_graph), backend)
            exe.set_precision(Ane.Precision.FLOAT32)
            exe.compile(None)
            exe.set_param("w", to_tensor("w", w_exe))
            exe.set_param("b", to_tensor("b", b_exe))
            y = to_numpy(exe.run_one(to_tensor("x", x)))
            np.testing.assert_allclose(y, x * w_exe + b_exe, rtol=1e-6, atol=1e-6, err_msg=str(backend))


class MilDialectTest(unittest.TestCase):
    """The buildInfo of the MIL text the ANE backend compiles, from Python."""

    VERIFIED = ['coremlc-component-MIL', 'coremlc-version', 'coremltools-component-milinternal',
                'coremltools-version', 'ane-glib-version']

    def test_defaults_and_setters(self):
        d = Ane.MilDialect.new()
        self.assertEqual(d.dup_build_info_keys(), self.VERIFIED)
        self.assertEqual(d.get_build_info("coremlc-component-MIL"), "3510.2.1")
        self.assertEqual(d.get_build_info("coremlc-version"), "3505.4.1")
        self.assertEqual(d.get_build_info("coremltools-component-milinternal"), "")
        self.assertEqual(d.get_build_info("coremltools-version"), "9.0")
        self.assertIsNone(d.get_build_info("nope"))
        self.assertTrue(d.set_build_info("coremlc-version", "3520.5.1"))
        self.assertTrue(d.set_build_info("coremltools-component-milinternal", None))
        self.assertTrue(d.parse_assignment("note=from python"))
        self.assertEqual(d.dup_build_info_keys(),
                         ['coremlc-component-MIL', 'coremlc-version', 'coremltools-version',
                          'ane-glib-version', 'note'])
        c = d.copy()
        c.set_build_info("note", "copy")
        self.assertEqual(d.get_build_info("note"), "from python")
        self.assertEqual(Ane.MilDialect.new_empty().dup_build_info_keys(), [])
        with self.assertRaises(GLib.Error) as cm:
            d.set_build_info("", "x")
        self.assertEqual(cm.exception.code, int(Ane.Error.INVALID_ARGUMENT))
        self.assertIn("key is empty", cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            d.set_build_info("coremlc-version", "two\nlines")
        self.assertIn("'coremlc-version'", cm.exception.message)

    def test_package_text(self):
        pkg = Ane.Package.new_from_graph(scale_graph(np.ones((2, 3), np.float32)),
                                         Ane.Target.IOS18, Ane.Precision.FLOAT16)
        own = pkg.to_mil_text()
        self.assertNotIn("coremlc", own)
        d = Ane.MilDialect.new()
        d.set_build_info("coremlc-version", "3520.5.1")
        text = pkg.to_mil_text_for_dialect(d)
        head = text.split("\n")
        self.assertEqual(head[0], "program(1.3)")
        self.assertTrue(head[1].startswith(
            '[buildInfo = dict<string, string>({{"coremlc-component-MIL", "3510.2.1"}, '
            '{"coremlc-version", "3520.5.1"}, {"coremltools-component-milinternal", ""}, '
            '{"coremltools-version", "9.0"}'), head[1])
        self.assertTrue(head[3].startswith("    func main<ios18>("), head[3])
        self.assertEqual(pkg.to_mil_text_for_dialect(None), own)
        self.assertEqual(pkg.to_mil_text(), own)   # the package is unchanged

    def test_executable(self):
        exe = Ane.Executable.new(scale_graph(np.ones((2, 3), np.float32)), Ane.Backend.ANE)
        self.assertEqual(exe.dup_mil_dialect().dup_build_info_keys(), self.VERIFIED)
        d = Ane.MilDialect.new()
        d.set_build_info("coremlc-version", "3520.5.1")
        exe.set_mil_dialect(d)
        d.set_build_info("coremlc-version", "later")      # the executable kept a copy
        self.assertEqual(exe.dup_mil_dialect().get_build_info("coremlc-version"), "3520.5.1")
        exe.set_mil_dialect(None)
        self.assertEqual(exe.dup_mil_dialect().get_build_info("coremlc-version"), "3505.4.1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
