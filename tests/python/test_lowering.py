#!/usr/bin/python3
# test_lowering.py: choosing the lowering profile from Python
#
# Ane.Package.new_from_graph_with_lowering with Ane.Lowering.GENERIC and
# NEURAL_ENGINE: the program differs (matmul vs 1x1 conv, as the lint sees
# it), and both compute the same outputs on the CPU backend.
#
# SPDX-License-Identifier: MIT

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402

F32 = Ane.DType.FLOAT32


def mlp():
    rng = np.random.default_rng(3)
    g = Ane.Graph()
    x = g.input("x", F32, [4, 16])
    w1 = rng.standard_normal((32, 16)).astype(np.float32) * 0.3
    w2 = rng.standard_normal((32, 8)).astype(np.float32) * 0.3
    p1 = g.param_with_value(Ane.Tensor.new_from_bytes("w1", F32, [32, 16], GLib.Bytes.new(w1.tobytes())))
    p2 = g.param_with_value(Ane.Tensor.new_from_bytes("w2", F32, [32, 8], GLib.Bytes.new(w2.tobytes())))
    h = g.silu(g.matmul(x, p1, False, True))
    g.add_output("y", g.matmul(h, p2, False, False))
    return g


def run(pkg, x):
    exe = Ane.Executable.new_from_package_full(pkg, "main", Ane.Backend.CPU)
    exe.compile(None)
    t = Ane.Tensor.new_from_bytes("x", F32, list(x.shape), GLib.Bytes.new(x.tobytes()))
    out = exe.run([t], None)[0]
    return np.frombuffer(out.get_data().get_data(), dtype=np.float32).reshape(out.get_shape())


class LoweringTest(unittest.TestCase):
    def test_profiles(self):
        g = mlp()
        x = np.random.default_rng(4).standard_normal((4, 16)).astype(np.float32)
        made = {}
        for lowering in (Ane.Lowering.GENERIC, Ane.Lowering.NEURAL_ENGINE, Ane.Lowering.DEFAULT):
            made[lowering] = Ane.Package.new_from_graph_with_lowering(
                g, Ane.Target.IOS18, Ane.Precision.FLOAT32, lowering, None)
        generic = made[Ane.Lowering.GENERIC]
        ane = made[Ane.Lowering.NEURAL_ENGINE]
        self.assertIn(" = matmul(", generic.to_mil_text())
        self.assertNotIn(" = conv(", generic.to_mil_text())
        self.assertIn(" = conv(", ane.to_mil_text())
        self.assertNotIn(" = matmul(", ane.to_mil_text())
        # the default for a package is the Neural Engine profile
        self.assertEqual(made[Ane.Lowering.DEFAULT].to_mil_text().count(" = conv("), 2)
        # the lint sees the difference
        self.assertEqual(generic.lint(Ane.LintFlags.NONE).count_rule("linear-not-conv"), 2)
        self.assertEqual(ane.lint(Ane.LintFlags.NONE).count_rule("linear-not-conv"), 0)
        # and both compute the same function
        np.testing.assert_allclose(run(ane, x), run(generic, x), rtol=1e-4, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
