/* states.vala: a graph with state, run on the CPU backend, from Vala
 *
 *     acc ← acc + x;   y = acc · 2
 *
 * A state keeps its value from one run of an executable to the next (a KV
 * cache, a recurrent state). This example declares one (Ane.Graph.state),
 * reads and writes it in the graph, runs it three times on the CPU backend
 * and checks each output and the state itself (Ane.Executable.dup_state)
 * against the sums worked out in plain Vala; then resets the states and
 * checks that they start from zeros again. A mismatch exits non-zero.
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 states.vala
 *
 * SPDX-License-Identifier: MIT
 */

const int N = 4;

bool check (string what, float[] got, double[] want) {
    if (got.length != want.length) {
        stderr.printf ("MISMATCH %s: %d values, expected %d\n", what, got.length, want.length);
        return false;
    }
    for (int i = 0; i < want.length; i++) {
        /* small integers and halves: exact in fp16 too. !(d <= 0) also
         * fails a NaN. */
        if (!(Math.fabs (got[i] - want[i]) <= 0)) {
            stderr.printf ("MISMATCH %s[%d]: %g, expected %g\n", what, i, got[i], want[i]);
            return false;
        }
    }
    return true;
}

int main () {
    try {
        var g = new Ane.Graph ();
        var x = g.input ("x", Ane.DType.FLOAT32, { N });
        var acc = g.state ("acc", Ane.DType.FLOAT32, { N });
        var sum = g.write_state (acc, g.add (g.read_state (acc), x));
        g.add_output ("y", g.mul (sum, g.scalar (Ane.DType.FLOAT32, 2)));

        var exe = new Ane.Executable (g, Ane.Backend.CPU);
        exe.compile ();

        var want_acc = new double[N];
        for (int run = 1; run <= 3; run++) {
            var xs = new float[N];
            for (int i = 0; i < N; i++) {
                xs[i] = run * (i + 0.5f);
                want_acc[i] += xs[i];
            }
            Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", { N }, xs) };
            var y = exe.run (inputs)[0].dup_floats ();
            var want_y = new double[N];
            for (int i = 0; i < N; i++)
                want_y[i] = 2 * want_acc[i];
            print ("run %d: y = %g %g %g %g\n", run, y[0], y[1], y[2], y[3]);
            if (!check ("y of run %d".printf (run), y, want_y) ||
                !check ("state after run %d".printf (run), exe.dup_state ("acc").dup_floats (), want_acc))
                return 1;
        }

        /* reset_states: back to zeros, so the next run sees only its x */
        exe.reset_states ();
        Ane.Tensor[] ones = { new Ane.Tensor.from_floats ("x", { N }, { 1f, 1f, 1f, 1f }) };
        if (!check ("y after reset", exe.run (ones)[0].dup_floats (), { 2, 2, 2, 2 }))
            return 1;
        print ("the state carries the sum from run to run\n");
    } catch (GLib.Error e) {
        stderr.printf ("ane-glib failed: %s\n", e.message);
        return 1;
    }
    return 0;
}
