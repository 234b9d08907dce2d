/* make-seeds.c: writes the seed corpora and dictionaries of the fuzz targets
 *
 *   make-seeds SOURCE-ROOT
 *
 * Replaces every file of SOURCE-ROOT/tests/fuzz/corpus/TARGET/ and writes
 * SOURCE-ROOT/tests/fuzz/TARGET.dict for the text formats. The inputs come
 * from the test data (tests/data/conformance, tests/data/mil,
 * data/models/tok512.bin) and from what the library writes for the test
 * models of tests/ane-test-models.c; the models and tokenizers the llama
 * targets start from are made here, tiny and seeded, so the output is the
 * same every time except for the package identifiers that the package
 * writer draws at random. A seed larger than MAX_SEED bytes is left out.
 * Each container format is described in tests/fuzz/README.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-models.h"
#include "gguf/ane-gguf-writer-private.h"
#include "mil/ane-mil-opdefs-private.h"

#define MAX_SEED (200 * 1024)

static const char *out_root;     /* SOURCE-ROOT/tests/fuzz */
static guint n_written, n_skipped;

static void
die_on (GError *error)
{
  if (error != NULL)
    g_error ("make-seeds: %s", error->message);
}

static void
clear_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
}

static void
write_seed (const char *target,
            const char *name,
            GBytes     *bytes)
{
  g_autofree char *dir = g_build_filename (out_root, "corpus", target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  if (size > MAX_SEED)
    {
      g_print ("skipped %s/%s: %" G_GSIZE_FORMAT " bytes\n", target, name, size);
      n_skipped++;
      return;
    }
  g_mkdir_with_parents (dir, 0755);
  g_file_set_contents (path, data, (gssize) size, &error);
  die_on (error);
  g_print ("%s/%s: %" G_GSIZE_FORMAT " bytes\n", target, name, size);
  n_written++;
}

/* Parts as fuzz_split_parts reads them: every part but the last with a
 * 32-bit little-endian length in front. */
static GBytes *
container (GBytes **parts,
           guint    n_parts)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < n_parts; i++)
    {
      gsize size = parts[i] != NULL ? g_bytes_get_size (parts[i]) : 0;

      if (i + 1 < n_parts)
        {
          guint8 len[4] = { size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, (size >> 24) & 0xff };
          g_byte_array_append (out, len, 4);
        }
      if (size > 0)
        g_byte_array_append (out, g_bytes_get_data (parts[i], NULL), (guint) size);
    }
  return g_byte_array_free_to_bytes (out);
}

/* The file's bytes, or empty ones when it does not exist. */
static GBytes *
read_file (const char *path)
{
  char *contents = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &contents, &size, NULL))
    return g_bytes_new (NULL, 0);
  return g_bytes_new_take (contents, size);
}

static GBytes *
package_seed (const char *package_dir)
{
  g_autofree char *model = g_build_filename (package_dir, "Data", "com.apple.CoreML", "model.mlmodel", NULL);
  g_autofree char *manifest = g_build_filename (package_dir, "Manifest.json", NULL);
  g_autofree char *weights = g_build_filename (package_dir, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
  GBytes *parts[3] = { read_file (model), read_file (manifest), read_file (weights) };
  GBytes *seed = container (parts, 3);

  for (guint i = 0; i < 3; i++)
    g_bytes_unref (parts[i]);
  return seed;
}

/* The package (unless @with_package is FALSE), and the same program as
 * MIL text, as seeds. */
static void
add_package (const char *name,
             AnePackage *package,
             gboolean    with_package,
             const char *scratch)
{
  g_autofree char *pkg_path = g_build_filename (scratch, "p.mlpackage", NULL);
  g_autofree char *mil_dir = g_build_filename (scratch, "mil", NULL);
  g_autofree char *mil_path = g_build_filename (mil_dir, "model.mil", NULL);
  g_autofree char *weights = g_build_filename (mil_dir, "weights", "weight.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pkg_seed = NULL, mil_seed = NULL;
  GBytes *parts[2];

  ane_test_remove_tree (pkg_path);
  ane_test_remove_tree (mil_dir);
  ane_package_save (package, pkg_path, TRUE, &error);
  die_on (error);
  pkg_seed = package_seed (pkg_path);
  if (with_package)
    write_seed ("package", name, pkg_seed);

  g_mkdir_with_parents (mil_dir, 0700);
  ane_package_save_mil (package, mil_path, TRUE, &error);
  die_on (error);
  parts[0] = read_file (mil_path);
  parts[1] = read_file (weights);
  mil_seed = container (parts, 2);
  write_seed ("mil", name, mil_seed);
  g_bytes_unref (parts[0]);
  g_bytes_unref (parts[1]);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
conformance_seeds (const char *src_root,
                   const char *scratch)
{
  g_autofree char *dir = g_build_filename (src_root, "tests", "data", "conformance", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    g_error ("make-seeds: no %s", dir);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (cases, g_strdup (name));
  g_ptr_array_sort (cases, compare_names);
  for (guint i = 0; i < cases->len; i++)
    {
      const char *c = g_ptr_array_index (cases, i);
      g_autofree char *pkg = g_build_filename (dir, c, "model.mlpackage", NULL);
      g_autofree char *seed_name = g_strconcat ("conformance-", c, NULL);
      g_autoptr(GBytes) seed = NULL;
      g_autoptr(AnePackage) loaded = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *mil_name = NULL;

      /* the fp16 MLP is the same program; the transformer block passes
       * MAX_SEED */
      if (!g_file_test (pkg, G_FILE_TEST_IS_DIR) ||
          g_str_equal (c, "mlp_fp32") || g_str_equal (c, "transformer_block_fp32"))
        continue;
      /* as coremltools wrote it for the package target ... */
      seed = package_seed (pkg);
      write_seed ("package", seed_name, seed);
      /* ... and as MIL text (the package this library writes back is
       * the same bytes) */
      loaded = ane_package_load (pkg, &error);
      die_on (error);
      mil_name = g_strconcat ("conformance-", c, NULL);
      add_package (mil_name, loaded, FALSE, scratch);
    }
}

static void
mil_text_seeds (const char *src_root)
{
  g_autofree char *dir = g_build_filename (src_root, "tests", "data", "mil", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *seed_name = g_strconcat ("data-", name, NULL);
      g_autoptr(GBytes) text = read_file (path);
      GBytes *parts[2] = { text, NULL };
      g_autoptr(GBytes) seed = container (parts, 2);

      write_seed ("mil", seed_name, seed);
    }
}

/* A graph with a state and an unbound param, beside the test models. */
static AneGraph *
state_graph (void)
{
  static const gint64 s[] = { 1, 4 }, sw[] = { 4, 4 };
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, sw, 2, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "cache", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) before = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  g_autoptr(AneTensor) written = ane_graph_write_state (g, st, y, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, before, y, &error);

  ane_graph_add_output (g, "sum", sum, &error);
  die_on (error);
  g_assert_nonnull (written);
  return g;
}

/* --- tiny LLaMA models and vocabularies --------------------------------- */

typedef struct {
  gint32 dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len;
  gboolean shared;
} Hparams;

static float
next_weight (GRand *rand)
{
  return (float) g_rand_double_range (rand, -0.5, 0.5);
}

/* A llama2.c checkpoint with seeded weights (see AneLlamaModel). */
static GBytes *
llama2c_checkpoint (const Hparams *h,
                    guint32        seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  GByteArray *out = g_byte_array_new ();
  gint32 header[7] = { h->dim, h->hidden, h->n_layers, h->n_heads, h->n_kv_heads,
                       h->shared ? h->vocab : -h->vocab, h->seq_len };
  gint64 head = h->dim / h->n_heads, kv = (gint64) h->n_kv_heads * head;
  gint64 n = (gint64) h->vocab * h->dim +
             h->n_layers * (h->dim + (gint64) h->dim * h->dim + 2 * kv * h->dim + (gint64) h->dim * h->dim +
                            h->dim + 3 * (gint64) h->hidden * h->dim) +
             h->dim + 2 * (gint64) h->seq_len * (head / 2) +
             (h->shared ? 0 : (gint64) h->vocab * h->dim);

  for (guint i = 0; i < 7; i++)
    {
      guint32 le = GUINT32_TO_LE ((guint32) header[i]);
      g_byte_array_append (out, (const guint8 *) &le, 4);
    }
  for (gint64 i = 0; i < n; i++)
    {
      float f = next_weight (rand);
      guint32 bits;

      memcpy (&bits, &f, 4);
      bits = GUINT32_TO_LE (bits);
      g_byte_array_append (out, (const guint8 *) &bits, 4);
    }
  return g_byte_array_free_to_bytes (out);
}

/* The vocabulary of the tiny models: <unk> <s> </s>, the 256 byte tokens
 * <0xXX> (when @byte_tokens), the space, a-z and 'O', then merges that spell
 * " the" and " Once upon". Spaces are " " (llama2.c) or "▁" (GGUF). Later
 * merges score higher (merge first), single characters lowest. */
typedef struct {
  GPtrArray *pieces;
  GArray *scores;
  guint n_byte_tokens;
} Vocab;

static void
vocab_free (Vocab *v)
{
  g_ptr_array_unref (v->pieces);
  g_array_unref (v->scores);
  g_free (v);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Vocab, vocab_free)

static void
vocab_add (Vocab      *v,
           char       *piece,
           float       score)
{
  g_ptr_array_add (v->pieces, piece);
  g_array_append_val (v->scores, score);
}

static Vocab *
tiny_vocab (const char *space,
            gboolean    byte_tokens)
{
  static const char *const specials[] = { "<unk>", "<s>", "</s>" };
  static const char *const merges[] = {
    "_t", "he", "_the", "_a", "in", "on", "ce", "nce", "Once", "_Once", "up", "_up", "_upon",
  };
  Vocab *v = g_new0 (Vocab, 1);

  v->pieces = g_ptr_array_new_with_free_func (g_free);
  v->scores = g_array_new (FALSE, FALSE, sizeof (float));
  for (guint i = 0; i < G_N_ELEMENTS (specials); i++)
    vocab_add (v, g_strdup (specials[i]), 0.0f);
  if (byte_tokens)
    for (guint b = 0; b < 256; b++)
      vocab_add (v, g_strdup_printf ("<0x%02X>", b), 0.0f);
  v->n_byte_tokens = byte_tokens ? 256 : 0;
  vocab_add (v, g_strdup (space), -1000.0f);
  for (char c = 'a'; c <= 'z'; c++)
    vocab_add (v, g_strdup_printf ("%c", c), -1000.0f);
  vocab_add (v, g_strdup ("O"), -1000.0f);
  for (guint i = 0; i < G_N_ELEMENTS (merges); i++)
    {
      g_autoptr(GString) m = g_string_new (merges[i]);
      g_string_replace (m, "_", space, 0);
      vocab_add (v, g_string_free (g_steal_pointer (&m), FALSE), -100.0f + (float) i);
    }
  return v;
}

/* A llama2.c tokenizer file, behind its vocabulary size (the fuzz-tokenizer
 * input). */
static GBytes *
tokenizer_seed (Vocab *v)
{
  GByteArray *out = g_byte_array_new ();
  guint32 max_len = 0, le;

  le = GUINT32_TO_LE (v->pieces->len);
  g_byte_array_append (out, (const guint8 *) &le, 4);
  for (guint i = 0; i < v->pieces->len; i++)
    max_len = MAX (max_len, (guint32) strlen (g_ptr_array_index (v->pieces, i)));
  le = GUINT32_TO_LE (max_len);
  g_byte_array_append (out, (const guint8 *) &le, 4);
  for (guint i = 0; i < v->pieces->len; i++)
    {
      const char *piece = g_ptr_array_index (v->pieces, i);
      float score = g_array_index (v->scores, float, i);
      guint32 bits;

      memcpy (&bits, &score, 4);
      bits = GUINT32_TO_LE (bits);
      g_byte_array_append (out, (const guint8 *) &bits, 4);
      le = GUINT32_TO_LE ((guint32) strlen (piece));
      g_byte_array_append (out, (const guint8 *) &le, 4);
      g_byte_array_append (out, (const guint8 *) piece, (guint) strlen (piece));
    }
  return g_byte_array_free_to_bytes (out);
}

typedef enum { GGUF_F32, GGUF_F16, GGUF_Q8_0, GGUF_Q4_0 } GgufKind;

/* A [rows, cols] (or [rows]) tensor of seeded values in @kind (vectors stay
 * F32, as llama.cpp writes norms). */
static void
add_weight (AneGgufWriter *w,
            GRand         *rand,
            const char    *name,
            gint64         rows,
            gint64         cols,
            GgufKind       kind)
{
  gint64 n = rows * MAX (cols, 1);
  gint64 ne[2] = { cols > 0 ? cols : rows, rows };
  guint n_dims = cols > 0 ? 2 : 1;
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint32 type = ANE_GGML_TYPE_F32;
  g_autoptr(GBytes) bytes = NULL;

  if (n_dims == 1 || (kind != GGUF_F16 && ne[0] % 32 != 0))
    kind = GGUF_F32;
  for (gint64 i = 0; i < n;)
    {
      float f = next_weight (rand);

      switch (kind)
        {
        case GGUF_F32:
          {
            guint32 bits;
            memcpy (&bits, &f, 4);
            bits = GUINT32_TO_LE (bits);
            g_byte_array_append (data, (const guint8 *) &bits, 4);
            type = ANE_GGML_TYPE_F32;
            i++;
            break;
          }
        case GGUF_F16:
          {
            guint16 h = GUINT16_TO_LE (ane_float_to_half (f));
            g_byte_array_append (data, (const guint8 *) &h, 2);
            type = ANE_GGML_TYPE_F16;
            i++;
            break;
          }
        case GGUF_Q8_0:
        case GGUF_Q4_0:
          {
            /* one block: an fp16 scale, then 32 int8 or 16 bytes of nibbles */
            guint16 d = GUINT16_TO_LE (ane_float_to_half (kind == GGUF_Q8_0 ? 0.004f : 0.06f));
            guint n_q = kind == GGUF_Q8_0 ? 32 : 16;

            g_byte_array_append (data, (const guint8 *) &d, 2);
            for (guint q = 0; q < n_q; q++)
              {
                guint8 v = (guint8) g_rand_int_range (rand, 0, 256);
                g_byte_array_append (data, &v, 1);
              }
            type = kind == GGUF_Q8_0 ? ANE_GGML_TYPE_Q8_0 : ANE_GGML_TYPE_Q4_0;
            i += 32;
            break;
          }
        default:
          g_assert_not_reached ();
        }
    }
  bytes = g_bytes_new (data->data, data->len);
  ane_gguf_writer_add_tensor (w, name, type, ne, n_dims, bytes);
}

/* A LLaMA-architecture GGUF model with @vocab as its vocabulary. */
static GBytes *
gguf_model (const char    *arch,
            const Hparams *h,
            Vocab         *vocab,
            GgufKind       kind,
            guint          version,
            guint          alignment,
            gboolean       biases,
            guint32        seed)
{
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (version, alignment);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n_vocab = vocab->pieces->len;
  g_autofree gint32 *types = g_new (gint32, n_vocab);
  gint64 head = h->dim / h->n_heads, kv = (gint64) h->n_kv_heads * head;
  static const char *const keys[] = {
    "context_length", "embedding_length", "block_count", "feed_forward_length",
    "attention.head_count", "attention.head_count_kv",
  };
  const gint64 values[] = { h->seq_len, h->dim, h->n_layers, h->hidden, h->n_heads, h->n_kv_heads };

  ane_gguf_writer_add_string (w, "general.architecture", arch);
  ane_gguf_writer_add_string (w, "general.name", "tiny");
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *key = g_strdup_printf ("%s.%s", arch, keys[i]);
      ane_gguf_writer_add_int (w, key, ANE_GGUF_VALUE_TYPE_UINT32, values[i]);
    }
  {
    g_autofree char *eps = g_strdup_printf ("%s.attention.layer_norm_rms_epsilon", arch);
    g_autofree char *base = g_strdup_printf ("%s.rope.freq_base", arch);
    ane_gguf_writer_add_float (w, eps, ANE_GGUF_VALUE_TYPE_FLOAT32, 1e-5);
    ane_gguf_writer_add_float (w, base, ANE_GGUF_VALUE_TYPE_FLOAT32, 10000.0);
  }
  /* llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte */
  for (guint i = 0; i < n_vocab; i++)
    types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 3 + vocab->n_byte_tokens ? 6 : 1;
  ane_gguf_writer_add_string (w, "tokenizer.ggml.model", "llama");
  ane_gguf_writer_add_strings (w, "tokenizer.ggml.tokens", (const char *const *) vocab->pieces->pdata, n_vocab);
  ane_gguf_writer_add_array (w, "tokenizer.ggml.scores", ANE_GGUF_VALUE_TYPE_FLOAT32, vocab->scores->data, n_vocab);
  ane_gguf_writer_add_array (w, "tokenizer.ggml.token_type", ANE_GGUF_VALUE_TYPE_INT32, types, n_vocab);
  ane_gguf_writer_add_int (w, "tokenizer.ggml.bos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, 1);
  ane_gguf_writer_add_int (w, "tokenizer.ggml.eos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, 2);

  add_weight (w, rand, "token_embd.weight", n_vocab, h->dim, kind);
  for (gint32 l = 0; l < h->n_layers; l++)
    {
      const struct { const char *name; gint64 rows, cols; } per_layer[] = {
        { "attn_norm.weight", h->dim, 0 }, { "attn_q.weight", h->dim, h->dim },
        { "attn_k.weight", kv, h->dim }, { "attn_v.weight", kv, h->dim },
        { "attn_output.weight", h->dim, h->dim }, { "ffn_norm.weight", h->dim, 0 },
        { "ffn_gate.weight", h->hidden, h->dim }, { "ffn_down.weight", h->dim, h->hidden },
        { "ffn_up.weight", h->hidden, h->dim },
        { "attn_q.bias", h->dim, 0 }, { "attn_k.bias", kv, 0 }, { "attn_v.bias", kv, 0 },
      };

      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          g_autofree char *name = g_strdup_printf ("blk.%d.%s", l, per_layer[i].name);

          if (g_str_has_suffix (name, ".bias") && !biases)
            continue;
          add_weight (w, rand, name, per_layer[i].rows, per_layer[i].cols, kind);
        }
    }
  add_weight (w, rand, "output_norm.weight", h->dim, 0, kind);
  if (!h->shared)
    add_weight (w, rand, "output.weight", n_vocab, h->dim, kind);
  return ane_gguf_writer_to_bytes (w);
}

/* Every metadata value type and a tensor of each plain dtype, no model. */
static GBytes *
gguf_metadata (void)
{
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 32);
  static const gint32 ints[] = { 1, -2, 3 };
  static const float floats[] = { 0.5f, -1.0f };
  static const char *const strings[] = { "a", "", "\342\226\201b" };  /* "▁b" */
  static const float values[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  g_autoptr(GBytes) f32 = g_bytes_new_static (values, sizeof values);
  g_autoptr(GBytes) i8 = g_bytes_new_static ("abcdefgh", 8);
  static const gint64 ne[2] = { 4, 2 }, ne8[1] = { 8 };

  ane_gguf_writer_add_string (w, "general.architecture", "llama");
  ane_gguf_writer_add_int (w, "k.u8", ANE_GGUF_VALUE_TYPE_UINT8, 200);
  ane_gguf_writer_add_int (w, "k.i8", ANE_GGUF_VALUE_TYPE_INT8, -100);
  ane_gguf_writer_add_int (w, "k.u16", ANE_GGUF_VALUE_TYPE_UINT16, 60000);
  ane_gguf_writer_add_int (w, "k.i16", ANE_GGUF_VALUE_TYPE_INT16, -30000);
  ane_gguf_writer_add_int (w, "k.u32", ANE_GGUF_VALUE_TYPE_UINT32, 4000000000u);
  ane_gguf_writer_add_int (w, "k.i32", ANE_GGUF_VALUE_TYPE_INT32, -2000000000);
  ane_gguf_writer_add_uint64 (w, "k.u64", G_MAXUINT64);
  ane_gguf_writer_add_int (w, "k.i64", ANE_GGUF_VALUE_TYPE_INT64, G_MININT64);
  ane_gguf_writer_add_float (w, "k.f32", ANE_GGUF_VALUE_TYPE_FLOAT32, 1.5);
  ane_gguf_writer_add_float (w, "k.f64", ANE_GGUF_VALUE_TYPE_FLOAT64, -2.25);
  ane_gguf_writer_add_int (w, "k.bool", ANE_GGUF_VALUE_TYPE_BOOL, 1);
  ane_gguf_writer_add_string (w, "k.str", "hello");
  ane_gguf_writer_add_array (w, "k.ints", ANE_GGUF_VALUE_TYPE_INT32, ints, G_N_ELEMENTS (ints));
  ane_gguf_writer_add_array (w, "k.floats", ANE_GGUF_VALUE_TYPE_FLOAT32, floats, G_N_ELEMENTS (floats));
  ane_gguf_writer_add_strings (w, "k.strings", strings, G_N_ELEMENTS (strings));
  ane_gguf_writer_add_tensor (w, "t.f32", ANE_GGML_TYPE_F32, ne, 2, f32);
  ane_gguf_writer_add_tensor (w, "t.i8", ANE_GGML_TYPE_I8, ne8, 1, i8);
  return ane_gguf_writer_to_bytes (w);
}

/* The llama2.c checkpoint of the graph seeds' decode step. */
static const Hparams l2c_shared = { 8, 16, 2, 2, 1, 32, 8, TRUE };

static void
llama_seeds (const char *src_root)
{
  /* GQA (4 heads, 2 KV heads), head size 8; the widths are multiples of
   * 32 so the matrices can be Q8_0/Q4_0 blocks. The vocabulary size is the
   * vocabulary's. */
  const Hparams gguf_h = { 32, 32, 1, 4, 2, 0, 16, TRUE };
  const Hparams gguf_untied = { 32, 32, 1, 4, 2, 0, 16, FALSE };
  const Hparams l2c_untied = { 8, 16, 1, 2, 2, 32, 8, FALSE };
  static const struct {
    const char *name, *arch;
    GgufKind kind;
    guint version, alignment;
    gboolean biases, untied, byte_tokens;
  } g[] = {
    { "llama-f32",               "llama",   GGUF_F32,  3, 32, FALSE, FALSE, FALSE },
    { "llama-f16-v2-align64-bytes", "llama", GGUF_F16, 2, 64, FALSE, FALSE, TRUE },
    { "llama-q8_0",              "llama",   GGUF_Q8_0, 3, 32, FALSE, FALSE, FALSE },
    { "mistral-q4_0-untied",     "mistral", GGUF_Q4_0, 3, 32, FALSE, TRUE,  FALSE },
    { "qwen2-f32-biases-untied", "qwen2",   GGUF_F32,  3, 32, TRUE,  TRUE,  FALSE },
  };
  g_autoptr(Vocab) tok_bytes = tiny_vocab (" ", TRUE);
  g_autoptr(Vocab) tok_small = tiny_vocab (" ", FALSE);
  g_autofree char *tok512_path = g_build_filename (src_root, "data", "models", "tok512.bin", NULL);
  g_autoptr(GBytes) tok512 = read_file (tok512_path);
  g_autoptr(GByteArray) tok512_seed = g_byte_array_new ();
  g_autoptr(GBytes) tok512_bytes = NULL, tiny_tok = NULL, small_tok = NULL, meta = NULL;
  g_autoptr(GBytes) ck1 = NULL, ck2 = NULL;
  guint32 le = GUINT32_TO_LE (512);

  for (guint i = 0; i < G_N_ELEMENTS (g); i++)
    {
      g_autoptr(Vocab) vocab = tiny_vocab ("\xe2\x96\x81", g[i].byte_tokens);
      g_autoptr(GBytes) seed = gguf_model (g[i].arch, g[i].untied ? &gguf_untied : &gguf_h, vocab, g[i].kind,
                                           g[i].version, g[i].alignment, g[i].biases, 100 + i);
      write_seed ("gguf", g[i].name, seed);
    }
  meta = gguf_metadata ();
  write_seed ("gguf", "metadata", meta);

  ck1 = llama2c_checkpoint (&l2c_shared, 7);
  write_seed ("llama2c", "tiny-shared-gqa", ck1);
  ck2 = llama2c_checkpoint (&l2c_untied, 8);
  write_seed ("llama2c", "tiny-untied", ck2);

  tiny_tok = tokenizer_seed (tok_bytes);
  write_seed ("tokenizer", "tiny-bytes", tiny_tok);
  small_tok = tokenizer_seed (tok_small);
  write_seed ("tokenizer", "tiny-no-bytes", small_tok);
  if (g_bytes_get_size (tok512) > 0)
    {
      g_byte_array_append (tok512_seed, (const guint8 *) &le, 4);
      g_byte_array_append (tok512_seed, g_bytes_get_data (tok512, NULL), (guint) g_bytes_get_size (tok512));
      tok512_bytes = g_bytes_new (tok512_seed->data, tok512_seed->len);
      write_seed ("tokenizer", "tok512", tok512_bytes);
    }
}

/* --- graphs --------------------------------------------------------------- */

static const char *scratch_dir;

/* The one-token decode step of a tiny llama2.c model: embedding gather,
 * RMSNorm, RoPE, attention over KV caches held in states, SwiGLU. */
static AneGraph *
tiny_llama_decode (void)
{
  g_autofree char *path = g_build_filename (scratch_dir, "tiny.bin", NULL);
  g_autoptr(GBytes) ck = llama2c_checkpoint (&l2c_shared, 7);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  AneGraph *g;

  g_file_set_contents (path, g_bytes_get_data (ck, NULL), (gssize) g_bytes_get_size (ck), &error);
  die_on (error);
  model = ane_llama_model_load_llama2c (path, &error);
  die_on (error);
  g = ane_llama_model_build_decode (model, 8, &error);
  die_on (error);
  return g;
}

/* The MLP with a flexible batch (docs/flexible-shapes.md): its JSON keeps
 * the range, its package declares a shapeRange and leaves sizes unknown. */
static AneGraph *
flexible_mlp (void)
{
  AneGraph *g = ane_test_model_mlp ();
  g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (g);
  const char *name = ane_tensor_get_name (g_ptr_array_index (inputs, 0));
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (g_ptr_array_index (inputs, 0), &rank);
  g_autoptr(GError) error = NULL;

  ane_graph_set_input_range (g, name, 0, 1, shape[0] + 4, &error);
  die_on (error);
  return g;
}

/* The graphs, saved as JSON + safetensors and lowered (fp16) to a package
 * and MIL text. What would pass MAX_SEED or add nothing is left out: the
 * test transformer block (the llama decode step has its ops), the MoE
 * layer, the MLP's package (the conformance MLP is the same program); the
 * state graph has an unbound param, which a package cannot have. */
static void
graph_seeds (void)
{
  static const struct {
    const char *name;
    AneGraph *(*make) (void);
    gboolean save, lower;
  } models[] = {
    { "mlp",          ane_test_model_mlp,     TRUE,  FALSE },
    { "mlp-flexible", flexible_mlp,           TRUE,  TRUE },
    { "convnet",      ane_test_model_convnet, TRUE,  TRUE },
    { "mamba",        ane_test_model_mamba,   TRUE,  TRUE },
    { "state",        state_graph,            TRUE,  FALSE },
    { "llama-decode", tiny_llama_decode,      TRUE,  TRUE },
  };
  g_autofree char *json = g_build_filename (scratch_dir, "model.json", NULL);
  g_autofree char *weights = g_build_filename (scratch_dir, "model.safetensors", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autoptr(AneGraph) g = models[i].make ();
      g_autoptr(GError) error = NULL;

      if (models[i].save)
        {
          g_autoptr(GBytes) seed = NULL;
          GBytes *parts[2];

          g_unlink (weights);
          ane_graph_save (g, json, &error);
          die_on (error);
          parts[0] = read_file (json);
          parts[1] = read_file (weights);
          seed = container (parts, 2);
          write_seed ("graph", models[i].name, seed);
          g_bytes_unref (parts[0]);
          g_bytes_unref (parts[1]);
        }
      if (models[i].lower)
        {
          g_autoptr(AnePackage) package = ane_package_new_from_graph (g, ANE_TARGET_IOS18,
                                                                      ANE_PRECISION_FLOAT16, &error);
          g_autofree char *name = g_strdup_printf ("lowered-%s-fp16", models[i].name);

          die_on (error);
          add_package (name, package, TRUE, scratch_dir);
        }
    }
}

/* --- dictionaries -------------------------------------------------------- */

static void
add_word (GString    *dict,
          GHashTable *seen,
          const char *word)
{
  g_autoptr(GString) escaped = NULL;

  if (word == NULL || *word == '\0' || g_hash_table_contains (seen, word))
    return;
  g_hash_table_add (seen, g_strdup (word));
  escaped = g_string_new (word);
  g_string_replace (escaped, "\\", "\\\\", 0);
  g_string_replace (escaped, "\"", "\\\"", 0);
  g_string_append_printf (dict, "\"%s\"\n", escaped->str);
}

static void
write_dict (const char *target,
            GString    *dict)
{
  g_autofree char *name = g_strconcat (target, ".dict", NULL);
  g_autofree char *path = g_build_filename (out_root, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, dict->str, (gssize) dict->len, &error);
  die_on (error);
  g_print ("%s: %" G_GSIZE_FORMAT " bytes\n", name, dict->len);
}

static void
dictionaries (void)
{
  static const char *const mil_words[] = {
    "program(1.0)", "program(1.3)", "func", "main", "tensor<", "state<", "list<", "dict<",
    "fp16", "fp32", "fp64", "bf16", "int4", "int8", "int16", "int32", "int64", "uint4", "uint8",
    "uint16", "uint32", "uint64", "bool", "string", "->", "const()", "[name = string(\"",
    "val = ", "BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(",
    "ios15", "ios16", "ios17", "ios18", "true", "false", "0x1p-1", "-inf", "nan", "?",
  };
  static const char *const graph_words[] = {
    "\"format\"", "\"ane-glib-graph\"", "\"version\"", "\"weights\"", "\"model.safetensors\"",
    "\"nodes\"", "\"outputs\"", "\"op\"", "\"name\"", "\"dtype\"", "\"shape\"", "\"attrs\"",
    "\"inputs\"", "\"node\"", "\"index\"", "\"dynamic\"", "\"range\"", "\"shapes\"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"",
    "\"__metadata__\"", "\"data_offsets\"", "\"F32\"", "\"F16\"", "\"BF16\"", "\"I8\"", "\"U8\"",
    "\"I16\"", "\"I32\"", "\"I64\"", "\"BOOL\"", "null",
  };
  g_autoptr(GString) mil = g_string_new ("# MIL text: keywords, types and op names (make-seeds)\n");
  g_autoptr(GString) graph = g_string_new ("# graph JSON + safetensors: keys, dtypes and op names (make-seeds)\n");
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) ops = ane_graph_list_ops ();
  const AneMilOpDef *defs;
  guint n_defs;

  for (guint i = 0; i < G_N_ELEMENTS (mil_words); i++)
    add_word (mil, seen, mil_words[i]);
  defs = ane_mil_opdefs_get (&n_defs);
  for (guint i = 0; i < n_defs; i++)
    {
      add_word (mil, seen, defs[i].name);
      for (const AneMilParamDef *p = defs[i].params; p != NULL && p->name != NULL; p++)
        {
          g_autofree char *arg = g_strconcat (p->name, " = ", NULL);
          add_word (mil, seen, arg);
        }
    }
  write_dict ("mil", mil);

  g_hash_table_remove_all (seen);
  for (guint i = 0; i < G_N_ELEMENTS (graph_words); i++)
    add_word (graph, seen, graph_words[i]);
  for (guint i = 0; ops[i] != NULL; i++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", ops[i]);
      add_word (graph, seen, quoted);
    }
  write_dict ("graph", graph);
}

int
main (int   argc,
      char *argv[])
{
  static const char *const targets[] = { "package", "mil", "graph", "gguf", "llama2c", "tokenizer" };
  g_autofree char *root = NULL;
  g_autofree char *scratch = NULL;
  g_autoptr(GError) error = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: %s SOURCE-ROOT\n", argv[0]);
      return 2;
    }
  root = g_build_filename (argv[1], "tests", "fuzz", NULL);
  out_root = root;
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *dir = g_build_filename (root, "corpus", targets[i], NULL);
      g_mkdir_with_parents (dir, 0755);
      clear_dir (dir);
    }
  scratch = g_dir_make_tmp ("ane-seeds-XXXXXX", &error);
  die_on (error);

  scratch_dir = scratch;
  conformance_seeds (argv[1], scratch);
  mil_text_seeds (argv[1]);
  graph_seeds ();
  llama_seeds (argv[1]);
  dictionaries ();

  ane_test_remove_tree (scratch);
  g_print ("make-seeds: %u seeds written, %u too large (> %d bytes) left out\n", n_written, n_skipped, MAX_SEED);
  return 0;
}
