"""ane-tool from a shell user's point of view, and MIL text / package
round trips through the public API (PyGObject)."""

import os
import subprocess
import tempfile
import unittest

import numpy as np

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane, GLib

TOOL = os.environ.get("ANE_TOOL")


def tool(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=120)


def small_graph(path):
    g = Ane.Graph()
    x = g.input("x", Ane.DType.FLOAT32, [2, 16])
    w = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    wt = Ane.Tensor.new_from_bytes("w", Ane.DType.FLOAT32, [16, 8], GLib.Bytes.new(w.tobytes()))
    h = g.matmul(x, g.param_with_value(wt), False, False)
    g.add_output("y", g.gelu(h, Ane.GeluApproximation.EXACT))
    g.save(path)
    return w


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class ToolTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.graph = os.path.join(self.dir.name, "g.json")
        self.w = small_graph(self.graph)

    def tearDown(self):
        self.dir.cleanup()

    def test_help(self):
        r = tool("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("convert", "inspect", "mil", "dot"):
            self.assertIn(cmd, r.stdout)
            h = tool(cmd, "--help")
            self.assertEqual(h.returncode, 0, cmd)
            self.assertIn("Usage", h.stdout)

    def test_usage_errors(self):
        self.assertEqual(tool().returncode, 2)
        r = tool("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        r = tool("convert", self.graph)
        self.assertEqual(r.returncode, 2)
        r = tool("convert", self.graph, "-o", "x.mlpackage", "--target", "ios99")
        self.assertEqual(r.returncode, 2)
        self.assertIn("ios99", r.stderr)

    def test_convert_inspect_mil_dot(self):
        pkg = os.path.join(self.dir.name, "m.mlpackage")
        mil = os.path.join(self.dir.name, "text", "model.mil")
        os.makedirs(os.path.dirname(mil))
        r = tool("convert", self.graph, "-o", pkg, "--mil", mil, "--target", "ios17", "--precision", "fp32")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(pkg, "Manifest.json")))
        self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(mil), "weights", "weight.bin")))

        r = tool("inspect", pkg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("specification version: 8", r.stdout)
        self.assertIn("x: float32[2,16]", r.stdout)
        self.assertIn("matmul", r.stdout)

        r = tool("mil", mil)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("program(1.3)"))
        self.assertIn("func main<ios17>", r.stdout)
        self.assertIn("BLOBFILE", r.stdout)

        r = tool("inspect", self.graph)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("params bound: 1 of 1", r.stdout)

        for path in (self.graph, pkg):
            r = tool("dot", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith("digraph"))

        # refusing to overwrite, then overwriting
        r = tool("convert", self.graph, "-o", pkg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        r = tool("convert", self.graph, "-o", pkg, "--overwrite")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_convert_progress_not_a_tty(self):
        # stderr is a pipe here: one plain line per stage, no \r redraws
        pkg = os.path.join(self.dir.name, "p.mlpackage")
        r = tool("convert", self.graph, "-o", pkg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\r", r.stderr)
        self.assertEqual(r.stderr.splitlines(), ["lowering", "writing weights", "writing model"])
        self.assertIn("wrote " + pkg, r.stdout)

    def test_convert_progress_on_a_terminal(self):
        # stderr is a pseudo-terminal: one line redrawn with \r, ended by a
        # newline at 100%, the weights' bytes in MB
        pkg = os.path.join(self.dir.name, "t.mlpackage")
        master, slave = os.openpty()
        try:
            p = subprocess.run([TOOL, "convert", self.graph, "-o", pkg], stdout=subprocess.PIPE,
                               stderr=slave, timeout=120)
            os.close(slave)
            slave = None
            err = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:   # EIO once the terminal's other side is closed and drained
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0, err)
        err = err.decode()
        self.assertIn("\rlowering [", err)
        self.assertIn("\rwriting weights [", err)
        self.assertRegex(err, r"writing model \[#{20}\] 100%  \d+\.\d/\d+\.\d MB")
        self.assertIn(" MB", err)
        # each operation's line ends once, at its 100%
        self.assertEqual(err.count("100%"), 2, err)

    def test_bad_input(self):
        bad = os.path.join(self.dir.name, "bad.json")
        with open(bad, "w") as f:
            f.write("{ not json")
        r = tool("convert", bad, "-o", os.path.join(self.dir.name, "o.mlpackage"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.json", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "o.mlpackage")))


MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "models")


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class GenerateBackendTest(unittest.TestCase):
    """`ane-tool generate --backend`: AUTO generates what the backend it lands on does."""

    def generate(self, backend):
        return tool("generate", os.path.join(MODELS, "stories260K.bin"),
                    "--tokenizer", os.path.join(MODELS, "tok512.bin"),
                    "--prompt", "Once upon a time", "-n", "20", "--backend", backend)

    def test_auto_matches_cpu(self):
        cpu, auto = self.generate("cpu"), self.generate("auto")
        self.assertEqual(cpu.returncode, 0, cpu.stderr)
        self.assertEqual(auto.returncode, 0, auto.stderr)
        if not Ane.available():
            # off Apple AUTO lands on the CPU (the decode step has states: never the ANE path)
            self.assertEqual(auto.stdout, cpu.stdout)

    def test_progress_not_a_tty(self):
        # stdout and stderr are pipes: the story (prompt first) on stdout
        # alone, a plain line per stage then the figures on stderr
        r = self.generate("cpu")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\r", r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(lines[:2], ["compiling", "generating"], r.stderr)
        self.assertEqual(len(lines), 3, r.stderr)
        self.assertIn("tokens", lines[2])
        self.assertTrue(r.stdout.startswith("Once upon a time"), r.stdout)

    def test_unknown_backend(self):
        r = self.generate("gpu")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown backend 'gpu'", r.stderr)

    @unittest.skipIf(Ane.available(), "checks a platform without the Apple backends")
    def test_apple_backend_off_apple(self):
        r = self.generate("coreml")
        self.assertEqual(r.returncode, 1)
        self.assertIn("CoreML.framework is only available on Apple platforms", r.stderr)


class MilRoundTripTest(unittest.TestCase):
    def test_mil_text_runs_like_the_graph(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "g.json")
            small_graph(path)
            g = Ane.Graph.load(path)
            pkg = Ane.Package.new_from_graph(g, Ane.Target.IOS18, Ane.Precision.FLOAT32)
            mil = os.path.join(d, "model.mil")
            pkg.save_mil(mil, False)
            back = Ane.Package.load_mil(mil)
            self.assertEqual(back.to_mil_text(), pkg.to_mil_text())

            x = np.random.default_rng(1).standard_normal((2, 16)).astype(np.float32)
            xt = Ane.Tensor.new_from_bytes("x", Ane.DType.FLOAT32, [2, 16], GLib.Bytes.new(x.tobytes()))
            ref = Ane.Executable.new(g, Ane.Backend.REFERENCE)
            ref.compile(None)
            want = np.frombuffer(ref.run([xt], None)[0].get_data().get_data(), np.float32)
            for p in (pkg, back):
                exe = Ane.Executable.new_from_package(p, None)
                got = np.frombuffer(exe.run([xt], None)[0].get_data().get_data(), np.float32)
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


CONFORMANCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "conformance")

BAD_MIL = """program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> a, tensor<fp32, [2]> b) {
        tensor<fp32, [3]> y = add(x = a, y = b)[name = string("y")];
    } -> (y);
}
"""


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class InspectCheckTest(unittest.TestCase):
    """`ane-tool inspect --check`: exit 0 if every op agrees with Apple's
    loader, 1 if one does not, 2 for input it cannot check."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_conformance_package(self):
        for case in ("sdpa_ios18", "multifunction", "stateful_kv_ios18"):
            with self.subTest(case=case):
                r = tool("inspect", "--check", os.path.join(CONFORMANCE, case, "model.mlpackage"))
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("type check (Apple's loader, as coremltools 9.0 infers types): "
                              "every op agrees\n", r.stdout)
                self.assertNotIn("differ", r.stdout)

    def test_broken_mil_text(self):
        mil = self.write("bad.mil", BAD_MIL)
        r = tool("inspect", mil)  # without --check: described as it is
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("type check", r.stdout)

        r = tool("inspect", "--check", mil)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("type check (Apple's loader, as coremltools 9.0 infers types): 1 op differs\n", r.stdout)
        self.assertIn("\n  function main: MIL add 'y' at iOS18: output 'y' is declared tensor<fp32, [3]>, "
                      "but coremltools 9.0 infers tensor<fp32, [2]> "
                      "(mil/ops/defs/iOS15/elementwise_binary.py)\n", r.stdout)

    def test_unchecked_ops_listed(self):
        mil = self.write("frob.mil", BAD_MIL.replace("[3]", "[2]").replace(
            "    } -> (y);",
            "        tensor<fp32, [2]> z = frobnicate(x = y)[name = string(\"z\")];\n    } -> (z);"))
        r = tool("inspect", "--check", mil)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("every op agrees\n", r.stdout)
        self.assertIn("not checked (no rule for these ops): frobnicate (1)\n", r.stdout)

    def test_graph_is_refused(self):
        graph = os.path.join(self.dir.name, "g.json")
        small_graph(graph)
        r = tool("inspect", "--check", graph)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("--check takes a .mlpackage or a .mil file", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
