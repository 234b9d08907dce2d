#!/usr/bin/env python3
# check_coremltools.py: Apple's own loader judges every program ane-glib wrote
#
# The other suites run with ANE_GLIB_DUMP_DIR set, so every program the
# library lowered -- each lowering test, each model, each `ane-tool generate
# --package` -- is also in that directory as an .mlpackage (docs/contract.md).
# This suite gives each of them to coremltools, Apple's converter:
#
#  1. ct.models.MLModel(path, skip_model_load=True) reads the package, as
#     every coremltools utility does;
#  2. the milproto loader (coremltools.converters.mil.frontend.milproto.load)
#     rebuilds the program op by op with pymil: input validation and type
#     inference of every op, refusing any declared type that differs
#     ("Mismatch between var types in specification vs PyMIL");
#  3. ct.convert re-converts the loaded program to an ML program (the
#     default pass pipeline, at the package's own deployment target and
#     precision) and the result must keep the interface: the same inputs,
#     outputs and states with the same types (of every function, for a
#     multifunction package).
#
# The mirror in C (ane-glib/mil/ane-mil-infer*.c) approximates step 2 on every
# machine; this is the judge. Usage: check_coremltools.py DUMP_DIR, or
# check_coremltools.py --reset DUMP_DIR to empty the directory first.
#
# SPDX-License-Identifier: MIT

import concurrent.futures
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings

if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--reset":
    # the first test of a run: start from an empty directory (before
    # importing coremltools, which alone takes seconds)
    shutil.rmtree(sys.argv[2], ignore_errors=True)
    os.makedirs(sys.argv[2])
    sys.exit(0)

logging.disable(logging.WARNING)
warnings.simplefilter("ignore")
# coremltools prints a warning per proxy class it cannot load off a Mac
_stderr = sys.stderr
sys.stderr = open(os.devnull, "w")
try:
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto import load as milproto
finally:
    sys.stderr.close()
    sys.stderr = _stderr

TARGETS = {6: ct.target.iOS15, 7: ct.target.iOS16, 8: ct.target.iOS17, 9: ct.target.iOS18}


def interface(spec):
    """(inputs, outputs, states) of a model's description, as comparable tuples."""

    def feature(f):
        t = f.type
        kind = t.WhichOneof("Type")
        if kind == "multiArrayType":
            return (f.name, kind, t.multiArrayType.dataType, tuple(t.multiArrayType.shape)) + flexibility(t.multiArrayType)
        if kind == "stateType":
            a = t.stateType.arrayType
            return (f.name, kind, a.dataType, tuple(a.shape))
        return (f.name, kind)

    def features(d):
        return (tuple(sorted(feature(f) for f in d.input)),
                tuple(sorted(feature(f) for f in d.output)),
                tuple(sorted(feature(f) for f in d.state)))

    d = spec.description
    # a multifunction model: one FunctionDescription per function, in
    # whatever order (pymil keeps its functions in a dict)
    return (features(d), d.defaultFunctionName,
            tuple(sorted((fd.name,) + features(fd) for fd in d.functions)))


def flexibility(array):
    """A multi-array's flexible shapes as a comparable tuple (empty: none)."""
    which = array.WhichOneof("ShapeFlexibility")
    if which == "shapeRange":
        return ("range", tuple((r.lowerBound, r.upperBound) for r in array.shapeRange.sizeRanges))
    if which == "enumeratedShapes":
        return ("enumerated", tuple(tuple(s.shape) for s in array.enumeratedShapes.shapes))
    return ()


def input_types(spec):
    """ct.convert's inputs for a flexible program: each flexible input with
    its RangeDim or EnumeratedShapes, as the user of coremltools would give
    them (else ct.convert makes every unknown size a range 1..2); None when
    no input is flexible."""
    types, flexible = [], False
    for f in spec.description.input:
        array = f.type.multiArrayType if f.type.WhichOneof("Type") == "multiArrayType" else None
        if array is None:
            return None
        default = tuple(array.shape)
        which = array.WhichOneof("ShapeFlexibility")
        if which == "shapeRange":
            flexible = True
            dims = []
            for r, d in zip(array.shapeRange.sizeRanges, default):
                if r.lowerBound == r.upperBound:
                    dims.append(int(d))
                else:
                    dims.append(ct.RangeDim(lower_bound=int(r.lowerBound), upper_bound=int(r.upperBound),
                                            default=int(d)))
            types.append(ct.TensorType(name=f.name, shape=ct.Shape(dims)))
        elif which == "enumeratedShapes":
            flexible = True
            shapes = [tuple(s.shape) for s in array.enumeratedShapes.shapes]
            types.append(ct.TensorType(name=f.name, shape=ct.EnumeratedShapes(shapes=shapes, default=default)))
        else:
            types.append(ct.TensorType(name=f.name, shape=default))
    return types if flexible else None


def check(path):
    """None if coremltools loads and re-converts the package, else why not."""
    model = ct.models.MLModel(path, skip_model_load=True)
    spec = model.get_spec()
    if spec.WhichOneof("Type") != "mlProgram":
        return "not an ML program"
    try:
        prog = milproto.load(spec, spec.specificationVersion, model.weights_dir)
    except Exception as e:  # noqa: BLE001 - any refusal is the finding
        return "milproto loader: %s: %s" % (type(e).__name__, e)
    if len(spec.description.functions) > 0:
        # A multifunction model (ane_package_new_from_graphs): the loader
        # leaves pymil's default function "main", and only a program so
        # marked is written with function descriptions, as
        # ct.utils.save_multifunction marks the one it writes.
        prog.default_function_name = spec.description.defaultFunctionName
        prog.export_as_multifunction = True
    fp32 = path.endswith("-fp32.mlpackage")
    pipeline = ct.PassPipeline.DEFAULT
    if not fp32:
        # coremltools' fuse_elementwise_to_batchnorm (mil/passes/defs/
        # optimize_elementwise_binary.py) gives the batch_norm it makes fp32
        # mean and variance whatever x's dtype, so it breaks on every fp16
        # program (ct.convert runs it before its own fp16 cast pass): a
        # coremltools limitation, not a property of the program (docs/contract.md).
        pipeline.remove_passes(["common::fuse_elementwise_to_batchnorm"])
    with tempfile.TemporaryDirectory() as tmp:
        inputs = input_types(spec)
        try:
            again = ct.convert(prog, convert_to="mlprogram", inputs=inputs,
                               minimum_deployment_target=TARGETS[spec.specificationVersion],
                               compute_precision=ct.precision.FLOAT32 if fp32 else ct.precision.FLOAT16,
                               pass_pipeline=pipeline,
                               skip_model_load=True, package_dir=os.path.join(tmp, "again.mlpackage"))
        except Exception as e:  # noqa: BLE001
            return "ct.convert: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        mine, theirs = interface(spec), interface(again.get_spec())
        if mine != theirs:
            return "ct.convert changed the interface:\n    ours   %s\n    theirs %s" % (mine, theirs)
    return None


def check_one(path):
    try:
        return path, check(path)
    except Exception:  # noqa: BLE001 - report, do not stop the others
        return path, "unexpected failure:\n" + traceback.format_exc()


def main():
    if len(sys.argv) != 2:
        print("usage: check_coremltools.py [--reset] DUMP_DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    paths = sorted(os.path.join(root, p) for p in os.listdir(root) if p.endswith(".mlpackage")) \
        if os.path.isdir(root) else []
    if not paths:
        print("no packages in %s: run the whole test suite (meson test), whose suites write them" % root,
              file=sys.stderr)
        return 1
    print("coremltools %s judging %d programs from %s" % (ct.__version__, len(paths), root))
    t0 = time.monotonic()
    failures = []
    jobs = max(1, min(len(paths), os.cpu_count() or 1))
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, (path, why) in enumerate(pool.map(check_one, paths, chunksize=8)):
            if why is not None:
                failures.append((path, why))
                print("FAIL %s\n  %s" % (os.path.basename(path), why), flush=True)
    print("%d of %d programs load in coremltools and re-convert (%.0f s)" %
          (len(paths) - len(failures), len(paths), time.monotonic() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
