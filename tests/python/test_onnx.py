"""ONNX import from Python: Ane.Graph.load_onnx with keyword bindings and
with Ane.OnnxImportOptions (the introspected call), a real model run on the
CPU backend against ONNX Runtime's output, an If folded on a bound input,
and `ane-tool convert MODEL.onnx`.

The real model is tests/data/onnx (README there). The control-flow model
is written here with a few lines of protobuf encoding (the onnx package is
not needed): field numbers from proto/onnx.proto."""

import os
import subprocess
import tempfile
import unittest

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane, GLib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "data", "onnx")
CLS = os.path.join(DATA, "models", "ppocr_mobile_v2_cls.onnx")
CLS_CASE = os.path.join(DATA, "cases", "ppocr_mobile_v2_cls")
TOOL = os.environ.get("ANE_TOOL")


# --- a minimal protobuf writer (wire format: varint keys, length-delimited) ---

def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _int(field, value):
    return _varint(field << 3) + _varint(value)


def _bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _value_info(name, elem_type, dims):
    shape = b"".join(_bytes(1, _int(1, d)) for d in dims)               # TensorShapeProto.dim.dim_value
    tensor = _int(1, elem_type) + _bytes(2, shape)                       # TypeProto.Tensor
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))                # ValueInfoProto


def _tensor(name, data_type, dims, raw):
    return b"".join(_int(1, d) for d in dims) + _int(2, data_type) + _bytes(8, name) + _bytes(9, raw)


def _node(op, name, inputs, outputs, attrs=b""):
    return (b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
            + _bytes(3, name) + _bytes(4, op) + attrs)


def _graph_attr(name, graph):
    return _bytes(5, _bytes(1, name) + _int(20, 5) + _bytes(6, graph))    # AttributeProto type GRAPH


def if_model():
    """y = x + k if sr == 16000 else x * k; x f32[2], sr int64 scalar."""
    k = np.array([10, 20], dtype=np.float32).tobytes()
    rate = np.array(16000, dtype=np.int64).tobytes()
    then_g = _bytes(1, _node("Add", "add", ["x", "k"], ["t"])) + _bytes(2, "then") + _bytes(12, _value_info("t", 1, []))
    else_g = _bytes(1, _node("Mul", "mul", ["x", "k"], ["e"])) + _bytes(2, "else") + _bytes(12, _value_info("e", 1, []))
    graph = (_bytes(1, _node("Equal", "eq", ["sr", "rate"], ["cond"]))
             + _bytes(1, _node("If", "if0", ["cond"], ["y"],
                               _graph_attr("then_branch", then_g) + _graph_attr("else_branch", else_g)))
             + _bytes(2, "main")
             + _bytes(5, _tensor("k", 1, [2], k)) + _bytes(5, _tensor("rate", 7, [], rate))
             + _bytes(11, _value_info("x", 1, [2])) + _bytes(11, _value_info("sr", 7, []))
             + _bytes(12, _value_info("y", 1, [2])))
    return _int(1, 8) + _bytes(8, _bytes(1, "") + _int(2, 16)) + _bytes(7, graph)


def run_cpu(graph, feeds, precision=Ane.Precision.FLOAT32):
    pkg = Ane.Package.new_from_graph(graph, Ane.Target.IOS18, precision)
    exe = Ane.Executable.new_from_package_full(pkg, None, Ane.Backend.CPU)
    return exe.run(feeds)


class TestOnnxImport(unittest.TestCase):
    def test_real_model_keywords(self):
        x = np.load(os.path.join(CLS_CASE, "inputs", "x.npy"))
        want = np.load(os.path.join(CLS_CASE, "expected", "softmax_0.tmp_0.npy"))
        g = Ane.Graph.load_onnx(CLS, input_shapes={"x": list(x.shape)})
        # ONNX's "softmax_0.tmp_0" is not a MIL identifier: the graph says "_"
        self.assertEqual([t.get_name() for t in g.list_outputs()], ["softmax_0_tmp_0"])
        got = np.asarray(run_cpu(g, {"x": x})["softmax_0_tmp_0"])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

    def test_real_model_options(self):
        options = Ane.OnnxImportOptions.new()
        options.set_input_shape("x", [1, 3, 48, 192])
        self.assertEqual(options.list_inputs(), ["x"])
        g = Ane.Graph.load_onnx(CLS, options)
        self.assertEqual(list(g.list_inputs()[0].get_shape()), [1, 3, 48, 192])

    def test_unbound_symbolic_dim(self):
        with self.assertRaises(GLib.Error) as cm:
            Ane.Graph.load_onnx(CLS)
        self.assertIn("input 'x' dim 0 ('p2o.DynamicDimension.0') is symbolic; "
                      "bind it with --input-shape x=?,3,?,?", cm.exception.message)
        self.assertEqual(cm.exception.code, int(Ane.Error.SHAPE))

    def test_if_folded_on_input_value(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "if.onnx")
            with open(path, "wb") as f:
                f.write(if_model())
            x = np.array([1, 2], dtype=np.float32)
            for sr, want in ((16000, [11, 22]), (8000, [10, 40])):
                g = Ane.Graph.load_onnx(path, input_values={"sr": sr})
                self.assertNotIn("eq", g.op_histogram())
                self.assertEqual([t.get_name() for t in g.list_inputs()], ["x"])
                np.testing.assert_allclose(np.asarray(run_cpu(g, {"x": x})["y"]), want)
            # an Ane.Tensor and a numpy value are bindings too
            g = Ane.Graph.load_onnx(path, input_values={"sr": np.array(16000, dtype=np.int64)})
            np.testing.assert_allclose(np.asarray(run_cpu(g, {"x": x})["y"]), [11, 22])
            with self.assertRaises(GLib.Error) as cm:
                Ane.Graph.load_onnx(path)
            self.assertIn("ONNX node 'if0' (If)", cm.exception.message)


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class TestOnnxTool(unittest.TestCase):
    def test_convert(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "cls.mlpackage")
            r = subprocess.run([TOOL, "convert", CLS, "-o", out, "--input-shape", "x=1,3,48,192"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.isdir(out))
            pkg = Ane.Package.load(out)
            self.assertEqual(pkg.get_default_function(), "main")

    def test_convert_refusals(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "cls.mlpackage")
            r = subprocess.run([TOOL, "convert", CLS, "-o", out], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("--input-shape x=?,3,?,?", r.stderr)
            self.assertFalse(os.path.exists(out))
            r = subprocess.run([TOOL, "convert", CLS, "-o", out, "--input-shape", "x=1,3,0,192"],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("not a positive size", r.stderr)
            path = os.path.join(tmp, "if.onnx")
            with open(path, "wb") as f:
                f.write(if_model())
            r = subprocess.run([TOOL, "convert", path, "-o", out, "--input-value", "sr=16000"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
