#!/usr/bin/python3
# test_progress.py: Ane.Progress from Python: the callback on lowering,
# saving, loading, compiling and generating; cancelling from the callback
#
# SPDX-License-Identifier: MIT

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402
from gi.repository import Gio  # noqa: E402

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "models")


def big_graph():
    """x [1, 512] through two 512x512 float32 weights (several save chunks)."""
    g = Ane.Graph()
    y = g.input("x", Ane.DType.FLOAT32, [1, 512])
    rng = np.random.default_rng(0)
    for i in range(2):
        w = rng.standard_normal((512, 512)).astype(np.float32)
        wt = Ane.Tensor.new_from_bytes("w%d" % i, Ane.DType.FLOAT32, [512, 512], GLib.Bytes.new(w.tobytes()))
        y = g.matmul(y, g.param_with_value(wt), False, False)
    g.add_output("y", y)
    return g


class Recorder:
    """Keeps what each report said; cancels at the first report at or past cancel_at."""

    def __init__(self, cancel_at=None):
        self.reports = []
        self.cancel_at = cancel_at
        self.progress = Ane.Progress.new(self.on_progress)

    def on_progress(self, progress):
        self.reports.append((progress.get_stage(), progress.get_fraction(),
                             progress.get_bytes_done(), progress.get_bytes_total()))
        if self.cancel_at is not None and progress.get_fraction() >= self.cancel_at:
            progress.cancel()

    def fractions(self):
        return [f for _, f, _, _ in self.reports]

    def stages(self):
        return [s for s, _, _, _ in self.reports]


class ProgressTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def assertCompleted(self, rec):
        f = rec.fractions()
        self.assertGreaterEqual(len(f), 2)
        self.assertEqual(f, sorted(f), "fractions went back")
        self.assertTrue(all(0.0 <= x < 1.0 for x in f[:-1]), f)
        self.assertEqual(f[-1], 1.0)

    def test_object(self):
        p = Ane.Progress.new(None)
        self.assertEqual(p.get_fraction(), 0.0)
        self.assertIsNone(p.get_stage())
        self.assertEqual(p.props.fraction, 0.0)
        self.assertFalse(p.get_cancellable().is_cancelled())
        p.cancel()
        self.assertTrue(p.props.cancellable.is_cancelled())

    def test_lower_save_load(self):
        g = big_graph()
        rec = Recorder()
        pkg = Ane.Package.new_from_graph_full(g, Ane.Target.IOS18, Ane.Precision.FLOAT16, rec.progress)
        self.assertCompleted(rec)
        self.assertEqual(set(rec.stages()), {"lowering"})

        path = os.path.join(self.dir.name, "m.mlpackage")
        rec = Recorder()
        self.assertTrue(pkg.save_full(path, False, rec.progress))
        self.assertCompleted(rec)
        self.assertEqual(rec.stages()[0], "writing weights")
        self.assertIn("writing model", rec.stages())
        weights = os.path.join(path, "Data", "com.apple.CoreML", "weights", "weight.bin")
        _, _, done, total = rec.reports[-1]
        self.assertEqual(total, os.path.getsize(weights))
        self.assertEqual(done, total)

        rec = Recorder()
        loaded = Ane.Package.load_full(path, rec.progress)
        self.assertCompleted(rec)
        self.assertEqual(set(rec.stages()), {"loading"})
        self.assertEqual(loaded.get_weight_bytes(), pkg.get_weight_bytes())

    def test_save_cancelled_halfway(self):
        pkg = Ane.Package.new_from_graph(big_graph(), Ane.Target.IOS18, Ane.Precision.FLOAT16)
        path = os.path.join(self.dir.name, "m.mlpackage")
        rec = Recorder(cancel_at=0.5)
        with self.assertRaises(GLib.Error) as cm:
            pkg.save_full(path, False, rec.progress)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertFalse(os.path.exists(path))
        self.assertEqual(os.listdir(self.dir.name), [])
        self.assertLess(rec.progress.get_fraction(), 1.0)

    def test_compile(self):
        exe = Ane.Executable.new(big_graph(), Ane.Backend.CPU)
        rec = Recorder()
        self.assertTrue(exe.compile_full(rec.progress))
        self.assertCompleted(rec)
        self.assertEqual(rec.stages()[0], "compiling")

    def test_generate(self):
        model = Ane.LlamaModel.load_llama2c(os.path.join(MODELS, "stories260K.bin"))
        tok = Ane.Tokenizer.load_llama2c(os.path.join(MODELS, "tok512.bin"), 512)
        tokens = []
        rec = Recorder()
        text = model.generate_full(tok, "Once upon a time", 16, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                   0.0, 0.9, 0, rec.progress, lambda t, piece: tokens.append(t) or True)
        self.assertTrue(text)
        self.assertCompleted(rec)
        self.assertEqual(rec.stages()[0], "compiling")
        self.assertGreaterEqual(rec.stages().count("generating"), len(tokens))

        rec = Recorder(cancel_at=0.5)
        with self.assertRaises(GLib.Error) as cm:
            model.generate_full(tok, "Once upon a time", 40, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                0.0, 0.9, 0, rec.progress, None)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))


if __name__ == "__main__":
    unittest.main()
