"""Ane.ChipInfo from Python, and `ane-tool probe` as a shell user sees it."""

import os
import platform
import re
import subprocess
import sys
import unittest

import anetest  # noqa: F401  (sets up gi)
from gi.repository import Ane

TOOL = os.environ.get("ANE_TOOL")
APPLE = sys.platform == "darwin"


class ChipInfoTest(unittest.TestCase):
    def test_cached(self):
        self.assertIs(Ane.chip_info(), Ane.chip_info())

    def test_properties(self):
        chip = Ane.chip_info()
        self.assertIsInstance(chip, Ane.ChipInfo)
        self.assertTrue(chip.props.name)
        self.assertEqual(chip.props.name, chip.get_name())
        self.assertEqual(chip.props.os_name, platform.uname().system)
        self.assertEqual(chip.props.os_version, platform.uname().release)
        self.assertEqual(chip.props.machine, platform.uname().machine)
        self.assertEqual(chip.props.has_ane, Ane.available())
        if chip.props.has_ane:
            self.assertTrue(chip.props.ane_cores == -1 or chip.props.ane_cores > 0)
        else:
            self.assertEqual(chip.props.ane_cores, 0)

    @unittest.skipIf(APPLE, "checks what a non-Apple platform reports")
    def test_not_apple(self):
        chip = Ane.chip_info()
        self.assertFalse(chip.props.is_apple)
        self.assertFalse(chip.props.has_ane)
        self.assertFalse(Ane.available())

    def test_report(self):
        chip = Ane.chip_info()
        report = chip.dup_report()
        self.assertIn(chip.props.os_name, report)
        self.assertIn(chip.props.os_version, report)
        self.assertIn(chip.props.name, report)

    def test_read_only(self):
        with self.assertRaises(TypeError):
            Ane.chip_info().props.name = "Apple M9"


@unittest.skipIf(TOOL is None, "ANE_TOOL is not set")
class ProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_ = subprocess.run([TOOL, "probe", "--runs", "100"],
                                  capture_output=True, text=True, timeout=120)
        cls.out = cls.run_.stdout

    def backend_line(self, name):
        m = re.search(r"^\s+%s\s+(.*)$" % re.escape(name), self.out, re.M)
        self.assertIsNotNone(m, "no line for backend %r in:\n%s" % (name, self.out))
        return m.group(1)

    def test_exit_status(self):
        self.assertEqual(self.run_.returncode, 0, self.run_.stderr)

    def test_levels(self):
        for level in ("os:", "chip:", "frameworks:", "private classes:", "backends"):
            self.assertIn(level, self.out)
        self.assertIn(platform.uname().release, self.out)
        self.assertIn(Ane.chip_info().props.name, self.out)

    def test_runnable_backends(self):
        for name in ("reference", "cpu"):
            line = self.backend_line(name)
            self.assertRegex(line, r"^runs: .*median dispatch \d+(\.\d+)? us \(100 runs\)$")
            us = float(re.search(r"median dispatch (\d+(?:\.\d+)?) us", line).group(1))
            self.assertGreater(us, 0.0)

    @unittest.skipIf(APPLE, "on Apple platforms these backends may run")
    def test_unavailable_backends(self):
        for name in ("coreml", "ane"):
            line = self.backend_line(name)
            m = re.match(r"^unavailable: (.+)$", line)
            self.assertIsNotNone(m, line)
            self.assertTrue(m.group(1).strip())

    def test_auto(self):
        section = self.out.split("auto (ANE, then CoreML, then CPU):\n", 1)
        self.assertEqual(len(section), 2, self.out)
        lines = [l.strip() for l in section[1].splitlines() if l.strip()]
        self.assertRegex(lines[-1], r"^(ane|coreml|cpu): selected")
        if not APPLE:
            self.assertRegex(lines[0], r"^ane: passed over: .+")
            self.assertRegex(lines[1], r"^coreml: passed over: .+")
            self.assertEqual(lines[2], "cpu: selected")

    @unittest.skipIf(APPLE, "checks what a non-Apple platform reports")
    def test_frameworks_not_present(self):
        for fw in ("CoreML.framework", "AppleNeuralEngine.framework"):
            self.assertRegex(self.out, r"%s\s+not present \(not an Apple platform\)" % re.escape(fw))

    def test_help(self):
        r = subprocess.run([TOOL, "probe", "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("probe", r.stdout)
        r = subprocess.run([TOOL, "--help"], capture_output=True, text=True, timeout=60)
        self.assertIn("probe", r.stdout)

    def test_bad_usage(self):
        r = subprocess.run([TOOL, "probe", "extra"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
