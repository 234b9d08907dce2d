/* train.vala: fine-tune a llama2.c checkpoint on a few sentences, from Vala
 *
 *     train MODEL.bin TOKENIZER.bin
 *
 * e.g. data/models/stories260K.bin and data/models/tok512.bin. An
 * Ane.Trainer compiles the model's gradient program once (its weights are
 * dynamic params), takes 40 AdamW steps on one window of the text and
 * checks that the loss on it fell below half, then writes the tuned weights
 * as a llama2.c checkpoint, loads them back and generates.
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 train.vala
 *
 * SPDX-License-Identifier: MIT
 */

const string TEXT = "Once upon a time, there was a little fox named Pip. Pip lived in a small den under " +
                    "an old oak tree. Every morning, Pip ran to the river to drink cold water.";

int main (string[] args) {
    if (args.length != 3) {
        stderr.printf ("usage: %s MODEL.bin TOKENIZER.bin\n", args[0]);
        return 2;
    }
    string? dir = null;
    try {
        var model = Ane.LlamaModel.load_llama2c (args[1]);
        var tokenizer = Ane.Tokenizer.load_llama2c (args[2], (uint) model.get_vocab_size ());
        int32[] ids = tokenizer.encode (TEXT, true, false);
        var trainer = new Ane.Trainer (model, 24, Ane.Backend.CPU, Ane.Precision.FLOAT32);
        if (ids.length < 25) {
            stderr.printf ("the text is %d tokens, fewer than a window of 25\n", ids.length);
            return 1;
        }
        int32[] window = ids[0:25];
        double before, after, loss = 0;

        trainer.set_learning_rate (2e-3);
        trainer.set_clip_norm (1.0);
        trainer.evaluate (window, out before);
        for (int i = 0; i < 40; i++)
            trainer.step (window, out loss);
        trainer.evaluate (window, out after);
        print ("%" + int64.FORMAT + " parameters; loss %.4f -> %.4f after %" + uint64.FORMAT + " steps\n",
               trainer.get_n_params (), before, after, trainer.get_step ());
        if (!(after < 0.5 * before)) {
            stderr.printf ("MISMATCH: the loss did not halve\n");
            return 1;
        }

        dir = DirUtils.make_tmp ("ane-train-vala-XXXXXX");
        var path = Path.build_filename (dir, "tuned.bin");
        trainer.export_llama2c (path);
        var tuned = Ane.LlamaModel.load_llama2c (path);
        var story = tuned.generate (tokenizer, "Once upon a time", 24, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                    0.0, 0.9, 0, null);
        print ("Once upon a time%s\n", story);
        FileUtils.unlink (path);
        DirUtils.remove (dir);
    } catch (Error e) {
        stderr.printf ("error: %s\n", e.message);
        if (dir != null)
            DirUtils.remove (dir);
        return 1;
    }
    return 0;
}
