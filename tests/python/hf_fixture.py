# hf_fixture.py: a Hugging Face tokenizer.json equivalent to the bundled tok512.bin
#
# write_tok512_tokenizer_json(out_path, config_dir=None) converts the llama2.c
# tokenizer data/models/tok512.bin the way transformers converts a
# SentencePiece BPE model (Llama 2's tokenizer.json shape), for the
# tokenizer tests and for tiny Hugging Face-layout checkpoints of
# stories260K. The C twin is ane_test_write_tok512_tokenizer_json in
# tests/ane-test-hf-tokenizer.c; both give the same file content (vocab,
# merges, components).
#
# SPDX-License-Identifier: MIT

import json
import os
import struct

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "models")
SPACE_MARKER = "\u2581"  # SentencePiece's space


def read_llama2c_tokenizer(path, vocab_size=512):
    """The pieces (bytes) and scores of a llama2.c tokenizer file."""
    with open(path, "rb") as f:
        data = f.read()
    offset = 4  # max_token_length
    pieces, scores = [], []
    for _ in range(vocab_size):
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        pieces.append(data[offset:offset + length])
        scores.append(score)
        offset += length
    return pieces, scores


def generate_merges(vocab, vocab_scores):
    """transformers src/transformers/convert_slow_tokenizer.py generate_merges
    (huggingface/transformers@00111b31, lines 95-114): for each piece, every
    split into two pieces of the vocabulary (by characters), sorted by the ids
    of the halves; all of them sorted by (score, len(left), len(right)), highest
    first (Python's sort is stable with reverse=True too)."""
    merges = []
    for merge, piece_score in vocab_scores.items():
        local = []
        for index in range(1, len(merge)):
            piece_l, piece_r = merge[:index], merge[index:]
            if piece_l in vocab and piece_r in vocab:
                local.append((piece_l, piece_r, piece_score))
        local = sorted(local, key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges = sorted(merges, key=lambda val: (val[2], len(val[0]), len(val[1])), reverse=True)
    return [[left, right] for left, right, _ in merges]


def tok512_tokenizer_json(tok512_path=None):
    """The tokenizer.json (a dict) equivalent to tok512.bin."""
    pieces, scores = read_llama2c_tokenizer(tok512_path or os.path.join(MODELS, "tok512.bin"))
    # llama2.c's export spelled "▁" as a space and the control pieces
    # "\n<s>\n", "\n</s>\n"; the tokenizer.json has SentencePiece's pieces
    names = ["<unk>", "<s>", "</s>"] + [p.decode("utf-8").replace(" ", SPACE_MARKER) for p in pieces[3:]]
    vocab = {}
    for i, name in enumerate(names):
        vocab.setdefault(name, i)
    vocab_scores = {name: scores[i] for i, name in enumerate(names) if i >= 3 and vocab[name] == i}
    merges = generate_merges(vocab, vocab_scores)

    def added(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE_MARKER},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE_MARKER},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPACE_MARKER}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab, "merges": merges,
        },
    }


TOKENIZER_CONFIG = {
    "add_bos_token": True,
    "add_eos_token": False,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "legacy": True,
    "tokenizer_class": "LlamaTokenizer",
}


def write_tok512_tokenizer_json(out_path, config_dir=None):
    """Writes the tokenizer.json to out_path and, with config_dir, a
    tokenizer_config.json naming <s> and </s> there."""
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(tok512_tokenizer_json(), f, ensure_ascii=False, indent=1)
    if config_dir is not None:
        with open(os.path.join(config_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(TOKENIZER_CONFIG, f, indent=2)
