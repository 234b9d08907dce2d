/* mlp.vala: a two-layer perceptron with ane-glib from Vala
 *
 *     y = softmax(relu(x · W1 + b1) · W2 + b2)
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 mlp.vala
 *
 * SPDX-License-Identifier: MIT
 */

/* Deterministic weights: a small sine pattern. */
Ane.Tensor pattern (string name, int64[] shape, float phase) throws GLib.Error {
    int64 n = 1;
    foreach (var d in shape)
        n *= d;
    var values = new float[n];
    for (int i = 0; i < n; i++)
        values[i] = 0.5f * (float) Math.sin (phase + 0.7 * i);
    return new Ane.Tensor.from_floats (name, shape, values);
}

int main () {
    const int BATCH = 2;
    const int IN = 4;
    const int HIDDEN = 8;
    const int OUT = 3;

    try {
        var g = new Ane.Graph ();
        var x = g.input ("x", Ane.DType.FLOAT32, { BATCH, IN });

        /* Weights baked into the graph as named params. */
        var w1 = g.param_with_value (pattern ("w1", { IN, HIDDEN }, 0f));
        var b1 = g.param_with_value (pattern ("b1", { HIDDEN }, 1f));
        var w2 = g.param_with_value (pattern ("w2", { HIDDEN, OUT }, 2f));
        var b2 = g.param_with_value (pattern ("b2", { OUT }, 3f));

        var h = g.relu (g.add (g.matmul (x, w1, false, false), b1));
        var y = g.softmax (g.add (g.matmul (h, w2, false, false), b2), -1);
        g.add_output ("probabilities", y);

        var exe = new Ane.Executable (g, Ane.Backend.REFERENCE);
        exe.compile ();

        Ane.Tensor[] inputs = {
            new Ane.Tensor.from_floats ("x", { BATCH, IN },
                                        { 1f, -0.5f, 0.25f, 2f, -1f, 0f, 0.5f, -2f })
        };
        var outputs = exe.run (inputs);
        var probs = outputs[0].dup_floats ();

        for (int b = 0; b < BATCH; b++) {
            var line = new StringBuilder ("sample %d:".printf (b));
            float total = 0f;
            for (int c = 0; c < OUT; c++) {
                line.append_printf (" %.6f", probs[b * OUT + c]);
                total += probs[b * OUT + c];
            }
            print ("%s\n", line.str);
            /* a softmax row sums to one */
            if (Math.fabsf (total - 1f) > 1e-5f) {
                stderr.printf ("row %d sums to %f\n", b, total);
                return 1;
            }
        }
    } catch (GLib.Error e) {
        /* Ane errors are GLib errors in the Ane.Error domain. */
        stderr.printf ("ane-glib failed: %s\n", e.message);
        return 1;
    }
    return 0;
}
