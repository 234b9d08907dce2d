#!/usr/bin/python3
# test_param_dynamic.py: weights bound after compiling, without preparing again
#
# Ane.Graph.param_dynamic from Python: new values bound with set_param take
# effect at the next run on the CPU backend, against numpy.
#
# SPDX-License-Identifier: MIT

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402

F32 = Ane.DType.FLOAT32


class ParamDynamic(unittest.TestCase):

    def test_rebind(self):
        g = Ane.Graph()
        x = g.input("x", F32, [2, 6])
        w = g.param_dynamic("w", F32, [6, 3])
        g.add_output("y", g.matmul(x, w, False, False))
        exe = g.compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        rng = np.random.default_rng(4)
        xv = rng.standard_normal((2, 6)).astype(np.float32)
        for _ in range(3):
            wv = rng.standard_normal((6, 3)).astype(np.float32)
            exe.set_param("w", Ane.Tensor.new_from_bytes("w", F32, [6, 3], GLib.Bytes.new(wv.tobytes())))
            y = exe.run({"x": xv})["y"]
            np.testing.assert_allclose(y, xv @ wv, rtol=1e-5, atol=1e-6)

    def test_dtype_refused(self):
        g = Ane.Graph()
        with self.assertRaises(GLib.Error) as cm:
            g.param_dynamic("w", Ane.DType.Q8_0, [32])
        self.assertIn("'w'", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
