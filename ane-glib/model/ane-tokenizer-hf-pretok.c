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

void
ane_hf_splits_init (AneHfSplits *splits,
                    const char  *text,
                    gsize        len,
                    gboolean     at_start)
{
  AneHfSpan span = { 0, len, at_start };

  splits->text = g_string_new_len (text, (gssize) len);
  splits->spans = g_array_new (FALSE, FALSE, sizeof (AneHfSpan));
  if (len > 0)
    g_array_append_val (splits->spans, span);
}

void
ane_hf_splits_clear (AneHfSplits *splits)
{
  if (splits->text != NULL)
    g_string_free (splits->text, TRUE);
  splits->text = NULL;
  g_clear_pointer (&splits->spans, g_array_unref);
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

/* ane_hf_pre_tokenizer_parse() for ane_hf_json_sequence() */
static gboolean
parse_child (JsonNode    *node,
             const char  *what,
             gpointer    *out,
             GError     **error)
{
  return ane_hf_pre_tokenizer_parse (node, what, (AneHfPreTokenizer **) out, error);
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
      p->kind = PRE_SEQUENCE;
      p->children = ane_hf_json_sequence (obj, what, "pretokenizers", parse_child, (GDestroyNotify) ane_hf_pre_tokenizer_free, error);
      if (p->children == NULL)
        return FALSE;
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

/* Appends @src (@n bytes) to @out as a new piece; with @byte_level, each
 * byte as its GPT-2 character. */
static void
append_span (AneHfSplits *out,
             const char  *src,
             gsize        n,
             gboolean     at_start,
             gboolean     byte_level)
{
  AneHfSpan span = { out->text->len, 0, at_start };

  if (byte_level)
    for (gsize j = 0; j < n; j++)
      g_string_append (out->text, byte_chars[(guint8) src[j]]);
  else
    g_string_append_len (out->text, src, (gssize) n);
  span.len = out->text->len - span.start;
  g_array_append_val (out->spans, span);
}

/* Splits @text (@len bytes) around @ranges (match start/end pairs, in
 * order) the way NormalizedString::split does for @behavior, appending the
 * non-empty results to @out. @pieces: scratch. */
static void
split_piece (const char *text,
             gsize       len,
             gboolean    at_start,
             GArray     *ranges,
             gboolean    invert,
             Behavior    behavior,
             gboolean    byte_level,
             GArray     *pieces,
             AneHfSplits *out)
{
  gsize prev = 0, kept_from;
  gboolean previous_match = FALSE;
  guint n;

  /* the covering list of (range, is_match) (tokenizers' Pattern::find_matches) */
  g_array_set_size (pieces, 0);
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
  n = pieces->len;
  if (invert)
    for (guint i = 0; i < n; i++)
      g_array_index (pieces, Piece, i).is_match = !g_array_index (pieces, Piece, i).is_match;

  /* the kept pieces go after the n pieces, in the same array */
  kept_from = n;
#define KEPT_LEN (pieces->len - kept_from)
#define KEPT(i) g_array_index (pieces, Piece, kept_from + (i))
  switch (behavior)
    {
    case BEHAVIOR_REMOVED:
      for (guint i = 0; i < n; i++)
        if (!g_array_index (pieces, Piece, i).is_match)
          {
            Piece p = g_array_index (pieces, Piece, i);
            g_array_append_val (pieces, p);
          }
      break;
    case BEHAVIOR_ISOLATED:
      for (guint i = 0; i < n; i++)
        {
          Piece p = g_array_index (pieces, Piece, i);
          g_array_append_val (pieces, p);
        }
      break;
    case BEHAVIOR_MERGED_WITH_PREVIOUS:
      for (guint i = 0; i < n; i++)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match && !previous_match && KEPT_LEN > 0)
            KEPT (KEPT_LEN - 1).end = p.end;
          else
            g_array_append_val (pieces, p);
          previous_match = p.is_match;
        }
      break;
    case BEHAVIOR_MERGED_WITH_NEXT:
      /* the same, walking backwards */
      for (guint i = n; i-- > 0;)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match && !previous_match && KEPT_LEN > 0)
            KEPT (KEPT_LEN - 1).start = p.start;
          else
            g_array_append_val (pieces, p);
          previous_match = p.is_match;
        }
      for (guint i = 0; i < KEPT_LEN / 2; i++)
        {
          Piece t = KEPT (i);
          KEPT (i) = KEPT (KEPT_LEN - 1 - i);
          KEPT (KEPT_LEN - 1 - i) = t;
        }
      break;
    case BEHAVIOR_CONTIGUOUS:
      for (guint i = 0; i < n; i++)
        {
          Piece p = g_array_index (pieces, Piece, i);

          if (p.is_match == previous_match && KEPT_LEN > 0)
            KEPT (KEPT_LEN - 1).end = p.end;
          else
            g_array_append_val (pieces, p);
          previous_match = p.is_match;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  for (guint i = 0; i < KEPT_LEN; i++)
    {
      Piece p = KEPT (i);

      if (p.end > p.start)
        append_span (out, text + p.start, p.end - p.start, at_start && p.start == 0, byte_level);
    }
#undef KEPT
#undef KEPT_LEN
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
char_ranges (const char    *text,
             gsize          len,
             CharPredicate  pred,
             GArray        *ranges)
{
  g_array_set_size (ranges, 0);
  for (const char *p = text; p < text + len; p = g_utf8_next_char (p))
    if (pred (g_utf8_get_char (p)))
      {
        gsize s = (gsize) (p - text), e = (gsize) (g_utf8_next_char (p) - text);

        g_array_append_val (ranges, s);
        g_array_append_val (ranges, e);
      }
}

/* Clears @ranges first: the pre-tokenizers reuse one array per split. */
static gboolean
regex_ranges (GRegex      *regex,
              const char  *text,
              gsize        len,
              GArray      *ranges,
              GError     **error)
{
  g_array_set_size (ranges, 0);
  return ane_hf_regex_find (regex, text, len, ranges, error);
}

typedef struct
{
  GArray *ranges;   /* gsize pairs */
  GArray *pieces;   /* Piece */
  GString *tmp;     /* a piece rewritten before it is split */
} Scratch;

static gboolean
pre_tokenize_one (const AneHfPreTokenizer *p,
                  const char              *text,
                  gsize                    len,
                  gboolean                 at_start,
                  Scratch                 *sc,
                  AneHfSplits             *out,
                  GError                 **error)
{
  switch (p->kind)
    {
    case PRE_BYTE_LEVEL:
      if (p->add_prefix_space && (len == 0 || text[0] != ' '))
        {
          g_string_assign (sc->tmp, " ");
          g_string_append_len (sc->tmp, text, (gssize) len);
          text = sc->tmp->str;
          len = sc->tmp->len;
        }
      if (p->regex != NULL)
        {
          if (!regex_ranges (p->regex, text, len, sc->ranges, error))
            return FALSE;
          split_piece (text, len, at_start, sc->ranges, FALSE, BEHAVIOR_ISOLATED, TRUE, sc->pieces, out);
        }
      else if (len > 0)
        append_span (out, text, len, at_start, TRUE);
      return TRUE;
    case PRE_SPLIT:
      g_array_set_size (sc->ranges, 0);
      if (!ane_hf_pattern_find (p->pattern, text, len, sc->ranges, error))
        return FALSE;
      split_piece (text, len, at_start, sc->ranges, p->invert, p->behavior, FALSE, sc->pieces, out);
      return TRUE;
    case PRE_METASPACE:
      {
        gunichar rc = g_utf8_get_char (p->replacement);
        gsize rlen = strlen (p->replacement);

        g_string_truncate (sc->tmp, 0);
        g_string_append_len (sc->tmp, text, (gssize) len);
        g_string_replace (sc->tmp, " ", p->replacement, 0);
        if ((p->prepend_scheme == PREPEND_ALWAYS || (p->prepend_scheme == PREPEND_FIRST && at_start)) &&
            !g_str_has_prefix (sc->tmp->str, p->replacement))
          g_string_prepend (sc->tmp, p->replacement);
        if (!p->split)
          {
            if (sc->tmp->len > 0)
              append_span (out, sc->tmp->str, sc->tmp->len, at_start, FALSE);
            return TRUE;
          }
        g_array_set_size (sc->ranges, 0);
        for (const char *c = sc->tmp->str; c < sc->tmp->str + sc->tmp->len; c = g_utf8_next_char (c))
          if (g_utf8_get_char (c) == rc)
            {
              gsize s = (gsize) (c - sc->tmp->str), e = s + rlen;

              g_array_append_val (sc->ranges, s);
              g_array_append_val (sc->ranges, e);
            }
        split_piece (sc->tmp->str, sc->tmp->len, at_start, sc->ranges, FALSE, BEHAVIOR_MERGED_WITH_NEXT, FALSE,
                     sc->pieces, out);
        return TRUE;
      }
    case PRE_DIGITS:
      char_ranges (text, len, is_numeric, sc->ranges);
      split_piece (text, len, at_start, sc->ranges, FALSE,
                   p->individual_digits ? BEHAVIOR_ISOLATED : BEHAVIOR_CONTIGUOUS, FALSE, sc->pieces, out);
      return TRUE;
    case PRE_WHITESPACE:
      if (!regex_ranges (p->regex, text, len, sc->ranges, error))
        return FALSE;
      split_piece (text, len, at_start, sc->ranges, TRUE, BEHAVIOR_REMOVED, FALSE, sc->pieces, out);
      return TRUE;
    case PRE_WHITESPACE_SPLIT:
      char_ranges (text, len, is_whitespace, sc->ranges);
      split_piece (text, len, at_start, sc->ranges, FALSE, BEHAVIOR_REMOVED, FALSE, sc->pieces, out);
      return TRUE;
    case PRE_PUNCTUATION:
      char_ranges (text, len, is_punctuation, sc->ranges);
      split_piece (text, len, at_start, sc->ranges, FALSE, p->behavior, FALSE, sc->pieces, out);
      return TRUE;
    case PRE_BERT:
      {
        /* pre_tokenizers/bert.rs: whitespace removed, then punctuation isolated */
        AneHfSplits words = { g_string_new (NULL), g_array_new (FALSE, FALSE, sizeof (AneHfSpan)) };

        char_ranges (text, len, is_whitespace, sc->ranges);
        split_piece (text, len, at_start, sc->ranges, FALSE, BEHAVIOR_REMOVED, FALSE, sc->pieces, &words);
        for (guint i = 0; i < words.spans->len; i++)
          {
            AneHfSpan w = g_array_index (words.spans, AneHfSpan, i);

            char_ranges (words.text->str + w.start, w.len, is_punctuation, sc->ranges);
            split_piece (words.text->str + w.start, w.len, w.at_start, sc->ranges, FALSE, BEHAVIOR_ISOLATED, FALSE,
                         sc->pieces, out);
          }
        ane_hf_splits_clear (&words);
        return TRUE;
      }
    case PRE_SEQUENCE:
    default:
      g_assert_not_reached ();
    }
}

gboolean
ane_hf_pre_tokenizer_apply (const AneHfPreTokenizer *p,
                            AneHfSplits             *splits,
                            GError                 **error)
{
  AneHfSplits out;
  Scratch sc;
  gboolean ok = TRUE;

  if (p == NULL)
    return TRUE;
  if (p->kind == PRE_SEQUENCE)
    {
      for (guint i = 0; i < p->children->len; i++)
        if (!ane_hf_pre_tokenizer_apply (p->children->pdata[i], splits, error))
          return FALSE;
      return TRUE;
    }
  init_byte_level_table ();
  out.text = g_string_sized_new (splits->text->len + splits->text->len / 2 + 16);
  out.spans = g_array_sized_new (FALSE, FALSE, sizeof (AneHfSpan), splits->spans->len + 16);
  sc.ranges = g_array_new (FALSE, FALSE, sizeof (gsize));
  sc.pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  sc.tmp = g_string_new (NULL);
  for (guint i = 0; ok && i < splits->spans->len; i++)
    {
      AneHfSpan span = g_array_index (splits->spans, AneHfSpan, i);

      ok = pre_tokenize_one (p, splits->text->str + span.start, span.len, span.at_start, &sc, &out, error);
    }
  g_array_unref (sc.ranges);
  g_array_unref (sc.pieces);
  g_string_free (sc.tmp, TRUE);
  if (!ok)
    {
      ane_hf_splits_clear (&out);
      return FALSE;
    }
  ane_hf_splits_clear (splits);
  *splits = out;
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
