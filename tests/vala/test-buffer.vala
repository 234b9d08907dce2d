/* test-buffer.vala: Ane.Buffer through the Vala bindings
 *
 * Buffers made for an executable's ports and bound; the input written
 * through the locked memory itself, a bound run, the output read back both
 * ways; an unbound port's error; explicit load and unload. Exits non-zero
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

Ane.Graph small_graph () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 1, 3 };
    int64[] w_shape = { 3, 2 };
    var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
    var w = g.@const (new Ane.Tensor.from_floats ("w", w_shape, { 1f, -1f, 0f, 2f, 0.5f, 1f }));
    g.add_output ("y", g.relu (g.matmul (x, w, false, false)));
    return g;
}

void test_bound_run () throws GLib.Error {
    var exe = new Ane.Executable (small_graph (), Ane.Backend.CPU);
    exe.compile (null);
    int64[] shape = { 1, 3 };
    var input = new Ane.Tensor.from_floats ("x", shape, { 1f, 2f, 3f });
    var want = exe.run ({ input }, null)[0].dup_floats ();

    var xb = exe.new_buffer ("x");
    var yb = exe.new_buffer ("y");
    exe.bind ("x", xb);
    check (xb.get_dtype () == Ane.DType.FLOAT32, "host buffers hold float32");
    check (xb.get_port () == Ane.BufferPort.INPUT, "x is an input");
    check (xb.get_shape ().length == 2 && xb.get_shape ()[1] == 3, "x's shape");
    check (xb.get_strides ()[1] == 4, "x's stride");

    /* an unbound output is named */
    try {
        exe.run_bound (null);
        check (false, "run_bound with y unbound");
    } catch (GLib.Error e) {
        check (e is Ane.Error.NOT_FOUND && e.message.contains ("output 'y'"), "unbound y: " + e.message);
    }
    exe.bind ("y", yb);

    /* the input written where the run reads it */
    size_t size;
    float* x = (float*) xb.lock (false, out size);
    check (size == 3 * sizeof (float), "x's size");
    x[0] = 1f; x[1] = 2f; x[2] = 3f;
    xb.unlock ();
    exe.run_bound (null);
    var got = yb.dup_tensor ().dup_floats ();
    check (got.length == want.length, "y's length");
    for (int i = 0; i < got.length; i++)
        check (got[i] == want[i], "y[%d]".printf (i));
    float* y = (float*) yb.lock (true, out size);
    check (y[0] == want[0] && y[1] == want[1], "y in place");
    yb.unlock ();

    /* through a tensor */
    xb.write_tensor (new Ane.Tensor.from_floats ("x", shape, { -1f, 0f, 1f }));
    exe.run_bound (null);
    var again = exe.run ({ new Ane.Tensor.from_floats ("x", shape, { -1f, 0f, 1f }) }, null)[0].dup_floats ();
    var bound = yb.dup_tensor ().dup_floats ();
    check (bound[0] == again[0] && bound[1] == again[1], "y after write_tensor");

    check (exe.is_loaded (), "loaded after compile");
    exe.unload ();
    check (!exe.is_loaded (), "unloaded");
    exe.run_bound (null);
    check (exe.is_loaded (), "a run loads again");
    exe.unload ();
    exe.load (null);
    check (exe.is_loaded (), "loaded by load");
}

int main () {
    try {
        test_bound_run ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL error: %s\n", e.message);
        failures++;
    }
    return failures == 0 ? 0 : 1;
}
