/* write-stories-hf.c: writes the bundled stories260K as a Hugging Face model directory
 *
 * Usage: write-stories-hf DIR
 *
 * DIR gets config.json, model.safetensors (ane-test-hf.c: q/k permuted as
 * transformers' LLaMA conversion does) and tok512's tokenizer.json and
 * tokenizer_config.json (ane-test-hf-tokenizer.c), for the tests that run
 * `ane-tool generate HF_DIR` (tests/python/test_llama_hf.py). The bundled
 * files are found from G_TEST_SRCDIR (the tests source directory).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-test-hf.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }
  /* g_test_build_filename (ane_test_model_path) needs the test framework */
  g_test_init (&argc, &argv, NULL);
  if (!ane_test_write_stories_hf (argv[1], &(AneTestHfVariant) { .tokenizer = TRUE }, &error))
    {
      fprintf (stderr, "write-stories-hf: %s\n", error->message);
      return 1;
    }
  return 0;
}
