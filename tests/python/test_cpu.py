"""The CPU backend (the MIL interpreter) from Python, against numpy formulas
written here independently of the library: the third leg of verification,
through the public API only."""

import os
import subprocess
import sys
import unittest

import numpy as np

from anetest import block_tensor, to_tensor
from gi.repository import Ane


def run_cpu(graph, inputs, precision=Ane.Precision.FLOAT32, target=Ane.Target.IOS18):
    exe = Ane.Executable.new(graph, Ane.Backend.CPU)
    exe.set_target(target)
    exe.set_precision(precision)
    exe.compile(None)
    outs = exe.run([to_tensor(n, a) for n, a in inputs.items()], None)
    return [np.frombuffer(t.get_data().get_data(), np.float32).reshape(t.get_shape()) for t in outs]


class CpuTest(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(42)

    def randn(self, *shape):
        return self.rng.standard_normal(shape).astype(np.float32)

    def test_mlp(self):
        x, w1, w2 = self.randn(3, 16), self.randn(16, 32), self.randn(32, 8)
        g = Ane.Graph()
        xi = g.input("x", Ane.DType.FLOAT32, [3, 16])
        h = g.matmul(xi, g.param_with_value(to_tensor("w1", w1)), False, False)
        a = g.gelu(h, Ane.GeluApproximation.TANH)
        o = g.matmul(a, g.param_with_value(to_tensor("w2", w2)), False, False)
        g.add_output("y", g.softmax(o, -1))
        (got,) = run_cpu(g, {"x": x})

        hh = x.astype(np.float64) @ w1
        aa = 0.5 * hh * (1 + np.tanh(np.sqrt(2 / np.pi) * (hh + 0.044715 * hh ** 3)))
        oo = aa @ w2
        e = np.exp(oo - oo.max(-1, keepdims=True))
        np.testing.assert_allclose(got, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)

    def test_conv_pool(self):
        x, w = self.randn(1, 2, 8, 8), self.randn(4, 2, 3, 3)
        g = Ane.Graph()
        xi = g.input("x", Ane.DType.FLOAT32, [1, 2, 8, 8])
        c = g.conv(xi, g.param_with_value(to_tensor("w", w)), None, [1, 1], [1, 1, 1, 1], [1, 1], 1)
        p = g.pool(c, Ane.PoolKind.MAX, [2, 2], [2, 2], [], False)
        g.add_output("y", p)
        (got,) = run_cpu(g, {"x": x}, target=Ane.Target.IOS16)

        xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        conv = np.zeros((1, 4, 8, 8))
        for o in range(4):
            for i in range(8):
                for j in range(8):
                    conv[0, o, i, j] = (xp[0, :, i:i + 3, j:j + 3] * w[o]).sum()
        want = conv.reshape(1, 4, 4, 2, 4, 2).max(axis=(3, 5))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    def test_causal_attention_fp16(self):
        q, k, v = self.randn(1, 2, 4, 8), self.randn(1, 2, 4, 8), self.randn(1, 2, 4, 8)
        g = Ane.Graph()
        ins = [g.input(n, Ane.DType.FLOAT32, [1, 2, 4, 8]) for n in "qkv"]
        g.add_output("y", g.attention(ins[0], ins[1], ins[2], None, True, 0.0, 0.0))
        (got,) = run_cpu(g, {"q": q, "k": k, "v": v}, precision=Ane.Precision.FLOAT16)

        s = q.astype(np.float64) @ k.transpose(0, 1, 3, 2).astype(np.float64) / np.sqrt(8)
        s = s + np.triu(np.full((4, 4), -np.inf), 1)
        p = np.exp(s - s.max(-1, keepdims=True))
        want = (p / p.sum(-1, keepdims=True)) @ v
        # fp16 program: a few roundings of 2^-11 on values of order 1
        np.testing.assert_allclose(got, want, rtol=0, atol=8 * 2 ** -10 * np.abs(want).max())

    def test_state_accumulates(self):
        g = Ane.Graph()
        x = g.input("x", Ane.DType.FLOAT32, [4])
        s = g.state("acc", Ane.DType.FLOAT32, [4])
        g.add_output("y", g.write_state(s, g.add(g.read_state(s), x)))
        exe = Ane.Executable.new(g, Ane.Backend.CPU)
        exe.set_precision(Ane.Precision.FLOAT32)
        exe.compile(None)
        xv = np.arange(4, dtype=np.float32)
        for step in range(1, 4):
            out = exe.run([to_tensor("x", xv)], None)[0]
            np.testing.assert_array_equal(np.frombuffer(out.get_data().get_data(), np.float32), xv * step)

    def test_errors_name_the_input(self):
        g = Ane.Graph()
        x = g.input("x", Ane.DType.FLOAT32, [2])
        g.add_output("y", g.exp(x))
        exe = Ane.Executable.new(g, Ane.Backend.CPU)
        exe.compile(None)
        with self.assertRaises(Exception) as cm:
            exe.run([to_tensor("x", np.zeros(3, np.float32))], None)
        self.assertIn("'x'", str(cm.exception))

    def test_quantize_activations(self):
        """Ane.Executable:quantize-activations: GGUF Q8_0 / Q4_0 products of
        a decode's few rows on 8-bit activations, as llama.cpp computes them.
        numpy's reading of the documented arithmetic (each block of 32
        activations scaled by max |x| / 127 and rounded to the nearest, ties
        to even; the block's products summed exactly) matches to float32
        rounding; the float product, computed with the setting off, does
        not."""
        from test_ops import q4_0_blocks, q8_0_blocks
        for dtype, make in ((Ane.DType.Q8_0, q8_0_blocks), (Ane.DType.Q4_0, q4_0_blocks)):
            N, K = 9, 160
            raw, wv = make(self.rng, N, K)
            x = self.randn(3, K)
            g = Ane.Graph()
            w = g.const(block_tensor("w", dtype, [N, K], raw))
            g.add_output("y", g.dequant_matmul(g.input("x", Ane.DType.FLOAT32, [3, K]), w))
            got = {}
            for on in (False, True):
                exe = Ane.Executable.new(g, Ane.Backend.CPU)
                exe.set_precision(Ane.Precision.FLOAT32)
                self.assertFalse(exe.props.quantize_activations)
                exe.props.quantize_activations = on
                self.assertEqual(exe.get_quantize_activations(), on)
                exe.compile(None)
                (t,) = exe.run([to_tensor("x", x)], None)
                got[on] = np.frombuffer(t.get_data().get_data(), np.float32).reshape(3, N)

            blocks = x.reshape(3, K // 32, 32)
            amax = np.abs(blocks).max(-1, keepdims=True)
            dx = amax / np.float32(127)
            xq = np.rint(blocks * (np.float32(127) / amax)).astype(np.float64)
            want = np.einsum("ibj,nbj->in", xq * dx.astype(np.float64), wv.reshape(N, K // 32, 32))
            scale = np.abs(x).astype(np.float64) @ np.abs(wv).T
            np.testing.assert_allclose(got[True], want, rtol=0, atol=1e-5 * scale.max())
            self.assertGreater(np.abs(got[False] - want).max(), 1e-4 * scale.max())
            np.testing.assert_allclose(got[False], x.astype(np.float64) @ wv.T, rtol=1e-5, atol=1e-5)

    def test_num_threads(self):
        """ane_set_num_threads from Python: the count is kept, and a product
        split over the threads (a 1-row matmul against a 512x1024 weight, a
        64-row one, a softmax over 64 rows) gives the same bits at 1 and 3."""
        x1, x, w = self.randn(1, 512), self.randn(64, 512), self.randn(512, 1024)
        g = Ane.Graph()
        a = g.input("x1", Ane.DType.FLOAT32, [1, 512])
        b = g.input("x", Ane.DType.FLOAT32, [64, 512])
        wt = g.param_with_value(to_tensor("w", w))
        g.add_output("y1", g.matmul(a, wt, False, False))
        g.add_output("y", g.softmax(g.matmul(b, wt, False, False), -1))
        try:
            Ane.set_num_threads(1)
            self.assertEqual(Ane.get_num_threads(), 1)
            one = run_cpu(g, {"x1": x1, "x": x})
            Ane.set_num_threads(3)
            self.assertEqual(Ane.get_num_threads(), 3)
            three = run_cpu(g, {"x1": x1, "x": x})
        finally:
            Ane.set_num_threads(0)
        self.assertGreaterEqual(Ane.get_num_threads(), 1)
        for o, t in zip(one, three):
            self.assertEqual(o.tobytes(), t.tobytes())
        np.testing.assert_allclose(one[0], x1.astype(np.float64) @ w, rtol=1e-4, atol=1e-4)

    def test_num_threads_environment(self):
        """ANE_NUM_THREADS sets the default; a value that is not a count in
        1..1024 is warned about and the core count used."""
        code = "from gi.repository import Ane; print(Ane.get_num_threads())"
        for value, want in (("3", 3), ("1", 1)):
            env = dict(os.environ, ANE_NUM_THREADS=value)
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            self.assertEqual(int(out.stdout), want)
        env = dict(os.environ, ANE_NUM_THREADS="zero")
        env["G_DEBUG"] = ""
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        self.assertEqual(int(out.stdout), len(os.sched_getaffinity(0)))  # g_get_num_processors
        self.assertIn("ANE_NUM_THREADS=zero", out.stderr)


if __name__ == "__main__":
    unittest.main()
