/* test-onnx.vala: ONNX import through the Vala bindings
 *
 * Imports PaddleOCR's text-direction classifier (path given as argument)
 * with its symbolic dims bound by Ane.OnnxImportOptions, checks the
 * interface, runs it on the CPU backend (two class probabilities summing
 * to 1), and checks the error an unbound symbolic dim gives. Exits
 * non-zero on any mismatch.
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

int main (string[] args) {
    if (args.length < 2) {
        stderr.printf ("usage: test-onnx-vala MODEL.onnx\n");
        return 2;
    }
    var options = new Ane.OnnxImportOptions ();
    int64[] shape = { 1, 3, 48, 192 };
    options.set_input_shape ("x", shape);
    check (options.list_inputs ().length == 1, "one binding");

    try {
        Ane.Graph graph = Ane.Graph.load_onnx (args[1], options);
        var inputs = graph.list_inputs ();
        check (inputs.length == 1, "one input");
        check (inputs[0].get_name () == "x", "input name");
        var outputs = graph.list_outputs ();
        check (outputs[0].get_name () == "softmax_0_tmp_0", "output name made a MIL identifier");

        var exe = new Ane.Executable (graph, Ane.Backend.CPU);
        exe.set_precision (Ane.Precision.FLOAT32);
        exe.compile (null);
        float[] pixels = new float[3 * 48 * 192];
        for (int i = 0; i < pixels.length; i++)
            pixels[i] = (float) ((i % 97) / 48.0 - 1.0);
        var x = new Ane.Tensor.from_floats ("x", shape, pixels);
        Ane.Tensor[] feeds = { x };
        var results = exe.run (feeds, null);
        var probs = results[0];
        double sum = probs.get_value (0) + probs.get_value (1);
        check (probs.get_n_elements () == 2, "two classes");
        check (Math.fabs (sum - 1.0) < 1e-5, "probabilities sum to 1");
    } catch (Error e) {
        check (false, "import and run: " + e.message);
    }

    try {
        Ane.Graph.load_onnx (args[1], null);
        check (false, "an unbound symbolic dim is refused");
    } catch (Error e) {
        check (e is Ane.Error.SHAPE, "SHAPE error");
        check (e.message.contains ("p2o.DynamicDimension.0"), "the message names the dim");
    }
    if (failures > 0)
        return 1;
    stdout.printf ("ok\n");
    return 0;
}
