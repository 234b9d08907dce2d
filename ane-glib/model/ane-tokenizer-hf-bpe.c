/* ane-tokenizer-hf-bpe.c: the BPE model of a tokenizer.json (vocabulary, merges, merge loop)
 *
 * The algorithm is tokenizers' (huggingface/tokenizers,
 * tokenizers/src/models/bpe/model.rs `BPE::merge_word` and
 * tokenizers/src/models/bpe/word.rs `Word::merge_all`): a word starts as one
 * symbol per character (or its byte-fallback tokens `<0xXX>`, or the unknown
 * token), then the adjacent pair with the lowest merge rank is merged, ties
 * to the leftmost, until no adjacent pair has a merge. A binary heap of
 * candidate merges (rank, position) keeps this O(n log n) per word; an entry
 * whose pair has since changed is dropped when popped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

/* tokenizers caches up to 10,000 words (models/bpe/model.rs
 * DEFAULT_CACHE_CAPACITY) shorter than 256 characters (MAX_LENGTH). */
#define CACHE_CAPACITY 10000
#define CACHE_MAX_WORD 256

/* Merges: (left id, right id) → (rank, merged id), open addressing with
 * linear probing on a 64-bit key (ids are below 2^24, so the empty key
 * G_MAXUINT64 is never a real pair). */
typedef struct
{
  guint64 key;
  guint32 rank;
  gint32 new_id;
} MergeSlot;

struct _AneHfBpe
{
  GHashTable *vocab;     /* piece → id + 1; keys owned by pieces[] */
  char **pieces;         /* id → piece (NULL where the vocabulary has no id) */
  gint32 n_pieces;       /* max id + 1 */
  MergeSlot *merges;
  gsize merge_mask;      /* capacity - 1 (a power of two) */
  gint32 unk_id;         /* -1: none */
  gboolean byte_fallback, fuse_unk, ignore_merges;
  gint32 byte_ids[256];  /* <0xXX> → id, -1 when missing */
  char *prefix;          /* continuing_subword_prefix ("" when none) */
  char *suffix;          /* end_of_word_suffix */

  GMutex cache_lock;
  GHashTable *cache;     /* word → GArray of ids */
};

static inline guint64
pair_key (gint32 a,
          gint32 b)
{
  return ((guint64) (guint32) a << 32) | (guint32) b;
}

/* splitmix64's finalizer: spreads the two ids over the table's bits */
static inline gsize
pair_hash (guint64 key)
{
  key ^= key >> 30;
  key *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  key ^= key >> 27;
  key *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  key ^= key >> 31;
  return (gsize) key;
}

static const MergeSlot *
merge_lookup (const AneHfBpe *bpe,
              gint32          a,
              gint32          b)
{
  guint64 key = pair_key (a, b);

  if (bpe->merges == NULL)
    return NULL;
  for (gsize i = pair_hash (key) & bpe->merge_mask;; i = (i + 1) & bpe->merge_mask)
    {
      if (bpe->merges[i].key == key)
        return &bpe->merges[i];
      if (bpe->merges[i].key == G_MAXUINT64)
        return NULL;
    }
}

static void
merge_insert (AneHfBpe *bpe,
              gint32    a,
              gint32    b,
              guint32   rank,
              gint32    new_id)
{
  guint64 key = pair_key (a, b);
  gsize i;

  for (i = pair_hash (key) & bpe->merge_mask; bpe->merges[i].key != G_MAXUINT64; i = (i + 1) & bpe->merge_mask)
    if (bpe->merges[i].key == key)
      break;
  /* a pair listed twice keeps its last rank, as tokenizers' HashMap
   * collect does */
  bpe->merges[i].key = key;
  bpe->merges[i].rank = rank;
  bpe->merges[i].new_id = new_id;
}

void
ane_hf_bpe_free (AneHfBpe *bpe)
{
  if (bpe == NULL)
    return;
  g_clear_pointer (&bpe->vocab, g_hash_table_unref);
  if (bpe->pieces != NULL)
    for (gint32 i = 0; i < bpe->n_pieces; i++)
      g_free (bpe->pieces[i]);
  g_free (bpe->pieces);
  g_free (bpe->merges);
  g_free (bpe->prefix);
  g_free (bpe->suffix);
  g_clear_pointer (&bpe->cache, g_hash_table_unref);
  g_mutex_clear (&bpe->cache_lock);
  g_free (bpe);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneHfBpe, ane_hf_bpe_free)

gint32
ane_hf_bpe_piece_to_id (const AneHfBpe *bpe,
                        const char     *piece)
{
  return (gint32) GPOINTER_TO_UINT (g_hash_table_lookup (bpe->vocab, piece)) - 1;
}

const char *
ane_hf_bpe_id_to_piece (const AneHfBpe *bpe,
                        gint32          id)
{
  if (id < 0 || id >= bpe->n_pieces)
    return NULL;
  return bpe->pieces[id];
}

gint32
ane_hf_bpe_max_id (const AneHfBpe *bpe)
{
  return bpe->n_pieces - 1;
}

/* One merge of the "merges" array: "a b" (tokenizers before 0.20) or
 * ["a", "b"] (0.20 and later, which allows spaces in pieces). */
static gboolean
merge_pair (JsonNode    *node,
            guint        i,
            char       **a,
            char       **b,
            GError     **error)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *s = json_node_get_string (node);
      const char *space = strchr (s, ' ');

      /* tokenizers splits on ' ' and wants exactly two parts
       * (models/bpe/serialization.rs) */
      if (space == NULL || strchr (space + 1, ' ') != NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "model.merges[%u]: '%s' is not two pieces separated by one space", i, s);
          return FALSE;
        }
      *a = g_strndup (s, (gsize) (space - s));
      *b = g_strdup (space + 1);
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *arr = json_node_get_array (node);

      if (json_array_get_length (arr) == 2)
        {
          JsonNode *x = json_array_get_element (arr, 0), *y = json_array_get_element (arr, 1);

          if (JSON_NODE_HOLDS_VALUE (x) && json_node_get_value_type (x) == G_TYPE_STRING &&
              JSON_NODE_HOLDS_VALUE (y) && json_node_get_value_type (y) == G_TYPE_STRING)
            {
              *a = g_strdup (json_node_get_string (x));
              *b = g_strdup (json_node_get_string (y));
              return TRUE;
            }
        }
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
               "model.merges[%u] is neither a string \"a b\" nor an array of two strings", i);
  return FALSE;
}

void
ane_hf_bpe_data_clear (AneHfBpeData *data)
{
  g_clear_pointer (&data->pieces, g_ptr_array_unref);
  g_clear_pointer (&data->ids, g_array_unref);
  g_clear_pointer (&data->merges, g_ptr_array_unref);
}

/* model.vocab and model.merges from the parsed JSON (files the fast
 * reader of ane-tokenizer-hf-json.c hands over as they are) */
static gboolean
data_from_json (JsonObject    *model,
                AneHfBpeData  *data,
                GError       **error)
{
  JsonNode *vocab_node, *merges_node;
  JsonArray *merges = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  vocab_node = json_object_get_member (model, "vocab");
  if (vocab_node == NULL || !JSON_NODE_HOLDS_OBJECT (vocab_node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model.vocab is missing or not an object");
      return FALSE;
    }
  merges_node = json_object_get_member (model, "merges");
  if (merges_node != NULL && !JSON_NODE_HOLDS_NULL (merges_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (merges_node))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model.merges is not an array");
          return FALSE;
        }
      merges = json_node_get_array (merges_node);
    }
  data->pieces = g_ptr_array_new_with_free_func (g_free);
  data->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  data->merges = g_ptr_array_new_with_free_func (g_free);
  json_object_iter_init (&iter, json_node_get_object (vocab_node));
  while (json_object_iter_next (&iter, &name, &value))
    {
      gint64 id = -1;

      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_INT64)
        id = json_node_get_int (value);
      else
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model.vocab['%s'] is not an id between 0 and 2^24", name);
          return FALSE;
        }
      g_ptr_array_add (data->pieces, g_strdup (name));
      g_array_append_val (data->ids, id);
    }
  for (guint i = 0; merges != NULL && i < json_array_get_length (merges); i++)
    {
      char *a, *b;

      if (!merge_pair (json_array_get_element (merges, i), i, &a, &b, error))
        return FALSE;
      g_ptr_array_add (data->merges, a);
      g_ptr_array_add (data->merges, b);
    }
  return TRUE;
}

AneHfBpe *
ane_hf_bpe_parse (JsonObject    *model,
                  AneHfBpeData  *fast,
                  GError       **error)
{
  g_autoptr(AneHfBpe) bpe = g_new0 (AneHfBpe, 1);
  g_auto(AneHfBpeData) own = { NULL, NULL, NULL };
  AneHfBpeData *data = fast;
  JsonNode *dropout;
  const char *unk = NULL, *prefix = NULL, *suffix = NULL;
  gint64 max_id = -1;
  guint n_merges;

  g_mutex_init (&bpe->cache_lock);
  bpe->unk_id = -1;
  if (data == NULL)
    {
      if (!data_from_json (model, &own, error))
        return NULL;
      data = &own;
    }
  dropout = json_object_get_member (model, "dropout");
  if (dropout != NULL && !JSON_NODE_HOLDS_NULL (dropout) &&
      (!JSON_NODE_HOLDS_VALUE (dropout) ||
       (json_node_get_value_type (dropout) != G_TYPE_DOUBLE && json_node_get_value_type (dropout) != G_TYPE_INT64) ||
       json_node_get_double (dropout) != 0.0))
    {
      /* dropout is for training: encoding would be random */
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "model.dropout: BPE dropout (a training-time option) is not supported");
      return NULL;
    }
  if (!ane_hf_json_string (model, "model", "unk_token", NULL, &unk, error) ||
      !ane_hf_json_string (model, "model", "continuing_subword_prefix", "", &prefix, error) ||
      !ane_hf_json_string (model, "model", "end_of_word_suffix", "", &suffix, error) ||
      !ane_hf_json_bool (model, "model", "byte_fallback", FALSE, &bpe->byte_fallback, error) ||
      !ane_hf_json_bool (model, "model", "fuse_unk", FALSE, &bpe->fuse_unk, error) ||
      !ane_hf_json_bool (model, "model", "ignore_merges", FALSE, &bpe->ignore_merges, error))
    return NULL;
  bpe->prefix = g_strdup (prefix);
  bpe->suffix = g_strdup (suffix);

  /* the ids first: the id → piece table is as long as the largest */
  for (guint i = 0; i < data->pieces->len; i++)
    {
      gint64 id = g_array_index (data->ids, gint64, i);

      if (id < 0 || id >= (1 << 24))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model.vocab['%s'] is not an id between 0 and 2^24",
                       (const char *) data->pieces->pdata[i]);
          return NULL;
        }
      max_id = MAX (max_id, id);
    }
  bpe->n_pieces = (gint32) (max_id + 1);
  bpe->pieces = g_new0 (char *, MAX (bpe->n_pieces, 1));
  bpe->vocab = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < data->pieces->len; i++)
    {
      gint32 id = (gint32) g_array_index (data->ids, gint64, i);
      char *name = data->pieces->pdata[i];

      if (bpe->pieces[id] != NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "model.vocab: id %d is given to both '%s' and '%s'", id, bpe->pieces[id], name);
          return NULL;
        }
      /* the piece moves over */
      bpe->pieces[id] = g_steal_pointer (&data->pieces->pdata[i]);
      g_hash_table_insert (bpe->vocab, bpe->pieces[id], GINT_TO_POINTER (id + 1));
    }
  for (guint b = 0; b < 256; b++)
    {
      char piece[8];

      g_snprintf (piece, sizeof piece, "<0x%02X>", b);
      bpe->byte_ids[b] = ane_hf_bpe_piece_to_id (bpe, piece);
    }
  if (unk != NULL)
    /* tokenizers only fails when an unknown character meets an unknown
     * token that is not in the vocabulary; such a character is dropped
     * here, as when there is no unknown token */
    bpe->unk_id = ane_hf_bpe_piece_to_id (bpe, unk);

  n_merges = data->merges->len / 2;
  if (n_merges > 0)
    {
      gsize capacity = 16, prefix_len = strlen (bpe->prefix);
      GString *merged = g_string_new (NULL);

      while (capacity < 2 * (gsize) n_merges)
        capacity *= 2;
      bpe->merges = g_new (MergeSlot, capacity);
      bpe->merge_mask = capacity - 1;
      for (gsize i = 0; i < capacity; i++)
        bpe->merges[i].key = G_MAXUINT64;
      for (guint i = 0; i < n_merges; i++)
        {
          const char *a = data->merges->pdata[2 * i], *b = data->merges->pdata[2 * i + 1];
          gint32 ia = ane_hf_bpe_piece_to_id (bpe, a), ib = ane_hf_bpe_piece_to_id (bpe, b), im;

          if (ia < 0 || ib < 0)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                           "model.merges[%u]: '%s' is not in the vocabulary", i, ia < 0 ? a : b);
              g_string_free (merged, TRUE);
              return NULL;
            }
          /* the right piece carries the continuing-subword prefix, which
           * the merged piece has once (models/bpe/model.rs, BpeBuilder::build) */
          g_string_assign (merged, a);
          g_string_append (merged, prefix_len > 0 && g_str_has_prefix (b, bpe->prefix) ? b + prefix_len : b);
          im = ane_hf_bpe_piece_to_id (bpe, merged->str);
          if (im < 0)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                           "model.merges[%u]: the merged piece '%s' is not in the vocabulary", i, merged->str);
              g_string_free (merged, TRUE);
              return NULL;
            }
          merge_insert (bpe, ia, ib, i, im);
        }
      g_string_free (merged, TRUE);
    }
  bpe->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  return g_steal_pointer (&bpe);
}

typedef struct
{
  gint32 id;
  gint32 prev, next;  /* -1 at the ends */
  gsize len;          /* bytes of the word it covers; 0 once merged away */
} Symbol;

typedef struct
{
  guint32 rank;
  gint32 pos;
  gint32 new_id;
} Candidate;

static inline gboolean
candidate_before (const Candidate *x,
                  const Candidate *y)
{
  return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos;
}

static void
heap_push (GArray   *heap,
           Candidate c)
{
  Candidate *h;
  guint i;

  g_array_append_val (heap, c);
  h = (Candidate *) (void *) heap->data;
  for (i = heap->len - 1; i > 0;)
    {
      guint parent = (i - 1) / 2;

      if (!candidate_before (&h[i], &h[parent]))
        break;
      Candidate t = h[i];
      h[i] = h[parent];
      h[parent] = t;
      i = parent;
    }
}

static Candidate
heap_pop (GArray *heap)
{
  Candidate *h = (Candidate *) (void *) heap->data;
  Candidate top = h[0];
  guint n = heap->len - 1, i = 0;

  h[0] = h[n];
  g_array_set_size (heap, n);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;

      if (l < n && candidate_before (&h[l], &h[m]))
        m = l;
      if (r < n && candidate_before (&h[r], &h[m]))
        m = r;
      if (m == i)
        break;
      Candidate t = h[i];
      h[i] = h[m];
      h[m] = t;
      i = m;
    }
  return top;
}

static void
push_pair (const AneHfBpe *bpe,
           GArray         *heap,
           const Symbol   *sym,
           gint32          pos)
{
  const MergeSlot *m;

  if (pos < 0 || sym[pos].next < 0)
    return;
  m = merge_lookup (bpe, sym[pos].id, sym[sym[pos].next].id);
  if (m != NULL)
    heap_push (heap, (Candidate) { m->rank, pos, m->new_id });
}

static void
add_symbol (GArray *symbols,
            gint32  id,
            gsize   len)
{
  Symbol s = { id, (gint32) symbols->len - 1, -1, len };

  if (symbols->len > 0)
    g_array_index (symbols, Symbol, symbols->len - 1).next = (gint32) symbols->len;
  g_array_append_val (symbols, s);
}

/* The word's characters as symbols (BPE::merge_word's first loop). */
static void
initial_symbols (const AneHfBpe *bpe,
                 const char     *word,
                 gsize           len,
                 GArray         *symbols)
{
  g_autoptr(GString) piece = g_string_new (NULL);
  gint32 unk_pending = -1;
  gsize unk_len = 0;

  for (gsize i = 0; i < len;)
    {
      const char *next = g_utf8_find_next_char (word + i, word + len);
      gsize end = next != NULL ? (gsize) (next - word) : len;
      gsize char_len = end - i;
      gint32 id;

      g_string_truncate (piece, 0);
      if (i > 0)
        g_string_append (piece, bpe->prefix);
      g_string_append_len (piece, word + i, (gssize) char_len);
      if (end == len)
        g_string_append (piece, bpe->suffix);
      id = ane_hf_bpe_piece_to_id (bpe, piece->str);
      if (id >= 0)
        {
          if (unk_pending >= 0)
            add_symbol (symbols, unk_pending, unk_len);
          unk_pending = -1;
          add_symbol (symbols, id, char_len);
          i = end;
          continue;
        }
      if (bpe->byte_fallback)
        {
          gboolean all = TRUE;

          for (gsize j = 0; j < piece->len; j++)
            all = all && bpe->byte_ids[(guint8) piece->str[j]] >= 0;
          if (all)
            {
              if (unk_pending >= 0)
                add_symbol (symbols, unk_pending, unk_len);
              unk_pending = -1;
              for (gsize j = 0; j < piece->len; j++)
                add_symbol (symbols, bpe->byte_ids[(guint8) piece->str[j]], 1);
              i = end;
              continue;
            }
        }
      if (bpe->unk_id >= 0)
        {
          if (unk_pending >= 0 && bpe->fuse_unk)
            unk_len += char_len;
          else
            {
              if (unk_pending >= 0)
                add_symbol (symbols, unk_pending, unk_len);
              unk_pending = bpe->unk_id;
              unk_len = char_len;
            }
        }
      i = end;
    }
  if (unk_pending >= 0)
    add_symbol (symbols, unk_pending, unk_len);
}

static void
merge_all (const AneHfBpe *bpe,
           GArray         *symbols)
{
  Symbol *sym = (Symbol *) (void *) symbols->data;
  g_autoptr(GArray) heap = g_array_sized_new (FALSE, FALSE, sizeof (Candidate), symbols->len);

  for (gint32 i = 0; i + 1 < (gint32) symbols->len; i++)
    push_pair (bpe, heap, sym, i);
  while (heap->len > 0)
    {
      Candidate top = heap_pop (heap);
      const MergeSlot *m;
      gint32 right;

      /* stale: the left symbol was merged away, is now last, or the pair
       * it starts is no longer the one this merge was queued for */
      if (sym[top.pos].len == 0 || sym[top.pos].next < 0)
        continue;
      right = sym[top.pos].next;
      m = merge_lookup (bpe, sym[top.pos].id, sym[right].id);
      if (m == NULL || m->new_id != top.new_id || m->rank != top.rank)
        continue;
      sym[top.pos].id = top.new_id;
      sym[top.pos].len += sym[right].len;
      sym[top.pos].next = sym[right].next;
      sym[right].len = 0;
      if (sym[top.pos].next >= 0)
        sym[sym[top.pos].next].prev = top.pos;
      push_pair (bpe, heap, sym, sym[top.pos].prev);
      push_pair (bpe, heap, sym, top.pos);
    }
}

void
ane_hf_bpe_encode_word (AneHfBpe   *bpe,
                        const char *word,
                        gsize       len,
                        GArray     *ids)
{
  g_autoptr(GArray) symbols = NULL;
  g_autoptr(GArray) result = NULL;
  g_autofree char *heap_key = NULL;
  char stack_key[4 * CACHE_MAX_WORD + 1];
  char *key;
  gboolean cacheable = len < 4 * CACHE_MAX_WORD && g_utf8_strlen (word, (gssize) len) < CACHE_MAX_WORD;

  if (len == 0)
    return;
  /* the word NUL-terminated: on the stack when it may be cached (no
   * allocation for a hit), else on the heap */
  if (cacheable)
    {
      memcpy (stack_key, word, len);
      stack_key[len] = '\0';
      key = stack_key;
    }
  else
    key = heap_key = g_strndup (word, len);
  if (cacheable)
    {
      GArray *hit;

      g_mutex_lock (&bpe->cache_lock);
      hit = g_hash_table_lookup (bpe->cache, key);
      if (hit != NULL)
        g_array_append_vals (ids, hit->data, hit->len);
      g_mutex_unlock (&bpe->cache_lock);
      if (hit != NULL)
        return;
    }
  result = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (bpe->ignore_merges)
    {
      /* models/bpe/model.rs tokenize_with_cache: a word in the vocabulary
       * is one token, whatever the merges would make of it */
      gint32 id = ane_hf_bpe_piece_to_id (bpe, key);

      if (id >= 0)
        g_array_append_val (result, id);
    }
  if (result->len == 0)
    {
      symbols = g_array_sized_new (FALSE, FALSE, sizeof (Symbol), len);
      initial_symbols (bpe, key, len, symbols);
      merge_all (bpe, symbols);
      for (gint32 i = symbols->len > 0 ? 0 : -1; i >= 0; i = g_array_index (symbols, Symbol, i).next)
        g_array_append_val (result, g_array_index (symbols, Symbol, i).id);
    }
  g_array_append_vals (ids, result->data, result->len);
  if (cacheable)
    {
      g_mutex_lock (&bpe->cache_lock);
      if (g_hash_table_size (bpe->cache) < CACHE_CAPACITY)
        g_hash_table_replace (bpe->cache, g_strdup (key), g_steal_pointer (&result));
      g_mutex_unlock (&bpe->cache_lock);
    }
}
