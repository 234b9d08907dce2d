#!/usr/bin/python3
# test_trainer.py: training from Python and from the command line
#
# Ane.Trainer fine-tunes the bundled stories260K on data/text/fine-tune.txt:
# the loss falls, the callback of the progress sees every step, a checkpoint
# resumes, and `ane-tool train --save` writes a llama2.c checkpoint that
# `ane-tool generate` runs.
#
# SPDX-License-Identifier: MIT

import math
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODEL = os.path.join(ROOT, "data", "models", "stories260K.bin")
TOKENIZER = os.path.join(ROOT, "data", "models", "tok512.bin")
TEXT = os.path.join(ROOT, "data", "text", "fine-tune.txt")
TOOL = os.environ.get("ANE_TOOL")
SEQ = 32


def tokens():
    model = Ane.LlamaModel.load_llama2c(MODEL)
    tok = Ane.Tokenizer.load_llama2c(TOKENIZER, model.get_vocab_size())
    with open(TEXT, encoding="utf-8") as f:
        return model, list(tok.encode(f.read(), True, False))


class TrainerTest(unittest.TestCase):
    def test_steps_lower_the_loss(self):
        model, data = tokens()
        trainer = Ane.Trainer.new(model, SEQ, Ane.Backend.CPU, Ane.Precision.FLOAT32)
        trainer.set_learning_rate(2e-3)
        trainer.set_clip_norm(1.0)
        batch = data[: 2 * (SEQ + 1)]
        before = trainer.evaluate(batch)
        losses = [trainer.step(batch) for _ in range(30)]
        after = trainer.evaluate(batch)
        self.assertEqual(trainer.get_step(), 30)
        self.assertAlmostEqual(losses[0], before, places=5)
        self.assertLess(after, 0.5 * before)
        self.assertTrue(all(math.isfinite(x) for x in losses))
        self.assertGreater(trainer.get_n_params(), 250000)

    def test_train_reports_progress_and_resumes(self):
        model, data = tokens()
        seen = []

        def on_progress(progress):
            seen.append((progress.get_stage(), trainer.get_step(), trainer.get_last_loss()))

        trainer = Ane.Trainer.new(model, SEQ, Ane.Backend.CPU, Ane.Precision.FLOAT32)
        trainer.set_optimizer(Ane.Optimizer.SGD)
        trainer.set_learning_rate(0.05)
        progress = Ane.Progress.new(on_progress)
        trainer.train(data, 4, 2, 3, progress)
        steps = [s for stage, s, _ in seen if stage == "training"]
        self.assertEqual(steps[:4], [1, 2, 3, 4])
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "ckpt.safetensors")
            trainer.save(ckpt)
            trainer.train(data, 2, 2, 3, None)
            want = trainer.get_last_loss()
            other = Ane.Trainer.new(model, SEQ, Ane.Backend.CPU, Ane.Precision.FLOAT32)
            other.load(ckpt)
            self.assertEqual(other.get_optimizer(), Ane.Optimizer.SGD)
            other.train(data, 2, 2, 3, None)
            self.assertEqual(other.get_last_loss(), want)

    def test_bad_tokens_raise(self):
        model, _ = tokens()
        trainer = Ane.Trainer.new(model, SEQ, Ane.Backend.CPU, Ane.Precision.FLOAT32)
        with self.assertRaises(Exception) as cm:
            trainer.step([1] * SEQ)
        self.assertIn("seq_len + 1", str(cm.exception))


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class TrainToolTest(unittest.TestCase):
    def test_train_then_generate(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "tuned.bin")
            r = subprocess.run([TOOL, "train", MODEL, "--tokenizer", TOKENIZER, "--data", TEXT, "--steps", "40",
                                "--batch", "2", "--seq", "48", "--lr", "2e-3", "--every", "10", "--save", out],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = [line for line in r.stdout.splitlines() if line.startswith("step ")]
            self.assertEqual(len(lines), 4, r.stdout)
            first = float(lines[0].split()[3])
            last = float(lines[-1].split()[3])
            self.assertLess(last, first)
            self.assertIn("tokens/s", r.stderr)
            g = subprocess.run([TOOL, "generate", out, "--tokenizer", TOKENIZER, "-i", "Once upon a time",
                                "-n", "40", "-p", "fp32"], capture_output=True, text=True, timeout=120)
            self.assertEqual(g.returncode, 0, g.stderr)
            self.assertIn("Once upon a time", g.stdout)

    def test_usage_errors(self):
        r = subprocess.run([TOOL, "train", MODEL, "--tokenizer", TOKENIZER], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--data", r.stderr)
        r = subprocess.run([TOOL, "train", MODEL, "--tokenizer", TOKENIZER, "--data", TEXT, "--backend", "coreml"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
