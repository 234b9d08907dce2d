/* test-api.vala: the API of issue 12 through the Vala bindings
 *
 * The version getters against the header's constants, the properties of
 * Ane.Executable and Ane.Package (with notify), and the async package calls
 * as Vala async methods (yield) driven by a MainLoop. Exits non-zero on any
 * mismatch.
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

void test_version () {
    check (Ane.get_major_version () == Ane.MAJOR_VERSION, "major version");
    check (Ane.get_minor_version () == Ane.MINOR_VERSION, "minor version");
    check (Ane.get_micro_version () == Ane.MICRO_VERSION, "micro version");
}

void test_properties () throws GLib.Error {
    var exe = new Ane.Executable (small_graph (), Ane.Backend.CPU);
    string[] seen = {};
    exe.notify.connect ((obj, pspec) => { seen += pspec.name; });

    check (exe.backend == Ane.Backend.CPU, "backend");
    check (exe.target == Ane.Target.IOS18, "default target");
    exe.target = Ane.Target.IOS18;      /* unchanged: no notify */
    check (seen.length == 0, "no notify for an unchanged target");
    exe.target = Ane.Target.IOS16;
    exe.precision = Ane.Precision.FLOAT32;
    exe.memory_budget = 4096;
    check (!exe.quantize_activations, "activations stay float by default");
    exe.quantize_activations = true;
    check (seen.length == 4 && seen[0] == "target" && seen[1] == "precision" && seen[2] == "memory-budget" &&
           seen[3] == "quantize-activations", "one notify per changed property");
    check (exe.get_target () == Ane.Target.IOS16, "target set through the property");
    check (exe.get_memory_budget () == 4096, "memory budget set through the property");
    check (exe.get_quantize_activations (), "quantize-activations set through the property");

    var pkg = new Ane.Package.from_graph (small_graph (), Ane.Target.IOS17, Ane.Precision.FLOAT16);
    check (pkg.functions.length == 1 && pkg.functions[0] == "main", "package functions");
    check (pkg.weight_bytes == pkg.get_weight_bytes (), "package weight-bytes");
    check (pkg.path == null, "no path in memory");
}

async void test_async (string dir) {
    try {
        var graph = small_graph ();
        var pkg = yield new Ane.Package.from_graph_async (graph, Ane.Target.IOS17, Ane.Precision.FLOAT16, null);
        var sync = new Ane.Package.from_graph (graph, Ane.Target.IOS17, Ane.Precision.FLOAT16);
        check (pkg.to_mil_text () == sync.to_mil_text (), "async package is the sync one");

        var path = Path.build_filename (dir, "small.mlpackage");
        check (yield pkg.save_async (path, false, null), "save_async");
        var loaded = yield Ane.Package.load_async (path, null);
        check (loaded.path == path, "load_async path");
        check (loaded.to_string () == Ane.Package.load (path).to_string (), "load_async is load");

        var cancellable = new Cancellable ();
        cancellable.cancel ();
        try {
            yield Ane.Package.load_async (path, cancellable);
            check (false, "a cancelled load_async fails");
        } catch (IOError.CANCELLED e) {
        }
    } catch (GLib.Error e) {
        check (false, "async: " + e.message);
    }
}

void remove_tree (string path) {
    if (FileUtils.test (path, FileTest.IS_DIR) && !FileUtils.test (path, FileTest.IS_SYMLINK)) {
        try {
            var d = Dir.open (path);
            unowned string? name;
            while ((name = d.read_name ()) != null)
                remove_tree (Path.build_filename (path, name));
        } catch (FileError e) {
        }
        DirUtils.remove (path);
    } else {
        FileUtils.remove (path);
    }
}

int main () {
    try {
        test_version ();
        test_properties ();
    } catch (GLib.Error e) {
        check (false, e.message);
    }

    string dir;
    try {
        dir = DirUtils.make_tmp ("ane-vala-api-XXXXXX");
    } catch (FileError e) {
        stderr.printf ("FAIL tmp dir: %s\n", e.message);
        return 1;
    }
    var loop = new MainLoop ();
    test_async.begin (dir, (obj, res) => {
        test_async.end (res);
        loop.quit ();
    });
    loop.run ();
    remove_tree (dir);
    return failures == 0 ? 0 : 1;
}
