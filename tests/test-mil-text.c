/* test-mil-text.c: MIL text printer and parser (mil/ane-mil-text*.c)
 *
 * - golden text for programs made with the MIL builder (tests/data/mil/);
 * - hand-written samples in the styles found in public ANE code and in
 *   compiled models (program(1.3) and program(1.0)), parsed and re-printed;
 * - every conformance package: proto -> text -> proto packs to the same
 *   bytes, and text -> proto -> text is identical;
 * - every bit pattern of the byte-stored float types survives the text;
 * - an error table, and truncated / byte-flipped text never crashes.
 *
 * ANE_MIL_TEXT_UPDATE_GOLDEN=1 rewrites the builder goldens (review the diff).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/ane-mil-text-private.h"
#include "mil/ane-mil-builder-private.h"

/* ---------------------------------------------------------------------- */
/* helpers                                                                */
/* ---------------------------------------------------------------------- */

static GBytes *
pack (const AneMilProgram *program)
{
  gsize n = protobuf_c_message_get_packed_size (&program->base);
  guint8 *buf = g_malloc (n + 1);

  protobuf_c_message_pack (&program->base, buf);
  return g_bytes_new_take (buf, n);
}

static void
program_free (AneMilProgram *program)
{
  if (program)
    protobuf_c_message_free_unpacked (&program->base, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, program_free)

static char *
read_data (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "mil", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* parse (text) -> print -> parse: the same text and the same bytes. */
static AneMilProgram *
assert_round_trip (const char      *text,
                   const char      *origin,
                   AneMilTextStyle  style)
{
  g_autoptr(GError) error = NULL;
  AneMilTextStyle got_style;
  AneMilProgram *p = ane_mil_text_parse_style (text, -1, origin, &got_style, &error);
  g_autoptr(AneMilProgram) q = NULL;
  g_autofree char *printed = NULL, *printed2 = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpint (got_style, ==, style);
  printed = ane_mil_text_print_style (p, style, &error);
  g_assert_no_error (error);
  q = ane_mil_text_parse (printed, -1, "printed", &error);
  g_assert_no_error (error);
  a = pack (p);
  b = pack (q);
  g_assert_true (g_bytes_equal (a, b));
  printed2 = ane_mil_text_print_style (q, style, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (printed, ==, printed2);
  return p;
}

static void
assert_golden (const char *text,
               const char *name)
{
  if (g_getenv ("ANE_MIL_TEXT_UPDATE_GOLDEN"))
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "mil", name, NULL);

      g_assert_true (g_file_set_contents (path, text, -1, NULL));
      return;
    }
  {
    g_autofree char *golden = read_data (name);

    g_assert_cmpstr (text, ==, golden);
  }
}

static const AneMilBlock *
main_block (const AneMilProgram *p,
            guint                fn)
{
  g_assert_cmpuint (p->n_functions, >, fn);
  g_assert_cmpuint (p->functions[fn]->value->n_block_specializations, >=, 1);
  return p->functions[fn]->value->block_specializations[0]->value;
}

static const AneMilValue *
op_attr (const AneMilOperation *op,
         const char            *key)
{
  for (size_t i = 0; i < op->n_attributes; i++)
    if (g_strcmp0 (op->attributes[i]->key, key) == 0)
      return op->attributes[i]->value;
  return NULL;
}

static const AneMilArgument *
op_input (const AneMilOperation *op,
          const char            *key)
{
  for (size_t i = 0; i < op->n_inputs; i++)
    if (g_strcmp0 (op->inputs[i]->key, key) == 0)
      return op->inputs[i]->value;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* goldens from the builder                                               */
/* ---------------------------------------------------------------------- */

static AneMilProgram *
build_sample (AneMilTarget target,
              gboolean     with_state)
{
  static const gint64 s14[] = { 1, 4 }, s18[] = { 1, 8 }, s12[] = { 1, 2 }, s4[] = { 4 }, s44[] = { 4, 4 };
  static const double small[] = { 0.5, -1.25, 3.0, 65504.0 };
  static const gint64 ints[] = { 1, -2, 3 };
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (target);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  double big[16];
  const char *x, *s = NULL, *r, *k, *ax, *cat, *w, *scale, *mm, *top_v, *top_i, *yes, *mode;
  const char *vals[2];
  AneMilOpCall *call;
  AneMilProgram *program;
  guint64 weight_size = 0;

  for (guint i = 0; i < G_N_ELEMENTS (big); i++)
    big[i] = i / 4.0 - 1.0;

  ane_mil_builder_begin_function (b, "main");
  x = ane_mil_builder_add_input (b, "x", ANE_DTYPE_FLOAT16, s14, 2);
  if (with_state)
    s = ane_mil_builder_add_state_input (b, "s", ANE_DTYPE_FLOAT16, s14, 2);
  r = ane_mil_op (b, "relu", "r", ANE_DTYPE_FLOAT16, s14, 2, "x", x, NULL);
  scale = ane_mil_const_floats (b, "scale", ANE_DTYPE_FLOAT16, small, s4, 1);
  r = ane_mil_op (b, "mul", "scaled", ANE_DTYPE_FLOAT16, s14, 2, "x", r, "y", scale, NULL);
  ax = ane_mil_const_int (b, "axis", -1);
  yes = ane_mil_const_bool (b, "interleave", FALSE);
  vals[0] = r;
  vals[1] = x;
  call = ane_mil_op_begin (b, "concat", "cat");
  ane_mil_op_args (call, "values", vals, 2);
  ane_mil_op_arg (call, "axis", ax);
  ane_mil_op_arg (call, "interleave", yes);
  cat = ane_mil_op_output (call, ANE_DTYPE_FLOAT16, s18, 2);
  ane_mil_op_end (call);
  w = ane_mil_const_floats (b, "w", ANE_DTYPE_FLOAT16, big, s44, 2);
  (void) ane_mil_const_ints (b, "unused_ints", ints, G_N_ELEMENTS (ints));
  mode = ane_mil_const_string (b, "mode", "EXACT");
  (void) ane_mil_const_float (b, "eps", ANE_DTYPE_FLOAT32, 1e-5);
  mm = ane_mil_op (b, "gelu", "g", ANE_DTYPE_FLOAT16, s18, 2, "x", cat, "mode", mode, NULL);
  k = ane_mil_const_int (b, "k", 2);
  call = ane_mil_op_begin (b, "topk", "top");
  ane_mil_op_arg (call, "x", mm);
  ane_mil_op_arg (call, "k", k);
  top_v = ane_mil_op_output_named (call, "top_values", ANE_DTYPE_FLOAT16, s12, 2);
  top_i = ane_mil_op_output_named (call, "top_indices", ANE_DTYPE_INT32, s12, 2);
  ane_mil_op_end (call);
  (void) w;
  if (with_state)
    {
      call = ane_mil_op_begin (b, "write_state", "update");
      ane_mil_op_arg (call, "input", s);
      ane_mil_op_arg (call, "data", x);
      ane_mil_op_end (call);
      r = ane_mil_op (b, "read_state", "now", ANE_DTYPE_FLOAT16, s14, 2, "input", s, NULL);
      ane_mil_builder_add_output (b, r);
    }
  ane_mil_builder_add_output (b, top_v);
  ane_mil_builder_add_output (b, top_i);

  program = ane_mil_builder_finish (b, &blobs, &weight_size, &error);
  g_assert_no_error (error);
  g_assert_nonnull (program);
  return program;
}

static void
test_golden_builder (void)
{
  g_autoptr(AneMilProgram) program = build_sample (ANE_MIL_IOS18, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = ane_mil_text_print (program, &error);
  g_autoptr(AneMilProgram) again = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;

  g_assert_no_error (error);
  assert_golden (text, "builder-ios18.mil");
  again = assert_round_trip (text, "builder-ios18.mil", ANE_MIL_TEXT_STYLE_1_3);
  /* The builder's own proto survives too: immediates, blobs, outputs. */
  a = pack (program);
  b = pack (again);
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_golden_builder_style_1_0 (void)
{
  g_autoptr(AneMilProgram) program = build_sample (ANE_MIL_IOS16, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = ane_mil_text_print_style (program, ANE_MIL_TEXT_STYLE_1_0, &error);
  g_autoptr(AneMilProgram) again = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;

  g_assert_no_error (error);
  assert_golden (text, "builder-ios16-1.0.mil");
  again = assert_round_trip (text, "builder-ios16-1.0.mil", ANE_MIL_TEXT_STYLE_1_0);
  a = pack (program);
  b = pack (again);
  g_assert_true (g_bytes_equal (a, b));
}

/* ---------------------------------------------------------------------- */
/* hand-written samples                                                   */
/* ---------------------------------------------------------------------- */

/* Every construct the printer writes, in its canonical form: the file must
 * come back byte for byte. */
static void
test_extensions_sample (void)
{
  g_autofree char *text = read_data ("extensions.mil");
  g_autoptr(AneMilProgram) p = assert_round_trip (text, "extensions.mil", ANE_MIL_TEXT_STYLE_1_3);
  g_autoptr(GError) error = NULL;
  g_autofree char *printed = ane_mil_text_print (p, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (printed, ==, text);
  g_assert_cmpstr (p->docstring, ==, "a program doc string");
  g_assert_cmpuint (p->n_functions, ==, 3);
  /* func with two specializations, keys mapped back to the proto's names */
  g_assert_cmpstr (p->functions[1]->value->opset, ==, "CoreML8");
  g_assert_cmpuint (p->functions[1]->value->n_block_specializations, ==, 2);
  g_assert_cmpstr (p->functions[1]->value->block_specializations[0]->key, ==, "CoreML7");
  g_assert_cmpuint (p->functions[2]->value->n_block_specializations, ==, 0);
}

static void
test_ane_style_sample (void)
{
  /* Written in the compact style of the hand-made MIL that public ANE code
   * feeds to the in-memory compiler: 2-space indents, no spaces around '=',
   * inline scalar arguments, comments. */
  g_autofree char *text = read_data ("ane-style.mil");
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) p = ane_mil_text_parse (text, -1, "ane-style.mil", &error);
  g_autoptr(AneMilProgram) q = NULL;
  g_autofree char *canon = NULL;
  const AneMilBlock *block;
  const AneMilOperation *conv;
  const AneMilArgument *groups;
  const AneMilValue *w;
  g_autoptr(GBytes) a = NULL, b = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (p->version, ==, 1);
  g_assert_cmpuint (p->n_attributes, ==, 1);
  g_assert_cmpstr (p->attributes[0]->key, ==, "buildInfo");
  g_assert_cmpuint (p->attributes[0]->value->immediatevalue->dictionary->n_values, ==, 2);
  g_assert_cmpstr (p->functions[0]->key, ==, "main");
  g_assert_cmpstr (p->functions[0]->value->opset, ==, "CoreML8");
  block = main_block (p, 0);
  g_assert_cmpuint (block->n_operations, ==, 8);
  g_assert_cmpuint (block->n_outputs, ==, 2);

  w = op_attr (block->operations[0], "val");
  g_assert_nonnull (w);
  g_assert_cmpint (w->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE);
  g_assert_cmpstr (w->blobfilevalue->filename, ==, "@model_path/weights/weight.bin");
  g_assert_cmpuint (w->blobfilevalue->offset, ==, 64);

  conv = block->operations[5];
  g_assert_cmpstr (conv->type, ==, "conv");
  groups = op_input (conv, "groups");
  g_assert_nonnull (groups);
  g_assert_cmpint (groups->arguments[0]->binding_case, ==,
                   CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE);
  g_assert_cmpint (groups->arguments[0]->value->immediatevalue->tensor->ints->values[0], ==, 1);

  /* two outputs from split, no parentheses needed */
  g_assert_cmpuint (block->operations[6]->n_outputs, ==, 2);
  /* fp16(0x1.0p-3) in an argument */
  {
    const AneMilArgument *y = op_input (block->operations[7], "y");
    const guint8 *bytes = y->arguments[0]->value->immediatevalue->tensor->bytes->values.data;

    g_assert_cmpuint (bytes[0] | (bytes[1] << 8), ==, 0x3000);
  }

  /* Its canonical print parses to the same program. */
  canon = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  q = ane_mil_text_parse (canon, -1, "canonical", &error);
  g_assert_no_error (error);
  a = pack (p);
  b = pack (q);
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_compiled_1_0_sample (void)
{
  /* program(1.0) as older compiled models spell it: every scalar and string
   * is tensor<T, []>(...). Canonical 1.0 form: it comes back unchanged. */
  g_autofree char *text = read_data ("compiled-1.0.mil");
  g_autoptr(AneMilProgram) p = assert_round_trip (text, "compiled-1.0.mil", ANE_MIL_TEXT_STYLE_1_0);
  g_autoptr(GError) error = NULL;
  g_autofree char *again = ane_mil_text_print_style (p, ANE_MIL_TEXT_STYLE_1_0, &error);
  g_autofree char *modern = NULL;
  g_autoptr(AneMilProgram) q = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, text);
  g_assert_cmpstr (p->functions[0]->value->opset, ==, "CoreML6");

  /* The same program in 1.3 spelling is the same proto. */
  modern = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (modern, "program(1.3)"));
  g_assert_nonnull (strstr (modern, "[buildInfo = dict<string, string>({{"));
  g_assert_null (strstr (modern, "tensor<string, []>"));
  q = ane_mil_text_parse (modern, -1, "modern", &error);
  g_assert_no_error (error);
  a = pack (p);
  b = pack (q);
  g_assert_true (g_bytes_equal (a, b));
}

/* ---------------------------------------------------------------------- */
/* conformance packages                                                   */
/* ---------------------------------------------------------------------- */

static void
test_conformance (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", name, "model.mlpackage",
                                                 "Data", "com.apple.CoreML", "model.mlmodel", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  AneCoreMLModel *model;
  g_autofree char *text = NULL, *text2 = NULL, *text10 = NULL;
  g_autoptr(AneMilProgram) again = NULL, again10 = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL, c = NULL;

  g_file_get_contents (path, &bytes, &len, &error);
  g_assert_no_error (error);
  model = core_ml__specification__model__unpack (NULL, len, (const guint8 *) bytes);
  g_assert_nonnull (model);
  g_assert_nonnull (model->mlprogram);

  text = ane_mil_text_print (model->mlprogram, &error);
  g_assert_no_error (error);
  if (g_getenv ("ANE_MIL_TEXT_DUMP"))
    {
      g_autofree char *out = g_strdup_printf ("%s/%s.mil", g_getenv ("ANE_MIL_TEXT_DUMP"), name);

      g_file_set_contents (out, text, -1, NULL);
    }
  g_assert_true (g_str_has_prefix (text, "program(1.3)\n"));
  again = ane_mil_text_parse (text, -1, name, &error);
  g_assert_no_error (error);
  a = pack (model->mlprogram);
  b = pack (again);
  g_assert_true (g_bytes_equal (a, b));
  text2 = ane_mil_text_print (again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, text2);

  /* The 1.0 spelling carries the same program. */
  text10 = ane_mil_text_print_style (model->mlprogram, ANE_MIL_TEXT_STYLE_1_0, &error);
  g_assert_no_error (error);
  again10 = ane_mil_text_parse (text10, -1, name, &error);
  g_assert_no_error (error);
  c = pack (again10);
  g_assert_true (g_bytes_equal (a, c));

  protobuf_c_message_free_unpacked (&model->base, NULL);
}

static const char *const conformance_cases[] = {
  "mlp_fp32", "mlp_fp16", "transformer_block_fp32", "sdpa_ios18", "convnet_fp32",
  "rmsnorm_rope_fp16", "quant_int8_ios16", "quant_int4_blockwise_ios18", "palettized_ios18",
  "stateful_kv_ios18", "multifunction",
};

/* ---------------------------------------------------------------------- */
/* values                                                                 */
/* ---------------------------------------------------------------------- */

/* A one-const program "val = TYPE(BODY)"; returns the const's value. */
static AneMilProgram *
parse_const (const char  *type,
             const char  *body,
             GError     **error)
{
  g_autofree char *text = g_strdup_printf ("program(1.3)\n{\n    func main<ios18>() {\n"
                                           "        %s c = const()[name = string(\"c\"), val = %s(%s)];\n"
                                           "    } -> (c);\n}\n", type, type, body);

  return ane_mil_text_parse (text, -1, "const", error);
}

static const AneMilValue *
const_value (const AneMilProgram *p)
{
  return op_attr (main_block (p, 0)->operations[0], "val");
}

/* Fills an immediate's bytes with every pattern of an n-bit type, prints
 * and parses it: the bytes come back. */
static void
check_all_patterns (const char *dtype,
                    guint       bits)
{
  guint n = 1u << bits;
  g_autofree char *type = g_strdup_printf ("tensor<%s, [%u]>", dtype, n);
  g_autoptr(GString) zeros = g_string_new ("[");
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) p = NULL, q = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;
  ProtobufCBinaryData *data;

  for (guint i = 0; i < n; i++)
    g_string_append (zeros, i ? ", 0" : "0");
  g_string_append_c (zeros, ']');
  p = parse_const (type, zeros->str, &error);
  g_assert_no_error (error);
  data = &const_value (p)->immediatevalue->tensor->bytes->values;
  g_assert_cmpuint (data->len, ==, n * bits / 8);
  for (guint i = 0; i < n; i++)
    {
      if (bits == 16)
        {
          data->data[2 * i] = (guint8) i;
          data->data[2 * i + 1] = (guint8) (i >> 8);
        }
      else
        data->data[i] = (guint8) i;
    }
  text = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  q = ane_mil_text_parse (text, -1, dtype, &error);
  g_assert_no_error (error);
  a = pack (p);
  b = pack (q);
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_float_patterns (void)
{
  check_all_patterns ("fp16", 16);
  check_all_patterns ("bf16", 16);
  check_all_patterns ("fp8e4m3fn", 8);
  check_all_patterns ("fp8e5m2", 8);
}

static void
test_fp32_fp64_exact (void)
{
  static const guint32 f32[] = {
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x3f800000, 0x3dcccccd,
    0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001,
    0x7f800001, 0x3727c5ac, 0x2b8cbccc,
  };
  static const guint64 f64[] = {
    G_GUINT64_CONSTANT (0x3ff0000000000000), G_GUINT64_CONSTANT (0x0000000000000001),
    G_GUINT64_CONSTANT (0x7fefffffffffffff), G_GUINT64_CONSTANT (0x3fb999999999999a),
    G_GUINT64_CONSTANT (0x7ff8000000000000), G_GUINT64_CONSTANT (0x7ff0000000000001),
    G_GUINT64_CONSTANT (0x8000000000000000),
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new ("[");
  g_autoptr(AneMilProgram) p = NULL, q = NULL, p64 = NULL, q64 = NULL;
  g_autofree char *type = g_strdup_printf ("tensor<fp32, [%u]>", (guint) G_N_ELEMENTS (f32));
  g_autofree char *type64 = g_strdup_printf ("tensor<fp64, [%u]>", (guint) G_N_ELEMENTS (f64));
  g_autofree char *text = NULL, *text64 = NULL;
  const AneMilTensorValue *tv;
  g_autoptr(GBytes) a = NULL, b = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (f32); i++)
    g_string_append (body, i ? ", 0" : "0");
  g_string_append_c (body, ']');
  p = parse_const (type, body->str, &error);
  g_assert_no_error (error);
  tv = const_value (p)->immediatevalue->tensor;
  g_assert_cmpint (tv->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS);
  memcpy (tv->floats->values, f32, sizeof f32);
  text = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "[0x0p+0, -0x0p+0, 0x1p-149, -0x1.fffffcp-127, 0x1p-126, 0x1p+0, "
                                  "0x1.99999ap-4, 0x1.fffffep+127, -0x1.fffffep+127, inf, -inf, nan, -nan, "
                                  "nan(0x7fc00001), nan(0x7f800001), "));
  q = ane_mil_text_parse (text, -1, "fp32", &error);
  g_assert_no_error (error);
  a = pack (p);
  b = pack (q);
  g_assert_true (g_bytes_equal (a, b));

  g_string_assign (body, "[");
  for (guint i = 0; i < G_N_ELEMENTS (f64); i++)
    g_string_append (body, i ? ", 0" : "0");
  g_string_append_c (body, ']');
  p64 = parse_const (type64, body->str, &error);
  g_assert_no_error (error);
  tv = const_value (p64)->immediatevalue->tensor;
  g_assert_cmpint (tv->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES);
  memcpy (tv->doubles->values, f64, sizeof f64);
  text64 = ane_mil_text_print (p64, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text64, "[0x1p+0, 0x1p-1074, 0x1.fffffffffffffp+1023, 0x1.999999999999ap-4, nan, "
                                    "nan(0x7ff0000000000001), -0x0p+0]"));
  q64 = ane_mil_text_parse (text64, -1, "fp64", &error);
  g_assert_no_error (error);
  g_clear_pointer (&a, g_bytes_unref);
  g_clear_pointer (&b, g_bytes_unref);
  a = pack (p64);
  b = pack (q64);
  g_assert_true (g_bytes_equal (a, b));
}

typedef struct {
  const char *type;
  const char *body;
  const char *printed;     /* the canonical body; NULL: same as body */
  guint64     bits;        /* first element's bits (byte-stored types) */
} LiteralCase;

static void
test_literals (void)
{
  /* Decimal input rounds to nearest even; output is hex. */
  static const LiteralCase cases[] = {
    { "fp16", "0.1", "0x1.998p-4", 0x2e66 },
    { "fp16", "65519", "0x1.ffcp+15", 0x7bff },
    { "fp16", "65520", "inf", 0x7c00 },
    { "fp16", "5.960464477539063e-08", "0x1p-24", 0x0001 },
    { "fp16", "0x1p-25", "0x0p+0", 0x0000 },           /* tie -> even (zero) */
    { "fp16", "0x1.8p-25", "0x1p-24", 0x0001 },
    { "fp16", "-0", "-0x0p+0", 0x8000 },
    { "fp16", "-inf", NULL, 0xfc00 },
    { "fp16", "nan(0x7c01)", NULL, 0x7c01 },
    { "fp16", "-nan", NULL, 0xfe00 },
    { "bf16", "1.00390625", "0x1p+0", 0x3f80 },        /* tie -> even */
    { "bf16", "1.01171875", "0x1.04p+0", 0x3f82 },
    { "fp8e4m3fn", "448", "0x1.cp+8", 0x7e },
    { "fp8e4m3fn", "464", "0x1.cp+8", 0x7e },           /* tie -> 448 (even) */
    { "fp8e4m3fn", "465", "nan", 0x7f },                /* no inf: NaN */
    { "fp8e4m3fn", "0x1p-9", NULL, 0x01 },
    { "fp8e5m2", "57344", "0x1.cp+15", 0x7b },
    { "fp8e5m2", "inf", NULL, 0x7c },
    { "fp32", "1e-05", "0x1.4f8b58p-17", 0 },
    { "fp32", "1.5", "0x1.8p+0", 0 },
    { "int8", "-128", NULL, 0x80 },
    { "uint8", "255", NULL, 0xff },
    { "uint32", "4294967295", NULL, 0xffffffff },
    { "int32", "-2147483648", NULL, 0 },
    { "int64", "-9223372036854775808", NULL, 0 },
    { "uint64", "18446744073709551615", NULL, 0 },
    { "int16", "-32768", NULL, 0 },
    { "uint16", "65535", NULL, 0 },
    { "bool", "true", NULL, 0 },
    { "string", "\"tab\\there \\\"q\\\" \\\\ \\x01 \xc3\xa9\"", "\"tab\\there \\\"q\\\" \\\\ \\x01 \xc3\xa9\"", 0 },
    { "tensor<int4, [5]>", "[-8, 7, -1, 0, 3]", NULL, 0x78 },
    { "tensor<uint4, [3]>", "[15, 0, 9]", NULL, 0x0f },
    { "tensor<uint1, [9]>", "[1, 0, 1, 1, 0, 0, 0, 1, 1]", NULL, 0x8d },
    { "tensor<uint2, [3]>", "[3, 2, 1]", NULL, 0x1b },
    { "tensor<uint3, [3]>", "[7, 0, 5]", NULL, 0x47 },
    { "tensor<uint6, [2]>", "[63, 33]", NULL, 0x7f },
    { "tensor<int32, [2, 2]>", "[[1, 2], [3, 4]]", "[1, 2, 3, 4]", 0 },
    { "tensor<fp32, [0]>", "[]", NULL, 0 },
    { "tensor<string, [2]>", "[\"a\", \"\"]", NULL, 0 },
    { "tensor<bool, [3]>", "[true, false, true]", NULL, 0 },
    { "tensor<fp16, [2, ?]>", "[0x1p+0, 0x1p+1, 0x1.8p+1]", NULL, 0x3c00 },
    { "tuple<int32, tensor<fp16, [2]>>", "(7, [0x1p+0, -0x1p+1])", NULL, 0 },
    { "tuple<int32, string>", "(7, string(\"typed element\"))", "(7, \"typed element\")", 0 },
    { "tuple<int32, fp32>", "(7, int32(3))", NULL, 0 },
    { "list<string, 2>", "[\"a\", \"b\"]", NULL, 0 },
    { "list<int32, ?>", "[]", NULL, 0 },
    { "dict<string, int64>", "{{\"one\", 1}, {\"two\", 2}}", NULL, 0 },
    { "tensor<fp32, [2]>", "", NULL, 0 },                 /* a type with no value */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const LiteralCase *c = &cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(AneMilProgram) p = parse_const (c->type, c->body, &error);
      g_autofree char *text = NULL, *want = NULL;
      const AneMilValue *v;

      g_test_message ("%s(%s)", c->type, c->body);
      g_assert_no_error (error);
      v = const_value (p);
      if (c->bits && v->immediatevalue->tensor->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES)
        {
          const ProtobufCBinaryData *d = &v->immediatevalue->tensor->bytes->values;
          guint64 got = 0;

          for (gsize j = 0; j < MIN (d->len, 4); j++)
            got |= (guint64) d->data[j] << (8 * j);
          if (d->len < 4)
            got &= (G_GUINT64_CONSTANT (1) << (8 * d->len)) - 1;
          if (strstr (c->type, "fp16") || strstr (c->type, "bf16"))
            got &= 0xffff;
          else if (!strstr (c->type, "uint32"))
            got &= 0xff;
          g_assert_cmphex (got, ==, c->bits);
        }
      text = ane_mil_text_print (p, &error);
      g_assert_no_error (error);
      want = g_strdup_printf ("val = %s(%s)]", c->type, c->printed ? c->printed : c->body);
      if (strstr (text, want) == NULL)
        g_error ("%s\nwanted: %s", text, want);
    }
}

static void
test_storage_fields (void)
{
  /* The field each dtype is kept in, as coremltools writes it. */
  static const struct { const char *type, *body; int field; } cases[] = {
    { "fp32", "1.0", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS },
    { "fp64", "1.0", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES },
    { "fp16", "1.0", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES },
    { "bf16", "1.0", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES },
    { "int8", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES },
    { "uint8", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES },
    { "uint32", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES },
    { "int16", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS },
    { "uint16", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS },
    { "int32", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS },
    { "int64", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS },
    { "uint64", "1", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS },
    { "bool", "true", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS },
    { "string", "\"s\"", CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneMilProgram) p = parse_const (cases[i].type, cases[i].body, &error);

      g_assert_no_error (error);
      g_assert_cmpint (const_value (p)->immediatevalue->tensor->value_case, ==, cases[i].field);
    }
}

static void
test_opset_names (void)
{
  static const char *const pairs[][2] = {
    { "CoreML5", "ios15" }, { "CoreML6", "ios16" }, { "CoreML7", "ios17" }, { "CoreML8", "ios18" },
    { "CoreML9", "ios19" }, { "custom_opset", "custom_opset" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *text = ane_mil_text_opset_to_text (pairs[i][0]);
      g_autofree char *back = ane_mil_text_opset_from_text (pairs[i][1]);

      g_assert_cmpstr (text, ==, pairs[i][1]);
      g_assert_cmpstr (back, ==, pairs[i][0]);
    }
  {
    /* coremltools' own spelling <CoreML8> reads as the same opset. */
    g_autoptr(GError) error = NULL;
    g_autoptr(AneMilProgram) p =
      ane_mil_text_parse ("program(1) {\n  func main<CoreML8>(tensor<fp16, [1]> x) {\n  } -> (x);\n}\n",
                          -1, "coreml8", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (p->functions[0]->value->opset, ==, "CoreML8");
    g_assert_cmpstr (p->functions[0]->value->block_specializations[0]->key, ==, "CoreML8");
  }
}

static void
test_print_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) p = parse_const ("tensor<fp32, [2]>", "[1, 2]", &error);
  AneMilValue *v;
  AneMilValueType *saved;
  char *text;

  g_assert_no_error (error);
  v = (AneMilValue *) const_value (p);

  /* rank disagrees with the dimensions */
  v->type->tensortype->rank = 3;
  text = ane_mil_text_print (p, &error);
  g_assert_null (text);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "rank 3"));
  g_clear_error (&error);
  v->type->tensortype->rank = 2 - 1;

  /* a value without a type */
  saved = v->type;
  v->type = NULL;
  text = ane_mil_text_print (p, &error);
  g_assert_null (text);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  v->type = saved;

  /* an unknown data type */
  v->type->tensortype->datatype = 99;
  text = ane_mil_text_print (p, &error);
  g_assert_null (text);
  g_assert_nonnull (strstr (error->message, "unknown data type 99"));
  g_clear_error (&error);
  v->type->tensortype->datatype = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32;

  text = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  g_free (text);
}

static void
test_quoted_names (void)
{
  /* Names that are not identifiers travel `quoted`, with string escapes. */
  static const char text[] =
    "program(1.3)\n"
    "{\n"
    "    func `my model`<ios18>(tensor<fp16, [2]> `input.1`) {\n"
    "        tensor<fp16, [2]> `` = relu(x = `input.1`)[name = string(\"\")];\n"
    "        tensor<fp16, [2]> `caf\xc3\xa9 \\` \\`` = `custom op`(`x y` = ``, z = (`input.1`, ``))[`` = int32(1)];\n"
    "    } -> (`caf\xc3\xa9 \\` \\``);\n"
    "}\n";
  g_autoptr(AneMilProgram) p = assert_round_trip (text, "quoted", ANE_MIL_TEXT_STYLE_1_3);
  g_autoptr(GError) error = NULL;
  g_autofree char *printed = ane_mil_text_print (p, &error);
  const AneMilBlock *block = main_block (p, 0);

  g_assert_no_error (error);
  g_assert_cmpstr (printed, ==, text);
  g_assert_cmpstr (p->functions[0]->key, ==, "my model");
  g_assert_cmpstr (block->operations[0]->outputs[0]->name, ==, "");
  g_assert_cmpstr (block->operations[1]->outputs[0]->name, ==, "caf\xc3\xa9 ` `");
  g_assert_cmpstr (block->operations[1]->type, ==, "custom op");
  g_assert_cmpstr (block->outputs[0], ==, "caf\xc3\xa9 ` `");
}

static void
test_function_block_inputs (void)
{
  /* A function's block with inputs of its own has no MIL text form. */
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) p = parse_const ("int32", "1", &error);
  AneMilBlock *block;
  char *text;

  g_assert_no_error (error);
  block = (AneMilBlock *) main_block (p, 0);
  block->n_inputs = 1;
  block->inputs = g_new (AneMilNamedValueType *, 1);
  block->inputs[0] = g_new (AneMilNamedValueType, 1);
  core_ml__specification__milspec__named_value_type__init (block->inputs[0]);
  block->inputs[0]->name = g_strdup ("extra");
  text = ane_mil_text_print (p, &error);
  g_assert_null (text);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "inputs of its own"));
}

/* ---------------------------------------------------------------------- */
/* parse errors                                                           */
/* ---------------------------------------------------------------------- */

typedef struct {
  const char *what;
  const char *text;
  const char *where;     /* "line:col" */
  const char *message;   /* a part of the message */
} ErrorCase;

#define HEAD "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n"
#define TAIL "    } -> (x);\n}\n"

static const ErrorCase error_cases[] = {
  { "empty", "", "1:1", "expected 'program'" },
  { "not MIL", "{\"json\": true}", "1:1", "expected 'program'" },
  { "bad version", "program(one)\n{\n}\n", "1:9", "expected a program version" },
  { "unknown type", HEAD "        vector<fp16, [1]> y = relu(x = x)[name = string(\"y\")];\n" TAIL,
    "4:9", "unknown type 'vector'" },
  { "unknown dtype", HEAD "        tensor<fp17, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n" TAIL,
    "4:16", "unknown dtype 'fp17'" },
  { "missing ';'", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")]\n"
    "        tensor<fp16, [1, 4]> z = relu(x = y)[name = string(\"z\")];\n" TAIL,
    "5:9", "missing ';' after the operation" },
  { "missing '->'", HEAD "    } (x);\n}\n", "4:7", "expected '->'" },
  { "unterminated string", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y)];\n" TAIL,
    "4:60", "unterminated string" },
  { "unknown escape", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"\\q\")];\n" TAIL,
    "4:62", "unknown escape" },
  { "NUL escape", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"\\x00\")];\n" TAIL,
    "4:62", "NUL byte" },
  { "bad offset", HEAD "        tensor<fp16, [4]> w = const()[name = string(\"w\"), val = tensor<fp16, [4]>"
    "(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = int32(64)))];\n" TAIL,
    "4:150", "bad BLOBFILE offset" },
  { "negative offset", HEAD "        tensor<fp16, [4]> w = const()[name = string(\"w\"), val = tensor<fp16, [4]>"
    "(BLOBFILE(path = string(\"w.bin\"), offset = uint64(-64)))];\n" TAIL,
    "4:132", "out of range for uint64" },
  { "path not a string", HEAD "        tensor<fp16, [4]> w = const()[name = string(\"w\"), val = tensor<fp16, [4]>"
    "(BLOBFILE(path = int32(1), offset = uint64(64)))];\n" TAIL,
    "4:99", "path must be a string" },
  { "mismatched tuple", HEAD "        tuple<int32, int32> t = const()[name = string(\"t\"), val = tuple<int32, int32>((1, 2, 3))];\n" TAIL,
    "4:87", "mismatched tuple" },
  { "short tuple", HEAD "        tuple<int32, int32> t = const()[name = string(\"t\"), val = tuple<int32, int32>((1))];\n" TAIL,
    "4:87", "mismatched tuple: 1 elements" },
  { "element count", HEAD "        tensor<int32, [3]> c = const()[name = string(\"c\"), val = tensor<int32, [3]>([1, 2])];\n" TAIL,
    "4:85", "has 2 elements; its shape holds 3" },
  { "int out of range", HEAD "        int8 c = const()[name = string(\"c\"), val = int8(128)];\n" TAIL,
    "4:57", "128 is out of range for int8" },
  { "uint negative", HEAD "        uint4 c = const()[name = string(\"c\"), val = uint4(-1)];\n" TAIL,
    "4:59", "out of range for uint4" },
  { "bad float", HEAD "        fp16 c = const()[name = string(\"c\"), val = fp16(1.5.5)];\n" TAIL,
    "4:57", "bad fp16 literal" },
  { "bool literal", HEAD "        bool c = const()[name = string(\"c\"), val = bool(1)];\n" TAIL,
    "4:57", "expected true or false" },
  { "bad nan bits", HEAD "        fp16 c = const()[name = string(\"c\"), val = fp16(nan(0x3c00))];\n" TAIL,
    "4:61", "NaN" },
  { "unclosed block", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n", "5:1",
    "the block is not closed" },
  { "trailing junk", HEAD TAIL "func", "6:1", "after the program" },
  { "stray byte", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x)\x01;\n" TAIL, "4:45", "unexpected byte 0x01" },
  { "stray char", HEAD "        tensor<fp16, [1, 4]> y = relu(x = x) @;\n" TAIL, "4:46", "unexpected character '@'" },
  { "bad dimension", "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, -4]> x) {\n" TAIL,
    "3:39", "expected a dimension" },
  { "missing output name", HEAD "        tensor<fp16, [1, 4]> = relu(x = x);\n" TAIL,
    "4:30", "expected a name after the type" },
  { "state value", HEAD "        state<tensor<fp16, [1]>> c = const()[val = state<tensor<fp16, [1]>>(1)];\n" TAIL,
    "4:77", "cannot be written" },
  { "deep nesting", "program(1.3)\n{\n    func main<ios18>(tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<"
    "tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<"
    "tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<"
    "tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<"
    "tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<tuple<", NULL, "nest too deeply" },
  { "unknown opset token", "program(1.3)\n{\n    func main<18>() {\n" TAIL, "3:15", "expected an opset name" },
};

static void
test_parse_errors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      const ErrorCase *c = &error_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(AneMilProgram) p = NULL;
      g_autofree char *prefix = NULL;

      g_test_message ("error case: %s", c->what);
      p = ane_mil_text_parse (c->text, -1, "bad.mil", &error);
      g_assert_null (p);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      if (c->where)
        {
          prefix = g_strdup_printf ("bad.mil:%s: ", c->where);
          if (!g_str_has_prefix (error->message, prefix))
            g_error ("%s: got '%s', wanted prefix '%s'", c->what, error->message, prefix);
        }
      if (strstr (error->message, c->message) == NULL)
        g_error ("%s: got '%s', wanted '%s'", c->what, error->message, c->message);
    }
}

/* ---------------------------------------------------------------------- */
/* hostile input                                                          */
/* ---------------------------------------------------------------------- */

/* Whatever parses must print, and its print must parse to the same text. */
static void
fuzz_one (const char *text,
          gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) p = ane_mil_text_parse (text, (gssize) len, "fuzz", &error);

  if (p == NULL)
    {
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_assert_true (g_str_has_prefix (error->message, "fuzz:"));
      return;
    }
  {
    g_autofree char *printed = ane_mil_text_print (p, &error);
    g_autofree char *printed2 = NULL;
    g_autoptr(AneMilProgram) q = NULL;

    g_assert_no_error (error);
    q = ane_mil_text_parse (printed, -1, "fuzz-printed", &error);
    g_assert_no_error (error);
    printed2 = ane_mil_text_print (q, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (printed, ==, printed2);
  }
}

static void
test_fuzz (void)
{
  static const char *const files[] = { "extensions.mil", "ane-style.mil", "compiled-1.0.mil", "builder-ios18.mil" };
  static const char interesting[] = "(){}[]<>,;=\"`\\-?*0x.pe \n#";
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  guint flips = g_test_thorough () ? 20000 : 2500;

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *text = read_data (files[f]);
      gsize len = strlen (text);
      guint step = g_test_thorough () ? 1 : 3;

      /* every truncation (a copy of exactly that length, no NUL after it) */
      for (gsize n = 0; n < len; n += step)
        {
          g_autofree char *cut = g_memdup2 (text, MAX (n, 1));

          fuzz_one (cut, n);
        }
      /* byte flips, random bytes and structural characters */
      for (guint i = 0; i < flips; i++)
        {
          g_autofree char *copy = g_memdup2 (text, len);
          guint n = g_rand_int_range (rand, 1, 4);

          for (guint j = 0; j < n; j++)
            {
              gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) len);

              switch (g_rand_int_range (rand, 0, 3))
                {
                case 0:
                  copy[at] ^= (char) (1u << g_rand_int_range (rand, 0, 8));
                  break;
                case 1:
                  copy[at] = (char) g_rand_int_range (rand, 0, 256);
                  break;
                default:
                  copy[at] = interesting[g_rand_int_range (rand, 0, (gint32) strlen (interesting))];
                  break;
                }
            }
          fuzz_one (copy, len);
        }
    }
}

/* ---------------------------------------------------------------------- */

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil/text/golden/builder-ios18", test_golden_builder);
  g_test_add_func ("/ane/mil/text/golden/builder-ios16-1.0", test_golden_builder_style_1_0);
  g_test_add_func ("/ane/mil/text/samples/extensions", test_extensions_sample);
  g_test_add_func ("/ane/mil/text/samples/ane-style", test_ane_style_sample);
  g_test_add_func ("/ane/mil/text/samples/compiled-1.0", test_compiled_1_0_sample);
  for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/mil/text/conformance/%s", conformance_cases[i]);

      g_test_add_data_func (path, conformance_cases[i], test_conformance);
    }
  g_test_add_func ("/ane/mil/text/values/float-patterns", test_float_patterns);
  g_test_add_func ("/ane/mil/text/values/fp32-fp64-exact", test_fp32_fp64_exact);
  g_test_add_func ("/ane/mil/text/values/literals", test_literals);
  g_test_add_func ("/ane/mil/text/values/storage-fields", test_storage_fields);
  g_test_add_func ("/ane/mil/text/opset-names", test_opset_names);
  g_test_add_func ("/ane/mil/text/print-errors", test_print_errors);
  g_test_add_func ("/ane/mil/text/print-errors/function-block-inputs", test_function_block_inputs);
  g_test_add_func ("/ane/mil/text/quoted-names", test_quoted_names);
  g_test_add_func ("/ane/mil/text/parse-errors", test_parse_errors);
  g_test_add_func ("/ane/mil/text/fuzz", test_fuzz);
  return g_test_run ();
}
