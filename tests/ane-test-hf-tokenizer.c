/* ane-test-hf-tokenizer.c: a Hugging Face tokenizer.json equivalent to the bundled tok512.bin
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "ane-test-gguf.h"
#include "ane-test-hf-tokenizer.h"

#define SPACE_MARKER "\xe2\x96\x81"  /* U+2581, SentencePiece's space */

typedef struct
{
  const char *left, *right;
  float score;
  glong left_chars, right_chars;
  guint order;
} Merge;

static gint
merge_order (gconstpointer a,
             gconstpointer b)
{
  const Merge *x = a, *y = b;

  /* sorted (score, len(left), len(right)) in reverse, stable (Python's
   * sorted keeps the order of equal keys with reverse=True too) */
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  if (x->left_chars != y->left_chars)
    return x->left_chars > y->left_chars ? -1 : 1;
  if (x->right_chars != y->right_chars)
    return x->right_chars > y->right_chars ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

static void
add_added_token (JsonBuilder *b,
                 gint         id,
                 const char  *content)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, content);
  json_builder_set_member_name (b, "single_word");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "lstrip");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "rstrip");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "normalized");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "special");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
}

static void
add_pattern (JsonBuilder *b,
             const char  *literal)
{
  json_builder_set_member_name (b, "pattern");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "String");
  json_builder_add_string_value (b, literal);
  json_builder_end_object (b);
}

static void
add_typed (JsonBuilder *b,
           const char  *type)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
}

static void
add_template_item (JsonBuilder *b,
                   const char  *kind,
                   const char  *id,
                   gint         type_id)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, kind);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "type_id");
  json_builder_add_int_value (b, type_id);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

gboolean
ane_test_write_tok512_tokenizer_json (const char  *out_path,
                                      const char  *config_dir,
                                      GError     **error)
{
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  guint n = ane_tokenizer_get_n_tokens (tok);
  g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) vocab = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GArray) merges = g_array_new (FALSE, FALSE, sizeof (Merge));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  /* llama2.c's export spelled SentencePiece's "▁" as a space; the
   * tokenizer.json has the pieces as SentencePiece has them */
  for (guint i = 0; i < n; i++)
    {
      /* llama2.c's export wrote the control pieces as "\n<s>\n" and
       * "\n</s>\n"; SentencePiece (and the tokenizer.json) has "<s>" */
      static const char *const control[3] = { "<unk>", "<s>", "</s>" };
      g_autoptr(GString) p = g_string_new (i < 3 ? control[i] : ane_tokenizer_get_piece (tok, (gint32) i));

      g_string_replace (p, " ", SPACE_MARKER, 0);
      g_ptr_array_add (pieces, g_string_free (g_steal_pointer (&p), FALSE));
      if (!g_hash_table_contains (vocab, pieces->pdata[i]))
        g_hash_table_insert (vocab, pieces->pdata[i], GUINT_TO_POINTER (i + 1));
    }

  /* transformers src/transformers/convert_slow_tokenizer.py
   * generate_merges (huggingface/transformers@00111b31, lines 95-114): for
   * each piece, in vocabulary order, every split into two pieces of the
   * vocabulary (by characters), sorted by the ids of the two halves; then
   * all of them sorted by the piece's score, highest first */
  for (guint i = 0; i < n; i++)
    {
      const char *piece = pieces->pdata[i];
      g_autoptr(GArray) local = g_array_new (FALSE, FALSE, sizeof (Merge));
      glong chars = g_utf8_strlen (piece, -1);

      if (i < 3)
        continue;  /* <unk> <s> </s>: not pieces of text */
      for (glong k = 1; k < chars; k++)
        {
          const char *cut = g_utf8_offset_to_pointer (piece, k);
          g_autofree char *left = g_strndup (piece, (gsize) (cut - piece));
          gpointer l = g_hash_table_lookup (vocab, left), r = g_hash_table_lookup (vocab, cut);

          if (l != NULL && r != NULL)
            {
              Merge m = { pieces->pdata[GPOINTER_TO_UINT (l) - 1], pieces->pdata[GPOINTER_TO_UINT (r) - 1],
                          ane_tokenizer_get_score (tok, (gint32) i), k, chars - k, 0 };
              g_array_append_val (local, m);
            }
        }
      /* by (vocab[left], vocab[right]): insertion sort, a few entries */
      for (guint a = 1; a < local->len; a++)
        for (guint c = a; c > 0; c--)
          {
            Merge *x = &g_array_index (local, Merge, c - 1), *y = &g_array_index (local, Merge, c);
            guint xl = GPOINTER_TO_UINT (g_hash_table_lookup (vocab, x->left));
            guint yl = GPOINTER_TO_UINT (g_hash_table_lookup (vocab, y->left));
            guint xr = GPOINTER_TO_UINT (g_hash_table_lookup (vocab, x->right));
            guint yr = GPOINTER_TO_UINT (g_hash_table_lookup (vocab, y->right));

            if (xl < yl || (xl == yl && xr <= yr))
              break;
            Merge t = *x;
            *x = *y;
            *y = t;
          }
      for (guint a = 0; a < local->len; a++)
        {
          g_array_index (local, Merge, a).order = merges->len;
          g_array_append_val (merges, g_array_index (local, Merge, a));
        }
    }
  g_array_sort (merges, merge_order);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, "1.0");
  json_builder_set_member_name (b, "truncation");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "padding");
  json_builder_add_null_value (b);

  json_builder_set_member_name (b, "added_tokens");
  json_builder_begin_array (b);
  add_added_token (b, 0, "<unk>");
  add_added_token (b, 1, "<s>");
  add_added_token (b, 2, "</s>");
  json_builder_end_array (b);

  /* Llama 2's (legacy) normalizer */
  json_builder_set_member_name (b, "normalizer");
  add_typed (b, "Sequence");
  json_builder_set_member_name (b, "normalizers");
  json_builder_begin_array (b);
  add_typed (b, "Prepend");
  json_builder_set_member_name (b, "prepend");
  json_builder_add_string_value (b, SPACE_MARKER);
  json_builder_end_object (b);
  add_typed (b, "Replace");
  add_pattern (b, " ");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, SPACE_MARKER);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "pre_tokenizer");
  json_builder_add_null_value (b);

  /* Llama 2's template: "<s>:0 $A:0" and, for pairs, "<s>:0 $A:0 <s>:1 $B:1"
   * (tokenizers wants both) */
  json_builder_set_member_name (b, "post_processor");
  add_typed (b, "TemplateProcessing");
  json_builder_set_member_name (b, "single");
  json_builder_begin_array (b);
  add_template_item (b, "SpecialToken", "<s>", 0);
  add_template_item (b, "Sequence", "A", 0);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "pair");
  json_builder_begin_array (b);
  add_template_item (b, "SpecialToken", "<s>", 0);
  add_template_item (b, "Sequence", "A", 0);
  add_template_item (b, "SpecialToken", "<s>", 1);
  add_template_item (b, "Sequence", "B", 1);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "special_tokens");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "<s>");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "<s>");
  json_builder_set_member_name (b, "ids");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, 1);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "<s>");
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "decoder");
  add_typed (b, "Sequence");
  json_builder_set_member_name (b, "decoders");
  json_builder_begin_array (b);
  add_typed (b, "Replace");
  add_pattern (b, SPACE_MARKER);
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, " ");
  json_builder_end_object (b);
  add_typed (b, "ByteFallback");
  json_builder_end_object (b);
  add_typed (b, "Fuse");
  json_builder_end_object (b);
  add_typed (b, "Strip");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, " ");
  json_builder_set_member_name (b, "start");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "stop");
  json_builder_add_int_value (b, 0);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "model");
  add_typed (b, "BPE");
  json_builder_set_member_name (b, "dropout");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "unk_token");
  json_builder_add_string_value (b, "<unk>");
  json_builder_set_member_name (b, "continuing_subword_prefix");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "end_of_word_suffix");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "fuse_unk");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "byte_fallback");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "ignore_merges");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "vocab");
  json_builder_begin_object (b);
  for (guint i = 0; i < n; i++)
    if (GPOINTER_TO_UINT (g_hash_table_lookup (vocab, pieces->pdata[i])) == i + 1)
      {
        json_builder_set_member_name (b, pieces->pdata[i]);
        json_builder_add_int_value (b, i);
      }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "merges");
  json_builder_begin_array (b);
  for (guint i = 0; i < merges->len; i++)
    {
      /* the [left, right] form of tokenizers 0.20 and later */
      json_builder_begin_array (b);
      json_builder_add_string_value (b, g_array_index (merges, Merge, i).left);
      json_builder_add_string_value (b, g_array_index (merges, Merge, i).right);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  if (!g_file_set_contents (out_path, text, -1, error))
    return FALSE;
  if (config_dir != NULL)
    {
      g_autofree char *config_path = g_build_filename (config_dir, "tokenizer_config.json", NULL);
      static const char config[] =
        "{\n"
        "  \"add_bos_token\": true,\n"
        "  \"add_eos_token\": false,\n"
        "  \"bos_token\": \"<s>\",\n"
        "  \"eos_token\": \"</s>\",\n"
        "  \"unk_token\": \"<unk>\",\n"
        "  \"legacy\": true,\n"
        "  \"tokenizer_class\": \"LlamaTokenizer\"\n"
        "}\n";

      if (!g_file_set_contents (config_path, config, -1, error))
        return FALSE;
    }
  return TRUE;
}
