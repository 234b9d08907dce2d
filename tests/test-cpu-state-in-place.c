/* tests/test-cpu-state-in-place.c: the CPU backend's in-place state updates
 *
 * Issue 15, item 4: a state read, updated by slice_update and written back
 * (how both LLaMA decode steps write their key/value caches) runs in place:
 * read_state views the state, slice_update writes its rows into it, and the
 * casts, reshape and write_state around it copy nothing
 * (ane-cpu-plan.c, plan_state_updates). These tests check
 *   - hand-written programs in fp32 (the new rows kept in fp32 for the ops
 *     that read them, stored rounded to fp16) and fp16, step after step,
 *     against values computed here;
 *   - that a chain whose read value has another reader is left as written;
 *   - the stories260K decode step: every cache of every layer updated in
 *     place, and logits and caches bit-identical to the plan that runs every
 *     op as written, in fp32 and fp16, over several steps, through plain
 *     runs and through runs on bound buffers (as generation runs it).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-text-private.h"
#include "model/ane-llama-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-private.h"

#define H 2
#define ROWS 8
#define D 4

/* read_state → [cast fp32] → slice_update → [cast fp16] → write_state, and
 * out = 2 · reshape (the updated value); extra_reader: the read value is an
 * output too (no longer a chain the plan may fuse). */
static char *
chain_program (gboolean fp32,
               gboolean extra_reader)
{
  const char *t = fp32 ? "fp32" : "fp16";
  GString *s = g_string_new ("program(1.3)\n{\n");

  g_string_append_printf (s,
    "  func main<ios18>(tensor<%s, [1, %d, 1, %d]> u, tensor<int32, [4]> b, tensor<int32, [4]> e,"
    " state<tensor<fp16, [1, %d, %d, %d]>> s) {\n", t, H, D, H, ROWS, D);
  g_string_append_printf (s, "    tensor<fp16, [1, %d, %d, %d]> r16 = read_state(input = s)[name = string(\"r16\")];\n",
                          H, ROWS, D);
  if (fp32)
    {
      g_string_append_printf (s, "    tensor<fp32, [1, %d, %d, %d]> r = cast(x = r16, dtype = string(\"fp32\"))[name = string(\"r\")];\n",
                              H, ROWS, D);
      g_string_append_printf (s, "    tensor<fp32, [1, %d, %d, %d]> y = slice_update(x = r, update = u, begin = b, end = e)"
                              "[name = string(\"y\")];\n", H, ROWS, D);
      g_string_append_printf (s, "    tensor<fp16, [1, %d, %d, %d]> y16 = cast(x = y, dtype = string(\"fp16\"))[name = string(\"y16\")];\n",
                              H, ROWS, D);
      g_string_append (s, "    write_state(input = s, data = y16)[name = string(\"w\")];\n");
    }
  else
    {
      g_string_append_printf (s, "    tensor<fp16, [1, %d, %d, %d]> y = slice_update(x = r16, update = u, begin = b, end = e)"
                              "[name = string(\"y\")];\n", H, ROWS, D);
      g_string_append (s, "    write_state(input = s, data = y)[name = string(\"w\")];\n");
    }
  g_string_append_printf (s, "    tensor<%s, [1, %d, 1, %d, %d]> z = reshape(x = y, shape = tensor<int32, [5]>([1, %d, 1, %d, %d]))[name = string(\"z\")];\n",
                          t, H, ROWS, D, H, ROWS, D);
  g_string_append_printf (s, "    tensor<%s, [1, %d, 1, %d, %d]> out = mul(x = z, y = %s(0x1p+1))[name = string(\"out\")];\n",
                          t, H, ROWS, D, t);
  if (extra_reader)
    g_string_append_printf (s, "    tensor<fp16, [1, %d, %d, %d]> seen = identity(x = r16)[name = string(\"seen\")];\n"
                            "  } -> (out, seen);\n}\n", H, ROWS, D);
  else
    g_string_append (s, "  } -> (out);\n}\n");
  return g_string_free (s, FALSE);
}

static float
to_half (float v)
{
  return ane_half_to_float (ane_float_to_half (v));
}

static AneTensor *
ints4 (const char *name,
       gint32      a,
       gint32      b,
       gint32      c,
       gint32      d)
{
  const gint32 v[4] = { a, b, c, d };

  return ane_tensor_new_from_ints (name, (const gint64[]) { 4 }, 1, v, 4, NULL);
}

static void
check_chain (gconstpointer data)
{
  gboolean fp32 = GPOINTER_TO_INT (data) & 1, extra = GPOINTER_TO_INT (data) & 2;
  g_autofree char *text = chain_program (fp32, extra);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &error);
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  float cache[H * ROWS * D] = { 0 };

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_cpu_plan_get_in_place_updates (ane_cpu_backend_get_plan (backend)), ==, extra ? 0 : 1);

  /* rows written out of order, one twice: each run sees the state the last left */
  for (guint step = 0; step < 10; step++)
    {
      gint32 row = (gint32) ((step * 5) % ROWS);
      float u[H * D], want_out[H * ROWS * D];
      g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
      g_autoptr(GPtrArray) outs = NULL;
      g_autofree float *got = NULL, *got_state = NULL;
      gsize n = 0;

      for (guint i = 0; i < H * D; i++)
        {
          u[i] = (float) g_rand_double_range (rand, -3, 3);   /* not fp16 values */
          if (!fp32)
            u[i] = to_half (u[i]);
        }
      g_hash_table_insert (inputs, (gpointer) "u",
                           ane_tensor_new_from_floats ("u", (const gint64[]) { 1, H, 1, D }, 4, u, H * D, NULL));
      g_hash_table_insert (inputs, (gpointer) "b", ints4 ("b", 0, 0, row, 0));
      g_hash_table_insert (inputs, (gpointer) "e", ints4 ("e", 1, H, row + 1, D));

      /* the value slice_update makes: the new row as given (fp32 in an
       * fp32 program), the others as stored; the state keeps fp16 */
      memcpy (want_out, cache, sizeof cache);
      for (guint h = 0; h < H; h++)
        for (guint d = 0; d < D; d++)
          {
            want_out[(h * ROWS + row) * D + d] = u[h * D + d];
            cache[(h * ROWS + row) * D + d] = to_half (u[h * D + d]);
          }
      for (guint i = 0; i < H * ROWS * D; i++)
        want_out[i] = fp32 ? 2.0f * want_out[i] : to_half (2.0f * want_out[i]);

      outs = ane_cpu_backend_run (backend, inputs, states, FALSE, NULL, &error);
      g_assert_no_error (error);
      got = ane_tensor_dup_floats (g_ptr_array_index (outs, 0), &n, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (n, ==, H * ROWS * D);
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat (got[i], ==, want_out[i]);
      got_state = ane_tensor_dup_floats (g_hash_table_lookup (states, "s"), &n, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat (got_state[i], ==, cache[i]);
      if (extra)
        {
          /* the other reader saw the state before this run's write */
          g_autofree float *seen = ane_tensor_dup_floats (g_ptr_array_index (outs, 1), &n, &error);

          g_assert_no_error (error);
          for (guint h = 0; h < H; h++)
            for (guint d = 0; d < D; d++)
              if (step == 0 || (step * 5) % ROWS != ((step - 1) * 5) % ROWS)
                g_assert_cmpfloat (seen[(h * ROWS + row) * D + d], !=, cache[(h * ROWS + row) * D + d]);
        }
    }
}

/* An out-of-range box fails the run with the op named, and the state is
 * left as it was (the backend works on its own copy). */
static void
check_bad_box (void)
{
  g_autofree char *text = chain_program (TRUE, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &error);
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(GPtrArray) outs = NULL;
  float u[H * D] = { 1, 2, 3, 4, 5, 6, 7, 8 };

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_hash_table_insert (inputs, (gpointer) "u",
                       ane_tensor_new_from_floats ("u", (const gint64[]) { 1, H, 1, D }, 4, u, H * D, NULL));
  g_hash_table_insert (inputs, (gpointer) "b", ints4 ("b", 0, 0, ROWS, 0));
  g_hash_table_insert (inputs, (gpointer) "e", ints4 ("e", 1, H, ROWS + 1, D));
  outs = ane_cpu_backend_run (backend, inputs, states, FALSE, NULL, &error);
  g_assert_null (outs);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "'y'"));
  g_assert_null (g_hash_table_lookup (states, "s"));
}

static const gint32 llama_tokens[] = { 1, 403, 407, 261, 378, 284 };

/* The cache names k_cache_0, v_cache_0, k_cache_1, ... (index i). */
static char *
cache_name (guint i)
{
  return g_strdup_printf ("%c_cache_%u", i % 2 ? 'v' : 'k', i / 2);
}

/* The decode step of stories260K through plain runs, steps 0..n-1, on a
 * plan with or without in-place updates: the logits of every step, and the
 * caches after in *caches_out (k_cache_0, v_cache_0, ...). */
static GPtrArray *
decode_steps (AneGraph     *graph,
              AnePrecision  precision,
              gboolean      in_place,
              guint         n_layers,
              GPtrArray   **caches_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  GPtrArray *logits = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 allocated = 0;

  ane_cpu_plan_set_in_place_states (in_place);
  backend = ane_cpu_backend_new_for_graph (graph, ANE_TARGET_IOS18, precision, NULL, 0, &error);
  ane_cpu_plan_set_in_place_states (TRUE);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_cpu_plan_get_in_place_updates (ane_cpu_backend_get_plan (backend)), ==,
                    in_place ? 2 * n_layers : 0);
  for (guint i = 0; i < G_N_ELEMENTS (llama_tokens); i++)
    {
      g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
      g_autoptr(GPtrArray) outs = NULL;
      gint32 pos = (gint32) i;

      g_hash_table_insert (inputs, (gpointer) "token",
                           ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &llama_tokens[i], 1, NULL));
      g_hash_table_insert (inputs, (gpointer) "position",
                           ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL));
      outs = ane_cpu_backend_run (backend, inputs, states, FALSE, NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (logits, g_object_ref (g_ptr_array_index (outs, 0)));
      /* issue 15 item 4, no per-run allocation: after the first step every
       * value of a step takes its storage from the plan's arena, but for
       * the logits, which are handed over (a run on bound buffers writes
       * them into the caller's) */
      if (i == 0)
        allocated = ane_cpu_plan_get_allocations (ane_cpu_backend_get_plan (backend));
    }
  g_assert_cmpuint (allocated, >, 10);
  g_assert_cmpuint (ane_cpu_plan_get_allocations (ane_cpu_backend_get_plan (backend)), ==,
                    allocated + G_N_ELEMENTS (llama_tokens) - 1);
  g_assert_cmpuint (ane_cpu_plan_get_reuses (ane_cpu_backend_get_plan (backend)), >=,
                    (G_N_ELEMENTS (llama_tokens) - 1) * allocated);
  g_assert_cmpuint (g_hash_table_size (states), ==, 2 * n_layers);
  *caches_out = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < 2 * n_layers; i++)
    {
      g_autofree char *name = cache_name (i);

      g_ptr_array_add (*caches_out, g_object_ref (g_hash_table_lookup (states, name)));
    }
  return logits;
}

/* The same through an executable whose ports are bound to buffers (how
 * generation runs the step): the states are the buffers themselves, so
 * no conversion at the interface rounds them. */
static GPtrArray *
decode_steps_bound (AneGraph     *graph,
                    AnePrecision  precision,
                    gboolean      in_place,
                    guint         n_layers,
                    GPtrArray   **caches_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  g_autoptr(AneBuffer) token = NULL;
  g_autoptr(AneBuffer) position = NULL;
  g_autoptr(AneBuffer) logits = NULL;
  g_autoptr(GPtrArray) caches = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *all = g_ptr_array_new_with_free_func (g_object_unref);

  ane_executable_set_precision (exe, precision);
  ane_cpu_plan_set_in_place_states (in_place);
  ane_executable_compile (exe, NULL, &error);
  ane_cpu_plan_set_in_place_states (TRUE);
  g_assert_no_error (error);
  token = ane_executable_new_buffer (exe, "token", &error);
  g_assert_no_error (error);
  position = ane_executable_new_buffer (exe, "position", &error);
  g_assert_no_error (error);
  logits = ane_executable_new_buffer (exe, "logits", &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_bind (exe, "token", token, &error));
  g_assert_true (ane_executable_bind (exe, "position", position, &error));
  g_assert_true (ane_executable_bind (exe, "logits", logits, &error));
  for (guint i = 0; i < 2 * n_layers; i++)
    {
      g_autofree char *name = cache_name (i);
      AneBuffer *cache = ane_executable_new_buffer (exe, name, &error);

      g_assert_no_error (error);
      g_assert_true (ane_buffer_clear (cache, &error));
      g_assert_true (ane_executable_bind (exe, name, cache, &error));
      g_ptr_array_add (caches, cache);
    }
  for (guint i = 0; i < G_N_ELEMENTS (llama_tokens); i++)
    {
      gint32 pos = (gint32) i;
      g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &llama_tokens[i], 1, NULL);
      g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL);

      g_assert_true (ane_buffer_write_tensor (token, t_tok, &error));
      g_assert_true (ane_buffer_write_tensor (position, t_pos, &error));
      g_assert_true (ane_executable_run_bound (exe, NULL, &error));
      g_assert_no_error (error);
      g_ptr_array_add (all, ane_buffer_dup_tensor (logits, &error));
      g_assert_no_error (error);
    }
  *caches_out = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < caches->len; i++)
    {
      g_ptr_array_add (*caches_out, ane_buffer_dup_tensor (g_ptr_array_index (caches, i), &error));
      g_assert_no_error (error);
    }
  return all;
}

static void
assert_same_floats (AneTensor *a,
                    AneTensor *b)
{
  g_autoptr(GError) error = NULL;
  gsize na = 0, nb = 0;
  g_autofree float *fa = ane_tensor_dup_floats (a, &na, &error);
  g_autofree float *fb = ane_tensor_dup_floats (b, &nb, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpmem (fa, na * sizeof (float), fb, nb * sizeof (float));
}

typedef GPtrArray *(*DecodeSteps) (AneGraph *graph, AnePrecision precision, gboolean in_place, guint n_layers,
                                   GPtrArray **caches_out);

/* Logits and caches of the decode steps with and without in-place updates,
 * bit for bit. */
static void
check_llama_with (AnePrecision precision,
                  DecodeSteps  steps)
{
  g_autoptr(AneLlamaModel) model = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_decode (model, 32, &error);
  g_autoptr(GPtrArray) caches_a = NULL;
  g_autoptr(GPtrArray) caches_b = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  guint n_layers = (guint) ane_llama_model_get_n_layers (model);

  g_assert_no_error (error);
  a = steps (graph, precision, TRUE, n_layers, &caches_a);
  b = steps (graph, precision, FALSE, n_layers, &caches_b);
  for (guint i = 0; i < a->len; i++)
    assert_same_floats (g_ptr_array_index (a, i), g_ptr_array_index (b, i));
  for (guint i = 0; i < caches_a->len; i++)
    assert_same_floats (g_ptr_array_index (caches_a, i), g_ptr_array_index (caches_b, i));
}

static void
check_llama (gconstpointer data)
{
  check_llama_with (GPOINTER_TO_INT (data), decode_steps);
}

static void
check_llama_bound (gconstpointer data)
{
  check_llama_with (GPOINTER_TO_INT (data), decode_steps_bound);
}

/* The Neural Engine-shaped step writes its caches the same way (host box,
 * channels-first cache [1, n_kv_heads · head, 1, max_seq]): on the CPU
 * backend every cache is updated in place there too. */
static void
check_ane_step (void)
{
  g_autoptr(AneLlamaModel) model = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  gint64 n_layers = ane_llama_model_get_n_layers (model);
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_step (model, 1, 32, 0, n_layers, ANE_LLAMA_HEAD_LOGITS,
                                                              ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, &error);
  g_autoptr(AneCpuBackend) backend = NULL;

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_cpu_plan_get_in_place_updates (ane_cpu_backend_get_plan (backend)), ==, 2 * n_layers);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/cpu/state-in-place/fp32", GINT_TO_POINTER (1), check_chain);
  g_test_add_data_func ("/cpu/state-in-place/fp16", GINT_TO_POINTER (0), check_chain);
  g_test_add_data_func ("/cpu/state-in-place/other-reader-fp32", GINT_TO_POINTER (3), check_chain);
  g_test_add_data_func ("/cpu/state-in-place/other-reader-fp16", GINT_TO_POINTER (2), check_chain);
  g_test_add_func ("/cpu/state-in-place/bad-box", check_bad_box);
  g_test_add_data_func ("/cpu/state-in-place/llama-fp32", GINT_TO_POINTER (ANE_PRECISION_FLOAT32), check_llama);
  g_test_add_data_func ("/cpu/state-in-place/llama-fp16", GINT_TO_POINTER (ANE_PRECISION_FLOAT16), check_llama);
  g_test_add_data_func ("/cpu/state-in-place/llama-bound-fp32", GINT_TO_POINTER (ANE_PRECISION_FLOAT32),
                        check_llama_bound);
  g_test_add_data_func ("/cpu/state-in-place/llama-bound-fp16", GINT_TO_POINTER (ANE_PRECISION_FLOAT16),
                        check_llama_bound);
  g_test_add_func ("/cpu/state-in-place/ane-step", check_ane_step);
  return g_test_run ();
}
