/* ane-tokenizer.c: the llama2.c tokenizer file and its BPE encode/decode
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ane-file-private.h"
#include "ane-tokenizer.h"
#include "model/ane-tokenizer-private.h"
#include "model/ane-tokenizer-hf-private.h"
#include "gguf/ane-gguf-writer-private.h"

/**
 * AneTokenizer:
 *
 * A byte-pair-encoding vocabulary in the llama2.c tokenizer format (the
 * `tokenizer.bin` / `tok512.bin` files exported from a sentencepiece model).
 *
 * Loads llama2.c `tokenizer.bin` files ([func@Ane.Tokenizer.load_llama2c])
 * and the sentencepiece vocabularies of GGUF files
 * ([func@Ane.Tokenizer.load_gguf], `tokenizer.ggml.model` = `llama`).
 *
 * The file is a little-endian int32 `max_token_length` followed, for each of
 * the vocabulary's tokens, by a float32 merge score, an int32 byte length and
 * that many bytes of piece text (no terminator). The number of tokens is not
 * stored: it is the model's vocabulary size, so it is passed to
 * [func@Ane.Tokenizer.load_llama2c].
 *
 * Encoding follows llama2.c: a dummy-prefix space, one token per UTF-8
 * character (or byte-fallback tokens `<0xXX>`, ids 3 to 258, for characters
 * not in the vocabulary), then the adjacent pair whose merged piece has the
 * highest score is merged until no pair merges.
 *
 * [func@Ane.Tokenizer.load_hf] reads a Hugging Face `tokenizer.json`
 * (byte-level BPE as in Llama 3 and Qwen, SentencePiece-style BPE as in
 * Llama 2 and Gemma) with its own pipeline of normalizer, pre-tokenizer,
 * model, post-processor and decoder; [method@Ane.Tokenizer.encode_full]
 * and [method@Ane.Tokenizer.decode_full] take Hugging Face's
 * `add_special_tokens` and `skip_special_tokens` (see docs/tokenizers.md).
 *
 * [func@Ane.Tokenizer.load_gguf] reads the same kind of vocabulary from a
 * GGUF file (`tokenizer.ggml.model` = `llama`), whose pieces spell spaces
 * `▁` (U+2581): the text's spaces become `▁` before encoding and `▁`
 * becomes a space again when decoding; the algorithm is the same.
 *
 * ```c
 * g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c ("tok512.bin", 512, &error);
 * gsize n;
 * g_autofree gint32 *ids = ane_tokenizer_encode (tok, "Once upon a time", TRUE, FALSE, &n);
 * g_autofree char *text = ane_tokenizer_decode (tok, ids, n);
 * ```
 *
 * Threads: a tokenizer does not change once loaded (its pieces, scores and
 * lookup table are built by the loader and only read after), so any number
 * of threads may encode and decode with it at once. It keeps no state from
 * one call to the next: decoding a token takes the previous token as an
 * argument.
 */
struct _AneTokenizer
{
  GObject parent_instance;

  guint n_tokens;
  guint max_token_length;
  char **pieces;        /* NUL-terminated copies */
  float *scores;
  GHashTable *lookup;   /* piece → id + 1 (first id wins, like a linear search) */
  char byte_pieces[256][2];
  gint32 byte_ids[256]; /* byte → its <0xXX> token, or -1 */
  gint32 bos_id, eos_id;
  gboolean space_marker; /* pieces spell spaces "▁" (U+2581), as in GGUF vocabularies */
  AneHfTokenizer *hf;    /* a tokenizer.json pipeline (ane-tokenizer-hf.c); the fields above unused */
};

G_DEFINE_FINAL_TYPE (AneTokenizer, ane_tokenizer, G_TYPE_OBJECT)

/* Byte-fallback tokens <0x00>..<0xFF> sit right after <unk>, <s>, </s>. */
#define BYTE_TOKEN_OFFSET 3

static void
ane_tokenizer_finalize (GObject *object)
{
  AneTokenizer *self = ANE_TOKENIZER (object);

  g_clear_pointer (&self->lookup, g_hash_table_unref);
  g_clear_pointer (&self->hf, ane_hf_tokenizer_free);
  if (self->pieces)
    for (guint i = 0; i < self->n_tokens; i++)
      g_free (self->pieces[i]);
  g_clear_pointer (&self->pieces, g_free);
  g_clear_pointer (&self->scores, g_free);
  G_OBJECT_CLASS (ane_tokenizer_parent_class)->finalize (object);
}

static void
ane_tokenizer_class_init (AneTokenizerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_tokenizer_finalize;
}

static void
ane_tokenizer_init (AneTokenizer *self)
{
  for (guint i = 0; i < 256; i++)
    {
      self->byte_pieces[i][0] = (char) i;
      self->byte_pieces[i][1] = '\0';
      self->byte_ids[i] = -1;
    }
  self->bos_id = ANE_TOKENIZER_BOS;
  self->eos_id = ANE_TOKENIZER_EOS;
}

#define SPACE_MARKER "\xe2\x96\x81"  /* U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's space */

static gboolean
read_le32 (const guint8 *data,
           gsize         size,
           gsize        *offset,
           const char   *path,
           const char   *what,
           guint32      *out,
           GError      **error)
{
  if (*offset > size || size - *offset < 4)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: truncated at offset %" G_GSIZE_FORMAT " reading %s (file is %" G_GSIZE_FORMAT " bytes)",
                   path, *offset, what, size);
      return FALSE;
    }
  *out = ((guint32) data[*offset]) | ((guint32) data[*offset + 1] << 8) |
         ((guint32) data[*offset + 2] << 16) | ((guint32) data[*offset + 3] << 24);
  *offset += 4;
  return TRUE;
}

/**
 * ane_tokenizer_load_llama2c:
 * @path: a llama2.c tokenizer file
 * @vocab_size: the number of tokens (the model's vocabulary size)
 * @error: return location for a #GError
 *
 * Reads a llama2.c tokenizer file. Every length is checked against the file
 * size, and @vocab_size too before anything is allocated for the tokens (each
 * takes at least 8 bytes); a truncated or malformed file fails with
 * %ANE_ERROR_PARSE and a message naming the file and the offset. A path that
 * cannot be opened or is not a regular file (a FIFO, a device) fails with
 * %ANE_ERROR_IO.
 *
 * Returns: (transfer full): the tokenizer, or %NULL with @error set
 */
AneTokenizer *
ane_tokenizer_load_llama2c (const char  *path,
                            guint        vocab_size,
                            GError     **error)
{
  g_autoptr(AneTokenizer) self = NULL;
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local_error = NULL;
  const guint8 *data;
  gsize size, offset = 0;
  guint32 v;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (vocab_size < BYTE_TOKEN_OFFSET || vocab_size > (1u << 24))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: vocabulary size %u is out of range", path, vocab_size);
      return NULL;
    }
  /* A regular file only (a FIFO would block the open for ever). */
  file = ane_file_map_regular (path, &local_error);
  if (file == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  data = (const guint8 *) g_mapped_file_get_contents (file);
  size = g_mapped_file_get_length (file);

  self = g_object_new (ANE_TYPE_TOKENIZER, NULL);
  if (!read_le32 (data, size, &offset, path, "max_token_length", &v, error))
    return NULL;
  /* Every token is at least its score and its length: a vocabulary the
   * file cannot hold is refused before its arrays are allocated. */
  if (vocab_size > (size - offset) / 8)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: %u tokens need at least %" G_GUINT64_FORMAT " bytes from offset %" G_GSIZE_FORMAT
                   " (8 per token), the file has %" G_GSIZE_FORMAT,
                   path, vocab_size, (guint64) vocab_size * 8, offset, size - offset);
      return NULL;
    }
  if (v == 0 || v > 4096)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: max_token_length %u at offset 0 is out of range", path, v);
      return NULL;
    }
  self->max_token_length = v;
  self->n_tokens = vocab_size;
  self->pieces = g_new0 (char *, vocab_size);
  self->scores = g_new0 (float, vocab_size);
  self->lookup = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < vocab_size; i++)
    {
      char what[64];
      union { guint32 u; float f; } score;
      guint32 len;
      gsize len_offset;

      g_snprintf (what, sizeof what, "the score of token %u", i);
      if (!read_le32 (data, size, &offset, path, what, &score.u, error))
        return NULL;
      g_snprintf (what, sizeof what, "the length of token %u", i);
      len_offset = offset;
      if (!read_le32 (data, size, &offset, path, what, &len, error))
        return NULL;
      if (len > self->max_token_length)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: token %u has length %u at offset %" G_GSIZE_FORMAT ", above max_token_length %u",
                       path, i, len, len_offset, self->max_token_length);
          return NULL;
        }
      if (size - offset < len)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: truncated at offset %" G_GSIZE_FORMAT " reading the %u bytes of token %u (file is %" G_GSIZE_FORMAT " bytes)",
                       path, offset, len, i, size);
          return NULL;
        }
      self->scores[i] = score.f;
      self->pieces[i] = g_strndup ((const char *) data + offset, len);
      offset += len;
      if (!g_hash_table_contains (self->lookup, self->pieces[i]))
        g_hash_table_insert (self->lookup, self->pieces[i], GUINT_TO_POINTER (i + 1));
    }
  for (guint b = 0; b < 256; b++)
    if (b + BYTE_TOKEN_OFFSET < vocab_size)
      self->byte_ids[b] = (gint32) (b + BYTE_TOKEN_OFFSET);
  return g_steal_pointer (&self);
}

/* GGUF token types (llama.cpp's llama_token_type) */
#define GGUF_TOKEN_TYPE_BYTE 6

/**
 * ane_tokenizer_load_gguf:
 * @file: a GGUF file with a `tokenizer.ggml.*` vocabulary
 * @error: return location for a #GError
 *
 * Reads the sentencepiece-style (`tokenizer.ggml.model` = `llama`)
 * vocabulary of a GGUF file: the pieces `tokenizer.ggml.tokens`, their merge
 * scores `tokenizer.ggml.scores`, optionally their types
 * `tokenizer.ggml.token_type` (a byte-fallback token `<0xXX>` has type 6),
 * and the ids `tokenizer.ggml.bos_token_id` and `tokenizer.ggml.eos_token_id`
 * (default 1 and 2). Pieces spell spaces as `▁` (U+2581): encoding turns the
 * text's spaces into `▁` and prepends one, then merges exactly as for the
 * llama2.c format; decoding turns `▁` back into spaces.
 *
 * Another tokenizer model is %ANE_ERROR_UNSUPPORTED; missing or
 * inconsistent keys fail with a message naming the key.
 *
 * Returns: (transfer full): the tokenizer, or %NULL with @error set
 */
AneTokenizer *
ane_tokenizer_load_gguf (AneGgufFile  *file,
                         GError      **error)
{
  g_autoptr(AneTokenizer) self = NULL;
  g_auto(GStrv) tokens = NULL;
  g_autofree double *scores = NULL;
  g_autofree gint64 *types = NULL;
  const char *path, *model;
  gsize n, n_scores, n_types = 0;
  gint64 ids[2] = { ANE_TOKENIZER_BOS, ANE_TOKENIZER_EOS };
  static const char *const id_keys[2] = { "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id" };

  g_return_val_if_fail (ANE_IS_GGUF_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  path = ane_gguf_file_get_path (file);
  if (path == NULL)
    path = "<memory>";
  model = ane_gguf_file_get_string (file, "tokenizer.ggml.model", error);
  if (model == NULL)
    return NULL;
  if (g_strcmp0 (model, "llama") != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: tokenizer.ggml.model '%s' is not supported (llama)", path, model);
      return NULL;
    }
  tokens = ane_gguf_file_dup_strings (file, "tokenizer.ggml.tokens", error);
  if (tokens == NULL)
    return NULL;
  n = g_strv_length (tokens);
  scores = ane_gguf_file_dup_floats (file, "tokenizer.ggml.scores", &n_scores, error);
  if (scores == NULL)
    return NULL;
  if (ane_gguf_file_has_key (file, "tokenizer.ggml.token_type"))
    {
      types = ane_gguf_file_dup_ints (file, "tokenizer.ggml.token_type", &n_types, error);
      if (types == NULL)
        return NULL;
    }
  if (n == 0 || n > (1u << 24) || n_scores != n || (types != NULL && n_types != n))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tokenizer.ggml.tokens has %" G_GSIZE_FORMAT " entries, tokenizer.ggml.scores %"
                   G_GSIZE_FORMAT ", tokenizer.ggml.token_type %" G_GSIZE_FORMAT,
                   path, n, n_scores, types != NULL ? n_types : n);
      return NULL;
    }
  for (guint i = 0; i < 2; i++)
    if (ane_gguf_file_has_key (file, id_keys[i]))
      {
        if (!ane_gguf_file_get_int (file, id_keys[i], &ids[i], error))
          return NULL;
        if (ids[i] < 0 || (guint64) ids[i] >= n)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                         "%s: %s is %" G_GINT64_FORMAT ", outside the %" G_GSIZE_FORMAT " tokens",
                         path, id_keys[i], ids[i], n);
            return NULL;
          }
      }

  self = g_object_new (ANE_TYPE_TOKENIZER, NULL);
  self->space_marker = TRUE;
  self->bos_id = (gint32) ids[0];
  self->eos_id = (gint32) ids[1];
  self->n_tokens = (guint) n;
  self->pieces = g_new0 (char *, n);
  self->scores = g_new0 (float, n);
  self->lookup = g_hash_table_new (g_str_hash, g_str_equal);
  self->max_token_length = 1;
  for (gsize i = 0; i < n; i++)
    {
      gsize len = strlen (tokens[i]);

      self->pieces[i] = g_steal_pointer (&tokens[i]);
      self->scores[i] = (float) scores[i];
      self->max_token_length = MAX (self->max_token_length, (guint) MIN (len, G_MAXUINT / 4));
      if (!g_hash_table_contains (self->lookup, self->pieces[i]))
        g_hash_table_insert (self->lookup, self->pieces[i], GUINT_TO_POINTER (i + 1));
    }
  for (guint b = 0; b < 256; b++)
    {
      char piece[8];
      gint32 id;

      g_snprintf (piece, sizeof piece, "<0x%02X>", b);
      id = (gint32) GPOINTER_TO_UINT (g_hash_table_lookup (self->lookup, piece)) - 1;
      if (id >= 0 && (types == NULL || types[id] == GGUF_TOKEN_TYPE_BYTE))
        self->byte_ids[b] = id;
    }
  return g_steal_pointer (&self);
}

/**
 * ane_tokenizer_get_bos_id:
 * @self: a tokenizer
 *
 * Gets the id of the beginning-of-sequence token: %ANE_TOKENIZER_BOS for
 * llama2.c vocabularies, `tokenizer.ggml.bos_token_id` for GGUF ones, for a
 * Hugging Face `tokenizer.json` the `bos_token` of its
 * `tokenizer_config.json` or the post-processor's first token (see
 * [func@Ane.Tokenizer.load_hf]).
 *
 * Returns: the token id, or -1 when the tokenizer has none (Qwen3)
 */
gint32
ane_tokenizer_get_bos_id (AneTokenizer *self)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), -1);
  return self->bos_id;
}

/**
 * ane_tokenizer_get_eos_id:
 * @self: a tokenizer
 *
 * Gets the id of the end-of-sequence token: %ANE_TOKENIZER_EOS for llama2.c
 * vocabularies, `tokenizer.ggml.eos_token_id` for GGUF ones, for a Hugging
 * Face `tokenizer.json` the `eos_token` of its `tokenizer_config.json` or
 * the post-processor's last token.
 *
 * Returns: the token id, or -1 when the tokenizer has none
 */
gint32
ane_tokenizer_get_eos_id (AneTokenizer *self)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), -1);
  return self->eos_id;
}

/**
 * ane_tokenizer_get_n_tokens:
 * @self: a tokenizer
 *
 * Gets the vocabulary size.
 *
 * Returns: the number of tokens
 */
guint
ane_tokenizer_get_n_tokens (AneTokenizer *self)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), 0);
  return self->n_tokens;
}

/**
 * ane_tokenizer_get_piece:
 * @self: a tokenizer
 * @token: a token id
 *
 * Gets the raw piece text of a token, as stored in the file (a byte token
 * reads `<0xXX>`, a word-initial piece starts with a space).
 *
 * Returns: (nullable): the piece, or %NULL when @token is out of range
 */
const char *
ane_tokenizer_get_piece (AneTokenizer *self,
                         gint32        token)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  if (token < 0 || (guint) token >= self->n_tokens)
    return NULL;
  if (self->hf != NULL)
    return ane_hf_tokenizer_get_piece (self->hf, token);
  return self->pieces[token];
}

/**
 * ane_tokenizer_get_score:
 * @self: a tokenizer
 * @token: a token id
 *
 * Gets the merge score of a token: a higher score merges first. A Hugging
 * Face `tokenizer.json` ranks its merges instead of scoring pieces: its
 * scores are all 0.
 *
 * Returns: the score, or 0 when @token is out of range
 */
float
ane_tokenizer_get_score (AneTokenizer *self,
                         gint32        token)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), 0.0f);
  if (token < 0 || (guint) token >= self->n_tokens || self->scores == NULL)
    return 0.0f;
  return self->scores[token];
}

static gint32
lookup (AneTokenizer *self,
        const char   *piece)
{
  return (gint32) GPOINTER_TO_UINT (g_hash_table_lookup (self->lookup, piece)) - 1;
}

/* The llama2.c-style call on a tokenizer.json: its pipeline without the
 * post-processor, then bos/eos as asked (when the tokenizer has them). */
static gint32 *
encode_hf (AneTokenizer *self,
           const char   *text,
           gboolean      bos,
           gboolean      eos,
           gsize        *n_tokens)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  if (bos && self->bos_id >= 0)
    g_array_append_val (ids, self->bos_id);
  /* valid UTF-8 cannot fail */
  ane_hf_tokenizer_encode (self->hf, valid, FALSE, ids, NULL);
  if (eos && self->eos_id >= 0)
    g_array_append_val (ids, self->eos_id);
  *n_tokens = ids->len;
  return (gint32 *) (void *) g_array_free (g_steal_pointer (&ids), FALSE);
}

/**
 * ane_tokenizer_encode:
 * @self: a tokenizer
 * @text: UTF-8 text (invalid sequences are encoded byte by byte)
 * @bos: whether to start with the beginning-of-sequence token
 * @eos: whether to end with the end-of-sequence token
 * @n_tokens: (out): the number of tokens returned
 *
 * Encodes text the way llama2.c does: a space is prepended to non-empty
 * text (sentencepiece's dummy prefix; with a GGUF vocabulary every space is
 * first spelled `▁` and the prefix is `▁`), each UTF-8 character becomes its
 * token or its byte-fallback tokens, and the best-scoring adjacent pair is
 * merged until none merges.
 *
 * A Hugging Face `tokenizer.json` ([func@Ane.Tokenizer.load_hf]) runs its
 * own pipeline without the post-processor (invalid UTF-8 becomes U+FFFD
 * first), and @bos / @eos add its beginning- / end-of-sequence ids when it
 * has them; [method@Ane.Tokenizer.encode_full] is Hugging Face's
 * `add_special_tokens`.
 *
 * Returns: (transfer full) (array length=n_tokens): the token ids
 */
gint32 *
ane_tokenizer_encode (AneTokenizer *self,
                      const char   *text,
                      gboolean      bos,
                      gboolean      eos,
                      gsize        *n_tokens)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GString) buf = NULL;
  g_autoptr(GString) marked = NULL;
  gsize len;
  guint first;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (n_tokens != NULL, NULL);

  if (self->hf != NULL)
    return encode_hf (self, text, bos, eos, n_tokens);
  if (self->space_marker)
    {
      /* sentencepiece spells spaces "▁" */
      marked = g_string_new (text);
      g_string_replace (marked, " ", SPACE_MARKER, 0);
      text = marked->str;
    }
  len = strlen (text);
  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), len + 3);
  if (bos)
    {
      gint32 id = self->bos_id;
      g_array_append_val (ids, id);
    }
  first = ids->len;
  if (len > 0)
    {
      gint32 id = lookup (self, self->space_marker ? SPACE_MARKER : " ");
      if (id >= 0)
        g_array_append_val (ids, id);
    }

  /* One token per UTF-8 character; a character not in the vocabulary (or
   * a stray byte) falls back to its bytes. */
  for (gsize i = 0; i < len;)
    {
      guint8 c = (guint8) text[i];
      gsize clen = 1;
      char piece[5] = { 0 };
      gint32 id;

      if (c >= 0xC0)
        {
          clen = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
          for (gsize j = 1; j < clen; j++)
            if (i + j >= len || ((guint8) text[i + j] & 0xC0) != 0x80)
              {
                clen = j;
                break;
              }
        }
      memcpy (piece, text + i, clen);
      id = lookup (self, piece);
      if (id >= 0)
        g_array_append_val (ids, id);
      else
        for (gsize j = 0; j < clen; j++)
          {
            gint32 b = self->byte_ids[(guint8) piece[j]];
            if (b >= 0)
              g_array_append_val (ids, b);
          }
      i += clen;
    }

  /* Merge the best-scoring pair until none is in the vocabulary; ties go
   * to the leftmost pair (a strict > keeps the first). */
  buf = g_string_sized_new (2 * self->max_token_length + 1);
  for (;;)
    {
      float best_score = -1e10f;
      gint32 best_id = -1;
      guint best_idx = 0;
      gint32 *v = (gint32 *) ids->data;

      for (guint i = first; i + 1 < ids->len; i++)
        {
          gint32 id;

          g_string_assign (buf, self->pieces[v[i]]);
          g_string_append (buf, self->pieces[v[i + 1]]);
          id = lookup (self, buf->str);
          if (id >= 0 && self->scores[id] > best_score)
            {
              best_score = self->scores[id];
              best_id = id;
              best_idx = i;
            }
        }
      if (best_id < 0)
        break;
      v[best_idx] = best_id;
      g_array_remove_index (ids, best_idx + 1);
    }
  if (eos)
    {
      gint32 id = self->eos_id;
      g_array_append_val (ids, id);
    }
  *n_tokens = ids->len;
  return (gint32 *) (void *) g_array_free (g_steal_pointer (&ids), FALSE);
}

static gboolean
is_byte_piece (const char *piece)
{
  return strlen (piece) == 6 && g_str_has_prefix (piece, "<0x") && piece[5] == '>' &&
         g_ascii_isxdigit (piece[3]) && g_ascii_isxdigit (piece[4]);
}

/* One token of a stream: what decoding [prev, token] adds to decoding
 * [prev] (a decoder may treat the first piece apart, as Metaspace and Strip
 * do). After a special token (or at the start) the token is decoded as the
 * first, as decoding with skip_special_tokens does. */
static char *
decode_token_hf (AneTokenizer *self,
                 gint32        prev_token,
                 gint32        token)
{
  gint32 both[2] = { prev_token, token };
  g_autofree char *alone = NULL, *with = NULL;
  gsize alone_len, with_len;

  if (prev_token < 0 || (guint) prev_token >= self->n_tokens || ane_hf_tokenizer_is_special (self->hf, prev_token))
    return ane_hf_tokenizer_decode (self->hf, &token, 1, FALSE, &with_len);
  alone = ane_hf_tokenizer_decode (self->hf, both, 1, FALSE, &alone_len);
  with = ane_hf_tokenizer_decode (self->hf, both, 2, FALSE, &with_len);
  if (with_len >= alone_len && memcmp (with, alone, alone_len) == 0)
    return g_strndup (with + alone_len, with_len - alone_len);
  return ane_hf_tokenizer_decode (self->hf, &token, 1, FALSE, &with_len);
}

/**
 * ane_tokenizer_decode_token:
 * @self: a tokenizer
 * @prev_token: the token before @token (or -1 at the start)
 * @token: the token to decode
 *
 * Decodes one token to text: the leading space of the first piece after
 * the beginning-of-sequence token is dropped (it is sentencepiece's dummy
 * prefix), and a byte-fallback token `<0xXX>` becomes that raw byte, which
 * may be one part of a multi-byte UTF-8 character.
 *
 * For a Hugging Face `tokenizer.json`, the text is what @token adds to the
 * decoding of @prev_token (raw bytes: a byte-level token may be a part of a
 * character); after a special token, or with @prev_token -1, @token is
 * decoded as the first of a text (Metaspace and Strip decoders drop its
 * leading space).
 *
 * Returns: (transfer full): the text (empty for an out-of-range token)
 */
char *
ane_tokenizer_decode_token (AneTokenizer *self,
                            gint32        prev_token,
                            gint32        token)
{
  const char *piece;
  unsigned int byte;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);

  if (token < 0 || (guint) token >= self->n_tokens)
    return g_strdup ("");
  if (self->hf != NULL)
    return decode_token_hf (self, prev_token, token);
  piece = self->pieces[token];
  if (self->space_marker)
    {
      g_autoptr(GString) text = NULL;

      if (prev_token == self->bos_id && g_str_has_prefix (piece, SPACE_MARKER))
        piece += strlen (SPACE_MARKER);
      if (!is_byte_piece (piece))
        {
          text = g_string_new (piece);
          g_string_replace (text, SPACE_MARKER, " ", 0);
          return g_string_free (g_steal_pointer (&text), FALSE);
        }
    }
  else if (prev_token == self->bos_id && piece[0] == ' ')
    piece++;
  if (is_byte_piece (piece))
    {
      byte = (g_ascii_xdigit_value (piece[3]) << 4) | g_ascii_xdigit_value (piece[4]);
      /* g_strdup of "\0" would be empty: a NUL byte decodes to nothing */
      return g_strdup (self->byte_pieces[byte]);
    }
  return g_strdup (piece);
}

/**
 * ane_tokenizer_decode:
 * @self: a tokenizer
 * @tokens: (array length=n_tokens): token ids
 * @n_tokens: the number of tokens
 *
 * Decodes a token sequence with [method@Ane.Tokenizer.decode_token],
 * dropping the beginning- and end-of-sequence tokens. For a Hugging Face
 * `tokenizer.json` this is [method@Ane.Tokenizer.decode_full] with
 * `skip_special_tokens`.
 *
 * Returns: (transfer full): the text
 */
char *
ane_tokenizer_decode (AneTokenizer *self,
                      const gint32 *tokens,
                      gsize         n_tokens)
{
  GString *out;
  gint32 prev = -1;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, NULL);

  if (self->hf != NULL)
    return ane_tokenizer_decode_full (self, tokens, n_tokens, TRUE);
  out = g_string_new (NULL);
  for (gsize i = 0; i < n_tokens; i++)
    {
      if (tokens[i] != self->bos_id && tokens[i] != self->eos_id)
        {
          g_autofree char *s = ane_tokenizer_decode_token (self, prev, tokens[i]);
          g_string_append (out, s);
        }
      prev = tokens[i];
    }
  return g_string_free (out, FALSE);
}

/**
 * ane_tokenizer_dup_piece_bytes:
 * @self: a tokenizer
 * @token: a token id
 *
 * Gets the raw piece of a token as bytes, exactly as stored in the file.
 * Unlike [method@Ane.Tokenizer.get_piece] this is safe for bindings that
 * turn strings into Unicode: a vocabulary file may hold pieces that are not
 * valid UTF-8, and a language binding would fail to convert them.
 *
 * Returns: (transfer full) (nullable): the piece, or %NULL when @token is
 *   out of range
 *
 * Since: 0.2
 */
GBytes *
ane_tokenizer_dup_piece_bytes (AneTokenizer *self,
                               gint32        token)
{
  const char *piece;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);

  piece = ane_tokenizer_get_piece (self, token);
  if (piece == NULL)
    return NULL;
  return g_bytes_new (piece, strlen (piece));
}

/**
 * ane_tokenizer_decode_token_bytes:
 * @self: a tokenizer
 * @prev_token: the token before @token (or -1 at the start)
 * @token: the token to decode
 *
 * Decodes one token as [method@Ane.Tokenizer.decode_token] does, but hands
 * the result over as bytes. A byte-fallback token (`<0xE2>`) decodes to one
 * byte that is only a part of a multi-byte UTF-8 character (`€` is the three
 * tokens `<0xE2>` `<0x82>` `<0xAC>`), which a binding that turns strings into
 * Unicode could not convert; bytes always cross. Join the pieces of
 * consecutive tokens before decoding them as UTF-8.
 *
 * Returns: (transfer full): the decoded bytes (empty for an out-of-range token)
 *
 * Since: 0.2
 */
GBytes *
ane_tokenizer_decode_token_bytes (AneTokenizer *self,
                                  gint32        prev_token,
                                  gint32        token)
{
  char *text;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);

  text = ane_tokenizer_decode_token (self, prev_token, token);
  return g_bytes_new_take (text, strlen (text));
}

/**
 * ane_tokenizer_encode_full:
 * @self: a tokenizer
 * @text: UTF-8 text
 * @add_special_tokens: whether to add the special tokens the tokenizer adds
 *   around a text (Hugging Face's `add_special_tokens=True`)
 * @n_tokens: (out): the number of tokens returned
 * @error: return location for a #GError
 *
 * Encodes text as Hugging Face's `tokenizer.encode (text,
 * add_special_tokens=...)` does. For a `tokenizer.json`
 * ([func@Ane.Tokenizer.load_hf]) @add_special_tokens applies its
 * post-processor (the template's tokens before and after the text, e.g.
 * `<|begin_of_text|>` for Llama 3, nothing for Qwen3); special tokens
 * written in @text (`<|im_start|>`) are always their own ids. For a
 * llama2.c or GGUF vocabulary, as sentencepiece, it adds the
 * beginning-of-sequence token only: the same as
 * `ane_tokenizer_encode (self, text, add_special_tokens, FALSE, ...)`.
 *
 * Text that is not valid UTF-8 fails with %ANE_ERROR_INVALID_ARGUMENT for
 * a `tokenizer.json` (its normalizers and regexes work on characters).
 *
 * Returns: (transfer full) (array length=n_tokens) (nullable): the token
 *   ids, or %NULL with @error set
 *
 * Since: 0.2
 */
gint32 *
ane_tokenizer_encode_full (AneTokenizer  *self,
                           const char    *text,
                           gboolean       add_special_tokens,
                           gsize         *n_tokens,
                           GError       **error)
{
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (n_tokens != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *n_tokens = 0;
  if (self->hf == NULL)
    return ane_tokenizer_encode (self, text, add_special_tokens, FALSE, n_tokens);
  ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (!ane_hf_tokenizer_encode (self->hf, text, add_special_tokens, ids, error))
    return NULL;
  *n_tokens = ids->len;
  return (gint32 *) (void *) g_array_free (g_steal_pointer (&ids), FALSE);
}

/**
 * ane_tokenizer_decode_full:
 * @self: a tokenizer
 * @tokens: (array length=n_tokens): token ids
 * @n_tokens: the number of tokens
 * @skip_special_tokens: whether to leave the special tokens out
 *
 * Decodes tokens to text as Hugging Face's `tokenizer.decode (ids,
 * skip_special_tokens=...)` does (with `clean_up_tokenization_spaces`
 * off): for a `tokenizer.json`, the pieces go through its decoder chain and
 * bytes that do not form UTF-8 become U+FFFD; @skip_special_tokens leaves
 * out the added tokens marked special. For a llama2.c or GGUF vocabulary
 * the special tokens are the beginning- and end-of-sequence tokens, and
 * the text is [method@Ane.Tokenizer.decode]'s, made valid UTF-8 the same way.
 * Ids outside the vocabulary are left out.
 *
 * Returns: (transfer full): the text, valid UTF-8
 *
 * Since: 0.2
 */
char *
ane_tokenizer_decode_full (AneTokenizer *self,
                           const gint32 *tokens,
                           gsize         n_tokens,
                           gboolean      skip_special_tokens)
{
  g_autofree char *raw = NULL;
  gsize len;

  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, NULL);

  if (self->hf != NULL)
    raw = ane_hf_tokenizer_decode (self->hf, tokens, n_tokens, skip_special_tokens, &len);
  else if (skip_special_tokens)
    {
      raw = ane_tokenizer_decode (self, tokens, n_tokens);
      len = strlen (raw);
    }
  else
    {
      GString *out = g_string_new (NULL);

      for (gsize i = 0; i < n_tokens; i++)
        {
          g_autofree char *s = ane_tokenizer_decode_token (self, i > 0 ? tokens[i - 1] : -1, tokens[i]);
          g_string_append (out, s);
        }
      len = out->len;
      raw = g_string_free (out, FALSE);
    }
  return ane_hf_utf8_lossy (raw, len);
}

AneTokenizer *
ane_tokenizer_new_hf (AneHfTokenizer *hf,
                      guint           n_tokens,
                      gint32          bos_id,
                      gint32          eos_id)
{
  AneTokenizer *self = g_object_new (ANE_TYPE_TOKENIZER, NULL);

  self->hf = hf;
  self->n_tokens = n_tokens;
  self->bos_id = bos_id;
  self->eos_id = eos_id;
  return self;
}

AneHfTokenizer *
ane_tokenizer_get_hf (AneTokenizer *self)
{
  return self->hf;
}

gboolean
ane_tokenizer_is_hf (AneTokenizer *self)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), FALSE);
  return self->hf != NULL;
}

gboolean
ane_tokenizer_fits_model (AneTokenizer *self,
                          gint64        vocab_size)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), FALSE);
  return self->hf != NULL ? (gint64) self->n_tokens <= vocab_size : (gint64) self->n_tokens == vocab_size;
}

gboolean
ane_tokenizer_serialize_hf (AneTokenizer  *self,
                            GBytes       **json,
                            GBytes       **config,
                            GError       **error)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), FALSE);
  g_return_val_if_fail (self->hf != NULL, FALSE);
  return ane_hf_tokenizer_serialize (self->hf, self->bos_id, self->eos_id, json, config, error);
}

/* llama.cpp's llama_token_type: what the GGUF written by
 * ane_tokenizer_serialize records per piece. */
#define GGUF_TOKEN_TYPE_NORMAL 1
#define GGUF_TOKEN_TYPE_CONTROL 3

GBytes *
ane_tokenizer_serialize (AneTokenizer *self,
                         gboolean     *gguf)
{
  g_return_val_if_fail (ANE_IS_TOKENIZER (self), NULL);
  /* a tokenizer.json has neither form: the caller keeps its file */
  g_return_val_if_fail (self->hf == NULL, NULL);

  *gguf = self->space_marker;
  if (!self->space_marker)
    {
      /* the llama2.c layout read by ane_tokenizer_load_llama2c */
      GByteArray *out = g_byte_array_new ();
      guint32 word = GUINT32_TO_LE (self->max_token_length);

      g_byte_array_append (out, (const guint8 *) &word, 4);
      for (guint i = 0; i < self->n_tokens; i++)
        {
          union { float f; guint32 u; } score = { .f = self->scores[i] };
          gsize len = strlen (self->pieces[i]);

          word = GUINT32_TO_LE (score.u);
          g_byte_array_append (out, (const guint8 *) &word, 4);
          word = GUINT32_TO_LE ((guint32) len);
          g_byte_array_append (out, (const guint8 *) &word, 4);
          g_byte_array_append (out, (const guint8 *) self->pieces[i], (guint) len);
        }
      return g_byte_array_free_to_bytes (out);
    }
  else
    {
      g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 32);
      g_autofree float *scores = g_new (float, self->n_tokens);
      g_autofree gint32 *types = g_new (gint32, self->n_tokens);

      for (guint i = 0; i < self->n_tokens; i++)
        {
          scores[i] = self->scores[i];
          types[i] = (gint32) i == self->bos_id || (gint32) i == self->eos_id ? GGUF_TOKEN_TYPE_CONTROL
                                                                            : GGUF_TOKEN_TYPE_NORMAL;
        }
      /* only the byte type matters to the loader: it marks the <0xXX>
       * pieces used as byte fallback */
      for (guint b = 0; b < 256; b++)
        if (self->byte_ids[b] >= 0)
          types[self->byte_ids[b]] = GGUF_TOKEN_TYPE_BYTE;
      ane_gguf_writer_add_string (w, "tokenizer.ggml.model", "llama");
      ane_gguf_writer_add_strings (w, "tokenizer.ggml.tokens", (const char *const *) self->pieces, self->n_tokens);
      ane_gguf_writer_add_array (w, "tokenizer.ggml.scores", ANE_GGUF_VALUE_TYPE_FLOAT32, scores, self->n_tokens);
      ane_gguf_writer_add_array (w, "tokenizer.ggml.token_type", ANE_GGUF_VALUE_TYPE_INT32, types, self->n_tokens);
      ane_gguf_writer_add_int (w, "tokenizer.ggml.bos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, self->bos_id);
      ane_gguf_writer_add_int (w, "tokenizer.ggml.eos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, self->eos_id);
      return ane_gguf_writer_to_bytes (w);
    }
}
