#!/usr/bin/python3
# test_buffer.py: Ane.Buffer from Python -- buffers made for an executable's
# ports, bound and run on without copies (Buffer.mapped gives numpy the
# memory itself), the copying write_tensor / dup_tensor way, states, errors
# naming the port, and explicit load / unload.
#
# SPDX-License-Identifier: MIT

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np, to_tensor, to_numpy  # noqa: E402

F32 = Ane.DType.FLOAT32
F16 = Ane.DType.FLOAT16


def mlp():
    rng = np.random.default_rng(7)
    g = Ane.Graph.new()
    x = g.input("x", F32, [2, 16])
    w = g.param_with_value(to_tensor("w", rng.standard_normal((16, 8)).astype(np.float32)))
    g.add_output("y", g.relu(g.matmul(x, w, False, False)))
    return g


def accumulator():
    """acc += x (a float16 state); y = acc."""
    g = Ane.Graph.new()
    x = g.input("x", F32, [1, 8, 1, 32])
    acc = g.state("acc", F16, [1, 8, 1, 32])
    new = g.cast(g.add(g.cast(g.read_state(acc), F32), x), F16)
    g.add_output("y", g.cast(g.write_state(acc, new), F32))
    return g


class BufferTest(unittest.TestCase):
    def compiled(self, graph):
        exe = Ane.Executable.new(graph, Ane.Backend.CPU)
        exe.compile(None)
        return exe

    def bound(self, exe, name):
        buffer = exe.new_buffer(name)
        exe.bind(name, buffer)
        return buffer

    def test_mapped_run_bound_matches_run(self):
        exe = self.compiled(mlp())
        x = np.random.default_rng(3).standard_normal((2, 16)).astype(np.float32)
        want = exe.run({"x": x})["y"]
        xb = self.bound(exe, "x")
        yb = self.bound(exe, "y")
        self.assertIsInstance(xb, Ane.Buffer)
        self.assertEqual(list(xb.get_shape()), [2, 16])
        self.assertEqual(list(xb.get_strides()), [64, 4])
        self.assertEqual(xb.get_dtype(), F32)
        self.assertEqual(xb.get_port(), Ane.BufferPort.INPUT)
        self.assertEqual(yb.get_port(), Ane.BufferPort.OUTPUT)
        self.assertFalse(xb.is_surface())
        self.assertEqual(xb.props.name, "x")
        self.assertEqual(xb.props.port_dtype, F32)
        self.assertEqual(xb.props.size, 2 * 16 * 4)
        with xb.mapped() as a:
            a[...] = x
        exe.run_bound(None)
        with yb.mapped(read_only=True) as b:
            got = b.copy()
            self.assertFalse(b.flags.writeable)
        np.testing.assert_array_equal(got, want)
        # the copying way gives the same
        np.testing.assert_array_equal(to_numpy(yb.dup_tensor()), want)
        # written in place: a second run with other values changes the same memory
        with xb.mapped() as a:
            a[...] = -x
        exe.run_bound(None)
        with yb.mapped(read_only=True) as b:
            np.testing.assert_array_equal(b, exe.run({"x": -x})["y"])

    def test_states(self):
        g = accumulator()
        exe = self.compiled(g)
        plain = self.compiled(g)
        xb = self.bound(exe, "x")
        yb = self.bound(exe, "y")
        acc = self.bound(exe, "acc")
        self.assertEqual(acc.get_port(), Ane.BufferPort.STATE)
        self.assertEqual(acc.get_port_dtype(), F16)
        rng = np.random.default_rng(5)
        for _ in range(3):
            x = rng.standard_normal((1, 8, 1, 32)).astype(np.float32)
            want = plain.run({"x": x})["y"]
            xb.write_tensor(to_tensor("x", x))
            exe.run_bound(None)
            np.testing.assert_array_equal(to_numpy(yb.dup_tensor()), want)
        np.testing.assert_array_equal(to_numpy(exe.dup_state("acc")), to_numpy(plain.dup_state("acc")))
        exe.reset_states()
        with acc.mapped(read_only=True) as a:
            self.assertFalse(a.any())

    def test_errors_name_the_port(self):
        exe = self.compiled(mlp())
        xb = self.bound(exe, "x")
        with self.assertRaises(GLib.Error) as ctx:
            exe.run_bound(None)
        self.assertIn("output 'y'", ctx.exception.message)
        with self.assertRaises(GLib.Error) as ctx:
            exe.bind("y", xb)
        self.assertIn("'y'", ctx.exception.message)
        other = self.compiled(mlp())
        with self.assertRaises(GLib.Error) as ctx:
            other.bind("x", xb)
        self.assertIn("another executable", ctx.exception.message)
        with self.assertRaises(GLib.Error) as ctx:
            exe.new_buffer("nope")
        self.assertTrue(ctx.exception.matches(Ane.error_quark(), Ane.Error.NOT_FOUND))

    def test_load_unload(self):
        exe = self.compiled(mlp())
        x = np.ones((2, 16), dtype=np.float32)
        want = exe.run({"x": x})["y"]
        self.assertTrue(exe.is_loaded())
        exe.unload()
        self.assertFalse(exe.is_loaded())
        np.testing.assert_array_equal(exe.run({"x": x})["y"], want)
        self.assertTrue(exe.is_loaded())
        exe.unload()
        exe.load(None)
        self.assertTrue(exe.is_loaded())


if __name__ == "__main__":
    unittest.main()
