/* test-lowering.vala: choosing the lowering profile through the Vala bindings
 *
 * A two-layer MLP packaged with Ane.Lowering.GENERIC and NEURAL_ENGINE: the
 * lint finds its linears outside a conv only in the generic program, and
 * both programs compute the same outputs on the CPU backend. Exits non-zero
 * on any mismatch.
 *
 * SPDX-License-Identifier: MIT
 */

int failures = 0;

void check (bool ok, string what) {
    if (!ok) {
        stderr.printf ("FAIL %s\n", what);
        failures++;
    }
}

Ane.Tensor weight (string name, int64 rows, int64 cols) throws GLib.Error {
    var values = new float[rows * cols];
    for (int i = 0; i < values.length; i++)
        values[i] = (float) Math.sin (0.37 * i) * 0.25f;
    int64[] shape = { rows, cols };
    return new Ane.Tensor.from_floats (name, shape, values);
}

float[] run (Ane.Package package, Ane.Tensor x) throws GLib.Error {
    var exe = new Ane.Executable.from_package_full (package, null, Ane.Backend.CPU);
    exe.compile (null);
    Ane.Tensor[] inputs = { x };
    var outputs = exe.run (inputs, null);
    return outputs[0].dup_floats ();
}

void test_profiles () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] shape = { 3, 16 };
    var x = g.input ("x", Ane.DType.FLOAT32, shape);
    var w1 = g.param_with_value (weight ("w1", 24, 16));
    var w2 = g.param_with_value (weight ("w2", 8, 24));
    var h = g.relu (g.matmul (x, w1, false, true));
    g.add_output ("y", g.matmul (h, w2, false, true));

    var generic = new Ane.Package.from_graph_with_lowering (g, Ane.Target.IOS18, Ane.Precision.FLOAT32,
                                                            Ane.Lowering.GENERIC, null);
    var profiled = new Ane.Package.from_graph_with_lowering (g, Ane.Target.IOS18, Ane.Precision.FLOAT32,
                                                             Ane.Lowering.NEURAL_ENGINE, null);
    check (generic.lint (Ane.LintFlags.NONE).count_rule ("linear-not-conv") == 2, "generic: two linears");
    check (profiled.lint (Ane.LintFlags.NONE).count_rule ("linear-not-conv") == 0, "profile: convs");
    check (profiled.to_mil_text ().contains (" = conv("), "profile: conv in the program");

    var values = new float[3 * 16];
    for (int i = 0; i < values.length; i++)
        values[i] = (float) Math.cos (0.11 * i);
    var xv = new Ane.Tensor.from_floats ("x", shape, values);
    float[] a = run (generic, xv);
    float[] b = run (profiled, xv);
    check (a.length == b.length && a.length == 3 * 8, "output sizes");
    for (int i = 0; i < a.length && i < b.length; i++)
        check (Math.fabsf (a[i] - b[i]) <= 1e-4f * (1.0f + Math.fabsf (a[i])), "same output %d".printf (i));
}

int main (string[] args) {
    try {
        test_profiles ();
    } catch (GLib.Error e) {
        check (false, e.message);
    }
    return failures == 0 ? 0 : 1;
}
