/* test-cpu-conformance.c: the conformance pack on the CPU interpreter
 *
 * For every case of tests/data/conformance (README.md there): open
 * model.mlpackage with the package reader, prepare its program for the CPU
 * interpreter (blob values read from weight.bin), run it on the inputs/ arrays and
 * compare with the expected/ arrays at the README's tolerances:
 * |got - expected| <= atol + rtol |expected|. The stateful case runs three
 * calls and also compares the state after each; the multifunction case runs
 * both functions. The three compressed-weight cases also compare the
 * constexpr op's own result with intermediate/NAME.npy, exactly (the README:
 * bit-identical to coremltools' materialization).
 *
 * A case whose program uses an op the CPU backend has no kernel for yet is
 * skipped, naming the op.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-tensor-private.h"
#include "mil/ane-mlpackage-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"

/* --- a tiny .npy reader -------------------------------------------------------- */

/* A .npy file of NumPy format 1.0 holding little-endian float32 in C order;
 * anything else fails the test with the reason. */
typedef struct {
  gint64  shape[8];
  guint   rank;
  gsize   n;
  float  *data;
} Npy;

static void
npy_clear (Npy *npy)
{
  g_clear_pointer (&npy->data, g_free);
}

static gboolean
npy_fail (char      **why_out,
          const char *path,
          const char *why)
{
  *why_out = g_strdup_printf ("%s: %s", path, why);
  return FALSE;
}

/* FALSE with the reason in *why (g_free) when the file is not read. */
static gboolean
npy_read (const char *path,
          Npy        *npy,
          char      **why)
{
  g_autofree char *contents = NULL;
  g_autofree char *header = NULL;
  g_autoptr(GError) error = NULL;
  gsize len, hlen;
  const char *p;

  memset (npy, 0, sizeof *npy);
  if (!g_file_get_contents (path, &contents, &len, &error))
    return npy_fail (why, path, error->message);
  if (len < 10 || memcmp (contents, "\x93NUMPY", 6) != 0)
    return npy_fail (why, path, "not a .npy file");
  if ((guint8) contents[6] != 1 || contents[7] != 0)
    return npy_fail (why, path, "only .npy format version 1.0 is read");
  hlen = (guint8) contents[8] | (gsize) (guint8) contents[9] << 8;
  if (10 + hlen > len)
    return npy_fail (why, path, "truncated header");
  header = g_strndup (contents + 10, hlen);
  if (strstr (header, "'descr': '<f4'") == NULL)
    return npy_fail (why, path, "only little-endian float32 ('<f4') is read");
  if (strstr (header, "'fortran_order': False") == NULL)
    return npy_fail (why, path, "only C order is read");
  p = strstr (header, "'shape': (");
  if (p == NULL)
    return npy_fail (why, path, "no shape in the header");
  p += strlen ("'shape': (");
  npy->n = 1;
  while (*p != ')')
    {
      char *end;
      gint64 d;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ')')
        break;
      d = g_ascii_strtoll (p, &end, 10);
      if (end == p || d < 0 || npy->rank >= G_N_ELEMENTS (npy->shape))
        return npy_fail (why, path, "bad shape in the header");
      npy->shape[npy->rank++] = d;
      npy->n *= (gsize) d;
      p = end;
    }
  if (len - 10 - hlen != npy->n * sizeof (float))
    return npy_fail (why, path, "the data size does not match the shape");
  npy->data = g_new (float, MAX (npy->n, 1));
  for (gsize i = 0; i < npy->n; i++)
    {
      guint32 u;
      const guint8 *b = (const guint8 *) contents + 10 + hlen + 4 * i;

      u = b[0] | (guint32) b[1] << 8 | (guint32) b[2] << 16 | (guint32) b[3] << 24;
      memcpy (&npy->data[i], &u, sizeof u);
    }
  return TRUE;
}

/* Reads path, failing the test (with the reason) if it cannot be read. */
static void
npy_load (const char *path,
          Npy        *npy)
{
  g_autofree char *why = NULL;

  if (!npy_read (path, npy, &why))
    {
      g_test_message ("%s", why);
      g_assert_null (why);
    }
}

static AneTensor *
npy_tensor (const char *path,
            const char *name)
{
  Npy npy;
  AneTensor *t;

  npy_load (path, &npy);
  t = ane_test_tensor_f32 (name, npy.shape, npy.rank, npy.data);
  npy_clear (&npy);
  return t;
}

/* --- comparing ---------------------------------------------------------------- */

static void
assert_matches_npy (const char *what,
                    AneTensor  *got,
                    const char *path,
                    double      rtol,
                    double      atol)
{
  Npy npy;
  AneSpec spec;
  g_autofree float *v = NULL;
  gsize n;
  double worst;
  g_autoptr(GError) error = NULL;

  npy_load (path, &npy);
  ane_tensor_get_spec (got, &spec);
  g_assert_cmpuint (spec.rank, ==, npy.rank);
  for (guint i = 0; i < npy.rank; i++)
    g_assert_cmpint (spec.shape[i], ==, npy.shape[i]);
  v = ane_tensor_dup_floats (got, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, npy.n);
  worst = ane_test_assert_close_floats (what, v, npy.data, n, rtol, atol);
  g_test_message ("%s: largest difference %.3g (rtol %g, atol %g)", what, worst, rtol, atol);
  npy_clear (&npy);
}

/* --- running a package ----------------------------------------------------------- */

typedef struct {
  const char *name;
  double      rtol, atol;
  const char *intermediate;   /* the constexpr op's output with an intermediate/ file, or NULL */
} Case;

static const Case cases[] = {
  { "mlp_fp32", 1e-5, 1e-6, NULL },
  { "mlp_fp16", 1e-2, 1e-3, NULL },
  { "transformer_block_fp32", 1e-5, 1e-6, NULL },
  { "sdpa_ios18", 1e-5, 1e-6, NULL },
  { "convnet_fp32", 1e-5, 1e-6, NULL },
  { "rmsnorm_rope_fp16", 1e-2, 1e-2, NULL },
  { "quant_int8_ios16", 1e-5, 1e-6, "W_dq" },
  { "quant_int4_blockwise_ios18", 1e-2, 1e-2, "W_dq" },
  { "palettized_ios18", 1e-2, 1e-2, "W_lut" },
  { "stateful_kv_ios18", 0, 0, NULL },
  { "multifunction", 1e-5, 1e-6, NULL },
};

static GBytes *
package_blob (gpointer     user_data,
              const char  *file_name,
              guint64      offset,
              GError     **error)
{
  return ane_mlpackage_dup_blob (user_data, file_name, offset, NULL, error);
}

static char *
case_path (const char *name,
           const char *first,
           ...)
{
  va_list args;
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();

  g_ptr_array_add (parts, (gpointer) g_getenv ("G_TEST_SRCDIR") ? (gpointer) g_getenv ("G_TEST_SRCDIR")
                                                                 : (gpointer) ".");
  g_ptr_array_add (parts, "data");
  g_ptr_array_add (parts, "conformance");
  g_ptr_array_add (parts, (gpointer) name);
  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    g_ptr_array_add (parts, (gpointer) s);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

/* Prepares function (NULL: the only one) of the package's program; NULL and
 * the test skipped when an op has no kernel yet (a failure under
 * ANE_TEST_STRICT, which the test command sets). */
static AneCpuBackend *
prepare (AneMLPackage *package,
         const char   *function,
         const char   *what)
{
  g_autoptr(GError) error = NULL;
  AneCpuBackend *backend = ane_cpu_backend_new_for_program (ane_mlpackage_get_program (package), function,
                                                            package_blob, package, NULL, &error);
  const char *p;

  if (backend == NULL && error && (p = strstr (error->message, "has no kernel for MIL op '")) != NULL)
    {
      g_autofree char *msg = g_strdup_printf ("%s: the CPU backend has no kernel yet for %s", what,
                                              p + strlen ("has no kernel for "));
      ane_test_skip ("%s", msg);
      return NULL;
    }
  g_assert_no_error (error);
  return backend;
}

/* Runs once with inputs from dir (every NAME.npy is input NAME) and states,
 * then compares each output with expected_dir/NAME.npy (or expected_prefix
 * NAME.npy when expected_prefix is not NULL). */
static void
run_and_compare (const Case    *c,
                 AneCpuBackend *backend,
                 GHashTable    *inputs,
                 GHashTable    *states,
                 const char    *expected_dir,
                 const char    *expected_prefix,
                 const char    *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = ane_cpu_backend_run (backend, inputs, states, FALSE, NULL, &error);

  if (error)
    g_test_message ("%s: %s", what, error->message);
  g_assert_no_error (error);
  for (guint o = 0; o < outs->len; o++)
    {
      AneTensor *t = g_ptr_array_index (outs, o);
      g_autofree char *file = g_strdup_printf ("%s%s.npy", expected_prefix ? expected_prefix : "",
                                               ane_tensor_get_name (t));
      g_autofree char *path = g_build_filename (expected_dir, file, NULL);
      g_autofree char *label = g_strdup_printf ("%s, output %s", what, ane_tensor_get_name (t));

      g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
      assert_matches_npy (label, t, path, c->rtol, c->atol);
    }
}

/* Every NAME.npy in dir as input NAME (or only those starting with prefix,
 * the prefix stripped). */
static GHashTable *
load_inputs (const char *dir,
             const char *prefix)
{
  GHashTable *inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &error);
  const char *entry;

  g_assert_no_error (error);
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL, *name = NULL;
      AneTensor *t;

      if (!g_str_has_suffix (entry, ".npy") || (prefix && !g_str_has_prefix (entry, prefix)))
        continue;
      name = g_strndup (entry + (prefix ? strlen (prefix) : 0),
                        strlen (entry) - (prefix ? strlen (prefix) : 0) - strlen (".npy"));
      path = g_build_filename (dir, entry, NULL);
      t = npy_tensor (path, name);
      g_assert_nonnull (t);
      g_hash_table_insert (inputs, g_steal_pointer (&name), t);
    }
  return inputs;
}

/* The constexpr op's own result: the program's main block is made to
 * output name too (its op keeps its declared type), run, and compared with
 * intermediate/name.npy exactly. The block's outputs are restored. */
static void
check_intermediate (const Case   *c,
                    AneMLPackage *package,
                    GHashTable   *inputs)
{
  AneMilProgram *program = ane_mlpackage_get_program (package);
  const AneMilFunction *fn = program->functions[0]->value;
  g_autofree char *path = case_path (c->name, "intermediate", NULL);
  g_autofree char *file = g_strdup_printf ("%s.npy", c->intermediate);
  g_autofree char *npy = g_build_filename (path, file, NULL);
  g_autofree char *what = g_strdup_printf ("%s, constexpr result %s", c->name, c->intermediate);

  for (gsize b = 0; b < fn->n_block_specializations; b++)
    {
      AneMilBlock *block = fn->block_specializations[b]->value;
      char **saved = block->outputs;
      gsize n_saved = block->n_outputs;
      g_autofree char **outputs = g_new0 (char *, n_saved + 1);
      g_autoptr(AneCpuBackend) backend = NULL;
      g_autoptr(GPtrArray) outs = NULL;
      g_autoptr(GError) error = NULL;

      memcpy (outputs, saved, n_saved * sizeof (char *));
      outputs[n_saved] = (char *) c->intermediate;
      block->outputs = outputs;
      block->n_outputs = n_saved + 1;
      backend = ane_cpu_backend_new_for_program (program, NULL, package_blob, package, NULL, &error);
      if (backend)
        outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
      block->outputs = saved;
      block->n_outputs = n_saved;
      g_assert_no_error (error);
      assert_matches_npy (what, g_ptr_array_index (outs, n_saved), npy, 0.0, 0.0);
    }
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *pkg_path = case_path (c->name, "model.mlpackage", NULL);
  g_autofree char *in_dir = case_path (c->name, "inputs", NULL);
  g_autofree char *exp_dir = case_path (c->name, "expected", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMLPackage) package = ane_mlpackage_open (pkg_path, &error);

  g_assert_no_error (error);
  if (g_str_equal (c->name, "multifunction"))
    {
      static const char *const functions[] = { "prefill", "decode" };

      for (guint f = 0; f < G_N_ELEMENTS (functions); f++)
        {
          g_autofree char *fin = g_build_filename (in_dir, functions[f], NULL);
          g_autofree char *fexp = g_build_filename (exp_dir, functions[f], NULL);
          g_autofree char *what = g_strdup_printf ("%s, function %s", c->name, functions[f]);
          g_autoptr(AneCpuBackend) backend = prepare (package, functions[f], what);
          g_autoptr(GHashTable) inputs = NULL;

          if (backend == NULL)
            return;
          inputs = load_inputs (fin, NULL);
          run_and_compare (c, backend, inputs, NULL, fexp, NULL, what);
        }
      return;
    }
  if (g_str_equal (c->name, "stateful_kv_ios18"))
    {
      g_autoptr(AneCpuBackend) backend = prepare (package, NULL, c->name);
      g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);

      if (backend == NULL)
        return;
      for (guint step = 1; step <= 3; step++)
        {
          g_autofree char *prefix = g_strdup_printf ("step%u_", step);
          g_autofree char *state_file = g_strdup_printf ("step%u_state_s.npy", step);
          g_autofree char *state_path = g_build_filename (exp_dir, state_file, NULL);
          g_autofree char *what = g_strdup_printf ("%s, step %u", c->name, step);
          g_autoptr(GHashTable) inputs = load_inputs (in_dir, prefix);
          AneTensor *s;

          run_and_compare (c, backend, inputs, states, exp_dir, prefix, what);
          s = g_hash_table_lookup (states, "s");
          g_assert_nonnull (s);
          g_free (what);
          what = g_strdup_printf ("%s, step %u, state s", c->name, step);
          assert_matches_npy (what, s, state_path, c->rtol, c->atol);
        }
      return;
    }
  {
    g_autoptr(AneCpuBackend) backend = prepare (package, NULL, c->name);
    g_autoptr(GHashTable) inputs = NULL;

    if (backend == NULL)
      return;
    inputs = load_inputs (in_dir, NULL);
    run_and_compare (c, backend, inputs, NULL, exp_dir, NULL, c->name);
    if (c->intermediate)
      check_intermediate (c, package, inputs);
  }
}

/* Writes a .npy file: magic, version major.minor, a header dict padded
 * with spaces and a newline to a multiple of 64 bytes, then n_data bytes. */
static void
write_npy (const char *path,
           guint       major,
           const char *dict,
           const void *data,
           gsize       n_data)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GString) h = g_string_new (dict);
  guint8 pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (guint8) major, 0 };

  while ((10 + h->len + 1) % 64 != 0)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  pre[8] = (guint8) (h->len & 0xff);
  pre[9] = (guint8) (h->len >> 8);
  g_byte_array_append (b, pre, 10);
  g_byte_array_append (b, (const guint8 *) h->str, h->len);
  g_byte_array_append (b, data, n_data);
  ane_test_write_file (path, b->data, b->len);
}

/* The reader refuses what it does not read, saying why. */
static void
test_npy_reader (void)
{
  static const guint8 two[] = { 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0 };   /* 1.0f, -2.0f */
  static const struct { guint major; const char *dict; gsize n_data; const char *why; } bad[] = {
    { 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 8, "only little-endian float32" },
    { 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "only little-endian float32" },
    { 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "only C order" },
    { 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, "version 1.0" },
    { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "does not match the shape" },
  };
  g_autofree char *dir = ane_test_make_tmp_dir ("npy-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "t.npy", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *why = NULL;
      Npy npy;

      write_npy (path, bad[i].major, bad[i].dict, two, bad[i].n_data);
      g_assert_false (npy_read (path, &npy, &why));
      g_assert_nonnull (strstr (why, bad[i].why));
    }
  {
    g_autofree char *why = NULL;
    Npy npy;

    write_npy (path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", two, sizeof two);
    g_assert_true (npy_read (path, &npy, &why));
    g_assert_cmpuint (npy.rank, ==, 2);
    g_assert_cmpint (npy.shape[0], ==, 1);
    g_assert_cmpint (npy.shape[1], ==, 2);
    g_assert_cmpfloat (npy.data[0], ==, 1.0f);
    g_assert_cmpfloat (npy.data[1], ==, -2.0f);
    npy_clear (&npy);
  }
  ane_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ane/cpu/conformance/%s", cases[i].name);
      g_test_add_data_func (name, &cases[i], test_case);
    }
  g_test_add_func ("/ane/cpu/conformance/npy-reader", test_npy_reader);

  return g_test_run ();
}
