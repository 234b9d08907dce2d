#!/usr/bin/python3
# transformer_block.py: one LLaMA-style decoder block from Python
#
# The same block as transformer-block.c -- RMSNorm, q/k/v projections, NeoX
# rotary embeddings, causal grouped-query attention, output projection,
# residual, RMSNorm, SwiGLU feed-forward, residual -- built through the
# PyGObject bindings, run on the reference backend and checked against a
# plain numpy implementation of the same maths. Exits non-zero on mismatch.
#
#     GI_TYPELIB_PATH=... /usr/bin/python3 transformer_block.py [--seq N] [--dim N]
#
# SPDX-License-Identifier: MIT

import argparse
import sys

import gi

gi.require_version("Ane", "1.0")
from gi.repository import Ane, GLib  # noqa: E402

import numpy as np  # noqa: E402

N_HEADS, N_KV_HEADS = 4, 2
THETA, EPS = 10000.0, 1e-5


# --- numpy <-> Ane.Tensor ----------------------------------------------------

def tensor(name, array):
    """A concrete Ane.Tensor holding a float32 or int32 numpy array."""
    array = np.ascontiguousarray(array)
    dtype = Ane.DType.INT32 if array.dtype == np.int32 else Ane.DType.FLOAT32
    data = array.astype(np.int32 if dtype == Ane.DType.INT32 else np.float32).tobytes()
    return Ane.Tensor.new_from_bytes(name, dtype, list(array.shape), GLib.Bytes.new(data))


def array(t):
    """The values of a float32 Ane.Tensor as a numpy array."""
    return np.frombuffer(t.get_data().get_data(), np.float32).reshape(t.get_shape())


# --- the weights ---------------------------------------------------------------

def make_weights(dim, ffn_dim, seed=0):
    rng = np.random.default_rng(seed)
    hd = dim // N_HEADS

    def proj(rows, cols):
        return (rng.uniform(-1, 1, (rows, cols)) / np.sqrt(rows)).astype(np.float32)

    def gain():
        return (1 + 0.1 * rng.uniform(-1, 1, dim)).astype(np.float32)

    return {
        "layers.0.attention_norm": gain(),
        "layers.0.attention.wq": proj(dim, dim),
        "layers.0.attention.wk": proj(dim, N_KV_HEADS * hd),
        "layers.0.attention.wv": proj(dim, N_KV_HEADS * hd),
        "layers.0.attention.wo": proj(dim, dim),
        "layers.0.ffn_norm": gain(),
        "layers.0.feed_forward.w1": proj(dim, ffn_dim),
        "layers.0.feed_forward.w2": proj(ffn_dim, dim),
        "layers.0.feed_forward.w3": proj(dim, ffn_dim),
    }


# --- the block with ane-glib -----------------------------------------------------

def build_block(seq, dim, weights):
    """Returns the graph; its one input is "x" [1, seq, dim], its output "out"."""
    hd = dim // N_HEADS
    g = Ane.Graph.new()
    w = {name: g.param_with_value(tensor(name, value)) for name, value in weights.items()}

    x = g.input("x", Ane.DType.FLOAT32, [1, seq, dim])
    positions = g.const(tensor("positions", np.arange(seq, dtype=np.int32)))

    def split_heads(t, heads):       # [1, S, heads*hd] -> [1, heads, S, hd]
        return g.transpose(g.reshape(t, [1, seq, heads, hd]), [0, 2, 1, 3])

    # attention sub-block
    g.push_scope("attention")
    h = g.rms_norm(x, w["layers.0.attention_norm"], EPS)
    q = split_heads(g.matmul(h, w["layers.0.attention.wq"], False, False), N_HEADS)
    k = split_heads(g.matmul(h, w["layers.0.attention.wk"], False, False), N_KV_HEADS)
    v = split_heads(g.matmul(h, w["layers.0.attention.wv"], False, False), N_KV_HEADS)
    q = g.rope(q, positions, Ane.RopeMode.NEOX, THETA, 0)
    k = g.rope(k, positions, Ane.RopeMode.NEOX, THETA, 0)
    a = g.attention(q, k, v, None, True, 0.0, 0.0)     # causal; scale 1/sqrt(hd)
    a = g.reshape(g.transpose(a, [0, 2, 1, 3]), [1, seq, dim])
    x = g.add(x, g.matmul(a, w["layers.0.attention.wo"], False, False))
    g.pop_scope()

    # SwiGLU feed-forward sub-block
    g.push_scope("ffn")
    h = g.rms_norm(x, w["layers.0.ffn_norm"], EPS)
    gate = g.silu(g.matmul(h, w["layers.0.feed_forward.w1"], False, False))
    up = g.matmul(h, w["layers.0.feed_forward.w3"], False, False)
    x = g.add(x, g.matmul(g.mul(gate, up), w["layers.0.feed_forward.w2"], False, False))
    g.pop_scope()

    g.add_output("out", x)
    return g


# --- the same block in numpy (float64) -----------------------------------------------

def numpy_block(x, weights):
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    x = x.astype(np.float64)
    _, seq, dim = x.shape
    hd = dim // N_HEADS

    def rms_norm(t, gain):
        return t / np.sqrt(np.mean(t * t, axis=-1, keepdims=True) + EPS) * gain

    def rope(t):                     # NeoX: rotate the two halves of each head
        half = hd // 2
        ang = np.arange(seq)[:, None] * THETA ** (-2.0 * np.arange(half) / hd)
        a, b = t[..., :half], t[..., half:]
        return np.concatenate([a * np.cos(ang) - b * np.sin(ang),
                               a * np.sin(ang) + b * np.cos(ang)], axis=-1)

    def heads(t, n):
        return t.reshape(1, seq, n, hd).transpose(0, 2, 1, 3)

    h = rms_norm(x, w["layers.0.attention_norm"])
    q = rope(heads(h @ w["layers.0.attention.wq"], N_HEADS))
    k = rope(heads(h @ w["layers.0.attention.wk"], N_KV_HEADS))
    v = heads(h @ w["layers.0.attention.wv"], N_KV_HEADS)
    k = np.repeat(k, N_HEADS // N_KV_HEADS, axis=1)   # head h reads kv head h // 2
    v = np.repeat(v, N_HEADS // N_KV_HEADS, axis=1)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
    scores = np.where(np.tril(np.ones((seq, seq), bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    a = (p @ v).transpose(0, 2, 1, 3).reshape(1, seq, dim)
    x = x + a @ w["layers.0.attention.wo"]

    h = rms_norm(x, w["layers.0.ffn_norm"])
    gate = h @ w["layers.0.feed_forward.w1"]
    up = h @ w["layers.0.feed_forward.w3"]
    return x + (gate / (1 + np.exp(-gate)) * up) @ w["layers.0.feed_forward.w2"]


def main():
    parser = argparse.ArgumentParser(description="Run one LLaMA-style transformer block")
    parser.add_argument("--seq", type=int, default=8, help="number of tokens (default 8)")
    parser.add_argument("--dim", type=int, default=64, help="model width (default 64)")
    args = parser.parse_args()
    if args.seq < 1 or args.dim < 8 or args.dim % (2 * N_HEADS):
        parser.error(f"--seq must be positive and --dim a multiple of {2 * N_HEADS}")

    weights = make_weights(args.dim, 3 * args.dim)
    x = np.random.default_rng(1).uniform(-1, 1, (1, args.seq, args.dim)).astype(np.float32)

    try:
        graph = build_block(args.seq, args.dim, weights)
        exe = Ane.Executable.new(graph, Ane.Backend.REFERENCE)
        exe.compile(None)
        out = exe.run([tensor("x", x)], None)[0]
    except GLib.Error as err:
        print(f"ane-glib failed: {err.message}", file=sys.stderr)
        return 1

    y = array(out)
    print(f"graph: {graph.get_n_nodes()} nodes; output '{out.get_name()}': {list(out.get_shape())}")
    print("out[0, 0, :4] =", " ".join(f"{v:.6f}" for v in y[0, 0, :4]))
    print(f"checksum: sum {y.sum(dtype=np.float64):.6f}, sum |x| {np.abs(y).sum(dtype=np.float64):.6f}")

    # float32 against float64: at most 1.2e-7 apart, 1e-7 of the largest
    # output; the bound is 1e-6 of it (written so that a NaN fails too).
    want = numpy_block(x, weights)
    err, scale = np.max(np.abs(y - want)), np.max(np.abs(want))
    if not err <= 1e-6 * scale:
        print(f"MISMATCH against numpy: max abs difference {err:.3g}, allowed {1e-6 * scale:.3g}",
              file=sys.stderr)
        return 1
    print(f"matches numpy (max abs difference {err:.2e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
