/* fuzz-tokenizer.c: libFuzzer target for llama2.c tokenizer files
 *
 * Input: a 32-bit little-endian vocabulary size (the argument the file
 * does not store) followed by the tokenizer file, written to a scratch
 * directory and loaded with ane_tokenizer_load_llama2c; a tokenizer that
 * loads encodes and decodes a few strings and decodes single tokens.
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
  const char *dir;
  g_autofree char *path = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  guint32 vocab_size;
  g_autoptr(GError) error = NULL;

  if (size < 4)
    return 0;
  fuzz_init ();
  vocab_size = (guint32) data[0] | ((guint32) data[1] << 8) | ((guint32) data[2] << 16) | ((guint32) data[3] << 24);
  dir = fuzz_scratch_dir ();
  fuzz_write_file (dir, "tokenizer.bin", data + 4, size - 4);
  path = g_build_filename (dir, "tokenizer.bin", NULL);

  tokenizer = ane_tokenizer_load_llama2c (path, vocab_size, &error);
  if (fuzz_step ("ane_tokenizer_load_llama2c", tokenizer != NULL, error))
    fuzz_exercise_tokenizer (tokenizer);
  return 0;
}
