/* model/ane-tokenizer-hf-private.h: the Hugging Face tokenizer.json pipeline (internal)
 *
 * A tokenizer.json describes a pipeline (huggingface/tokenizers,
 * tokenizers/src/tokenizer/mod.rs, `TokenizerImpl::encode_single_sequence`):
 * added tokens are split off the text first, each remaining piece is
 * normalized, pre-tokenized into words, each word is encoded by the model
 * (BPE here), and a post-processor adds the special tokens. Decoding maps
 * ids to pieces and runs the decoder chain over them.
 *
 * Each stage lives in its own file: ane-tokenizer-hf-normalize.c,
 * ane-tokenizer-hf-pretok.c, ane-tokenizer-hf-bpe.c,
 * ane-tokenizer-hf-decode.c; ane-tokenizer-hf.c reads the file and runs
 * the pipeline.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ane-private.h"
#include "ane-tokenizer.h"

G_BEGIN_DECLS

/* Pieces of text on their way through the pre-tokenizers: their bytes one
 * after the other in @text, each piece a span of it (one allocation for
 * all, not two per word). at_start: the piece begins at offset 0 of the
 * user's text (Metaspace's prepend_scheme "first" prepends only there). */
typedef struct
{
  gsize start, len;
  gboolean at_start;
} AneHfSpan;

typedef struct
{
  GString *text;
  GArray *spans;   /* AneHfSpan */
} AneHfSplits;

/* One piece (none when @len is 0). */
void ane_hf_splits_init  (AneHfSplits *splits,
                          const char  *text,
                          gsize        len,
                          gboolean     at_start);
void ane_hf_splits_clear (AneHfSplits *splits);

/* --- patterns (ane-tokenizer-hf-pattern.c) --- */

/* A "pattern" member: {"String": "..."} (a literal) or {"Regex": "..."}
 * (tokenizers runs it with Oniguruma; GRegex's PCRE2 with UTF and UCP,
 * which GLib sets, reads the patterns tokenizer.json files declare, \p{L},
 * \p{N}, (?i:...) and (?!\S) included). */
typedef struct _AneHfPattern AneHfPattern;

gboolean  ane_hf_pattern_parse (JsonNode      *node,
                                const char    *what,
                                AneHfPattern **out,
                                GError       **error);
void      ane_hf_pattern_free  (AneHfPattern  *p);
/* Appends the [start, end) byte ranges of the non-empty, non-overlapping
 * matches in @text (@len bytes) to @ranges (gsize pairs). */
gboolean  ane_hf_pattern_find  (const AneHfPattern *p,
                                const char         *text,
                                gsize               len,
                                GArray             *ranges,
                                GError            **error);
/* ane_hf_pattern_find() for a compiled @regex (the Split, Replace and
 * regex-driven pre-tokenizers share it); appends to @ranges. */
gboolean  ane_hf_regex_find    (GRegex             *regex,
                                const char         *text,
                                gsize               len,
                                GArray             *ranges,
                                GError            **error);
/* @text with every match replaced by @content (literally), for the
 * Replace normalizer and decoder. */
char     *ane_hf_pattern_replace (const AneHfPattern *p,
                                  const char         *text,
                                  gsize               len,
                                  const char         *content,
                                  gsize              *out_len);
/* Compiles @pattern as the pre-tokenizers and normalizers need it. */
GRegex   *ane_hf_regex_new     (const char    *pattern,
                                const char    *what,
                                GError       **error);

/* --- normalizers (ane-tokenizer-hf-normalize.c) --- */
typedef struct _AneHfNormalizer AneHfNormalizer;

/* node: the "normalizer" member (JSON null gives NULL with no error). what:
 * the field path for messages ("normalizer", "normalizer.normalizers[1]"). */
gboolean  ane_hf_normalizer_parse (JsonNode          *node,
                                   const char        *what,
                                   AneHfNormalizer  **out,
                                   GError           **error);
void      ane_hf_normalizer_free  (AneHfNormalizer   *n);
/* Normalizes @text in place (valid UTF-8 in, valid UTF-8 out). */
void      ane_hf_normalizer_apply (const AneHfNormalizer *n,
                                   GString               *text);

/* --- pre-tokenizers (ane-tokenizer-hf-pretok.c) --- */
typedef struct _AneHfPreTokenizer AneHfPreTokenizer;

gboolean  ane_hf_pre_tokenizer_parse (JsonNode            *node,
                                      const char          *what,
                                      AneHfPreTokenizer  **out,
                                      GError             **error);
void      ane_hf_pre_tokenizer_free  (AneHfPreTokenizer   *p);
/* Replaces the pieces of @splits by their pre-tokenized words. Fails
 * only when a regular expression fails to run. */
gboolean  ane_hf_pre_tokenizer_apply (const AneHfPreTokenizer *p,
                                      AneHfSplits             *splits,
                                      GError                 **error);
/* Whether the chain has a ByteLevel pre-tokenizer (its words are spelled
 * with GPT-2's byte characters). */
gboolean  ane_hf_pre_tokenizer_is_byte_level (const AneHfPreTokenizer *p);

/* GPT-2's bytes_to_unicode (openai/gpt-2 src/encoder.py): the UTF-8
 * spelling of the character byte @b stands for, and back (-1 when @c is not
 * one of the 256). */
const char *ane_hf_byte_level_char   (guint8   b);
int         ane_hf_byte_level_byte   (gunichar c);

/* --- the BPE model (ane-tokenizer-hf-bpe.c) --- */
typedef struct _AneHfBpe AneHfBpe;

/* model.vocab and model.merges as ane-tokenizer-hf-json.c reads them,
 * without json-glib's tree: pieces[i] has id ids[i] (gint64); merges
 * holds left, right, left, right, ... (all strings owned). */
typedef struct
{
  GPtrArray *pieces;
  GArray *ids;
  GPtrArray *merges;
} AneHfBpeData;

void      ane_hf_bpe_data_clear (AneHfBpeData *data);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AneHfBpeData, ane_hf_bpe_data_clear)

/* Finds model.vocab and model.merges in the tokenizer.json @text and reads
 * them into @data; *@rest is the text with their values replaced by {} and
 * [], for json-glib to parse the rest (which is small). FALSE (and nothing
 * set) when the text is not in the shape this fast path reads — then
 * json-glib parses it all and reports what is wrong. */
gboolean  ane_hf_json_split_model (const char   *text,
                                   gsize         len,
                                   AneHfBpeData *data,
                                   GString     **rest);

/* model: the "model" object; @fast: its vocab and merges when read by
 * ane_hf_json_split_model() (their contents are taken), or NULL to read
 * them from @model. The vocabulary and merges are checked. */
AneHfBpe *ane_hf_bpe_parse      (JsonObject    *model,
                                 AneHfBpeData  *fast,
                                 GError       **error);
void      ane_hf_bpe_free       (AneHfBpe    *bpe);
/* The largest id of the vocabulary, or -1 when it is empty. */
gint32    ane_hf_bpe_max_id     (const AneHfBpe *bpe);
const char *ane_hf_bpe_id_to_piece (const AneHfBpe *bpe,
                                    gint32          id);
gint32    ane_hf_bpe_piece_to_id (const AneHfBpe *bpe,
                                  const char     *piece);
/* Appends the ids of one pre-tokenized word to @ids. */
void      ane_hf_bpe_encode_word (AneHfBpe    *bpe,
                                  const char  *word,
                                  gsize        len,
                                  GArray      *ids);

/* --- decoders (ane-tokenizer-hf-decode.c) --- */
typedef struct _AneHfDecoder AneHfDecoder;

gboolean  ane_hf_decoder_parse (JsonNode       *node,
                                const char     *what,
                                AneHfDecoder  **out,
                                GError        **error);
void      ane_hf_decoder_free  (AneHfDecoder   *d);
/* Runs the decoder chain over @pieces (GString elements, changed in
 * place; a decoder may fuse them into fewer: @pieces must free its
 * elements, g_ptr_array_new_with_free_func). The result is raw bytes: a
 * byte-level or byte-fallback token may be one part of a UTF-8 character;
 * the caller repairs invalid UTF-8 when it wants text. A NULL decoder joins
 * the pieces with spaces, as tokenizers does without one. */
void      ane_hf_decoder_apply (const AneHfDecoder *d,
                                GPtrArray          *pieces);

/* @raw as text: each maximal ill-formed subsequence becomes U+FFFD, as
 * Rust's String::from_utf8_lossy (which tokenizers' decoders use) does. */
char     *ane_hf_utf8_lossy    (const char         *raw,
                                gsize               len);

/* --- the whole pipeline (ane-tokenizer-hf.c) --- */
typedef struct _AneHfTokenizer AneHfTokenizer;

void      ane_hf_tokenizer_free       (AneHfTokenizer *hf);
const char *ane_hf_tokenizer_get_piece (AneHfTokenizer *hf,
                                        gint32          id);
gboolean  ane_hf_tokenizer_encode     (AneHfTokenizer *hf,
                                       const char     *text,
                                       gboolean        add_special_tokens,
                                       GArray         *ids,
                                       GError        **error);
/* Raw bytes (see ane_hf_decoder_apply); *len is their length. */
char     *ane_hf_tokenizer_decode     (AneHfTokenizer *hf,
                                       const gint32   *ids,
                                       gsize           n_ids,
                                       gboolean        skip_special_tokens,
                                       gsize          *len);
gboolean  ane_hf_tokenizer_is_special (AneHfTokenizer *hf,
                                       gint32          id);

/* See ane_tokenizer_serialize_hf(). */
gboolean  ane_hf_tokenizer_serialize  (AneHfTokenizer *hf,
                                       gint32          bos_id,
                                       gint32          eos_id,
                                       GBytes        **json,
                                       GBytes        **config,
                                       GError        **error);

/* ane-tokenizer.c: an AneTokenizer around @hf (transfer full). */
AneTokenizer   *ane_tokenizer_new_hf  (AneHfTokenizer *hf,
                                       guint           n_tokens,
                                       gint32          bos_id,
                                       gint32          eos_id);
AneHfTokenizer *ane_tokenizer_get_hf  (AneTokenizer   *self);

/* Helpers shared by the parsers: the member @name of @obj as a string /
 * boolean / integer, with a message naming "@what.@name" when it has the
 * wrong type. A missing (or null) member gives @def. */
gboolean  ane_hf_json_string (JsonObject  *obj,
                              const char  *what,
                              const char  *name,
                              const char  *def,
                              const char **out,
                              GError     **error);
gboolean  ane_hf_json_bool   (JsonObject  *obj,
                              const char  *what,
                              const char  *name,
                              gboolean     def,
                              gboolean    *out,
                              GError     **error);
gboolean  ane_hf_json_int    (JsonObject  *obj,
                              const char  *what,
                              const char  *name,
                              gint64       def,
                              gint64      *out,
                              GError     **error);
/* The "type" member of a component object (or of @node when it is not an
 * object: an error naming @what). */
const char *ane_hf_json_type (JsonNode    *node,
                              const char  *what,
                              JsonObject **obj,
                              GError     **error);

/* A component parser (ane_hf_decoder_parse() and its kin) with its out
 * parameter untyped, for ane_hf_json_sequence(). */
typedef gboolean (*AneHfParseFunc) (JsonNode    *node,
                                    const char  *what,
                                    gpointer    *out,
                                    GError     **error);
/* The children of a "Sequence" component: the array member @name of @obj,
 * each element read by @parse (a null element is skipped), in a new array
 * that frees them with @free_func; NULL (with @error naming "@what.@name"
 * or the element) when it is missing or an element is bad. */
GPtrArray  *ane_hf_json_sequence (JsonObject     *obj,
                                  const char     *what,
                                  const char     *name,
                                  AneHfParseFunc  parse,
                                  GDestroyNotify  free_func,
                                  GError        **error);

G_END_DECLS
