/* generate.vala: a story from a llama2.c checkpoint, from Vala
 *
 *     generate MODEL.bin TOKENIZER.bin
 *
 * e.g. data/models/stories260K.bin and data/models/tok512.bin. Loads the
 * model (Ane.LlamaModel.load_llama2c) and its tokenizer, round-trips the
 * prompt through the tokenizer, then generates greedily on the CPU backend
 * with a callback that receives each token as it comes. Checks that the
 * pieces the callback saw make up the returned text, that the reference
 * backend (plain float32 code) picks the same tokens as the CPU backend at
 * float32, and that sampling with one seed repeats itself. A mismatch exits
 * non-zero.
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 generate.vala
 *
 * SPDX-License-Identifier: MIT
 */

const string PROMPT = "Once upon a time";
const uint N_TOKENS = 16;

int main (string[] args) {
    if (args.length != 3) {
        stderr.printf ("usage: %s MODEL.bin TOKENIZER.bin\n", args[0]);
        return 2;
    }
    try {
        var model = Ane.LlamaModel.load_llama2c (args[1]);
        var tokenizer = Ane.Tokenizer.load_llama2c (args[2], (uint) model.get_vocab_size ());
        print ("%s: %" + int64.FORMAT + " layers, dim %" + int64.FORMAT + ", vocabulary %u, context %" + int64.FORMAT + "\n",
               args[1], model.get_n_layers (), model.get_dim (), tokenizer.get_n_tokens (), model.get_seq_len ());

        /* The prompt's tokens (with the beginning-of-sequence token first)
         * decode back to the prompt. */
        var ids = tokenizer.encode (PROMPT, true, false);
        if (ids.length < 2 || ids[0] != tokenizer.get_bos_id () || tokenizer.decode (ids[1:ids.length]).strip () != PROMPT) {
            stderr.printf ("MISMATCH: '%s' does not survive encode + decode (%d tokens)\n", PROMPT, ids.length);
            return 1;
        }

        var seen = new StringBuilder ();
        uint n_seen = 0;
        var text = model.generate (tokenizer, PROMPT, N_TOKENS, Ane.Backend.CPU, Ane.Precision.FLOAT32,
                                   0.0, 0.9, 0, (token, piece) => {
            seen.append (piece);
            n_seen++;
            return true;   /* false would stop the generation here */
        });
        print ("%s%s\n(%u tokens)\n", PROMPT, text, n_seen);
        if (n_seen == 0 || n_seen > N_TOKENS || seen.str != text) {
            stderr.printf ("MISMATCH: the callback saw %u tokens spelling '%s'; generate returned '%s'\n",
                           n_seen, seen.str, text);
            return 1;
        }

        var reference = model.generate (tokenizer, PROMPT, N_TOKENS, Ane.Backend.REFERENCE, Ane.Precision.FLOAT32,
                                        0.0, 0.9, 0, null);
        if (reference != text) {
            stderr.printf ("MISMATCH: the reference backend continues with '%s'\n", reference);
            return 1;
        }

        string[] sampled = {};
        for (int i = 0; i < 2; i++)
            sampled += model.generate (tokenizer, PROMPT, N_TOKENS, Ane.Backend.CPU, Ane.Precision.FLOAT16,
                                       0.8, 0.9, 42, null);
        if (sampled[0] != sampled[1]) {
            stderr.printf ("MISMATCH: seed 42 gave '%s', then '%s'\n", sampled[0], sampled[1]);
            return 1;
        }
        print ("sampled (seed 42): %s%s\n", PROMPT, sampled[0]);
    } catch (GLib.Error e) {
        stderr.printf ("ane-glib failed: %s\n", e.message);
        return 1;
    }
    return 0;
}
