/* package.vala: write a graph as an .mlpackage and as MIL text, load both
 * back and run them, from Vala
 *
 *     y = gelu(x · W + b)
 *
 * The graph is lowered to a CoreML ML Program (Ane.Package.from_graph),
 * saved as an .mlpackage and as MIL text (weights in weights/weight.bin
 * beside it), loaded back, described (functions, inputs, metadata) and run
 * through Ane.Executable.from_package (the CPU interpreter of the lowered
 * program off Apple). Each run is checked against the graph itself on the
 * reference backend; a mismatch exits non-zero.
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 package.vala
 *
 * SPDX-License-Identifier: MIT
 */

const int ROWS = 2;
const int IN = 8;
const int OUT = 4;

float[] pattern (int n, float phase) {
    var v = new float[n];
    for (int i = 0; i < n; i++)
        v[i] = 0.5f * (float) Math.sin (phase + 0.9 * i);
    return v;
}

Ane.Graph build_graph () throws GLib.Error {
    var g = new Ane.Graph ();
    var x = g.input ("x", Ane.DType.FLOAT32, { ROWS, IN });
    var w = g.param_with_value (new Ane.Tensor.from_floats ("w", { IN, OUT }, pattern (IN * OUT, 0f)));
    var b = g.param_with_value (new Ane.Tensor.from_floats ("b", { OUT }, pattern (OUT, 1f)));
    g.add_output ("y", g.gelu (g.add (g.matmul (x, w, false, false), b), Ane.GeluApproximation.EXACT));
    return g;
}

/* The package run against the graph run: the package computes in float32
 * (Precision.FLOAT32), so only rounding separates them. */
bool same_values (string what, float[] got, float[] want) {
    if (got.length != want.length) {
        stderr.printf ("MISMATCH %s: %d values, expected %d\n", what, got.length, want.length);
        return false;
    }
    for (int i = 0; i < want.length; i++) {
        /* !(d <= tol) so that a NaN fails too */
        if (!(Math.fabsf (got[i] - want[i]) <= 1e-5f)) {
            stderr.printf ("MISMATCH %s[%d]: %.9g, the graph gives %.9g\n", what, i, got[i], want[i]);
            return false;
        }
    }
    return true;
}

void describe (Ane.Package pkg) throws GLib.Error {
    print ("%s: specification version %d, %" + uint64.FORMAT + " weight bytes\n",
           pkg.get_path () ?? "(in memory)", pkg.get_specification_version (), pkg.get_weight_bytes ());
    foreach (unowned string f in pkg.list_functions ()) {
        print ("  function %s (opset %s)\n", f, pkg.get_opset (f));
        var inputs = pkg.list_inputs (f);
        for (uint i = 0; i < inputs.length; i++)
            print ("    input %s\n", inputs[i].to_string ());
    }
    /* What the model description says about itself; this library, like
     * coremltools, leaves author and licence empty. */
    print ("  author: %s, licence: %s\n", pkg.get_author () ?? "(none)", pkg.get_license () ?? "(none)");
    var metadata = pkg.dup_metadata ();
    foreach (unowned string key in metadata.get_keys ())
        print ("  metadata %s = %s\n", key, metadata[key]);
}

int main (string[] args) {
    string? dir = null;
    try {
        var g = build_graph ();
        float[] x_values = pattern (ROWS * IN, 2f);
        Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", { ROWS, IN }, x_values) };

        var reference = new Ane.Executable (g, Ane.Backend.REFERENCE);
        reference.compile ();
        var want = reference.run (inputs)[0].dup_floats ();

        dir = GLib.DirUtils.make_tmp ("ane-package-vala-XXXXXX");
        var package_path = GLib.Path.build_filename (dir, "gelu.mlpackage");
        var mil_path = GLib.Path.build_filename (dir, "gelu.mil");
        var pkg = new Ane.Package.from_graph (g, Ane.Target.IOS18, Ane.Precision.FLOAT32);
        pkg.save (package_path, false);
        pkg.save_mil (mil_path, false);

        /* Saving again without overwrite is refused with an Ane.Error. */
        try {
            pkg.save (package_path, false);
            stderr.printf ("MISMATCH: saving over %s was not refused\n", package_path);
            return 1;
        } catch (Ane.Error e) {
            print ("refused as expected: %s\n", e.message);
        }

        Ane.Package[] loaded = { Ane.Package.load (package_path), Ane.Package.load_mil (mil_path) };
        foreach (var p in loaded) {
            describe (p);
            var exe = new Ane.Executable.from_package (p, null);
            var got = exe.run (inputs)[0].dup_floats ();
            if (!same_values (p.get_path () ?? "package", got, want))
                return 1;
        }
        if (loaded[0].to_mil_text () != loaded[1].to_mil_text ()) {
            stderr.printf ("MISMATCH: the .mlpackage and the MIL text hold different programs\n");
            return 1;
        }
        print ("the package and the MIL text run like the graph\n");
    } catch (GLib.Error e) {
        stderr.printf ("ane-glib failed: %s\n", e.message);
        return 1;
    } finally {
        if (dir != null)
            remove_tree (dir);
    }
    return 0;
}

void remove_tree (string path) {
    if (GLib.FileUtils.test (path, GLib.FileTest.IS_DIR) && !GLib.FileUtils.test (path, GLib.FileTest.IS_SYMLINK)) {
        try {
            var dir = GLib.Dir.open (path);
            unowned string? name;
            while ((name = dir.read_name ()) != null)
                remove_tree (GLib.Path.build_filename (path, name));
        } catch (GLib.FileError e) {
            stderr.printf ("cannot clean up %s: %s\n", path, e.message);
        }
    }
    GLib.FileUtils.remove (path);
}
