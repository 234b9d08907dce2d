#!/usr/bin/python3
# test_overrides.py: the PyGObject overrides (python/gi/overrides/Ane.py)
#
# numpy conversions of every dtype, zero-copy views, dict in/out of
# Executable.run, Graph.param from an array, keyword generation on the bundled
# stories260K model, text streamed in whole characters, and exceptions of
# Python callbacks reaching the caller.
#
# SPDX-License-Identifier: MIT

import gc
import os
import sys
import unittest

from anetest import Ane, GLib, np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_OVERRIDES = os.path.normpath(os.path.join(HERE, "..", "..", "python", "gi", "overrides", "Ane.py"))
MODELS = os.path.join(HERE, "..", "..", "data", "models")
PROMPT = "Once upon a time"

# llama2.c vocabularies: ids 3..258 are the byte-fallback tokens <0x00>..<0xFF>.
BYTE_TOKEN_0 = 3

NUMPY_OF = {
    Ane.DType.FLOAT32: np.float32,
    Ane.DType.FLOAT16: np.float16,
    Ane.DType.INT8: np.int8,
    Ane.DType.UINT8: np.uint8,
    Ane.DType.INT16: np.int16,
    Ane.DType.INT32: np.int32,
    Ane.DType.INT64: np.int64,
    Ane.DType.BOOL: np.bool_,
}


def bfloat16_round(values):
    """float32 -> the nearest bfloat16 (ties to even), as float32: plain
    integer arithmetic on the bits, independent of the library."""
    bits = np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    lsb = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lsb) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


class AneErrorMixin:
    def assertAneError(self, code, *fragments):
        return _AneError(self, code, fragments)


class _AneError:
    def __init__(self, case, code, fragments):
        self.case, self.code, self.fragments = case, code, fragments

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.case.fail(f"no GLib.Error raised (expected {self.code})")
        if not issubclass(exc_type, GLib.Error):
            return False
        self.case.assertTrue(exc.matches(Ane.error_quark(), self.code),
                             f"expected {self.code}, got {exc.domain} {exc.code}: {exc.message}")
        for fragment in self.fragments:
            self.case.assertIn(fragment, exc.message)
        return True


class TestLoaded(unittest.TestCase):
    def test_overrides_come_from_the_source_tree(self):
        # PYTHONPATH holds python/: pkgutil extends gi.overrides with it.
        self.assertTrue(hasattr(Ane.Tensor, "from_numpy"))
        self.assertTrue(hasattr(Ane.Tensor, "to_numpy"))
        module = sys.modules["gi.overrides.Ane"]
        self.assertEqual(os.path.normpath(module.__file__), SOURCE_OVERRIDES)
        self.assertIs(Ane.Utf8Stream, module.Utf8Stream)

    def test_every_override_has_a_docstring(self):
        module = sys.modules["gi.overrides.Ane"]
        for name in module.__all__:
            cls = getattr(module, name)
            self.assertTrue(cls.__doc__, name)
            for attr, value in vars(cls).items():
                public = not attr.startswith("_") or attr in ("__init__", "__array__")
                if public and (callable(value) or isinstance(value, (classmethod, staticmethod))):
                    function = getattr(value, "__func__", value)
                    self.assertTrue(function.__doc__, f"{name}.{attr}")


class TestNumpy(AneErrorMixin, unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(12)

    def sample(self, np_dtype, shape):
        np_dtype = np.dtype(np_dtype)
        if np_dtype == np.bool_:
            return self.rng.integers(0, 2, shape).astype(bool)
        if np_dtype.kind == "f":
            values = self.rng.standard_normal(shape).astype(np_dtype)
            flat = values.reshape(-1)
            if flat.size >= 4:
                flat[:4] = [np.finfo(np_dtype).max, -np.inf, np.finfo(np_dtype).tiny, -0.0]
            return values
        info = np.iinfo(np_dtype)
        values = self.rng.integers(info.min, info.max, shape, dtype=np_dtype, endpoint=True)
        values.reshape(-1)[:2] = [info.min, info.max]
        return values

    def check_round_trip(self, dtype, array):
        t = Ane.Tensor.from_numpy("a", array)
        self.assertEqual(t.get_dtype(), dtype)
        self.assertEqual(list(t.get_shape()), list(array.shape))
        self.assertEqual(t.get_name(), "a")
        back = t.to_numpy()
        self.assertEqual(back.dtype, array.dtype)
        self.assertEqual(back.shape, array.shape)
        np.testing.assert_array_equal(back, array)
        # The C library reads the same values out of the bytes.
        for i in range(min(array.size, 8)):
            want = array.reshape(-1)[i]
            got = t.get_value(i)
            if np.isnan(want) if array.dtype.kind == "f" else False:
                self.assertTrue(np.isnan(got))
            else:
                self.assertEqual(got, float(want), f"{dtype} element {i}")

    def test_round_trip_every_dtype(self):
        for dtype, np_dtype in NUMPY_OF.items():
            with self.subTest(dtype=dtype.value_nick):
                self.check_round_trip(dtype, self.sample(np_dtype, (2, 3, 4)))

    def test_rank_0(self):
        for dtype, np_dtype in NUMPY_OF.items():
            with self.subTest(dtype=dtype.value_nick):
                array = np.array(self.sample(np_dtype, (4,))[1], dtype=np_dtype)
                self.assertEqual(array.ndim, 0)
                self.check_round_trip(dtype, array)

    def test_empty(self):
        self.check_round_trip(Ane.DType.INT32, np.zeros((0, 3), np.int32))

    def test_non_contiguous(self):
        base = self.sample(np.float32, (6, 8))
        for name, view in [("strided", base[::2, 1::3]), ("transposed", base.T),
                           ("fortran", np.asfortranarray(base)), ("reversed", base[::-1, ::-1])]:
            with self.subTest(view=name):
                t = Ane.Tensor.from_numpy("v", view)
                np.testing.assert_array_equal(t.to_numpy(), view)
                self.assertEqual(t.get_value(1), float(view.reshape(-1)[1]))

    def test_float64_and_lists_become_float32(self):
        t = Ane.Tensor.from_numpy("f", [[0.1, 0.2], [0.3, 1e40]])
        self.assertEqual(t.get_dtype(), Ane.DType.FLOAT32)
        np.testing.assert_array_equal(t.to_numpy(),
                                      np.array([[0.1, 0.2], [0.3, 1e40]]).astype(np.float32))

    def test_bfloat16_rounds_to_nearest_even(self):
        # Halfway cases tie to even; just above a tie rounds up, where
        # truncating the low bits (the old anetest helper) would round down.
        values = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, np.nextafter(np.float32(1 + 2 ** -8), np.float32(2)),
                           -(1 + 2 ** -8 + 2 ** -10), 3.14159265, 65504.0, 1e-30, -0.0, np.inf],
                          np.float32)
        values = np.concatenate([values, self.rng.standard_normal(191).astype(np.float32) * 1e3])
        t = Ane.Tensor.from_numpy("bf", values, dtype=Ane.DType.BFLOAT16)
        self.assertEqual(t.get_dtype(), Ane.DType.BFLOAT16)
        self.assertEqual(t.get_n_bytes(), 2 * values.size)
        back = t.to_numpy()
        self.assertEqual(back.dtype, np.float32)
        self.assertEqual(back.shape, values.shape)
        np.testing.assert_array_equal(back, bfloat16_round(values))
        self.assertEqual(back[0], 1.0)
        self.assertEqual(back[1], 1 + 2 ** -6)
        self.assertEqual(back[2], 1 + 2 ** -7)
        # A bfloat16 array round-trips exactly.
        again = Ane.Tensor.from_numpy("bf2", back, dtype=Ane.DType.BFLOAT16).to_numpy()
        np.testing.assert_array_equal(again, back)

    def test_conversions_follow_tensor_convert(self):
        f = np.array([2.7, -2.7, 1e10, -1e10, 0.5], np.float64)
        t = Ane.Tensor.from_numpy("i", f, dtype=Ane.DType.INT32)
        self.assertEqual(t.get_dtype(), Ane.DType.INT32)
        np.testing.assert_array_equal(t.to_numpy(), [2, -2, 2 ** 31 - 1, -2 ** 31, 0])
        h = Ane.Tensor.from_numpy("h", f, dtype=Ane.DType.FLOAT16)
        np.testing.assert_array_equal(h.to_numpy(), f.astype(np.float16))
        b = Ane.Tensor.from_numpy("b", np.array([0, 3, -1], np.int64), dtype=Ane.DType.BOOL)
        np.testing.assert_array_equal(b.to_numpy(), [False, True, True])

    def test_block_dtype_raw_blocks(self):
        n_bytes = Ane.dtype_block_bytes(Ane.DType.Q8_0)
        raw = self.rng.integers(0, 256, 2 * n_bytes).astype(np.uint8)
        t = Ane.Tensor.from_numpy("q", raw, dtype=Ane.DType.Q8_0, shape=(2, Ane.dtype_block_size(Ane.DType.Q8_0)))
        self.assertEqual(t.get_dtype(), Ane.DType.Q8_0)
        np.testing.assert_array_equal(t.to_numpy(), raw)
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "'q'", "shape"):
            Ane.Tensor.from_numpy("q", raw, dtype=Ane.DType.Q8_0)

    def test_bad_input_is_a_glib_error(self):
        with self.assertAneError(Ane.Error.DTYPE, "'c'", "complex128"):
            Ane.Tensor.from_numpy("c", np.zeros(3, np.complex128))
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [2])
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "'x'", "symbolic"):
            x.to_numpy()

    def test_numpy_asarray(self):
        array = self.sample(np.int16, (3, 2))
        np.testing.assert_array_equal(np.asarray(Ane.Tensor.from_numpy("a", array)), array)


class TestZeroCopy(unittest.TestCase):
    def test_views_share_the_tensor_bytes(self):
        array = np.arange(24, dtype=np.float32).reshape(4, 6)
        t = Ane.Tensor.from_numpy("a", array)
        a, b = t.to_numpy(), t.to_numpy()
        # Two calls give views of one memory (the tensor's GBytes); a copying
        # to_numpy would give two distinct buffers.
        self.assertTrue(np.shares_memory(a, b))
        self.assertFalse(a.flags.owndata)
        self.assertFalse(a.flags.writeable)
        with self.assertRaises(ValueError):
            a.flags.writeable = True
        with self.assertRaises(ValueError):
            a[0, 0] = 1
        # from_numpy copies (GBytes are immutable, numpy arrays are not).
        self.assertFalse(np.shares_memory(a, array))

    def test_view_keeps_the_tensor_alive(self):
        array = np.arange(1000, dtype=np.int64)
        view = Ane.Tensor.from_numpy("a", array).to_numpy()
        gc.collect()
        junk = [Ane.Tensor.from_numpy(f"j{i}", np.full(1000, -1, np.int64)) for i in range(20)]
        np.testing.assert_array_equal(view, array)
        del junk

    def test_run_outputs_are_views(self):
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [3])
        g.add_output("y", g.relu(x))
        exe = Ane.Executable.new(g, Ane.Backend.REFERENCE)
        exe.compile(None)
        (y,) = Ane.Executable.run(exe, [Ane.Tensor.from_numpy("x", [-1.0, 0.5, 2.0])], None)
        self.assertTrue(np.shares_memory(y.to_numpy(), y.to_numpy()))


class TestRunAndParam(AneErrorMixin, unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(5)
        self.x = self.rng.standard_normal((2, 4)).astype(np.float32)
        self.w = self.rng.standard_normal((4, 3)).astype(np.float32)
        self.b = self.rng.standard_normal(3).astype(np.float32)

    def affine(self, backend=Ane.Backend.REFERENCE):
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [2, 4])
        y = g.add(g.matmul(x, g.param("w", self.w), False, False), g.param("b", self.b))
        g.add_output("y", y)
        g.add_output("relu", g.relu(y))
        exe = Ane.Executable.new(g, backend)
        exe.compile(None)
        return g, exe

    def test_param_from_array(self):
        g, exe = self.affine()
        params = {t.get_name(): t for t in g.list_params()}
        self.assertEqual(set(params), {"w", "b"})
        self.assertEqual(params["w"].get_dtype(), Ane.DType.FLOAT32)
        self.assertEqual(list(params["w"].get_shape()), [4, 3])
        out = exe.run({"x": self.x})
        want = self.x.astype(np.float64) @ self.w + self.b
        np.testing.assert_allclose(out["y"], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out["relu"], np.maximum(want, 0), rtol=1e-5, atol=1e-6)

    def test_param_dtype_keyword(self):
        g = Ane.Graph.new()
        p = g.param("w", self.w, dtype=Ane.DType.FLOAT16)
        self.assertEqual(p.get_dtype(), Ane.DType.FLOAT16)
        p2 = g.param("w2", self.w, Ane.DType.INT8)
        self.assertEqual(p2.get_dtype(), Ane.DType.INT8)
        self.assertEqual(list(p2.get_shape()), [4, 3])
        g.add_output("w_out", g.cast(p, Ane.DType.FLOAT32))
        exe = Ane.Executable.new(g, Ane.Backend.REFERENCE)
        exe.compile(None)
        np.testing.assert_array_equal(exe.run({})["w_out"], self.w.astype(np.float16).astype(np.float32))

    def test_introspected_param_still_works(self):
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [2, 4])
        w = g.param("w", Ane.DType.FLOAT32, [4, 3])
        self.assertFalse(w.has_data())
        for symbolic in (g.param("s1", int(Ane.DType.FLOAT32), [2]),
                         g.param("s2", dtype=Ane.DType.INT32, shape=[2])):
            self.assertFalse(symbolic.has_data())
            self.assertEqual(list(symbolic.get_shape()), [2])
        g.add_output("y", g.matmul(x, w, False, False))
        exe = Ane.Executable.new(g, Ane.Backend.REFERENCE)
        exe.set_param("w", Ane.Tensor.from_numpy("w", self.w))
        exe.compile(None)
        np.testing.assert_allclose(exe.run({"x": self.x})["y"], self.x.astype(np.float64) @ self.w,
                                   rtol=1e-5, atol=1e-6)

    def test_run_dict_converts_to_declared_dtype(self):
        _, exe = self.affine(Ane.Backend.CPU)
        # float64 and a nested list both become the declared float32.
        out64 = exe.run({"x": self.x.astype(np.float64)})
        outlist = exe.run({"x": self.x.tolist()})
        self.assertEqual(list(out64), ["y", "relu"])
        self.assertEqual(out64["y"].dtype, np.float32)
        np.testing.assert_array_equal(out64["y"], outlist["y"])
        # A tensor is passed through (renamed to its key).
        out_t = exe.run({"x": Ane.Tensor.from_numpy("other", self.x)})
        np.testing.assert_array_equal(out_t["y"], out64["y"])

    def test_run_dict_names_the_bad_input(self):
        _, exe = self.affine()
        with self.assertAneError(Ane.Error.NOT_FOUND, "'z'"):
            exe.run({"x": self.x, "z": self.x})
        with self.assertAneError(Ane.Error.NOT_FOUND, "'x'", "not given"):
            exe.run({})
        with self.assertAneError(Ane.Error.SHAPE, "'x'"):
            exe.run({"x": self.x[:1]})

    def test_graph_compile(self):
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [3])
        g.add_output("y", g.exp(x))
        exe = g.compile(Ane.Backend.CPU, precision=Ane.Precision.FLOAT32)
        self.assertIsInstance(exe, Ane.Executable)
        self.assertTrue(exe.is_compiled())
        self.assertEqual(exe.get_backend(), Ane.Backend.CPU)
        self.assertIs(exe.get_graph(), g)
        values = np.array([0.0, 1.0, -2.5], np.float32)
        np.testing.assert_allclose(exe.run({"x": values})["y"], np.exp(values.astype(np.float64)),
                                   rtol=1e-6)
        # The library's error when the graph cannot compile (no outputs).
        with self.assertRaises(GLib.Error):
            Ane.Graph.new().compile(Ane.Backend.REFERENCE)

    def test_introspected_run_still_works(self):
        _, exe = self.affine()
        outs = exe.run([Ane.Tensor.from_numpy("x", self.x)], None)
        self.assertEqual([t.get_name() for t in outs], ["y", "relu"])
        np.testing.assert_array_equal(outs[0].to_numpy(), exe.run({"x": self.x})["y"])
        outs = exe.run([Ane.Tensor.from_numpy("x", self.x)])
        self.assertEqual(len(outs), 2)


class TestCompress(unittest.TestCase):
    """Package.compress and CompressConfig.make: keywords for the config."""

    def setUp(self):
        w = np.random.default_rng(5).standard_normal((64, 64)).astype(np.float32)
        g = Ane.Graph.new()
        x = g.input("x", Ane.DType.FLOAT32, [2, 64])
        g.add_output("y", g.matmul(x, g.param("w", w), False, True))
        self.pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS18, Ane.Precision.FLOAT16)

    def test_keywords(self):
        out = self.pkg.compress(palettize=4, granularity="per-grouped-channel", group_size=8)
        (w,) = out.get_compression_report().get_weights()
        self.assertEqual((w.mode, w.bits), ("palettize", 4))
        self.assertIn("group 8", w.detail)
        out = self.pkg.compress(quantize="uint4", block_size=16, symmetric=False)
        self.assertIn("per block (block 16)", out.get_compression_report().get_weights()[0].detail)
        out = self.pkg.compress(palettize=4, prune=0.5)
        self.assertEqual(out.get_compression_report().to_dict()["weights"][0]["mode"], "prune+palettize")
        out = self.pkg.compress(palettize=2, cluster_dim=2, seed=3)
        self.assertIn("vectors of 2", out.get_compression_report().get_weights()[0].detail)
        out = self.pkg.compress(prune_nm=(2, 4), min_size=10_000)
        self.assertEqual(out.get_compression_report().to_dict()["weights"], [])
        imp = np.ones((64, 64, 1, 1), np.float32)
        cfg = Ane.CompressConfig.make(palettize=2, importance={"w_kernel": imp})
        self.assertEqual(len(self.pkg.compress(cfg).get_compression_report().get_weights()), 1)

    def test_bad_keywords(self):
        with self.assertRaises(ValueError):
            self.pkg.compress(palettize=4, quantize="int8")
        with self.assertRaises(ValueError):
            self.pkg.compress(quantize="int3")
        with self.assertRaises(ValueError):
            self.pkg.compress(palettize=4, granularity="per-row")
        with self.assertRaises(ValueError):
            self.pkg.compress()
        with self.assertRaises(TypeError):
            self.pkg.compress(Ane.CompressConfig.new_palettize(4), palettize=4)


class TestUtf8Stream(unittest.TestCase):
    def test_euro_in_three_bytes(self):
        stream = Ane.Utf8Stream()
        out = [stream.feed(b) for b in (b"\xe2", b"\x82", b"\xac")]
        self.assertEqual(out, ["", "", "\u20ac"])
        self.assertEqual(stream.flush(), "")

    def test_never_raises(self):
        stream = Ane.Utf8Stream()
        self.assertEqual(stream.feed(b"a\xff"), "a\ufffd")
        self.assertEqual(stream.feed(GLib.Bytes.new(b"\xe2\x82")), "")
        self.assertEqual(stream.feed(b"b"), "\ufffdb")
        self.assertEqual(stream.feed(b"\xf0\x9f"), "")
        self.assertEqual(stream.flush(), "\ufffd")
        self.assertEqual(stream.feed(b"ok"), "ok")


@unittest.skipUnless(os.path.exists(os.path.join(MODELS, "stories260K.bin")), "data/models/stories260K.bin missing")
class TestGenerate(AneErrorMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Ane.LlamaModel.load_llama2c(os.path.join(MODELS, "stories260K.bin"))
        cls.tok = Ane.Tokenizer.load_llama2c(os.path.join(MODELS, "tok512.bin"),
                                             cls.model.get_vocab_size())

    def generate(self, **kwargs):
        kwargs.setdefault("precision", Ane.Precision.FLOAT32)
        return self.model.generate(self.tok, PROMPT, **kwargs)

    def test_keywords_match_the_introspected_call(self):
        got = []
        text = self.generate(max_tokens=24, temperature=0.0,
                             callback=lambda token, piece: got.append((token, piece)))
        want = Ane.LlamaModel.generate(self.model, self.tok, PROMPT, 24, Ane.Backend.CPU,
                                       Ane.Precision.FLOAT32, 0.0, 0.9, 0, None, None)
        self.assertEqual(text, want)
        self.assertGreater(len(text), 20)
        self.assertTrue(1 <= len(got) <= 24)
        self.assertEqual("".join(piece for _, piece in got), text)
        # max_tokens bounds the callback count.
        count = []
        self.generate(max_tokens=3, callback=lambda token, piece: count.append(token))
        self.assertEqual(len(count), 3)

    def test_ane_decode_step(self):
        # The Neural Engine-shaped step, driven from Python: the same greedy
        # tokens as the generic step (fp32, CPU backend).
        n = 32
        generic = self.model.build_decode(n).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        ane = self.model.build_ane_decode(n).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        names = [t.get_name() for t in self.model.ane_decode_inputs(1, 0, n)]
        self.assertEqual(names, ["x", "rope_cos", "rope_sin", "mask", "write_begin", "write_end"])
        token = 1
        for pos in range(12):
            want = generic.run({"token": np.array([token], np.int32),
                                "position": np.array([pos], np.int32)})["logits"].reshape(-1)
            got = ane.run(self.model.ane_decode_inputs(token, pos, n))[0].to_numpy().reshape(-1)
            self.assertLess(float(np.max(np.abs(got - want))), 1e-2)
            self.assertEqual(int(np.argmax(got)), int(np.argmax(want)))
            token = int(np.argmax(want))
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "position"):
            self.model.ane_decode_inputs(1, n, n)

    def test_ane_prefill(self):
        # The prompt in one call: the logits of its last token match the
        # generic step fed one token at a time.
        n, step, prompt = 32, 8, [1, 403, 407, 261, 378]
        generic = self.model.build_decode(n).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        for pos, token in enumerate(prompt):
            want = generic.run({"token": np.array([token], np.int32),
                                "position": np.array([pos], np.int32)})["logits"].reshape(-1)
        prefill = self.model.build_ane_prefill(step, n).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        inputs = self.model.ane_prefill_inputs(prompt, 0, step, n)
        self.assertEqual([t.get_name() for t in inputs],
                         ["x", "rope_cos", "rope_sin", "mask", "write_begin", "write_end"])
        self.assertEqual(inputs[5].to_numpy().tolist(), [1, self.model.get_n_kv_heads() *
                                                         (self.model.get_dim() // self.model.get_n_heads()), 1, step])
        logits = prefill.run(inputs)[0].to_numpy().reshape(-1, step)
        got = logits[:, len(prompt) - 1]
        self.assertLess(float(np.max(np.abs(got - want))), 3e-2)
        self.assertEqual(int(np.argmax(got)), int(np.argmax(want)))
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "fit"):
            self.model.ane_prefill_inputs(prompt * 2, 0, step, n)
        # a block past the cache end is refused on the host
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "past the cache"):
            self.model.ane_prefill_inputs(prompt, n - step + 1, step, n)
        # the one-hot form (the private path): float inputs only, same logits
        hot = self.model.build_ane_step(step, n, 0, self.model.get_n_layers(), Ane.LlamaHead.LOGITS,
                                        Ane.LlamaCacheWrite.ONE_HOT).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        hot_inputs = self.model.ane_step_inputs(Ane.LlamaCacheWrite.ONE_HOT, prompt, 0, step, n)
        self.assertEqual([t.get_name() for t in hot_inputs],
                         ["x", "rope_cos", "rope_sin", "mask", "write", "place"])
        hot_logits = hot.run(hot_inputs)[0].to_numpy().reshape(-1, step)
        self.assertLess(float(np.max(np.abs(hot_logits[:, len(prompt) - 1] - got))), 1e-2)

    def test_sampling_keywords(self):
        a = self.generate(max_tokens=20, temperature=1.0, top_p=0.9, seed=7)
        b = self.generate(max_tokens=20, temperature=1.0, top_p=0.9, seed=7)
        c = self.generate(max_tokens=20, temperature=1.0, top_p=0.9, seed=8)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_callback_false_stops(self):
        got = []

        def two(token, piece):
            got.append(token)
            return len(got) < 2

        self.generate(max_tokens=20, callback=two)
        self.assertEqual(len(got), 2)

    def test_bad_keywords(self):
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "temperature"):
            self.generate(temperature=-1.0)
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "max_tokens"):
            self.generate(max_tokens=0)
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "seed"):
            self.generate(seed=-1)

    def test_byte_tokens_never_raise(self):
        # A near-uniform sampler (temperature 1000, all tokens) emits the
        # byte-fallback tokens half the time: partial and broken UTF-8.
        for seed in range(40):
            got = []
            text = self.generate(max_tokens=60, temperature=1000.0, top_p=1.0, seed=seed,
                                 callback=lambda token, piece: got.append((token, piece)))
            high_bytes = [t for t, _ in got if BYTE_TOKEN_0 + 0x80 <= t < BYTE_TOKEN_0 + 0x100]
            if high_bytes:
                break
        self.assertTrue(high_bytes, "no seed gave a byte token >= 0x80")
        # Every callback text is whole characters; joined they are the text,
        # but for a character left unfinished at the end (U+FFFD).
        joined = "".join(piece for _, piece in got)
        self.assertIn(text, (joined, joined + "\ufffd"))
        tokens = [t for t, _ in got]
        prev = [self.tok.encode(PROMPT, True, False)[-1]] + tokens[:-1]
        raw = b"".join(self.tok.decode_token_bytes(p, t).get_data() or b"" for p, t in zip(prev, tokens))
        self.assertEqual(text, raw.decode("utf-8", errors="replace"))
        # The introspected call has to turn the pieces into str and fails.
        with self.assertRaises(UnicodeDecodeError):
            Ane.LlamaModel.generate(self.model, self.tok, PROMPT, 60, Ane.Backend.CPU,
                                    Ane.Precision.FLOAT32, 1000.0, 1.0, seed, None, None)

    def test_euro_streamed_whole_from_byte_tokens(self):
        ids = [BYTE_TOKEN_0 + b for b in b"\xe2\x82\xac"]
        self.assertEqual([self.tok.get_piece(i) for i in ids], ["<0xE2>", "<0x82>", "<0xAC>"])
        self.assertEqual(self.tok.dup_piece_bytes(ids[0]).get_data(), b"<0xE2>")
        self.assertIsNone(self.tok.dup_piece_bytes(self.tok.get_n_tokens()))
        pieces = [self.tok.decode_token_bytes(prev, i).get_data()
                  for prev, i in zip([self.tok.get_bos_id()] + ids, ids)]
        self.assertEqual(pieces, [b"\xe2", b"\x82", b"\xac"])
        stream = Ane.Utf8Stream()
        out = [stream.feed(p) for p in pieces]
        self.assertEqual(out, ["", "", "\u20ac"])
        self.assertEqual(out.count("\u20ac"), 1)
        # The str API cannot hand over a partial character.
        with self.assertRaises(UnicodeDecodeError):
            self.tok.decode_token(self.tok.get_bos_id(), ids[0])

    def test_callback_exception_reaches_the_caller(self):
        calls = []

        def boom(token, piece):
            calls.append(token)
            raise ValueError("stop here")

        with self.assertRaisesRegex(ValueError, "stop here"):
            self.generate(max_tokens=20, callback=boom)
        self.assertEqual(len(calls), 1)

    def test_introspected_callback_exception_reaches_the_caller(self):
        calls = []

        def boom(token, piece, *user_data):
            calls.append(token)
            raise KeyError("introspected")

        with self.assertRaises(KeyError):
            self.model.generate(self.tok, PROMPT, 20, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                0.0, 0.9, 0, boom, None)
        self.assertEqual(len(calls), 1)

    def test_generate_bytes_callback_exception_reaches_the_caller(self):
        pieces = []

        def boom(token, piece, *user_data):
            pieces.append(piece.get_data())
            raise OSError("bytes")

        with self.assertRaisesRegex(OSError, "bytes"):
            self.model.generate_bytes(self.tok, PROMPT, 20, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                      0.0, 0.9, 0, boom, None)
        self.assertEqual(len(pieces), 1)
        data = self.model.generate_bytes(self.tok, PROMPT, 20, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                         0.0, 0.9, 0, None, None)
        self.assertTrue(data.get_data().startswith(pieces[0]))

    def test_stream(self):
        text = self.generate(max_tokens=30)
        chunks = list(self.model.stream(self.tok, PROMPT, max_tokens=30, precision=Ane.Precision.FLOAT32))
        self.assertGreater(len(chunks), 1)
        self.assertEqual("".join(chunks), text)
        # Leaving early stops the generation thread.
        it = self.model.stream(self.tok, PROMPT, max_tokens=30, precision=Ane.Precision.FLOAT32)
        self.assertEqual(next(it), chunks[0])
        it.close()
        # Errors surface from the loop.
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "temperature"):
            list(self.model.stream(self.tok, PROMPT, temperature=-2.0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
