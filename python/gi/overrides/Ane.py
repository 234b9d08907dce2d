# Ane.py: PyGObject overrides of ane-glib's Ane-1.0 namespace
#
# PyGObject imports gi.overrides.Ane right after loading the Ane typelib and
# puts what __all__ names in place of the introspected classes, so
#
#     from gi.repository import Ane
#
# gives numpy conversions (Tensor.from_numpy, Tensor.to_numpy), dict in/out
# for Executable.run, Graph.param from an array, keyword arguments for
# LlamaModel.generate, text that is always whole characters (Utf8Stream,
# LlamaModel.stream) and a lint report's rows as named tuples
# (LintReport.ops, LintReport.findings), and a dict of functions for
# Package.new_from_graphs. Every introspected signature keeps working: an
# override only adds a spelling. See docs/python.md.
#
# numpy is imported on first use, so `from gi.repository import Ane` works
# without it.
#
# SPDX-License-Identifier: MIT

import codecs
import collections.abc
import contextlib
import ctypes
import queue
import random
import threading

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Ane = get_introspection_module("Ane")

__all__ = []


def _error(code, message):
    """A GLib.Error in the Ane domain, as the C library raises them."""
    return GLib.Error.new_literal(Ane.error_quark(), message, int(code))


def _numpy():
    import numpy
    return numpy


# The numpy dtype of each Ane dtype that numpy can hold as it is. bfloat16 is
# missing on purpose: numpy has no such type (it comes back as float32).
_NUMPY_NAME = {
    Ane.DType.FLOAT32: "float32",
    Ane.DType.FLOAT16: "float16",
    Ane.DType.INT8: "int8",
    Ane.DType.UINT8: "uint8",
    Ane.DType.INT16: "int16",
    Ane.DType.INT32: "int32",
    Ane.DType.INT64: "int64",
    Ane.DType.BOOL: "bool",
}


def _ane_dtype_of(np, np_dtype, name):
    """The Ane dtype an array of ``np_dtype`` becomes when none is asked for."""
    if np_dtype == np.float64:
        # numpy's default float; Ane has no float64 (CoreML computes in
        # float32 at most), so it rounds to float32 as numpy's astype does.
        return Ane.DType.FLOAT32
    for ane, np_name in _NUMPY_NAME.items():
        if np.dtype(np_name) == np_dtype:
            return ane
    raise _error(Ane.Error.DTYPE,
                 f"tensor '{name}': numpy dtype {np_dtype} has no Ane dtype "
                 "(use float32, float16, int8, uint8, int16, int32, int64 or bool)")


# --- zero-copy view of a tensor's GBytes -------------------------------------
#
# PyGObject copies a GBytes into a Python bytes object whenever its data is
# read (GLib.Bytes.get_data), so a view of the tensor's own memory needs the
# C pointer: ane_tensor_get_data () and g_bytes_get_data () through ctypes, on
# the library GI itself loaded. When that is not possible the view falls back
# to one copy.

# The library's file names as meson builds them (soversion 0). Opening one of
# them returns the copy already loaded when GI loaded it under that name.
_SONAMES = ("libane-glib-1.0.so.0", "libane-glib-1.0.0.dylib", "ane-glib-1.0-0.dll")

_c_functions = None


def _typelib_shared_library():
    """The library names the Ane typelib gives (what GI dlopen()ed). Asked
    last: it needs the GIRepository 2.0 typelib, which newer PyGObjects
    built on libgirepository-2.0 must not load."""
    try:
        import gi
        gi.require_version("GIRepository", "2.0")
        from gi.repository import GIRepository
        return (GIRepository.Repository.get_default().get_shared_library("Ane") or "").split(",")
    except (ImportError, ValueError, AttributeError):
        return []


def _open_library():
    for names in (_SONAMES, None):
        for name in names if names is not None else _typelib_shared_library():
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    return None


def _load_c_functions():
    global _c_functions
    if _c_functions is not None:
        return _c_functions or None
    _c_functions = False
    ane = _open_library()
    if ane is None:
        return None
    try:
        capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        capsule_pointer.restype = ctypes.c_void_p
        capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        get_data = ane.ane_tensor_get_data
        get_data.restype = ctypes.c_void_p
        get_data.argtypes = [ctypes.c_void_p]
        # dlsym () on the library's handle searches its dependencies too:
        # this is the GLib libane-glib is linked with.
        bytes_data = ane.g_bytes_get_data
        bytes_data.restype = ctypes.c_void_p
        bytes_data.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    except AttributeError:
        return None
    _c_functions = (capsule_pointer, get_data, bytes_data)
    return _c_functions


def _data_buffer(tensor):
    """A read-only buffer over the tensor's bytes that keeps the tensor alive:
    its own memory where ctypes can reach it, else a copy."""
    c = _load_c_functions()
    if c is None:
        return tensor.get_data().get_data()
    capsule_pointer, get_data, bytes_data = c
    gbytes = get_data(capsule_pointer(tensor.__gpointer__, None))
    size = ctypes.c_size_t(0)
    address = bytes_data(gbytes, ctypes.byref(size))
    if not address or size.value == 0:
        return b""
    memory = (ctypes.c_char * size.value).from_address(address)
    # The tensor owns the GBytes; the memory must not outlive it.
    memory._ane_tensor = tensor
    # GBytes are immutable: a read-only memoryview keeps numpy from ever
    # making the array writable again.
    return memoryview(memory).toreadonly()


def _contiguous_bytes(np, array, np_name):
    return GLib.Bytes.new(np.ascontiguousarray(array, dtype=np_name).tobytes())


@override
class Tensor(Ane.Tensor):
    """A named, typed, shaped value (see the C documentation of AneTensor),
    with numpy conversions: ``Tensor.from_numpy`` and ``tensor.to_numpy()``.
    ``numpy.asarray(tensor)`` works too."""

    @classmethod
    def from_numpy(cls, name, array, dtype=None, shape=None):
        """A concrete tensor called ``name`` holding the values of ``array``.

        ``array`` is anything ``numpy.asarray`` takes (any strides and any
        rank, 0 included). Without ``dtype`` the tensor has the array's dtype
        (float64 becomes float32; a dtype Ane lacks raises a ``GLib.Error``
        with ``Ane.Error.DTYPE``). With ``dtype`` the values are converted as
        ``Tensor.convert`` does: floats round to nearest even, integers
        truncate toward zero and saturate. ``Ane.DType.BFLOAT16`` therefore
        rounds float32 values to the nearest bfloat16.

        For a block-quantized ``dtype`` (``Q8_0``, ``Q4_K``, ...) ``array`` is
        the raw blocks (uint8) and ``shape`` the logical element shape.

        The values are copied once: the tensor's bytes are immutable and a
        numpy array is not.
        """
        np = _numpy()
        if dtype is not None and Ane.dtype_is_block(dtype):
            if shape is None:
                raise _error(Ane.Error.INVALID_ARGUMENT,
                             f"tensor '{name}': a {Ane.dtype_to_string(dtype)} tensor "
                             "needs shape= (the array holds raw blocks)")
            raw = np.ascontiguousarray(array, dtype=np.uint8)
            return cls.new_from_bytes(name, dtype, [int(d) for d in shape],
                                      GLib.Bytes.new(raw.tobytes()))
        if shape is not None:
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"tensor '{name}': shape= is for block-quantized dtypes only; "
                         "the array's shape is the tensor's")
        array = np.asarray(array)
        natural = _ane_dtype_of(np, array.dtype, name)
        dims = [int(d) for d in array.shape]
        if dtype is None or dtype == natural:
            data = _contiguous_bytes(np, array, _NUMPY_NAME[natural])
            return cls.new_from_bytes(name, natural, dims, data)
        if dtype in _NUMPY_NAME and array.dtype.kind == "f" and _NUMPY_NAME[dtype].startswith("float"):
            # float to float: numpy rounds to nearest even straight from the
            # source precision, which avoids rounding float64 twice.
            data = _contiguous_bytes(np, array, _NUMPY_NAME[dtype])
            return cls.new_from_bytes(name, dtype, dims, data)
        tensor = cls.new_from_bytes(name, natural, dims, _contiguous_bytes(np, array, _NUMPY_NAME[natural]))
        return tensor.convert(dtype)

    def to_numpy(self):
        """The tensor's values as a numpy array of its shape.

        For float32, float16, int8, uint8, int16, int32, int64 and bool the
        array is a read-only view of the tensor's own bytes (no copy; it keeps
        the tensor alive): call ``.copy()`` for a writable array. numpy has no
        bfloat16, so a bfloat16 tensor comes back as a new float32 array of
        the same values (exact: every bfloat16 is a float32). A
        block-quantized tensor comes back as its raw blocks, a 1-D uint8
        array. A symbolic tensor (a value of a graph) has no data and raises
        a ``GLib.Error`` with ``Ane.Error.INVALID_ARGUMENT``.
        """
        np = _numpy()
        if not self.has_data():
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"tensor '{self.get_name()}' is symbolic (a graph value): "
                         "it has no data to convert; run the graph to get values")
        dtype = self.get_dtype()
        shape = tuple(self.get_shape())
        buffer = _data_buffer(self)
        if Ane.dtype_is_block(dtype):
            return np.frombuffer(buffer, dtype=np.uint8)
        if dtype == Ane.DType.BFLOAT16:
            # bfloat16 is the top half of a binary32 (Intel's BF16 spec,
            # document 338302): widen by shifting the bits up.
            bits = np.frombuffer(buffer, dtype=np.uint16).astype(np.uint32) << 16
            return bits.view(np.float32).reshape(shape)
        array = np.frombuffer(buffer, dtype=_NUMPY_NAME[dtype]).reshape(shape)
        array.flags.writeable = False
        return array

    def __array__(self, dtype=None, copy=None):
        """numpy's conversion protocol: ``numpy.asarray(tensor)``."""
        array = self.to_numpy()
        return array if dtype is None else array.astype(dtype)


__all__.append("Tensor")


@override
class Graph(Ane.Graph):
    """A tensor graph under construction (see the C documentation of
    AneGraph); ``param`` also takes a numpy array and ``compile`` makes a
    compiled executable in one call."""

    def param(self, name, *args, **kwargs):
        """Declares a named weight.

        ``graph.param("w", array)`` (or ``graph.param("w", array,
        Ane.DType.FLOAT16)``, ``dtype=`` as a keyword too) declares a
        weight whose dtype and shape come from the array and whose value is
        bound to it, as ``param_with_value(Tensor.from_numpy("w", array,
        dtype))`` does.
        ``graph.param("w", dtype, shape)`` is the introspected call: a weight
        whose value is supplied later.
        """
        # An array is never an Ane.DType; (name, dtype, shape) is the
        # introspected call whatever the dtype is spelled as.
        from_array = ((len(args) == 1 and not isinstance(args[0], Ane.DType) and set(kwargs) <= {"dtype"})
                      or (len(args) == 2 and isinstance(args[1], Ane.DType) and not kwargs))
        if not from_array:
            return Ane.Graph.param(self, name, *args, **kwargs)
        dtype = args[1] if len(args) == 2 else kwargs.get("dtype")
        return self.param_with_value(Tensor.from_numpy(name, args[0], dtype=dtype))

    def compile(self, backend=Ane.Backend.AUTO, precision=None, cancellable=None):
        """An ``Ane.Executable`` of the graph on ``backend``, compiled.

        The same as ``Executable.new(graph, backend)``, ``set_precision``
        when ``precision`` is given (the C default is float16, as on the
        device), then ``compile(cancellable)``; a failure raises the
        library's ``GLib.Error``.

            probs = graph.compile(Ane.Backend.CPU).run({"x": x})["probabilities"]
        """
        exe = Executable.new(self, backend)
        if precision is not None:
            exe.set_precision(precision)
        exe.compile(cancellable)
        return exe

    def set_input_shapes(self, name, shapes):
        """Lets input ``name`` take any of ``shapes`` (a list of shapes, or
        the introspected flat list of sizes), as coremltools'
        ``EnumeratedShapes``; its declared shape must be one of them::

            g.set_input_shapes("x", [(1, 3, 224, 224), (1, 3, 320, 320)])
        """
        flat = []
        for item in shapes:
            if isinstance(item, (list, tuple)):
                flat.extend(int(d) for d in item)
            else:
                flat.append(int(item))
        return Ane.Graph.set_input_shapes(self, name, flat)

    @staticmethod
    def load_onnx(path, options=None, input_shapes=None, input_values=None, input_ranges=None,
                  input_enumerated=None):
        """Imports an ONNX model (``ane_graph_load_onnx``).

        ``input_shapes`` maps input names to shapes (binding symbolic
        dims), ``input_values`` input names to constants: an ``Ane.Tensor``,
        a numpy array, a number or a list of numbers (integers are given as
        int64, the importer converts to the input's ONNX type)::

            g = Ane.Graph.load_onnx("silero_vad.onnx",
                                    input_shapes={"input": [1, 576]},
                                    input_values={"sr": 16000})

        Flexible inputs: ``input_ranges`` maps an input to ``{axis: (lower,
        upper)}``, ``input_enumerated`` to a list of shapes; the default
        shape is ``input_shapes``' (else the model's)::

            g = Ane.Graph.load_onnx("det.onnx", input_shapes={"x": [1, 3, 640, 640]},
                                    input_ranges={"x": {2: (320, 1280), 3: (320, 1280)}})

        ``Ane.Graph.load_onnx(path, options)`` with an
        ``Ane.OnnxImportOptions`` is the introspected call; both may be
        given, the keywords adding to the options.
        """
        if input_shapes or input_values or input_ranges or input_enumerated:
            if options is None:
                options = Ane.OnnxImportOptions.new()
            for name, shape in (input_shapes or {}).items():
                options.set_input_shape(name, [int(d) for d in shape])
            for name, value in (input_values or {}).items():
                options.set_input_value(name, _onnx_value(name, value))
            for name, axes in (input_ranges or {}).items():
                for axis, (lower, upper) in axes.items():
                    options.set_input_range(name, int(axis), int(lower), int(upper))
            for name, shapes in (input_enumerated or {}).items():
                options.set_input_shapes(name, [int(d) for shape in shapes for d in shape])
        return Ane.Graph.load_onnx(path, options)


def _onnx_value(name, value):
    """A tensor for an input bound by ``Graph.load_onnx``'s input_values."""
    if isinstance(value, Ane.Tensor):
        return value
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return Tensor.from_numpy(name, value)
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    shape = [] if not isinstance(value, (list, tuple)) else [len(values)]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        data = b"".join(int(v).to_bytes(8, "little", signed=True) for v in values)
        return Ane.Tensor.new_from_bytes(name, Ane.DType.INT64, shape, GLib.Bytes.new(data))
    return Ane.Tensor.new_from_floats(name, shape, [float(v) for v in values])


__all__.append("Graph")


@override
class Executable(Ane.Executable):
    """A compiled graph bound to a backend (see the C documentation of
    AneExecutable); ``run`` also takes and returns dicts of numpy arrays."""

    def run(self, inputs, cancellable=None):
        """Runs the graph once.

        ``exe.run({"x": array, ...})`` converts each array to the dtype the
        graph declares for that input and returns a dict output name ->
        numpy array (``Tensor.to_numpy``). A value may also be an
        ``Ane.Tensor``. A name the graph does not declare, or a declared
        input left out, raises the library's ``GLib.Error`` naming the input.

        ``exe.run([tensor, ...], cancellable)`` is the introspected call: a
        list of tensors named as the inputs, returning a list of tensors.
        """
        if not isinstance(inputs, collections.abc.Mapping):
            return Ane.Executable.run(self, inputs, cancellable)
        graph = self.get_graph()
        declared = {t.get_name(): t.get_dtype() for t in graph.list_inputs()} if graph else {}
        tensors = []
        for name, value in inputs.items():
            if isinstance(value, Ane.Tensor):
                tensors.append(value if value.get_name() == name else value.rename(name))
            else:
                tensors.append(Tensor.from_numpy(name, value, dtype=declared.get(name)))
        outputs = Ane.Executable.run(self, tensors, cancellable)
        # The outputs come in the graph's output order; their tensors' own
        # names may be the lowered program's (the CPU backend renames an
        # output that clashes with an op), so the graph names the keys.
        names = [t.get_name() for t in graph.list_outputs()] if graph else [t.get_name() for t in outputs]
        return {name: t.to_numpy() for name, t in zip(names, outputs)}


__all__.append("Executable")


_buffer_lock = None


def _load_buffer_lock():
    """ane_buffer_lock through ctypes (PyGObject cannot hand a raw pointer
    to numpy), with the capsule unwrapper; None when unreachable."""
    global _buffer_lock
    if _buffer_lock is not None:
        return _buffer_lock or None
    _buffer_lock = False
    c = _load_c_functions()
    ane = _open_library()
    if c is None or ane is None:
        return None
    try:
        lock = ane.ane_buffer_lock
    except AttributeError:
        return None
    lock.restype = ctypes.c_void_p
    lock.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
    _buffer_lock = (c[0], lock)
    return _buffer_lock


@override
class Buffer(Ane.Buffer):
    """Memory of an executable's port in its backend's layout (see the C
    documentation of AneBuffer); ``mapped()`` gives it to numpy without a
    copy."""

    @contextlib.contextmanager
    def mapped(self, read_only=False):
        """A numpy array over the buffer's own memory, for a ``with`` block.

            with x.mapped() as a:
                a[...] = values          # written where the run reads it
            exe.run_bound()

        The array has the buffer's shape, its dtype in memory
        (``get_dtype()``: float32 or int32 on the CPU backend, float16 on
        the Neural Engine's path) and its strides (row padding skipped), so
        nothing is copied. The buffer is locked inside the block (a run
        refuses it then) and unlocked after; do not keep the array past
        the block. ``read_only=True`` gives a read-only array.
        """
        np = _numpy()
        c = _load_buffer_lock()
        if c is None:
            raise _error(Ane.Error.UNSUPPORTED, "Buffer.mapped: ane_buffer_lock cannot be reached through ctypes; "
                         "use write_tensor / dup_tensor")
        capsule_pointer, lock = c
        size = ctypes.c_size_t(0)
        address = lock(capsule_pointer(self.__gpointer__, None), 1 if read_only else 0, ctypes.byref(size), None)
        if not address:
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"buffer '{self.get_name()}' cannot be mapped (locked already, or the surface failed)")
        try:
            memory = (ctypes.c_char * size.value).from_address(address)
            array = np.ndarray(tuple(self.get_shape()), dtype=_NUMPY_NAME[self.get_dtype()], buffer=memory,
                               strides=tuple(self.get_strides()))
            if read_only:
                array.flags.writeable = False
            yield array
        finally:
            self.unlock()


__all__.append("Buffer")


@override
class Package(Ane.Package):
    """A CoreML .mlpackage (see the C documentation of AnePackage);
    ``new_from_graphs`` also takes a dict function name -> graph."""

    @classmethod
    def new_from_graphs(cls, functions, *args, **kwargs):
        """One package of several graphs, one function each, sharing weights.

        ``Ane.Package.new_from_graphs({"prefill": g1, "decode": g2}, target,
        precision)``: the dict's order is the functions' order, the first
        the default function. ``new_from_graphs(names, graphs, target,
        precision)`` is the introspected call; lists of different lengths
        raise ``ValueError`` rather than reach the library.
        """
        if isinstance(functions, collections.abc.Mapping):
            return Ane.Package.new_from_graphs(list(functions.keys()), list(functions.values()),
                                               *args, **kwargs)
        graphs = args[0] if args else kwargs.get("graphs")
        if graphs is not None and len(functions) != len(graphs):
            raise ValueError("new_from_graphs: %d names for %d graphs" % (len(functions), len(graphs)))
        return Ane.Package.new_from_graphs(functions, *args, **kwargs)

    def compress(self, config=None, cancellable=None, progress=None, **options):
        """Compresses the package's weights into a new package (see the C
        documentation of ane_package_compress): give an Ane.CompressConfig,
        or its settings as keywords (see ``CompressConfig.make``), e.g.
        ``pkg.compress(palettize=4, granularity="per-grouped-channel",
        group_size=8)`` or ``pkg.compress(quantize="int4", block_size=32)``."""
        if config is None:
            config = CompressConfig.make(**options)
        elif options:
            raise TypeError("compress: give a config or keywords, not both")
        return Ane.Package.compress(self, config, cancellable, progress)


__all__.append("Package")


_GRANULARITIES = {
    "per-tensor": Ane.CompressGranularity.TENSOR,
    "per-channel": Ane.CompressGranularity.CHANNEL,
    "per-grouped-channel": Ane.CompressGranularity.GROUPED_CHANNEL,
    "per-block": Ane.CompressGranularity.BLOCK,
}
_QUANT_DTYPES = {"int8": (8, True), "uint8": (8, False), "int4": (4, True), "uint4": (4, False)}


@override
class CompressConfig(Ane.CompressConfig):
    """What Ane.Package.compress does (see the C documentation of
    AneCompressConfig); ``make`` builds one from keywords."""

    @classmethod
    def make(cls, palettize=None, quantize=None, prune=None, prune_nm=None, prune_threshold=None,
             granularity=None, group_size=0, block_size=0, method=None, cluster_dim=None, int8_lut=False,
             symmetric=None, min_size=None, select=None, op_type=None, importance=None, seed=None):
        """A config from keywords, one of ``palettize`` (bits: 1, 2, 3, 4, 6,
        8), ``quantize`` ("int8", "uint8", "int4", "uint4") or pruning alone
        (``prune`` a target sparsity, ``prune_nm`` an (n, m) pair,
        ``prune_threshold`` a magnitude); pruning given with ``palettize``
        or ``quantize`` makes the joint form (iOS18). ``granularity`` is
        "per-tensor", "per-channel", "per-grouped-channel" (with
        ``group_size``) or "per-block" (with ``block_size``; giving
        ``block_size`` alone implies it); ``method`` "kmeans" or "uniform";
        ``importance`` a dict weight name -> Ane.Tensor (or numpy array);
        ``seed`` the k-means++ seed of vector palettization."""
        if palettize is not None and quantize is not None:
            raise ValueError("CompressConfig.make: palettize or quantize, not both")
        if palettize is not None:
            config = Ane.CompressConfig.new_palettize(int(palettize))
        elif quantize is not None:
            if quantize not in _QUANT_DTYPES:
                raise ValueError("CompressConfig.make: quantize is one of %s, not %r"
                                 % (", ".join(_QUANT_DTYPES), quantize))
            config = Ane.CompressConfig.new_quantize(*_QUANT_DTYPES[quantize])
        elif prune is not None:
            config = Ane.CompressConfig.new_prune(float(prune))
            prune = None
        elif prune_nm is not None:
            config = Ane.CompressConfig.new_prune_n_m(*prune_nm)
            prune_nm = None
        elif prune_threshold is not None:
            config = Ane.CompressConfig.new_prune(0.0)
        else:
            raise ValueError("CompressConfig.make: give palettize, quantize, prune, prune_nm or prune_threshold")
        if block_size and granularity is None:
            granularity = "per-block"
        if granularity is not None:
            if granularity not in _GRANULARITIES:
                raise ValueError("CompressConfig.make: granularity is one of %s, not %r"
                                 % (", ".join(_GRANULARITIES), granularity))
            size = group_size if granularity == "per-grouped-channel" else block_size
            config.set_granularity(_GRANULARITIES[granularity], int(size or 0))
        if method is not None:
            if method not in ("kmeans", "uniform"):
                raise ValueError("CompressConfig.make: method is 'kmeans' or 'uniform', not %r" % (method,))
            config.set_method(Ane.PalettizeMethod.KMEANS if method == "kmeans" else Ane.PalettizeMethod.UNIFORM)
        if cluster_dim is not None:
            config.set_cluster_dim(int(cluster_dim))
        if int8_lut:
            config.set_int8_lut(True)
        if seed is not None:
            config.set_seed(int(seed))
        if symmetric is not None:
            config.set_symmetric(bool(symmetric))
        if prune is not None:
            config.set_prune_sparsity(float(prune))
        if prune_nm is not None:
            config.set_prune_n_m(*prune_nm)
        if prune_threshold is not None:
            config.set_prune_threshold(float(prune_threshold))
        if min_size is not None:
            config.set_min_size(int(min_size))
        if select is not None:
            config.set_select(select)
        if op_type is not None:
            config.set_op_type(op_type)
        for name, value in (importance or {}).items():
            if not isinstance(value, Ane.Tensor):
                value = Tensor.from_numpy(name, value, Ane.DType.FLOAT32)
            config.set_importance(name, value)
        return config


@override
class CompressReport(Ane.CompressReport):
    """What a compression did (see the C documentation of
    AneCompressReport); ``to_dict()`` is its JSON as Python values."""

    def to_dict(self):
        """The report as a dict: bytes_before, bytes_after, ratio and a list
        of weights (name, op_type, mode, detail, bits, bytes_before,
        bytes_after, max_error, rms_error, sparsity)."""
        import json
        return json.loads(self.to_json())


__all__ += ["CompressConfig", "CompressReport"]


# --- the ANE lint ------------------------------------------------------------

LintOp = collections.namedtuple("LintOp", "function type name verdict rules message cost")
LintOp.__doc__ = "One compute operation of an Ane.LintReport (see LintReport.ops)."
LintFinding = collections.namedtuple("LintFinding", "rule function op message")
LintFinding.__doc__ = ("One firing of a rule in an Ane.LintReport: ``op`` is an index into "
                       "LintReport.ops(), or -1 for a rule about the whole function.")


@override
class LintReport(Ane.LintReport):
    """What the ANE lint found (see the C documentation of AneLintReport);
    ``ops()`` and ``findings()`` give its rows as named tuples."""

    def ops(self):
        """Every compute operation, in program order, as ``LintOp(function,
        type, name, verdict, rules, message, cost)``: ``verdict`` an
        ``Ane.LintVerdict``, ``rules`` the list of rule ids that fired."""
        return [LintOp(self.get_op_function(i), self.get_op_type(i), self.get_op_name(i),
                       self.get_op_verdict(i), list(self.get_op_rules(i)),
                       self.get_op_message(i), self.get_op_cost(i))
                for i in range(self.get_n_ops())]

    def findings(self):
        """Every firing of a rule, as ``LintFinding(rule, function, op,
        message)``; ``Ane.LintRule.lookup(finding.rule)`` explains it."""
        return [LintFinding(self.get_finding_rule(i), self.get_finding_function(i),
                            self.get_finding_op(i), self.get_finding_message(i))
                for i in range(self.get_n_findings())]


__all__ += ["LintReport", "LintOp", "LintFinding"]


class Utf8Stream:
    """Turns a stream of byte pieces into text made of whole characters.

    A generated token may be a part of a UTF-8 character (llama2.c's
    byte-fallback tokens: '€' is ``<0xE2>`` ``<0x82>`` ``<0xAC>``).
    ``feed(piece)`` returns the characters completed so far and holds back an
    unfinished one; ``flush()`` returns what is left at the end. Bytes that
    can never be UTF-8 become U+FFFD: a stream never raises
    ``UnicodeDecodeError``.

        stream = Ane.Utf8Stream()
        for piece in (b"\\xe2", b"\\x82", b"\\xac"):
            print(stream.feed(piece), end="")     # prints '€' once, at the end
    """

    def __init__(self):
        """An empty stream."""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece):
        """Adds ``piece`` (bytes, or a GLib.Bytes) and returns the characters
        it completes (maybe the empty string)."""
        if isinstance(piece, GLib.Bytes):
            piece = piece.get_data() or b""
        return self._decoder.decode(bytes(piece))

    def flush(self):
        """Ends the stream: returns the held-back bytes of an unfinished
        character as U+FFFD (or the empty string) and starts afresh."""
        text = self._decoder.decode(b"", final=True)
        self._decoder.reset()
        return text


__all__.append("Utf8Stream")


class _CallbackGuard:
    """Wraps a Python callback that C calls: an exception stops the C call
    (the callback returns ``stop``) and is kept to be raised once the C call
    has returned, instead of PyGObject printing it and going on."""

    def __init__(self, callback, stop=False):
        self.callback = callback
        self.stop = stop
        self.exception = None

    def __call__(self, *args):
        if self.exception is not None:
            return self.stop
        try:
            return self.callback(*args)
        except BaseException as exc:  # noqa: B036 - re-raised by reraise()
            self.exception = exc
            return self.stop

    def reraise(self):
        if self.exception is not None:
            exc, self.exception = self.exception, None
            raise exc


# The index of the callback among ane_llama_model_generate ()'s (and
# _generate_bytes ()'s) arguments after the prompt: n_tokens, backend,
# precision, temperature, top_p, seed, callback, user_data.
_GENERATE_CALLBACK_INDEX = 6


def _call_guarded(method, model, tokenizer, prompt, args):
    """Calls an introspected generate method with its callback wrapped in a
    _CallbackGuard, then raises what the callback raised."""
    args = list(args)
    guard = None
    if len(args) > _GENERATE_CALLBACK_INDEX and callable(args[_GENERATE_CALLBACK_INDEX]):
        guard = args[_GENERATE_CALLBACK_INDEX] = _CallbackGuard(args[_GENERATE_CALLBACK_INDEX])
    result = method(model, tokenizer, prompt, *args)
    if guard is not None:
        guard.reraise()
    return result


@override
class LlamaModel(Ane.LlamaModel):
    """A LLaMA-architecture model (see the C documentation of AneLlamaModel);
    ``generate`` takes keyword arguments and ``stream`` yields text as it is
    generated."""

    def generate(self, tokenizer, prompt, *args, max_tokens=256, temperature=0.0, top_p=0.9,
                 seed=None, backend=Ane.Backend.CPU, precision=Ane.Precision.FLOAT16,
                 callback=None):
        """Generates a continuation of ``prompt`` and returns it as a str.

        ``max_tokens`` bounds the tokens generated (>= 1); ``temperature`` 0
        decodes greedily, else samples with that temperature among the
        ``top_p`` nucleus; ``seed`` makes sampling reproducible (None: a
        random seed); ``backend`` and ``precision`` as in the C call.

        ``callback(token, text)`` is called once per generated token with
        the token id and the text it completes: whole characters only (''
        while a multi-byte character is unfinished), so the texts joined are
        the generated text. Return False to stop; None or True goes on. An
        exception raised by the callback stops generation and is raised
        from ``generate``. A character left unfinished when generation stops
        ends the returned text as U+FFFD.

        The introspected call, ``generate(tokenizer, prompt, n_tokens,
        backend, precision, temperature, top_p, seed, callback, user_data)``,
        works too (its callback gets raw ``str`` pieces, which fail for
        partial characters); an exception in its callback is raised as well.
        """
        if args:
            return _call_guarded(Ane.LlamaModel.generate, self, tokenizer, prompt, args)

        # n_tokens is a guint; bool is an int to Python but not a count.
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) \
                or not 1 <= max_tokens <= 0xFFFFFFFF:
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"generate: max_tokens must be an integer from 1 to 2^32-1, got {max_tokens!r}")
        if not temperature >= 0.0:   # NaN too
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"generate: temperature must be 0 (greedy) or positive, got {temperature!r}")
        if seed is None:
            seed = random.getrandbits(64)
        elif not 0 <= seed < 1 << 64:
            raise _error(Ane.Error.INVALID_ARGUMENT,
                         f"generate: seed must be from 0 to 2^64-1, got {seed!r}")

        stream = Utf8Stream()

        def on_piece(token, piece, *user_data):
            text = stream.feed(piece)
            if callback is None:
                return True
            return callback(token, text) is not False

        guard = _CallbackGuard(on_piece)
        data = Ane.LlamaModel.generate_bytes(self, tokenizer, prompt, max_tokens, backend, precision,
                                             float(temperature), float(top_p), seed, guard, None)
        guard.reraise()
        return (data.get_data() or b"").decode("utf-8", errors="replace")

    def generate_bytes(self, tokenizer, prompt, *args):
        """The introspected ``generate_bytes(tokenizer, prompt, n_tokens,
        backend, precision, temperature, top_p, seed, callback, user_data)``
        (pieces and text as ``GLib.Bytes``), but an exception raised by the
        callback stops generation and is raised from the call."""
        return _call_guarded(Ane.LlamaModel.generate_bytes, self, tokenizer, prompt, args)

    def stream(self, tokenizer, prompt, **kwargs):
        """Yields the generated text as it comes, in whole characters.

        Takes the keyword arguments of ``generate`` (but ``callback``) and
        runs it in a thread; the chunks joined are what ``generate`` returns.
        Leaving the loop early (``break``, or closing the generator) stops
        generation after the current token. An error of the generation is
        raised from the loop.

            for text in model.stream(tokenizer, "Once upon a time", max_tokens=50):
                print(text, end="", flush=True)
        """
        if "callback" in kwargs:
            raise TypeError("LlamaModel.stream() takes no callback: it yields the text")
        chunks = queue.Queue()
        stop = threading.Event()
        done = object()

        def on_text(token, text):
            if text:
                chunks.put(text)
            return not stop.is_set()

        def work():
            try:
                chunks.put((done, self.generate(tokenizer, prompt, callback=on_text, **kwargs)))
            except BaseException as exc:  # noqa: B036 - raised by the consumer
                chunks.put(exc)

        thread = threading.Thread(target=work, name="Ane.LlamaModel.stream", daemon=True)
        thread.start()
        yielded = []
        try:
            while True:
                item = chunks.get()
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, tuple) and item[0] is done:
                    # An unfinished last character (U+FFFD) only shows in the text.
                    rest = item[1][len("".join(yielded)):]
                    if rest:
                        yield rest
                    return
                yielded.append(item)
                yield item
        finally:
            stop.set()
            thread.join()


__all__.append("LlamaModel")
