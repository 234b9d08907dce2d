"""The ANE lint from Python: Ane.LintRule, Ane.LintReport from a package
(written from a graph built here, and one of Apple's conformance packages)
and from a graph, its JSON, and its errors.

The lint reads programs, not a device: every test runs on any machine."""

import json
import os
import re
import tempfile
import unittest

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane, GLib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFORMANCE = os.path.join(ROOT, "tests", "data", "conformance")
DOCS = os.path.join(ROOT, "docs", "ane-lint.md")

VERDICT_NAMES = {"ane", "ane-slow", "falls-back", "refused-private"}


def gather_graph():
    """fp16 in, a relu (stays on the ANE) and a gather (no ANE kernel)."""
    g = Ane.Graph()
    x = g.input("x", Ane.DType.FLOAT16, [1, 64])
    ids = g.input("ids", Ane.DType.INT32, [4])
    table = np.arange(64 * 32, dtype=np.float16).reshape(64, 32)
    t = Ane.Tensor.new_from_bytes("table", Ane.DType.FLOAT16, [64, 32], GLib.Bytes.new(table.tobytes()))
    g.add_output("h", g.relu(x))
    g.add_output("rows", g.gather(g.param_with_value(t), ids, 0))
    return g


def relu_graph():
    g = Ane.Graph()
    x = g.input("x", Ane.DType.FLOAT16, [1, 64])
    g.add_output("y", g.relu(x))
    return g


def op_indices(report, op_type):
    return [i for i in range(report.get_n_ops()) if report.get_op_type(i) == op_type]


class RuleTest(unittest.TestCase):
    def test_list_and_lookup(self):
        ids = Ane.LintRule.list()
        self.assertGreater(len(ids), 10)
        self.assertEqual(len(ids), len(set(ids)), "rule ids are unique")
        for rid in ids:
            rule = Ane.LintRule.lookup(rid)
            self.assertIsNotNone(rule, rid)
            self.assertEqual(rule.get_id(), rid)
            self.assertIsInstance(rule.get_severity(), Ane.LintSeverity)
            self.assertIsInstance(rule.get_scope(), Ane.LintScope)
            self.assertIsInstance(rule.get_confidence(), Ane.LintConfidence)
            for text in (rule.get_check(), rule.get_reason(), rule.get_source()):
                self.assertTrue(text, rid)
        self.assertIsNone(Ane.LintRule.lookup("no-such-rule"))

    def test_rule_fields(self):
        rule = Ane.LintRule.lookup("op-gather")
        self.assertEqual(rule.get_severity(), Ane.LintSeverity.FALLS_BACK)
        self.assertEqual(rule.get_scope(), Ane.LintScope.OP)
        self.assertIn("apple/ml-ane-transformers", rule.get_source())
        private = Ane.LintRule.lookup("private-states")
        self.assertEqual(private.get_severity(), Ane.LintSeverity.REFUSED_PRIVATE)
        self.assertEqual(private.get_scope(), Ane.LintScope.PROGRAM)

    def test_to_string(self):
        rule = Ane.LintRule.lookup("state-width")
        text = rule.to_string()
        self.assertTrue(text.startswith("state-width\n"), text)
        self.assertIn("  severity:   falls-back\n", text)
        self.assertIn("  scope:      program\n", text)
        self.assertIn("  source:     %s\n" % rule.get_source(), text)
        self.assertIn("  why:        %s\n" % rule.get_reason(), text)
        self.assertIn("(only with --private)", Ane.LintRule.lookup("private-tile").to_string())

    def test_enum_names(self):
        self.assertEqual(Ane.LintVerdict.to_string(Ane.LintVerdict.ANE_SLOW), "ane-slow")
        self.assertEqual(Ane.LintVerdict.to_string(Ane.LintVerdict.REFUSED_PRIVATE), "refused-private")
        self.assertEqual(Ane.LintSeverity.to_string(Ane.LintSeverity.FP16_UNSAFE), "fp16-unsafe")
        # ordered from best to worst, as the docs say
        self.assertLess(Ane.LintVerdict.ANE, Ane.LintVerdict.ANE_SLOW)
        self.assertLess(Ane.LintVerdict.ANE_SLOW, Ane.LintVerdict.FALLS_BACK)
        self.assertLess(Ane.LintVerdict.FALLS_BACK, Ane.LintVerdict.REFUSED_PRIVATE)

    def test_every_rule_documented(self):
        """docs/ane-lint.md has a section for every rule of the table."""
        with open(DOCS, encoding="utf-8") as f:
            text = f.read()
        headings = set(re.findall(r"^### `([a-z0-9-]+)`$", text, re.M))
        missing = [rid for rid in Ane.LintRule.list() if rid not in headings]
        self.assertEqual(missing, [], "rules without a section in docs/ane-lint.md")
        unknown = sorted(h for h in headings if Ane.LintRule.lookup(h) is None)
        self.assertEqual(unknown, [], "sections of docs/ane-lint.md for rules that do not exist")


    def test_documented_fields_match(self):
        """Each rule's section states the table's severity, scope, confidence
        and source."""
        with open(DOCS, encoding="utf-8") as f:
            sections = re.split(r"^### `([a-z0-9-]+)`$", f.read(), flags=re.M)
        text = dict(zip(sections[1::2], sections[2::2]))
        confidence = {Ane.LintConfidence.MEASURED: "measured on hardware by the source",
                      Ane.LintConfidence.DOCUMENTED: "documented by Apple",
                      Ane.LintConfidence.INFERRED: "inferred, not confirmed on hardware"}
        for rid in Ane.LintRule.list():
            rule = Ane.LintRule.lookup(rid)
            with self.subTest(rule=rid):
                self.assertIn("- **severity:** %s · **scope:** %s · **confidence:** %s\n" % (
                    Ane.LintSeverity.to_string(rule.get_severity()), rule.get_scope().value_nick,
                    confidence[rule.get_confidence()]), text.get(rid, ""))
                self.assertIn("- **source:** %s\n" % rule.get_source(), text.get(rid, ""))

class PackageLintTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def lint_written(self, graph, flags=Ane.LintFlags.NONE):
        """Writes graph as a package, loads it back and lints what was read."""
        path = os.path.join(self.dir.name, "m.mlpackage")
        Ane.Package.new_from_graph(graph, Ane.Target.IOS18, Ane.Precision.FLOAT16).save(path, True)
        return Ane.Package.load(path).lint(flags)

    def test_written_package(self):
        report = self.lint_written(gather_graph())
        self.assertIsInstance(report, Ane.LintReport)
        self.assertEqual(report.get_flags(), Ane.LintFlags.NONE)
        self.assertEqual(report.list_functions(), ["main"])
        self.assertEqual(report.get_verdict(), Ane.LintVerdict.FALLS_BACK)

        gathers = op_indices(report, "gather")
        self.assertEqual(len(gathers), 1)
        g = gathers[0]
        self.assertEqual(report.get_op_function(g), "main")
        self.assertEqual(report.get_op_verdict(g), Ane.LintVerdict.FALLS_BACK)
        self.assertIn("op-gather", report.get_op_rules(g))
        self.assertTrue(report.get_op_message(g))
        self.assertGreater(report.get_op_cost(g), 0)

        relus = op_indices(report, "relu")
        self.assertEqual(len(relus), 1)
        r = relus[0]
        self.assertEqual(report.get_op_verdict(r), Ane.LintVerdict.ANE)
        self.assertEqual(report.get_op_rules(r), [])
        self.assertEqual(report.get_op_message(r), "")

        self.assertEqual(report.count_rule("op-gather"), 1)
        self.assertEqual(report.count_rule("op-recurrent"), 0)
        self.assertGreaterEqual(report.count_ops(None, Ane.LintVerdict.FALLS_BACK), 1)
        self.assertEqual(report.count_ops("main", Ane.LintVerdict.FALLS_BACK),
                         report.count_ops(None, Ane.LintVerdict.FALLS_BACK))
        self.assertEqual(report.count_ops("nosuch", Ane.LintVerdict.ANE), 0)
        n = report.get_n_ops()
        self.assertEqual(sum(report.count_ops(None, v) for v in (
            Ane.LintVerdict.ANE, Ane.LintVerdict.ANE_SLOW,
            Ane.LintVerdict.FALLS_BACK, Ane.LintVerdict.REFUSED_PRIVATE)), n)

        share = report.get_ane_cost_share(None)
        self.assertGreater(share, 0.0)
        self.assertLess(share, 1.0)
        # the table, and the few scalars the lowering adds
        self.assertGreaterEqual(report.get_weight_bytes("main"), 64 * 32 * 2)
        self.assertLess(report.get_weight_bytes("main"), 64 * 32 * 2 + 64)
        self.assertEqual(report.get_weight_bytes(None), report.get_weight_bytes("main"))
        self.assertEqual(report.get_weight_bytes("nosuch"), 0)
        self.assertGreater(report.get_weight_budget(), 1 << 20)

    def test_findings(self):
        report = self.lint_written(gather_graph())
        n = report.get_n_findings()
        self.assertGreaterEqual(n, 1)
        rules = [report.get_finding_rule(i) for i in range(n)]
        self.assertIn("op-gather", rules)
        k = rules.index("op-gather")
        self.assertEqual(report.get_finding_function(k), "main")
        op = report.get_finding_op(k)
        self.assertEqual(report.get_op_type(op), "gather")
        self.assertIn(report.get_finding_message(k), report.get_op_message(op))
        for i in range(n):
            self.assertIsNotNone(Ane.LintRule.lookup(report.get_finding_rule(i)))

    def test_summary_and_text(self):
        report = self.lint_written(gather_graph())
        summary = report.get_summary()
        self.assertNotIn("\n", summary)
        self.assertRegex(summary, r"^\d+ of %d ops stay on the ANE" % report.get_n_ops())
        self.assertRegex(summary, r"; \d+ fall back \([^)]*\bgather\b")
        text = report.to_string()
        self.assertTrue(text.startswith("function main\n"), text)
        self.assertRegex(text, r"falls-back +op-gather +1 op   on gather: ")
        self.assertIn(summary, text)

    def test_json(self):
        report = self.lint_written(gather_graph())
        doc = json.loads(report.to_json())
        for key in ("verdict", "summary", "private", "weight_budget", "functions", "ops", "rules"):
            self.assertIn(key, doc)
        self.assertEqual(doc["verdict"], "falls-back")
        self.assertEqual(doc["summary"], report.get_summary())
        self.assertIs(doc["private"], False)
        self.assertEqual(doc["weight_budget"], report.get_weight_budget())

        self.assertEqual([f["name"] for f in doc["functions"]], ["main"])
        fn = doc["functions"][0]
        for key in ("ops", "ops_ane", "ops_ane_slow", "ops_falls_back", "ops_refused_private",
                    "ane_cost_share", "weight_bytes", "summary", "findings"):
            self.assertIn(key, fn)
        self.assertEqual(fn["ops"], report.get_n_ops())
        self.assertEqual(fn["ops_falls_back"], report.count_ops("main", Ane.LintVerdict.FALLS_BACK))
        self.assertAlmostEqual(fn["ane_cost_share"], report.get_ane_cost_share("main"))
        self.assertEqual(fn["weight_bytes"], report.get_weight_bytes("main"))

        self.assertEqual(len(doc["ops"]), report.get_n_ops())
        for i, op in enumerate(doc["ops"]):
            self.assertEqual(op["index"], i)
            self.assertEqual(op["function"], report.get_op_function(i))
            self.assertEqual(op["type"], report.get_op_type(i))
            self.assertEqual(op["name"], report.get_op_name(i))
            self.assertEqual(op["verdict"], Ane.LintVerdict.to_string(report.get_op_verdict(i)))
            self.assertIn(op["verdict"], VERDICT_NAMES)
            self.assertEqual(op["rules"], report.get_op_rules(i))
            self.assertEqual(op["message"], report.get_op_message(i))
            self.assertAlmostEqual(op["cost"], report.get_op_cost(i))

        fired = {r["id"]: r for r in doc["rules"]}
        self.assertIn("op-gather", fired)
        self.assertEqual(fired["op-gather"]["severity"], "falls-back")
        self.assertEqual(fired["op-gather"]["source"], Ane.LintRule.lookup("op-gather").get_source())
        self.assertEqual(fired["op-gather"]["reason"], Ane.LintRule.lookup("op-gather").get_reason())

    def test_clean_package(self):
        report = self.lint_written(relu_graph())
        self.assertEqual(report.get_verdict(), Ane.LintVerdict.ANE)
        self.assertEqual(report.get_n_findings(), 0)
        self.assertEqual(report.get_ane_cost_share(None), 1.0)
        self.assertEqual(json.loads(report.to_json())["rules"], [])

    def test_conformance_fp32(self):
        """Apple's coremltools wrote this fp32 MLP: every op computes in fp32."""
        pkg = Ane.Package.load(os.path.join(CONFORMANCE, "mlp_fp32", "model.mlpackage"))
        report = pkg.lint(Ane.LintFlags.NONE)
        self.assertEqual(report.get_verdict(), Ane.LintVerdict.FALLS_BACK)
        self.assertGreater(report.get_n_ops(), 0)
        for i in range(report.get_n_ops()):
            self.assertEqual(report.get_op_verdict(i), Ane.LintVerdict.FALLS_BACK, report.get_op_name(i))
            self.assertIn("fp32-compute", report.get_op_rules(i))
        linears = op_indices(report, "linear")
        self.assertEqual(len(linears), 2)
        for i in linears:
            self.assertEqual(report.get_op_rules(i), ["fp32-compute", "linear-not-conv"])
        self.assertEqual(report.get_ane_cost_share(None), 0.0)

    def test_conformance_fp16(self):
        pkg = Ane.Package.load(os.path.join(CONFORMANCE, "mlp_fp16", "model.mlpackage"))
        report = pkg.lint(Ane.LintFlags.NONE)
        self.assertEqual(report.get_verdict(), Ane.LintVerdict.ANE_SLOW)
        self.assertEqual(report.count_rule("fp32-compute"), 0)
        self.assertEqual(report.count_rule("linear-not-conv"), 2)
        self.assertEqual(report.get_ane_cost_share(None), 1.0)

    def test_private_flag(self):
        """States are a program-wide finding: a function, not an op (-1)."""
        pkg = Ane.Package.load(os.path.join(CONFORMANCE, "stateful_kv_ios18", "model.mlpackage"))
        public = pkg.lint(Ane.LintFlags.NONE)
        self.assertEqual(public.count_rule("private-states"), 0)
        private = pkg.lint(Ane.LintFlags.PRIVATE)
        self.assertEqual(private.get_flags(), Ane.LintFlags.PRIVATE)
        self.assertEqual(private.count_rule("private-states"), 1)
        self.assertEqual(private.get_verdict(), Ane.LintVerdict.REFUSED_PRIVATE)
        self.assertNotEqual(public.get_verdict(), private.get_verdict())
        k = [private.get_finding_rule(i) for i in range(private.get_n_findings())].index("private-states")
        self.assertEqual(private.get_finding_op(k), -1)
        self.assertIs(json.loads(private.to_json())["private"], True)


class OverrideTest(unittest.TestCase):
    """python/gi/overrides/Ane.py: a report's rows as named tuples."""

    def test_ops(self):
        report = gather_graph().lint(Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE)
        ops = report.ops()
        self.assertEqual(len(ops), report.get_n_ops())
        for i, op in enumerate(ops):
            self.assertIsInstance(op, Ane.LintOp)
            self.assertEqual(op, (report.get_op_function(i), report.get_op_type(i), report.get_op_name(i),
                                  report.get_op_verdict(i), report.get_op_rules(i),
                                  report.get_op_message(i), report.get_op_cost(i)))
        gather = [op for op in ops if op.type == "gather"]
        self.assertEqual(len(gather), 1)
        self.assertEqual(gather[0].verdict, Ane.LintVerdict.FALLS_BACK)
        self.assertIn("op-gather", gather[0].rules)
        self.assertEqual([op.rules for op in ops if op.type == "relu"], [[]])

    def test_findings(self):
        pkg = Ane.Package.load(os.path.join(CONFORMANCE, "stateful_kv_ios18", "model.mlpackage"))
        report = pkg.lint(Ane.LintFlags.PRIVATE)
        findings = report.findings()
        self.assertEqual(len(findings), report.get_n_findings())
        self.assertIsInstance(findings[0], Ane.LintFinding)
        states = [f for f in findings if f.rule == "private-states"]
        self.assertEqual(len(states), 1)
        self.assertEqual(states[0].function, "main")
        self.assertEqual(states[0].op, -1)
        self.assertIn("1 state", states[0].message)


class GraphLintTest(unittest.TestCase):
    def test_graph_lint(self):
        report = gather_graph().lint(Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE)
        self.assertEqual(report.get_verdict(), Ane.LintVerdict.FALLS_BACK)
        self.assertEqual(report.count_rule("op-gather"), 1)

    def test_precision_decides(self):
        """The same graph computed in fp32 leaves the ANE; in fp16 it stays."""
        fp16 = relu_graph().lint(Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE)
        fp32 = relu_graph().lint(Ane.Target.IOS18, Ane.Precision.FLOAT32, Ane.LintFlags.NONE)
        self.assertEqual(fp16.get_verdict(), Ane.LintVerdict.ANE)
        self.assertEqual(fp32.get_verdict(), Ane.LintVerdict.FALLS_BACK)
        self.assertGreater(fp32.count_rule("fp32-compute"), 0)

    def test_graph_without_outputs(self):
        g = Ane.Graph()
        g.input("x", Ane.DType.FLOAT16, [1, 64])
        with self.assertRaises(GLib.Error) as cm:
            g.lint(Ane.Target.IOS18, Ane.Precision.FLOAT16, Ane.LintFlags.NONE)
        self.assertEqual(cm.exception.domain, GLib.quark_to_string(Ane.error_quark()))
        self.assertTrue(cm.exception.matches(Ane.error_quark(), Ane.Error.INVALID_GRAPH), cm.exception.message)
        self.assertIn("no outputs", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
