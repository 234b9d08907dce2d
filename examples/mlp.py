#!/usr/bin/python3
# mlp.py: a two-layer perceptron with ane-glib from Python
#
#     y = softmax(gelu(x @ W1 + b1) @ W2 + b2)
#
# Builds the graph with the PyGObject bindings and the Ane overrides
# (python/gi/overrides/Ane.py: numpy arrays in and out, see docs/python.md),
# runs it on the reference backend, prints the class probabilities and checks
# them against numpy.
#
#     GI_TYPELIB_PATH=... PYTHONPATH=.../python /usr/bin/python3 mlp.py
#
# SPDX-License-Identifier: MIT

import math
import sys

import gi

gi.require_version("Ane", "1.0")
from gi.repository import Ane, GLib  # noqa: E402

import numpy as np  # noqa: E402


def main():
    rng = np.random.default_rng(0)
    batch, n_in, hidden, n_out = 2, 4, 8, 3
    w1 = rng.standard_normal((n_in, hidden)).astype(np.float32) * 0.5
    b1 = rng.standard_normal(hidden).astype(np.float32) * 0.1
    w2 = rng.standard_normal((hidden, n_out)).astype(np.float32) * 0.5
    b2 = rng.standard_normal(n_out).astype(np.float32) * 0.1
    x = rng.standard_normal((batch, n_in)).astype(np.float32)

    try:
        # The graph, with the numpy weights baked in as named params
        # (graph.param(name, array) comes from the Ane overrides).
        g = Ane.Graph.new()
        h = g.gelu(g.add(g.matmul(g.input("x", Ane.DType.FLOAT32, [batch, n_in]), g.param("w1", w1), False, False),
                         g.param("b1", b1)), Ane.GeluApproximation.EXACT)
        g.add_output("probabilities", g.softmax(g.add(g.matmul(h, g.param("w2", w2), False, False),
                                                      g.param("b2", b2)), -1))
        # Compile for the reference backend, run with a dict of numpy arrays,
        # get a dict of numpy arrays back.
        probs = g.compile(Ane.Backend.REFERENCE).run({"x": x})["probabilities"]
    except GLib.Error as err:          # every failure is a GLib.Error in the Ane domain
        print(f"ane-glib failed: {err.message}", file=sys.stderr)
        return 1

    for i, row in enumerate(probs):
        print(f"sample {i}:", " ".join(f"{p:.6f}" for p in row))

    # The same maths in numpy.
    erf = np.vectorize(math.erf)
    hh = x.astype(np.float64) @ w1 + b1
    hh = 0.5 * hh * (1 + erf(hh / math.sqrt(2)))
    z = hh @ w2 + b2
    want = np.exp(z - z.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    # They differ by 1.2e-8 (float32 rounding); 2e-7 (three float32 ulps at
    # 0.5) still catches, say, the tanh approximation of GELU (5e-5 off).
    # allclose is False for a NaN.
    if not np.allclose(probs, want, rtol=0, atol=2e-7):
        print("MISMATCH against numpy", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
