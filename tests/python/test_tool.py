"""ane-tool from a shell user's point of view, and MIL text / package
round trips through the public API (PyGObject)."""

import json
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
        # a package takes the Neural Engine profile: the linear is a 1x1 conv
        self.assertIn("\n  conv ", r.stdout)

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

    def test_convert_lowering(self):
        # --lowering chooses the profile; the lint judges both programs
        generic = os.path.join(self.dir.name, "generic.mlpackage")
        ane = os.path.join(self.dir.name, "ane.mlpackage")
        r = tool("convert", self.graph, "-o", generic, "--lowering", "generic")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = tool("convert", self.graph, "-o", ane, "--lowering", "neural-engine")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = tool("inspect", generic)
        self.assertIn("\n  matmul ", r.stdout)
        self.assertNotIn("\n  conv ", r.stdout)
        r = tool("inspect", ane)
        self.assertIn("\n  conv ", r.stdout)
        self.assertNotIn("\n  matmul ", r.stdout)
        r = tool("lint", generic)
        self.assertIn("linear-not-conv", r.stdout + r.stderr)
        r = tool("lint", ane)
        self.assertNotIn("linear-not-conv", r.stdout + r.stderr)
        r = tool("convert", self.graph, "-o", ane, "--lowering", "tpu")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tpu", r.stderr)

    def test_convert_functions(self):
        # one package of two functions sharing w: --function NAME=GRAPH.json
        other = os.path.join(self.dir.name, "decode.json")
        g = Ane.Graph()
        x = g.input("x", Ane.DType.FLOAT32, [1, 16])
        wt = Ane.Tensor.new_from_bytes("w", Ane.DType.FLOAT32, [16, 8], GLib.Bytes.new(self.w.tobytes()))
        g.add_output("y", g.matmul(x, g.param_with_value(wt), False, False))
        g.save(other)
        pkg = os.path.join(self.dir.name, "two.mlpackage")
        r = tool("convert", "--function", "prefill=" + self.graph, "--function", "decode=" + other, "-o", pkg)
        self.assertEqual(r.returncode, 0, r.stderr)
        loaded = Ane.Package.load(pkg)
        self.assertEqual(loaded.list_functions(), ["prefill", "decode"])
        self.assertEqual(loaded.get_weight_bytes(), 16 * 8 * 2)   # w once, fp16
        r = tool("convert", "--function", "prefill", "-o", os.path.join(self.dir.name, "o.mlpackage"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--function takes NAME=GRAPH.json, not 'prefill'", r.stderr)
        r = tool("convert", self.graph, "--function", "a=" + other, "-o", os.path.join(self.dir.name, "o.mlpackage"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not both", r.stderr)
        r = tool("convert", "--function", "a=" + self.graph, "--function", "a=" + other, "-o", os.path.join(self.dir.name, "o.mlpackage"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("function 'a' is named twice", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "o.mlpackage")))

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
class ConvertLlmTest(unittest.TestCase):
    """`ane-tool convert-llm` then `generate --model-dir`: the text of the in-memory path."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "stories")

    def tearDown(self):
        self.tmp.cleanup()

    def convert(self, *extra):
        return tool("convert-llm", os.path.join(MODELS, "stories260K.bin"),
                    "--tokenizer", os.path.join(MODELS, "tok512.bin"), "-o", self.out, *extra)

    def test_convert_then_generate(self):
        r = self.convert("--context", "128")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote %s" % self.out, r.stdout)
        for name in ("manifest.json", "embedding.bin", "tokenizer.bin", "model.mlpackage"):
            self.assertTrue(os.path.exists(os.path.join(self.out, name)), name)
        r = tool("lint", os.path.join(self.out, "model.mlpackage"))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = tool("generate", "--model-dir", self.out, "--prompt", "Once upon a time", "-n", "60")
        self.assertEqual(got.returncode, 0, got.stderr)
        want = tool("generate", os.path.join(MODELS, "stories260K.bin"),
                    "--tokenizer", os.path.join(MODELS, "tok512.bin"), "--layout", "ane", "-p", "fp16",
                    "--prompt", "Once upon a time", "-n", "60")
        self.assertEqual(want.returncode, 0, want.stderr)
        self.assertGreater(len(got.stdout), 40)
        self.assertEqual(got.stdout, want.stdout)
        # the float16 package against the generic graph in float32 (the
        # in-memory CPU run of the model as loaded): stories260K's greedy
        # text is the same token for token (measured: 200 tokens); the
        # divergence fp16 is allowed is docs/ane-lowering.md's
        fp32 = tool("generate", os.path.join(MODELS, "stories260K.bin"),
                    "--tokenizer", os.path.join(MODELS, "tok512.bin"), "-p", "fp32",
                    "--prompt", "Once upon a time", "-n", "60")
        self.assertEqual(fp32.returncode, 0, fp32.stderr)
        self.assertEqual(got.stdout, fp32.stdout)

    def generate_text(self, out, *extra):
        r = tool("generate", "--model-dir", out, "--prompt", "Once upon a time", "-n", "60", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_chunks_and_argmax(self):
        """--chunks and --chunk-mb split the layers into packages run in order, --argmax puts the arg-max in
        the last: the same greedy text as one package."""
        r = self.convert("--context", "128")
        self.assertEqual(r.returncode, 0, r.stderr)
        want = self.generate_text(self.out)
        self.assertGreater(len(want), 40)
        for name, extra, n_chunks in (("two", ("--chunks", "2"), 2),
                                      ("budget", ("--chunk-mb", "0.2"), 3),
                                      ("argmax", ("--chunk-mb", "0.1", "--argmax"), 6)):
            out = os.path.join(self.tmp.name, name)
            r = tool("convert-llm", os.path.join(MODELS, "stories260K.bin"),
                     "--tokenizer", os.path.join(MODELS, "tok512.bin"), "-o", out, "--context", "128", *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(out, "manifest.json")) as f:
                manifest = json.load(f)
            chunks = manifest["chunks"]
            self.assertEqual(len(chunks), n_chunks, name)
            self.assertEqual(manifest["head"], "argmax" if "--argmax" in extra else "logits")
            self.assertEqual(chunks[0]["layers"][0], 0)
            self.assertEqual(chunks[-1]["layers"][1], 5)
            for i, chunk in enumerate(chunks):
                self.assertEqual(chunk["file"], "chunk-%d.mlpackage" % i)
                # every op on the Neural Engine, the arg-max's too
                lint = tool("lint", os.path.join(out, chunk["file"]))
                self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
            self.assertEqual(self.generate_text(out), want, name)
        # an arg-max head decodes greedily only
        r = tool("generate", "--model-dir", os.path.join(self.tmp.name, "argmax"), "--prompt", "Once", "-n", "4",
                 "-t", "0.8")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--argmax", r.stderr)

    def test_chunk_arguments(self):
        r = self.convert("--chunks", "2", "--chunk-mb", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not both", r.stderr)
        r = self.convert("--chunks", "-1")
        self.assertEqual(r.returncode, 2)
        r = self.convert("--chunks", "9", "--context", "128")
        self.assertEqual(r.returncode, 1)
        self.assertIn("9 chunks", r.stderr)
        self.assertFalse(os.path.exists(self.out))

    def test_arguments(self):
        r = tool("convert-llm", os.path.join(MODELS, "stories260K.bin"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("-o/--output", r.stderr)
        r = self.convert("--context", "128", "--target", "ios16")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ios16", r.stderr)
        self.assertFalse(os.path.exists(self.out))
        r = self.convert("--context", "100000")
        self.assertEqual(r.returncode, 1)
        self.assertIn("context", r.stderr)
        r = self.convert("--context", "128")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.convert("--context", "128")
        self.assertEqual(r.returncode, 1)
        self.assertIn("-f/--overwrite", r.stderr)
        r = self.convert("--context", "64", "-f")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "manifest.json")) as f:
            self.assertEqual(json.load(f)["context"], 64)
        r = tool("generate", "--model-dir", self.out, os.path.join(MODELS, "stories260K.bin"))
        self.assertEqual(r.returncode, 2)
        r = tool("generate", "--model-dir", os.path.join(self.tmp.name, "nowhere"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("manifest.json", r.stderr)
        r = tool("generate")
        self.assertEqual(r.returncode, 2)


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


def _varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def _field(number, payload):
    """A length-delimited protobuf field (wire type 2)."""
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def add_model_metadata(package):
    """Appends Model.description.metadata (Model.proto: description = 2,
    metadata = 100; shortDescription 1, versionString 2, author 3, license 4,
    userDefined 100) to the package's model.mlmodel. A message field that
    occurs twice is merged (protobuf encoding rules), so this sets the
    fields without a protobuf library."""
    md = (_field(1, b"A tiny MLP") + _field(2, b"1.2.3") + _field(3, "Ada Lovelace".encode())
          + _field(4, b"MIT") + _field(100, _field(1, b"origin") + _field(2, b"test_tool")))
    with open(os.path.join(package, "Data", "com.apple.CoreML", "model.mlmodel"), "ab") as f:
        f.write(_field(2, _field(100, md)))


def _read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, i


def _fields(buf):
    """A message's fields as (number, wire type, value): bytes for
    length-delimited fields, an int for varints."""
    out, i = [], 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wire)
        out.append((number, wire, value))
    return out


def _encode(fields):
    out = b""
    for number, wire, value in fields:
        out += _varint((number << 3) | wire)
        if wire == 0:
            out += _varint(value)
        elif wire == 2:
            out += _varint(len(value)) + value
        else:
            out += value
    return out


def _edit_first(buf, path, edit):
    """Rewrites the first field along @path (field numbers, outermost
    first) with @edit(bytes) -> bytes, re-encoding the lengths above it."""
    fields = _fields(buf)
    for k, (number, wire, value) in enumerate(fields):
        if number == path[0] and wire == 2:
            value = edit(value) if len(path) == 1 else _edit_first(value, path[1:], edit)
            fields[k] = (number, wire, value)
            return _encode(fields)
    raise KeyError(path)


def make_first_input_flexible(package):
    """Gives the first input a ShapeRange (Model.description = 2, input = 1,
    FeatureDescription.type = 3, FeatureType.multiArrayType = 5,
    ArrayFeatureType.shapeRange = 31 of SizeRange {lowerBound 1, upperBound 2}):
    the first dimension from 1 to unbounded (-1), the others fixed."""
    path = os.path.join(package, "Data", "com.apple.CoreML", "model.mlmodel")
    with open(path, "rb") as f:
        model = f.read()

    def add_range(array):
        shape = [v for n, w, v in _fields(array) if n == 1 and w == 0]
        if not shape:   # packed repeated int64
            packed = [v for n, w, v in _fields(array) if n == 1 and w == 2][0]
            i = 0
            while i < len(packed):
                v, i = _read_varint(packed, i)
                shape.append(v)
        ranges = b"".join(_field(1, _varint(1 << 3) + _varint(1 if d == 0 else dim)
                                 + _varint(2 << 3) + _varint((-1 if d == 0 else dim) & (2**64 - 1)))
                          for d, dim in enumerate(shape))
        return array + _field(31, ranges)

    with open(path, "wb") as f:
        f.write(_edit_first(model, [2, 1, 3, 5], add_range))


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class ToolMessagesTest(unittest.TestCase):
    """Each error message names what is wrong and what was expected."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.graph = os.path.join(self.dir.name, "g.json")
        small_graph(self.graph)

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_extra_and_missing_arguments(self):
        r = tool("probe", "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn("probe: unexpected argument 'extra' (probe takes no arguments)", r.stderr)
        r = tool("convert", self.graph, "other.json", "-o", self.path("o.mlpackage"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("unexpected argument 'other.json' (convert takes GRAPH.json|MODEL.onnx only)", r.stderr)
        for cmd, param in (("inspect", "PATH"), ("mil", "PATH"), ("dot", "PATH"), ("convert", "GRAPH.json"),
                           ("generate", "MODEL"), ("plan", "MODEL.mlpackage")):
            r = tool(cmd)
            self.assertEqual(r.returncode, 2, cmd)
            self.assertIn("ane-tool %s: missing argument %s\n" % (cmd, param), r.stderr)

    def test_missing_file_names_the_kinds(self):
        nosuch = self.path("nosuch")
        for cmd, kinds in (("inspect", "a .mlpackage, a .mil file or a graph .json"),
                           ("mil", "a .mlpackage, a .mil file or a graph .json"),
                           ("dot", "a .mlpackage or a graph .json")):
            r = tool(cmd, nosuch)
            self.assertEqual(r.returncode, 1, cmd)
            self.assertEqual(r.stderr, "ane-tool %s: '%s' does not exist (%s takes %s)\n" % (cmd, nosuch, cmd, kinds))
            self.assertNotIn("graph:", r.stderr)
        r = tool("convert", nosuch + ".json", "-o", self.path("o.mlpackage"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("'%s.json' does not exist (convert takes a graph .json)" % nosuch, r.stderr)

    def test_wrong_kind_of_file(self):
        notes = self.path("notes.txt")
        with open(notes, "w") as f:
            f.write("hello\n")
        r = tool("inspect", notes)
        self.assertEqual(r.returncode, 1)
        self.assertIn("'%s' is not a .mlpackage, a .mil file or a graph .json" % notes, r.stderr)
        self.assertNotIn("JSON", r.stderr)
        mil = self.path("m.mil")
        with open(mil, "w") as f:
            f.write(BAD_MIL)
        r = tool("dot", mil)
        self.assertEqual(r.returncode, 2)
        self.assertIn("is MIL text, which dot does not draw", r.stderr)
        r = tool("inspect", self.dir.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("'%s' is a directory without a Manifest.json, not a .mlpackage" % self.dir.name, r.stderr)
        r = tool("convert", self.dir.name, "-o", self.path("o.mlpackage"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("(convert takes a graph .json)", r.stderr)
        pkg = self.path("m.mlpackage")
        self.assertEqual(tool("convert", self.graph, "-o", pkg).returncode, 0)
        r = tool("convert", pkg, "-o", self.path("o.mlpackage"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("'%s' is not a graph .json" % pkg, r.stderr)

    def test_mil_options_checked(self):
        r = tool("mil", "--precision", "fp8", self.graph)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown precision 'fp8' (use fp16 or fp32)", r.stderr)
        r = tool("mil", "--target", "ios99", self.graph)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown target 'ios99' (use ios15..ios18 or macos12..macos15)", r.stderr)

    def test_mil_build_info(self):
        def build_info(r):
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.split("\n")
            self.assertEqual(lines[0], "program(1.3)")
            return lines[1]

        # a graph: ane-glib's own key; --ane-dialect: the private path's header
        own = build_info(tool("mil", self.graph))
        self.assertTrue(own.startswith('[buildInfo = dict<string, string>({{"ane-glib-version", "'), own)
        self.assertNotIn("coremlc", own)
        r = tool("mil", "--ane-dialect", self.graph)
        line = build_info(r)
        self.assertTrue(line.startswith(
            '[buildInfo = dict<string, string>({{"coremlc-component-MIL", "3510.2.1"}, '
            '{"coremlc-version", "3505.4.1"}, {"coremltools-component-milinternal", ""}, '
            '{"coremltools-version", "9.0"}, {"ane-glib-version", '), line)
        self.assertIn("\n    func main<ios18>(", r.stdout)
        # an override, a new key, a removal
        line = build_info(tool("mil", "--ane-dialect", "--build-info", "coremlc-version=3520.5.1",
                               "--build-info", "coremltools-component-milinternal",
                               "--build-info", "note=x=y", self.graph))
        self.assertIn('{"coremlc-component-MIL", "3510.2.1"}, {"coremlc-version", "3520.5.1"}, '
                      '{"coremltools-version", "9.0"}', line)
        self.assertNotIn("milinternal", line)
        self.assertTrue(line.endswith('{"note", "x=y"}})]'), line)
        # an Apple package keeps its coremltools pairs unless asked
        pkg = os.path.join(CONFORMANCE, "mlp_fp16", "model.mlpackage")
        line = build_info(tool("mil", pkg))
        self.assertEqual(line, '[buildInfo = dict<string, string>({{"coremltools-version", "9.1.dev1"}, '
                         '{"coremltools-component-milinternal", ""}})]')
        line = build_info(tool("mil", "--build-info", "coremlc-version=3505.4.1", pkg))
        self.assertEqual(line, '[buildInfo = dict<string, string>({{"coremlc-version", "3505.4.1"}, '
                         '{"coremltools-version", "9.1.dev1"}, {"coremltools-component-milinternal", ""}})]')
        # the text round-trips: read back (weights beside it), it prints the same
        mil = self.path("m.mil")
        self.assertEqual(tool("convert", self.graph, "--mil", mil).returncode, 0)
        text = tool("mil", "--ane-dialect", "--build-info", "note=round trip", mil).stdout
        with open(mil, "w") as f:
            f.write(text)
        again = tool("mil", mil)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, text)
        self.assertIn('{"coremltools-version", "9.0"}', text)
        # bad pairs are refused, naming the argument
        r = tool("mil", "--build-info", "=3505", self.graph)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "ane-tool mil: --build-info '=3505': buildInfo key is empty\n")
        self.assertEqual(r.stdout, "")

    def test_overwrite_names_the_flag(self):
        pkg, mil = self.path("m.mlpackage"), self.path("m.mil")
        self.assertEqual(tool("convert", self.graph, "-o", pkg, "--mil", mil).returncode, 0)
        r = tool("convert", self.graph, "-o", pkg)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "ane-tool convert: '%s' already exists (pass -f/--overwrite to replace it)\n" % pkg)
        os.remove(mil)  # the text is gone, its weights are still there
        r = tool("convert", self.graph, "--mil", mil)
        self.assertEqual(r.returncode, 1)
        self.assertIn("weight.bin' already exists (pass -f/--overwrite to replace it)", r.stderr)
        self.assertEqual(tool("convert", self.graph, "-f", "-o", pkg, "--mil", mil).returncode, 0)

    def test_generate_arguments(self):
        r = tool("generate", self.path("nosuch.bin"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("'%s' does not exist (generate takes a llama2.c checkpoint or a .gguf model)"
                      % self.path("nosuch.bin"), r.stderr)
        model = os.path.join(MODELS, "stories260K.bin")
        r = tool("generate", model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("a llama2.c checkpoint needs --tokenizer TOK.bin", r.stderr)
        r = tool("generate", model, "-n", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("-n/--n-tokens must be at least 1 (got 0)", r.stderr)
        r = tool("generate", model, "--temperature", "-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--temperature must not be negative (got -1)", r.stderr)

    def test_gguf_refuses_a_tokenizer(self):
        r = tool("generate", self.path("model.gguf"), "--tokenizer", os.path.join(MODELS, "tok512.bin"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tokenizer '%s' is for llama2.c checkpoints" % os.path.join(MODELS, "tok512.bin"), r.stderr)
        self.assertIn("brings its own vocabulary", r.stderr)

    def test_long_prompt_is_not_echoed(self):
        prompt = "Once upon a time " * 200   # about 800 tokens, stories260K takes 512
        r = tool("generate", os.path.join(MODELS, "stories260K.bin"), "--tokenizer",
                 os.path.join(MODELS, "tok512.bin"), "--prompt", prompt, "-n", "4")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn('ane-tool generate: prompt "%s…": ' % prompt[:60], r.stderr)
        self.assertIn("the prompt is", r.stderr)
        self.assertLess(len(r.stderr), 400)
        # a failure that is not about the prompt does not name it
        r = tool("generate", os.path.join(MODELS, "stories260K.bin"), "--tokenizer",
                 os.path.join(MODELS, "tok512.bin"), "--prompt", "Once upon a time", "--backend", "coreml")
        if not Ane.available():
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stdout, "")
            self.assertIn("CoreML.framework", r.stderr)
            self.assertNotIn("Once upon", r.stderr)
        # a prompt that fits is still printed before its continuation
        r = tool("generate", os.path.join(MODELS, "stories260K.bin"), "--tokenizer",
                 os.path.join(MODELS, "tok512.bin"), "--prompt", "Once upon a time", "-n", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("Once upon a time"), r.stdout)

    def test_help_lists_every_command(self):
        r = tool("--help")
        for cmd in ("convert", "inspect", "mil", "dot", "generate", "probe", "plan", "lint"):
            self.assertIn("\n  %s " % cmd, r.stdout)
        self.assertIn("GGUF", r.stdout)


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class LintTest(unittest.TestCase):
    """`ane-tool lint`: exit 0 when everything stays on the Neural Engine, 1
    when something falls back (or, with --private, is refused by the private
    path), 2 when the model could not be linted."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def conformance(self, case):
        return os.path.join(CONFORMANCE, case, "model.mlpackage")

    def test_stays_on_the_ane(self):
        r = tool("lint", self.conformance("mlp_fp16"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.startswith("function main\n"), r.stdout)
        self.assertRegex(r.stdout, r"\n  slow +linear-not-conv +2 ops ")   # slow, still on the ANE
        self.assertIn("6 of 6 ops stay on the ANE (100.0% of the estimated cost), 2 of them slowly", r.stdout)

    def test_falls_back(self):
        r = tool("lint", self.conformance("mlp_fp32"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"falls-back +fp32-compute +4 ops  first fc1: output 'fc1' is "
                                   r"tensor<fp32, \[2, 128\]>")
        # --ops: each operation with what every rule saw on it
        ops = tool("lint", "--ops", self.conformance("mlp_fp32")).stdout
        self.assertIn("      fp32-compute: output 'fc2' is tensor<fp32, [2, 32]>", ops)
        self.assertIn("0 of 4 ops stay on the ANE (0.0% of the estimated cost); "
                      "4 fall back (linear ×2, gelu, softmax)", r.stdout)

    def test_all_lists_every_op(self):
        r = tool("lint", "--all", self.conformance("mlp_fp16"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # one line per op, each finding indented under its op
        listed = [line for line in r.stdout.split("\n\n", 1)[0].splitlines() if not line.startswith(" ")]
        self.assertEqual(len(listed), 6)
        self.assertTrue(any(line.split()[1:3] == ["ane", "gelu"] for line in listed), listed)
        self.assertNotIn("gelu", tool("lint", self.conformance("mlp_fp16")).stdout)

    def test_json(self):
        r = tool("lint", "--json", self.conformance("mlp_fp32"))
        self.assertEqual(r.returncode, 1, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["verdict"], "falls-back")
        self.assertIs(doc["private"], False)
        self.assertEqual(len(doc["ops"]), 4)
        self.assertEqual({op["verdict"] for op in doc["ops"]}, {"falls-back"})
        self.assertEqual(doc["functions"][0]["ops_falls_back"], 4)
        self.assertEqual({rule["id"] for rule in doc["rules"]}, {"fp32-compute", "linear-not-conv"})
        r = tool("lint", "--json", self.conformance("mlp_fp16"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["verdict"], "ane-slow")

    def test_private_changes_the_verdict(self):
        pkg = self.conformance("stateful_kv_ios18")
        public = tool("lint", "--json", pkg)
        private = tool("lint", "--json", "--private", pkg)
        self.assertEqual(public.returncode, 1, public.stderr)    # state-width falls back
        self.assertEqual(private.returncode, 1, private.stderr)
        self.assertEqual(json.loads(public.stdout)["verdict"], "falls-back")
        doc = json.loads(private.stdout)
        self.assertEqual(doc["verdict"], "refused-private")
        self.assertIs(doc["private"], True)
        self.assertIn("private-states", [f["rule"] for f in doc["functions"][0]["findings"]])
        self.assertNotIn("private-states", public.stdout)
        self.assertRegex(tool("lint", "--private", pkg).stdout,
                         r"refused-private +private-states +program  function main has 1 state")

    def test_private_alone_fails(self):
        """A package that stays on the ANE through Core ML, but whose fp32
        interface the private path refuses: exit 1 only with --private."""
        pkg = self.conformance("mlp_fp16")
        self.assertEqual(tool("lint", pkg).returncode, 0)
        r = tool("lint", "--private", pkg)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("private-io-layout", r.stdout)

    def test_explain(self):
        rule = Ane.LintRule.lookup("state-width")
        r = tool("lint", "--explain", "state-width")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, rule.to_string())
        self.assertIn("  source:     apple/coremltools#2631", r.stdout)
        r = tool("lint", "--explain", "no-such-rule")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("no rule 'no-such-rule' (rules: fp32-compute, ", r.stderr)

    def test_rules(self):
        r = tool("lint", "--rules")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        ids = Ane.LintRule.list()
        self.assertEqual([line.split()[0] for line in lines], ids)
        for line, rid in zip(lines, ids):
            rule = Ane.LintRule.lookup(rid)
            self.assertEqual(line.split()[1], Ane.LintSeverity.to_string(rule.get_severity()))
            self.assertTrue(line.endswith(rule.get_reason()), line)

    def test_usage_errors(self):
        r = tool("lint")
        self.assertEqual(r.returncode, 2)
        self.assertIn("ane-tool lint: missing argument MODEL\n", r.stderr)
        r = tool("lint", "--frobnicate", self.conformance("mlp_fp16"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--frobnicate", r.stderr)
        nosuch = os.path.join(self.dir.name, "nosuch.mlpackage")
        r = tool("lint", nosuch)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'%s' does not exist (lint takes a .mlpackage, a .mil file or a graph .json)" % nosuch,
                      r.stderr)
        r = tool("lint", self.conformance("mlp_fp16"), "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unexpected argument 'extra'", r.stderr)
        notes = os.path.join(self.dir.name, "notes.txt")
        with open(notes, "w") as f:
            f.write("hello\n")
        self.assertEqual(tool("lint", notes).returncode, 2)
        r = tool("lint", "--precision", "fp8", self.conformance("mlp_fp16"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown precision 'fp8'", r.stderr)

    def test_unreadable_input(self):
        broken = os.path.join(self.dir.name, "broken.mil")
        with open(broken, "w") as f:
            f.write("program(1.3)\n{\n  func main<ios18>(\n")
        r = tool("lint", broken)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("ane-tool lint: ", r.stderr)

    def test_graph_json(self):
        graph = os.path.join(self.dir.name, "g.json")
        small_graph(graph)     # fp32 in, matmul by a weight, gelu
        r = tool("lint", graph)                      # lowered in fp16 (the default)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # a matmul by a constant, lowered with the Neural Engine profile (the
        # default for a package): a 1x1 conv, which the lint does not flag;
        # its layout's conversion at S = 2 is a slow transpose
        self.assertNotIn("linear-not-conv", r.stdout)
        self.assertIn("transpose-last-axis", r.stdout)
        r = tool("lint", "--precision", "fp32", graph)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("fp32-compute", r.stdout)

    def test_mil_text(self):
        graph = os.path.join(self.dir.name, "g.json")
        mil = os.path.join(self.dir.name, "text", "model.mil")
        os.makedirs(os.path.dirname(mil))
        small_graph(graph)
        self.assertEqual(tool("convert", graph, "--mil", mil).returncode, 0)
        r = tool("lint", mil)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, tool("lint", graph).stdout)
        # MIL text from elsewhere: a gather that Core ML keeps off the ANE
        gather = os.path.join(self.dir.name, "gather.mil")
        with open(gather, "w") as f:
            f.write(GATHER_MIL)
        r = tool("lint", gather)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("op-gather", r.stdout)


GATHER_MIL = """program(1.3)
{
    func main<ios18>(tensor<fp16, [8, 32]> table, tensor<int32, [2]> ids) {
        tensor<fp16, [2, 32]> rows = gather(x = table, indices = ids, axis = int32(0), validate_indices = bool(false))[name = string("rows")];
    } -> (rows);
}
"""


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class InspectMetadataTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.graph = os.path.join(self.dir.name, "g.json")
        small_graph(self.graph)
        self.pkg = os.path.join(self.dir.name, "m.mlpackage")
        self.assertEqual(tool("convert", self.graph, "-o", self.pkg).returncode, 0)

    def tearDown(self):
        self.dir.cleanup()

    def test_fixed_shapes_are_not_symbolic(self):
        for path in (self.pkg, self.graph):
            r = tool("inspect", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("  x: float32[2,16]\n", r.stdout)
            self.assertNotIn("symbolic", r.stdout)

    def test_flexible_shape_labelled(self):
        make_first_input_flexible(self.pkg)
        r = tool("inspect", self.pkg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("  x: float32[2,16] (flexible shape; the default shown)\n", r.stdout)
        self.assertRegex(r.stdout, r"\n  y: float32\[2,8\]\n")   # the output stays fixed

    def test_metadata_printed(self):
        r = tool("inspect", self.pkg)
        self.assertNotIn("author:", r.stdout)   # we write none, as coremltools
        add_model_metadata(self.pkg)
        r = tool("inspect", self.pkg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("author: Ada Lovelace\nlicense: MIT\ndescription: A tiny MLP\nversion: 1.2.3\n", r.stdout)
        self.assertIn("  origin: test_tool\n", r.stdout)

    def test_metadata_getters(self):
        pkg = Ane.Package.load(self.pkg)
        self.assertIsNone(pkg.get_author())
        self.assertIsNone(pkg.get_license())
        add_model_metadata(self.pkg)
        pkg = Ane.Package.load(self.pkg)
        self.assertEqual(pkg.get_author(), "Ada Lovelace")
        self.assertEqual(pkg.get_license(), "MIT")
        self.assertEqual(pkg.get_short_description(), "A tiny MLP")
        self.assertEqual(pkg.get_version_string(), "1.2.3")
        self.assertEqual(pkg.dup_metadata()["origin"], "test_tool")


if __name__ == "__main__":
    unittest.main()
