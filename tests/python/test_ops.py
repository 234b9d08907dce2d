#!/usr/bin/python3
# test_ops.py: every IR op of docs/ir-ops.md through the PyGObject bindings
#
# Each test builds a graph with the per-op Ane.Graph methods, runs it on the
# reference backend with seeded random inputs and compares with a numpy
# formula written here, independently of the C kernels (float64, then
# rtol 1e-5 / atol 1e-6 against the float32 result).
#
# SPDX-License-Identifier: MIT

import math
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import (STRICT, Ane, GLib, GraphTestCase, block_tensor,  # noqa: E402
                     np, to_numpy, to_tensor)

F32 = Ane.DType.FLOAT32


def f64(a):
    return np.asarray(a, dtype=np.float64)


# --- numpy reference formulas --------------------------------------------

def np_erf(x):
    return np.vectorize(math.erf)(x)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def attention_ref(q, k, v, bias=None, causal=False, scale=0.0, softcap=0.0):
    q, k, v = f64(q), f64(k), f64(v)
    _, H, S, D = q.shape
    Hkv, L = k.shape[1], k.shape[2]
    # query head h reads kv head h // (H / Hkv)
    k = np.repeat(k, H // Hkv, axis=1)
    v = np.repeat(v, H // Hkv, axis=1)
    scores = q @ np.swapaxes(k, -1, -2) * (scale if scale > 0 else 1.0 / math.sqrt(D))
    if softcap > 0:
        scores = softcap * np.tanh(scores / softcap)
    if bias is not None:
        scores = scores + f64(bias)
    if causal:
        i = np.arange(S)[:, None]
        j = np.arange(L)[None, :]
        scores = np.where(j <= i + (L - S), scores, -np.inf)
    return np_softmax(scores) @ v


def rope_ref(x, pos, mode, theta=10000.0, n_rot=0):
    x = f64(x)
    n = n_rot or x.shape[-1]
    half = n // 2
    inv = theta ** (-2.0 * np.arange(half) / n)
    ang = f64(pos)[:, None] * inv[None, :]            # [S, n/2]
    cos, sin = np.cos(ang), np.sin(ang)
    out = x.copy()
    if mode == "neox":
        a, b = x[..., :half], x[..., half:n]
        out[..., :half] = a * cos - b * sin
        out[..., half:n] = a * sin + b * cos
    else:
        a, b = x[..., 0:n:2], x[..., 1:n:2]
        out[..., 0:n:2] = a * cos - b * sin
        out[..., 1:n:2] = a * sin + b * cos
    return out


def axial_rope_ref(x, end_x, end_y, theta=10000.0):
    # SAM2 compute_axial_cis + apply_rotary_enc
    x = f64(x)
    D = x.shape[-1]
    freqs = theta ** (-4.0 * np.arange(D // 4) / D)
    t = np.arange(end_x * end_y)
    tx, ty = t % end_x, t // end_x
    ang = np.concatenate([tx[:, None] * freqs, ty[:, None] * freqs], axis=1)  # [N, D/2]
    cos, sin = np.cos(ang), np.sin(ang)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


def conv2d_ref(x, w, bias, strides, pads, dilations, groups):
    x, w = f64(x), f64(w)
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    Ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    Wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    Og = O // groups
    out = np.zeros((N, O, Ho, Wo))
    for o in range(O):
        g = o // Og
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * Cg:(g + 1) * Cg,
                           i * dh:i * dh + sh * (Ho - 1) + 1:sh,
                           j * dw:j * dw + sw * (Wo - 1) + 1:sw]
                out[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
    if bias is not None:
        out += f64(bias)[None, :, None, None]
    return out


def conv_transpose2d_ref(x, w, bias, strides, pads, dilations, output_padding, groups):
    # Every input cell scatters w into the output (the adjoint of conv2d).
    x, w = f64(x), f64(w)
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    Cg = C // groups
    sh, sw = strides
    dh, dw = dilations
    Ho = (H - 1) * sh - pads[0] - pads[1] + dh * (kh - 1) + output_padding[0] + 1
    Wo = (W - 1) * sw - pads[2] - pads[3] + dw * (kw - 1) + output_padding[1] + 1
    out = np.zeros((N, Og * groups, Ho, Wo))
    for c in range(C):
        g = c // Cg
        for ih in range(H):
            for iw in range(W):
                for i in range(kh):
                    for j in range(kw):
                        oh = ih * sh - pads[0] + i * dh
                        ow = iw * sw - pads[2] + j * dw
                        if 0 <= oh < Ho and 0 <= ow < Wo:
                            out[:, g * Og:(g + 1) * Og, oh, ow] += x[:, c, ih, iw][:, None] * w[c, :, i, j]
    if bias is not None:
        out += f64(bias)[None, :, None, None]
    return out


def pool_ref(x, kind, kernel, strides, pads, count_include_pad):
    x = f64(x)
    N, C, H, W = x.shape
    kh, kw = kernel
    sh, sw = strides
    Ho = (H + pads[0] + pads[1] - kh) // sh + 1
    Wo = (W + pads[2] + pads[3] - kw) // sw + 1
    out = np.zeros((N, C, Ho, Wo))
    for oh in range(Ho):
        for ow in range(Wo):
            r0, c0 = oh * sh - pads[0], ow * sw - pads[2]
            cells = x[:, :, max(r0, 0):min(r0 + kh, H), max(c0, 0):min(c0 + kw, W)]
            if kind == "max":
                out[:, :, oh, ow] = cells.max(axis=(2, 3))
            else:
                count = kh * kw if count_include_pad else cells.shape[2] * cells.shape[3]
                out[:, :, oh, ow] = cells.sum(axis=(2, 3)) / count
    return out


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    # Mamba selective_scan_ref with B, C of shape [B, N, L]
    u, delta, A, B, C = map(f64, (u, delta, A, B, C))
    if delta_bias is not None:
        delta = delta + f64(delta_bias)[None, :, None]
    if delta_softplus:
        delta = np.log1p(np.exp(delta))
    batch, dim, L = u.shape
    h = np.zeros((batch, dim, A.shape[1]))
    ys = []
    for t in range(L):
        dA = np.exp(delta[:, :, t, None] * A[None])                          # [b, d, n]
        dBu = delta[:, :, t, None] * B[:, None, :, t] * u[:, :, t, None]     # [b, d, n]
        h = dA * h + dBu
        ys.append(np.einsum("bdn,bn->bd", h, C[:, :, t]))
    y = np.stack(ys, axis=-1)
    if D is not None:
        y = y + u * f64(D)[None, :, None]
    if z is not None:
        z = f64(z)
        y = y * z * np_sigmoid(z)
    return y


def gated_delta_net_ref(q, k, v, g, beta, initial_state=None, scale=0.0, qk_l2norm=False):
    # flash-linear-attention naive_recurrent_gated_delta_rule
    q, k, v, g, beta = map(f64, (q, k, v, g, beta))
    B, H, T, K = q.shape
    V = v.shape[-1]
    if qk_l2norm:
        q = q / np.sqrt(np.sum(q * q, axis=-1, keepdims=True) + 1e-6)
        k = k / np.sqrt(np.sum(k * k, axis=-1, keepdims=True) + 1e-6)
    q = q * (scale if scale > 0 else K ** -0.5)
    S = np.zeros((B, H, K, V)) if initial_state is None else f64(initial_state).copy()
    o = np.zeros((B, H, T, V))
    for t in range(T):
        S = S * np.exp(g[:, :, t])[..., None, None]
        kt = k[:, :, t]
        vt = (v[:, :, t] - np.einsum("bhkv,bhk->bhv", S, kt)) * beta[:, :, t][..., None]
        S = S + kt[..., :, None] * vt[..., None, :]
        o[:, :, t] = np.einsum("bhkv,bhk->bhv", S, q[:, :, t])
    return o, S


def q8_0_blocks(rng, rows, K):
    """GGUF Q8_0 rows: block_q8_0 { half d; int8 qs[32]; }; value d * q.
    Returns the raw bytes and the dequantized float64 values [rows, K]."""
    nb = K // 32
    d = rng.uniform(0.005, 0.05, (rows, nb)).astype("<f2")
    q = rng.integers(-127, 128, (rows, nb, 32)).astype(np.int8)
    raw = np.zeros((rows, nb, 34), np.uint8)
    raw[..., 0:2] = d.view(np.uint8).reshape(rows, nb, 2)
    raw[..., 2:] = q.view(np.uint8)
    values = d.astype(np.float64)[..., None] * q
    return raw.tobytes(), values.reshape(rows, K)


def q4_0_blocks(rng, rows, K):
    """GGUF Q4_0 rows: block_q4_0 { half d; uint8 qs[16]; }: element j is the
    low nibble of qs[j], element j + 16 the high nibble; value d * (q - 8)."""
    nb = K // 32
    d = rng.uniform(0.01, 0.1, (rows, nb)).astype("<f2")
    q = rng.integers(0, 16, (rows, nb, 32)).astype(np.uint8)
    raw = np.zeros((rows, nb, 18), np.uint8)
    raw[..., 0:2] = d.view(np.uint8).reshape(rows, nb, 2)
    raw[..., 2:] = q[..., :16] | (q[..., 16:] << 4)
    values = d.astype(np.float64)[..., None] * (q.astype(np.float64) - 8)
    return raw.tobytes(), values.reshape(rows, K)


# --- elementwise ------------------------------------------------------------

def unary_case(op, fn, lo=-3.0, hi=3.0):
    def test(self):
        x = self.uniform(lo, hi, 2, 3, 5)
        y = getattr(self.g, op)(self.input("x", x))
        self.assertClose(self.run_graph(y), fn(f64(x)))
    return test


def binary_case(op, fn, a_range=(-3.0, 3.0), b_range=(-3.0, 3.0)):
    def test(self):
        a = self.uniform(*a_range, 2, 3, 4)
        b = self.uniform(*b_range, 3, 1)           # broadcasts against a
        y = getattr(self.g, op)(self.input("a", a), self.input("b", b))
        self.assertClose(self.run_graph(y), fn(f64(a), f64(b)))
    return test


def compare_case(op, fn):
    def test(self):
        # small integers as floats, so equal pairs occur
        a = self.randint(-2, 3, 3, 4).astype(np.float32)
        b = self.randint(-2, 3, 4).astype(np.float32)
        y = getattr(self.g, op)(self.input("a", a), self.input("b", b))
        self.assertExact(self.run_graph(y), fn(a, b))
    return test


class TestUnary(GraphTestCase):
    test_relu = unary_case("relu", lambda x: np.maximum(x, 0))
    test_sigmoid = unary_case("sigmoid", np_sigmoid, -6, 6)
    test_tanh = unary_case("tanh", np.tanh)
    test_silu = unary_case("silu", lambda x: x * np_sigmoid(x), -6, 6)
    test_exp = unary_case("exp", np.exp)
    test_log = unary_case("log", np.log, 0.05, 10)
    test_sqrt = unary_case("sqrt", np.sqrt, 0, 10)
    test_rsqrt = unary_case("rsqrt", lambda x: 1 / np.sqrt(x), 0.05, 10)
    test_abs = unary_case("abs", np.abs)
    test_neg = unary_case("neg", np.negative)
    test_sin = unary_case("sin", np.sin, -7, 7)
    test_cos = unary_case("cos", np.cos, -7, 7)
    test_tan = unary_case("tan", np.tan, -1.4, 1.4)
    test_atan = unary_case("atan", np.arctan, -10, 10)

    def test_gelu_exact(self):
        x = self.uniform(-4, 4, 4, 6)
        y = self.g.gelu(self.input("x", x), Ane.GeluApproximation.EXACT)
        self.assertClose(self.run_graph(y), 0.5 * f64(x) * (1 + np_erf(f64(x) / math.sqrt(2))))

    def test_gelu_tanh(self):
        x = f64(self.uniform(-4, 4, 4, 6))
        y = self.g.gelu(self.input("x", x), Ane.GeluApproximation.TANH)
        want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        self.assertClose(self.run_graph(y), want)

    def test_round_half_to_even(self):
        x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -3.7, 4.2], np.float32)
        y = self.g.round(self.input("x", x))
        self.assertExact(self.run_graph(y), np.round(x))

    def test_integer_relu_abs_neg(self):
        x = self.randint(-50, 50, 3, 4)
        t = self.input("x", x)
        r, a, n = self.run_graph(self.g.relu(t), self.g.abs(t), self.g.neg(t))
        self.assertExact(r, np.maximum(x, 0))
        self.assertExact(a, np.abs(x))
        self.assertExact(n, -x)


class TestBinary(GraphTestCase):
    test_add = binary_case("add", np.add)
    test_sub = binary_case("sub", np.subtract)
    test_mul = binary_case("mul", np.multiply)
    test_div = binary_case("div", np.divide, b_range=(0.25, 3.0))
    test_maximum = binary_case("maximum", np.maximum)
    test_minimum = binary_case("minimum", np.minimum)
    test_pow = binary_case("pow", np.power, a_range=(0.1, 3.0), b_range=(-2.0, 2.0))

    def test_broadcast_both_sides(self):
        a = self.randn(4, 1, 3)
        b = self.randn(2, 1)
        y = self.g.mul(self.input("a", a), self.input("b", b))
        self.assertClose(self.run_graph(y), f64(a) * f64(b))

    def test_scalar_operand(self):
        a = self.randn(2, 3)
        y = self.g.add(self.input("a", a), self.g.scalar(F32, 1.5))
        self.assertClose(self.run_graph(y), f64(a) + 1.5)

    def test_maximum_minimum_propagate_nan(self):
        a = np.array([1.0, np.nan, 3.0, -1.0], np.float32)
        b = np.array([np.nan, 2.0, 1.0, 0.0], np.float32)
        ta, tb = self.input("a", a), self.input("b", b)
        mx, mn = self.run_graph(self.g.maximum(ta, tb), self.g.minimum(ta, tb))
        self.assertExact(mx, np.maximum(a, b))
        self.assertExact(mn, np.minimum(a, b))

    def test_integer_floor_division(self):
        a = np.array([7, -7, 7, -7, 5, 0, 9], np.int32)
        b = np.array([2, 2, -2, -2, 0, 3, 3], np.int32)
        y = self.g.div(self.input("a", a), self.input("b", b))
        want = np.where(b == 0, 0, np.floor_divide(a, np.where(b == 0, 1, b)))
        self.assertExact(self.run_graph(y), want, np.int32)

    def test_integer_saturation(self):
        a = np.array([100, -100, 50, 127], np.int8)
        b = np.array([100, -100, 20, 1], np.int8)
        y = self.g.add(self.input("a", a), self.input("b", b))
        want = np.clip(a.astype(np.int64) + b, -128, 127)
        self.assertExact(self.run_graph(y), want, np.int8)


class TestCompare(GraphTestCase):
    test_eq = compare_case("eq", np.equal)
    test_ne = compare_case("ne", np.not_equal)
    test_lt = compare_case("lt", np.less)
    test_le = compare_case("le", np.less_equal)
    test_gt = compare_case("gt", np.greater)
    test_ge = compare_case("ge", np.greater_equal)

    def test_where(self):
        cond = self.rng.random((2, 1, 4)) > 0.5
        a = self.randn(3, 1)
        b = self.randn(4)
        y = self.g.where(self.input("cond", cond), self.input("a", a), self.input("b", b))
        self.assertClose(self.run_graph(y), np.where(cond, f64(a), f64(b)))

    def test_where_from_compare(self):
        x = self.randn(3, 5)
        t = self.input("x", x)
        zero = self.g.scalar(F32, 0.0)
        y = self.g.where(self.g.gt(t, zero), t, self.g.mul(t, self.g.scalar(F32, 0.1)))
        self.assertClose(self.run_graph(y), np.where(x > 0, f64(x), 0.1 * f64(x)))


class TestFloat16(GraphTestCase):
    """A float16 graph rounds each op's double result once to binary16."""

    def test_add_mul(self):
        a = self.randn(4, 8).astype(np.float16)
        b = self.randn(8).astype(np.float16)
        ta, tb = self.input("a", a), self.input("b", b)
        s, p = self.run_graph(self.g.add(ta, tb), self.g.mul(ta, tb))
        self.assertExact(s, (f64(a) + f64(b)).astype(np.float16))
        self.assertExact(p, (f64(a) * f64(b)).astype(np.float16))

    def test_chain_rounds_per_op(self):
        a = self.randn(16).astype(np.float16)
        b = self.randn(16).astype(np.float16)
        ta, tb = self.input("a", a), self.input("b", b)
        y = self.g.exp(self.g.div(ta, self.g.add(self.g.abs(tb), ta)))
        t1 = (np.abs(f64(b)) + f64(a)).astype(np.float16)
        t2 = (f64(a) / f64(t1)).astype(np.float16)
        self.assertExact(self.run_graph(y), np.exp(f64(t2)).astype(np.float16))

    def test_softmax(self):
        x = self.randn(3, 10).astype(np.float16)
        y = self.g.softmax(self.input("x", x), -1)
        self.assertExact(self.run_graph(y), np_softmax(f64(x)).astype(np.float16))


# --- linear algebra -----------------------------------------------------------

class TestMatmul(GraphTestCase):
    def check(self, a_shape, b_shape, ta=False, tb=False):
        a, b = self.randn(*a_shape), self.randn(*b_shape)
        y = self.g.matmul(self.input("a", a), self.input("b", b), ta, tb)
        A = np.swapaxes(f64(a), -1, -2) if ta else f64(a)
        B = np.swapaxes(f64(b), -1, -2) if tb else f64(b)
        self.assertClose(self.run_graph(y), np.matmul(A, B))

    def test_2d(self):
        self.check((3, 5), (5, 4))

    def test_batch_broadcast(self):
        self.check((2, 1, 3, 4), (5, 4, 6))

    def test_transpose_a(self):
        self.check((2, 5, 3), (2, 5, 4), ta=True)

    def test_transpose_b(self):
        self.check((2, 3, 5), (1, 4, 5), tb=True)

    def test_transpose_both(self):
        self.check((5, 3), (4, 5), ta=True, tb=True)

    def test_vector_matrix(self):
        self.check((4,), (4, 5))

    def test_matrix_vector(self):
        self.check((2, 3, 4), (4,))

    def test_vector_vector(self):
        self.check((6,), (6,))

    def test_inner_dim_mismatch(self):
        a = self.g.input("a", F32, [2, 3])
        b = self.g.input("b", F32, [4, 5])
        with self.assertAneError(Ane.Error.SHAPE, "matmul"):
            self.g.matmul(a, b, False, False)


class TestLinalgMore(GraphTestCase):
    def test_lora_matmul(self):
        x, w = self.randn(2, 3, 8), self.randn(8, 5)
        la, lb = self.randn(8, 2), self.randn(2, 5)
        y = self.g.lora_matmul(self.input("x", x), self.input("w", w),
                               self.input("la", la), self.input("lb", lb), 0.5)
        want = f64(x) @ f64(w) + 0.5 * ((f64(x) @ f64(la)) @ f64(lb))
        self.assertClose(self.run_graph(y), want)

    def grouped(self, transpose_b):
        E, K, N = 4, 8, 5
        x = self.randn(2, 3, K)
        experts = self.randn(E, N, K) if transpose_b else self.randn(E, K, N)
        ids = self.randint(0, E, 2, 3)
        y = self.g.grouped_matmul(self.input("x", x), self.input("experts", experts),
                                  self.input("ids", ids), transpose_b)
        W = np.swapaxes(f64(experts), -1, -2) if transpose_b else f64(experts)
        want = np.einsum("ijk,ijkn->ijn", f64(x), W[ids])
        self.assertClose(self.run_graph(y), want)

    def test_grouped_matmul(self):
        self.grouped(False)

    def test_grouped_matmul_transpose_b(self):
        self.grouped(True)

    def test_grouped_matmul_bad_id_at_run_time(self):
        x = self.randn(3, 8)
        ids = np.array([0, 7, 1], np.int32)
        y = self.g.grouped_matmul(self.input("x", x), self.input("e", self.randn(2, 8, 4)),
                                  self.input("ids", ids), False)
        with self.assertAneError(None, "7"):
            self.run_graph(y)

    def test_dequant_matmul_q8_0(self):
        N, K = 6, 64
        raw, wv = q8_0_blocks(self.rng, N, K)
        x = self.randn(2, 3, K)
        w = self.g.const(block_tensor("w", Ane.DType.Q8_0, [N, K], raw))
        y = self.g.dequant_matmul(self.input("x", x), w)
        self.assertClose(self.run_graph(y), f64(x) @ wv.T)

    def test_dequant_matmul_q4_0(self):
        N, K = 5, 96
        raw, wv = q4_0_blocks(self.rng, N, K)
        x = self.randn(4, K)
        w = self.g.const(block_tensor("w", Ane.DType.Q4_0, [N, K], raw))
        y = self.g.dequant_matmul(self.input("x", x), w)
        self.assertClose(self.run_graph(y), f64(x) @ wv.T)

    def test_dequant_grouped_matmul(self):
        E, N, K = 3, 4, 64
        raw, wv = q4_0_blocks(self.rng, E * N, K)
        wv = wv.reshape(E, N, K)
        x = self.randn(5, K)
        ids = np.array([2, 0, 1, 1, 2], np.int32)
        experts = self.g.const(block_tensor("experts", Ane.DType.Q4_0, [E, N, K], raw))
        y = self.g.dequant_grouped_matmul(self.input("x", x), experts, self.input("ids", ids))
        want = np.einsum("ik,ink->in", f64(x), wv[ids])
        self.assertClose(self.run_graph(y), want)

    def test_dequant_moe_weights(self):
        E, N, K = 2, 3, 64
        raw, wv = q8_0_blocks(self.rng, E * N, K)
        experts = self.g.const(block_tensor("experts", Ane.DType.Q8_0, [E, N, K], raw))
        d32 = self.g.dequant_moe_weights(experts, F32)
        d16 = self.g.dequant_moe_weights(experts, Ane.DType.FLOAT16)
        got32, got16 = self.run_graph(d32, d16)
        self.assertExact(got32, wv.reshape(E, N, K), np.float32)
        self.assertExact(got16, wv.reshape(E, N, K), np.float16)


# --- normalization ------------------------------------------------------------

class TestNorm(GraphTestCase):
    def test_softmax_last_axis(self):
        x = self.randn(2, 3, 7) * 3
        y = self.g.softmax(self.input("x", x), -1)
        self.assertClose(self.run_graph(y), np_softmax(f64(x), -1))

    def test_softmax_axis_1(self):
        x = self.randn(2, 5, 3)
        y = self.g.softmax(self.input("x", x), 1)
        self.assertClose(self.run_graph(y), np_softmax(f64(x), 1))

    def layer_norm_ref(self, x, axes, gamma, beta, eps):
        x = f64(x)
        mu = x.mean(axis=axes, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mu) / np.sqrt(var + eps)
        if gamma is not None:
            y = y * f64(gamma)
        if beta is not None:
            y = y + f64(beta)
        return y

    def test_layer_norm_last_axis(self):
        x, gamma, beta = self.randn(2, 3, 8), self.randn(8), self.randn(8)
        y = self.g.layer_norm(self.input("x", x), self.input("gamma", gamma),
                              self.input("beta", beta), [-1], 1e-5)
        self.assertClose(self.run_graph(y), self.layer_norm_ref(x, (-1,), gamma, beta, 1e-5))

    def test_layer_norm_two_axes(self):
        x, gamma, beta = self.randn(2, 3, 4), self.randn(3, 4), self.randn(3, 4)
        y = self.g.layer_norm(self.input("x", x), self.input("gamma", gamma),
                              self.input("beta", beta), [-2, -1], 1e-3)
        self.assertClose(self.run_graph(y), self.layer_norm_ref(x, (-2, -1), gamma, beta, 1e-3))

    def test_layer_norm_defaults_no_affine(self):
        x = self.randn(3, 6)
        y = self.g.layer_norm(self.input("x", x), None, None, [], 1e-5)
        self.assertClose(self.run_graph(y), self.layer_norm_ref(x, (-1,), None, None, 1e-5))

    def test_rms_norm(self):
        x, w = self.randn(2, 4, 16), self.randn(16)
        y = self.g.rms_norm(self.input("x", x), self.input("w", w), 1e-6)
        want = f64(x) / np.sqrt(np.mean(f64(x) ** 2, axis=-1, keepdims=True) + 1e-6) * f64(w)
        self.assertClose(self.run_graph(y), want)

    def test_rms_norm_no_weight(self):
        x = self.randn(5, 8) * 0.01
        y = self.g.rms_norm(self.input("x", x), None, 1e-2)
        want = f64(x) / np.sqrt(np.mean(f64(x) ** 2, axis=-1, keepdims=True) + 1e-2)
        self.assertClose(self.run_graph(y), want)

    def test_group_norm(self):
        N, C, G = 2, 6, 3
        x, gamma, beta = self.randn(N, C, 3, 4), self.randn(C), self.randn(C)
        y = self.g.group_norm(self.input("x", x), self.input("gamma", gamma),
                              self.input("beta", beta), G, 1e-5)
        xg = f64(x).reshape(N, G, -1)
        mu = xg.mean(-1, keepdims=True)
        var = xg.var(-1, keepdims=True)
        want = ((xg - mu) / np.sqrt(var + 1e-5)).reshape(x.shape)
        want = want * f64(gamma)[None, :, None, None] + f64(beta)[None, :, None, None]
        self.assertClose(self.run_graph(y), want)

    def test_group_norm_rank3_no_affine(self):
        x = self.randn(1, 4, 5)
        y = self.g.group_norm(self.input("x", x), None, None, 2, 1e-5)
        xg = f64(x).reshape(1, 2, -1)
        want = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5))
        self.assertClose(self.run_graph(y), want.reshape(x.shape))

    def test_layer_norm_2d(self):
        x, gamma, beta = self.randn(2, 5, 3, 4), self.randn(5), self.randn(5)
        y = self.g.layer_norm_2d(self.input("x", x), self.input("gamma", gamma),
                                 self.input("beta", beta), 1e-6)
        X = f64(x)
        mu = X.mean(1, keepdims=True)
        var = ((X - mu) ** 2).mean(1, keepdims=True)
        want = (X - mu) / np.sqrt(var + 1e-6)
        want = want * f64(gamma)[None, :, None, None] + f64(beta)[None, :, None, None]
        self.assertClose(self.run_graph(y), want)

    def test_batch_norm(self):
        C = 4
        x = self.randn(2, C, 3, 3)
        mean, var = self.randn(C), self.uniform(0.5, 2.0, C)
        gamma, beta = self.randn(C), self.randn(C)
        y = self.g.batch_norm(self.input("x", x), self.input("mean", mean), self.input("var", var),
                              self.input("gamma", gamma), self.input("beta", beta), 1e-3)
        b = (slice(None), None, None)
        want = (f64(x) - f64(mean)[b]) / np.sqrt(f64(var)[b] + 1e-3) * f64(gamma)[b] + f64(beta)[b]
        self.assertClose(self.run_graph(y), want)

    def test_batch_norm_rank3_no_affine(self):
        C = 3
        x, mean, var = self.randn(2, C, 5), self.randn(C), self.uniform(0.5, 2.0, C)
        y = self.g.batch_norm(self.input("x", x), self.input("mean", mean), self.input("var", var),
                              None, None, 1e-5)
        want = (f64(x) - f64(mean)[:, None]) / np.sqrt(f64(var)[:, None] + 1e-5)
        self.assertClose(self.run_graph(y), want)


# --- attention and positions ----------------------------------------------------

class TestAttention(GraphTestCase):
    def check(self, B, H, Hkv, S, L, D, Dv=None, bias_shape=None, causal=False,
              scale=0.0, softcap=0.0):
        Dv = Dv or D
        q, k, v = self.randn(B, H, S, D), self.randn(B, Hkv, L, D), self.randn(B, Hkv, L, Dv)
        bias = self.randn(*bias_shape) if bias_shape else None
        y = self.g.attention(self.input("q", q), self.input("k", k), self.input("v", v),
                             self.input("bias", bias) if bias is not None else None,
                             causal, scale, softcap)
        want = attention_ref(q, k, v, bias, causal, scale, softcap)
        self.assertClose(self.run_graph(y), want)

    def test_mha(self):
        self.check(B=2, H=2, Hkv=2, S=4, L=4, D=8)

    def test_gqa(self):
        self.check(B=1, H=4, Hkv=2, S=3, L=5, D=8, Dv=6)

    def test_mqa(self):
        self.check(B=1, H=3, Hkv=1, S=2, L=4, D=4)

    def test_causal(self):
        self.check(B=1, H=4, Hkv=2, S=5, L=5, D=8, causal=True)

    def test_causal_decode_shorter_queries(self):
        self.check(B=2, H=2, Hkv=1, S=2, L=6, D=4, causal=True)

    def test_causal_single_query(self):
        self.check(B=1, H=2, Hkv=2, S=1, L=7, D=4, causal=True)

    def test_bias_broadcast(self):
        self.check(B=2, H=2, Hkv=2, S=3, L=4, D=4, bias_shape=(1, 1, 3, 4))

    def test_bias_full(self):
        self.check(B=1, H=2, Hkv=1, S=3, L=3, D=4, bias_shape=(1, 2, 3, 3), causal=True)

    def test_softcap_and_scale(self):
        self.check(B=1, H=2, Hkv=2, S=4, L=4, D=8, scale=0.9, softcap=2.0)

    def test_heads_not_multiple(self):
        q = self.g.input("q", F32, [1, 3, 2, 4])
        k = self.g.input("k", F32, [1, 2, 2, 4])
        with self.assertAneError(Ane.Error.SHAPE, "attention"):
            self.g.attention(q, k, k, None, False, 0.0, 0.0)


class TestRope(GraphTestCase):
    def check(self, mode, mode_name, n_rot=0, theta=10000.0, D=8):
        x = self.randn(2, 3, 4, D)
        pos = np.array([3, 7, 0, 12], np.int32)
        y = self.g.rope(self.input("x", x), self.input("pos", pos), mode, theta, n_rot)
        self.assertClose(self.run_graph(y), rope_ref(x, pos, mode_name, theta, n_rot))

    def test_neox(self):
        self.check(Ane.RopeMode.NEOX, "neox")

    def test_interleaved(self):
        self.check(Ane.RopeMode.INTERLEAVED, "interleaved")

    def test_neox_partial(self):
        self.check(Ane.RopeMode.NEOX, "neox", n_rot=4, D=10)

    def test_interleaved_partial_theta(self):
        self.check(Ane.RopeMode.INTERLEAVED, "interleaved", n_rot=6, theta=500.0, D=8)

    def test_axial_rope_2d(self):
        end_x, end_y, D = 3, 2, 8
        x = self.randn(1, 2, end_x * end_y, D)
        y = self.g.axial_rope_2d(self.input("x", x), end_x, end_y, 10000.0)
        self.assertClose(self.run_graph(y), axial_rope_ref(x, end_x, end_y, 10000.0))

    def test_axial_rope_2d_theta(self):
        end_x, end_y, D = 4, 3, 12
        x = self.randn(2, 1, end_x * end_y, D)
        y = self.g.axial_rope_2d(self.input("x", x), end_x, end_y, 100.0)
        self.assertClose(self.run_graph(y), axial_rope_ref(x, end_x, end_y, 100.0))


# --- shape ------------------------------------------------------------------------

class TestShape(GraphTestCase):
    def test_reshape(self):
        x = self.randn(2, 3, 4)
        y = self.g.reshape(self.input("x", x), [4, -1])
        self.assertExact(self.run_graph(y), x.reshape(4, 6))

    def test_transpose(self):
        x = self.randn(2, 3, 4, 5)
        y = self.g.transpose(self.input("x", x), [2, 0, 3, 1])
        self.assertExact(self.run_graph(y), np.transpose(x, (2, 0, 3, 1)))

    def test_concat(self):
        a, b, c = self.randn(2, 1, 3), self.randn(2, 4, 3), self.randn(2, 2, 3)
        y = self.g.concat([self.input("a", a), self.input("b", b), self.input("c", c)], 1)
        self.assertExact(self.run_graph(y), np.concatenate([a, b, c], axis=1))

    def test_concat_negative_axis(self):
        a, b = self.randn(2, 3), self.randn(2, 2)
        y = self.g.concat([self.input("a", a), self.input("b", b)], -1)
        self.assertExact(self.run_graph(y), np.concatenate([a, b], axis=-1))

    def test_narrow(self):
        x = self.randn(3, 8, 2)
        t = self.input("x", x)
        y1 = self.g.narrow(t, 1, 2, 3)
        y2 = self.g.narrow(t, -2, -4, 4)
        r1, r2 = self.run_graph(y1, y2)
        self.assertExact(r1, x[:, 2:5, :])
        self.assertExact(r2, x[:, 4:8, :])

    def test_slice_update(self):
        x, u = self.randn(2, 6, 3), self.randn(1, 2, 3)
        tx, tu = self.input("x", x), self.input("u", u)
        b = self.input("b", np.array([1, 7, -2], np.int32))
        y = self.g.slice_update(tx, tu, b)
        want = x.copy()
        want[1:2, 4:6, 0:3] = u   # begin clamped to [0, x.shape - u.shape]: 1, 4, 0
        self.assertExact(self.run_graph(y), want)

    def test_slice_update_cpu_matches_reference(self):
        x, u = self.randn(1, 4, 1, 6).astype(np.float16), self.randn(1, 4, 1, 1).astype(np.float16)
        y = self.g.slice_update(self.input("x", x), self.input("u", u),
                                self.input("b", np.array([0, 0, 0, 3], np.int32)))
        self.g.add_output("y", y)
        want = x.copy()
        want[..., 3:4] = u
        for backend in (Ane.Backend.REFERENCE, Ane.Backend.CPU):
            exe = Ane.Executable.new(self.g, backend)
            exe.set_target(Ane.Target.IOS18)
            exe.compile(None)
            self.assertExact(to_numpy(exe.run(self.feeds, None)[0]), want)

    def test_slice_update_host_end(self):
        # the optional end (through apply): begin and end go to MIL
        # slice_update as the host gave them, and a box outside x is refused
        # when run, never clamped or written out of bounds
        x, u = self.randn(1, 4, 1, 8).astype(np.float16), self.randn(1, 4, 1, 2).astype(np.float16)
        b = self.input("b", np.array([0, 0, 0, 5], np.int32))
        e = self.input("e", np.array([1, 4, 1, 7], np.int32))
        y, = self.g.apply("slice_update", [self.input("x", x), self.input("u", u), b, e], None)
        self.g.add_output("y", y)
        want = x.copy()
        want[..., 5:7] = u
        outside = {"b": np.array([0, 0, 0, 7], np.int32), "e": np.array([1, 4, 1, 9], np.int32)}
        bad = [to_tensor(t.get_name(), outside[t.get_name()]) if t.get_name() in outside else t
               for t in self.feeds]
        for backend in (Ane.Backend.REFERENCE, Ane.Backend.CPU):
            exe = Ane.Executable.new(self.g, backend)
            exe.set_target(Ane.Target.IOS18)
            exe.compile(None)
            self.assertExact(to_numpy(exe.run(self.feeds, None)[0]), want)
            with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "slice_update"):
                exe.run(bad, None)
            self.assertExact(to_numpy(exe.run(self.feeds, None)[0]), want)
        with self.assertAneError(Ane.Error.DTYPE, "slice_update", "'end'"):
            self.g.apply("slice_update", [self.input("x2", x), self.input("u2", u), b,
                                          self.input("e2", np.zeros(4, np.float32))], None)

    def test_slice_update_errors(self):
        x = self.input("x", self.randn(2, 3))
        with self.assertAneError(Ane.Error.SHAPE, "slice_update", "'update'", "float32[3,1]",
                                 "float32[2,3]"):
            self.g.slice_update(x, self.input("u", self.randn(3, 1)),
                                self.input("b", np.zeros(2, np.int32)))
        with self.assertAneError(Ane.Error.DTYPE, "slice_update", "'begin'", "float32[2]"):
            self.g.slice_update(x, self.input("u2", self.randn(1, 1)),
                                self.input("b2", np.zeros(2, np.float32)))

    def test_gather(self):
        x = self.randn(3, 5, 2)
        idx = np.array([[4, -1], [0, 2]], np.int32)
        y = self.g.gather(self.input("x", x), self.input("idx", idx), 1)
        self.assertExact(self.run_graph(y), np.take(x, idx, axis=1))

    def test_gather_axis0_embedding(self):
        table = self.randn(10, 4)
        ids = np.array([3, 3, 9, 0, -10], np.int32)
        y = self.g.gather(self.input("table", table), self.input("ids", ids), 0)
        self.assertExact(self.run_graph(y), np.take(table, ids, axis=0))

    def test_gather_out_of_range(self):
        x = self.randn(4, 2)
        y = self.g.gather(self.input("x", x), self.input("idx", np.array([1, 4], np.int32)), 0)
        with self.assertAneError(None):
            self.run_graph(y)

    def test_expand(self):
        x = self.randn(3, 1)
        y = self.g.expand(self.input("x", x), [2, 3, 4])
        self.assertExact(self.run_graph(y), np.broadcast_to(x, (2, 3, 4)))

    def test_cast_float_to_int(self):
        x = np.array([-2.7, -0.5, 0.5, 2.9, 3e9, -3e9, np.nan, 126.9], np.float32)
        t = self.input("x", x)
        i32, i8 = self.run_graph(self.g.cast(t, Ane.DType.INT32), self.g.cast(t, Ane.DType.INT8))
        self.assertExact(i32, [-2, 0, 0, 2, 2147483647, -2147483648, 0, 126], np.int32)
        self.assertExact(i8, [-2, 0, 0, 2, 127, -128, 0, 126], np.int8)

    def test_cast_float_to_half_and_bool(self):
        x = np.concatenate([self.randn(6), [0.0, -0.0, 70000.0]]).astype(np.float32)
        t = self.input("x", x)
        h, b = self.run_graph(self.g.cast(t, Ane.DType.FLOAT16), self.g.cast(t, Ane.DType.BOOL))
        with np.errstate(over="ignore"):      # 70000 becomes inf in float16
            self.assertExact(h, x.astype(np.float16))
        self.assertExact(b, x != 0)

    def test_cast_int_to_float_and_narrow_int(self):
        x = np.array([-300, -5, 0, 7, 1000, 2 ** 24 + 1], np.int32)
        t = self.input("x", x)
        f, u8 = self.run_graph(self.g.cast(t, F32), self.g.cast(t, Ane.DType.UINT8))
        self.assertExact(f, x.astype(np.float32))
        self.assertExact(u8, np.clip(x, 0, 255), np.uint8)

    def test_stop_gradient(self):
        x = self.randn(2, 5)
        y = self.g.stop_gradient(self.input("x", x))
        self.assertExact(self.run_graph(y), x)


# --- reductions and scans ---------------------------------------------------------

def reduce_case(op, fn, lo=-3.0, hi=3.0):
    def test(self):
        x = self.uniform(lo, hi, 2, 3, 4)
        cases = [([], False), ([1], False), ([0, 2], True), ([-1], True), ([], True)]
        t = self.input("x", x)
        ys = [getattr(self.g, op)(t, axes, keep) for axes, keep in cases]
        for got, (axes, keep) in zip(self.run_graph(*ys), cases):
            with self.subTest(axes=axes, keepdims=keep):
                ax = tuple(axes) if axes else None
                self.assertClose(got, fn(f64(x), axis=ax, keepdims=keep))
    return test


def cumsum_ref(x, axis, exclusive, reverse):
    x = f64(x)
    if reverse:
        x = np.flip(x, axis)
    c = np.cumsum(x, axis=axis)
    if exclusive:
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)),
                            np.take(c, range(c.shape[axis] - 1), axis=axis)], axis=axis)
    if reverse:
        c = np.flip(c, axis)
    return c


class TestReduce(GraphTestCase):
    test_reduce_sum = reduce_case("reduce_sum", np.sum)
    test_reduce_mean = reduce_case("reduce_mean", np.mean)
    test_reduce_max = reduce_case("reduce_max", np.max)
    test_reduce_min = reduce_case("reduce_min", np.min)
    test_reduce_prod = reduce_case("reduce_prod", np.prod, 0.5, 1.5)

    def test_cumsum_variants(self):
        x = self.randn(3, 5)
        t = self.input("x", x)
        cases = [(0, False, False), (1, False, False), (1, True, False),
                 (1, False, True), (-1, True, True), (0, True, True)]
        ys = [self.g.cumsum(t, axis, excl, rev) for axis, excl, rev in cases]
        for got, (axis, excl, rev) in zip(self.run_graph(*ys), cases):
            with self.subTest(axis=axis, exclusive=excl, reverse=rev):
                self.assertClose(got, cumsum_ref(x, axis, excl, rev))

    def test_top_k(self):
        # small integers so ties occur: the lower index comes first
        x = self.randint(0, 4, 3, 7).astype(np.float32)
        values, indices = self.g.top_k(self.input("x", x), 3, -1)
        got_v, got_i = self.run_graph(values, indices)
        order = np.argsort(-x, axis=-1, kind="stable")[:, :3]
        self.assertExact(got_i, order, np.int32)
        self.assertExact(got_v, np.take_along_axis(x, order, axis=-1))

    def test_top_k_axis0(self):
        x = self.randn(6, 4)
        values, indices = self.g.top_k(self.input("x", x), 2, 0)
        got_v, got_i = self.run_graph(values, indices)
        order = np.argsort(-x, axis=0, kind="stable")[:2]
        self.assertExact(got_i, order, np.int32)
        self.assertExact(got_v, np.take_along_axis(x, order, axis=0))

    def test_argmax_argmin(self):
        # small integers so ties occur: numpy's first index wins
        x = self.randint(0, 3, 4, 5).astype(np.float32)
        t = self.input("x", x)
        ys = [self.g.argmax(t, 1, False), self.g.argmin(t, 0, True)]
        got_max, got_min = self.run_graph(*ys)
        self.assertExact(got_max, np.argmax(x, axis=1), np.int32)
        self.assertExact(got_min, np.argmin(x, axis=0)[None, :], np.int32)

    def test_cross_entropy(self):
        # [B,S,V] with ignored positions (-100) against numpy; a scalar out
        x = self.uniform(-4, 4, 2, 3, 7)
        t = self.randint(0, 7, 2, 3)
        t[0, 1] = t[1, 2] = -100
        y = self.g.cross_entropy(self.input("x", x), self.input("t", t), -100)
        got = self.run_graph(y)
        xd = x.astype(np.float64)
        lse = np.log(np.exp(xd).sum(-1))
        keep = t != -100
        picked = np.take_along_axis(xd, np.where(keep, t, 0)[..., None], -1)[..., 0]
        self.assertClose(got, ((lse - picked) * keep).sum() / keep.sum(), rtol=1e-6)
        self.assertEqual(got.shape, ())

    def test_cross_entropy_all_ignored(self):
        # ignore_index 2 inside [0, V): every position ignored gives 0, not NaN
        y = self.g.cross_entropy(self.input("x", self.randn(4, 5)), self.input("t", np.full(4, 2, np.int32)), 2)
        self.assertExact(self.run_graph(y), np.float32(0))

    def test_cross_entropy_target_out_of_range(self):
        t = np.array([0, 4, -100, 5], np.int32)
        y = self.g.cross_entropy(self.input("x", self.randn(4, 5)), self.input("t", t), -100)
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "target 5", "position [3]"):
            self.run_graph(y)

    def test_gather_elements(self):
        x = self.randn(3, 4)
        idx = np.array([[0, -1, 2], [3, 1, -4]], np.int32)   # smaller than x on axis 0
        y = self.g.gather_elements(self.input("x", x), self.input("i", idx), 1)
        got = self.run_graph(y)
        self.assertExact(got, np.take_along_axis(x[:2], idx % 4, axis=1))

    def test_pad_modes(self):
        x = self.randn(2, 3, 4)
        t = self.input("x", x)
        pads = [1, 2, 3, 0]      # (before, after) of axes 1 and 2
        np_pad = [(0, 0), (1, 2), (3, 0)]
        ys = [self.g.pad(t, pads, "constant", 0.5), self.g.pad(t, pads, "reflect", 0.0),
              self.g.pad(t, pads, "edge", 0.0)]
        got = self.run_graph(*ys)
        self.assertExact(got[0], np.pad(x, np_pad, mode="constant", constant_values=0.5))
        self.assertExact(got[1], np.pad(x, np_pad, mode="reflect"))
        self.assertExact(got[2], np.pad(x, np_pad, mode="edge"))

    def test_resize(self):
        x = self.randn(1, 2, 3, 4)
        t = self.input("x", x)
        near = self.g.resize(t, 6, 8, 2.0, 2.0, "nearest", "asymmetric", "floor")
        align = self.g.resize(t, 5, 4, 0.0, 0.0, "linear", "align_corners", "floor")
        got_near, got_align = self.run_graph(near, align)
        self.assertExact(got_near, x.repeat(2, axis=2).repeat(2, axis=3))
        # align_corners along H only (W keeps its size): rows at 0, 0.5, 1, 1.5, 2
        pos = np.arange(5) * 2 / 4
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, 2)
        w = (pos - lo)[None, None, :, None]
        xd = f64(x)
        self.assertClose(got_align, xd[:, :, lo] * (1 - w) + xd[:, :, hi] * w)

    def test_erf(self):
        x = self.uniform(-3, 3, 7)
        got = self.run_graph(self.g.erf(self.input("x", x)))
        self.assertClose(got, np.array([math.erf(v) for v in f64(x)]))

    def scatter_add_ref(self, x, idx, upd, axis):
        out = f64(x).copy()
        for p in np.ndindex(idx.shape):
            q = list(p)
            q[axis] = idx[p]
            out[tuple(q)] += upd[p]
        return out

    def test_scatter_add_axis0(self):
        x, idx, upd = self.randn(3, 4), self.randint(0, 3, 5, 4), self.randn(5, 4)
        y = self.g.scatter_add(self.input("x", x), self.input("idx", idx), self.input("upd", upd), 0)
        self.assertClose(self.run_graph(y), self.scatter_add_ref(x, idx, upd, 0))

    def test_scatter_add_axis1(self):
        x, idx, upd = self.randn(2, 3, 4), self.randint(0, 4, 2, 3, 6), self.randn(2, 3, 6)
        y = self.g.scatter_add(self.input("x", x), self.input("idx", idx), self.input("upd", upd), -1)
        self.assertClose(self.run_graph(y), self.scatter_add_ref(x, idx, upd, 2))


# --- quantization -------------------------------------------------------------------

class TestQuant(GraphTestCase):
    def test_quantize_per_tensor(self):
        x = self.randn(3, 5) * 4
        scale = np.array(0.05, np.float32)
        zp = np.array(3, np.int8)
        y = self.g.quantize(self.input("x", x), self.input("scale", scale),
                            self.input("zp", zp), 0, Ane.DType.INT8)
        want = np.clip(np.round(f64(x) / f64(scale)) + 3, -128, 127)
        self.assertExact(self.run_graph(y), want, np.int8)

    def test_quantize_uint8_no_zero_point(self):
        x = self.uniform(-1, 20, 10)
        scale = np.array([0.1], np.float32)
        y = self.g.quantize(self.input("x", x), self.input("scale", scale), None, 0,
                            Ane.DType.UINT8)
        want = np.clip(np.round(f64(x) / f64(scale)), 0, 255)
        self.assertExact(self.run_graph(y), want, np.uint8)

    def test_quantize_per_channel(self):
        x = self.randn(2, 3, 4)
        scale = np.array([0.01, 0.02, 0.05], np.float32)
        zp = np.array([120, 128, 130], np.uint8)
        y = self.g.quantize(self.input("x", x), self.input("scale", scale),
                            self.input("zp", zp), 1, Ane.DType.UINT8)
        b = (None, slice(None), None)
        want = np.clip(np.round(f64(x) / f64(scale)[b]) + f64(zp)[b], 0, 255)
        self.assertExact(self.run_graph(y), want, np.uint8)

    def test_dequantize_per_tensor(self):
        q = self.randint(-128, 128, 4, 5, dtype=np.int8)
        scale, zp = np.array(0.125, np.float32), np.array(-3, np.int8)
        y = self.g.dequantize(self.input("q", q), self.input("scale", scale),
                              self.input("zp", zp), 0, F32)
        self.assertClose(self.run_graph(y), (f64(q) + 3) * 0.125)

    def test_dequantize_per_channel_float16(self):
        q = self.randint(0, 256, 3, 4, dtype=np.uint8)
        scale = np.array([0.1, 0.02, 0.3, 0.004], np.float32)
        zp = np.array([128, 0, 100, 255], np.uint8)
        y = self.g.dequantize(self.input("q", q), self.input("scale", scale),
                              self.input("zp", zp), -1, Ane.DType.FLOAT16)
        want = (f64(q) - f64(zp)) * f64(scale)
        self.assertExact(self.run_graph(y), want, np.float16)

    def test_dequantize_no_zero_point(self):
        q = self.randint(-128, 128, 6, dtype=np.int8)
        y = self.g.dequantize(self.input("q", q), self.input("scale", np.array([0.5], np.float32)),
                              None, 0, F32)
        self.assertClose(self.run_graph(y), f64(q) * 0.5)


# --- state-space models -------------------------------------------------------------

class TestSSM(GraphTestCase):
    def test_selective_scan_full(self):
        B, D, N, L = 2, 3, 4, 5
        u, delta = self.randn(B, D, L), self.randn(B, D, L) * 0.5
        A = -self.uniform(0.5, 2.0, D, N)
        Bm, Cm = self.randn(B, N, L), self.randn(B, N, L)
        Dv, z, db = self.randn(D), self.randn(B, D, L), self.randn(D) * 0.1
        y = self.g.selective_scan(self.input("u", u), self.input("delta", delta),
                                  self.input("A", A), self.input("B", Bm), self.input("C", Cm),
                                  self.input("D", Dv), self.input("z", z),
                                  self.input("delta_bias", db), True)
        want = selective_scan_ref(u, delta, A, Bm, Cm, Dv, z, db, True)
        self.assertClose(self.run_graph(y), want)

    def test_selective_scan_minimal(self):
        B, D, N, L = 1, 2, 3, 6
        u, delta = self.randn(B, D, L), self.uniform(0.01, 0.5, B, D, L)
        A = -self.uniform(0.5, 2.0, D, N)
        Bm, Cm = self.randn(B, N, L), self.randn(B, N, L)
        y = self.g.selective_scan(self.input("u", u), self.input("delta", delta),
                                  self.input("A", A), self.input("B", Bm), self.input("C", Cm),
                                  None, None, None, False)
        self.assertClose(self.run_graph(y), selective_scan_ref(u, delta, A, Bm, Cm))

    def test_gated_delta_net(self):
        B, H, T, K, V = 1, 2, 5, 4, 3
        q, k, v = self.randn(B, H, T, K), self.randn(B, H, T, K), self.randn(B, H, T, V)
        g = -self.uniform(0.0, 0.5, B, H, T)
        beta = self.uniform(0.0, 1.0, B, H, T)
        o, final = self.g.gated_delta_net(self.input("q", q), self.input("k", k),
                                          self.input("v", v), self.input("g", g),
                                          self.input("beta", beta), None, 0.0, True)
        got_o, got_s = self.run_graph(o, final)
        want_o, want_s = gated_delta_net_ref(q, k, v, g, beta, None, 0.0, True)
        self.assertClose(got_o, want_o)
        self.assertClose(got_s, want_s)

    def test_gated_delta_net_initial_state_and_scale(self):
        B, H, T, K, V = 2, 1, 4, 3, 5
        q, k, v = self.randn(B, H, T, K), self.randn(B, H, T, K) * 0.5, self.randn(B, H, T, V)
        g = -self.uniform(0.0, 0.3, B, H, T)
        beta = self.uniform(0.0, 1.0, B, H, T)
        s0 = self.randn(B, H, K, V)
        o, final = self.g.gated_delta_net(self.input("q", q), self.input("k", k),
                                          self.input("v", v), self.input("g", g),
                                          self.input("beta", beta), self.input("s0", s0),
                                          0.25, False)
        got_o, got_s = self.run_graph(o, final)
        want_o, want_s = gated_delta_net_ref(q, k, v, g, beta, s0, 0.25, False)
        self.assertClose(got_o, want_o)
        self.assertClose(got_s, want_s)


# --- vision -----------------------------------------------------------------------

class TestVision(GraphTestCase):
    def test_conv2d_defaults(self):
        x, w, b = self.randn(2, 3, 6, 5), self.randn(4, 3, 3, 3), self.randn(4)
        y = self.g.conv(self.input("x", x), self.input("w", w), self.input("b", b),
                        [], [], [], 1)
        self.assertClose(self.run_graph(y), conv2d_ref(x, w, b, (1, 1), (0, 0, 0, 0), (1, 1), 1))

    def test_conv2d_stride_pad_dilation(self):
        x, w = self.randn(1, 4, 9, 8), self.randn(6, 4, 3, 2)
        y = self.g.conv(self.input("x", x), self.input("w", w), None,
                        [2, 1], [1, 2, 0, 1], [2, 3], 1)
        self.assertClose(self.run_graph(y), conv2d_ref(x, w, None, (2, 1), (1, 2, 0, 1), (2, 3), 1))

    def test_conv2d_groups(self):
        x, w, b = self.randn(2, 4, 5, 5), self.randn(6, 2, 3, 3), self.randn(6)
        y = self.g.conv(self.input("x", x), self.input("w", w), self.input("b", b),
                        [1, 2], [1, 1, 1, 1], [1, 1], 2)
        self.assertClose(self.run_graph(y), conv2d_ref(x, w, b, (1, 2), (1, 1, 1, 1), (1, 1), 2))

    def test_conv2d_depthwise(self):
        x, w = self.randn(1, 3, 6, 6), self.randn(3, 1, 3, 3)
        y = self.g.conv(self.input("x", x), self.input("w", w), None, [2, 2], [1, 1, 1, 1], [], 3)
        self.assertClose(self.run_graph(y), conv2d_ref(x, w, None, (2, 2), (1, 1, 1, 1), (1, 1), 3))

    def test_conv1d(self):
        x, w, b = self.randn(2, 4, 11), self.randn(6, 2, 3), self.randn(6)
        y = self.g.conv(self.input("x", x), self.input("w", w), self.input("b", b),
                        [2], [1, 2], [2], 2)
        want = conv2d_ref(x[:, :, None, :], w[:, :, None, :], b, (1, 2), (0, 0, 1, 2), (1, 2), 2)
        self.assertClose(self.run_graph(y), want[:, :, 0, :])

    def test_conv_transpose_2d(self):
        x, w, b = self.randn(1, 4, 3, 4), self.randn(4, 3, 3, 2), self.randn(6)
        y = self.g.conv_transpose_2d(self.input("x", x), self.input("w", w), self.input("b", b),
                                     [2, 1], [1, 0, 0, 1], [1, 2], [1, 0], 2)
        want = conv_transpose2d_ref(x, w, b, (2, 1), (1, 0, 0, 1), (1, 2), (1, 0), 2)
        self.assertClose(self.run_graph(y), want)

    def test_conv_transpose_2d_defaults(self):
        x, w = self.randn(2, 3, 4, 4), self.randn(3, 2, 2, 2)
        y = self.g.conv_transpose_2d(self.input("x", x), self.input("w", w), None,
                                     [2, 2], [], [], [], 1)
        want = conv_transpose2d_ref(x, w, None, (2, 2), (0, 0, 0, 0), (1, 1), (0, 0), 1)
        self.assertClose(self.run_graph(y), want)

    def check_pool(self, kind, kind_name, kernel, strides, pads, include):
        x = self.randn(2, 3, 7, 6)
        y = self.g.pool(self.input("x", x), kind, kernel, strides, pads, include)
        self.assertClose(self.run_graph(y), pool_ref(x, kind_name, kernel, strides, pads, include))

    def test_pool_max(self):
        self.check_pool(Ane.PoolKind.MAX, "max", [2, 2], [2, 2], [0, 0, 0, 0], False)

    def test_pool_max_padded(self):
        # a padded cell never wins, even over negative values
        self.check_pool(Ane.PoolKind.MAX, "max", [3, 3], [2, 1], [1, 1, 1, 0], False)

    def test_pool_avg_exclude_pad(self):
        self.check_pool(Ane.PoolKind.AVG, "avg", [3, 2], [2, 2], [1, 1, 0, 1], False)

    def test_pool_avg_include_pad(self):
        self.check_pool(Ane.PoolKind.AVG, "avg", [3, 3], [1, 2], [1, 1, 1, 1], True)

    def test_resize_nearest_2x(self):
        x = self.randn(1, 2, 3, 4)
        y = self.g.resize_nearest_2x(self.input("x", x))
        self.assertExact(self.run_graph(y), x.repeat(2, axis=2).repeat(2, axis=3))


# --- state ----------------------------------------------------------------------

class TestState(GraphTestCase):
    def test_accumulate_across_runs(self):
        s = self.g.state("acc", F32, [2, 3])
        x = self.g.input("x", F32, [2, 3])
        total = self.g.add(self.g.read_state(s), x)
        self.g.write_state(s, total)
        exe = self.executable(total)
        xs = [self.randn(2, 3) for _ in range(3)]
        acc = np.zeros((2, 3))
        for xv in xs:
            acc = acc + f64(xv)
            out = to_numpy(exe.run([to_tensor("x", xv)], None)[0])
            self.assertClose(out, acc)
        self.assertClose(to_numpy(exe.dup_state("acc")), acc)
        exe.reset_states()
        self.assertExact(to_numpy(exe.dup_state("acc")), np.zeros((2, 3), np.float32))
        exe.set_state("acc", to_tensor("acc", np.full((2, 3), 10.0, np.float32)))
        out = to_numpy(exe.run([to_tensor("x", xs[0])], None)[0])
        self.assertClose(out, 10.0 + f64(xs[0]))

    def test_write_runs_even_when_unused(self):
        s = self.g.state("last", F32, [4])
        x = self.g.input("x", F32, [4])
        self.g.write_state(s, x)
        y = self.g.mul(x, self.g.scalar(F32, 2.0))
        exe = self.executable(y)
        xv = self.randn(4)
        out = to_numpy(exe.run([to_tensor("x", xv)], None)[0])
        self.assertClose(out, 2 * f64(xv))
        self.assertExact(to_numpy(exe.dup_state("last")), xv)

    def test_read_after_write_in_one_run(self):
        s = self.g.state("s", F32, [3])
        x = self.g.input("x", F32, [3])
        before = self.g.read_state(s)
        self.g.write_state(s, x)
        after = self.g.read_state(s)
        exe = self.executable(before, after)
        x1, x2 = self.randn(3), self.randn(3)
        b1, a1 = map(to_numpy, exe.run([to_tensor("x", x1)], None))
        b2, a2 = map(to_numpy, exe.run([to_tensor("x", x2)], None))
        self.assertExact(b1, np.zeros(3, np.float32))
        self.assertExact(a1, x1)
        self.assertExact(b2, x1)
        self.assertExact(a2, x2)


# --- errors -------------------------------------------------------------------

class TestErrors(GraphTestCase):
    def test_bad_broadcast(self):
        a = self.g.input("a", F32, [2, 3])
        b = self.g.input("b", F32, [4])
        with self.assertAneError(Ane.Error.SHAPE, "add", "'a'", "float32[2,3]", "float32[4]"):
            self.g.add(a, b)

    def test_wrong_dtype(self):
        a = self.g.input("a", F32, [2, 3])
        b = self.g.input("b", Ane.DType.INT32, [2, 3])
        with self.assertAneError(Ane.Error.DTYPE, "mul", "int32", "float32"):
            self.g.mul(a, b)

    def test_float_only_op_on_int(self):
        x = self.g.input("x", Ane.DType.INT32, [3])
        with self.assertAneError(Ane.Error.DTYPE, "sqrt", "int32"):
            self.g.sqrt(x)

    def test_where_needs_bool(self):
        c = self.g.input("c", F32, [3])
        with self.assertAneError(Ane.Error.DTYPE, "where", "cond"):
            self.g.where(c, c, c)

    def test_foreign_tensor(self):
        other = Ane.Graph.new()
        x = other.input("x", F32, [2])
        y = self.g.input("y", F32, [2])
        with self.assertAneError(Ane.Error.INVALID_GRAPH, "'b'", "(x)"):
            self.g.add(y, x)

    def test_missing_input_at_run(self):
        x = self.g.input("x", F32, [2])
        self.g.input("y", F32, [2])
        exe = self.executable(self.g.neg(x))
        with self.assertAneError(None, "y"):
            exe.run([to_tensor("x", np.zeros(2, np.float32))], None)

    def test_wrong_input_shape_at_run(self):
        x = self.g.input("x", F32, [2])
        exe = self.executable(self.g.neg(x))
        with self.assertAneError(None, "x"):
            exe.run([to_tensor("x", np.zeros(3, np.float32))], None)


# --- the generic entry point, the catalog and serialization ------------------------------

ALL_OPS = """
input param const state
matmul lora_matmul grouped_matmul dequant_matmul dequant_grouped_matmul dequant_moe_weights
add sub mul div maximum minimum pow
relu sigmoid tanh gelu silu exp log sqrt rsqrt abs neg sin cos tan atan round
eq ne lt le gt ge where
softmax layer_norm rms_norm group_norm layer_norm_2d batch_norm
attention rope axial_rope_2d
reshape transpose concat narrow gather expand cast stop_gradient slice_update
reduce_sum reduce_mean reduce_max reduce_min reduce_prod cumsum top_k scatter_add
quantize dequantize selective_scan gated_delta_net
conv conv_transpose_2d pool resize_nearest_2x read_state write_state
erf pad gather_elements argmax argmin resize
cross_entropy
""".split()


def attrs(**kw):
    return GLib.Variant("a{sv}", kw)


class TestApply(GraphTestCase):
    def test_list_ops_matches_the_documented_surface(self):
        self.assertEqual(sorted(Ane.Graph.list_ops()), sorted(ALL_OPS))

    def test_every_op_has_a_builder_method(self):
        missing = [op for op in ALL_OPS
                   if op not in ("input", "param", "const", "state") and not hasattr(self.g, op)]
        if missing and not STRICT:
            self.skipTest(f"op pending (not introspectable yet): {missing}")
        self.assertEqual(missing, [], "builder methods missing from the typelib")

    def test_gelu_tanh_attrs(self):
        x = f64(self.uniform(-3, 3, 5))
        outs = self.g.apply("gelu", [self.input("x", x)],
                            attrs(approximation=GLib.Variant("s", "tanh")))
        self.assertEqual(len(outs), 1)
        want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        self.assertClose(self.run_graph(outs[0]), want)

    def test_defaults_with_none_attrs(self):
        x = self.randn(4)
        y, = self.g.apply("relu", [self.input("x", x)], None)
        self.assertClose(self.run_graph(y), np.maximum(f64(x), 0))

    def test_attrs_and_array_coercion(self):
        x = self.randn(3, 4)
        t = self.input("x", x)
        # integer arrays may come as "ax" or as "ai"
        s, = self.g.apply("softmax", [t], attrs(axis=GLib.Variant("x", 0)))
        r1, = self.g.apply("reduce_sum", [t], attrs(axes=GLib.Variant("ax", [1]),
                                                     keepdims=GLib.Variant("b", True)))
        r2, = self.g.apply("reduce_max", [t], attrs(axes=GLib.Variant("ai", [0])))
        got_s, got_r1, got_r2 = self.run_graph(s, r1, r2)
        self.assertClose(got_s, np_softmax(f64(x), 0))
        self.assertClose(got_r1, f64(x).sum(1, keepdims=True))
        self.assertClose(got_r2, f64(x).max(0))

    def test_scalar_coercion(self):
        # "i" for an "x" attribute and "i"/"x" for a "d" one are converted. Run
        # in a child process: a refcounting bug there crashed rather than failed.
        code = """if True:
            import gi
            gi.require_version("Ane", "1.0")
            from gi.repository import Ane, GLib
            g = Ane.Graph.new()
            x = g.input("x", Ane.DType.FLOAT32, [2, 3])
            for _ in range(3):
                g.apply("cumsum", [x], GLib.Variant("a{sv}", {"axis": GLib.Variant("i", 1)}))
                g.apply("rms_norm", [x, None], GLib.Variant("a{sv}", {"eps": GLib.Variant("i", 1)}))
                g.apply("rms_norm", [x, None], GLib.Variant("a{sv}", {"eps": GLib.Variant("x", 1)}))
            print("ok")
        """
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if "pending" in proc.stderr and not STRICT:
            self.skipTest("op pending")
        if proc.returncode < 0 and not STRICT:
            self.skipTest(f"known bug: coerce() in ane-op-catalog.c returns a floating "
                          f"GVariant that is then unreffed (signal {-proc.returncode})")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "ok")

    def test_optional_inputs_as_none(self):
        x = self.randn(2, 6)
        y, = self.g.apply("layer_norm", [self.input("x", x), None, None],
                          attrs(eps=GLib.Variant("d", 1e-3)))
        X = f64(x)
        want = (X - X.mean(-1, keepdims=True)) / np.sqrt(X.var(-1, keepdims=True) + 1e-3)
        self.assertClose(self.run_graph(y), want)

    def test_two_outputs(self):
        x = self.randn(2, 5)
        outs = self.g.apply("top_k", [self.input("x", x)],
                            attrs(k=GLib.Variant("x", 2), axis=GLib.Variant("x", -1)))
        self.assertEqual(len(outs), 2)
        self.assertEqual(outs[1].get_dtype(), Ane.DType.INT32)
        v, i = self.run_graph(*outs)
        order = np.argsort(-x, axis=-1, kind="stable")[:, :2]
        self.assertExact(i, order, np.int32)
        self.assertExact(v, np.take_along_axis(x, order, -1))

    def test_unknown_op(self):
        with self.assertAneError(Ane.Error.NOT_FOUND, "no_such_op"):
            self.g.apply("no_such_op", [], None)

    def test_unknown_attribute(self):
        x = self.g.input("x", F32, [2])
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "bogus"):
            self.g.apply("softmax", [x], attrs(bogus=GLib.Variant("b", True)))

    def test_source_op_refused(self):
        with self.assertAneError(Ane.Error.INVALID_ARGUMENT, "input"):
            self.g.apply("input", [], None)


class TestSaveLoad(GraphTestCase):
    def test_round_trip(self):
        x = self.g.input("x", F32, [2, 4])
        w = self.param("w", self.randn(4, 3))
        b = self.const("b", self.randn(3))
        y = self.g.relu(self.g.add(self.g.matmul(x, w, False, False), b))
        self.g.add_output("y", y)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "graph.json")
            self.g.save(path)
            loaded = Ane.Graph.load(path)
        self.assertEqual(loaded.get_n_nodes(), self.g.get_n_nodes())
        xv = to_tensor("x", self.randn(2, 4))
        results = []
        for graph in (self.g, loaded):
            exe = Ane.Executable.new(graph, Ane.Backend.REFERENCE)
            exe.compile(None)
            results.append(to_numpy(exe.run([xv], None)[0]))
        self.assertExact(results[1], results[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
