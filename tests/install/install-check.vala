/* install-check.vala: a Vala program built with valac against the installed
 * vapi (valac --vapidir ... --pkg ane-glib-1.0), as an application would be.
 * Runs relu(x·w + b) on the CPU backend, compares with plain loops and
 * checks the version getters. Exits non-zero on any mismatch.
 *
 * SPDX-License-Identifier: MIT
 */

int main () {
    float[] xs = { 1f, 2f, 3f };
    float[] ws = { 1f, -1f, 0f, 2f, 0.5f, 1f };
    float[] bs = { -1f, -4f };
    int64[] x_shape = { 1, 3 };
    int64[] w_shape = { 3, 2 };
    int64[] b_shape = { 2 };

    if (Ane.get_major_version () != Ane.MAJOR_VERSION || Ane.get_minor_version () != Ane.MINOR_VERSION) {
        stderr.printf ("FAIL: vapi version %d.%d, library %u.%u\n", Ane.MAJOR_VERSION, Ane.MINOR_VERSION,
                       Ane.get_major_version (), Ane.get_minor_version ());
        return 1;
    }
    try {
        var g = new Ane.Graph ();
        var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
        var w = g.@const (new Ane.Tensor.from_floats ("w", w_shape, ws));
        var b = g.@const (new Ane.Tensor.from_floats ("b", b_shape, bs));
        g.add_output ("y", g.relu (g.add (g.matmul (x, w, false, false), b)));

        var exe = new Ane.Executable (g, Ane.Backend.CPU);
        exe.precision = Ane.Precision.FLOAT32;
        exe.compile ();
        var y = exe.run_one (new Ane.Tensor.from_floats ("x", x_shape, xs));
        float[] got = y.dup_floats ();
        if (got.length != 2) {
            stderr.printf ("FAIL: %d outputs, expected 2\n", got.length);
            return 1;
        }
        int failures = 0;
        for (int j = 0; j < 2; j++) {
            float want = bs[j];
            for (int k = 0; k < 3; k++)
                want += xs[k] * ws[k * 2 + j];
            want = want > 0f ? want : 0f;
            if (!(Math.fabsf (got[j] - want) <= 1e-5f)) {
                stderr.printf ("FAIL: y[%d] = %g, expected %g\n", j, got[j], want);
                failures++;
            }
        }
        print ("vala ok %u.%u.%u\n", Ane.get_major_version (), Ane.get_minor_version (), Ane.get_micro_version ());
        return failures == 0 ? 0 : 1;
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        return 1;
    }
}
