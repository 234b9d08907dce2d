/* probe.vala: what this machine offers, and where a program would run,
 * from Vala
 *
 * Prints the chip and OS (Ane.chip_info), whether the Apple backends are
 * built in (Ane.available), compiles a tiny program (x → relu → + 1) with
 * Backend.AUTO and prints why it landed where it did
 * (Executable.dup_backend_report), and asks CoreML for its per-op compute
 * plan of the program's package (Ane.ComputePlan, macOS 14.4 / iOS 17.4).
 * Checks: AUTO's result equals plain Vala's and the CPU backend's; the chip
 * report names the OS; the compute plan covers every op on Apple and is
 * Ane.Error.UNSUPPORTED elsewhere. A mismatch exits non-zero.
 *
 * Build against the installed library:
 *     valac --pkg ane-glib-1.0 probe.vala
 *
 * SPDX-License-Identifier: MIT
 */

const int WIDTH = 8;

float[] run_on (Ane.Graph g, Ane.Backend backend, float[] xs, out string report) throws GLib.Error {
    var exe = new Ane.Executable (g, backend);
    exe.compile ();
    report = exe.dup_backend_report ();
    Ane.Tensor[] inputs = { new Ane.Tensor.from_floats ("x", { 1, WIDTH }, xs) };
    return exe.run (inputs)[0].dup_floats ();
}

int main () {
    string? dir = null;
    try {
        unowned Ane.ChipInfo chip = Ane.chip_info ();
        var chip_report = chip.dup_report ();
        print ("%s", chip_report);
        if (!chip_report.contains (chip.get_os_name ())) {
            stderr.printf ("MISMATCH: the chip report does not name the OS '%s'\n", chip.get_os_name ());
            return 1;
        }
        print ("Apple backends built in: %s\n", Ane.available () ? "yes" : "no");

        var g = new Ane.Graph ();
        var x = g.input ("x", Ane.DType.FLOAT32, { 1, WIDTH });
        g.add_output ("y", g.add (g.relu (x), g.scalar (Ane.DType.FLOAT32, 1)));

        var xs = new float[WIDTH];
        for (int i = 0; i < WIDTH; i++)
            xs[i] = i - WIDTH / 2;
        string auto_report, cpu_report;
        var auto = run_on (g, Ane.Backend.AUTO, xs, out auto_report);
        var cpu = run_on (g, Ane.Backend.CPU, xs, out cpu_report);
        print ("auto:\n%s", auto_report);
        for (int i = 0; i < WIDTH; i++) {
            float want = float.max (xs[i], 0) + 1;
            /* small integers: exact in fp16 as in fp32; !(d <= 0) fails a NaN */
            if (!(Math.fabsf (auto[i] - want) <= 0) || !(Math.fabsf (cpu[i] - want) <= 0)) {
                stderr.printf ("MISMATCH y[%d]: auto %g, cpu %g, expected %g\n", i, auto[i], cpu[i], want);
                return 1;
            }
        }

        dir = GLib.DirUtils.make_tmp ("ane-probe-vala-XXXXXX");
        var path = GLib.Path.build_filename (dir, "tiny.mlpackage");
        new Ane.Package.from_graph (g, Ane.Target.IOS18, Ane.Precision.FLOAT16).save (path, false);
        try {
            var plan = new Ane.ComputePlan.for_package (path, Ane.ComputeUnits.ALL);
            print ("%s", plan.to_string ());
            if (plan.get_n_operations () == 0) {
                stderr.printf ("MISMATCH: the compute plan has no operations\n");
                return 1;
            }
        } catch (Ane.Error e) {
            if (Ane.available () || !(e is Ane.Error.UNSUPPORTED)) {
                stderr.printf ("MISMATCH: compute plan failed: %s\n", e.message);
                return 1;
            }
            print ("compute plan: %s\n", e.message);
        }
        print ("probe done\n");
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
