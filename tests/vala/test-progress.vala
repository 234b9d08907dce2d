/* test-progress.vala: Ane.Progress through the Vala bindings
 *
 * A lambda as the callback: lowering and saving report fractions that never
 * go back and end at 1.0; cancelling from the lambda at half-way makes the
 * save throw IOError.CANCELLED and leaves no package. Exits non-zero on any
 * mismatch.
 *
 * SPDX-License-Identifier: MIT
 */

int failures = 0;

void fail (string what) {
    stderr.printf ("FAIL: %s\n", what);
    failures++;
}

Ane.Graph big_graph () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] x_shape = { 1, 512 };
    int64[] w_shape = { 512, 512 };
    var y = g.input ("x", Ane.DType.FLOAT32, x_shape);
    for (int l = 0; l < 2; l++) {
        var v = new float[512 * 512];
        for (int i = 0; i < v.length; i++)
            v[i] = (float) ((i * 7 + l) % 13) / 13f;
        y = g.matmul (y, g.param_with_value (new Ane.Tensor.from_floats ("w%d".printf (l), w_shape, v)), false, false);
    }
    g.add_output ("y", y);
    return g;
}

void check_fractions (string what, double[] seen) {
    if (seen.length < 2) {
        fail ("%s: %d reports".printf (what, seen.length));
        return;
    }
    for (int i = 1; i < seen.length; i++)
        if (seen[i] < seen[i - 1])
            fail ("%s: fraction went back from %g to %g".printf (what, seen[i - 1], seen[i]));
    if (seen[seen.length - 1] != 1.0)
        fail ("%s: ended at %g".printf (what, seen[seen.length - 1]));
}

void test_progress () throws GLib.Error {
    double[] seen = {};
    var progress = new Ane.Progress ((p) => { seen += p.get_fraction (); });
    var pkg = new Ane.Package.from_graph_full (big_graph (), Ane.Target.IOS18, Ane.Precision.FLOAT16, progress);
    check_fractions ("lowering", seen);

    var dir = DirUtils.make_tmp ("ane-vala-progress-XXXXXX");
    var path = Path.build_filename (dir, "m.mlpackage");
    seen = {};
    pkg.save_full (path, false, progress);
    check_fractions ("save", seen);

    var other = Path.build_filename (dir, "n.mlpackage");
    var cancelling = new Ane.Progress ((p) => {
        if (p.get_fraction () >= 0.5)
            p.cancel ();
    });
    try {
        pkg.save_full (other, false, cancelling);
        fail ("a cancelled save succeeded");
    } catch (IOError.CANCELLED e) {
        /* expected */
    }
    if (FileUtils.test (other, FileTest.EXISTS))
        fail ("a cancelled save left " + other);

    /* clean up the one package that was saved */
    string[] argv = { "rm", "-rf", dir };
    Process.spawn_sync (null, argv, null, SpawnFlags.SEARCH_PATH, null);
}

int main () {
    try {
        test_progress ();
    } catch (GLib.Error e) {
        fail (e.message);
    }
    if (failures > 0) {
        stderr.printf ("%d failure(s)\n", failures);
        return 1;
    }
    print ("vala progress: all checks passed\n");
    return 0;
}
