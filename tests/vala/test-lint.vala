/* test-lint.vala: the ANE lint through the Vala bindings
 *
 * Lints Apple's fp16 and fp32 MLP conformance packages (given as arguments)
 * and a graph built here, reads verdicts, the rules that fired per op
 * (a NULL-terminated string array), findings, JSON, and looks rules up.
 * Exits non-zero on any mismatch.
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

bool has (string[] ids, string id) {
    foreach (unowned string s in ids)
        if (s == id)
            return true;
    return false;
}

void test_rules () {
    string[] ids = Ane.LintRule.list ();
    check (ids.length > 10, "rule list");
    check (has (ids, "state-width"), "state-width listed");
    foreach (unowned string id in ids) {
        unowned Ane.LintRule? rule = Ane.LintRule.lookup (id);
        check (rule != null && rule.get_id () == id, "lookup " + id);
    }
    unowned Ane.LintRule? gather = Ane.LintRule.lookup ("op-gather");
    check (gather != null, "op-gather exists");
    if (gather != null) {
        check (gather.get_severity () == Ane.LintSeverity.FALLS_BACK, "op-gather falls back");
        check (gather.get_scope () == Ane.LintScope.OP, "op-gather is about an op");
        check (gather.get_source ().contains ("apple/ml-ane-transformers"), "op-gather source");
        check (gather.to_string ().has_prefix ("op-gather\n"), "op-gather to_string");
    }
    check (Ane.LintRule.lookup ("no-such-rule") == null, "unknown rule");
    check (Ane.LintVerdict.FALLS_BACK.to_string () == "falls-back", "verdict name");
    check (Ane.LintSeverity.FP16_UNSAFE.to_string () == "fp16-unsafe", "severity name");
}

void test_packages (string fp16_path, string fp32_path) throws GLib.Error {
    var fp32 = Ane.Package.load (fp32_path).lint (Ane.LintFlags.NONE);
    check (fp32.get_verdict () == Ane.LintVerdict.FALLS_BACK, "fp32 MLP falls back");
    check (fp32.get_n_ops () == 4, "fp32 MLP has 4 compute ops");
    uint linears = 0;
    for (uint i = 0; i < fp32.get_n_ops (); i++) {
        unowned string[] rules = fp32.get_op_rules (i);
        check (has (rules, "fp32-compute"), "fp32-compute on " + fp32.get_op_name (i));
        if (fp32.get_op_type (i) == "linear") {
            linears++;
            check (rules.length == 2 && rules[1] == "linear-not-conv", "linear rules");
        }
    }
    check (linears == 2, "two linears");
    check (fp32.count_ops (null, Ane.LintVerdict.FALLS_BACK) == 4, "count_ops");
    check (fp32.get_ane_cost_share (null) == 0.0, "cost share 0");
    check (fp32.to_json ().contains ("\"verdict\" : \"falls-back\""), "JSON verdict");

    var fp16 = Ane.Package.load (fp16_path).lint (Ane.LintFlags.NONE);
    check (fp16.get_verdict () == Ane.LintVerdict.ANE_SLOW, "fp16 MLP stays on the ANE, slowly");
    check (fp16.count_rule ("fp32-compute") == 0, "no fp32 compute in fp16");

    var private_path = Ane.Package.load (fp16_path).lint (Ane.LintFlags.PRIVATE);
    check (private_path.get_verdict () == Ane.LintVerdict.REFUSED_PRIVATE, "fp32 interface refused privately");
    bool program_wide = false;
    for (uint k = 0; k < private_path.get_n_findings (); k++)
        if (private_path.get_finding_rule (k) == "private-io-layout")
            program_wide = private_path.get_finding_op (k) == -1;
    check (program_wide, "private-io-layout is about the function");
}

void test_graph () throws GLib.Error {
    var g = new Ane.Graph ();
    int64[] shape = { 1, 64 };
    var x = g.input ("x", Ane.DType.FLOAT16, shape);
    g.add_output ("y", g.relu (x));
    var report = g.lint (Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE);
    check (report.get_verdict () == Ane.LintVerdict.ANE, "relu stays on the ANE");
    check (report.get_n_findings () == 0, "no findings");
    string[] functions = report.list_functions ();
    check (functions.length == 1 && functions[0] == "main", "functions");

    try {
        new Ane.Graph ().lint (Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE);
        check (false, "a graph without outputs is refused");
    } catch (Ane.Error.INVALID_GRAPH e) {
        check (e.message.contains ("no outputs"), "error names the problem");
    }
}

int main (string[] args) {
    if (args.length != 3) {
        stderr.printf ("usage: %s MLP_FP16.mlpackage MLP_FP32.mlpackage\n", args[0]);
        return 2;
    }
    test_rules ();
    try {
        test_packages (args[1], args[2]);
        test_graph ();
    } catch (GLib.Error e) {
        check (false, e.message);
    }
    return failures == 0 ? 0 : 1;
}
