/* fuzz-common.c: scratch files, input splitting and the zero-input run
 * shared by the libFuzzer targets (see fuzz-common.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "fuzz-common.h"

static char *scratch;

static void
remove_tree (const char *path,
             gboolean    keep_top)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child, FALSE);
        }
      if (!keep_top)
        g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
remove_scratch (void)
{
  if (scratch != NULL)
    remove_tree (scratch, FALSE);
  g_clear_pointer (&scratch, g_free);
}

void
fuzz_init (void)
{
  static gboolean done;
  g_autofree char *budget = NULL;

  if (done)
    return;
  done = TRUE;
  /* A critical is a g_return_if_fail tripped by input the library should
   * have refused with a GError; a warning is a bug report too (the library
   * warns only about its own failures). Both abort, so the fuzzer keeps the
   * input. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);
  /* ane_executable_new_from_package prepares the program at once, before
   * a budget can be set on the executable: the default budget is made the
   * same. */
  budget = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) FUZZ_MEMORY_BUDGET);
  g_setenv ("ANE_GLIB_MEMORY_BUDGET", budget, TRUE);
}

gboolean
fuzz_step (const char *step,
           gboolean    ok,
           GError     *error)
{
  static int verbose = -1;

  if (verbose < 0)
    verbose = g_getenv ("ANE_FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf (stderr, "  %s: %s\n", step, ok ? "ok" : error != NULL ? error->message : "failed");
  return ok;
}

const char *
fuzz_scratch_dir (void)
{
  if (scratch == NULL)
    {
      g_autoptr(GError) error = NULL;

      scratch = g_dir_make_tmp ("ane-fuzz-XXXXXX", &error);
      if (scratch == NULL)
        g_error ("cannot make a scratch directory: %s", error->message);
      atexit (remove_scratch);
    }
  else
    remove_tree (scratch, TRUE);
  return scratch;
}

void
fuzz_write_file (const char   *dir,
                 const char   *relpath,
                 const guint8 *data,
                 gsize         size)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (parent, 0700) != 0 ||
      !g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    g_error ("cannot write %s: %s", path, error != NULL ? error->message : g_strerror (errno));
}

void
fuzz_split_parts (const guint8 *data,
                  gsize         size,
                  FuzzPart     *parts,
                  guint         n_parts)
{
  gsize offset = 0;

  memset (parts, 0, n_parts * sizeof *parts);
  for (guint i = 0; i < n_parts; i++)
    {
      gsize len;

      if (i + 1 == n_parts)
        {
          parts[i].data = data + offset;
          parts[i].size = size - offset;
          parts[i].present = TRUE;
          break;
        }
      if (size - offset < 4)
        break;
      len = (gsize) data[offset] | ((gsize) data[offset + 1] << 8) |
            ((gsize) data[offset + 2] << 16) | ((gsize) data[offset + 3] << 24);
      offset += 4;
      len = MIN (len, size - offset);
      parts[i].data = data + offset;
      parts[i].size = len;
      parts[i].present = TRUE;
      offset += len;
    }
}

/* Zeros shaped like @spec, or NULL when they would not fit the budget. */
static AneTensor *
zeros_like (AneTensor *spec)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (spec, &rank);
  g_autofree gint64 *dims = g_new (gint64, MAX (rank, 1));
  guint64 n = 1;

  for (guint i = 0; i < rank; i++)
    {
      dims[i] = shape[i] < 0 ? 1 : shape[i];
      if (dims[i] != 0 && n > FUZZ_MEMORY_BUDGET / (guint64) dims[i])
        return NULL;
      n *= (guint64) dims[i];
    }
  if (n > FUZZ_MEMORY_BUDGET / 8)
    return NULL;
  return ane_tensor_new_zeros (ane_tensor_get_name (spec), ane_tensor_get_dtype (spec), dims, rank, NULL);
}

void
fuzz_write_parts (const char        *dir,
                  const FuzzPart    *parts,
                  const char *const *names,
                  guint              n_parts)
{
  for (guint i = 0; i < n_parts; i++)
    if (parts[i].present)
      fuzz_write_file (dir, names[i], parts[i].data, parts[i].size);
}

void
fuzz_run_graph (AneGraph *graph)
{
  g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (graph);
  g_autoptr(GPtrArray) params = ane_graph_list_params (graph);
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);

  fuzz_compile_and_run (exe, inputs, params);
}

void
fuzz_exercise_package (AnePackage *package)
{
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GPtrArray) inputs = NULL, outputs = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) problems = NULL, unchecked = NULL;
  g_autoptr(GError) error = NULL;

  inputs = ane_package_list_inputs (package, NULL, NULL);
  outputs = ane_package_list_outputs (package, NULL, NULL);
  text = ane_package_to_mil_text (package, NULL);
  problems = ane_package_check_types (package, &unchecked);
  /* the lint reads every op of whatever loaded, with and without the
   * private path's rules, and prints what it found */
  for (guint flags = 0; flags < 2; flags++)
    {
      g_autoptr(AneLintReport) report = ane_package_lint (package, flags, &error);

      if (fuzz_step ("ane_package_lint", report != NULL, error))
        {
          g_autofree char *lint_text = ane_lint_report_to_string (report);
          g_autofree char *lint_json = ane_lint_report_to_json (report);

          fuzz_step ("lint report", lint_text != NULL && lint_json != NULL, NULL);
        }
      g_clear_error (&error);
    }
  /* compression reads every const of whatever loaded and rewrites the
   * program around it: a program that passed Apple's type rules must
   * still pass them (ane_package_compress fails with ANE_ERROR_FAILED,
   * "internal error", when it would not: a finding) */
  for (guint mode = 0; mode < 2; mode++)
    {
      g_autoptr(AneCompressConfig) config = mode == 0 ? ane_compress_config_new_palettize (2)
                                                      : ane_compress_config_new_prune (0.5);
      g_autoptr(AnePackage) small = NULL;

      ane_compress_config_set_min_size (config, 0);
      small = ane_package_compress (package, config, NULL, NULL, &error);
      if (fuzz_step ("ane_package_compress", small != NULL, error))
        {
          g_autofree char *small_text = ane_package_to_mil_text (small, NULL);
          g_auto(GStrv) small_problems = ane_package_check_types (small, NULL);

          fuzz_step ("compressed package", small_text != NULL && small_problems != NULL, NULL);
        }
      g_assert_false (g_error_matches (error, ANE_ERROR, ANE_ERROR_FAILED));
      g_clear_error (&error);
    }
  exe = ane_executable_new_from_package (package, NULL, &error);
  if (fuzz_step ("ane_executable_new_from_package", exe != NULL, error) && inputs != NULL)
    fuzz_compile_and_run (exe, inputs, NULL);
}

void
fuzz_compile_and_run (AneExecutable *exe,
                      GPtrArray     *inputs,
                      GPtrArray     *params)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GError) error = NULL;

  ane_executable_set_memory_budget (exe, FUZZ_MEMORY_BUDGET);
  for (guint i = 0; params != NULL && i < params->len; i++)
    {
      AneTensor *spec = g_ptr_array_index (params, i);
      g_autoptr(AneTensor) zero = NULL;

      if (ane_tensor_has_data (spec))
        continue;
      zero = zeros_like (spec);
      if (!fuzz_step ("zero param", zero != NULL, NULL) ||
          !fuzz_step ("set_param", ane_executable_set_param (exe, ane_tensor_get_name (spec), zero, &error), error))
        return;
    }
  if (!fuzz_step ("compile", ane_executable_compile (exe, NULL, &error), error))
    return;
  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    {
      AneTensor *zero = zeros_like (g_ptr_array_index (inputs, i));

      if (!fuzz_step ("zero input", zero != NULL, NULL))
        return;
      g_ptr_array_add (values, zero);
    }
  outputs = ane_executable_run (exe, (AneTensor **) values->pdata, values->len, NULL, &error);
  fuzz_step ("run", outputs != NULL, error);
}

void
fuzz_run_llama (AneLlamaModel *model)
{
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GPtrArray) inputs = NULL;
  g_autoptr(GError) error = NULL;

  graph = ane_llama_model_build_decode (model, MIN (ane_llama_model_get_seq_len (model), FUZZ_MAX_SEQ), &error);
  if (!fuzz_step ("build_decode", graph != NULL, error))
    return;
  inputs = ane_graph_list_inputs (graph);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  fuzz_compile_and_run (exe, inputs, NULL);
}

void
fuzz_exercise_tokenizer (AneTokenizer *tokenizer)
{
  static const char *const texts[] = {
    "Once upon a time",
    "",
    " ",
    "  two  spaces  ",
    "caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80",  /* é, sentencepiece's space, an emoji */
    "\xff\xfe \xc3 \xe2\x96",                 /* invalid and truncated UTF-8 */
    "<0x41><s></s>\n\t",
  };
  guint n = ane_tokenizer_get_n_tokens (tokenizer);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      gsize n_ids = 0;
      g_autofree gint32 *ids = ane_tokenizer_encode (tokenizer, texts[i], TRUE, TRUE, &n_ids);

      for (gsize j = 0; j < n_ids; j++)
        if (ids[j] < 0 || (guint) ids[j] >= n)
          g_error ("encoding \"%s\" gave token %d, outside the %u tokens", texts[i], ids[j], n);
      g_free (ane_tokenizer_decode (tokenizer, ids, n_ids));
    }
  /* the first and last 300 ids and two outside */
  for (gint64 t = -1; t <= (gint64) n; t++)
    {
      g_autofree char *piece = NULL;

      if (t == 300 && (gint64) n > 600)
        t = (gint64) n - 300;
      piece = ane_tokenizer_decode_token (tokenizer, ane_tokenizer_get_bos_id (tokenizer), (gint32) t);
      (void) ane_tokenizer_get_piece (tokenizer, (gint32) t);
      (void) ane_tokenizer_get_score (tokenizer, (gint32) t);
    }
}
