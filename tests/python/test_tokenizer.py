#!/usr/bin/python3
# test_tokenizer.py: Hugging Face tokenizer.json files from Python
#
# The bundled Qwen3 tokenizer (tests/data/tokenizers/qwen3, gzip-compressed)
# through Ane.Tokenizer.load_hf, checked against every reference case of
# cases.json (ids with and without special tokens, decoded text with and
# without skip_special_tokens), and a small byte-level tokenizer written
# here to check errors reach Python as GLib.Error.
#
# SPDX-License-Identifier: MIT

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib  # noqa: E402
from hf_fixture import MODELS, write_tok512_tokenizer_json  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tokenizers", "qwen3")


class Qwen3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = Ane.Tokenizer.load_hf(os.path.join(DATA, "tokenizer.json.gz"))
        with open(os.path.join(DATA, "cases.json"), encoding="utf-8") as f:
            cls.cases = json.load(f)["cases"]

    def test_vocabulary(self):
        self.assertEqual(self.tok.get_n_tokens(), 151669)
        self.assertEqual(self.tok.get_bos_id(), -1)
        self.assertEqual(self.tok.get_eos_id(), 151645)
        self.assertEqual(self.tok.get_piece(151645), "<|im_end|>")

    def test_cases(self):
        self.assertEqual(len(self.cases), 20)
        for case in self.cases:
            with self.subTest(text=case["text"]):
                self.assertEqual(list(self.tok.encode_full(case["text"], False)), case["ids"])
                self.assertEqual(list(self.tok.encode_full(case["text"], True)),
                                 case["ids_with_special_tokens"])
                self.assertEqual(self.tok.decode_full(case["ids"], False), case["decoded"])
                self.assertEqual(self.tok.decode_full(case["ids_with_special_tokens"], True),
                                 case["decoded_skip_special"])

    def test_stream_bytes(self):
        # token by token as bytes: a token may be a part of a character
        case = next(c for c in self.cases if c["text"].startswith("Emoji"))
        ids = case["ids"]
        joined = b"".join(self.tok.decode_token_bytes(ids[i - 1] if i else -1, ids[i]).get_data()
                          for i in range(len(ids)))
        self.assertEqual(joined.decode("utf-8"), case["decoded"])


class Tok512Test(unittest.TestCase):
    """hf_fixture's tokenizer.json converted from tok512.bin encodes as the llama2.c tokenizer."""

    TEXTS = [
        "Once upon a time, there was a little girl named Lily.",
        "Tom said: \"Let's play!\" 123 + 456 = 579",
        "naïve café — ünïcödé ✓ 日本語 🙂",
        "  two leading spaces\tand a tab\nand a newline",
        "multiple     spaces      between words   ",
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        "x",
        "",
    ]

    def test_same_ids(self):
        ref = Ane.Tokenizer.load_llama2c(os.path.join(MODELS, "tok512.bin"), 512)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            write_tok512_tokenizer_json(path, d)
            tok = Ane.Tokenizer.load_hf(path)
        self.assertEqual(tok.get_n_tokens(), 512)
        self.assertEqual((tok.get_bos_id(), tok.get_eos_id()), (1, 2))
        for text in self.TEXTS:
            with self.subTest(text=text):
                want = list(ref.encode(text, True, False))
                self.assertEqual(list(tok.encode_full(text, True)), want)
                self.assertEqual(list(tok.encode(text, True, False)), want)
                self.assertEqual(tok.decode_full(want, True), text)


class ErrorsTest(unittest.TestCase):
    def load(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return Ane.Tokenizer.load_hf(path)

    def test_unsupported_model(self):
        with self.assertRaises(GLib.Error) as cm:
            self.load('{"model": {"type": "WordPiece", "vocab": {}}}')
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.UNSUPPORTED))
        self.assertIn("WordPiece", cm.exception.message)

    def test_bad_merge(self):
        with self.assertRaises(GLib.Error) as cm:
            self.load('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}')
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.PARSE))
        self.assertIn("model.merges[0]", cm.exception.message)

    def test_small(self):
        tok = self.load(json.dumps({
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]},
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "decoder": None,
        }))
        self.assertEqual(list(tok.encode_full("ab a b", False)), [2, 0, 1])
        # no decoder: pieces joined with spaces, as tokenizers does
        self.assertEqual(tok.decode_full([2, 0, 1], False), "ab a b")


if __name__ == "__main__":
    unittest.main(verbosity=2)
