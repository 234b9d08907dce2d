/* fuzz-tokenizer-hf.c: libFuzzer target for Hugging Face tokenizer.json files
 *
 * Input: [len][tokenizer.json][tokenizer_config.json] (fuzz_split_parts; an
 * absent or empty config part writes no config file), written to a scratch
 * directory and loaded with ane_tokenizer_load_hf; a tokenizer that loads
 * encodes and decodes a few strings (with and without special tokens),
 * decodes single tokens, and decodes every id it gave.
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
  static const char *const texts[] = {
    "Hello, world! 123 4567",
    "  caf\xc3\xa9 e\xcc\x81 \xe2\x96\x81 \xf0\x9f\x98\x80\t\n\n",
    "<s>a</s> <|im_start|>user<|im_end|> <mask> [END]",
    "",
  };
  FuzzPart parts[2];
  const char *dir;
  g_autofree char *path = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  fuzz_split_parts (data, size, parts, 2);
  if (!parts[0].present)
    return 0;
  dir = fuzz_scratch_dir ();
  fuzz_write_file (dir, "tokenizer.json", parts[0].data, parts[0].size);
  if (parts[1].present && parts[1].size > 0)
    fuzz_write_file (dir, "tokenizer_config.json", parts[1].data, parts[1].size);
  path = g_build_filename (dir, "tokenizer.json", NULL);

  tokenizer = ane_tokenizer_load_hf (path, &error);
  if (!fuzz_step ("ane_tokenizer_load_hf", tokenizer != NULL, error))
    return 0;
  fuzz_exercise_tokenizer (tokenizer);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    for (int special = 0; special < 2; special++)
      {
        g_autoptr(GError) encode_error = NULL;
        gsize n = 0;
        g_autofree gint32 *ids = ane_tokenizer_encode_full (tokenizer, texts[i], special, &n, &encode_error);

        if (!fuzz_step ("ane_tokenizer_encode_full", ids != NULL || n == 0, encode_error))
          continue;
        for (gsize j = 0; j < n; j++)
          if (ids[j] < 0 || (guint) ids[j] >= ane_tokenizer_get_n_tokens (tokenizer))
            g_error ("encoding \"%s\" gave token %d, outside the %u tokens", texts[i], ids[j],
                     ane_tokenizer_get_n_tokens (tokenizer));
        g_free (ane_tokenizer_decode_full (tokenizer, ids, n, FALSE));
        g_free (ane_tokenizer_decode_full (tokenizer, ids, n, TRUE));
        for (gsize j = 0; j < n; j++)
          g_free (ane_tokenizer_decode_token (tokenizer, j > 0 ? ids[j - 1] : -1, ids[j]));
      }
  return 0;
}
