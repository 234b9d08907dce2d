"""ONNX import held against ONNX Runtime, op by op.

Every ONNX op the importer maps (docs/onnx.md, docs/onnx-converters.md) gets
small one-node (or few-node) models built here with onnx.helper: several shapes
(broadcasting, odd sizes), its attributes, and the opset variants whose
form changed (Softmax 11 vs 13, Slice 9 vs 13, Clip 9 vs 13, Squeeze 11 vs
13, Split 11 / 13 / 18, Pad 9 vs 11 vs 18, Resize 11 vs 13, ReduceSum 11 vs 13
...; the importer takes opsets 9 and later).
ONNX Runtime (the pinned onnxruntime, tools/requirements-contract.txt) runs
each model: that is the oracle. Ours runs the same file through
Ane.Graph.load_onnx -> Ane.Package.new_from_graph (lowering) -> save ->
Ane.Package.load -> the CPU backend, in an fp32 and an fp16 program, and
the outputs are compared.

Tolerances (err = |ours - ORT| per element):
- integer and bool outputs: exact (int64 outputs come back as int32, the
  importer's interface rule, and are compared as integers).
- fp32 programs: err <= 1e-5 * |ORT| + 1e-6 (the issue's 1e-5 relative;
  the 1e-6 absolute floor covers results that cancel to about 0, where a
  relative bound means nothing -- ORT sums in float, our kernels in double).
  Cases that accumulate many terms or chain many ops state their own bound
  (``rtol32``) with the reason beside them.
- fp16 programs: inputs are rounded to fp16 first (so the interface cast is
  exact); each op rounds once to fp16 (2^-11 relative), so a case with d ops
  in a chain is held to err <= d * 2^-10 * max(|ORT|, 1) (``depth``, default 4:
  the op, the casts around it and a margin of 2). Long chains (LSTM, GRU
  unrolled over time) state their own depth.

Run by meson with the test venv's interpreter (tools/quickstart.sh test:
-Dcoremltools_python=_venv/bin/python3, which holds onnx and onnxruntime);
by hand: ``_venv/bin/python3 tests/python/test_onnx_ops.py`` with
GI_TYPELIB_PATH / LD_LIBRARY_PATH pointing at the build's ane-glib/.

SPDX-License-Identifier: MIT
"""

import os
import sys
import tempfile
import unittest

import numpy as np

import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from anetest import NUMPY_DTYPE, Ane, to_numpy, to_tensor  # noqa: E402

F = TensorProto.FLOAT
I64 = TensorProto.INT64
I32 = TensorProto.INT32
B = TensorProto.BOOL
FP16_STEP = 2.0 ** -10

ONNX_TYPE = {np.dtype(np.float32): F, np.dtype(np.int64): I64, np.dtype(np.int32): I32,
             np.dtype(np.bool_): B}


# --- building models ---------------------------------------------------------

class Case:
    """One model and its feeds.

    ``feeds``: graph inputs (name -> array); ``inits``: initializers
    (weights, constant shape inputs); ``values``: inputs bound to constants
    when importing (--input-value), also fed to ORT.
    """

    def __init__(self, name, nodes, feeds, outputs, inits=None, opset=17, values=None,
                 rtol32=1e-5, atol32=1e-6, depth=4, fp16=True, check=True):
        self.name = name
        self.feeds = feeds
        self.values = values or {}
        self.rtol32, self.atol32, self.depth, self.fp16 = rtol32, atol32, depth, fp16
        all_inputs = dict(feeds)
        all_inputs.update(self.values)
        graph = helper.make_graph(
            nodes, "g",
            [helper.make_tensor_value_info(n, ONNX_TYPE[a.dtype], list(a.shape)) for n, a in all_inputs.items()],
            [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
            [numpy_helper.from_array(a, n) for n, a in (inits or {}).items()])
        self.model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                       producer_name="ane-glib tests")
        self.model.ir_version = 8
        # the outputs get their shapes from ONNX's own inference (as exporters
        # write them); strict: a malformed test model fails here, not later
        # (check=False: a deliberately malformed model for a refusal test)
        if check:
            self.model = onnx.shape_inference.infer_shapes(self.model, check_type=True, strict_mode=True)
            onnx.checker.check_model(self.model)


def node(op, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


def one(op, feeds, inits=None, attrs=None, out=F, n_out=1, order=None, out_types=None, **kw):
    """A single-node case: inputs in ``order`` (default: feeds then inits;
    "" for an absent optional input), outputs y (or y0, y1, ...)."""
    inits = inits or {}
    names = order if order is not None else list(feeds) + list(inits)
    outs = ["y"] if n_out == 1 else [f"y{i}" for i in range(n_out)]
    types = out_types or [out] * n_out
    name = kw.pop("name", op)
    return Case(name, [node(op, names, outs, **(attrs or {}))], feeds, list(zip(outs, types)), inits, **kw)


# --- running -------------------------------------------------------------------

def run_ort(case, feeds):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(case.model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    all_feeds = dict(feeds)
    all_feeds.update(case.values)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, all_feeds)))


def run_ours(case, feeds, precision, tmp):
    """import -> lowering -> package (saved, loaded) -> CPU backend."""
    path = os.path.join(tmp, case.name + ".onnx")
    onnx.save(case.model, path)
    graph = Ane.Graph.load_onnx(path, input_shapes={n: list(a.shape) for n, a in feeds.items()},
                                input_values=dict(case.values))
    pkg = Ane.Package.new_from_graph(graph, Ane.Target.IOS18, precision)
    pkg_path = os.path.join(tmp, case.name + (".fp16" if precision == Ane.Precision.FLOAT16 else "")
                            + ".mlpackage")
    pkg.save(pkg_path, True)
    loaded = Ane.Package.load(pkg_path)
    exe = Ane.Executable.new_from_package_full(loaded, None, Ane.Backend.CPU)
    # Fed as the package declares its inputs: int64 is int32 there (the
    # importer's rule), a rank-0 input is [1] (Core ML interfaces have rank
    # >= 1), and an input the import folded away (Shape of it) is absent.
    tensors = []
    for spec in loaded.list_inputs(None):
        name = spec.get_name()
        arr = feeds[name].reshape(tuple(spec.get_shape())).astype(NUMPY_DTYPE[spec.get_dtype()])
        tensors.append(to_tensor(name, arr))
    outs = exe.run(tensors, None)
    return {t.get_name(): to_numpy(t) for t in outs}


def fp16_feeds(feeds):
    return {n: (a.astype(np.float16).astype(np.float32) if a.dtype == np.float32 else a) for n, a in feeds.items()}


class OnnxOpsTest(unittest.TestCase):
    """Each test method checks its cases; a failing case names itself."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ane-onnx-ops-")
        self.rng = np.random.default_rng(1234)

    def tearDown(self):
        self.tmp.cleanup()

    # data ----------------------------------------------------------------

    def randn(self, *shape):
        return self.rng.standard_normal(shape).astype(np.float32)

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    # checking --------------------------------------------------------------

    def check(self, *cases):
        for case in cases:
            with self.subTest(case=case.name):
                self.check_precision(case, Ane.Precision.FLOAT32, case.feeds)
                if case.fp16:
                    self.check_precision(case, Ane.Precision.FLOAT16, fp16_feeds(case.feeds))

    def check_precision(self, case, precision, feeds):
        want = run_ort(case, feeds)
        got = run_ours(case, feeds, precision, self.tmp.name)
        label = f"{case.name} [{'fp16' if precision == Ane.Precision.FLOAT16 else 'fp32'}]"
        self.assertEqual(sorted(got), sorted(want), f"{label}: output names")
        for name, w in want.items():
            g = got[name]
            self.assertEqual(tuple(g.shape), tuple(w.shape), f"{label}: shape of {name}")
            if w.dtype.kind in "iub":
                np.testing.assert_array_equal(g.astype(np.int64), w.astype(np.int64),
                                              f"{label}: {name}")
            elif precision == Ane.Precision.FLOAT32:
                np.testing.assert_allclose(g.astype(np.float64), w, rtol=case.rtol32, atol=case.atol32,
                                           err_msg=f"{label}: {name}")
            else:
                scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1.0)
                np.testing.assert_allclose(g.astype(np.float64), w, rtol=0,
                                           atol=case.depth * FP16_STEP * scale, err_msg=f"{label}: {name}")

    # --- elementwise ----------------------------------------------------------------

    def test_binary_broadcasting(self):
        cases = []
        for op in ("Add", "Sub", "Mul", "Div"):
            for sa, sb in (((2, 3, 5), (2, 3, 5)), ((2, 3, 5), (5,)), ((4, 1, 3), (1, 7, 1)), ((3,), ())):
                a = self.randn(*sa)
                b = self.uniform(0.5, 2, *sb) if op == "Div" else self.randn(*sb)
                cases.append(one(op, {"a": a, "b": b}, name=f"{op}{sa}{sb}"))
            cases.append(one(op, {"a": self.randn(3, 4)}, {"b": self.uniform(1, 2, 4)}, name=f"{op}-const"))
        cases.append(one("Pow", {"a": self.uniform(0.5, 2, 3, 4), "b": self.uniform(-2, 2, 4)}))
        cases.append(one("Pow", {"a": self.randn(2, 5)}, {"b": np.array(2.0, np.float32)}, name="Pow-square"))
        cases.append(one("Pow", {"a": self.uniform(0.1, 4, 2, 5)}, {"b": np.array(0.5, np.float32)}, name="Pow-sqrt"))
        self.check(*cases)

    def test_unary(self):
        cases = [
            one("Sqrt", {"x": self.uniform(0.01, 9, 3, 7)}),
            one("Exp", {"x": self.uniform(-4, 4, 3, 7)}),
            one("Log", {"x": self.uniform(0.01, 9, 3, 7)}),
            one("Abs", {"x": self.randn(3, 7)}),
            one("Neg", {"x": self.randn(3, 7)}),
            one("Reciprocal", {"x": self.uniform(0.5, 3, 3, 7)}),
            one("Erf", {"x": self.uniform(-3, 3, 3, 7)}),
            one("Relu", {"x": self.randn(2, 3, 5)}),
            one("Sigmoid", {"x": self.uniform(-6, 6, 2, 3, 5)}),
            one("Tanh", {"x": self.uniform(-3, 3, 2, 3, 5)}),
            one("HardSigmoid", {"x": self.uniform(-6, 6, 4, 5)}),
            one("HardSigmoid", {"x": self.uniform(-6, 6, 4, 5)}, attrs={"alpha": 0.25, "beta": 0.4},
                name="HardSigmoid-attrs"),
            one("HardSwish", {"x": self.uniform(-5, 5, 4, 5)}, opset=14),
            one("LeakyRelu", {"x": self.randn(4, 5)}),
            one("LeakyRelu", {"x": self.randn(4, 5)}, attrs={"alpha": 0.3}, name="LeakyRelu-alpha"),
            one("PRelu", {"x": self.randn(2, 3, 4, 4)}, {"slope": self.uniform(0, 0.5, 3, 1, 1)}),
            one("PRelu", {"x": self.randn(2, 3, 4)}, {"slope": self.uniform(0, 0.5, 1)}, name="PRelu-scalar"),
            one("Identity", {"x": self.randn(3, 4)}),
            one("Dropout", {"x": self.randn(3, 4)}, opset=12),
            one("Dropout", {"x": self.randn(3, 4)}, attrs={"ratio": 0.5}, opset=9, name="Dropout-9"),
        ]
        self.check(*cases)

    def test_clip_opsets(self):
        x = self.uniform(-3, 3, 4, 6)
        self.check(
            one("Clip", {"x": x}, attrs={"min": -1.0, "max": 0.5}, opset=9, name="Clip-9-attrs"),
            one("Clip", {"x": x}, {"lo": np.array(-0.5, np.float32), "hi": np.array(2.0, np.float32)}, opset=13,
                name="Clip-13"),
            one("Clip", {"x": x}, {"hi": np.array(1.0, np.float32)}, order=["x", "", "hi"], opset=13,
                name="Clip-13-max-only"),
            one("Clip", {"x": x}, {"lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}, opset=11,
                name="Clip-11-relu6"),
        )

    def test_compare_logical_where(self):
        # Core ML interfaces have no bool (the package refuses a bool output),
        # so each bool result is cast to int32 inside the model
        a, b = self.randint_f(3, 4), self.randint_f(4)

        def compare(op, feeds):
            return Case(op + "".join(str(v.dtype) for v in feeds.values()),
                        [node(op, list(feeds), ["c"]), node("Cast", ["c"], ["y"], to=I32)], feeds, [("y", I32)])

        self.check(
            compare("Equal", {"a": a, "b": b}),
            compare("Less", {"a": a, "b": b}),
            compare("Greater", {"a": a, "b": b}),
            compare("Equal", {"a": np.array([1, 5, 7], np.int64), "b": np.array([1, 2, 7], np.int64)}),
            Case("Not-And-Or", [node("Less", ["a", "b"], ["lt"]), node("Greater", ["a", "b"], ["gt"]),
                                node("Not", ["lt"], ["nlt"]), node("And", ["nlt", "gt"], ["and"]),
                                node("Or", ["lt", "gt"], ["or"]), node("Cast", ["and"], ["y0"], to=I32),
                                node("Cast", ["or"], ["y1"], to=I32)],
                 {"a": a, "b": b}, [("y0", I32), ("y1", I32)]),
            Case("Where", [node("Greater", ["a", "b"], ["c"]), node("Where", ["c", "a", "z"], ["y"])],
                 {"a": self.randn(2, 3, 4), "b": self.randn(4), "z": self.randn(3, 1)}, [("y", F)]),
        )

    def randint_f(self, *shape):
        return self.rng.integers(-2, 3, shape).astype(np.float32)

    # --- normalization, softmax --------------------------------------------------------

    def test_softmax_opsets(self):
        x = self.randn(2, 3, 5)
        self.check(
            one("Softmax", {"x": x}, opset=13),
            one("Softmax", {"x": x}, attrs={"axis": 1}, opset=13, name="Softmax-13-axis1"),
            # opset < 13: coerce to 2-D at axis (default 1), softmax over the flattened tail
            one("Softmax", {"x": x}, opset=11, name="Softmax-11"),
            one("Softmax", {"x": x}, attrs={"axis": 2}, opset=11, name="Softmax-11-axis2"),
            one("LogSoftmax", {"x": x}, opset=13),
            one("LogSoftmax", {"x": x}, opset=11, name="LogSoftmax-11"),
        )

    def test_batch_instance_layer_norm(self):
        c = 3
        self.check(
            one("BatchNormalization", {"x": self.randn(2, c, 4, 5)},
                {"s": self.uniform(0.5, 1.5, c), "b": self.randn(c), "m": self.randn(c),
                 "v": self.uniform(0.5, 2, c)}, attrs={"epsilon": 1e-3}),
            one("BatchNormalization", {"x": self.randn(2, c, 7)},
                {"s": self.uniform(0.5, 1.5, c), "b": self.randn(c), "m": self.randn(c),
                 "v": self.uniform(0.5, 2, c)}, opset=9, name="BatchNormalization-9-1d"),
            one("InstanceNormalization", {"x": self.randn(2, c, 4, 5)},
                {"s": self.uniform(0.5, 1.5, c), "b": self.randn(c)}, attrs={"epsilon": 1e-4}, rtol32=2e-5),
            one("LayerNormalization", {"x": self.randn(2, 5, 8)}, {"s": self.uniform(0.5, 1.5, 8), "b": self.randn(8)},
                rtol32=2e-5),
            one("LayerNormalization", {"x": self.randn(2, 5, 8)}, {"s": self.uniform(0.5, 1.5, 5, 8)},
                attrs={"axis": 1, "epsilon": 1e-3}, rtol32=2e-5, name="LayerNormalization-axis1-noB"),
        )

    # --- linear algebra --------------------------------------------------------------------

    def test_matmul_gemm(self):
        # sums of 16..33 products: ORT accumulates in float, we in double
        self.check(
            one("MatMul", {"a": self.randn(3, 16), "b": self.randn(16, 5)}, rtol32=1e-4, atol32=1e-5),
            one("MatMul", {"a": self.randn(2, 3, 4, 16)}, {"b": self.randn(16, 7)}, rtol32=1e-4, atol32=1e-5,
                name="MatMul-batched-const"),
            one("MatMul", {"a": self.randn(2, 1, 3, 8), "b": self.randn(4, 8, 5)}, rtol32=1e-4, atol32=1e-5,
                name="MatMul-broadcast"),
            one("MatMul", {"a": self.randn(16), "b": self.randn(16, 5)}, rtol32=1e-4, atol32=1e-5, name="MatMul-vec"),
            one("Gemm", {"a": self.randn(3, 16)}, {"b": self.randn(5, 16), "c": self.randn(5)},
                attrs={"transB": 1}, rtol32=1e-4, atol32=1e-5),
            one("Gemm", {"a": self.randn(16, 3)}, {"b": self.randn(16, 5), "c": self.randn(3, 5)},
                attrs={"transA": 1, "alpha": 0.5, "beta": 2.0}, rtol32=1e-4, atol32=1e-5, name="Gemm-transA-alpha"),
            one("Gemm", {"a": self.randn(4, 33)}, {"b": self.randn(33, 6)}, opset=11, rtol32=1e-4, atol32=1e-5,
                name="Gemm-noC"),
        )

    def test_einsum(self):
        self.check(
            one("Einsum", {"a": self.randn(2, 3, 8), "b": self.randn(2, 8, 4)}, attrs={"equation": "bij,bjk->bik"},
                opset=12, rtol32=1e-4, atol32=1e-5),
            one("Einsum", {"q": self.randn(1, 2, 5, 8), "k": self.randn(1, 2, 6, 8)},
                attrs={"equation": "bhqd,bhkd->bhqk"}, opset=12, rtol32=1e-4, atol32=1e-5, name="Einsum-attn"),
            one("Einsum", {"x": self.randn(3, 4, 5)}, attrs={"equation": "ijk->kji"}, opset=12,
                name="Einsum-transpose"),
            one("Einsum", {"a": self.randn(3, 8), "b": self.randn(8, 5)}, attrs={"equation": "ij,jk->ik"},
                opset=12, rtol32=1e-4, atol32=1e-5, name="Einsum-matmul"),
        )

    # --- vision ----------------------------------------------------------------------------

    def test_conv(self):
        # sums of up to 3*3*3 = 27 products
        tol = {"rtol32": 1e-4, "atol32": 1e-5, "depth": 6}
        self.check(
            one("Conv", {"x": self.randn(1, 3, 8, 9)}, {"w": self.randn(4, 3, 3, 3), "b": self.randn(4)},
                attrs={"pads": [1, 1, 1, 1]}, **tol),
            one("Conv", {"x": self.randn(2, 4, 9, 7)}, {"w": self.randn(4, 2, 3, 3)},
                attrs={"group": 2, "strides": [2, 1], "dilations": [1, 2], "pads": [0, 2, 1, 0]},
                name="Conv-group-stride-dilation", **tol),
            one("Conv", {"x": self.randn(1, 4, 6, 6)}, {"w": self.randn(4, 1, 3, 3)},
                attrs={"group": 4, "auto_pad": "SAME_UPPER"}, name="Conv-depthwise-same", **tol),
            one("Conv", {"x": self.randn(1, 3, 10)}, {"w": self.randn(5, 3, 4)}, attrs={"strides": [2]},
                name="Conv-1d", **tol),
            one("ConvTranspose", {"x": self.randn(1, 4, 5, 5)}, {"w": self.randn(4, 2, 3, 3), "b": self.randn(2)},
                attrs={"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, **tol),
            one("ConvTranspose", {"x": self.randn(1, 2, 4, 4)}, {"w": self.randn(2, 3, 2, 2)},
                attrs={"strides": [2, 2]}, name="ConvTranspose-2x", **tol),
        )

    def test_pool(self):
        x = self.randn(1, 3, 9, 8)
        self.check(
            one("MaxPool", {"x": x}, attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
            one("MaxPool", {"x": x}, attrs={"kernel_shape": [2, 2]}, name="MaxPool-2"),
            one("AveragePool", {"x": x}, attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
            one("AveragePool", {"x": x}, attrs={"kernel_shape": [3, 2], "pads": [1, 0, 1, 1], "count_include_pad": 1},
                name="AveragePool-count-pad"),
            one("GlobalAveragePool", {"x": x}),
            one("GlobalMaxPool", {"x": x}),
        )

    def test_resize_upsample(self):
        x = self.randn(1, 2, 3, 4)
        empty = np.zeros(0, np.float32)
        scales2 = np.array([1, 1, 2, 2], np.float32)
        self.check(
            # what the PaddleOCR detector uses: nearest, asymmetric, floor, scale 2
            one("Resize", {"x": x}, {"roi": empty, "scales": scales2}, opset=11,
                attrs={"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
            one("Resize", {"x": x}, {"scales": np.array([1, 1, 3, 2], np.float32)}, order=["x", "", "scales"],
                opset=13, attrs={"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                 "nearest_mode": "floor"}, name="Resize-13-nearest-3x2"),
            one("Resize", {"x": x}, {"sizes": np.array([1, 2, 6, 8], np.int64)}, order=["x", "", "", "sizes"],
                opset=13, attrs={"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                 "nearest_mode": "floor"}, name="Resize-13-sizes"),
            one("Upsample", {"x": x}, {"scales": scales2}, opset=9, attrs={"mode": "nearest"}),
            one("Resize", {"x": x}, {"scales": scales2}, order=["x", "", "scales"], opset=13,
                attrs={"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
                name="Resize-linear-half-pixel"),
            one("Resize", {"x": x}, {"scales": scales2}, order=["x", "", "scales"], opset=13,
                attrs={"mode": "linear", "coordinate_transformation_mode": "align_corners"},
                name="Resize-linear-align-corners"),
            one("Resize", {"x": x}, {"scales": scales2}, order=["x", "", "scales"], opset=13,
                attrs={"mode": "linear", "coordinate_transformation_mode": "asymmetric"},
                name="Resize-linear-asymmetric"),
            # fractional and shrinking scales (the gather / matmul paths)
            one("Resize", {"x": self.randn(1, 2, 5, 7)}, {"scales": np.array([1, 1, 0.6, 1.5], np.float32)},
                order=["x", "", "scales"], opset=13, attrs={"mode": "linear"},
                name="Resize-linear-half-pixel-fractional"),
            one("Resize", {"x": self.randn(1, 2, 5, 7)}, {"sizes": np.array([1, 2, 1, 9], np.int64)},
                order=["x", "", "", "sizes"], opset=13,
                attrs={"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
                name="Resize-linear-pytorch-half-pixel"),
            one("Resize", {"x": self.randn(1, 2, 5, 7)}, {"scales": np.array([1, 1, 1.5, 0.5], np.float32)},
                order=["x", "", "scales"], opset=13,
                attrs={"mode": "nearest", "nearest_mode": "round_prefer_ceil"}, name="Resize-nearest-fractional"),
            one("Resize", {"x": self.randn(1, 2, 4, 6)}, {"sizes": np.array([1, 2, 7, 4], np.int64)},
                order=["x", "", "", "sizes"], opset=13,
                attrs={"mode": "nearest", "coordinate_transformation_mode": "align_corners", "nearest_mode": "ceil"},
                name="Resize-nearest-align-corners-ceil"),
            one("Resize", {"x": self.randn(1, 2, 4, 6)}, {"scales": np.array([1, 1, 2, 2], np.float32)},
                order=["x", "", "scales"], opset=13,
                attrs={"mode": "nearest", "coordinate_transformation_mode": "tf_half_pixel_for_nn"},
                name="Resize-nearest-tf-half-pixel"),
            one("Resize", {"x": self.randn(1, 2, 4, 6)}, {"sizes": np.array([3, 5], np.int64)},
                order=["x", "", "", "sizes"], opset=18, attrs={"mode": "linear", "axes": [2, 3]},
                name="Resize-18-axes"),
        )

    # --- shape ----------------------------------------------------------------------------

    def test_reshape_flatten_transpose(self):
        x = self.randn(2, 3, 4)
        self.check(
            one("Reshape", {"x": x}, {"s": np.array([4, -1], np.int64)}),
            one("Reshape", {"x": x}, {"s": np.array([0, 0, 2, 2], np.int64)}, name="Reshape-zero-copies"),
            one("Flatten", {"x": x}),
            one("Flatten", {"x": x}, attrs={"axis": 0}, name="Flatten-0"),
            one("Flatten", {"x": x}, attrs={"axis": -1}, name="Flatten--1"),
            one("Transpose", {"x": x}, attrs={"perm": [2, 0, 1]}),
            one("Transpose", {"x": x}, name="Transpose-default"),
        )

    def test_squeeze_unsqueeze_opsets(self):
        x = self.randn(1, 3, 1, 4)
        self.check(
            one("Squeeze", {"x": x}, attrs={"axes": [0, 2]}, opset=11, name="Squeeze-11"),
            one("Squeeze", {"x": x}, {"axes": np.array([2], np.int64)}, opset=13, name="Squeeze-13"),
            one("Squeeze", {"x": x}, opset=13, name="Squeeze-13-all"),
            one("Unsqueeze", {"x": self.randn(3, 4)}, attrs={"axes": [0, 3]}, opset=11, name="Unsqueeze-11"),
            one("Unsqueeze", {"x": self.randn(3, 4)}, {"axes": np.array([-1, 1], np.int64)}, opset=13,
                name="Unsqueeze-13"),
        )

    def test_concat_split(self):
        a, b = self.randn(2, 3, 4), self.randn(2, 5, 4)
        x = self.randn(2, 7, 4)
        self.check(
            one("Concat", {"a": a, "b": b}, attrs={"axis": 1}),
            one("Concat", {"a": a, "b": b}, attrs={"axis": -2}, name="Concat-neg"),
            one("Split", {"x": x}, attrs={"axis": 1, "split": [3, 4]}, n_out=2, opset=11, name="Split-11"),
            one("Split", {"x": x}, {"split": np.array([2, 2, 3], np.int64)}, attrs={"axis": 1}, n_out=3, opset=13,
                name="Split-13"),
            one("Split", {"x": self.randn(2, 6, 4)}, attrs={"axis": 1}, n_out=3, opset=13, name="Split-13-even"),
            one("Split", {"x": x}, attrs={"axis": 1, "num_outputs": 3}, n_out=3, opset=18, name="Split-18-num"),
        )

    def test_slice_opsets(self):
        x = self.randn(4, 6, 5)
        self.check(
            one("Slice", {"x": x}, attrs={"starts": [1, 0], "ends": [3, 100], "axes": [0, 2]}, opset=9,
                name="Slice-9"),
            one("Slice", {"x": x}, {"st": np.array([1, -4], np.int64), "en": np.array([3, 1000], np.int64),
                                    "ax": np.array([0, 1], np.int64)}, opset=13, name="Slice-13"),
            one("Slice", {"x": x}, {"st": np.array([5, 4], np.int64), "en": np.array([0, -100], np.int64),
                                    "ax": np.array([1, 2], np.int64), "sp": np.array([-2, -1], np.int64)},
                opset=13, name="Slice-13-negative-steps"),
            one("Slice", {"x": x}, {"st": np.array([0], np.int64), "en": np.array([6], np.int64),
                                    "ax": np.array([1], np.int64), "sp": np.array([2], np.int64)},
                opset=13, name="Slice-13-step2"),
        )

    def test_gather_family(self):
        x = self.randn(5, 4, 3)
        self.check(
            one("Gather", {"x": x}, {"i": np.array([[0, 4], [-1, 2]], np.int64)}),
            one("Gather", {"x": x}, {"i": np.array(2, np.int64)}, attrs={"axis": 1}, name="Gather-scalar"),
            one("Gather", {"x": x, "i": np.array([2, 0, 1, 2], np.int64)}, attrs={"axis": -1}, name="Gather-input"),
            one("GatherElements", {"x": x}, {"i": self.rng.integers(-5, 5, (3, 4, 3)).astype(np.int64)}),
            one("GatherElements", {"x": x, "i": self.rng.integers(0, 3, (5, 2, 3)).astype(np.int64)},
                attrs={"axis": 2}, name="GatherElements-axis2-smaller"),
        )

    def test_expand_tile_pad(self):
        x = self.randn(3, 1, 4)
        self.check(
            one("Expand", {"x": x}, {"s": np.array([2, 3, 5, 4], np.int64)}),
            one("Expand", {"x": x}, {"s": np.array([1, 1], np.int64)}, name="Expand-smaller-shape"),
            one("Tile", {"x": x}, {"r": np.array([2, 3, 1], np.int64)}),
            one("Pad", {"x": self.randn(1, 2, 5)}, {"p": np.array([0, 0, 2, 0, 1, 3], np.int64)}, opset=11,
                attrs={"mode": "reflect"}, name="Pad-11-reflect"),
            one("Pad", {"x": self.randn(2, 3, 4)}, {"p": np.array([0, 1, 2, 0, 0, 1], np.int64),
                                                    "v": np.array(0.5, np.float32)}, opset=11, name="Pad-11-constant"),
            one("Pad", {"x": self.randn(2, 3, 4)}, {"p": np.array([0, 0, 1, 0, 0, 2], np.int64)}, opset=13,
                attrs={"mode": "edge"}, name="Pad-13-edge"),
            one("Pad", {"x": self.randn(2, 3, 4)}, attrs={"pads": [0, 1, 1, 0, 2, 0], "value": -1.0}, opset=9,
                name="Pad-9-attrs"),
            one("Pad", {"x": self.randn(2, 3, 4)}, {"p": np.array([1, 2, 0, 3], np.int64),
                                                    "a": np.array([1, 2], np.int64)}, order=["x", "p", "", "a"],
                opset=18, attrs={"mode": "reflect"}, name="Pad-18-axes"),
        )

    def test_shape_arithmetic(self):
        x = self.randn(2, 3, 4)
        # Shape -> Gather -> Unsqueeze -> Concat -> Reshape: folds to a static reshape
        chain = [node("Shape", ["x"], ["s"]), node("Gather", ["s", "i0"], ["d0"], axis=0),
                 node("Unsqueeze", ["d0", "ax0"], ["d0v"]), node("Concat", ["d0v", "m1"], ["ns"], axis=0),
                 node("Reshape", ["x", "ns"], ["y"])]
        inits = {"i0": np.array(0, np.int64), "ax0": np.array([0], np.int64), "m1": np.array([-1], np.int64)}
        self.check(
            Case("Shape-chain", chain, {"x": x}, [("y", F)], inits),
            one("Shape", {"x": x}, out=I64),
            one("Size", {"x": x}, out=I64),
            one("ConstantOfShape", {}, {"s": np.array([2, 3], np.int64)},
                attrs={"value": numpy_helper.from_array(np.array([1.5], np.float32))}, fp16=True),
            Case("ConstantOfShape-shape-of-x", [node("Shape", ["x"], ["s"]),
                                                node("ConstantOfShape", ["s"], ["z"]), node("Add", ["x", "z"], ["y"])],
                 {"x": x}, [("y", F)]),
            one("Range", {}, {"a": np.array(1, np.int64), "b": np.array(11, np.int64), "d": np.array(3, np.int64)},
                out=I64),
            one("Range", {}, {"a": np.array(0.5, np.float32), "b": np.array(2.0, np.float32),
                              "d": np.array(0.25, np.float32)}, name="Range-float"),
            Case("Constant", [node("Constant", [], ["c"], value=numpy_helper.from_array(self.randn(3, 4))),
                              node("Add", ["x", "c"], ["y"])], {"x": self.randn(3, 4)}, [("y", F)]),
        )

    def test_cast(self):
        x = self.uniform(-100, 100, 3, 5)
        self.check(
            one("Cast", {"x": x}, attrs={"to": I32}, out=I32),
            one("Cast", {"x": self.rng.integers(-50, 50, (3, 5)).astype(np.int64)}, attrs={"to": F}, name="Cast-int-float"),
            Case("Cast-bool", [node("Cast", ["x"], ["b"], to=B), node("Cast", ["b"], ["y"], to=F)], {"x": self.randint_f(3, 5)},
                 [("y", F)]),
        )

    # --- reductions ------------------------------------------------------------------------

    def test_reduce_opsets(self):
        x = self.randn(3, 4, 5)
        pos = self.uniform(0.5, 1.5, 3, 4, 5)
        cases = []
        for op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceProd"):
            data = pos if op == "ReduceProd" else x
            if op == "ReduceSum":
                cases.append(one(op, {"x": data}, {"a": np.array([1, -1], np.int64)}, opset=13, name=f"{op}-13"))
                cases.append(one(op, {"x": data}, attrs={"axes": [1], "keepdims": 0}, opset=11, name=f"{op}-11"))
            else:
                cases.append(one(op, {"x": data}, attrs={"axes": [1, -1]}, opset=13, name=f"{op}-13"))
                cases.append(one(op, {"x": data}, attrs={"axes": [0], "keepdims": 0}, opset=11, name=f"{op}-11"))
                cases.append(one(op, {"x": data}, {"a": np.array([2], np.int64)}, opset=18, name=f"{op}-18"))
            cases.append(one(op, {"x": data}, opset=13, name=f"{op}-all"))
        self.check(*cases)

    def test_argmax_topk_cumsum(self):
        x = self.randint_f(3, 6)       # small integers: ties, the first index wins
        self.check(
            one("ArgMax", {"x": x}, attrs={"axis": 1}, out=I64),
            one("ArgMax", {"x": x}, attrs={"axis": 0, "keepdims": 0}, out=I64, name="ArgMax-0"),
            one("ArgMin", {"x": x}, attrs={"axis": -1}, out=I64),
            one("TopK", {"x": self.randn(3, 6)}, {"k": np.array([2], np.int64)}, n_out=2, out_types=[F, I64]),
            one("TopK", {"x": self.randn(3, 6)}, {"k": np.array([2], np.int64)}, attrs={"axis": 0}, n_out=2,
                out_types=[F, I64], name="TopK-axis0"),
            one("CumSum", {"x": self.randn(3, 6)}, {"a": np.array(1, np.int64)}),
            one("CumSum", {"x": self.randn(3, 6)}, {"a": np.array(0, np.int32)}, attrs={"exclusive": 1, "reverse": 1},
                name="CumSum-exclusive-reverse"),
        )

    # --- control flow ------------------------------------------------------------------------

    def test_if_folds_on_bound_input(self):
        then_g = helper.make_graph([node("Mul", ["x", "two"], ["t"])], "then", [],
                                   [helper.make_tensor_value_info("t", F, None)],
                                   [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
        else_g = helper.make_graph([node("Neg", ["x"], ["e"])], "else", [],
                                   [helper.make_tensor_value_info("e", F, None)])
        nodes = [node("Equal", ["sr", "k"], ["c"]), node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
        for sr in (16000, 8000):
            self.check(Case(f"If-sr{sr}", nodes, {"x": self.randn(2, 3)}, [("y", F)],
                            {"k": np.array(16000, np.int64)}, values={"sr": np.array(sr, np.int64)}))

    # --- recurrent ---------------------------------------------------------------------------

    def lstm_case(self, name, seq, batch, inp, hidden, direction="forward", with_state=True, layout=0, bias=True,
                  weights_fed=False, peepholes=False):
        nd = 2 if direction == "bidirectional" else 1
        inits = {"W": self.randn(nd, 4 * hidden, inp) * 0.5, "R": self.randn(nd, 4 * hidden, hidden) * 0.5}
        if bias:
            inits["B"] = self.randn(nd, 8 * hidden) * 0.5
        x = self.randn(batch, seq, inp) if layout else self.randn(seq, batch, inp)
        feeds = {"x": x}
        order = ["x", "W", "R", "B" if bias else "", ""]
        if with_state:
            hs = (batch, nd, hidden) if layout else (nd, batch, hidden)
            feeds["h0"], feeds["c0"] = self.randn(*hs), self.randn(*hs)
            order += ["h0", "c0"]
        if peepholes:
            inits["P"] = self.randn(nd, 3 * hidden) * 0.5
            order += [""] * (7 - len(order)) + ["P"]
        if weights_fed:
            # weights as run-time inputs: cut in the graph, not on the host
            feeds.update(inits)
            inits = {}
        # seq steps of ~10 fp16-rounded ops each, feeding back: depth grows with seq
        return Case(name, [node("LSTM", order, ["y", "yh", "yc"], hidden_size=hidden, direction=direction,
                                layout=layout)],
                    feeds, [("y", F), ("yh", F), ("yc", F)], inits, opset=14, rtol32=1e-4, atol32=1e-5,
                    depth=8 * seq)

    def test_lstm(self):
        # (layout 1 has no oracle: ONNX Runtime 1.20 refuses batchwise LSTM,
        # core/providers/cpu/rnn/lstm_base.h:52)
        self.check(
            self.lstm_case("LSTM-forward", 5, 2, 3, 4),
            self.lstm_case("LSTM-reverse", 4, 1, 3, 5, direction="reverse"),
            self.lstm_case("LSTM-bidirectional", 3, 2, 4, 3, direction="bidirectional"),
            self.lstm_case("LSTM-no-state-no-bias", 3, 2, 4, 3, with_state=False, bias=False),
            self.lstm_case("LSTM-peepholes", 3, 2, 4, 3, direction="bidirectional", peepholes=True),
            self.lstm_case("LSTM-weights-fed", 3, 2, 4, 3, direction="bidirectional", weights_fed=True,
                           peepholes=True),
        )

    def test_lstm_layout1(self):
        # ONNX Runtime refuses layout 1, so the oracle is its layout-0 run of
        # the same numbers: X [batch, seq, in] and the states [batch, dirs,
        # hidden] transposed to layout 0, Y [seq, dirs, batch, hidden] back
        # to [batch, seq, dirs, hidden]
        for direction in ("forward", "bidirectional"):
            with self.subTest(direction=direction):
                c0 = self.lstm_case("LSTM-layout0-" + direction, 4, 2, 3, 5, direction=direction)
                nd = 2 if direction == "bidirectional" else 1
                inits = {i.name: numpy_helper.to_array(i) for i in c0.model.graph.initializer}
                feeds1 = {"x": c0.feeds["x"].transpose(1, 0, 2), "h0": c0.feeds["h0"].transpose(1, 0, 2),
                          "c0": c0.feeds["c0"].transpose(1, 0, 2)}
                c1 = Case("LSTM-layout1-" + direction,
                          [node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "yh", "yc"], hidden_size=5,
                                direction=direction, layout=1)],
                          feeds1, [("y", F), ("yh", F), ("yc", F)], inits, opset=14)
                want = run_ort(c0, c0.feeds)
                got = run_ours(c1, feeds1, Ane.Precision.FLOAT32, self.tmp.name)
                self.assertEqual(got["y"].shape, (2, 4, nd, 5))
                np.testing.assert_allclose(got["y"], want["y"].transpose(2, 0, 1, 3), rtol=1e-4, atol=1e-5)
                np.testing.assert_allclose(got["yh"], want["yh"].transpose(1, 0, 2), rtol=1e-4, atol=1e-5)
                np.testing.assert_allclose(got["yc"], want["yc"].transpose(1, 0, 2), rtol=1e-4, atol=1e-5)

    def gru_case(self, name, seq, batch, inp, hidden, lbr, direction="forward", weights_fed=False, bare=False):
        nd = 2 if direction == "bidirectional" else 1
        inits = {"W": self.randn(nd, 3 * hidden, inp) * 0.5, "R": self.randn(nd, 3 * hidden, hidden) * 0.5,
                 "B": self.randn(nd, 6 * hidden) * 0.5}
        feeds = {"x": self.randn(seq, batch, inp), "h0": self.randn(nd, batch, hidden)}
        order = ["x", "W", "R", "B", "", "h0"]
        if bare:
            # no B, no initial_h: the zero-state first step, no Rbh
            del inits["B"], feeds["h0"]
            order = ["x", "W", "R"]
        if weights_fed:
            feeds.update(inits)
            inits = {}
        return Case(name, [node("GRU", order, ["y", "yh"], hidden_size=hidden,
                                direction=direction, linear_before_reset=lbr)],
                    feeds, [("y", F), ("yh", F)], inits, opset=14, rtol32=1e-4, atol32=1e-5, depth=8 * seq)

    def test_gru(self):
        self.check(
            self.gru_case("GRU-lbr0", 4, 2, 3, 5, 0),
            self.gru_case("GRU-lbr1", 4, 2, 3, 5, 1),
            self.gru_case("GRU-bidirectional", 3, 1, 3, 4, 1, direction="bidirectional"),
            self.gru_case("GRU-weights-fed-lbr1", 3, 2, 3, 4, 1, direction="bidirectional", weights_fed=True),
            self.gru_case("GRU-weights-fed-lbr0", 3, 2, 3, 4, 0, weights_fed=True),
            self.gru_case("GRU-bare-lbr0", 3, 2, 3, 4, 0, bare=True),
            self.gru_case("GRU-bare-lbr1", 3, 2, 3, 4, 1, direction="reverse", bare=True),
        )


    # --- refusals: a GLib.Error naming the node's op and what is unsupported ----------------

    def test_refusals(self):
        x4 = self.randn(1, 2, 3, 4)
        cases = [
            (one("Einsum", {"a": self.randn(3, 3)}, attrs={"equation": "ii->i"}, opset=12, name="Einsum-diag"),
             ["Einsum", "ii->i"]),
            (one("Einsum", {"a": self.randn(2, 3, 4), "b": self.randn(2, 4, 5)}, attrs={"equation": "...ij,...jk->...ik"},
                 opset=12, name="Einsum-ellipsis"), ["Einsum", "...ij"]),
            (one("Pad", {"x": x4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)}, attrs={"mode": "wrap"},
                 opset=19, name="Pad-wrap"), ["Pad", "'wrap'"]),
            (one("ArgMax", {"x": self.randn(3, 4)}, attrs={"select_last_index": 1}, out=I64, opset=13,
                 name="ArgMax-last"), ["ArgMax", "select_last_index"]),
            (one("Resize", {"x": x4}, {"scales": np.array([1, 1, 2, 2], np.float32)}, order=["x", "", "scales"],
                 attrs={"mode": "cubic"}, opset=13, name="Resize-cubic"), ["Resize", "'cubic'"]),
            (one("Resize", {"x": x4}, {"scales": np.array([1, 2, 2, 2], np.float32)}, order=["x", "", "scales"],
                 opset=13, name="Resize-channels"), ["Resize", "axis 1"]),
            (Case("LSTM-bad-R", [node("LSTM", ["x", "W", "R"], ["y"], hidden_size=2)],
                  {"x": self.randn(2, 1, 3)}, [("y", F)], {"W": self.randn(1, 8, 3), "R": self.randn(1, 4, 2)},
                  opset=14, check=False), ["LSTM", "input R must be [1, 8, 2]"]),
            (one("Einsum", {"a": self.randn(3, 4)}, attrs={"equation": "ijk->kji"}, opset=12, check=False,
                 name="Einsum-rank"), ["Einsum", "rank 2"]),
            (one("Resize", {"x": x4}, {"sizes": np.array([1, 2, 1 << 21, 4], np.int64)}, order=["x", "", "", "sizes"],
                 opset=13, name="Resize-huge", check=False), ["resize", "2^20"]),
            (Case("LSTM-activations", [node("LSTM", ["x", "W", "R"], ["y"], hidden_size=2,
                                            activations=["Relu", "Tanh", "Tanh"])],
                  {"x": self.randn(2, 1, 3)}, [("y", F)], {"W": self.randn(1, 8, 3), "R": self.randn(1, 8, 2)},
                  opset=14), ["LSTM", "activations"]),
        ]
        for case, words in cases:
            with self.subTest(case=case.name):
                with self.assertRaises(Exception) as ctx:
                    run_ours(case, case.feeds, Ane.Precision.FLOAT32, self.tmp.name)
                for w in words:
                    self.assertIn(w, str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
