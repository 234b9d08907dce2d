#!/usr/bin/env python3
# make_cases.py: small tokenizer.json files and their reference encodings, from Hugging Face tokenizers
#
# Not run by the tests (they read what it wrote): it needs the `tokenizers`
# Python package (written with tokenizers 0.23.3, `pip install --no-deps
# tokenizers`). Each tokenizer is trained here (a BPE of a few hundred
# tokens on the corpus below) with a combination of normalizers,
# pre-tokenizers, post-processors, decoders and added tokens that the Qwen3
# and tok512 tests do not exercise, and 300 random strings are encoded
# (with and without special tokens) and decoded (with and without
# skip_special_tokens) by tokenizers itself: NAME.json and NAME.cases.json.
#
#   python3 make_cases.py OUT_DIR [QWEN3_TOKENIZER_JSON]
#
# With the Qwen3 tokenizer.json, also 400 random strings through it:
# OUT_DIR/qwen3-random.cases.json (kept in tests/data/tokenizers/qwen3).
#
# SPDX-License-Identifier: MIT

import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

CORPUS = [
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.",
    "One day, she saw a big, red ball in the park. It was 3 times bigger than her!",
    "Café déjà vu — naïve façade, São Paulo, Zürich, Ångström. Über straße.",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "const x = {a: [1, 2, 3], b: \"str\"}; // comment 2026-12-07 0x1F 3.14159",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG; the quick brown fox jumps over the lazy dog.",
    "你好，世界！今天天气很好。日本語のテキスト。한국어 문장입니다.",
    "Tom said: \"Let's play!\" and they played until the sun went down, don't you think?",
] * 4

ALPHABET = (list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 \t\n.,;:'\"!?-_()[]{}<>/@#%&*+=")
            + ["é", "ü", "ñ", "Å", "ß", "e\u0301", "\u00a0", "\u3000", "你", "好", "日", "한", "🙂", "👍🏽",
               "ﬁ", "①", "²", "  ", "\n\n", "1234", "the ", "The ", "ing", "'s", "'LL"])


def bpe_tokenizer(**model_args):
    return Tokenizer(models.BPE(**model_args))


def train(tok, vocab_size, special_tokens=(), **trainer_args):
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special_tokens), show_progress=False,
                                  **trainer_args)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def metaspace_byte_fallback():
    # SentencePiece style: Metaspace (prepend "first", split), byte fallback
    # (the 256 <0xXX> pieces added as tokens of the model), a Metaspace decoder
    # with ByteFallback and Fuse
    tok = bpe_tokenizer(unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    train(tok, 600, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens)
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex("\\s{2,}"), " ")])
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="\u2581", prepend_scheme="first"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B </s>",
                                                       special_tokens=[("<s>", 1), ("</s>", 2)])
    return tok


def wordpiece_like_bpe():
    # lowercase + accents stripped, whitespace and punctuation and digits split
    # apart, a continuing-subword prefix and an end-of-word suffix, no decoder
    tok = bpe_tokenizer(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>")
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase(),
                                           normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                 pre_tokenizers.Digits(individual_digits=True)])
    train(tok, 400, special_tokens=["[UNK]", "[CLS]", "[SEP]"], continuing_subword_prefix="##",
          end_of_word_suffix="</w>")
    tok.post_processor = processors.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
    return tok


def byte_level_added_tokens():
    # GPT-2 style byte level with a prefix space, added tokens with lstrip,
    # rstrip, single_word and normalized, RobertaProcessing
    tok = bpe_tokenizer()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    train(tok, 500, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace("``", "\"")])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 1), ("<s>", 0))
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("[END]", rstrip=True, normalized=False), AddedToken("ball", single_word=True),
                    AddedToken("Über", normalized=True)])
    return tok


def split_behaviors():
    # Split with each behavior and invert, Prepend and Strip normalizers, a
    # Replace + Strip decoder chain
    tok = bpe_tokenizer(unk_token="?", fuse_unk=False, ignore_merges=True)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(" ", "merged_with_next"),
        pre_tokenizers.Split(Regex("[.,;:!?]"), "merged_with_previous"),
        pre_tokenizers.Split(Regex("\\d+"), "isolated"),
        pre_tokenizers.Split(Regex("[a-zA-Z]+|[^a-zA-Z]+"), "removed", invert=True),
        pre_tokenizers.Split("-", "contiguous"),
    ])
    train(tok, 300, special_tokens=["?"])
    tok.normalizer = normalizers.Sequence([normalizers.Strip(left=True, right=False), normalizers.Prepend("_")])
    tok.decoder = decoders.Sequence([decoders.Replace("_", " "), decoders.Strip(" ", 1, 0)])
    return tok


def write_cases(tok, path, rng, n_cases, extra):
    cases = []
    for _ in range(n_cases):
        n = rng.randint(0, 30)
        text = "".join(rng.choice(ALPHABET + extra if rng.random() < 0.1 else ALPHABET) for _ in range(n))
        plain = tok.encode(text, add_special_tokens=False).ids
        special = tok.encode(text, add_special_tokens=True).ids
        cases.append({"text": text, "ids": plain, "ids_with_special_tokens": special,
                      "decoded": tok.decode(special, skip_special_tokens=False),
                      "decoded_skip_special": tok.decode(special, skip_special_tokens=True)})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"tokenizers": __import__("tokenizers").__version__, "cases": cases}, f, ensure_ascii=False,
                  indent=0)


def main():
    out_dir = sys.argv[1]
    rng = random.Random(17)
    for name, make in [("metaspace-byte-fallback", metaspace_byte_fallback),
                       ("wordpiece-like-bpe", wordpiece_like_bpe),
                       ("byte-level-added-tokens", byte_level_added_tokens),
                       ("split-behaviors", split_behaviors)]:
        tok = make()
        tok.save(os.path.join(out_dir, name + ".json"))
        tok = Tokenizer.from_file(os.path.join(out_dir, name + ".json"))
        write_cases(tok, os.path.join(out_dir, name + ".cases.json"), rng, 300,
                    ["<mask>", "[END]", "ball", "Über", "<s>", "</s>"])
    if len(sys.argv) > 2:
        write_cases(Tokenizer.from_file(sys.argv[2]), os.path.join(out_dir, "qwen3-random.cases.json"), rng, 400,
                    ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "'re", "\r\n", "   "])


if __name__ == "__main__":
    main()
