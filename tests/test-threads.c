/* test-threads.c: the thread-safety contract of AneExecutable, AnePackage, AneGraph,
 * AneLlamaModel and AneTokenizer
 *
 * What docs/safety.md promises, exercised from several threads at once so a
 * ThreadSanitizer build can see every access: one executable run from four
 * threads (runs are serialized; each must still give the one right answer),
 * many executables of one graph compiled and run in parallel (the graph is
 * only read), run_async beside set_param (each run sees one whole param
 * value, old or new, never a mix), one package read by many executables,
 * one model and tokenizer generating from many threads.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

#define N_THREADS 4
#define N_RUNS    25

static const gint64 xs[] = { 4, 8 }, ws[] = { 8, 8 };

/* y = relu (x . w): w a param (set per test) */
static AneGraph *
graph_new (void)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, ws, 2, &error);
  g_autoptr(AneTensor) h = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, h, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

/* w = k on the diagonal: y = relu (k x) */
static AneTensor *
diagonal (float k)
{
  float v[64] = { 0 };

  for (int i = 0; i < 8; i++)
    v[i * 8 + i] = k;
  return ane_test_tensor_f32 ("w", ws, 2, v);
}

static AneTensor *
input_x (void)
{
  return ane_test_tensor_random ("x", xs, 2, 7, 0.5f, 2.0f);   /* positive: relu keeps it */
}

/* The factor k such that y = k x, or NAN if y is not one multiple of x. */
static float
factor_of (AneTensor *y,
           AneTensor *x)
{
  g_autofree float *yv = ane_test_dup_floats (y);
  g_autofree float *xv = ane_test_dup_floats (x);
  float k = yv[0] / xv[0];

  for (int i = 1; i < 32; i++)
    if (!(ABS (yv[i] - k * xv[i]) <= 1e-3f * ABS (yv[i])))   /* a NaN fails too */
      return NAN;
  return k;
}

/* --- one executable, four threads ---------------------------------------------- */

typedef struct {
  AneExecutable *exe;
  AneTensor     *x;
  gint           failures;
} Shared;

static gpointer
run_many (gpointer data)
{
  Shared *s = data;

  for (int i = 0; i < N_RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = ane_executable_run (s->exe, &s->x, 1, NULL, &error);

      if (out == NULL || factor_of (g_ptr_array_index (out, 0), s->x) != 2.0f)
        g_atomic_int_inc (&s->failures);
    }
  return NULL;
}

static void
test_one_executable (void)
{
  g_autoptr(AneGraph) g = graph_new ();
  g_autoptr(AneTensor) w = diagonal (2.0f);
  g_autoptr(AneTensor) x = input_x ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
  Shared s = { exe, x, 0 };
  GThread *threads[N_THREADS];

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_set_param (exe, "w", w, &error));
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (int t = 0; t < N_THREADS; t++)
    threads[t] = g_thread_new ("run", run_many, &s);
  for (int t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (s.failures, ==, 0);
}

/* --- many executables of one graph --------------------------------------------- */

typedef struct {
  AneGraph  *graph;
  AneTensor *x;
  float      k;
  gint      *failures;
} Own;

static gpointer
compile_and_run (gpointer data)
{
  Own *o = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (o->graph, o->k > 2.5f ? ANE_BACKEND_REFERENCE : ANE_BACKEND_CPU);
  g_autoptr(AneTensor) w = diagonal (o->k);

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  if (!ane_executable_set_param (exe, "w", w, &error) || !ane_executable_compile (exe, NULL, &error))
    {
      g_atomic_int_inc (o->failures);
      return NULL;
    }
  for (int i = 0; i < N_RUNS; i++)
    {
      g_autoptr(GPtrArray) out = ane_executable_run (exe, &o->x, 1, NULL, &error);

      if (out == NULL || factor_of (g_ptr_array_index (out, 0), o->x) != o->k)
        g_atomic_int_inc (o->failures);
    }
  return NULL;
}

static void
test_many_executables (void)
{
  g_autoptr(AneGraph) g = graph_new ();
  g_autoptr(AneTensor) x = input_x ();
  gint failures = 0;
  Own own[2 * N_THREADS];
  GThread *threads[2 * N_THREADS];

  for (int t = 0; t < 2 * N_THREADS; t++)
    {
      own[t] = (Own) { g, x, 1.0f + 0.5f * (float) t, &failures };
      threads[t] = g_thread_new ("exe", compile_and_run, &own[t]);
    }
  for (int t = 0; t < 2 * N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (failures, ==, 0);
}

/* --- run_async beside set_param ---------------------------------------------------- */

typedef struct {
  AneExecutable *exe;
  AneTensor     *x;
  GMainLoop     *loop;
  gint           pending;
  gint           bad;
  gint           done;
} Async;

static void
run_done (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Async *a = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = ane_executable_run_finish (ANE_EXECUTABLE (source), result, &error);
  float k = out != NULL ? factor_of (g_ptr_array_index (out, 0), a->x) : NAN;

  /* one whole param, the old or the new one */
  if (k != 1.0f && k != 3.0f)
    a->bad++;
  a->done++;
  if (--a->pending == 0)
    g_main_loop_quit (a->loop);
}

static gpointer
flip_params (gpointer data)
{
  Async *a = data;

  for (int i = 0; i < 4 * N_RUNS; i++)
    {
      g_autoptr(AneTensor) w = diagonal (i % 2 ? 3.0f : 1.0f);
      g_autoptr(GError) error = NULL;

      if (!ane_executable_set_param (a->exe, "w", w, &error))
        g_atomic_int_inc (&a->bad);
    }
  return NULL;
}

static void
test_run_async_beside_set_param (void)
{
  g_autoptr(AneGraph) g = graph_new ();
  g_autoptr(AneTensor) w = diagonal (1.0f);
  g_autoptr(AneTensor) x = input_x ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Async a = { exe, x, loop, 2 * N_RUNS, 0, 0 };
  GThread *flipper;

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_set_param (exe, "w", w, &error));
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  flipper = g_thread_new ("set_param", flip_params, &a);
  for (int i = 0; i < 2 * N_RUNS; i++)
    ane_executable_run_async (exe, &x, 1, NULL, run_done, &a);
  g_main_loop_run (loop);
  g_thread_join (flipper);
  g_assert_cmpint (a.done, ==, 2 * N_RUNS);
  g_assert_cmpint (a.bad, ==, 0);
}

/* --- one package, many readers ------------------------------------------------------ */

typedef struct {
  AnePackage *package;
  AneTensor  *x;
  gint       *failures;
} Reader;

static gpointer
read_package (gpointer data)
{
  Reader *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new_from_package (r->package, NULL, &error);
  g_auto(GStrv) problems = NULL;

  if (exe == NULL)
    {
      g_atomic_int_inc (r->failures);
      return NULL;
    }
  problems = ane_package_check_types (r->package, NULL);
  if (problems[0] != NULL)
    g_atomic_int_inc (r->failures);
  for (int i = 0; i < N_RUNS; i++)
    {
      g_autoptr(GPtrArray) out = ane_executable_run (exe, &r->x, 1, NULL, &error);

      if (out == NULL || factor_of (g_ptr_array_index (out, 0), r->x) != 2.0f)
        g_atomic_int_inc (r->failures);
    }
  return NULL;
}

static void
test_one_package (void)
{
  g_autoptr(AneGraph) g = graph_new ();
  g_autoptr(AneTensor) w = diagonal (2.0f);
  g_autoptr(AneTensor) x = input_x ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-threads-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autoptr(AnePackage) made = NULL, pkg = NULL;
  gint failures = 0;
  Reader r;
  GThread *threads[N_THREADS];

  g_assert_true (ane_graph_bind_param (g, "w", w, &error));
  made = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (made, path, FALSE, &error));
  pkg = ane_package_load (path, &error);
  g_assert_no_error (error);
  r = (Reader) { pkg, x, &failures };
  for (int t = 0; t < N_THREADS; t++)
    threads[t] = g_thread_new ("package", read_package, &r);
  for (int t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (failures, ==, 0);
  ane_test_remove_tree (dir);
}

/* --- one model and one tokenizer, many generations ----------------------------------- */

typedef struct {
  AneLlamaModel *model;
  AneTokenizer  *tokenizer;
  const char    *want;
  gint          *failures;
} Generator;

#define STORY_TOKENS 12

static gpointer
generate_story (gpointer data)
{
  Generator *gen = data;
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 2; i++)
    {
      gsize n = 0;
      g_autofree gint32 *ids = ane_tokenizer_encode (gen->tokenizer, "Once upon a time", TRUE, FALSE, &n);
      g_autofree char *back = ane_tokenizer_decode (gen->tokenizer, ids + 1, n - 1);
      g_autofree char *text = ane_llama_model_generate (gen->model, gen->tokenizer, "Once upon a time",
                                                        STORY_TOKENS, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                                        0.0, 0.9, 0, NULL, NULL, &error);

      if (text == NULL || g_strcmp0 (text, gen->want) != 0 ||
          g_strcmp0 (g_strstrip (back), "Once upon a time") != 0)
        g_atomic_int_inc (gen->failures);
      g_clear_error (&error);
    }
  return NULL;
}

/* docs/safety.md: a model and a tokenizer do not change once loaded, and
 * each generation has its own executable and key/value cache, so
 * generations from several threads give what one alone gives. */
static void
test_one_model (void)
{
  g_autofree char *model_path = g_test_build_filename (G_TEST_DIST, "..", "data", "models", "stories260K.bin", NULL);
  g_autofree char *tok_path = g_test_build_filename (G_TEST_DIST, "..", "data", "models", "tok512.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = ane_llama_model_load_llama2c (model_path, &error);
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autofree char *want = NULL;
  gint failures = 0;
  Generator gen;
  GThread *threads[N_THREADS];

  g_assert_no_error (error);
  tokenizer = ane_tokenizer_load_llama2c (tok_path, (guint) ane_llama_model_get_vocab_size (model), &error);
  g_assert_no_error (error);
  want = ane_llama_model_generate (model, tokenizer, "Once upon a time", STORY_TOKENS, ANE_BACKEND_CPU,
                                   ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (want), >, 0);
  gen = (Generator) { model, tokenizer, want, &failures };
  for (int t = 0; t < N_THREADS; t++)
    threads[t] = g_thread_new ("generate", generate_story, &gen);
  for (int t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (failures, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/threads/one-executable", test_one_executable);
  g_test_add_func ("/ane/threads/many-executables", test_many_executables);
  g_test_add_func ("/ane/threads/run-async-beside-set-param", test_run_async_beside_set_param);
  g_test_add_func ("/ane/threads/one-package", test_one_package);
  g_test_add_func ("/ane/threads/one-model", test_one_model);
  return g_test_run ();
}
