#!/usr/bin/python3
# train.py: fine-tune stories260K on a text file, from Python
#
#     python3 examples/train.py [MODEL.bin TOKENIZER.bin TEXT.txt]
#
# (default: the bundled data/models/stories260K.bin, tok512.bin and
# data/text/fine-tune.txt). Ane.Trainer builds the model's forward pass with
# every weight a dynamic param, differentiates it and compiles it once; each
# step runs it on a batch of windows drawn from the text and updates the
# weights with AdamW. An Ane.Progress callback prints the loss as training
# goes; the tuned weights are written as a llama2.c checkpoint, loaded back
# and asked for a story. Exits non-zero if the loss did not fall.
#
# SPDX-License-Identifier: MIT

import os
import sys
import tempfile

import gi

gi.require_version("Ane", "1.0")
from gi.repository import Ane  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
args = sys.argv[1:] or [os.path.join(ROOT, "data", "models", "stories260K.bin"),
                        os.path.join(ROOT, "data", "models", "tok512.bin"),
                        os.path.join(ROOT, "data", "text", "fine-tune.txt")]
model_path, tokenizer_path, text_path = args

model = Ane.LlamaModel.load_llama2c(model_path)
tokenizer = Ane.Tokenizer.load_llama2c(tokenizer_path, model.get_vocab_size())
with open(text_path, encoding="utf-8") as f:
    tokens = list(tokenizer.encode(f.read(), True, False))

trainer = Ane.Trainer.new(model, 48, Ane.Backend.CPU, Ane.Precision.FLOAT32)
trainer.set_learning_rate(2e-3)
trainer.set_clip_norm(1.0)
trainer.set_schedule(5, 60, 0.1)   # 5 warm-up steps, cosine decay to a tenth at step 60
print(f"{trainer.get_n_params()} parameters, {len(tokens)} tokens of text")

window = tokens[: trainer.get_seq_len() + 1]
before = trainer.evaluate(window)


shown = set()


def on_step(progress):
    # called after each step, and once more when training ends
    step = trainer.get_step()
    if step % 10 == 0 and step not in shown:
        shown.add(step)
        print(f"step {step:3d}  loss {trainer.get_last_loss():.4f}  lr {trainer.get_current_learning_rate():.2e}")


trainer.train(tokens, 60, 4, 42, Ane.Progress.new(on_step))
after = trainer.evaluate(window)
print(f"loss on the first window: {before:.4f} -> {after:.4f}")

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "tuned.bin")
    trainer.export_llama2c(path)
    tuned = Ane.LlamaModel.load_llama2c(path)
    story = tuned.generate(tokenizer, "Once upon a time", 40, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                           0.0, 0.9, 0, None)
    print("Once upon a time" + story)

if not after < before:
    print("the loss did not fall", file=sys.stderr)
    sys.exit(1)
