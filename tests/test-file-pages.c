/* test-file-pages.c: mapped model files do not stay resident beside their converted copy
 *
 * ane_file_map_bytes() maps a file and remembers the range;
 * ane_file_release_pages() drops the resident pages of a range inside such a
 * mapping (MADV_DONTNEED) and leaves any other memory alone. The CPU backend
 * calls it once it has converted an fp32 weight to the fp16 it keeps, so an
 * F32 GGUF run at fp16 precision holds the fp16 copy only (issue 15: its
 * peak RSS was the F32 file plus the fp16 copy).
 *
 * Residency is read from /proc/self/smaps (Linux): the "Rss:" line of the
 * mapping of the file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "gguf/ane-gguf-writer-private.h"
#include "ane-test-util.h"

/* The resident KiB of the mappings of @path in this process, or -1 when
 * /proc/self/smaps cannot be read (not Linux). */
static gint64
mapped_rss_kib (const char *path)
{
  g_autofree char *smaps = NULL;
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  g_auto(GStrv) lines = NULL;
  gboolean in_file = FALSE;
  gint64 total = 0;

  if (!g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL))
    return -1;
  lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      /* A mapping's header: "start-end perms offset dev inode [path]". */
      if (g_ascii_isxdigit (line[0]) && strchr (line, '-') != NULL && strchr (line, ' ') > strchr (line, '-'))
        in_file = g_str_has_suffix (line, canonical);
      else if (in_file && g_str_has_prefix (line, "Rss:"))
        total += g_ascii_strtoll (line + 4, NULL, 10);
    }
  return total;
}

static char *
write_file (const char *dir,
            gsize       size)
{
  g_autofree guint8 *data = g_malloc (size);
  char *path = g_build_filename (dir, "pages.bin", NULL);
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 131 + 7);
  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) size, &error));
  g_assert_no_error (error);
  return path;
}

/* A mapped range's pages leave the RSS and read back unchanged. */
static void
test_release_mapped (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const gsize size = 8u << 20;
  g_autofree char *path = write_file (dir, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = ane_file_map_bytes (path, &error);
  const guint8 *data;
  guint64 sum = 0, again = 0;
  gint64 before, after;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, NULL);
  for (gsize i = 0; i < size; i++)
    sum += data[i];
  before = mapped_rss_kib (path);
  if (before < 0)
    {
      g_test_skip ("no /proc/self/smaps");
      ane_test_remove_tree (dir);
      return;
    }
  g_assert_cmpint (before, >=, (gint64) (size / 1024) * 3 / 4);
  ane_file_release_pages (data, size);
  after = mapped_rss_kib (path);
  g_assert_cmpint (after, <, before / 8);
  for (gsize i = 0; i < size; i++)
    again += data[i];
  g_assert_cmpuint (sum, ==, again);
  g_assert_cmpuint (data[size - 1], ==, (guint8) ((size - 1) * 131 + 7));
  ane_test_remove_tree (dir);
}

/* Memory that is not such a mapping is left as it is (MADV_DONTNEED would
 * zero heap pages): heap data, and a range reaching past a mapping. */
static void
test_release_other_memory (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const gsize size = 4u << 20;
  g_autofree guint8 *heap = g_malloc (size);
  g_autofree char *path = write_file (dir, 1u << 20);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = ane_file_map_bytes (path, &error);
  const guint8 *data;
  gint64 before;

  g_assert_no_error (error);
  for (gsize i = 0; i < size; i++)
    heap[i] = (guint8) (i * 17 + 1);
  ane_file_release_pages (heap, size);
  for (gsize i = 0; i < size; i++)
    g_assert_cmpuint (heap[i], ==, (guint8) (i * 17 + 1));

  data = g_bytes_get_data (bytes, NULL);
  for (gsize i = 0; i < (1u << 20); i += 4096)
    g_assert_cmpuint (data[i], ==, (guint8) (i * 131 + 7));
  before = mapped_rss_kib (path);
  ane_file_release_pages (data, (1u << 20) + 4096);   /* past the end: not inside */
  if (before >= 0)
    g_assert_cmpint (mapped_rss_kib (path), ==, before);
  ane_file_release_pages (NULL, 0);
  ane_test_remove_tree (dir);
}

/* ane_file_hot_bytes(): a mapped file's bytes copied into huge-page-backed
 * memory 2 MiB at a time, once, at the same offset within 2 MiB, the
 * copied pages of the file released; other bytes returned as they are. */
static void
test_hot_copy (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const gsize size = 5u << 20, chunk = 2u << 20, at = (3u << 20) + 100, len = 1u << 20;
  g_autofree char *path = write_file (dir, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) file = ane_file_map_bytes (path, &error);
  g_autoptr(GBytes) part = NULL;
  g_autoptr(GBytes) hot = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GBytes) heap = g_bytes_new_take (g_malloc0 (len), len);
  g_autoptr(GBytes) heap_hot = ane_file_hot_bytes (heap);
  const guint8 *h;
  gsize copied, hot_len = 0;
  gint64 rss;

  g_assert_no_error (error);
  g_assert_true (g_bytes_get_data (heap_hot, NULL) == g_bytes_get_data (heap, NULL));
  part = g_bytes_new_from_bytes (file, at, len);
  copied = ane_file_hot_copied ();
  hot = ane_file_hot_bytes (part);
  h = g_bytes_get_data (hot, &hot_len);
  g_assert_cmpuint (hot_len, ==, len);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (h[i], ==, (guint8) ((at + i) * 131 + 7));
  if (!ane_file_hot_enabled ())
    {
      g_assert_true (h == g_bytes_get_data (part, NULL));
      g_test_skip ("no transparent huge pages here (or ANE_HUGEPAGES=0)");
      ane_test_remove_tree (dir);
      return;
    }
  g_assert_true (h != g_bytes_get_data (part, NULL));
  g_assert_cmpuint ((guintptr) h % chunk, ==, at % chunk);
  /* the chunks [2, 4) and [4, 5) MiB */
  g_assert_cmpuint (ane_file_hot_copied () - copied, ==, chunk + (size - 2 * chunk));
  /* read with pread(2), never through the mapping */
  rss = mapped_rss_kib (path);
  if (rss >= 0)
    g_assert_cmpint (rss, <, (gint64) (size / 1024) / 4);
  /* asked again (another executable): the same copy */
  again = ane_file_hot_bytes (part);
  g_assert_true (g_bytes_get_data (again, NULL) == h);
  g_assert_cmpuint (ane_file_hot_copied () - copied, ==, chunk + (size - 2 * chunk));
  /* the copy outlives every other reference to the file */
  g_clear_pointer (&part, g_bytes_unref);
  g_clear_pointer (&file, g_bytes_unref);
  g_clear_pointer (&again, g_bytes_unref);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (h[i], ==, (guint8) ((at + i) * 131 + 7));
  ane_test_remove_tree (dir);
}

/* An F32 GGUF compiled on the CPU backend at fp16 keeps its weights as fp16
 * copies only: the file's pages are released; at fp32 the weights are
 * borrowed, and move into huge pages when those are on offer (the file's
 * pages released again), else stay. The model is bench-llm's --small shape
 * (12 MiB): with stories260K's 16 KiB matrices the kernel's fault-around
 * (a fault maps up to 64 KiB of neighbouring cached pages) would map most
 * released pages again as the next tensors are read. */
static void
test_gguf_fp16_releases_source (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const AneGgufSyntheticLlama spec = {
    .dim = 256, .hidden = 512, .layers = 4, .heads = 8, .kv_heads = 8, .vocab = 4096, .context = 64,
    .matrices = ANE_DTYPE_FLOAT32, .seed = 15,
  };
  g_autofree char *path = g_build_filename (dir, "small-f32.gguf", NULL);
  g_autoptr(GError) write_error = NULL;
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT16, ANE_PRECISION_FLOAT32 };
  gint64 file_kib;
  GStatBuf st;

  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &write_error));
  g_assert_no_error (write_error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  file_kib = (gint64) st.st_size / 1024;
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
      g_autoptr(AneGraph) graph = NULL;
      g_autoptr(AneExecutable) exe = NULL;
      g_autoptr(AneTensor) token = NULL;
      g_autoptr(AneTensor) position = NULL;
      g_autoptr(GPtrArray) out = NULL;
      gint64 rss;
      gsize copied = ane_file_hot_copied ();

      g_assert_no_error (error);
      graph = ane_llama_model_build_decode (m, 8, &error);
      g_assert_no_error (error);
      exe = ane_executable_new (graph, ANE_BACKEND_CPU);
      ane_executable_set_precision (exe, precisions[p]);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_no_error (error);
      g_test_message ("compiled: %" G_GINT64_FORMAT " KiB of the file resident, %" G_GSIZE_FORMAT " KiB copied", mapped_rss_kib (path), (ane_file_hot_copied () - copied) / 1024);
      /* one step: every weight read by the kernels */
      token = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, (const gint32[]) { 7 }, 1, &error);
      g_assert_no_error (error);
      position = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, (const gint32[]) { 0 }, 1, &error);
      g_assert_no_error (error);
      out = ane_executable_run (exe, (AneTensor *[]) { token, position }, 2, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (out);
      rss = mapped_rss_kib (path);
      if (rss < 0)
        {
          g_test_skip ("no /proc/self/smaps");
          break;
        }
      g_test_message ("%s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " KiB of the file resident",
                      p == 0 ? "fp16" : "fp32", rss, file_kib);
      if (precisions[p] == ANE_PRECISION_FLOAT16)
        g_assert_cmpint (rss, <, file_kib / 3);
      else if (ane_file_hot_enabled ())
        {
          /* the matrices moved into huge pages, the file's pages released:
           * one copy, not two */
          g_assert_cmpint (rss, <, file_kib / 3);
          g_assert_cmpuint (ane_file_hot_copied () - copied, >=, (gsize) file_kib * 1024 / 2);
          g_assert_cmpuint (ane_file_hot_copied () - copied, <=, (gsize) file_kib * 1024);
        }
      else
        g_assert_cmpint (rss, >, file_kib / 2);
    }
  ane_test_remove_tree (dir);
}

/* A Q8_0 GGUF on the CPU backend at fp32: the embedding's gathered rows are
 * read with pread(2) (ane_file_read_mapped), so decoding tokens spread over
 * the whole table maps none of the file's pages: through the mapping each
 * row would map the page-cache folio around it, 2 MiB where the page cache
 * holds large folios (this project's machine: 6 MiB more for these 15
 * tokens). The first step (compiling and moving the matrices) is measured
 * apart, so only the gathers count. */
static void
test_gguf_q8_0_gather (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const AneGgufSyntheticLlama spec = {
    .dim = 256, .hidden = 512, .layers = 2, .heads = 8, .kv_heads = 8, .vocab = 32768, .context = 64,
    .matrices = ANE_DTYPE_Q8_0, .seed = 17,
  };
  g_autofree char *path = g_build_filename (dir, "small-q8_0.gguf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  gint64 before = -1, after;

  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  graph = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (gint32 step = 0; step < 16; step++)
    {
      gint32 token_id = (gint32) ((step * 2053 + 11) % spec.vocab);
      g_autoptr(AneTensor) token = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token_id, 1, &error);
      g_autoptr(AneTensor) position = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &step, 1, &error);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      out = ane_executable_run (exe, (AneTensor *[]) { token, position }, 2, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (out);
      if (step == 0)
        before = mapped_rss_kib (path);
    }
  after = mapped_rss_kib (path);
  if (before < 0 || after < 0)
    {
      g_test_skip ("no /proc/self/smaps");
      ane_test_remove_tree (dir);
      return;
    }
  g_test_message ("q8_0: %" G_GINT64_FORMAT " KiB of the file resident after one step, %" G_GINT64_FORMAT
                  " after 16", before, after);
  g_assert_cmpint (after - before, <, 1024);
  ane_test_remove_tree (dir);
}

/* A tied classifier (stories15M's way: the embedding serves as the output
 * matrix too) is read whole by every step: it moves into huge pages with
 * the other matrices, and its file pages are released. Left in the
 * mapping, as every gathered table was before, each step mapped the whole
 * table again (32 MiB of Q8_0 here). */
static void
test_gguf_tied_classifier (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("file-pages-XXXXXX");
  const AneGgufSyntheticLlama spec = {
    .dim = 256, .hidden = 512, .layers = 2, .heads = 8, .kv_heads = 8, .vocab = 32768, .context = 64,
    .matrices = ANE_DTYPE_Q8_0, .seed = 17, .tied = TRUE,
  };
  g_autofree char *path = g_build_filename (dir, "tied-q8_0.gguf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  gint64 resident;
  gint64 table_kib = (gint64) spec.vocab * spec.dim / 32 * 34 / 1024;
  guint64 copied_before = ane_file_hot_copied ();

  if (!ane_file_hot_enabled ())
    {
      g_test_skip ("no huge pages here (ANE_HUGEPAGES=0, or transparent huge pages off)");
      ane_test_remove_tree (dir);
      return;
    }
  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_llama_model_get_weight (m, "output") == ane_llama_model_get_weight (m, "token_embedding"));
  graph = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (gint32 step = 0; step < 3; step++)
    {
      gint32 token_id = step * 1000 + 7;
      g_autoptr(AneTensor) token = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token_id, 1, &error);
      g_autoptr(AneTensor) position = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &step, 1, &error);
      g_autoptr(GPtrArray) out = ane_executable_run (exe, (AneTensor *[]) { token, position }, 2, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (out);
    }
  resident = mapped_rss_kib (path);
  if (resident < 0)
    {
      g_test_skip ("no /proc/self/smaps");
      ane_test_remove_tree (dir);
      return;
    }
  g_test_message ("tied Q8_0 classifier of %" G_GINT64_FORMAT " KiB: %" G_GINT64_FORMAT " KiB of the file resident "
                  "after 3 steps, %" G_GUINT64_FORMAT " KiB copied into huge pages", table_kib, resident,
                  (ane_file_hot_copied () - copied_before) / 1024);
  g_assert_cmpuint ((ane_file_hot_copied () - copied_before) / 1024, >=, (guint64) table_kib);
  g_assert_cmpint (resident, <, table_kib / 4);
  ane_test_remove_tree (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/file/pages/release-mapped", test_release_mapped);
  g_test_add_func ("/file/pages/other-memory", test_release_other_memory);
  g_test_add_func ("/file/pages/hot-copy", test_hot_copy);
  g_test_add_func ("/file/pages/gguf-fp16", test_gguf_fp16_releases_source);
  g_test_add_func ("/file/pages/gguf-q8_0-gather", test_gguf_q8_0_gather);
  g_test_add_func ("/file/pages/gguf-tied-classifier", test_gguf_tied_classifier);
  return g_test_run ();
}
