/* test-llama-hf.vala: a Hugging Face checkpoint loaded from Vala (Ane.LlamaModel.load_hf)
 *
 * Writes a tiny LLaMA checkpoint (config.json and model.safetensors, F32,
 * tied head) into a temporary directory, loads it, checks what was read,
 * runs its prefill graph on the CPU backend, then leaves a tensor out and
 * checks the error names it. The numbers are checked against the llama2.c
 * path in tests/test-llama-hf.c and against numpy in test_llama_hf.py.
 *
 * SPDX-License-Identifier: MIT
 */

const int HIDDEN = 8;
const int INTER = 16;
const int HEADS = 2;
const int KV_HEADS = 1;
const int VOCAB = 16;

struct Spec {
    string name;
    int rows;
    int cols;   /* 0: a vector */
}

void check (bool ok, string what) {
    if (!ok) {
        stderr.printf ("FAIL: %s\n", what);
        Process.exit (1);
    }
}

/* Tensor i's value j: deterministic and small. */
float value_of (int i, int j) {
    return (float) (0.5 * Math.sin (1.3 * i + 0.7 * j));
}

void write_checkpoint (string dir, string? omit) throws GLib.Error {
    int head = HIDDEN / HEADS;
    Spec[] specs = {
        { "model.embed_tokens.weight", VOCAB, HIDDEN },
        { "model.layers.0.input_layernorm.weight", HIDDEN, 0 },
        { "model.layers.0.self_attn.q_proj.weight", HEADS * head, HIDDEN },
        { "model.layers.0.self_attn.k_proj.weight", KV_HEADS * head, HIDDEN },
        { "model.layers.0.self_attn.v_proj.weight", KV_HEADS * head, HIDDEN },
        { "model.layers.0.self_attn.o_proj.weight", HIDDEN, HEADS * head },
        { "model.layers.0.post_attention_layernorm.weight", HIDDEN, 0 },
        { "model.layers.0.mlp.gate_proj.weight", INTER, HIDDEN },
        { "model.layers.0.mlp.up_proj.weight", INTER, HIDDEN },
        { "model.layers.0.mlp.down_proj.weight", HIDDEN, INTER },
        { "model.norm.weight", HIDDEN, 0 }
    };
    var header = new StringBuilder ("{");
    var data = new ByteArray ();
    int offset = 0;
    for (int i = 0; i < specs.length; i++) {
        if (specs[i].name == omit)
            continue;
        int n = specs[i].rows * (specs[i].cols > 0 ? specs[i].cols : 1);
        string shape = specs[i].cols > 0 ? "[%d, %d]".printf (specs[i].rows, specs[i].cols)
                                         : "[%d]".printf (specs[i].rows);
        header.append_printf ("%s\"%s\": {\"dtype\": \"F32\", \"shape\": %s, \"data_offsets\": [%d, %d]}",
                              offset > 0 ? ", " : "", specs[i].name, shape, offset, offset + 4 * n);
        for (int j = 0; j < n; j++) {
            float f = value_of (i, j);
            uint32 bits = *((uint32 *) (&f));
            data.append ({ (uint8) bits, (uint8) (bits >> 8), (uint8) (bits >> 16), (uint8) (bits >> 24) });
        }
        offset += 4 * n;
    }
    header.append ("}");
    while (header.len % 8 != 0)
        header.append_c (' ');
    var file = new ByteArray ();
    uint64 len = header.len;
    for (int b = 0; b < 8; b++)
        file.append ({ (uint8) (len >> (8 * b)) });
    file.append (header.str.data);
    file.append (data.data);
    FileUtils.set_data (Path.build_filename (dir, "model.safetensors"), file.data);
    FileUtils.set_contents (Path.build_filename (dir, "config.json"),
        ("{\"model_type\": \"llama\", \"hidden_size\": %d, \"intermediate_size\": %d, " +
         "\"num_hidden_layers\": 1, \"num_attention_heads\": %d, \"num_key_value_heads\": %d, " +
         "\"vocab_size\": %d, \"max_position_embeddings\": 32, \"rms_norm_eps\": 1e-5, " +
         "\"tie_word_embeddings\": true}").printf (HIDDEN, INTER, HEADS, KV_HEADS, VOCAB));
}

int main (string[] args) {
    try {
        string dir = DirUtils.make_tmp ("ane-llama-hf-vala-XXXXXX");
        write_checkpoint (dir, null);
        var model = Ane.LlamaModel.load_hf (dir);
        check (model.get_dim () == HIDDEN, "hidden_size");
        check (model.get_hidden_dim () == INTER, "intermediate_size");
        check (model.get_n_kv_heads () == KV_HEADS, "num_key_value_heads");
        check (model.get_vocab_size () == VOCAB, "vocab_size");
        check (model.get_seq_len () == 32, "max_position_embeddings");
        check (model.get_shared_classifier (), "tied head");
        var wq = model.get_weight ("layers.0.wq").dup_floats ();
        check (wq.length == HIDDEN * HIDDEN && wq[5] == value_of (2, 5), "q_proj read as written");

        var exe = new Ane.Executable (model.build_prefill (3), Ane.Backend.CPU);
        exe.compile (null);
        int64[] shape = { 3 };
        var logits = exe.run ({ new Ane.Tensor.from_ints ("tokens", shape, { 1, 5, 9 }),
                                new Ane.Tensor.from_ints ("positions", shape, { 0, 1, 2 }) }, null)[0];
        var values = logits.dup_floats ();
        check (values.length == 3 * VOCAB, "logits [3, vocab]");
        foreach (float v in values)
            check (v.is_finite (), "finite logits");
        print ("load_hf: logits[0][0..3] = %g %g %g\n", values[0], values[1], values[2]);

        string dir2 = DirUtils.make_tmp ("ane-llama-hf-vala-XXXXXX");
        write_checkpoint (dir2, "model.layers.0.self_attn.v_proj.weight");
        try {
            Ane.LlamaModel.load_hf (dir2);
            check (false, "a missing tensor fails");
        } catch (Ane.Error e) {
            check (e is Ane.Error.NOT_FOUND, "NOT_FOUND");
            check ("model.layers.0.self_attn.v_proj.weight" in e.message, "the message names the tensor");
            print ("missing tensor: %s\n", e.message);
        }
        foreach (string d in new string[] { dir, dir2 }) {
            FileUtils.remove (Path.build_filename (d, "model.safetensors"));
            FileUtils.remove (Path.build_filename (d, "config.json"));
            DirUtils.remove (d);
        }
    } catch (GLib.Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }
    return 0;
}
