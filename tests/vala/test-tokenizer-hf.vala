/* test-tokenizer-hf.vala: a Hugging Face tokenizer.json from Vala
 *
 * Usage: test-tokenizer-hf-vala TOKENIZER.json[.gz]   (the bundled Qwen3 tokenizer)
 *
 * SPDX-License-Identifier: MIT
 */

int main (string[] args) {
    if (args.length != 2) {
        stderr.printf ("usage: %s TOKENIZER.json\n", args[0]);
        return 2;
    }
    try {
        var tok = Ane.Tokenizer.load_hf (args[1]);
        assert (tok.get_n_tokens () == 151669);
        assert (tok.get_eos_id () == 151645);

        /* tests/data/tokenizers/qwen3/cases.json, the first case */
        int32[] ids = tok.encode_full ("Hello, world!", true);
        int32[] want = { 9707, 11, 1879, 0 };
        assert (ids.length == want.length);
        for (int i = 0; i < ids.length; i++)
            assert (ids[i] == want[i]);
        assert (tok.decode_full (ids, false) == "Hello, world!");

        /* special tokens in the text are their ids; skip_special_tokens drops them */
        int32[] chat = tok.encode_full ("<|im_start|>user", false);
        assert (chat.length == 2 && chat[0] == 151644);
        assert (tok.decode_full (chat, true) == "user");
        assert (tok.decode_full (chat, false) == "<|im_start|>user");
    } catch (Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }

    /* an unsupported model type is an Ane.Error naming it */
    try {
        string dir = DirUtils.make_tmp ("ane-tokenizer-vala-XXXXXX");
        string path = Path.build_filename (dir, "tokenizer.json");
        FileUtils.set_contents (path, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        try {
            Ane.Tokenizer.load_hf (path);
            assert_not_reached ();
        } catch (Ane.Error e) {
            assert (e is Ane.Error.UNSUPPORTED);
            assert ("Unigram" in e.message);
        }
        FileUtils.unlink (path);
        DirUtils.remove (dir);
    } catch (Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }
    print ("ok\n");
    return 0;
}
