/* test-trainer.vala: fine-tuning stories260K from Vala
 *
 * Usage: test-trainer-vala MODEL.bin TOKENIZER.bin
 *
 * SPDX-License-Identifier: MIT
 */

int main (string[] args) {
    if (args.length != 3) {
        stderr.printf ("usage: %s MODEL.bin TOKENIZER.bin\n", args[0]);
        return 2;
    }
    try {
        var model = Ane.LlamaModel.load_llama2c (args[1]);
        var tok = Ane.Tokenizer.load_llama2c (args[2], (uint) model.get_vocab_size ());
        int32[] ids = tok.encode ("Once upon a time, there was a little fox named Pip. Pip lived in a small den " +
                                  "under an old oak tree. Every morning, Pip ran to the river.", true, false);
        assert (ids.length >= 17);
        int32[] batch = ids[0:17];

        var trainer = new Ane.Trainer (model, 16, Ane.Backend.CPU, Ane.Precision.FLOAT32);
        trainer.set_optimizer (Ane.Optimizer.ADAMW);
        trainer.set_learning_rate (2e-3);
        double before, after, loss;
        trainer.evaluate (batch, out before);
        for (int i = 0; i < 20; i++)
            trainer.step (batch, out loss);
        trainer.evaluate (batch, out after);
        assert (trainer.get_step () == 20);
        assert (after < 0.7 * before);
        stdout.printf ("loss %.4f -> %.4f\n", before, after);
    } catch (Error e) {
        stderr.printf ("error: %s\n", e.message);
        return 1;
    }
    return 0;
}
