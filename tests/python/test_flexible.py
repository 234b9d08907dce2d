#!/usr/bin/python3
# test_flexible.py: flexible input shapes from Python
#
# A graph with a range on one axis and one with enumerated shapes, run on
# the CPU backend at several shapes against numpy; the package written from
# the enumerated one keeps its shapes through disk; an ONNX model imported
# with a flexible length (input_ranges=) runs at other lengths; and
# `ane-tool convert --input-range` writes a flexible package.
#
# SPDX-License-Identifier: MIT

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402

F32 = Ane.DType.FLOAT32
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DET = os.path.join(ROOT, "tests", "data", "onnx", "models", "ppocrv4_det.onnx")
TOOL = os.environ.get("ANE_TOOL")

RNG = np.random.default_rng(7)
W = (RNG.standard_normal((8, 5)) * 0.4).astype(np.float32)


def graph(seq):
    """y = tanh(x @ W) over x [1, seq, 8]."""
    g = Ane.Graph()
    x = g.input("x", F32, [1, seq, 8])
    w = g.param("w", W)
    g.add_output("y", g.tanh(g.matmul(x, w, False, False)))
    return g


def expected(x):
    return np.tanh(x @ W)


class Flexible(unittest.TestCase):

    def test_range(self):
        g = graph(4)
        g.set_input_range("x", 1, 1, 32)
        exe = g.compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        for seq in (4, 1, 9, 32, 9):
            x = RNG.standard_normal((1, seq, 8)).astype(np.float32)
            y = exe.run({"x": x})["y"]
            self.assertEqual(y.shape, (1, seq, 5))
            np.testing.assert_allclose(y, expected(x), rtol=1e-5, atol=1e-6)
        with self.assertRaises(GLib.Error) as cm:
            exe.run({"x": np.zeros((1, 33, 8), np.float32)})
        self.assertIn("axis 1", cm.exception.message)
        self.assertIn("1..32", cm.exception.message)

    def test_enumerated_package(self):
        g = graph(6)
        g.set_input_shapes("x", [(1, 2, 8), (1, 6, 8), (1, 10, 8)])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "flex.mlpackage")
            pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS18, Ane.Precision.FLOAT32)
            pkg.save(path, False)
            back = Ane.Package.load(path)
            exe = Ane.Executable.new_from_package_full(back, None, Ane.Backend.CPU)
            exe.compile(None)
            for seq in (2, 10, 6):
                x = RNG.standard_normal((1, seq, 8)).astype(np.float32)
                t = Ane.Tensor.new_from_bytes("x", F32, [1, seq, 8], GLib.Bytes.new(x.tobytes()))
                out = exe.run([t], None)[0]
                y = np.frombuffer(out.get_data().get_data(), dtype=np.float32).reshape(out.get_shape())
                np.testing.assert_allclose(y, expected(x), rtol=1e-5, atol=1e-6)
            bad = Ane.Tensor.new_from_bytes("x", F32, [1, 3, 8], GLib.Bytes.new(bytes(3 * 8 * 4)))
            with self.assertRaises(GLib.Error) as cm:
                exe.run([bad], None)
            self.assertIn("enumerated", cm.exception.message)

    def test_errors(self):
        g = graph(4)
        with self.assertRaises(GLib.Error) as cm:
            g.set_input_range("x", 1, 5, 32)   # the declared 4 is the default: inside the range
        self.assertIn("declared", cm.exception.message)
        with self.assertRaises(GLib.Error):
            g.set_input_range("nope", 0, 1, 2)
        with self.assertRaises(GLib.Error) as cm:
            g.set_input_shapes("x", [(1, 2, 8)])
        self.assertIn("default", cm.exception.message)

    def test_onnx_detector(self):
        g = Ane.Graph.load_onnx(DET, input_shapes={"x": [1, 3, 320, 320]},
                                input_ranges={"x": {2: (256, 640), 3: (256, 640)}})
        exe = g.compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        fixed = Ane.Graph.load_onnx(DET, input_shapes={"x": [1, 3, 256, 384]})
        ref = fixed.compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        x = RNG.uniform(-2, 2, (1, 3, 256, 384)).astype(np.float32)
        got = exe.run({"x": x})
        want = ref.run({"x": x})
        (name,) = got.keys()
        self.assertEqual(got[name].shape, (1, 1, 256, 384))
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)

    @unittest.skipUnless(TOOL, "ANE_TOOL is not set")
    def test_tool(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "det.mlpackage")
            subprocess.run([TOOL, "convert", DET, "--input-range", "x=1,3,256..640,256..640",
                            "--input-shape", "x=1,3,320,320", "-p", "fp32", "-o", out],
                           check=True, capture_output=True)
            pkg = Ane.Package.load(out)
            (x,) = pkg.list_inputs(None)
            self.assertEqual(list(x.get_shape()), [1, 3, 320, 320])
            r = subprocess.run([TOOL, "convert", DET, "--input-range", "x=1,3,256..*,256", "-o", out, "-f"],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("--input-range", r.stderr)


if __name__ == "__main__":
    unittest.main()
