/* fuzz-package.c: libFuzzer target for the .mlpackage loader
 *
 * Input: three parts as fuzz_split_parts cuts them (tests/fuzz/README.md):
 * Data/com.apple.CoreML/model.mlmodel, Manifest.json and
 * Data/com.apple.CoreML/weights/weight.bin of a package written to a
 * scratch directory (an absent part is a missing file). A package that
 * loads is described (inputs, outputs, MIL text, type check) and run on the
 * CPU backend with zero inputs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static const char *const files[3] = {
    "Data/com.apple.CoreML/model.mlmodel",
    "Manifest.json",
    "Data/com.apple.CoreML/weights/weight.bin",
  };
  FuzzPart parts[3];
  g_autofree char *path = NULL;
  g_autoptr(AnePackage) package = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  path = g_build_filename (fuzz_scratch_dir (), "m.mlpackage", NULL);
  g_mkdir_with_parents (path, 0700);
  fuzz_split_parts (data, size, parts, 3);
  for (guint i = 0; i < 3; i++)
    if (parts[i].present)
      fuzz_write_file (path, files[i], parts[i].data, parts[i].size);

  package = ane_package_load (path, &error);
  if (fuzz_step ("ane_package_load", package != NULL, error))
    fuzz_exercise_package (package);
  return 0;
}
