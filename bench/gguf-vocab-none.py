#!/usr/bin/env python3
"""bench/gguf-vocab-none.py IN OUT: a copy of a GGUF that llama.cpp loads
without a tokenizer.

bench-llm's synthetic LLaMA GGUFs (ane-glib/gguf/ane-gguf-synthetic.c) carry
no tokenizer, and llama.cpp requires the key tokenizer.ggml.model (see
src/llama-vocab.cpp, llama_vocab::impl::load: ml.get_key
(LLM_KV_TOKENIZER_MODEL) is mandatory; the model "none" takes its vocabulary
size from ARCH.vocab_size and adds that many dummy tokens, which is all
llama-bench needs: it feeds random ids below n_vocab). This copy adds
tokenizer.ggml.model = "none" and llama.vocab_size = the row count of
token_embd.weight, and leaves every tensor byte as it was.

GGUF layout (ggml/docs/gguf.md; ggml/src/gguf.cpp): magic, version u32,
n_tensors u64, n_kv u64, the key/values, the tensor infos (name, n_dims u32,
dims u64 each, type u32, offset u64 relative to the data section), padding
to general.alignment (default 32), the data section.  Only the key/value
count and the padding change here; the tensor offsets are relative and stay.
Standard library only (no numpy, no gguf-py).
"""
import os
import struct
import sys

SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9


def fail(msg):
    sys.exit("gguf-vocab-none.py: " + msg)


class Reader:
    def __init__(self, f):
        self.f = f

    def take(self, n):
        b = self.f.read(n)
        if len(b) != n:
            fail("truncated file")
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64()).decode("utf-8")

    def skip_value(self, vtype):
        if vtype in SCALAR:
            self.take(SCALAR[vtype])
        elif vtype == STRING:
            self.take(self.u64())
        elif vtype == ARRAY:
            etype, count = self.u32(), self.u64()
            for _ in range(count):
                self.skip_value(etype)
        else:
            fail("unknown value type %d" % vtype)


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def main():
    if len(sys.argv) != 3:
        fail("usage: gguf-vocab-none.py IN.gguf OUT.gguf")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        r = Reader(f)
        if r.take(4) != b"GGUF":
            fail("%s is not a GGUF file" % src)
        version = r.u32()
        n_tensors, n_kv = r.u64(), r.u64()
        kv_start = f.tell()
        alignment = 32
        arch = "llama"
        for _ in range(n_kv):
            key = r.string()
            vtype = r.u32()
            if key == "general.alignment" and vtype == 4:
                alignment = r.u32()
            elif key == "general.architecture" and vtype == STRING:
                arch = r.string()
            elif key == "tokenizer.ggml.model":
                fail("%s already names a tokenizer" % src)
            else:
                r.skip_value(vtype)
        kv_end = f.tell()
        vocab = None
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.u64() for _ in range(r.u32())]
            r.take(4 + 8)
            if name == "token_embd.weight":
                vocab = dims[1] if len(dims) > 1 else dims[0]
        infos_end = f.tell()
        if vocab is None:
            fail("%s has no token_embd.weight" % src)
        data_start = (infos_end + alignment - 1) // alignment * alignment
        f.seek(kv_start)
        kvs = f.read(kv_end - kv_start)
        infos = f.read(infos_end - kv_end)

        extra = (gguf_string("tokenizer.ggml.model") + struct.pack("<I", STRING) + gguf_string("none") +
                 gguf_string(arch + ".vocab_size") + struct.pack("<I", 4) + struct.pack("<I", vocab))
        head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv + 2) + kvs + extra + infos
        head += b"\0" * ((-len(head)) % alignment)
        tmp = dst + ".part"
        with open(tmp, "wb") as out:
            out.write(head)
            f.seek(data_start)
            while True:
                chunk = f.read(1 << 24)
                if not chunk:
                    break
                out.write(chunk)
        os.replace(tmp, dst)


if __name__ == "__main__":
    main()
