/* ane-tokenizer-hf-pretok.c: tokenizer.json pre-tokenizers
 *
 * The kinds, fields and defaults are tokenizers' (huggingface/tokenizers,
 * tokenizers/src/pre_tokenizers/: byte_level.rs, split.rs, metaspace.rs,
 * digits.rs, whitespace.rs, punctuation.rs, bert.rs, sequence.rs). Each
 * splits every piece of text around the matches of a pattern, and what
 * becomes of a match is a SplitDelimiterBehavior
 * (tokenizers/src/tokenizer/normalizer.rs NormalizedString::split), which
 * split_piece() follows case by case.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

/* GPT-2's pre-tokenizer regex (pre_tokenizers/byte_level.rs, after
 * openai/gpt-2 src/encoder.py) */
#define GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* pre_tokenizers/whitespace.rs: Whitespace keeps these (the rest is removed) */
#define WHITESPACE_REGEX "\\w+|[^\\w\\s]+"

#define METASPACE "\xe2\x96\x81"  /* U+2581, SentencePiece's space */

typedef enum
{
  BEHAVIOR_REMOVED,
  BEHAVIOR_ISOLATED,
  BEHAVIOR_MERGED_WITH_PREVIOUS,
  BEHAVIOR_MERGED_WITH_NEXT,
  BEHAVIOR_CONTIGUOUS,
} Behavior;

typedef enum
{
  PRE_BYTE_LEVEL,
  PRE_SPLIT,
  PRE_METASPACE,
  PRE_DIGITS,
  PRE_WHITESPACE,
  PRE_WHITESPACE_SPLIT,
  PRE_PUNCTUATION,
  PRE_BERT,
  PRE_SEQUENCE,
} PreKind;

typedef enum
{
  PREPEND_ALWAYS,
  PREPEND_FIRST,
  PREPEND_NEVER,
} PrependScheme;

struct _AneHfPreTokenizer
{
  PreKind kind;
  AneHfPattern *pattern;   /* Split */
  GRegex *regex;           /* ByteLevel (use_regex), Whitespace */
  Behavior behavior;
  gboolean invert;
  gboolean add_prefix_space;   /* ByteLevel */
  gboolean individual_digits;  /* Digits */
  char *replacement;           /* Metaspace */
  PrependScheme prepend_scheme;
  gboolean split;              /* Metaspace */
  GPtrArray *children;         /* Sequence */
};

AneHfSplit *
ane_hf_split_new (const char *text,
                  gsize       len,
                  gboolean    at_start)
{
  AneHfSplit *s = g_new (AneHfSplit, 1);

  s->text = g_string_new_len (text, (gssize) len);
  s->at_start = at_start;
  return s;
}

void
ane_hf_split_free (gpointer split)
{
  AneHfSplit *s = split;

  g_string_free (s->text, TRUE);
  g_free (s);
}

void
ane_hf_pre_tokenizer_free (AneHfPreTokenizer *p)
{
  if (p == NULL)
    return;
  ane_hf_pattern_free (p->pattern);
  g_clear_pointer (&p->regex, g_regex_unref);
  g_free (p->replacement);
  g_clear_pointer (&p->children, g_ptr_array_unref);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneHfPreTokenizer, ane_hf_pre_tokenizer_free)

/* --- GPT-2's byte ↔ character table --- */

static char byte_chars[256][4];
static gint16 char_bytes[512];

static void
init_byte_level_table (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      guint n = 0;

      /* openai/gpt-2 src/encoder.py bytes_to_unicode: the printable
       * Latin-1 bytes stand for themselves, the other 68 for 256, 257, ...
       * in byte order */
      for (guint c = 0; c < 512; c++)
        char_bytes[c] = -1;
      for (guint b = 0; b < 256; b++)
        {
          gboolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
          gunichar c = printable ? b : 256 + n++;
          int len = g_unichar_to_utf8 (c, byte_chars[b]);

          byte_chars[b][len] = '\0';
          char_bytes[c] = (gint16) b;
        }
      g_once_init_leave (&done, 1);
    }
}

const char *
ane_hf_byte_level_char (guint8 b)
{
  init_byte_level_table ();
  return byte_chars[b];
}

int
ane_hf_byte_level_byte (gunichar c)
{
  init_byte_level_table ();
  return c < 512 ? char_bytes[c] : -1;
}

/* --- parsing --- */

static gboolean
parse_behavior (JsonObject  *obj,
                const char  *what,
                Behavior     def,
                Behavior    *out,
                GError     **error)
{
  static const char *const names[] = { "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous" };
  const char *name;

  if (!ane_hf_json_string (obj, what, "behavior", NULL, &name, error))
    return FALSE;
  *out = def;
  if (name == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (name, names[i]))
      {
        *out = (Behavior) i;
        return TRUE;
      }
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
               "%s.behavior '%s' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous",
               what, name);
  return FALSE;
}

gboolean
ane_hf_pre_tokenizer_parse (JsonNode            *node,
                            const char          *what,
                            AneHfPreTokenizer  **out,
                            GError             **error)
{
  g_autoptr(AneHfPreTokenizer) p = NULL;
  JsonObject *obj;
  const char *type;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = ane_hf_json_type (node, what, &obj, error);
  if (type == NULL)
    return FALSE;
  p = g_new0 (AneHfPreTokenizer, 1);
  if (g_str_equal (type, "ByteLevel"))
    {
      gboolean use_regex;

      p->kind = PRE_BYTE_LEVEL;
      if (!ane_hf_json_bool (obj, what, "add_prefix_space", TRUE, &p->add_prefix_space, error) ||
          !ane_hf_json_bool (obj, what, "use_regex", TRUE, &use_regex, error))
        return FALSE;
      if (use_regex && (p->regex = ane_hf_regex_new (GPT2_REGEX, what, error)) == NULL)
        return FALSE;
    }
  else if (g_str_equal (type, "Split"))
    {
      g_autofree char *field = g_strdup_printf ("%s.pattern", what);

      p->kind = PRE_SPLIT;
      if (!ane_hf_pattern_parse (json_object_get_member (obj, "pattern"), field, &p->pattern, error) ||
          !parse_behavior (obj, what, BEHAVIOR_ISOLATED, &p->behavior, error) ||
          !ane_hf_json_bool (obj, what, "invert", FALSE, &p->invert, error))
        return FALSE;
    }
  else if (g_str_equal (type, "Metaspace"))
    {
      const char *replacement, *scheme;
      gboolean add_prefix_space;

      p->kind = PRE_METASPACE;
      if (!ane_hf_json_string (obj, what, "replacement", METASPACE, &replacement, error) ||
          !ane_hf_json_string (obj, what, "prepend_scheme", NULL, &scheme, error) ||
          !ane_hf_json_bool (obj, what, "add_prefix_space", TRUE, &add_prefix_space, error) ||
          !ane_hf_json_bool (obj, what, "split", TRUE, &p->split, error))
        return FALSE;
      if (g_utf8_strlen (replacement, -1) != 1)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.replacement '%s' is not one character", what,
                       replacement);
          return FALSE;
        }
      p->replacement = g_strdup (replacement);
      /* files from tokenizers before 0.15 have add_prefix_space only
       * (pre_tokenizers/metaspace.rs deserialization) */
      if (scheme == NULL)
        p->prepend_scheme = add_prefix_space ? PREPEND_ALWAYS : PREPEND_NEVER;
      else if (g_str_equal (scheme, "always"))
        p->prepend_scheme = PREPEND_ALWAYS;
      else if (g_str_equal (scheme, "first"))
        p->prepend_scheme = PREPEND_FIRST;
      else if (g_str_equal (scheme, "never"))
        p->prepend_scheme = PREPEND_NEVER;
      else
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.prepend_scheme '%s' is not always, first or never",
                       what, scheme);
          return FALSE;
        }
    }
  else if (g_str_equal (type, "Digits"))
    {
      p->kind = PRE_DIGITS;
      if (!ane_hf_json_bool (obj, what, "individual_digits", FALSE, &p->individual_digits, error))
        return FALSE;
    }
  else if (g_str_equal (type, "Whitespace"))
    {
      p->kind = PRE_WHITESPACE;
      if ((p->regex = ane_hf_regex_new (WHITESPACE_REGEX, what, error)) == NULL)
        return FALSE;
    }
  else if (g_str_equal (type, "WhitespaceSplit"))
    p->kind = PRE_WHITESPACE_SPLIT;
  else if (g_str_equal (type, "Punctuation"))
    {
      p->kind = PRE_PUNCTUATION;
      if (!parse_behavior (obj, what, BEHAVIOR_ISOLATED, &p->behavior, error))
        return FALSE;
    }
  else if (g_str_equal (type, "BertPreTokenizer"))
    p->kind = PRE_BERT;
  else if (g_str_equal (type, "Sequence"))
    {
      JsonNode *list = json_object_get_member (obj, "pretokenizers");
      JsonArray *arr;

      p->kind = PRE_SEQUENCE;
      if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.pretokenizers is missing or not an array", what);
          return FALSE;
        }
      arr = json_node_get_array (list);
      p->children = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_hf_pre_tokenizer_free);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          g_autofree char *field = g_strdup_printf ("%s.pretokenizers[%u]", what, i);
          AneHfPreTokenizer *child;

          if (!ane_hf_pre_tokenizer_parse (json_array_get_element (arr, i), field, &child, error))
            return FALSE;
          if (child != NULL)
            g_ptr_array_add (p->children, child);
        }
    }
  else
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: pre-tokenizer type '%s' is not supported (ByteLevel, Split, Metaspace, Digits, Whitespace, "
                   "WhitespaceSplit, Punctuation, BertPreTokenizer, Sequence)", what, type);
      return FALSE;
    }
  *out = g_steal_pointer (&p);
  return TRUE;
}

/* --- splitting --- */

typedef struct
{
  gsize start, end;
  gboolean is_match;
} Piece;

/* Splits @in around @ranges (match start/end pairs, in order) the way
 * NormalizedString::split does for @behavior, appending the non-empty
 * results to @out. */
static void
split_piece (const AneHfSplit *in,
             GArray           *ranges,
             gboolean          invert,
             Behavior          behavior,
             GPtrArray        *out)
{
  g_autoptr(GArray) pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  g_autoptr(GArray) kept = g_array_new (FALSE, FALSE, sizeof (Piece));
  gsize len = in->text->len, prev = 0;
  gboolean previous_match = FALSE;

  /* the covering list of (range, is_match) (tokenizers' Pattern::find_matches) */
  for (guint i = 0; i + 1 < ranges->len; i += 2)
    {
      gsize s = g_array_index (ranges, gsize, i), e = g_array_index (ranges, gsize, i + 1);
      Piece gap = { prev, s, FALSE }, match = { s, e, TRUE };

      if (s > prev)
        g_array_append_val (pieces, gap);
      g_array_append_val (pieces, match);
      prev = e;
    }
  if (prev < len)
    {
      Piece gap = { prev, len, FALSE };
      g_array_append_val (pieces, gap);
    }
  if (invert)
    for (guint i = 0; i < pieces->len; i++)
      g_array_index (pieces, Piece, i).is_match = !g_array_index (pieces, Piece, i).is_match;

  switch (behavior)
    {
    case BEHAVIOR_REMOVED:
      for (guint i = 0; i < pieces->len; i++)
        if (!g_array_index (pieces, Piece, i).is_match)
          g_array_append_val (kept, g_array_index (pieces, Piece, i));
      break;
    case BEHAVIOR_ISOLATED:
      g_array_append_vals (kept, pieces->data, pieces->len);
      break;
    case BEHAVIOR_MERGED_WITH_PREVIOUS:
      for (guint i = 0; i < pieces->len; i++)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match && !previous_match && kept->len > 0)
            g_array_index (kept, Piece, kept->len - 1).end = p.end;
          else
            g_array_append_val (kept, p);
          previous_match = p.is_match;
        }
      break;
    case BEHAVIOR_MERGED_WITH_NEXT:
      /* the same, walking backwards */
      for (guint i = pieces->len; i-- > 0;)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match && !previous_match && kept->len > 0)
            g_array_index (kept, Piece, kept->len - 1).start = p.start;
          else
            g_array_append_val (kept, p);
          previous_match = p.is_match;
        }
      for (guint i = 0; i < kept->len / 2; i++)
        {
          Piece t = g_array_index (kept, Piece, i);
          g_array_index (kept, Piece, i) = g_array_index (kept, Piece, kept->len - 1 - i);
          g_array_index (kept, Piece, kept->len - 1 - i) = t;
        }
      break;
    case BEHAVIOR_CONTIGUOUS:
      for (guint i = 0; i < pieces->len; i++)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match == previous_match && kept->len > 0)
            g_array_index (kept, Piece, kept->len - 1).end = p.end;
          else
            g_array_append_val (kept, p);
          previous_match = p.is_match;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  for (guint i = 0; i < kept->len; i++)
    {
      Piece p = g_array_index (kept, Piece, i);

      if (p.end > p.start)
        g_ptr_array_add (out, ane_hf_split_new (in->text->str + p.start, p.end - p.start,
                                                in->at_start && p.start == 0));
    }
}

typedef gboolean (*CharPredicate) (gunichar c);

static gboolean
is_numeric (gunichar c)
{
  /* Rust's char::is_numeric: the N categories */
  GUnicodeType t = g_unichar_type (c);

  return t == G_UNICODE_DECIMAL_NUMBER || t == G_UNICODE_LETTER_NUMBER || t == G_UNICODE_OTHER_NUMBER;
}

static gboolean
is_whitespace (gunichar c)
{
  return g_unichar_isspace (c);
}

static gboolean
is_punctuation (gunichar c)
{
  /* pre_tokenizers/bert.rs is_bert_punc: ASCII punctuation or a P category */
  if (c < 128)
    return g_ascii_ispunct ((char) c);
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_CLOSE_PUNCTUATION:
    case G_UNICODE_FINAL_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_OTHER_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
      return TRUE;
    default:
      return FALSE;
    }
}

/* A character pattern: every matching character is a match of its own */
static void
char_ranges (const GString *text,
             CharPredicate  pred,
             GArray        *ranges)
{
  for (const char *p = text->str; p < text->str + text->len; p = g_utf8_next_char (p))
    if (pred (g_utf8_get_char (p)))
      {
        gsize s = (gsize) (p - text->str), e = (gsize) (g_utf8_next_char (p) - text->str);

        g_array_append_val (ranges, s);
        g_array_append_val (ranges, e);
      }
}

static gboolean
regex_ranges (GRegex        *regex,
              const GString *text,
              GArray        *ranges,
              GError       **error)
{
  g_autoptr(GMatchInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;

  g_regex_match_full (regex, text->str, (gssize) text->len, 0, 0, &info, &local_error);
  while (local_error == NULL && g_match_info_matches (info))
    {
      int s, e;

      if (g_match_info_fetch_pos (info, 0, &s, &e) && e > s)
        {
          gsize start = (gsize) s, end = (gsize) e;

          g_array_append_val (ranges, start);
          g_array_append_val (ranges, end);
        }
      g_match_info_next (info, &local_error);
    }
  if (local_error != NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "the pre-tokenizer regex '%s' failed: %s",
                   g_regex_get_pattern (regex), local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pre_tokenize_one (const AneHfPreTokenizer *p,
                  AneHfSplit              *in,
                  GPtrArray               *out,
                  GError                 **error)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (gsize));

  switch (p->kind)
    {
    case PRE_BYTE_LEVEL:
      {
        guint first = out->len;

        if (p->add_prefix_space && (in->text->len == 0 || in->text->str[0] != ' '))
          g_string_prepend_c (in->text, ' ');
        if (p->regex != NULL)
          {
            if (!regex_ranges (p->regex, in->text, ranges, error))
              return FALSE;
            split_piece (in, ranges, FALSE, BEHAVIOR_ISOLATED, out);
          }
        else if (in->text->len > 0)
          g_ptr_array_add (out, ane_hf_split_new (in->text->str, in->text->len, in->at_start));
        /* each byte becomes its character */
        for (guint i = first; i < out->len; i++)
          {
            AneHfSplit *s = out->pdata[i];
            GString *mapped = g_string_sized_new (2 * s->text->len);

            for (gsize j = 0; j < s->text->len; j++)
              g_string_append (mapped, ane_hf_byte_level_char ((guint8) s->text->str[j]));
            g_string_free (s->text, TRUE);
            s->text = mapped;
          }
        return TRUE;
      }
    case PRE_SPLIT:
      if (!ane_hf_pattern_find (p->pattern, in->text->str, in->text->len, ranges, error))
        return FALSE;
      split_piece (in, ranges, p->invert, p->behavior, out);
      return TRUE;
    case PRE_METASPACE:
      {
        g_autoptr(GString) rep = g_string_new (p->replacement);
        gunichar rc = g_utf8_get_char (p->replacement);

        g_string_replace (in->text, " ", p->replacement, 0);
        if ((p->prepend_scheme == PREPEND_ALWAYS || (p->prepend_scheme == PREPEND_FIRST && in->at_start)) &&
            !g_str_has_prefix (in->text->str, p->replacement))
          g_string_prepend (in->text, p->replacement);
        if (!p->split)
          {
            if (in->text->len > 0)
              g_ptr_array_add (out, ane_hf_split_new (in->text->str, in->text->len, in->at_start));
            return TRUE;
          }
        for (const char *c = in->text->str; c < in->text->str + in->text->len; c = g_utf8_next_char (c))
          if (g_utf8_get_char (c) == rc)
            {
              gsize s = (gsize) (c - in->text->str), e = s + rep->len;

              g_array_append_val (ranges, s);
              g_array_append_val (ranges, e);
            }
        split_piece (in, ranges, FALSE, BEHAVIOR_MERGED_WITH_NEXT, out);
        return TRUE;
      }
    case PRE_DIGITS:
      char_ranges (in->text, is_numeric, ranges);
      split_piece (in, ranges, FALSE, p->individual_digits ? BEHAVIOR_ISOLATED : BEHAVIOR_CONTIGUOUS, out);
      return TRUE;
    case PRE_WHITESPACE:
      if (!regex_ranges (p->regex, in->text, ranges, error))
        return FALSE;
      split_piece (in, ranges, TRUE, BEHAVIOR_REMOVED, out);
      return TRUE;
    case PRE_WHITESPACE_SPLIT:
      char_ranges (in->text, is_whitespace, ranges);
      split_piece (in, ranges, FALSE, BEHAVIOR_REMOVED, out);
      return TRUE;
    case PRE_PUNCTUATION:
      char_ranges (in->text, is_punctuation, ranges);
      split_piece (in, ranges, FALSE, p->behavior, out);
      return TRUE;
    case PRE_BERT:
      {
        /* pre_tokenizers/bert.rs: whitespace removed, then punctuation isolated */
        g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (ane_hf_split_free);

        char_ranges (in->text, is_whitespace, ranges);
        split_piece (in, ranges, FALSE, BEHAVIOR_REMOVED, words);
        for (guint i = 0; i < words->len; i++)
          {
            g_array_set_size (ranges, 0);
            char_ranges (((AneHfSplit *) words->pdata[i])->text, is_punctuation, ranges);
            split_piece (words->pdata[i], ranges, FALSE, BEHAVIOR_ISOLATED, out);
          }
        return TRUE;
      }
    case PRE_SEQUENCE:
    default:
      g_assert_not_reached ();
    }
}

gboolean
ane_hf_pre_tokenizer_apply (const AneHfPreTokenizer *p,
                            GPtrArray               *splits,
                            GError                 **error)
{
  g_autoptr(GPtrArray) out = NULL;

  if (p == NULL)
    return TRUE;
  if (p->kind == PRE_SEQUENCE)
    {
      for (guint i = 0; i < p->children->len; i++)
        if (!ane_hf_pre_tokenizer_apply (p->children->pdata[i], splits, error))
          return FALSE;
      return TRUE;
    }
  out = g_ptr_array_new_with_free_func (ane_hf_split_free);
  for (guint i = 0; i < splits->len; i++)
    if (!pre_tokenize_one (p, splits->pdata[i], out, error))
      return FALSE;
  /* hand the new splits over to @splits */
  g_ptr_array_set_size (splits, 0);
  for (guint i = 0; i < out->len; i++)
    g_ptr_array_add (splits, g_steal_pointer (&out->pdata[i]));
  g_ptr_array_set_free_func (out, NULL);
  return TRUE;
}

gboolean
ane_hf_pre_tokenizer_is_byte_level (const AneHfPreTokenizer *p)
{
  if (p == NULL)
    return FALSE;
  if (p->kind == PRE_SEQUENCE)
    {
      for (guint i = 0; i < p->children->len; i++)
        if (ane_hf_pre_tokenizer_is_byte_level (p->children->pdata[i]))
          return TRUE;
      return FALSE;
    }
  return p->kind == PRE_BYTE_LEVEL;
}
