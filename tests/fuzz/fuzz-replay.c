/* fuzz-replay.c: runs a fuzz target once on each given file, without libFuzzer
 *
 *   replay-TARGET PATH...
 *
 * A PATH that is a directory stands for its files (sorted by name; names
 * starting with '.' and README files are skipped, so a folder can be kept
 * in git with nothing to run). Each file goes once through the target's
 * LLVMFuzzerTestOneInput, its name printed first, so the last name before
 * a sanitizer report is the culprit. Linked with the target's file instead
 * of libFuzzer's main, the same sanitizers catch what the fuzzer would, and
 * a file added to tests/fuzz/regressions/ is picked up without
 * reconfiguring.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
collect (const char *path,
         GPtrArray  *files)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;
  g_autoptr(GError) error = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    g_error ("%s", error->message);
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && !g_str_has_prefix (name, "README"))
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    collect (g_ptr_array_index (names, i), files);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    collect (argv[i], files);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      g_autofree guint8 *exact = NULL;
      gsize size;

      if (!g_file_get_contents (path, &contents, &size, &error))
        g_error ("%s", error->message);
      /* a buffer of exactly the input's size, as libFuzzer passes (the
       * contents carry a NUL past the end that would hide an over-read) */
      exact = g_malloc (MAX (size, 1));
      memcpy (exact, contents, size);
      printf ("replay: %s (%" G_GSIZE_FORMAT " bytes)\n", path, size);
      fflush (stdout);
      LLVMFuzzerTestOneInput (exact, size);
    }
  printf ("replay: %u inputs, no crash\n", files->len);
  return 0;
}
