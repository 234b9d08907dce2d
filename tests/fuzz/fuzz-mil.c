/* fuzz-mil.c: libFuzzer target for MIL text (ane_package_load_mil)
 *
 * Input: two parts as fuzz_split_parts cuts them (tests/fuzz/README.md): the
 * text, written as model.mil, and weights/weight.bin beside it, which
 * BLOBFILE(path = string("@model_path/weights/weight.bin"), ...) values
 * read. An empty weights part writes no file (the loader reads a
 * weight.bin that exists even when no value refers to it, and an empty one
 * is no blob file). A program that loads is printed back, type-checked and
 * run on the CPU backend with zero inputs.
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
  FuzzPart parts[2];
  const char *dir;
  g_autofree char *path = NULL;
  g_autoptr(AnePackage) package = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_split_parts (data, size, parts, 2);
  if (parts[0].present)
    fuzz_write_file (dir, "model.mil", parts[0].data, parts[0].size);
  if (parts[1].present && parts[1].size > 0)
    fuzz_write_file (dir, "weights/weight.bin", parts[1].data, parts[1].size);
  path = g_build_filename (dir, "model.mil", NULL);

  package = ane_package_load_mil (path, &error);
  if (fuzz_step ("ane_package_load_mil", package != NULL, error))
    fuzz_exercise_package (package);
  return 0;
}
