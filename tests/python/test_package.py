#!/usr/bin/python3
# test_package.py: making, saving and reloading packages from Python
#
# A graph built with the Ane.Graph methods is lowered with
# Ane.Package.new_from_graph, inspected in memory, saved to a temporary
# directory and loaded back. weight.bin is parsed here with numpy
# (MIL Blob Storage v2: a 64-byte header, then per blob a 64-byte record
# and the data, 64-byte aligned), independently of the C reader.
#
# SPDX-License-Identifier: MIT

import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np, to_tensor  # noqa: E402

F32 = Ane.DType.FLOAT32
SENTINEL = 0xDEADBEEF
BLOB_FLOAT16 = 1
BLOB_FLOAT32 = 2


def read_blobs(path):
    """The (data type, bytes) of every blob of a weight file, in file order."""
    with open(path, "rb") as f:
        raw = f.read()
    count, version = struct.unpack_from("<II", raw, 0)
    assert version == 2, version
    blobs = []
    offset = 64
    for _ in range(count):
        offset = (offset + 63) // 64 * 64
        sentinel, dtype, size, data_offset = struct.unpack_from("<IIQQ", raw, offset)
        assert sentinel == SENTINEL, hex(sentinel)
        assert data_offset == offset + 64
        blobs.append((dtype, raw[data_offset:data_offset + size]))
        offset = data_offset + size
    assert offset == len(raw), (offset, len(raw))
    return blobs


class PackageTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ane-package-")
        self.rng = np.random.default_rng(1234)
        self.weights = {
            "w1": self.rng.standard_normal((64, 48)).astype(np.float32),
            "b1": self.rng.standard_normal((48,)).astype(np.float32),
            "w2": self.rng.standard_normal((48, 32)).astype(np.float32),
        }

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def mlp(self, bind_w2=True):
        g = Ane.Graph.new()
        x = g.input("x", F32, [2, 64])
        w1 = g.param_with_value(to_tensor("w1", self.weights["w1"]))
        b1 = g.param_with_value(to_tensor("b1", self.weights["b1"]))
        if bind_w2:
            w2 = g.param_with_value(to_tensor("w2", self.weights["w2"]))
        else:
            w2 = g.param("w2", F32, [48, 32])
        h = g.relu(g.add(g.matmul(x, w1, False, False), b1))
        g.add_output("probs", g.softmax(g.matmul(h, w2, False, False), -1))
        return g

    def assertSameDescription(self, a, b):
        self.assertEqual(a.get_specification_version(), b.get_specification_version())
        self.assertEqual(a.list_functions(), b.list_functions())
        self.assertEqual(a.get_default_function(), b.get_default_function())
        self.assertEqual(a.get_weight_bytes(), b.get_weight_bytes())
        self.assertEqual(a.dup_metadata(), b.dup_metadata())
        for fn in a.list_functions():
            self.assertEqual(a.get_opset(fn), b.get_opset(fn))
            for lister in ("list_inputs", "list_outputs", "list_states"):
                self.assertEqual([t.to_string() for t in getattr(a, lister)(fn)],
                                 [t.to_string() for t in getattr(b, lister)(fn)])
            self.assertEqual(a.op_histogram(fn), b.op_histogram(fn))

    def test_inspect_in_memory(self):
        pkg = Ane.Package.new_from_graph(self.mlp(), Ane.Target.IOS17, Ane.Precision.FLOAT16)
        self.assertIsNone(pkg.get_path())
        self.assertEqual(pkg.get_specification_version(), 8)
        self.assertEqual(pkg.props.specification_version, 8)
        self.assertEqual(pkg.list_functions(), ["main"])
        self.assertEqual(pkg.get_opset(None), "CoreML7")
        inputs = pkg.list_inputs(None)
        self.assertEqual([(t.get_name(), t.get_dtype(), list(t.get_shape())) for t in inputs],
                         [("x", F32, [2, 64])])
        outputs = pkg.list_outputs(None)
        self.assertEqual([(t.get_name(), list(t.get_shape())) for t in outputs], [("probs", [2, 32])])
        self.assertEqual(pkg.list_states(None), [])
        hist = pkg.op_histogram(None)
        self.assertEqual(hist["softmax"], 1)
        # a package takes the Neural Engine profile: its linears are 1x1 convs
        self.assertEqual(hist["conv"], 2)
        self.assertNotIn("matmul", hist)
        self.assertEqual(pkg.get_weight_bytes(), sum(w.size for w in self.weights.values()) * 2)
        metadata = pkg.dup_metadata()
        self.assertEqual(metadata["com.github.ane-glib.target"], "ios17")
        self.assertEqual(metadata["com.github.ane-glib.precision"], "float16")
        self.assertTrue(pkg.check_limits())
        self.assertEqual(pkg.dup_warnings(), [])
        self.assertIn("function main [CoreML7]", pkg.to_string())

    def generic(self, target, precision):
        # weight.bin read against the graph's weights in their own layout:
        # lowered generically (the Neural Engine profile stores a [K, N]
        # linear weight as its [N, K, 1, 1] conv kernel)
        return Ane.Package.new_from_graph_with_lowering(self.mlp(), target, precision,
                                                        Ane.Lowering.GENERIC, None)

    def test_save_and_reload(self):
        pkg = self.generic(Ane.Target.MACOS14, Ane.Precision.FLOAT16)
        path = self.path("mlp.mlpackage")
        self.assertTrue(pkg.save(path, False))
        self.assertEqual(sorted(os.listdir(path)), ["Data", "Manifest.json"])
        loaded = Ane.Package.load(path)
        self.assertEqual(loaded.get_path(), path)
        self.assertSameDescription(pkg, loaded)

        blobs = read_blobs(os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin"))
        self.assertEqual(len(blobs), 3)
        for (dtype, data), name in zip(blobs, ["w1", "b1", "w2"]):
            self.assertEqual(dtype, BLOB_FLOAT16)
            want = self.weights[name].astype(np.float16).ravel()
            np.testing.assert_array_equal(np.frombuffer(data, np.float16), want)

    def test_fp32_weights_stored_as_they_are(self):
        pkg = self.generic(Ane.Target.IOS16, Ane.Precision.FLOAT32)
        path = self.path("mlp32.mlpackage")
        pkg.save(path, False)
        blobs = read_blobs(os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin"))
        for (dtype, data), name in zip(blobs, ["w1", "b1", "w2"]):
            self.assertEqual(dtype, BLOB_FLOAT32)
            self.assertEqual(data, self.weights[name].tobytes())
        self.assertSameDescription(pkg, Ane.Package.load(path))

    def test_param_bound_later(self):
        g = self.mlp(bind_w2=False)
        pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS17, Ane.Precision.FLOAT16)
        path = self.path("late.mlpackage")
        with self.assertRaises(GLib.Error) as ctx:
            pkg.save(path, False)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.MISSING_PARAM))
        self.assertIn("'w2'", ctx.exception.message)
        self.assertEqual(os.listdir(self.tmp.name), [])

        g.bind_param("w2", to_tensor("w2", self.weights["w2"]))
        pkg.save(path, False)
        blobs = read_blobs(os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin"))
        np.testing.assert_array_equal(np.frombuffer(blobs[2][1], np.float16),
                                      self.weights["w2"].astype(np.float16).ravel())

    def test_overwrite(self):
        path = self.path("m.mlpackage")
        g = self.mlp()
        Ane.Package.new_from_graph(g, Ane.Target.IOS16, Ane.Precision.FLOAT16).save(path, False)
        p18 = Ane.Package.new_from_graph(g, Ane.Target.IOS18, Ane.Precision.FLOAT16)
        with self.assertRaises(GLib.Error) as ctx:
            p18.save(path, False)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.IO))
        self.assertEqual(Ane.Package.load(path).get_specification_version(), 7)
        p18.save(path, True)
        self.assertEqual(Ane.Package.load(path).get_specification_version(), 9)
        self.assertEqual(os.listdir(self.tmp.name), ["m.mlpackage"])

    def test_save_async(self):
        pkg = Ane.Package.new_from_graph(self.mlp(), Ane.Target.IOS17, Ane.Precision.FLOAT16)
        path = self.path("async.mlpackage")
        loop = GLib.MainLoop()
        result = {}

        def done(source, res):
            result["ok"] = source.save_finish(res)
            loop.quit()

        pkg.save_async(path, False, None, done)
        loop.run()
        self.assertTrue(result["ok"])
        self.assertSameDescription(pkg, Ane.Package.load(path))

    def test_weights_too_large_for_the_neural_engine(self):
        # Unbound: planned, never allocated.
        g = Ane.Graph.new()
        x = g.input("x", F32, [1, 32768])
        w = g.param("w", F32, [32768, 32769])
        g.add_output("y", g.matmul(x, w, False, False))
        pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS17, Ane.Precision.FLOAT16)
        planned = 64 + 64 + 32768 * 32769 * 2
        warnings = pkg.dup_warnings()
        self.assertEqual(len(warnings), 1)
        self.assertIn(str(planned), warnings[0])
        with self.assertRaises(GLib.Error) as ctx:
            pkg.check_limits()
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.TOO_LARGE))
        self.assertIn("2147483648", ctx.exception.message)

    def test_lowering_errors(self):
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT16, [2, 3])
        g.add_output("y", g.relu(x))
        # float16 model inputs need iOS16.
        with self.assertRaises(GLib.Error) as ctx:
            Ane.Package.new_from_graph(g, Ane.Target.IOS15, Ane.Precision.FLOAT16)
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.UNSUPPORTED))
        pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS16, Ane.Precision.FLOAT16)
        self.assertEqual(pkg.list_inputs(None)[0].get_dtype(), Ane.DType.FLOAT16)


CONFORMANCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "conformance")

# add of two [2] tensors declared [3]: the loader infers [2]
BAD_MIL = """program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> a, tensor<fp32, [2]> b) {
        tensor<fp32, [3]> y = add(x = a, y = b)[name = string("y")];
        tensor<fp32, [3]> z = relu(x = y)[name = string("z")];
    } -> (z);
}
"""
BAD_MIL_PROBLEM = ("function main: MIL add 'y' at iOS18: output 'y' is declared tensor<fp32, [3]>, "
                   "but coremltools 9.0 infers tensor<fp32, [2]> (mil/ops/defs/iOS15/elementwise_binary.py)")


class CheckTypesTest(unittest.TestCase):
    """Ane.Package.check_types: a report, (problems, unchecked), so Python
    sees every line (a GError would drop the lists)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ane-check-")

    def tearDown(self):
        self.tmp.cleanup()

    def load_mil(self, text):
        path = os.path.join(self.tmp.name, "model.mil")
        with open(path, "w") as f:
            f.write(text)
        return Ane.Package.load_mil(path)

    def test_conformance_packages_agree(self):
        cases = sorted(d for d in os.listdir(CONFORMANCE)
                       if os.path.isdir(os.path.join(CONFORMANCE, d, "model.mlpackage")))
        self.assertEqual(len(cases), 11)
        for case in cases:
            with self.subTest(case=case):
                pkg = Ane.Package.load(os.path.join(CONFORMANCE, case, "model.mlpackage"))
                problems, unchecked = pkg.check_types()
                self.assertEqual(problems, [])
                self.assertIsInstance(unchecked, list)

    def test_package_from_graph_agrees(self):
        g = Ane.Graph.new()
        x = g.input("x", F32, [2, 8])
        g.add_output("y", g.softmax(g.relu(x), -1))
        pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS18, Ane.Precision.FLOAT16)
        self.assertEqual(tuple(pkg.check_types()), ([], []))

    def test_broken_mil_text_reported(self):
        pkg = self.load_mil(BAD_MIL)  # loading does not check
        problems, unchecked = pkg.check_types()
        # relu is given add's declared [3] and agrees: one problem only
        self.assertEqual(problems, [BAD_MIL_PROBLEM])
        self.assertEqual(unchecked, [])

    def test_two_problems_listed(self):
        pkg = self.load_mil(BAD_MIL.replace("tensor<fp32, [3]> z", "tensor<fp16, [3]> z"))
        problems, _ = pkg.check_types()
        self.assertEqual(len(problems), 2, problems)
        self.assertEqual(problems[0], BAD_MIL_PROBLEM)
        self.assertTrue(problems[1].startswith("function main: MIL relu 'z' at iOS18: output 'z' is "
                                               "declared tensor<fp16, [3]>, but coremltools 9.0 infers "
                                               "tensor<fp32, [3]>"), problems[1])

    def test_fixed_mil_text_agrees(self):
        pkg = self.load_mil(BAD_MIL.replace("[3]", "[2]"))
        self.assertEqual(tuple(pkg.check_types()), ([], []))


class MultifunctionTest(unittest.TestCase):
    """Ane.Package.new_from_graphs: several graphs, one package, one weight.bin."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ane-package-multifunction-")
        rng = np.random.default_rng(99)
        self.w = rng.standard_normal((256, 256)).astype(np.float32)
        self.bias = rng.standard_normal((256,)).astype(np.float32)
        self.scale = rng.standard_normal((256,)).astype(np.float32)

    def tearDown(self):
        self.tmp.cleanup()

    def linear(self, rows, own):
        g = Ane.Graph.new()
        x = g.input("x", F32, [rows, 256])
        h = g.matmul(x, g.param_with_value(to_tensor("w", self.w)), False, False)
        if own == "bias":
            y = g.add(h, g.param_with_value(to_tensor("bias", self.bias)))
        else:
            y = g.mul(h, g.param_with_value(to_tensor("scale", self.scale)))
        g.add_output("y", y)
        return g

    def test_two_functions_share_weights(self):
        prefill, decode = self.linear(4, "bias"), self.linear(1, "scale")
        # the introspected call: two lists
        pkg = Ane.Package.new_from_graphs(["prefill", "decode"], [prefill, decode],
                                          Ane.Target.IOS18, Ane.Precision.FLOAT32)
        self.assertEqual(pkg.list_functions(), ["prefill", "decode"])
        self.assertEqual(pkg.get_default_function(), "prefill")
        self.assertEqual(pkg.get_specification_version(), 9)
        # w once, bias and scale
        self.assertEqual(pkg.get_weight_bytes(), (256 * 256 + 256 + 256) * 4)
        self.assertEqual(tuple(pkg.check_types()), ([], []))

        path = os.path.join(self.tmp.name, "two.mlpackage")
        self.assertTrue(pkg.save(path, False))
        blobs = read_blobs(os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin"))
        self.assertEqual(len(blobs), 3)
        # w, [K, N], is stored once as the 1x1 conv kernel [N, K, 1, 1] both
        # functions' linears read (the Neural Engine profile)
        self.assertEqual(blobs[0][1], np.ascontiguousarray(self.w.T).tobytes())

        loaded = Ane.Package.load(path)
        self.assertEqual(loaded.list_functions(), ["prefill", "decode"])
        rng = np.random.default_rng(5)
        for name, graph, rows in (("prefill", prefill, 4), ("decode", decode, 1)):
            x = rng.standard_normal((rows, 256)).astype(np.float32)
            exe = Ane.Executable.new_from_package(loaded, name)
            exe.compile(None)
            got = list(exe.run({"x": x}).values())[0]
            alone = Ane.Executable.new(graph, Ane.Backend.CPU)
            alone.set_precision(Ane.Precision.FLOAT32)
            alone.compile(None)
            want = alone.run({"x": x})["y"]
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    def test_dict_of_functions(self):
        pkg = Ane.Package.new_from_graphs({"decode": self.linear(1, "scale"), "prefill": self.linear(4, "bias")},
                                          Ane.Target.MACOS15, Ane.Precision.FLOAT16)
        self.assertEqual(pkg.list_functions(), ["decode", "prefill"])
        self.assertEqual(pkg.get_default_function(), "decode")

    def test_errors(self):
        g = self.linear(1, "bias")
        with self.assertRaises(GLib.Error) as cm:
            Ane.Package.new_from_graphs([], [], Ane.Target.IOS18, Ane.Precision.FLOAT16)
        self.assertIn("at least one function", cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Ane.Package.new_from_graphs(["a", "a"], [g, g], Ane.Target.IOS18, Ane.Precision.FLOAT16)
        self.assertEqual(cm.exception.code, Ane.Error.INVALID_ARGUMENT)
        self.assertIn("'a' is named twice", cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Ane.Package.new_from_graphs({"a b": g}, Ane.Target.IOS18, Ane.Precision.FLOAT16)
        self.assertIn("function 'a b'", cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Ane.Package.new_from_graphs(["a", "b"], [g, g], Ane.Target.IOS17, Ane.Precision.FLOAT16)
        self.assertEqual(cm.exception.code, Ane.Error.UNSUPPORTED)
        with self.assertRaises(ValueError):
            Ane.Package.new_from_graphs(["a"], [g, g], Ane.Target.IOS18, Ane.Precision.FLOAT16)


if __name__ == "__main__":
    unittest.main(verbosity=2)
