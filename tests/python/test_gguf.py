#!/usr/bin/python3
# test_gguf.py: reading GGUF files from Python
#
# The file is written here byte by byte with numpy (GGUF v3: header, typed
# key-value pairs, tensor infos, the data section at the aligned end of the
# header), independently of the C writer, and read back through
# Ane.GgufFile.
#
# SPDX-License-Identifier: MIT

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from anetest import Ane, GLib, np  # noqa: E402

U32, F32, BOOL, STRING, ARRAY, U64, I64 = 4, 6, 7, 8, 9, 10, 11
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8


def u32(v):
    return np.array([v], "<u4").tobytes()


def u64(v):
    return np.array([v], "<u8").tobytes()


def string(s):
    b = s.encode("utf-8")
    return u64(len(b)) + b


def kv(key, type_id, payload):
    return string(key) + u32(type_id) + payload


def build_gguf(tensors, metadata, alignment=32):
    """tensors: (name, ggml type, ne, bytes); metadata: encoded kv pairs."""
    infos, data = b"", b""
    for name, ggml_type, ne, blob in tensors:
        data += b"\0" * (-len(data) % alignment)
        infos += string(name) + u32(len(ne)) + np.array(ne, "<u8").tobytes()
        infos += u32(ggml_type) + u64(len(data))
        data += blob
    head = b"GGUF" + u32(3) + u64(len(tensors)) + u64(len(metadata))
    head += b"".join(metadata) + infos
    head += b"\0" * (-len(head) % alignment)
    return head + data


class GgufTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, blob):
        path = os.path.join(self.tmp.name, "model.gguf")
        with open(path, "wb") as f:
            f.write(blob)
        return path

    def test_metadata_and_tensors(self):
        emb = np.arange(12, dtype="<f4").reshape(3, 4) / 8  # ne = [4, 3]
        norm = np.array([1.0, -2.0, 0.5, 0.25], "<f2")
        q8 = np.zeros(34, np.uint8)
        q8[:2] = np.frombuffer(np.float16(0.5).tobytes(), np.uint8)
        q8[2:] = np.arange(32, dtype=np.int8).view(np.uint8)
        tokens = ["<s>", "</s>", "h\u00e9"]
        metadata = [
            kv("general.alignment", U32, u32(64)),
            kv("general.architecture", STRING, string("llama")),
            kv("llama.block_count", U32, u32(2)),
            kv("llama.rope.freq_base", F32, np.array([10000.5], "<f4").tobytes()),
            kv("llama.big", U64, u64(2**40)),
            kv("llama.neg", I64, np.array([-5], "<i8").tobytes()),
            kv("tokenizer.ggml.add_bos_token", BOOL, b"\1"),
            kv("tokenizer.ggml.tokens", ARRAY,
               u32(STRING) + u64(len(tokens)) + b"".join(string(t) for t in tokens)),
            kv("tokenizer.ggml.scores", ARRAY,
               u32(F32) + u64(3) + np.array([0.0, -1.5, 2.25], "<f4").tobytes()),
        ]
        path = self.write(build_gguf([
            ("token_embd.weight", GGML_F32, [4, 3], emb.tobytes()),
            ("output_norm.weight", GGML_F16, [4], norm.tobytes()),
            ("blk.0.attn_q.weight", GGML_Q8_0, [32, 1], q8.tobytes()),
        ], metadata, alignment=64))

        f = Ane.GgufFile.new(path)
        self.assertEqual(f.get_version(), 3)
        self.assertEqual(f.get_alignment(), 64)
        self.assertEqual(f.get_data_offset() % 64, 0)
        self.assertEqual(f.props.path, path)
        self.assertEqual(f.get_architecture(), "llama")
        self.assertEqual(f.list_keys(), [k for k in (
            "general.alignment", "general.architecture", "llama.block_count",
            "llama.rope.freq_base", "llama.big", "llama.neg",
            "tokenizer.ggml.add_bos_token", "tokenizer.ggml.tokens",
            "tokenizer.ggml.scores")])
        # PyGObject 3.42 returns (True, value) for a gboolean function that throws.
        self.assertEqual(f.get_int("llama.block_count"), (True, 2))
        self.assertEqual(f.get_int("llama.big"), (True, 2**40))
        self.assertEqual(f.get_int("llama.neg"), (True, -5))
        self.assertEqual(f.get_float("llama.rope.freq_base"), (True, 10000.5))
        self.assertEqual(f.get_bool("tokenizer.ggml.add_bos_token"), (True, True))
        self.assertEqual(f.dup_strings("tokenizer.ggml.tokens"), tokens)
        self.assertEqual(list(f.dup_floats("tokenizer.ggml.scores")), [0.0, -1.5, 2.25])
        found, vtype, etype, n = f.get_value_type("tokenizer.ggml.scores")
        self.assertTrue(found)
        self.assertEqual(vtype, Ane.GgufValueType.ARRAY)
        self.assertEqual(etype, Ane.GgufValueType.FLOAT32)
        self.assertEqual(n, 3)
        self.assertEqual(f.dup_value("tokenizer.ggml.tokens").unpack(), tokens)
        self.assertEqual(f.dup_value("llama.block_count").unpack(), 2)
        with self.assertRaises(GLib.Error) as cm:
            f.get_string("llama.block_count")
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.DTYPE))
        with self.assertRaises(GLib.Error):
            f.get_int("missing")

        self.assertEqual(f.get_n_tensors(), 3)
        self.assertEqual(f.list_tensors(),
                         ["token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight"])
        t = f.dup_tensor("token_embd.weight")
        self.assertEqual(t.get_dtype(), Ane.DType.FLOAT32)
        self.assertEqual(list(t.get_shape()), [3, 4])  # ggml ne [4, 3], reversed
        got = np.frombuffer(t.get_data().get_data(), "<f4").reshape(3, 4)
        np.testing.assert_array_equal(got, emb)
        t = f.dup_tensor("output_norm.weight")
        self.assertEqual(t.get_dtype(), Ane.DType.FLOAT16)
        np.testing.assert_array_equal(np.frombuffer(t.get_data().get_data(), "<f2"), norm)
        t = f.dup_tensor("blk.0.attn_q.weight")
        self.assertEqual(t.get_dtype(), Ane.DType.Q8_0)
        self.assertEqual(list(t.get_shape()), [1, 32])
        self.assertEqual(t.get_data().get_data(), q8.tobytes())

    def test_hostile(self):
        # A string length far beyond the file.
        blob = b"GGUF" + u32(3) + u64(0) + u64(1) + u64(2**63) + b"key"
        with self.assertRaises(GLib.Error) as cm:
            Ane.GgufFile.new(self.write(blob))
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.PARSE))
        self.assertIn("model.gguf", cm.exception.message)
        # A tensor whose data runs past the end of the file.
        blob = build_gguf([("w", GGML_F32, [8], b"\0" * 32)], [])[:-1]
        with self.assertRaises(GLib.Error) as cm:
            Ane.GgufFile.new_from_bytes(GLib.Bytes.new(blob))
        self.assertIn("'w'", cm.exception.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
