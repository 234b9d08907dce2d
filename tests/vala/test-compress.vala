/* test-compress.vala: weight compression (issue 16) through the Vala bindings
 *
 * A two-layer MLP packaged for iOS18 is palettized (4-bit tables per group
 * of 8 output channels) with an override that keeps its second weight as it
 * is; the report names one palettized weight and one left alone, and the
 * compressed package runs on the CPU backend close to the float one. 4-bit
 * quantization of the iOS16 package is refused naming the op and the
 * target. Exits non-zero on any mismatch.
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
        values[i] = (float) Math.sin (0.37 * i + 0.01 * i * i) * 0.25f;
    int64[] shape = { rows, cols };
    return new Ane.Tensor.from_floats (name, shape, values);
}

Ane.Graph mlp () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] shape = { 2, 64 };
    var x = g.input ("x", Ane.DType.FLOAT32, shape);
    /* 96 x 64 and 32 x 96: above coremltools' 2048 elements, divided by 8 */
    var w1 = g.param_with_value (weight ("w_up", 96, 64));
    var w2 = g.param_with_value (weight ("w_down", 32, 96));
    g.add_output ("y", g.matmul (g.relu (g.matmul (x, w1, false, true)), w2, false, true));
    return g;
}

float[] run (Ane.Package package) throws GLib.Error {
    int64[] shape = { 2, 64 };
    var values = new float[2 * 64];
    for (int i = 0; i < values.length; i++)
        values[i] = (float) Math.cos (0.11 * i);
    var exe = new Ane.Executable.from_package_full (package, null, Ane.Backend.CPU);
    exe.compile (null);
    Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", shape, values) };
    var outputs = exe.run (inputs, null);
    return outputs[0].dup_floats ();
}

void test_palettize () throws GLib.Error {
    var package = new Ane.Package.from_graph (mlp (), Ane.Target.IOS18, Ane.Precision.FLOAT16);
    var config = new Ane.CompressConfig.palettize (4);
    config.set_granularity (Ane.CompressGranularity.GROUPED_CHANNEL, 8);
    var keep = new Ane.CompressConfig.skip ();
    keep.set_select ("w_down*");
    config.add_override (keep);
    check (config.to_string ().contains ("4-bit"), "config text: " + config.to_string ());

    var small = package.compress (config, null, null);
    unowned Ane.CompressReport? report = small.get_compression_report ();
    check (report != null, "a compressed package has a report");
    check (package.get_compression_report () == null, "the source has none");
    unowned GLib.GenericArray<Ane.CompressedWeight> weights = report.get_weights ();
    int palettized = 0;
    for (int i = 0; i < weights.length; i++) {
        unowned Ane.CompressedWeight w = weights[i];
        check (!w.name.has_prefix ("w_down"), "w_down is exempt: " + w.name);
        if (w.mode == "palettize") {
            palettized++;
            check (w.name.has_prefix ("w_up"), "the palettized weight: " + w.name);
            check (w.bits == 4, "4 bits");
            check (w.bytes_after * 3 < w.bytes_before, "4-bit indices are under a third of fp16");
            check (w.max_error > 0 && w.rms_error <= w.max_error, "errors");
        }
    }
    check (palettized == 1, "one weight palettized");
    check (report.get_bytes_after () < report.get_bytes_before (), "smaller");
    check (report.get_ratio () > 0.0 && report.get_ratio () < 1.0, "ratio");
    check (report.to_json ().contains ("\"palettize\""), "json");
    check (small.to_mil_text ().contains ("constexpr_lut_to_dense"), "the op");
    check (small.dup_metadata ().contains ("com.github.ane-glib.compression"), "the note");

    float[] want = run (package);
    float[] got = run (small);
    check (want.length == got.length, "output sizes");
    float largest = 0, diff = 0;
    for (int i = 0; i < want.length && i < got.length; i++) {
        largest = float.max (largest, Math.fabsf (want[i]));
        diff = float.max (diff, Math.fabsf (want[i] - got[i]));
    }
    /* a 4-bit table on one layer: within a fifth of the output's range */
    check (diff > 0 && diff < 0.2f * largest, "palettized output %g of %g".printf (diff, largest));
}

void test_refusal () throws GLib.Error {
    var package = new Ane.Package.from_graph (mlp (), Ane.Target.IOS16, Ane.Precision.FLOAT16);
    var config = new Ane.CompressConfig.quantize (4, true);
    try {
        package.compress (config, null, null);
        check (false, "int4 on iOS16 must fail");
    } catch (Ane.Error e) {
        check (e is Ane.Error.UNSUPPORTED, "UNSUPPORTED");
        check (e.message.contains ("constexpr_blockwise_shift_scale") && e.message.contains ("iOS18"),
               "the op and the target: " + e.message);
    }
}

int main () {
    try {
        test_palettize ();
        test_refusal ();
    } catch (GLib.Error e) {
        stderr.printf ("error: %s\n", e.message);
        return 1;
    }
    if (failures == 0)
        print ("ok\n");
    return failures == 0 ? 0 : 1;
}
