/* test-graph.vala: the library through its Vala bindings
 *
 * Builds relu(x·w + b) and its softmax, runs it on the reference backend and
 * compares with numbers worked out by hand; then checks that a bad operand
 * surfaces as an Ane.Error, that the cross_entropy loss and its gradient
 * come out as worked out by hand, and that Ane.Package.check_types reports a wrong
 * declared type. Exits non-zero on any mismatch.
 *
 * SPDX-License-Identifier: MIT
 */

int failures = 0;

void check_values (string what, float[] got, float[] want) {
    if (got.length != want.length) {
        stderr.printf ("FAIL %s: %d values, expected %d\n", what, got.length, want.length);
        failures++;
        return;
    }
    for (int i = 0; i < want.length; i++) {
        /* written as !(... <=) so that a NaN fails (the expected values
         * here are all finite) */
        if (!(Math.fabsf (got[i] - want[i]) <= 1e-6f + 1e-5f * Math.fabsf (want[i]))) {
            stderr.printf ("FAIL %s[%d]: got %.9g, expected %.9g\n", what, i, got[i], want[i]);
            failures++;
        }
    }
}

void check_shape (string what, Ane.Tensor t, int64[] want) {
    unowned int64[] shape = t.get_shape ();
    bool same = shape.length == want.length;
    for (int i = 0; same && i < want.length; i++)
        same = shape[i] == want[i];
    if (!same) {
        stderr.printf ("FAIL %s: unexpected shape\n", what);
        failures++;
    }
}

void test_mlp_softmax () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 2, 3 };
    int64[] w_shape = { 3, 2 };
    int64[] b_shape = { 2 };

    var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
    var w = g.@const (new Ane.Tensor.from_floats ("w", w_shape, { 1f, -1f, 0f, 2f, 0.5f, 1f }));
    var b = g.@const (new Ane.Tensor.from_floats ("b", b_shape, { -1f, -4f }));
    var h = g.relu (g.add (g.matmul (x, w, false, false), b));
    var p = g.softmax (h, -1);
    g.add_output ("h", h);
    g.add_output ("p", p);

    var exe = new Ane.Executable (g, Ane.Backend.REFERENCE);
    exe.compile ();
    Ane.Tensor[] inputs = {
        new Ane.Tensor.from_floats ("x", x_shape, { 1f, 2f, 3f, -1f, 0f, 2f })
    };
    var outputs = exe.run (inputs);
    if (outputs.length != 2) {
        stderr.printf ("FAIL: %u outputs, expected 2\n", outputs.length);
        failures++;
        return;
    }

    /* x·w = [[2.5, 6], [0, 3]]; + b = [[1.5, 2], [-1, -1]]; relu = [[1.5, 2], [0, 0]] */
    check_shape ("h", outputs[0], { 2, 2 });
    check_values ("h", outputs[0].dup_floats (), { 1.5f, 2f, 0f, 0f });

    /* softmax of [1.5, 2] is [1, e^0.5] / (1 + e^0.5); of [0, 0] it is [0.5, 0.5] */
    float s = 1f / (1f + (float) Math.exp (0.5));
    check_shape ("p", outputs[1], { 2, 2 });
    check_values ("p", outputs[1].dup_floats (), { s, 1f - s, 0.5f, 0.5f });
}

/* The ops ONNX import added (pad, resize, argmax, erf), values by hand. */
void test_onnx_ops () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 1, 1, 2, 2 };
    var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
    int64[] pads = { 1, 0, 0, 1 };
    g.add_output ("pad", g.pad (x, pads, "reflect", 0));
    g.add_output ("up", g.resize (x, 2, 4, 0, 0, "linear", "align_corners", "floor"));
    g.add_output ("arg", g.cast (g.argmax (x, -1, false), Ane.DType.FLOAT32));
    g.add_output ("erf", g.erf (x));

    var exe = new Ane.Executable (g, Ane.Backend.REFERENCE);
    exe.compile ();
    Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", x_shape, { 1f, 2f, 4f, 3f }) };
    var outputs = exe.run (inputs);
    /* [[1,2],[4,3]]: reflect 1 row above, 1 column right */
    check_shape ("pad", outputs[0], { 1, 1, 3, 3 });
    check_values ("pad", outputs[0].dup_floats (), { 4f, 3f, 4f, 1f, 2f, 1f, 4f, 3f, 4f });
    check_values ("up", outputs[1].dup_floats (), { 1f, 4f / 3f, 5f / 3f, 2f, 4f, 11f / 3f, 10f / 3f, 3f });
    check_values ("arg", outputs[2].dup_floats (), { 1f, 0f });
    check_values ("erf", outputs[3].dup_floats (), { (float) 0.8427007929497149, (float) 0.9953222650189527,
                                                    (float) 0.9999999845827421, (float) 0.9999779095030014 });
}

/* cross_entropy: logits [[0, 0, 0], [1, 2, 3]] at targets [1, -100]: the
 * second row is ignored, so the loss is ln 3 (a scalar, shape []) and its
 * gradient [[1/3, -2/3, 1/3], [0, 0, 0]]. */
void test_cross_entropy () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 2, 3 };
    int64[] t_shape = { 2 };
    var x = g.param_with_value (new Ane.Tensor.from_floats ("x", x_shape, { 0f, 0f, 0f, 1f, 2f, 3f }));
    var t = g.input ("t", Ane.DType.INT32, t_shape);
    g.add_output ("loss", g.cross_entropy (x, t, -100));
    var gg = g.gradients ("loss", { "x" });

    var exe = new Ane.Executable (gg, Ane.Backend.REFERENCE);
    exe.compile ();
    Ane.Tensor[] inputs = { new Ane.Tensor.from_ints ("t", t_shape, { 1, -100 }) };
    var outputs = exe.run (inputs);
    check_shape ("loss", outputs[0], {});
    check_values ("loss", outputs[0].dup_floats (), { (float) Math.log (3.0) });
    check_values ("grad_x", outputs[1].dup_floats (), { 1f / 3f, -2f / 3f, 1f / 3f, 0f, 0f, 0f });
}

void test_error_domain () {
    var g = new Ane.Graph ();
    try {
        int64[] a_shape = { 2, 3 };
        int64[] b_shape = { 4 };
        var a = g.input ("a", Ane.DType.FLOAT32, a_shape);
        var b = g.input ("b", Ane.DType.FLOAT32, b_shape);
        g.add (a, b);
        stderr.printf ("FAIL: add of [2,3] and [4] did not throw\n");
        failures++;
    } catch (Ane.Error.SHAPE e) {
        if (!("float32[2,3]" in e.message) || !("float32[4]" in e.message)) {
            stderr.printf ("FAIL: the message does not name the shapes: %s\n", e.message);
            failures++;
        }
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: expected Ane.Error.SHAPE, got %s\n", e.message);
        failures++;
    }
}

/* AUTO from Vala: the report names each backend considered; off Apple the
 * Apple backends throw Ane.Error.UNSUPPORTED. */
void test_backends () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] shape = { 4 };
    var x = g.input ("x", Ane.DType.FLOAT32, shape);
    g.add_output ("y", g.relu (x));

    var exe = new Ane.Executable (g, Ane.Backend.AUTO);
    exe.set_compute_units (Ane.ComputeUnits.CPU_AND_NE);
    exe.compile ();
    var report = exe.dup_backend_report ();
    if (!report.has_suffix (": selected\n") && !(": selected: " in report)) {
        stderr.printf ("FAIL: AUTO's report names no selected backend: %s\n", report);
        failures++;
    }
    if (exe.get_backend () == Ane.Backend.CPU && !("coreml: passed over: " in report)) {
        stderr.printf ("FAIL: AUTO chose the CPU without saying why not CoreML: %s\n", report);
        failures++;
    }
    if (!Ane.available ()) {
        try {
            new Ane.Executable (g, Ane.Backend.ANE).compile ();
            stderr.printf ("FAIL: the ANE backend compiled without a Neural Engine\n");
            failures++;
        } catch (Ane.Error.UNSUPPORTED e) {
            if (!("backend 'ane'" in e.message)) {
                stderr.printf ("FAIL: the message does not name the backend: %s\n", e.message);
                failures++;
            }
        }
    }
}

/* Ane.ComputePlan through the vapi: a missing model is refused the same
 * way on every platform (no CoreML needed), and the device flags combine. */
void test_compute_plan () {
    try {
        new Ane.ComputePlan.for_package ("/nonexistent/model.mlpackage", Ane.ComputeUnits.ALL);
        stderr.printf ("FAIL: a plan for a missing package did not throw\n");
        failures++;
    } catch (Ane.Error.NOT_FOUND e) {
        if (!("/nonexistent/model.mlpackage" in e.message)) {
            stderr.printf ("FAIL: the message does not name the path: %s\n", e.message);
            failures++;
        }
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: expected Ane.Error.NOT_FOUND, got %s\n", e.message);
        failures++;
    }
    Ane.ComputeDevice both = Ane.ComputeDevice.CPU | Ane.ComputeDevice.NEURAL_ENGINE;
    if ((int) both != 5 || !(Ane.ComputeDevice.NEURAL_ENGINE in both) || (Ane.ComputeDevice.GPU in both)) {
        stderr.printf ("FAIL: Ane.ComputeDevice flags: %d\n", (int) both);
        failures++;
    }
}

/* Ane.Package.check_types through the vapi: a report (one line per op
 * whose declared type is not the one Apple's loader infers) and the op types
 * it has no rule for. */
void test_check_types () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] shape = { 2, 4 };
    var x = g.input ("x", Ane.DType.FLOAT32, shape);
    g.add_output ("y", g.relu (x));
    var pkg = new Ane.Package.from_graph (g, Ane.Target.IOS18, Ane.Precision.FLOAT16);
    string[] unchecked;
    string[] problems = pkg.check_types (out unchecked);
    if (problems.length != 0 || unchecked.length != 0) {
        stderr.printf ("FAIL: a lowered package does not type-check: %d problems, %d unchecked\n",
                       problems.length, unchecked.length);
        failures++;
    }

    var dir = DirUtils.make_tmp ("ane-vala-XXXXXX");
    var path = Path.build_filename (dir, "bad.mil");
    FileUtils.set_contents (path,
        "program(1.3)\n{\n" +
        "    func main<ios18>(tensor<fp32, [2]> a, tensor<fp32, [2]> b) {\n" +
        "        tensor<fp32, [3]> y = add(x = a, y = b)[name = string(\"y\")];\n" +
        "    } -> (y);\n}\n");
    var bad = Ane.Package.load_mil (path);
    FileUtils.remove (path);
    DirUtils.remove (dir);
    problems = bad.check_types (out unchecked);
    if (problems.length != 1 ||
        !("output 'y' is declared tensor<fp32, [3]>, but coremltools 9.0 infers tensor<fp32, [2]>" in problems[0])) {
        stderr.printf ("FAIL: the wrong declared type is not reported: %s\n",
                       problems.length > 0 ? problems[0] : "(nothing)");
        failures++;
    }
}

async Ane.Package new_from_graphs_async (string[] names, Ane.Graph[] graphs) throws GLib.Error {
    return yield new Ane.Package.from_graphs_async (names, graphs, Ane.Target.IOS18, Ane.Precision.FLOAT16, null);
}

/* Ane.Package.from_graphs (and its async form) through the vapi: two
 * arrays of one length. */
void test_multifunction () throws GLib.Error {
    int64[] s4 = { 4, 8 };
    int64[] s1 = { 1, 8 };
    var a = new Ane.Graph ();
    a.add_output ("y", a.relu (a.input ("x", Ane.DType.FLOAT32, s4)));
    var b = new Ane.Graph ();
    b.add_output ("y", b.neg (b.input ("x", Ane.DType.FLOAT32, s1)));
    string[] names = { "prefill", "decode" };
    Ane.Graph[] graphs = { a, b };
    var pkg = new Ane.Package.from_graphs (names, graphs, Ane.Target.IOS18, Ane.Precision.FLOAT16);
    string[] functions = pkg.list_functions ();
    if (functions.length != 2 || pkg.get_default_function () != "prefill") {
        stderr.printf ("FAIL: from_graphs made %d functions, default %s\n", functions.length,
                       pkg.get_default_function ());
        failures++;
    }
    var loop = new MainLoop ();
    Ane.Package? made = null;
    new_from_graphs_async.begin (names, graphs, (obj, res) => {
        try {
            made = new_from_graphs_async.end (res);
        } catch (GLib.Error e) {
            stderr.printf ("FAIL: from_graphs_async: %s\n", e.message);
            failures++;
        }
        loop.quit ();
    });
    loop.run ();
    if (made == null || made.list_functions ().length != 2) {
        stderr.printf ("FAIL: from_graphs_async made no package of two functions\n");
        failures++;
    }
    try {
        new Ane.Package.from_graphs (names, graphs, Ane.Target.IOS17, Ane.Precision.FLOAT16);
        stderr.printf ("FAIL: two functions before iOS18 were accepted\n");
        failures++;
    } catch (Ane.Error e) {
        if (!(e is Ane.Error.UNSUPPORTED)) {
            stderr.printf ("FAIL: two functions before iOS18: %s\n", e.message);
            failures++;
        }
    }
}

/* Ane.set_num_threads: the CPU backend's thread count, kept; a 1-row
 * product against a 256×512 weight (split over the threads) gives the same
 * bits at 1 and 2 threads. */
void test_num_threads () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 1, 256 };
    int64[] w_shape = { 256, 512 };
    var wv = new float[256 * 512];
    var xv = new float[256];
    for (int i = 0; i < wv.length; i++)
        wv[i] = (float) ((i * 7919) % 113) / 113f - 0.5f;
    for (int i = 0; i < xv.length; i++)
        xv[i] = (float) ((i * 31) % 17) / 17f;
    var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
    g.add_output ("y", g.matmul (x, g.@const (new Ane.Tensor.from_floats ("w", w_shape, wv)), false, false));
    Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", x_shape, xv) };
    float[] one = {};
    float[] two = {};
    for (uint t = 1; t <= 2; t++) {
        Ane.set_num_threads (t);
        if (Ane.get_num_threads () != t) {
            stderr.printf ("FAIL: get_num_threads () = %u after set_num_threads (%u)\n", Ane.get_num_threads (), t);
            failures++;
        }
        var exe = new Ane.Executable (g, Ane.Backend.CPU);
        exe.set_precision (Ane.Precision.FLOAT32);
        exe.compile ();
        if (t == 1)
            one = exe.run (inputs)[0].dup_floats ();
        else
            two = exe.run (inputs)[0].dup_floats ();
    }
    Ane.set_num_threads (0);
    if (Ane.get_num_threads () < 1) {
        stderr.printf ("FAIL: the default thread count is 0\n");
        failures++;
    }
    if (one.length != 512 || two.length != 512 || Memory.cmp (one, two, 512 * sizeof (float)) != 0) {
        stderr.printf ("FAIL: the 1-row product differs between 1 and 2 threads\n");
        failures++;
    }
}

/* Flexible input shapes: y = 2x over x [1, n] with n in 1..8, run on the
 * CPU backend at two lengths; a length outside the range is an Ane.Error. */
void test_flexible () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 1, 3 };
    var x = g.input ("x", Ane.DType.FLOAT32, x_shape);
    g.add_output ("y", g.add (x, x));
    g.set_input_range ("x", 1, 1, 8);

    var exe = new Ane.Executable (g, Ane.Backend.CPU);
    exe.set_precision (Ane.Precision.FLOAT32);
    exe.compile ();
    int64[] five = { 1, 5 };
    Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", five, { 1f, 2f, 3f, 4f, 5f }) };
    var outputs = exe.run (inputs);
    check_shape ("flexible y", outputs[0], five);
    check_values ("flexible y", outputs[0].dup_floats (), { 2f, 4f, 6f, 8f, 10f });

    int64[] nine = { 1, 9 };
    Ane.Tensor[] too_long = { new Ane.Tensor.from_floats ("x", nine, { 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f }) };
    try {
        exe.run (too_long);
        stderr.printf ("FAIL: a length outside the range ran\n");
        failures++;
    } catch (Ane.Error e) {
        if (!(e is Ane.Error.SHAPE)) {
            stderr.printf ("FAIL: outside the range: %s\n", e.message);
            failures++;
        }
    }

    /* a dynamic param: bound after compiling, read at the next run */
    var d = new Ane.Graph ();
    int64[] two = { 2 };
    var dx = d.input ("x", Ane.DType.FLOAT32, two);
    var dw = d.param_dynamic ("w", Ane.DType.FLOAT32, two);
    d.add_output ("y", d.mul (dx, dw));
    var dexe = new Ane.Executable (d, Ane.Backend.CPU);
    dexe.set_precision (Ane.Precision.FLOAT32);
    dexe.compile ();
    dexe.set_param ("w", new Ane.Tensor.from_floats ("w", two, { 3f, 4f }));
    Ane.Tensor[] dinputs = { new Ane.Tensor.from_floats ("x", two, { 1f, 2f }) };
    check_values ("dynamic param", dexe.run (dinputs)[0].dup_floats (), { 3f, 8f });

    /* gradients: d/dw of sum(x * w) is x */
    var gg = d.gradients ("y", { "w" });
    var gexe = new Ane.Executable (gg, Ane.Backend.REFERENCE);
    gexe.compile ();
    gexe.set_param ("w", new Ane.Tensor.from_floats ("w", two, { 3f, 4f }));
    var gout = gexe.run (dinputs);
    bool found = false;
    foreach (var t in gout)
        if (t.get_name () == "grad_w") {
            check_values ("grad_w", t.dup_floats (), { 1f, 2f });
            found = true;
        }
    if (!found) {
        stderr.printf ("FAIL: the gradient graph has no output grad_w\n");
        failures++;
    }

    int64[] shapes = { 1, 3, 1, 6 };
    var h = new Ane.Graph ();
    var hx = h.input ("x", Ane.DType.FLOAT32, x_shape);
    h.add_output ("y", h.relu (hx));
    h.set_input_shapes ("x", shapes);
}

int main () {
    try {
        test_flexible ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    try {
        test_num_threads ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    try {
        test_mlp_softmax ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    try {
        test_onnx_ops ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    try {
        test_cross_entropy ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    test_error_domain ();
    try {
        test_backends ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    test_compute_plan ();
    try {
        test_check_types ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }
    try {
        test_multifunction ();
    } catch (GLib.Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        failures++;
    }

    if (failures > 0) {
        stderr.printf ("%d failure(s)\n", failures);
        return 1;
    }
    print ("vala bindings: all checks passed\n");
    return 0;
}
