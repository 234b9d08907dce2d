/* compress/ane-compress-report.c: what a compression did, weight by weight
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <json-glib/json-glib.h>

#include "compress/ane-compress-private.h"

/**
 * ane_compressed_weight_copy:
 * @self: a weight's entry
 *
 * Copies the entry.
 *
 * Returns: (transfer full): a copy
 *
 * Since: 0.2
 */
AneCompressedWeight *
ane_compressed_weight_copy (const AneCompressedWeight *self)
{
  AneCompressedWeight *copy = g_new (AneCompressedWeight, 1);

  *copy = *self;
  copy->name = g_strdup (self->name);
  copy->op_type = g_strdup (self->op_type);
  copy->mode = g_strdup (self->mode);
  copy->detail = g_strdup (self->detail);
  return copy;
}

/**
 * ane_compressed_weight_free:
 * @self: a weight's entry
 *
 * Frees the entry.
 *
 * Since: 0.2
 */
void
ane_compressed_weight_free (AneCompressedWeight *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self->op_type);
  g_free (self->mode);
  g_free (self->detail);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (AneCompressedWeight, ane_compressed_weight,
                     ane_compressed_weight_copy, ane_compressed_weight_free)

/**
 * AneCompressReport:
 *
 * What [method@Ane.Package.compress] did: one [struct@Ane.CompressedWeight]
 * per weight it compressed (mode, bits, bytes before and after, the
 * largest and the root mean square reconstruction error), and the weight
 * bytes of the whole model before and after. Get it from the compressed
 * package with [method@Ane.Package.get_compression_report].
 *
 * Since: 0.2
 */
struct _AneCompressReport
{
  GObject    parent_instance;

  GPtrArray *weights;        /* AneCompressedWeight* */
  guint64    bytes_before;
  guint64    bytes_after;
};

G_DEFINE_FINAL_TYPE (AneCompressReport, ane_compress_report, G_TYPE_OBJECT)

static void
ane_compress_report_finalize (GObject *object)
{
  AneCompressReport *self = ANE_COMPRESS_REPORT (object);

  g_ptr_array_unref (self->weights);
  G_OBJECT_CLASS (ane_compress_report_parent_class)->finalize (object);
}

static void
ane_compress_report_class_init (AneCompressReportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_compress_report_finalize;
}

static void
ane_compress_report_init (AneCompressReport *self)
{
}

AneCompressReport *
ane_compress_report_new (GPtrArray *weights,
                         guint64    bytes_before,
                         guint64    bytes_after)
{
  AneCompressReport *self = g_object_new (ANE_TYPE_COMPRESS_REPORT, NULL);

  self->weights = weights;
  self->bytes_before = bytes_before;
  self->bytes_after = bytes_after;
  return self;
}

/**
 * ane_compress_report_get_weights:
 * @self: a report
 *
 * The weights that were compressed, in program order.
 *
 * Returns: (transfer none) (element-type AneCompressedWeight): the entries
 *
 * Since: 0.2
 */
GPtrArray *
ane_compress_report_get_weights (AneCompressReport *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), NULL);
  return self->weights;
}

/**
 * ane_compress_report_get_bytes_before:
 * @self: a report
 *
 * The bytes of weights (the blobs the program refers to) before.
 *
 * Returns: the size in bytes
 *
 * Since: 0.2
 */
guint64
ane_compress_report_get_bytes_before (AneCompressReport *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), 0);
  return self->bytes_before;
}

/**
 * ane_compress_report_get_bytes_after:
 * @self: a report
 *
 * The bytes of weights after compression.
 *
 * Returns: the size in bytes
 *
 * Since: 0.2
 */
guint64
ane_compress_report_get_bytes_after (AneCompressReport *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), 0);
  return self->bytes_after;
}

/**
 * ane_compress_report_get_ratio:
 * @self: a report
 *
 * The whole model's weight bytes after over before (0.25 for a float16
 * model palettized to 4 bits everywhere).
 *
 * Returns: the ratio (1.0 for a model without weights)
 *
 * Since: 0.2
 */
double
ane_compress_report_get_ratio (AneCompressReport *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), 1.0);
  return self->bytes_before ? (double) self->bytes_after / (double) self->bytes_before : 1.0;
}

/**
 * ane_compress_report_to_string:
 * @self: a report
 *
 * A table, one line per weight (name, op, what was done, bytes before and
 * after, max and RMS error), then the totals.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.2
 */
char *
ane_compress_report_to_string (AneCompressReport *self)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), NULL);
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneCompressedWeight *w = g_ptr_array_index (self->weights, i);

      g_string_append_printf (s, "%s (%s): %s, %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                              " bytes, max error %.3g, rms %.3g",
                              w->name, w->op_type ? w->op_type : "-", w->detail,
                              w->bytes_before, w->bytes_after, w->max_error, w->rms_error);
      if (w->sparsity > 0)
        g_string_append_printf (s, ", sparsity %.3f", w->sparsity);
      g_string_append_c (s, '\n');
    }
  {
    guint done = 0;

    for (guint i = 0; i < self->weights->len; i++)
      done += g_strcmp0 (((AneCompressedWeight *) g_ptr_array_index (self->weights, i))->mode, "skipped") != 0;
    g_string_append_printf (s, "%u weight%s compressed, %u left as %s; weights %" G_GUINT64_FORMAT " -> %"
                            G_GUINT64_FORMAT " bytes (%.3f)\n", done, done == 1 ? "" : "s",
                            self->weights->len - done, self->weights->len - done == 1 ? "it was" : "they were",
                            self->bytes_before, self->bytes_after, ane_compress_report_get_ratio (self));
  }
  return g_string_free (s, FALSE);
}

/**
 * ane_compress_report_to_json:
 * @self: a report
 *
 * The report as JSON: `{"bytes_before", "bytes_after", "ratio",
 * "weights": [{"name", "op_type", "mode", "detail", "bits",
 * "bytes_before", "bytes_after", "max_error", "rms_error", "sparsity"}]}`.
 *
 * Returns: (transfer full): the JSON text
 *
 * Since: 0.2
 */
char *
ane_compress_report_to_json (AneCompressReport *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (ANE_IS_COMPRESS_REPORT (self), NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "bytes_before");
  json_builder_add_int_value (b, (gint64) self->bytes_before);
  json_builder_set_member_name (b, "bytes_after");
  json_builder_add_int_value (b, (gint64) self->bytes_after);
  json_builder_set_member_name (b, "ratio");
  json_builder_add_double_value (b, ane_compress_report_get_ratio (self));
  json_builder_set_member_name (b, "weights");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneCompressedWeight *w = g_ptr_array_index (self->weights, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, w->name);
      json_builder_set_member_name (b, "op_type");
      json_builder_add_string_value (b, w->op_type);
      json_builder_set_member_name (b, "mode");
      json_builder_add_string_value (b, w->mode);
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, w->detail);
      json_builder_set_member_name (b, "bits");
      json_builder_add_int_value (b, w->bits);
      json_builder_set_member_name (b, "bytes_before");
      json_builder_add_int_value (b, (gint64) w->bytes_before);
      json_builder_set_member_name (b, "bytes_after");
      json_builder_add_int_value (b, (gint64) w->bytes_after);
      json_builder_set_member_name (b, "max_error");
      json_builder_add_double_value (b, w->max_error);
      json_builder_set_member_name (b, "rms_error");
      json_builder_add_double_value (b, w->rms_error);
      json_builder_set_member_name (b, "sparsity");
      json_builder_add_double_value (b, w->sparsity);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
