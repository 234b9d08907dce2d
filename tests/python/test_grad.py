#!/usr/bin/python3
# test_grad.py: gradients from Python
#
# Ane.Graph.gradients on a small regression (y = tanh(x @ w + b), loss =
# mean((y - t)^2)) against the gradient worked out with numpy, on the CPU
# backend at fp32; then one gradient-descent step with a dynamic weight
# lowers the loss without preparing the program again; the fused
# cross_entropy loss and its gradient against numpy.
#
# SPDX-License-Identifier: MIT

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402

F32 = Ane.DType.FLOAT32
RNG = np.random.default_rng(11)
X = RNG.standard_normal((8, 5)).astype(np.float32)
T = RNG.standard_normal((8, 3)).astype(np.float32) * 0.5
W = (RNG.standard_normal((5, 3)) * 0.3).astype(np.float32)
B = (RNG.standard_normal(3) * 0.1).astype(np.float32)


def tensor(name, a):
    return Ane.Tensor.new_from_bytes(name, F32, list(a.shape), GLib.Bytes.new(np.ascontiguousarray(a).tobytes()))


def regression(dynamic):
    g = Ane.Graph()
    x = g.input("x", F32, [8, 5])
    t = g.input("t", F32, [8, 3])
    if dynamic:
        w = g.param_dynamic("w", F32, [5, 3])
        g.bind_param("w", tensor("w", W))
    else:
        w = g.param("w", W)
    b = g.param("b", B)
    y = g.tanh(g.add(g.matmul(x, w, False, False), b))
    d = g.sub(y, t)
    g.add_output("loss", g.reduce_mean(g.mul(d, d), [], False))
    return g


def numpy_grads(w, b):
    z = X @ w + b
    y = np.tanh(z)
    dl_dy = 2 * (y - T) / y.size
    dz = dl_dy * (1 - y * y)
    return ((y - T) ** 2).mean(), X.T @ dz, dz.sum(axis=0)


class Gradients(unittest.TestCase):

    def test_against_numpy(self):
        gg = regression(False).gradients("loss", ["w", "b"])
        out = gg.compile(Ane.Backend.CPU, Ane.Precision.FLOAT32).run({"x": X, "t": T})
        loss, dw, db = numpy_grads(W, B)
        np.testing.assert_allclose(out["loss"], loss, rtol=1e-5)
        np.testing.assert_allclose(out["grad_w"], dw, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out["grad_b"], db, rtol=1e-4, atol=1e-6)

    def test_descent_with_a_dynamic_weight(self):
        exe = regression(True).gradients("loss", ["w"]).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32)
        w = W.copy()
        losses = []
        for _ in range(20):
            out = exe.run({"x": X, "t": T})
            losses.append(float(out["loss"]))
            w = w - 0.5 * out["grad_w"]
            exe.set_param("w", tensor("w", w.astype(np.float32)))
        self.assertLess(losses[-1], 0.8 * losses[0])
        self.assertEqual(sorted(losses, reverse=True), losses)

    def test_cross_entropy_against_numpy(self):
        # logits = h @ w, loss = cross_entropy(logits, targets) with one
        # ignored position: the loss and d loss / d w against numpy on the
        # CPU backend at fp32 (the lowered program and its gradient graph)
        rng = np.random.default_rng(5)
        h = rng.standard_normal((6, 4)).astype(np.float32)
        w = (rng.standard_normal((4, 9)) * 0.5).astype(np.float32)
        t = rng.integers(0, 9, 6).astype(np.int32)
        t[2] = -100
        g = Ane.Graph()
        logits = g.matmul(g.input("h", F32, [6, 4]), g.param("w", w), False, False)
        g.add_output("loss", g.cross_entropy(logits, g.input("t", Ane.DType.INT32, [6]), -100))
        out = g.gradients("loss", ["w"]).compile(Ane.Backend.CPU, Ane.Precision.FLOAT32).run({"h": h, "t": t})

        z = h.astype(np.float64) @ w.astype(np.float64)
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        keep = t != -100
        rows = np.nonzero(keep)[0]
        loss = -np.log(p[rows, t[rows]]).mean()
        dz = p.copy()
        dz[rows, t[rows]] -= 1
        dz *= keep[:, None] / keep.sum()
        self.assertEqual(np.shape(out["loss"]), ())
        np.testing.assert_allclose(out["loss"], loss, rtol=1e-5)
        np.testing.assert_allclose(out["grad_w"], h.T.astype(np.float64) @ dz, rtol=1e-4, atol=1e-6)

    def test_errors(self):
        with self.assertRaises(GLib.Error) as cm:
            regression(False).gradients("nope", ["w"])
        self.assertIn("nope", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
