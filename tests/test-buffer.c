/* test-buffer.c: AneBuffer bound to executables, runs that copy nothing,
 * and explicit load / unload
 *
 * Copies are counted by the executable (ane_executable_get_copied: every
 * byte a run moves between the caller's tensors and the backend's memory),
 * loads and unloads by the fake Neural Engine runtime
 * (tests/ane-fake-ane.c), which in interpreter mode runs the MIL text on
 * the surfaces it is handed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-fake-ane.h"
#include "ane-test-models.h"
#include "ane-executable-private.h"

static const gint64 shape[] = { 1, 8, 1, 32 };

/* y = 2x + w (float32), z = fp16 (x * x): an fp32 and an fp16 output. */
static AneGraph *
plain_graph (void)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) x2 = ane_graph_add (g, x, x, &error);
  g_autoptr(AneTensor) y = ane_graph_add (g, x2, w, &error);
  g_autoptr(AneTensor) xx = ane_graph_mul (g, x, x, &error);
  g_autoptr(AneTensor) z = ane_graph_cast (g, xx, ANE_DTYPE_FLOAT16, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  g_assert_true (ane_graph_add_output (g, "z", z, &error));
  return g;
}

/* acc += x each run (fp16 state), y = acc as float32: a decode step's shape. */
static AneGraph *
state_graph (void)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT16, shape, 4, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
  g_autoptr(AneTensor) old32 = ane_graph_cast (g, old, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old32, x, &error);
  g_autoptr(AneTensor) sum16 = ane_graph_cast (g, sum, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, acc, sum16, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, wr, ANE_DTYPE_FLOAT32, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  return g;
}

static AneExecutable *
compiled (AneGraph   *g,
          AneBackend  backend)
{
  AneExecutable *exe = ane_executable_new (g, backend);
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  return exe;
}

static AneBuffer *
bound (AneExecutable *exe,
       const char    *name)
{
  g_autoptr(GError) error = NULL;
  AneBuffer *b = ane_executable_new_buffer (exe, name, &error);

  g_assert_no_error (error);
  g_assert_true (ane_executable_bind (exe, name, b, &error));
  g_assert_no_error (error);
  return b;
}

/* A buffer bound and left to the executable (which holds it). */
static void
bind_only (AneExecutable *exe,
           const char    *name)
{
  g_autoptr(AneBuffer) b = bound (exe, name);

  g_assert_cmpstr (ane_buffer_get_name (b), ==, name);
}

static void
assert_same_tensor (AneTensor *a,
                    AneTensor *b)
{
  g_assert_cmpint (ane_tensor_get_dtype (a), ==, ane_tensor_get_dtype (b));
  g_assert_cmpint (ane_tensor_get_n_elements (a), ==, ane_tensor_get_n_elements (b));
  g_assert_true (g_bytes_equal (ane_tensor_get_data (a), ane_tensor_get_data (b)));
}

static void
assert_buffer_holds (AneBuffer *buffer,
                     AneTensor *want)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) got = ane_buffer_dup_tensor (buffer, &error);

  g_assert_no_error (error);
  assert_same_tensor (got, want);
}

static AneTensor *
find_input (GPtrArray  *inputs,
            const char *name)
{
  for (guint i = 0; i < inputs->len; i++)
    if (g_str_equal (ane_tensor_get_name (g_ptr_array_index (inputs, i)), name))
      return g_ptr_array_index (inputs, i);
  g_assert_not_reached ();
}

/* The CPU backend: the bound run's outputs are the tensor run's, bit for
 * bit; the output buffers' memory is written where it lies; the bound run
 * copies nothing where the tensor run copies its fp16 output. */
static void
test_cpu_matches_run (void)
{
  g_autoptr(AneGraph) g = plain_graph ();
  g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 3);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) want = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_autoptr(AneBuffer) x = bound (exe, "x");
  g_autoptr(AneBuffer) w = bound (exe, "w");
  g_autoptr(AneBuffer) y = bound (exe, "y");
  g_autoptr(AneBuffer) z = bound (exe, "z");
  guint rank;
  const gint64 *strides = ane_buffer_get_strides (z, &rank);
  gpointer before, after;
  guint64 copied;
  gsize size;

  g_assert_no_error (error);
  /* the interpreter's layout: float32 for the fp16 port, dense, aligned */
  g_assert_cmpint (ane_buffer_get_dtype (z), ==, ANE_DTYPE_FLOAT32);
  g_assert_cmpint (ane_buffer_get_port_dtype (z), ==, ANE_DTYPE_FLOAT16);
  g_assert_cmpint (ane_buffer_get_port (z), ==, ANE_BUFFER_PORT_OUTPUT);
  g_assert_cmpint (ane_buffer_get_backend (z), ==, ANE_BACKEND_CPU);
  g_assert_false (ane_buffer_is_surface (z));
  g_assert_cmpuint (rank, ==, 4);
  g_assert_cmpint (strides[3], ==, 4);
  g_assert_cmpint (strides[0], ==, 8 * 32 * 4);
  g_assert_cmpuint (ane_buffer_get_size (z), ==, 8 * 32 * 4);

  g_assert_true (ane_buffer_write_tensor (x, find_input (inputs, "x"), &error));
  g_assert_true (ane_buffer_write_tensor (w, find_input (inputs, "w"), &error));
  g_assert_no_error (error);
  before = ane_buffer_lock (z, TRUE, &size, &error);
  g_assert_nonnull (before);
  g_assert_cmpuint ((guintptr) before % 64, ==, 0);
  ane_buffer_unlock (z);

  copied = ane_executable_get_copied (exe);
  g_assert_cmpuint (copied, >, 0);   /* the tensor run converted z to fp16 */
  for (int run = 0; run < 3; run++)
    {
      g_assert_true (ane_executable_run_bound (exe, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (ane_executable_get_copied (exe), ==, copied);
  after = ane_buffer_lock (z, TRUE, &size, &error);
  g_assert_true (after == before);
  /* written in place: the memory itself holds x * x */
  {
    g_autofree float *xs = ane_test_dup_floats (find_input (inputs, "x"));
    const float *zs = after;

    /* the program computes in float16: x rounded, squared, rounded */
    for (gsize i = 0; i < 8 * 32; i++)
      {
        float h = ane_half_to_float (ane_float_to_half (xs[i]));
        g_assert_cmpfloat (zs[i], ==, ane_half_to_float (ane_float_to_half (h * h)));
      }
  }
  ane_buffer_unlock (z);
  assert_buffer_holds (y, g_ptr_array_index (want, 0));
  assert_buffer_holds (z, g_ptr_array_index (want, 1));

  /* the output buffer of one run as the input of the next (same layout) */
  g_assert_true (ane_executable_bind (exe, "w", y, &error) == FALSE);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'w'", "bound to 'y'", NULL);
}

/* A state bound on the CPU backend: updated in place by every run, read and
 * written by dup_state / set_state, zeroed by reset_states, handed back on
 * unbind; the bound runs copy nothing, the tensor runs copy the state in
 * and out. */
static void
test_cpu_states (void)
{
  g_autoptr(AneGraph) g = state_graph ();
  g_autoptr(AneExecutable) plain = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneBuffer) x = bound (exe, "x");
  g_autoptr(AneBuffer) y = bound (exe, "y");
  g_autoptr(AneBuffer) acc = bound (exe, "acc");
  guint64 copied, plain_copied;

  g_assert_cmpint (ane_buffer_get_port (acc), ==, ANE_BUFFER_PORT_STATE);
  for (int run = 0; run < 4; run++)
    {
      g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 11 + run);
      g_autoptr(GPtrArray) want = NULL;
      g_autoptr(AneTensor) state = NULL;
      g_autoptr(AneTensor) plain_state = NULL;

      plain_copied = ane_executable_get_copied (plain);
      want = ane_executable_run (plain, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
      g_assert_no_error (error);
      if (run > 0)
        g_assert_cmpuint (ane_executable_get_copied (plain), >, plain_copied);
      g_assert_true (ane_buffer_write_tensor (x, g_ptr_array_index (inputs, 0), &error));
      copied = ane_executable_get_copied (exe);
      g_assert_true (ane_executable_run_bound (exe, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (ane_executable_get_copied (exe), ==, copied);
      assert_buffer_holds (y, g_ptr_array_index (want, 0));
      state = ane_executable_dup_state (exe, "acc", &error);
      plain_state = ane_executable_dup_state (plain, "acc", &error);
      g_assert_no_error (error);
      assert_same_tensor (state, plain_state);
    }
  /* set_state writes the buffer */
  {
    g_autoptr(AneTensor) ones = ane_test_tensor_random ("acc", shape, 4, 5, 1, 1);
    g_autoptr(AneTensor) ones16 = ane_tensor_convert (ones, ANE_DTYPE_FLOAT16, &error);

    g_assert_true (ane_executable_set_state (exe, "acc", ones16, &error));
    g_assert_no_error (error);
    assert_buffer_holds (acc, ones16);
    /* the tensor path reads and updates the bound state too */
    {
      g_autoptr(AneTensor) zeros = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT32, shape, 4, &error);
      g_autoptr(GPtrArray) outs = ane_executable_run (exe, &zeros, 1, NULL, &error);

      g_assert_no_error (error);
      assert_buffer_holds (acc, ones16);
      g_assert_true (g_bytes_equal (ane_tensor_get_data (g_ptr_array_index (outs, 0)), ane_tensor_get_data (ones)));
    }
    /* unbinding hands the value back to the executable */
    g_assert_true (ane_executable_bind (exe, "acc", NULL, &error));
    g_assert_no_error (error);
    {
      g_autoptr(AneTensor) back = ane_executable_dup_state (exe, "acc", &error);
      assert_same_tensor (back, ones16);
    }
    g_assert_true (ane_executable_bind (exe, "acc", acc, &error));
    g_assert_no_error (error);
  }
  ane_executable_reset_states (exe);
  {
    g_autoptr(AneTensor) zeros = ane_tensor_new_zeros ("acc", ANE_DTYPE_FLOAT16, shape, 4, &error);
    assert_buffer_holds (acc, zeros);
  }
}

/* Whatever does not fit is a GError naming the thing. */
static void
test_errors (void)
{
  static const gint64 other_shape[] = { 1, 8, 1, 16 };
  g_autoptr(AneGraph) g = plain_graph ();
  g_autoptr(AneGraph) s = state_graph ();
  g_autoptr(AneGraph) small = ane_graph_new ();
  g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) other = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) with_state = compiled (s, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) reference = compiled (g, ANE_BACKEND_REFERENCE);
  g_autoptr(AneExecutable) unc = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) small_exe = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneBuffer) x = ane_executable_new_buffer (exe, "x", &error);
  g_autoptr(AneBuffer) z = ane_executable_new_buffer (exe, "z", &error);
  g_autoptr(AneBuffer) foreign = ane_executable_new_buffer (other, "x", &error);
  g_autoptr(AneBuffer) acc = ane_executable_new_buffer (with_state, "acc", &error);
  g_autoptr(AneBuffer) small_v = NULL;

  g_assert_no_error (error);
  g_assert_null (ane_executable_new_buffer (exe, "nope", &error));
  ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "'nope'", NULL);
  g_assert_null (ane_executable_new_buffer (reference, "x", &error));
  ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "reference", NULL);
  g_assert_null (ane_executable_new_buffer (unc, "x", &error));
  ane_test_assert_error (&error, ANE_ERROR_NOT_COMPILED, "compile", NULL);
  /* another executable's buffer */
  g_assert_false (ane_executable_bind (exe, "x", foreign, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'x'", "another executable", NULL);
  /* another dtype: z is an fp16 port, x a float32 one */
  g_assert_false (ane_executable_bind (exe, "x", z, &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "input 'x'", "'z'", NULL);
  /* a state's buffer for an input */
  g_assert_false (ane_executable_bind (with_state, "x", acc, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'x' is an input", "state 'acc'", NULL);
  /* another shape */
  {
    g_autoptr(AneTensor) in = ane_test_input (small, "x", ANE_DTYPE_FLOAT32, other_shape, 4);
    g_autoptr(AneTensor) v = ane_test_input (small, "v", ANE_DTYPE_FLOAT32, shape, 4);
    g_autoptr(AneTensor) a = ane_graph_add (small, in, in, &error);
    g_autoptr(AneTensor) b = ane_graph_add (small, v, v, &error);

    g_assert_true (ane_graph_add_output (small, "a", a, &error));
    g_assert_true (ane_graph_add_output (small, "b", b, &error));
    small_exe = compiled (small, ANE_BACKEND_CPU);
    small_v = ane_executable_new_buffer (small_exe, "v", &error);
    g_assert_no_error (error);
    g_assert_false (ane_executable_bind (small_exe, "x", small_v, &error));
    ane_test_assert_error (&error, ANE_ERROR_SHAPE, "input 'x'", "[1,8,1,16]", "'v'", "[1,8,1,32]", NULL);
    g_assert_false (ane_executable_bind (small_exe, "a", x, &error));
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'a'", "another executable", NULL);
  }
  {
    g_autoptr(AneTensor) wrong = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT32, other_shape, 4, &error);
    g_assert_false (ane_buffer_write_tensor (x, wrong, &error));
    ane_test_assert_error (&error, ANE_ERROR_SHAPE, "buffer 'x'", "[1,8,1,16]", NULL);
  }
  /* unbound ports */
  g_assert_true (ane_executable_bind (exe, "x", x, &error));
  g_assert_false (ane_executable_run_bound (exe, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "input 'w'", NULL);
  {
    g_autoptr(AneBuffer) w = bound (exe, "w");
    bind_only (exe, "y");

    g_assert_false (ane_executable_run_bound (exe, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "output 'z'", NULL);
    g_assert_true (ane_executable_bind (exe, "z", z, &error));
    /* a locked buffer */
    g_assert_nonnull (ane_buffer_lock (w, FALSE, NULL, &error));
    g_assert_null (ane_buffer_lock (w, FALSE, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'w'", "locked", NULL);
    g_assert_false (ane_executable_run_bound (exe, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "input 'w'", "locked", NULL);
    ane_buffer_unlock (w);
    g_assert_true (ane_executable_run_bound (exe, NULL, &error));
    g_assert_no_error (error);
  }
  /* an unbound state */
  {
    bind_only (with_state, "x");
    bind_only (with_state, "y");

    g_assert_false (ane_executable_run_bound (with_state, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "state 'acc'", NULL);
  }
}

/* Load and unload on the CPU backend: unload frees the program, the next
 * run prepares it again, with the same results and bindings. */
static void
test_cpu_load_unload (void)
{
  g_autoptr(AneGraph) g = plain_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 5);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(GPtrArray) again = NULL;

  g_assert_false (ane_executable_is_loaded (exe));
  g_assert_true (ane_executable_load (exe, NULL, &error));   /* compiles */
  g_assert_no_error (error);
  g_assert_true (ane_executable_is_loaded (exe));
  want = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  ane_executable_unload (exe);
  g_assert_false (ane_executable_is_loaded (exe));
  ane_executable_unload (exe);
  again = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_is_loaded (exe));
  for (guint i = 0; i < want->len; i++)
    assert_same_tensor (g_ptr_array_index (want, i), g_ptr_array_index (again, i));
  {
    g_autoptr(AneBuffer) x = bound (exe, "x");
    g_autoptr(AneBuffer) w = bound (exe, "w");
    bind_only (exe, "y");
    g_autoptr(AneBuffer) z = bound (exe, "z");

    g_assert_true (ane_buffer_write_tensor (x, find_input (inputs, "x"), &error));
    g_assert_true (ane_buffer_write_tensor (w, find_input (inputs, "w"), &error));
    ane_executable_unload (exe);
    g_assert_true (ane_executable_run_bound (exe, NULL, &error));
    g_assert_no_error (error);
    assert_buffer_holds (z, g_ptr_array_index (want, 1));
  }
}

/* An executable made from a package (its own names, its states): bound runs
 * equal tensor runs, through an unload too. */
static void
test_cpu_package (void)
{
  g_autoptr(AneGraph) g = state_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) package = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AneExecutable) plain = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneBuffer) x = NULL;
  g_autoptr(AneBuffer) y = NULL;
  g_autoptr(AneBuffer) acc = NULL;

  g_assert_no_error (error);
  plain = ane_executable_new_from_package (package, NULL, &error);
  exe = ane_executable_new_from_package (package, NULL, &error);
  g_assert_no_error (error);
  x = bound (exe, "x");
  y = bound (exe, "y");
  acc = bound (exe, "acc");
  for (int run = 0; run < 3; run++)
    {
      g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 31 + run);
      g_autoptr(GPtrArray) want = ane_executable_run (plain, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);

      g_assert_no_error (error);
      if (run == 1)
        ane_executable_unload (exe);
      g_assert_true (ane_buffer_write_tensor (x, g_ptr_array_index (inputs, 0), &error));
      g_assert_true (ane_executable_run_bound (exe, NULL, &error));
      g_assert_no_error (error);
      assert_buffer_holds (y, g_ptr_array_index (want, 0));
    }
  ane_executable_unload (exe);
  {
    g_autoptr(AneTensor) s = ane_executable_dup_state (exe, "acc", &error);
    g_autoptr(AneTensor) p = ane_executable_dup_state (plain, "acc", &error);

    g_assert_no_error (error);
    assert_same_tensor (s, p);
  }
}

typedef struct
{
  AneExecutable *exe;
  guint          runs;
} Runner;

static gpointer
run_bound_thread (gpointer data)
{
  Runner *r = data;

  for (guint i = 0; i < r->runs; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (ane_executable_run_bound (r->exe, NULL, &error));
      g_assert_no_error (error);
    }
  return NULL;
}

static gpointer
dup_state_thread (gpointer data)
{
  Runner *r = data;

  for (guint i = 0; i < r->runs; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) s = ane_executable_dup_state (r->exe, "acc", &error);

      g_assert_no_error (error);
      g_assert_nonnull (s);
    }
  return NULL;
}

/* Runs on bound buffers from two threads, with a third reading the state:
 * the runs are serialized (each adds x = 1 to the bound state once), so
 * the state ends at the number of runs. */
static void
test_threads (void)
{
  g_autoptr(AneGraph) g = state_graph ();
  g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_CPU);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneBuffer) x = bound (exe, "x");
  bind_only (exe, "y");
  bind_only (exe, "acc");
  g_autoptr(AneTensor) ones = ane_test_tensor_random ("x", shape, 4, 1, 1, 1);
  Runner r = { exe, 40 };
  GThread *threads[3];

  g_assert_true (ane_buffer_write_tensor (x, ones, &error));
  threads[0] = g_thread_new ("run-a", run_bound_thread, &r);
  threads[1] = g_thread_new ("run-b", run_bound_thread, &r);
  threads[2] = g_thread_new ("read", dup_state_thread, &r);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  {
    g_autoptr(AneTensor) s = ane_executable_dup_state (exe, "acc", &error);
    g_autofree float *v = ane_test_dup_floats (s);

    for (gsize i = 0; i < 8 * 32; i++)
      g_assert_cmpfloat (v[i], ==, 2.0f * r.runs);
  }
}

static void
setup_device (void)
{
  fake_setup ();
  fake.interpret = TRUE;
}

static guint
log_count (const char *needle)
{
  guint n = 0;

  for (guint i = 0; i < fake.log->len; i++)
    if (strstr (fake.log->pdata[i], needle) != NULL)
      n++;
  return n;
}

/* The private path on the fake runtime: a decode-style loop with its state
 * bound copies nothing per run (the surfaces go to the device as they are,
 * the state's two surfaces swapping), and gives the CPU backend's outputs
 * and states; the same loop unbound packs and unpacks every run. */
static void
test_ane_decode_loop (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = state_graph ();
    g_autoptr(AneExecutable) cpu = compiled (g, ANE_BACKEND_CPU);
    g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_ANE);
    g_autoptr(AneExecutable) unbound = compiled (g, ANE_BACKEND_ANE);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneBuffer) x = bound (exe, "x");
    g_autoptr(AneBuffer) y = bound (exe, "y");
    g_autoptr(AneBuffer) acc = bound (exe, "acc");
    guint rank;
    const gint64 *strides = ane_buffer_get_strides (acc, &rank);
    guint wrappers = 0;

    g_assert_true (ane_buffer_is_surface (acc));
    g_assert_cmpint (ane_buffer_get_dtype (acc), ==, ANE_DTYPE_FLOAT16);
    g_assert_cmpint (ane_buffer_get_backend (acc), ==, ANE_BACKEND_ANE);
    g_assert_cmpuint (rank, ==, 4);
    g_assert_cmpint (strides[3], ==, 2);
    g_assert_cmpint (strides[2], ==, 64);        /* 32 halfs: one 64-byte row */
    g_assert_cmpint (strides[1], ==, 64);
    g_assert_cmpint (strides[0], ==, 8 * 64);
    for (int run = 0; run < 6; run++)
      {
        g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 21 + run);
        g_autoptr(GPtrArray) want = ane_executable_run (cpu, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
        g_autoptr(GPtrArray) got = NULL;
        g_autoptr(AneTensor) state = NULL;
        g_autoptr(AneTensor) cpu_state = NULL;
        guint64 copied = ane_executable_get_copied (exe);
        guint64 unbound_copied = ane_executable_get_copied (unbound);
        guint evals = fake.n_eval;

        g_assert_no_error (error);
        g_assert_true (ane_buffer_write_tensor (x, g_ptr_array_index (inputs, 0), &error));
        g_assert_true (ane_executable_run_bound (exe, NULL, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake.n_eval, ==, evals + 1);
        g_assert_cmpuint (ane_executable_get_copied (exe), ==, copied);
        assert_buffer_holds (y, g_ptr_array_index (want, 0));
        state = ane_executable_dup_state (exe, "acc", &error);
        cpu_state = ane_executable_dup_state (cpu, "acc", &error);
        g_assert_no_error (error);
        assert_same_tensor (state, cpu_state);
        /* after two runs (one request per arrangement of the state's two
         * surfaces) no new surface object is made */
        if (run == 2)
          wrappers = log_count ("objectWithIOSurface");
        if (run > 2)
          g_assert_cmpuint (log_count ("objectWithIOSurface"), ==, wrappers);

        got = ane_executable_run (unbound, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
        g_assert_no_error (error);
        assert_same_tensor (g_ptr_array_index (got, 0), g_ptr_array_index (want, 0));
        g_assert_cmpuint (ane_executable_get_copied (unbound), >, unbound_copied);
      }
    /* a failed run leaves the bound state as it was */
    {
      g_autoptr(AneTensor) before = ane_buffer_dup_tensor (acc, &error);

      fake.eval_error = "device busy";
      g_assert_false (ane_executable_run_bound (exe, NULL, &error));
      ane_test_assert_error (&error, ANE_ERROR_FAILED, "device busy", NULL);
      fake.eval_error = NULL;
      assert_buffer_holds (acc, before);
    }
    /* a CPU buffer is not the ANE's */
    {
      g_autoptr(AneBuffer) host = ane_executable_new_buffer (cpu, "x", &error);

      g_assert_false (ane_executable_bind (exe, "x", host, &error));
      ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'x'", "another executable", NULL);
    }
  }
  fake_teardown ();
}

/* An input narrower than the path reads goes in widened (a 64-byte row
 * either way): its buffer is bound to the widened port as it is. */
static void
test_ane_narrow_input (void)
{
  static const gint64 narrow[] = { 1, 8, 1, 3 };

  setup_device ();
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, narrow, 4);
    g_autoptr(AneTensor) y = ane_graph_add (g, x, x, &error);
    g_autoptr(AneExecutable) cpu = NULL;
    g_autoptr(AneExecutable) exe = NULL;
    g_autoptr(AneBuffer) xb = NULL;
    g_autoptr(AneBuffer) yb = NULL;
    g_autoptr(GPtrArray) inputs = NULL;
    g_autoptr(GPtrArray) want = NULL;
    guint rank;

    g_assert_true (ane_graph_add_output (g, "y", y, &error));
    cpu = compiled (g, ANE_BACKEND_CPU);
    exe = compiled (g, ANE_BACKEND_ANE);
    g_assert_nonnull (strstr (fake.mil_text, "x_wide"));
    xb = bound (exe, "x");
    yb = bound (exe, "y");
    g_assert_cmpint (ane_buffer_get_strides (xb, &rank)[2], ==, 64);
    inputs = ane_test_model_inputs (g, 4);
    want = ane_executable_run (cpu, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
    g_assert_true (ane_buffer_write_tensor (xb, g_ptr_array_index (inputs, 0), &error));
    g_assert_true (ane_executable_run_bound (exe, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (ane_executable_get_copied (exe), ==, 0);
    assert_buffer_holds (yb, g_ptr_array_index (want, 0));
  }
  fake_teardown ();
}

/* Load and unload on the private path, counted by the fake: unload leaves
 * the model compiled, load does not compile again, a run after unload
 * loads it again, and two executables of one program share the model's
 * loads (the first unload keeps it in the device for the other). */
static void
test_ane_load_unload (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = state_graph ();
    g_autoptr(AneExecutable) a = compiled (g, ANE_BACKEND_ANE);
    g_autoptr(AneExecutable) b = NULL;
    g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 9);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) outs = NULL;
    guint compiles = fake.n_compile, loads = fake.n_load, unloads = fake.n_unload;

    g_assert_cmpuint (compiles, ==, 1);
    g_assert_cmpuint (loads, ==, 1);
    g_assert_true (ane_executable_is_loaded (a));
    ane_executable_unload (a);
    g_assert_false (ane_executable_is_loaded (a));
    g_assert_cmpuint (fake.n_unload, ==, unloads + 1);
    ane_executable_unload (a);
    g_assert_cmpuint (fake.n_unload, ==, unloads + 1);
    g_assert_true (ane_executable_load (a, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (fake.n_load, ==, loads + 1);
    g_assert_cmpuint (fake.n_compile, ==, compiles);
    ane_executable_unload (a);
    outs = ane_executable_run (a, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ane_executable_is_loaded (a));
    g_assert_cmpuint (fake.n_load, ==, loads + 2);
    g_assert_cmpuint (fake.n_compile, ==, compiles);

    /* a second executable of the same program shares the compiled model */
    b = compiled (g, ANE_BACKEND_ANE);
    g_assert_cmpuint (fake.n_compile, ==, compiles);
    g_assert_cmpuint (fake.n_load, ==, loads + 2);
    unloads = fake.n_unload;
    ane_executable_unload (a);
    g_assert_cmpuint (fake.n_unload, ==, unloads);   /* b holds it */
    ane_executable_unload (b);
    g_assert_cmpuint (fake.n_unload, ==, unloads + 1);
    g_assert_true (ane_executable_load (b, NULL, &error));
    g_assert_cmpuint (fake.n_load, ==, loads + 3);
    g_clear_object (&b);
    g_assert_cmpuint (fake.n_unload, ==, unloads + 2);
  }
  fake_teardown ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/buffer/cpu/matches-run", test_cpu_matches_run);
  g_test_add_func ("/buffer/cpu/states", test_cpu_states);
  g_test_add_func ("/buffer/cpu/load-unload", test_cpu_load_unload);
  g_test_add_func ("/buffer/cpu/package", test_cpu_package);
  g_test_add_func ("/buffer/errors", test_errors);
  g_test_add_func ("/buffer/threads", test_threads);
  g_test_add_func ("/buffer/ane/decode-loop", test_ane_decode_loop);
  g_test_add_func ("/buffer/ane/narrow-input", test_ane_narrow_input);
  g_test_add_func ("/buffer/ane/load-unload", test_ane_load_unload);
  return g_test_run ();
}
