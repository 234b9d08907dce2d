#!/usr/bin/env python3
# compare_compression.py: ane-glib's compression side by side with coremltools'
#
# The same float16 weights (an iOS18 and an iOS16 package written by
# ane-glib) are compressed twice with the same settings: by coremltools'
# ct.optimize.coreml (palettize_weights, linear_quantize_weights,
# prune_weights) and by Ane.Package.compress. Both results are then read
# back by coremltools' own milproto loader, and each constexpr op's
# decompressed value (op.materialized_val_inference, Apple's reference
# semantics) is compared with the original weights. For every mode:
#
#   - our package loads in coremltools, passes its type inference and
#     ct.convert (check_coremltools.check), and decompresses there to exactly
#     what our CPU backend computes (the reading agrees);
#   - our reconstruction error (RMS and max) is no worse than coremltools'
#     beyond the stated tolerance: 1e-3 relative (our scalar k-means is exact
#     1-D k-means, like coremltools' kmeans1d path and better than its
#     scikit-learn path for small groups; the last ulp of fp16 rounding may
#     differ); 5% for vector palettization, where both run k-means++ and
#     Lloyd from different random draws (only the RMS: k-means does not
#     minimise the largest error);
#   - the weight files have the same size to within the metadata: records
#     and alignment, at most 128 bytes a weight plus 64 for the file.
#
# Runs with the interpreter that has coremltools (tools/quickstart.sh's
# _venv, made with --system-site-packages so PyGObject is there too).
#
# SPDX-License-Identifier: MIT

import logging
import os
import sys
import tempfile
import unittest
import warnings

logging.disable(logging.WARNING)
warnings.simplefilter("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Ane", "1.0")
from gi.repository import Ane, GLib  # noqa: E402

_stderr = sys.stderr
sys.stderr = open(os.devnull, "w")
try:
    import coremltools as ct  # noqa: E402
    import coremltools.optimize.coreml as cto  # noqa: E402
    from coremltools.converters.mil.frontend.milproto import load as milproto  # noqa: E402
    from coremltools.converters.mil.mil import types  # noqa: E402
finally:
    sys.stderr.close()
    sys.stderr = _stderr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_coremltools import check  # noqa: E402

G = Ane.CompressGranularity
TOL = 1e-3
VECTOR_TOL = 0.05


def tensor(name, arr):
    return Ane.Tensor.new_from_bytes(name, Ane.DType.FLOAT32, list(arr.shape), GLib.Bytes.new(arr.tobytes()))


def float_package(weights, target):
    """Two linear layers: x [4, 128] -> w1 [256, 128] -> w2 [128, 256]."""
    g = Ane.Graph.new()
    x = g.input("x", Ane.DType.FLOAT32, [4, 128])
    h = g.matmul(x, g.param_with_value(tensor("w1", weights[0])), False, True)
    g.add_output("y", g.matmul(h, g.param_with_value(tensor("w2", weights[1])), False, True))
    return Ane.Package.new_from_graph(g, target, Ane.Precision.FLOAT16)


def decompressed(path):
    """{weight name: its dense value} as coremltools reads the package."""
    model = ct.models.MLModel(path, skip_model_load=True)
    spec = model.get_spec()
    prog = milproto.load(spec, spec.specificationVersion, model.weights_dir)
    out = {}
    for op in prog.functions["main"].operations:
        if op.op_type.startswith("constexpr_") and len(op.outputs) == 1 and \
                all(not c.op_type.startswith("constexpr_") for c in op.outputs[0].child_ops):
            # the last constexpr op of each chain: coremltools names it
            # <const>_<suffix>, we keep <const>
            name = op.outputs[0].name
            for suffix in ("_palettized", "_quantized", "_sparsified", "_palettized_pcs"):
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            value = op.outputs[0].val
            out[name] = np.asarray(value if value is not None else op.materialized_val_inference(), np.float64)
    return out


def weight_bin_size(path):
    return os.path.getsize(os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin"))


def errors(dense, original):
    e = np.abs(dense.reshape(original.shape) - original)
    return float(np.sqrt(np.mean(e ** 2))), float(e.max())


class SideBySide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(2026)
        cls.weights = [rng.standard_normal((256, 128)).astype(np.float32),
                       (rng.standard_normal((128, 256)) * 0.05).astype(np.float32)]
        cls.tmp = tempfile.TemporaryDirectory(prefix="ane-compare-")
        cls.float = {}
        for target, name in ((Ane.Target.IOS18, "ios18"), (Ane.Target.IOS16, "ios16")):
            path = os.path.join(cls.tmp.name, "float-%s.mlpackage" % name)
            float_package(cls.weights, target).save(path, True)
            cls.float[name] = path

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def compare(self, label, target, ours_config, theirs_config, joint_prune=None, tol=TOL):
        src = self.float[target]
        # the originals, as stored (fp16), read by coremltools
        model = ct.models.MLModel(src, skip_model_load=True)
        spec = model.get_spec()
        prog = milproto.load(spec, spec.specificationVersion, model.weights_dir)
        originals = {op.outputs[0].name: np.asarray(op.outputs[0].val, np.float64)
                     for op in prog.functions["main"].operations
                     if op.op_type == "const" and op.outputs[0].val is not None and
                     np.asarray(op.outputs[0].val).size > 2048}
        self.assertEqual(len(originals), 2)

        theirs = model
        if joint_prune is not None:
            theirs = cto.prune_weights(theirs, cto.OptimizationConfig(global_config=joint_prune))
        theirs = theirs_config(theirs)
        theirs_path = os.path.join(self.tmp.name, "theirs-%s.mlpackage" % label)
        theirs.save(theirs_path)

        ours = Ane.Package.compress(Ane.Package.load(src), ours_config, None, None)
        ours_path = os.path.join(self.tmp.name, "ours-%s.mlpackage" % label)
        ours.save(ours_path, True)
        self.assertIsNone(check(ours_path))           # loads, type-checks, re-converts

        mine, other = decompressed(ours_path), decompressed(theirs_path)
        self.assertEqual(set(mine), set(originals))
        self.assertEqual(set(other), set(originals))
        report = {w.name: w for w in ours.get_compression_report().get_weights()}
        for name, original in originals.items():
            rms_o, max_o = errors(mine[name], original)
            rms_t, max_t = errors(other[name], original)
            print("%-22s %-9s ours rms %.5f max %.5f | coremltools rms %.5f max %.5f"
                  % (label, name, rms_o, max_o, rms_t, max_t), file=sys.stderr)
            self.assertLessEqual(rms_o, rms_t * (1 + tol) + 1e-7, name)
            if "kmeans" not in label:
                # k-means minimises the squared error, not the largest one
                self.assertLessEqual(max_o, max_t * (1 + TOL) + 1e-7, name)
            # what coremltools reads is what we report
            self.assertAlmostEqual(report[name].rms_error, rms_o, delta=1e-6 + rms_o * 1e-6)
        size_o, size_t = weight_bin_size(ours_path), weight_bin_size(theirs_path)
        print("%-22s weight.bin ours %d coremltools %d" % (label, size_o, size_t), file=sys.stderr)
        self.assertLessEqual(abs(size_o - size_t), 64 + 128 * len(originals))

    def test_palettize(self):
        for target in ("ios18", "ios16"):
            for nbits in (2, 4, 6, 8):
                with self.subTest(target=target, nbits=nbits):
                    cfg = Ane.CompressConfig.new_palettize(nbits)
                    self.compare("kmeans%d-%s" % (nbits, target), target, cfg,
                                 lambda m: cto.palettize_weights(m, cto.OptimizationConfig(
                                     global_config=cto.OpPalettizerConfig(nbits=nbits, mode="kmeans"))))
        cfg = Ane.CompressConfig.new_palettize(4)
        cfg.set_granularity(G.GROUPED_CHANNEL, 128)
        self.compare("kmeans4-g128", "ios18", cfg,
                     lambda m: cto.palettize_weights(m, cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(
                         nbits=4, mode="kmeans", granularity="per_grouped_channel", group_size=128))))
        # groups under 10 000 weights: coremltools runs scikit-learn's
        # k-means++/Lloyd there, ours stays exact
        cfg = Ane.CompressConfig.new_palettize(4)
        cfg.set_granularity(G.GROUPED_CHANNEL, 16)
        self.compare("kmeans4-g16", "ios18", cfg,
                     lambda m: cto.palettize_weights(m, cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(
                         nbits=4, mode="kmeans", granularity="per_grouped_channel", group_size=16))))
        cfg = Ane.CompressConfig.new_palettize(4)
        cfg.set_method(Ane.PalettizeMethod.UNIFORM)
        self.compare("uniform4", "ios18", cfg,
                     lambda m: cto.palettize_weights(m, cto.OptimizationConfig(
                         global_config=cto.OpPalettizerConfig(nbits=4, mode="uniform"))))

    def test_vector_palettize(self):
        # both are k-means++ then Lloyd from a fixed seed, with different
        # random draws: a local optimum each, so ours may land a little
        # above or below (VECTOR_TOL)
        for cd in (2, 4):
            with self.subTest(cluster_dim=cd):
                cfg = Ane.CompressConfig.new_palettize(4)
                cfg.set_cluster_dim(cd)
                self.compare("vector%d-kmeans4" % cd, "ios18", cfg,
                             lambda m: cto.palettize_weights(m, cto.OptimizationConfig(
                                 global_config=cto.OpPalettizerConfig(nbits=4, mode="kmeans", cluster_dim=cd))),
                             tol=VECTOR_TOL)

    def test_quantize(self):
        cases = [("int8-channel", "ios18", 8, True, True, G.CHANNEL, 0, types.int8, "per_channel", 32),
                 ("uint8-affine", "ios18", 8, False, False, G.CHANNEL, 0, types.uint8, "per_channel", 32),
                 ("int4-block32", "ios18", 4, True, True, G.BLOCK, 32, types.int4, "per_block", 32),
                 ("uint4-block16-affine", "ios18", 4, False, False, G.BLOCK, 16, types.uint4, "per_block", 16),
                 ("int8-tensor", "ios18", 8, True, True, G.TENSOR, 0, types.int8, "per_tensor", 32),
                 ("int8-channel-ios16", "ios16", 8, True, True, G.CHANNEL, 0, types.int8, "per_channel", 32),
                 ("uint8-affine-ios16", "ios16", 8, False, False, G.CHANNEL, 0, types.uint8, "per_channel", 32)]
        for label, target, bits, signed, sym, gran, block, dtype, ct_gran, ct_block in cases:
            with self.subTest(label=label):
                cfg = Ane.CompressConfig.new_quantize(bits, signed)
                cfg.set_symmetric(sym)
                cfg.set_granularity(gran, block)
                mode = "linear_symmetric" if sym else "linear"
                self.compare(label, target, cfg,
                             lambda m: cto.linear_quantize_weights(m, cto.OptimizationConfig(
                                 global_config=cto.OpLinearQuantizerConfig(mode=mode, dtype=dtype,
                                                                           granularity=ct_gran,
                                                                           block_size=ct_block))))

    def test_prune(self):
        for target in ("ios18", "ios16"):
            with self.subTest(target=target):
                self.compare("sparsity50-%s" % target, target, Ane.CompressConfig.new_prune(0.5),
                             lambda m: cto.prune_weights(m, cto.OptimizationConfig(
                                 global_config=cto.OpMagnitudePrunerConfig(target_sparsity=0.5))))
        self.compare("nm24", "ios18", Ane.CompressConfig.new_prune_n_m(2, 4),
                     lambda m: cto.prune_weights(m, cto.OptimizationConfig(
                         global_config=cto.OpMagnitudePrunerConfig(n_m_ratio=(2, 4)))))

    def test_joint(self):
        prune = cto.OpMagnitudePrunerConfig(target_sparsity=0.5)
        cfg = Ane.CompressConfig.new_palettize(4)
        cfg.set_prune_sparsity(0.5)
        self.compare("prune50+kmeans4", "ios18", cfg,
                     lambda m: cto.palettize_weights(m, cto.OptimizationConfig(
                         global_config=cto.OpPalettizerConfig(nbits=4, mode="kmeans")), joint_compression=True),
                     joint_prune=prune)
        cfg = Ane.CompressConfig.new_quantize(8, True)
        cfg.set_prune_sparsity(0.5)
        self.compare("prune50+int8", "ios18", cfg,
                     lambda m: cto.linear_quantize_weights(m, cto.OptimizationConfig(
                         global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype=types.int8)),
                         joint_compression=True),
                     joint_prune=prune)


if __name__ == "__main__":
    unittest.main()
