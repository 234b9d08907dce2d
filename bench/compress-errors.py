#!/usr/bin/env python3
"""The error tables of docs/compression.md: `ane-tool compress --json` on a package per mode.

    python3 bench/compress-errors.py _build/tools/ane-tool MODEL.mlpackage "--palettize 4" "--quantize int8" ...

Prints a Markdown row per mode: the weights compressed (a weight two functions share counted once), the
largest |w - w'| over them, the RMS of w - w' over all their elements, and the whole model's weight bytes
after over before.
"""

import json
import math
import os
import subprocess
import sys
import tempfile


def main():
    tool, package, *modes = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mlpackage")
        for mode in modes:
            r = subprocess.run([tool, "compress", package, "-o", out, "-f", "--json", *mode.split()],
                               capture_output=True, text=True)
            if r.returncode:
                print("| `%s` | refused: %s | | | |" % (mode, r.stderr.strip().splitlines()[-1]))
                continue
            report = json.loads(r.stdout)
            weights = {w["name"]: w for w in report["weights"]}
            done = [w for w in weights.values() if w["mode"] != "skipped"]
            if not done:
                print("| `%s` | 0 of %d | | | %.3f |" % (mode, len(weights), report["ratio"]))
                continue
            # weighted by element count: bytes_before is that times the one float dtype of the package
            size = [w["bytes_before"] for w in done]
            rms = math.sqrt(sum(w["rms_error"] ** 2 * n for w, n in zip(done, size)) / sum(size))
            print("| `%s` | %d of %d | %.3g | %.3g | %.3f |" % (mode, len(done), len(weights),
                                                               max(w["max_error"] for w in done), rms,
                                                               report["ratio"]))


if __name__ == "__main__":
    main()
