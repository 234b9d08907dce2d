/* bench/tokenize.c: Hugging Face tokenizer.json load time and encode / decode throughput
 *
 *   bench-tokenize TOKENIZER_JSON [TEXT_FILE] [REPEATS]
 *
 * Loads the tokenizer (best of REPEATS loads, default 3) and encodes the
 * text (default: a built-in mix of English prose, code, CJK, accents and
 * emoji, repeated to 1 MB), printing the load time, encode throughput in
 * MB/s of UTF-8 input (1 MB = 1e6 bytes) and tokens/s, and decode
 * throughput. The first encode fills the word cache; the best of REPEATS
 * counts, and the cold (first) figure is printed too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ane-glib.h"

static const char sample[] =
  "Once upon a time, in a small village by the sea, there lived an old fisherman named Tomás. "
  "Every morning he walked down to the harbour, 3.5 km from his house, and counted his nets: 1, 2, 3.\n"
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
  "const x = {a: [1, 2, 3], b: \"str\"}; // comment\n"
  "你好，世界！今天天气很好。我们去北京吧。日本語のテキスト、カタカナとひらがな。\n"
  "Café déjà vu — naïve façade, Zürich, Ångström. Emoji: 😀👍🏽🎉 ❤️\n"
  "Mixed CASE words, ALLCAPS, camelCaseIdentifier, snake_case_var, don't I'll we're.\n";

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree gint32 *ids = NULL;
  double best_load = G_MAXDOUBLE, best_encode = G_MAXDOUBLE, cold_encode = 0, best_decode = G_MAXDOUBLE;
  guint repeats = argc > 3 ? (guint) atoi (argv[3]) : 3;
  gsize n = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s TOKENIZER_JSON [TEXT_FILE] [REPEATS]\n", argv[0]);
      return 2;
    }
  if (repeats == 0)
    repeats = 1;
  if (argc > 2 && g_strcmp0 (argv[2], "-") != 0)
    {
      g_autofree char *contents = NULL;
      gsize len;

      if (!g_file_get_contents (argv[2], &contents, &len, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      g_string_append_len (text, contents, (gssize) len);
    }
  else
    while (text->len < 1000000)
      g_string_append (text, sample);

  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      g_clear_object (&tok);
      tok = ane_tokenizer_load_hf (argv[1], &error);
      if (tok == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      best_load = MIN (best_load, (g_get_monotonic_time () - t0) / 1e6);
    }
  for (guint r = 0; r < repeats + 1; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double s;

      g_clear_pointer (&ids, g_free);
      ids = ane_tokenizer_encode_full (tok, text->str, FALSE, &n, &error);
      if (ids == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      s = (g_get_monotonic_time () - t0) / 1e6;
      if (r == 0)
        cold_encode = s;
      else
        best_encode = MIN (best_encode, s);
    }
  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      char *back = ane_tokenizer_decode_full (tok, ids, n, FALSE);

      best_decode = MIN (best_decode, (g_get_monotonic_time () - t0) / 1e6);
      g_free (back);
    }
  printf ("tokenizer: %s (%u tokens)\n", argv[1], ane_tokenizer_get_n_tokens (tok));
  printf ("load: %.1f ms (best of %u)\n", best_load * 1e3, repeats);
  printf ("text: %" G_GSIZE_FORMAT " bytes -> %" G_GSIZE_FORMAT " tokens\n", text->len, n);
  printf ("encode: %.2f MB/s, %.0f tokens/s (cold, first call: %.2f MB/s)\n",
          text->len / best_encode / 1e6, n / best_encode, text->len / cold_encode / 1e6);
  printf ("decode: %.2f MB/s of text, %.0f tokens/s\n", text->len / best_decode / 1e6, n / best_decode);
  return 0;
}
