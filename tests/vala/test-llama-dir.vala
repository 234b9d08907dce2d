/* test-llama-dir.vala: a model converted to a directory and run from it, from Vala
 *
 * Usage: test-llama-dir-vala MODEL.bin TOKENIZER.bin
 *
 * SPDX-License-Identifier: MIT
 */

int main (string[] args) {
    if (args.length != 3) {
        stderr.printf ("usage: %s MODEL.bin TOKENIZER.bin\n", args[0]);
        return 2;
    }
    string? tmp = null;
    try {
        var model = Ane.LlamaModel.load_llama2c (args[1]);
        var tok = Ane.Tokenizer.load_llama2c (args[2], (uint) model.get_vocab_size ());
        tmp = DirUtils.make_tmp ("ane-llama-dir-vala-XXXXXX");
        var where = Path.build_filename (tmp, "stories");

        model.save_dir (tok, where, 64, 32, Ane.Target.IOS18, false);
        var dir = Ane.LlamaDir.load (where);
        assert (dir.get_context () == 64);
        assert (dir.get_prefill_step () == 32);
        var pieces = new StringBuilder ();
        var text = dir.generate ("Once upon a time", 20, Ane.Backend.CPU, 0.0, 0.9, 0,
                                 (token, piece) => {
                                     pieces.append (piece);
                                     return true;
                                 });
        assert (text.length > 0);
        assert (text == pieces.str);
        print ("%s\n", text);

        /* the layers in two packages, the arg-max in the last: the same greedy text */
        var chunked_where = Path.build_filename (tmp, "chunked");
        model.save_dir_full (tok, chunked_where, 64, 32, Ane.Target.IOS18, 2, 0, true, false);
        var chunked = Ane.LlamaDir.load (chunked_where);
        assert (chunked.get_n_chunks () == 2);
        assert (chunked.get_argmax ());
        int64 first, end;
        var last = chunked.get_chunk (1, out first, out end);
        assert (first == 3 && end == 5);
        assert (last.list_functions ().length == 2);
        assert (chunked.generate ("Once upon a time", 20, Ane.Backend.CPU, 0.0, 0.9, 0, null) == text);
        try {
            chunked.generate ("Once upon a time", 4, Ane.Backend.CPU, 0.5, 0.9, 0, null);
            assert_not_reached ();
        } catch (Error e) {
            assert (e.code == Ane.Error.UNSUPPORTED);
        }

        /* the Neural Engine step with its caches written either way: the
         * slice_update form's int32 box, or the one-hot form's float inputs
         * only (the private path's); the same logits at the first token */
        int32[] first_token = { 1 };
        float[]? logits = null;
        foreach (var form in new Ane.LlamaCacheWrite[] { Ane.LlamaCacheWrite.SLICE_UPDATE,
                                                          Ane.LlamaCacheWrite.ONE_HOT }) {
            var step = model.build_ane_step (1, 64, 0, model.get_n_layers (), Ane.LlamaHead.LOGITS, form);
            var exe = new Ane.Executable (step, Ane.Backend.CPU);
            exe.compile (null);
            var inputs = model.ane_step_inputs (form, first_token, 0, 1, 64);
            assert (inputs.length == (form == Ane.LlamaCacheWrite.ONE_HOT ? 5 : 6));
            assert (inputs[4].get_name () == (form == Ane.LlamaCacheWrite.ONE_HOT ? "write" : "write_begin"));
            var outputs = exe.run (inputs.data, null);
            var got = outputs[0].dup_floats ();
            if (logits == null) {
                logits = got;
            } else {
                assert (got.length == logits.length);
                for (int i = 0; i < got.length; i++)
                    assert (Math.fabsf (got[i] - logits[i]) < 1e-3f);
            }
        }

        try {
            model.save_dir (tok, where, 64, 32, Ane.Target.IOS18, false);
            assert_not_reached ();
        } catch (Error e) {
            assert (e.code == Ane.Error.IO);
        }
    } catch (Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    } finally {
        if (tmp != null) {
            try {
                Process.spawn_sync (null, { "rm", "-rf", tmp }, null, SpawnFlags.SEARCH_PATH, null);
            } catch (SpawnError e) {
                stderr.printf ("%s\n", e.message);
            }
        }
    }
    return 0;
}
