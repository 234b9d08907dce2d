/* test-llama-bytes.vala: generation and token pieces as bytes, from Vala
 *
 * Usage: test-llama-bytes-vala MODEL.bin TOKENIZER.bin
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

        /* '€' is the byte tokens <0xE2> <0x82> <0xAC> (ids 3 + byte). */
        var euro = new ByteArray ();
        int32 prev = Ane.TOKENIZER_BOS;
        foreach (uint8 b in new uint8[] { 0xE2, 0x82, 0xAC }) {
            var piece = tok.decode_token_bytes (prev, 3 + b);
            assert (piece.get_size () == 1);
            euro.append (piece.get_data ());
            prev = 3 + b;
        }
        assert (new Bytes (euro.data).compare (new Bytes ("€".data)) == 0);

        var joined = new ByteArray ();
        uint calls = 0;
        var text = model.generate_bytes (tok, "Once upon a time", 20, Ane.Backend.CPU,
                                         Ane.Precision.FLOAT32, 0.0, 0.9, 0,
                                         (token, piece) => {
                                             joined.append (piece.get_data ());
                                             calls++;
                                             return true;
                                         });
        assert (calls >= 1 && calls <= 20);
        assert (text.get_size () > 0);
        assert (text.compare (new Bytes (joined.data)) == 0);
        print ("%u tokens: %s\n", calls, (string) joined.data);
    } catch (Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }
    return 0;
}
