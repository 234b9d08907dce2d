/* test-ops-state.c: read_state / write_state and persistence across runs, and a KV
 * cache written one position a run with slice_update
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"

static const gint64 s4[] = { 4 };

/* A running accumulator: acc += x each run; output the new value. */
static AneGraph *
accumulator_graph (AneDType dtype)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", dtype, s4, 1, &error);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", dtype, s4, 1, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old, x, &error);
  g_autoptr(AneTensor) written = ane_graph_write_state (g, acc, sum, &error);

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", written, &error);
  g_assert_no_error (error);
  return g;
}

static void
test_shape_rules (void)
{
  static const gint64 s3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s3, 1, &error);
  g_autoptr(AneTensor) h = ane_graph_input (g, "h", ANE_DTYPE_FLOAT16, s4, 1, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, st, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_shape (r, s4, 1);

  bad = ane_graph_write_state (g, st, x, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "write_state"));
  g_assert_nonnull (strstr (error->message, "float32[3]"));
  g_assert_nonnull (strstr (error->message, "float32[4]"));
  g_clear_error (&error);

  bad = ane_graph_write_state (g, st, h, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  /* only a declared state can be read or written */
  bad = ane_graph_read_state (g, r, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not a state"));
  g_clear_error (&error);
}

static void
test_persistence (void)
{
  static const float xv[] = { 1, 2, 3, 4 };
  static const float after1[] = { 1, 2, 3, 4 }, after2[] = { 2, 4, 6, 8 }, after3[] = { 3, 6, 9, 12 };
  g_autoptr(AneGraph) g = accumulator_graph (ANE_DTYPE_FLOAT32);
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s4, 1, xv);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y1 = NULL, y2 = NULL, y3 = NULL, st = NULL, zero = NULL;

  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  zero = ane_executable_dup_state (exe, "acc", &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (ane_tensor_get_value (zero, 3), ==, 0);

  y1 = ane_executable_run_one (exe, tx, &error);
  y2 = ane_executable_run_one (exe, tx, &error);
  g_assert_no_error (error);
  ane_test_assert_close (y1, after1, 4, 0, 0);
  ane_test_assert_close (y2, after2, 4, 0, 0);
  st = ane_executable_dup_state (exe, "acc", &error);
  ane_test_assert_close (st, after2, 4, 0, 0);

  ane_executable_reset_states (exe);
  g_clear_object (&y3);
  y3 = ane_executable_run_one (exe, tx, &error);
  ane_test_assert_close (y3, after1, 4, 0, 0);

  /* set_state seeds the next run */
  g_assert_true (ane_executable_set_state (exe, "acc", y2, &error));
  g_clear_object (&y3);
  y3 = ane_executable_run_one (exe, tx, &error);
  ane_test_assert_close (y3, after3, 4, 0, 0);

  g_assert_null (ane_executable_dup_state (exe, "nope", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (ane_executable_set_state (exe, "acc", zero, NULL));
}

static void
test_write_without_consumer (void)
{
  /* write_state runs even though no output depends on it. */
  static const float xv[] = { 5, 6, 7, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) w = ane_graph_write_state (g, st, x, &error);
  g_autoptr(AneTensor) y = ane_graph_neg (g, x, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s4, 1, xv);
  g_autoptr(AneTensor) out = NULL, saved = NULL;

  g_assert_nonnull (w);
  ane_graph_add_output (g, "y", y, &error);
  exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  ane_executable_compile (exe, NULL, &error);
  out = ane_executable_run_one (exe, tx, &error);
  g_assert_no_error (error);
  saved = ane_executable_dup_state (exe, "s", &error);
  ane_test_assert_close (saved, xv, 4, 0, 0);
}

static void
test_read_after_write_in_program_order (void)
{
  /* read -> write -> read: the second read sees this run's write. */
  static const float xv[] = { 1, 1, 1, 1 };
  static const float first[] = { 0, 0, 0, 0 }, second[] = { 1, 1, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) r1 = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) w = ane_graph_write_state (g, st, x, &error);
  g_autoptr(AneTensor) r2 = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s4, 1, xv);
  g_autoptr(GPtrArray) out = NULL;

  ane_graph_add_output (g, "before", r1, &error);
  ane_graph_add_output (g, "after", r2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (w);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), first, 4, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), second, 4, 0, 0);
}

static void
test_fp16_state_rounds (void)
{
  /* A float16 state stores float16 values: 1 + 2^-12 (not a half) is kept as 1. */
  static const gint64 s1[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s1, 1, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT16, s1, 1, &error);
  g_autoptr(AneTensor) xh = ane_graph_cast (g, x, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) w = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) tx = NULL, saved = NULL, out = NULL;
  static const float one = 1.0f + 0x1p-12f;

  if (xh == NULL)
    {
      ane_test_skip ("cast is not available yet");
      return;
    }
  w = ane_graph_write_state (g, st, xh, &error);
  ane_graph_add_output (g, "y", w, &error);
  exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  ane_executable_compile (exe, NULL, &error);
  tx = ane_test_tensor_f32 ("x", s1, 1, &one);
  out = ane_executable_run_one (exe, tx, &error);
  g_assert_no_error (error);
  saved = ane_executable_dup_state (exe, "s", &error);
  g_assert_cmpint (ane_tensor_get_dtype (saved), ==, ANE_DTYPE_FLOAT16);
  g_assert_cmpfloat (ane_tensor_get_value (saved, 0), ==, 1.0);
}

/* The KV-cache pattern: a float16 state [1, C, 1, S] read, one position
 * [1, C, 1, 1] written at begin [0, 0, 0, pos] (an int32 graph input) with
 * slice_update, and stored back. Each run writes another position; the
 * output and the state hold every position written so far. A position
 * past the end is clamped to the last one (docs/ir-ops.md). Run on the
 * reference and, lowered to MIL (iOS18: read_state, slice_update,
 * write_state), on the CPU backend: both must hold the same cache. */
#define KV_C 3
#define KV_S 5

static void
test_kv_cache_slice_update (void)
{
  static const gint64 cache_shape[] = { 1, KV_C, 1, KV_S }, new_shape[] = { 1, KV_C, 1, 1 }, s4b[] = { 4 };
  static const gint64 positions[] = { 0, 1, 3, 2, 4, 9 };   /* 9 is clamped to 4 */
  static const AneBackend backends[] = { ANE_BACKEND_REFERENCE, ANE_BACKEND_CPU };

  for (guint bi = 0; bi < G_N_ELEMENTS (backends); bi++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) st = ane_graph_state (g, "k_cache", ANE_DTYPE_FLOAT16, cache_shape, 4, &error);
      g_autoptr(AneTensor) kv = ane_graph_input (g, "k_new", ANE_DTYPE_FLOAT16, new_shape, 4, &error);
      g_autoptr(AneTensor) pos = ane_graph_input (g, "begin", ANE_DTYPE_INT32, s4b, 1, &error);
      g_autoptr(AneTensor) old = ane_graph_read_state (g, st, &error);
      g_autoptr(AneTensor) upd = ane_graph_slice_update (g, old, kv, pos, &error);
      g_autoptr(AneTensor) w = ane_graph_write_state (g, st, upd, &error);
      g_autoptr(AneExecutable) exe = NULL;
      double cache[KV_C * KV_S] = { 0, };

      g_assert_no_error (error);
      ane_graph_add_output (g, "cache", w, &error);
      g_assert_no_error (error);
      exe = ane_executable_new (g, backends[bi]);
      ane_executable_set_target (exe, ANE_TARGET_IOS18);
      ane_executable_compile (exe, NULL, &error);
      g_assert_no_error (error);
      for (guint step = 0; step < G_N_ELEMENTS (positions); step++)
        {
          double kvv[KV_C], bv[4] = { 0, 0, 0, (double) positions[step] };
          gint64 at = MIN (positions[step], KV_S - 1);
          g_autoptr(AneTensor) tk = NULL, tb = NULL, state = NULL;
          g_autoptr(GPtrArray) out = NULL;
          AneTensor *ins[2];

          for (guint c = 0; c < KV_C; c++)
            {
              kvv[c] = (step + 1) + 0.25 * c;   /* exact in float16 */
              cache[c * KV_S + at] = kvv[c];
            }
          tk = ane_test_tensor_values ("k_new", ANE_DTYPE_FLOAT16, new_shape, 4, kvv);
          tb = ane_test_tensor_values ("begin", ANE_DTYPE_INT32, s4b, 1, bv);
          ins[0] = tk;
          ins[1] = tb;
          out = ane_executable_run (exe, ins, 2, NULL, &error);
          g_assert_no_error (error);
          ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT16, cache_shape, 4);
          ane_test_assert_values (g_ptr_array_index (out, 0), cache, KV_C * KV_S);
          state = ane_executable_dup_state (exe, "k_cache", &error);
          g_assert_no_error (error);
          ane_test_assert_values (state, cache, KV_C * KV_S);
        }
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/ops/state/shape-rules", test_shape_rules);
  g_test_add_func ("/ane/ops/state/persistence", test_persistence);
  g_test_add_func ("/ane/ops/state/write-without-consumer", test_write_without_consumer);
  g_test_add_func ("/ane/ops/state/program-order", test_read_after_write_in_program_order);
  g_test_add_func ("/ane/ops/state/fp16-rounds", test_fp16_state_rounds);
  g_test_add_func ("/ane/ops/state/kv-cache-slice-update", test_kv_cache_slice_update);
  return g_test_run ();
}
