# anetest.py: helpers shared by the Python binding tests
#
# Conversions between numpy arrays and Ane.Tensor, and a unittest base class
# that builds one graph per test, feeds inputs, runs it on the reference
# backend and compares with a numpy formula.
#
# SPDX-License-Identifier: MIT

import functools
import os
import unittest
import zlib

import gi

gi.require_version("Ane", "1.0")
from gi.repository import Ane, GLib  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["STRICT", "Ane", "GLib", "np", "GraphTestCase", "to_tensor", "to_numpy",
           "block_tensor", "NUMPY_DTYPE", "ane_dtype_of"]

# ANE_TEST_STRICT=1 turns "op still pending" into a failure instead of a skip
# (meson sets it once the temporary placeholders are gone).
STRICT = os.environ.get("ANE_TEST_STRICT", "") not in ("", "0")

NUMPY_DTYPE = {
    Ane.DType.FLOAT32: np.float32,
    Ane.DType.FLOAT16: np.float16,
    Ane.DType.INT8: np.int8,
    Ane.DType.UINT8: np.uint8,
    Ane.DType.INT16: np.int16,
    Ane.DType.INT32: np.int32,
    Ane.DType.INT64: np.int64,
    Ane.DType.BOOL: np.bool_,
}


def ane_dtype_of(np_dtype):
    """The Ane.DType of a numpy dtype (float64 arrays map to float32)."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype == np.float64:
        return Ane.DType.FLOAT32
    for ane, npt in NUMPY_DTYPE.items():
        if np.dtype(npt) == np_dtype:
            return ane
    raise TypeError(f"no Ane dtype for numpy {np_dtype}")


def to_tensor(name, arr, dtype=None):
    """A concrete Ane.Tensor holding ``arr`` (converted to ``dtype``)."""
    arr = np.asarray(arr)
    if dtype is None:
        dtype = ane_dtype_of(arr.dtype)
    if dtype == Ane.DType.BFLOAT16:
        # bfloat16 is the top half of a binary32; truncation is fine for test data
        # made of values that are exact in bfloat16.
        bits = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32) >> 16
        data = bits.astype(np.uint16).tobytes()
    else:
        data = np.ascontiguousarray(arr, dtype=NUMPY_DTYPE[dtype]).tobytes()
    return Ane.Tensor.new_from_bytes(name, dtype, list(arr.shape), GLib.Bytes.new(data))


def block_tensor(name, dtype, shape, raw):
    """A tensor of a GGUF block dtype: ``shape`` is the logical element shape,
    ``raw`` the blocks back to back (bytes or a uint8 array)."""
    raw = bytes(np.asarray(raw, dtype=np.uint8).tobytes()) if not isinstance(raw, bytes) else raw
    return Ane.Tensor.new_from_bytes(name, dtype, list(shape), GLib.Bytes.new(raw))


def to_numpy(tensor):
    """The values of a concrete Ane.Tensor as a numpy array of its dtype."""
    dtype = tensor.get_dtype()
    shape = tuple(tensor.get_shape())
    raw = tensor.get_data().get_data()
    if dtype == Ane.DType.BFLOAT16:
        bits = np.frombuffer(raw, np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(raw, NUMPY_DTYPE[dtype]).reshape(shape).copy()


def _is_pending(err):
    """True for the temporary placeholder of a not-yet-written op, or a
    function the library does not export yet."""
    if not isinstance(err, GLib.Error):
        return False
    if err.matches(Ane.error_quark(), Ane.Error.UNSUPPORTED) and err.message.endswith("pending"):
        return True
    return err.domain == "g-invoke-error-quark" and "Could not locate" in err.message


def _skip_pending(test):
    """Turns a not-yet-written op into a skip (see STRICT)."""
    @functools.wraps(test)
    def wrapper(self, *args, **kwargs):
        try:
            return test(self, *args, **kwargs)
        except GLib.Error as err:
            if _is_pending(err) and not STRICT:
                raise unittest.SkipTest(f"op pending: {err.message}")
            raise
        except AttributeError as err:
            # A builder method without its doc comment yet is not introspectable.
            if "'Graph' object has no attribute" in str(err) and not STRICT:
                raise unittest.SkipTest(f"op pending: {err}")
            raise
    return wrapper


class GraphTestCase(unittest.TestCase):
    """One fresh graph per test.

    ``self.input(name, arr)`` declares an input and remembers ``arr`` as its
    feed; ``self.run_graph(*values)`` marks the values as outputs, runs the graph on
    the reference backend and returns numpy arrays.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and callable(value):
                setattr(cls, name, _skip_pending(value))

    def setUp(self):
        self.g = Ane.Graph.new()
        self.feeds = []
        # A seed of its own for every test, stable from run to run.
        self.rng = np.random.default_rng(zlib.crc32(self.id().encode()))

    # --- data -----------------------------------------------------------

    def randn(self, *shape, dtype=np.float32):
        return self.rng.standard_normal(shape).astype(dtype)

    def uniform(self, lo, hi, *shape, dtype=np.float32):
        return self.rng.uniform(lo, hi, shape).astype(dtype)

    def randint(self, lo, hi, *shape, dtype=np.int32):
        return self.rng.integers(lo, hi, shape).astype(dtype)

    # --- graph building ---------------------------------------------------

    def input(self, name, arr, dtype=None):
        t = to_tensor(name, arr, dtype)
        self.feeds.append(t)
        return self.g.input(name, t.get_dtype(), list(np.shape(arr)))

    def const(self, name, arr, dtype=None):
        return self.g.const(to_tensor(name, arr, dtype))

    def param(self, name, arr, dtype=None):
        return self.g.param_with_value(to_tensor(name, arr, dtype))

    def executable(self, *values):
        for i, v in enumerate(values):
            self.g.add_output(f"out{i}", v)
        exe = Ane.Executable.new(self.g, Ane.Backend.REFERENCE)
        exe.compile(None)
        return exe

    def run_graph(self, *values):
        """Runs the graph with the remembered feeds; one array per value."""
        exe = self.executable(*values)
        outs = [to_numpy(t) for t in exe.run(self.feeds, None)]
        return outs[0] if len(outs) == 1 else outs

    # --- assertions -------------------------------------------------------

    def assertClose(self, got, want, rtol=1e-5, atol=1e-6):
        want = np.asarray(want)
        self.assertEqual(tuple(got.shape), tuple(want.shape), "shape")
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=atol)

    def assertExact(self, got, want, dtype=None):
        want = np.asarray(want)
        if dtype is not None:
            want = want.astype(dtype)
        self.assertEqual(got.dtype, want.dtype, "dtype")
        self.assertEqual(tuple(got.shape), tuple(want.shape), "shape")
        np.testing.assert_array_equal(got, want)

    def assertAneError(self, code, *fragments):
        """Context manager: the block raises a GLib.Error in the Ane domain
        with ``code`` whose message contains every fragment."""
        return _AneErrorContext(self, code, fragments)


class _AneErrorContext:
    def __init__(self, case, code, fragments):
        self.case, self.code, self.fragments = case, code, fragments
        self.error = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        case = self.case
        if exc_type is None:
            case.fail(f"no GLib.Error raised (expected {self.code})")
        if not issubclass(exc_type, GLib.Error):
            return False
        if _is_pending(exc):
            return False  # let the pending skip handle it
        self.error = exc
        case.assertEqual(exc.domain, GLib.quark_to_string(Ane.error_quark()), exc.message)
        if self.code is not None:
            case.assertTrue(exc.matches(Ane.error_quark(), self.code),
                            f"expected {self.code}, got code {exc.code}: {exc.message}")
        for frag in self.fragments:
            case.assertIn(frag, exc.message)
        return True
