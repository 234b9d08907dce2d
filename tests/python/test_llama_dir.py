# test_llama_dir.py: a LLaMA model converted to a directory
# (Ane.LlamaModel.save_dir) and generation from it (Ane.LlamaDir) from Python
#
# SPDX-License-Identifier: MIT

import json
import os
import shutil
import tempfile
import unittest

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane, GLib

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "models")
PROMPT = "Once upon a time"


class LlamaDirTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Ane.LlamaModel.load_llama2c(os.path.join(MODELS, "stories260K.bin"))
        cls.tok = Ane.Tokenizer.load_llama2c(os.path.join(MODELS, "tok512.bin"),
                                             cls.model.get_vocab_size())
        cls.tmp = tempfile.mkdtemp(prefix="ane-llama-dir-")
        cls.out = os.path.join(cls.tmp, "stories")
        cls.model.save_dir(cls.tok, cls.out, 128, 0, Ane.Target.IOS18, False)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_manifest(self):
        with open(os.path.join(self.out, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["format_version"], Ane.LLAMA_DIR_FORMAT_VERSION)
        self.assertEqual(m["model"]["dim"], self.model.get_dim())
        self.assertEqual(m["context"], 128)
        self.assertEqual(m["prefill_step"], 64)
        self.assertEqual([f["name"] for f in m["functions"]], ["prefill", "decode"])
        self.assertEqual(m["embedding"], {"file": "embedding.bin", "dtype": "float16",
                                          "shape": [self.model.get_vocab_size(), self.model.get_dim()]})
        self.assertEqual(m["tokenizer"], {"file": "tokenizer.bin", "kind": "llama2c"})
        size = os.path.getsize(os.path.join(self.out, "embedding.bin"))
        self.assertEqual(size, 2 * self.model.get_vocab_size() * self.model.get_dim())

    def test_chunks_and_argmax(self):
        """save_dir_full: two chunks with an arg-max head give the one-package greedy text."""
        want = Ane.LlamaDir.load(self.out).generate(PROMPT, 40, Ane.Backend.CPU, 0.0, 0.9, 0, None)
        out = os.path.join(self.tmp, "chunks")
        self.model.save_dir_full(self.tok, out, 128, 0, Ane.Target.IOS18, 2, 0, True, False)
        d = Ane.LlamaDir.load(out)
        self.assertEqual(d.get_n_chunks(), 2)
        self.assertTrue(d.get_argmax())
        package, first, end = d.get_chunk(1)
        self.assertEqual((first, end), (3, 5))
        self.assertEqual([t.get_name() for t in package.list_outputs("decode")], ["argmax_idx", "argmax_val"])
        self.assertEqual(d.generate(PROMPT, 40, Ane.Backend.CPU, 0.0, 0.9, 0, None), want)
        with self.assertRaises(GLib.Error) as e:
            d.generate(PROMPT, 4, Ane.Backend.CPU, 0.7, 0.9, 0, None)
        self.assertTrue(e.exception.matches(Ane.error_quark(), Ane.Error.UNSUPPORTED))
        with self.assertRaises(GLib.Error) as e:
            self.model.save_dir_full(self.tok, os.path.join(self.tmp, "never"), 128, 0, Ane.Target.IOS18,
                                     2, 1000, False, False)
        self.assertTrue(e.exception.matches(Ane.error_quark(), Ane.Error.INVALID_ARGUMENT))

    def test_generate(self):
        d = Ane.LlamaDir.load(self.out)
        self.assertEqual(d.get_context(), 128)
        self.assertEqual(d.get_prefill_step(), 64)
        self.assertEqual(d.get_tokenizer().get_n_tokens(), 512)
        self.assertIn("decode", d.get_package().list_functions())
        pieces = []

        def on_token(token, piece):
            pieces.append(piece)
            return True

        text = d.generate(PROMPT, 40, Ane.Backend.CPU, 0.0, 0.9, 0, on_token)
        self.assertGreater(len(text), 20)
        self.assertEqual("".join(pieces), text)
        # (the text equals the in-memory path's in the same layout and
        # precision: tests/test-llama-dir.c and test_tool.py check that)
        again = d.generate(PROMPT, 40, Ane.Backend.CPU, 0.0, 0.9, 0, None)
        self.assertEqual(again, text)
        # a callback returning False stops after one token
        first = d.generate(PROMPT, 40, Ane.Backend.CPU, 0.0, 0.9, 0, lambda t, p: False)
        self.assertEqual(first, pieces[0])

    def test_errors(self):
        with self.assertRaises(GLib.Error) as cm:
            self.model.save_dir(self.tok, self.out, 128, 0, Ane.Target.IOS18, False)
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.IO))
        self.assertIn(self.out, cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Ane.LlamaDir.load(os.path.join(self.tmp, "nowhere"))
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.NOT_FOUND))
        bad = os.path.join(self.tmp, "bad")
        shutil.copytree(self.out, bad)
        with open(os.path.join(bad, "manifest.json")) as f:
            m = json.load(f)
        m["model"]["n_heads"] = "eight"
        with open(os.path.join(bad, "manifest.json"), "w") as f:
            json.dump(m, f)
        with self.assertRaises(GLib.Error) as cm:
            Ane.LlamaDir.load(bad)
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.PARSE))
        self.assertIn("'model.n_heads'", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
