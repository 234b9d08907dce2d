/* mlp.vala: a two-layer perceptron with ane-glib from Vala
 *
 *     y = softmax(relu(x · W1 + b1) · W2 + b2)
 *
 * runs it on the reference backend, prints the result and checks it against
 * the same maths written out in plain Vala (exiting non-zero on a mismatch).
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 mlp.vala
 *
 * SPDX-License-Identifier: MIT
 */

const int BATCH = 2;
const int IN = 4;
const int HIDDEN = 8;
const int OUT = 3;

/* Deterministic weights: a small sine pattern. */
float pattern_value (float phase, int i) {
    return 0.5f * (float) Math.sin (phase + 0.7 * i);
}

Ane.Tensor pattern (string name, int64[] shape, float phase) throws GLib.Error {
    int64 n = 1;
    foreach (var d in shape)
        n *= d;
    var values = new float[n];
    for (int i = 0; i < n; i++)
        values[i] = pattern_value (phase, i);
    return new Ane.Tensor.from_floats (name, shape, values);
}

/* The same network in plain Vala (in double): an independent check of what
 * the library computed. w1, b1, w2, b2 are the patterns of phase 0 to 3. */
double[] mlp_by_hand (float[] x) {
    var probs = new double[BATCH * OUT];
    for (int b = 0; b < BATCH; b++) {
        var h = new double[HIDDEN];
        var z = new double[OUT];
        double sum = 0;
        for (int j = 0; j < HIDDEN; j++) {
            double a = pattern_value (1f, j);                          /* b1 */
            for (int k = 0; k < IN; k++)
                a += (double) x[b * IN + k] * pattern_value (0f, k * HIDDEN + j);
            h[j] = double.max (a, 0);                                  /* relu */
        }
        for (int c = 0; c < OUT; c++) {
            z[c] = pattern_value (3f, c);                              /* b2 */
            for (int j = 0; j < HIDDEN; j++)
                z[c] += h[j] * pattern_value (2f, j * OUT + c);
            sum += Math.exp (z[c]);     /* small logits: no need to subtract the max */
        }
        for (int c = 0; c < OUT; c++)
            probs[b * OUT + c] = Math.exp (z[c]) / sum;                /* softmax */
    }
    return probs;
}

int main () {
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

        float[] x_values = { 1f, -0.5f, 0.25f, 2f, -1f, 0f, 0.5f, -2f };
        Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", { BATCH, IN }, x_values) };
        var outputs = exe.run (inputs);
        var probs = outputs[0].dup_floats ();

        for (int b = 0; b < BATCH; b++) {
            var line = new StringBuilder ("sample %d:".printf (b));
            for (int c = 0; c < OUT; c++)
                line.append_printf (" %.6f", probs[b * OUT + c]);
            print ("%s\n", line.str);
        }

        /* Check against plain Vala: float32 rounding is far below 1e-6.
         * Written !(d <= tol) so that a NaN fails too. */
        var want = mlp_by_hand (x_values);
        for (int i = 0; i < BATCH * OUT; i++) {
            if (probs.length != BATCH * OUT || !(Math.fabs (probs[i] - want[i]) <= 1e-6)) {
                stderr.printf ("MISMATCH: probability %d is %.9g, plain Vala says %.9g\n",
                               i, probs[i], want[i]);
                return 1;
            }
        }
        print ("matches plain Vala\n");
    } catch (GLib.Error e) {
        /* Ane errors are GLib errors in the Ane.Error domain. */
        stderr.printf ("ane-glib failed: %s\n", e.message);
        return 1;
    }
    return 0;
}
