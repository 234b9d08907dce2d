/* ane-tokenizer-hf-normalize.c: tokenizer.json normalizers
 *
 * The kinds and their fields are tokenizers' (huggingface/tokenizers,
 * tokenizers/src/normalizers/mod.rs NormalizerWrapper; unicode.rs,
 * utils.rs, strip.rs, prepend.rs, replace.rs).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

typedef enum
{
  NORM_NFC,
  NORM_NFD,
  NORM_NFKC,
  NORM_NFKD,
  NORM_LOWERCASE,
  NORM_PREPEND,
  NORM_REPLACE,
  NORM_STRIP,
  NORM_STRIP_ACCENTS,
  NORM_SEQUENCE,
} NormKind;

struct _AneHfNormalizer
{
  NormKind kind;
  char *text;               /* Prepend's prepend, Replace's content */
  AneHfPattern *pattern;    /* Replace */
  gboolean left, right;     /* Strip */
  GPtrArray *children;      /* Sequence */
};

void
ane_hf_normalizer_free (AneHfNormalizer *n)
{
  if (n == NULL)
    return;
  g_free (n->text);
  ane_hf_pattern_free (n->pattern);
  g_clear_pointer (&n->children, g_ptr_array_unref);
  g_free (n);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneHfNormalizer, ane_hf_normalizer_free)

/* ane_hf_normalizer_parse() for ane_hf_json_sequence() */
static gboolean
parse_child (JsonNode    *node,
             const char  *what,
             gpointer    *out,
             GError     **error)
{
  return ane_hf_normalizer_parse (node, what, (AneHfNormalizer **) out, error);
}

gboolean
ane_hf_normalizer_parse (JsonNode          *node,
                         const char        *what,
                         AneHfNormalizer  **out,
                         GError           **error)
{
  g_autoptr(AneHfNormalizer) n = NULL;
  JsonObject *obj;
  const char *type;
  static const struct { const char *name; NormKind kind; } simple[] = {
    { "NFC", NORM_NFC }, { "NFD", NORM_NFD }, { "NFKC", NORM_NFKC }, { "NFKD", NORM_NFKD },
    { "Lowercase", NORM_LOWERCASE }, { "StripAccents", NORM_STRIP_ACCENTS },
  };

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = ane_hf_json_type (node, what, &obj, error);
  if (type == NULL)
    return FALSE;
  n = g_new0 (AneHfNormalizer, 1);
  for (guint i = 0; i < G_N_ELEMENTS (simple); i++)
    if (g_str_equal (type, simple[i].name))
      {
        n->kind = simple[i].kind;
        *out = g_steal_pointer (&n);
        return TRUE;
      }
  if (g_str_equal (type, "Prepend"))
    {
      const char *prepend;

      n->kind = NORM_PREPEND;
      if (!ane_hf_json_string (obj, what, "prepend", NULL, &prepend, error))
        return FALSE;
      if (prepend == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.prepend is missing", what);
          return FALSE;
        }
      n->text = g_strdup (prepend);
    }
  else if (g_str_equal (type, "Replace"))
    {
      g_autofree char *field = g_strdup_printf ("%s.pattern", what);
      const char *content;

      n->kind = NORM_REPLACE;
      if (!ane_hf_pattern_parse (json_object_get_member (obj, "pattern"), field, &n->pattern, error) ||
          !ane_hf_json_string (obj, what, "content", NULL, &content, error))
        return FALSE;
      if (content == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.content is missing", what);
          return FALSE;
        }
      n->text = g_strdup (content);
    }
  else if (g_str_equal (type, "Strip"))
    {
      n->kind = NORM_STRIP;
      if (!ane_hf_json_bool (obj, what, "strip_left", TRUE, &n->left, error) ||
          !ane_hf_json_bool (obj, what, "strip_right", TRUE, &n->right, error))
        return FALSE;
    }
  else if (g_str_equal (type, "Sequence"))
    {
      n->kind = NORM_SEQUENCE;
      n->children = ane_hf_json_sequence (obj, what, "normalizers", parse_child, (GDestroyNotify) ane_hf_normalizer_free, error);
      if (n->children == NULL)
        return FALSE;
    }
  else
    {
      /* BertNormalizer, Precompiled (a SentencePiece charsmap), NMT,
       * ByteLevel: not read */
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: normalizer type '%s' is not supported (NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, "
                   "Prepend, Replace, Strip, Sequence)", what, type);
      return FALSE;
    }
  *out = g_steal_pointer (&n);
  return TRUE;
}

static void
assign_take (GString *text,
             char    *s)
{
  g_string_assign (text, s);
  g_free (s);
}

/* A character before which the text can be cut without changing its
 * normalization: a starter that composes with nothing before it and that
 * every normalization form leaves as it is (ASCII, the CJK unified
 * ideographs, which have no decomposition and are in no composition pair:
 * Unicode's UnicodeData.txt and CompositionExclusions). */
static inline gboolean
safe_boundary (gunichar c)
{
  return c < 0x80 || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF);
}

static void
unicode_normalize (GString        *text,
                   GNormalizeMode  mode)
{
  GString *out;
  const char *p = text->str, *end = text->str + text->len;

  /* g_utf8_normalize copies its buffer as it composes, which is quadratic
   * in the length of what it is given (45% of the time encoding 1 MB):
   * it only gets the stretches between safe boundaries, and the rest is
   * copied as it is */
  out = g_string_sized_new (text->len);
  while (p < end)
    {
      const char *next = g_utf8_next_char (p), *q;
      char *s;

      if (safe_boundary (g_utf8_get_char (p)) && (next >= end || safe_boundary (g_utf8_get_char (next))))
        {
          g_string_append_len (out, p, next - p);
          p = next;
          continue;
        }
      for (q = next; q < end && !safe_boundary (g_utf8_get_char (q)); q = g_utf8_next_char (q))
        ;
      s = g_utf8_normalize (p, q - p, mode);
      /* NULL only for invalid UTF-8, which the caller has refused */
      if (s != NULL)
        g_string_append (out, s);
      g_free (s);
      p = q;
    }
  assign_take (text, g_string_free (out, FALSE));
}

void
ane_hf_normalizer_apply (const AneHfNormalizer *n,
                         GString               *text)
{
  if (n == NULL)
    return;
  switch (n->kind)
    {
    case NORM_NFC:
      unicode_normalize (text, G_NORMALIZE_NFC);
      break;
    case NORM_NFD:
      unicode_normalize (text, G_NORMALIZE_NFD);
      break;
    case NORM_NFKC:
      unicode_normalize (text, G_NORMALIZE_NFKC);
      break;
    case NORM_NFKD:
      unicode_normalize (text, G_NORMALIZE_NFKD);
      break;
    case NORM_LOWERCASE:
      assign_take (text, g_utf8_strdown (text->str, (gssize) text->len));
      break;
    case NORM_STRIP_ACCENTS:
      {
        /* normalizers/strip.rs: drop the non-spacing marks (Mn) */
        GString *out = g_string_sized_new (text->len);

        for (const char *p = text->str; *p != '\0'; p = g_utf8_next_char (p))
          {
            gunichar c = g_utf8_get_char (p);

            if (g_unichar_type (c) != G_UNICODE_NON_SPACING_MARK)
              g_string_append_unichar (out, c);
          }
        assign_take (text, g_string_free (out, FALSE));
      }
      break;
    case NORM_PREPEND:
      /* normalizers/prepend.rs: only non-empty text */
      if (text->len > 0)
        g_string_prepend (text, n->text);
      break;
    case NORM_REPLACE:
      {
        gsize len;

        assign_take (text, ane_hf_pattern_replace (n->pattern, text->str, text->len, n->text, &len));
      }
      break;
    case NORM_STRIP:
      {
        const char *start = text->str, *end = text->str + text->len;

        /* normalizers/strip.rs: char::is_whitespace, Unicode's White_Space */
        if (n->left)
          while (start < end && g_unichar_isspace (g_utf8_get_char (start)))
            start = g_utf8_next_char (start);
        if (n->right)
          while (end > start)
            {
              const char *prev = g_utf8_find_prev_char (start, end);

              if (prev == NULL || !g_unichar_isspace (g_utf8_get_char (prev)))
                break;
              end = prev;
            }
        g_string_truncate (text, (gsize) (end - text->str));
        g_string_erase (text, 0, start - text->str);
      }
      break;
    case NORM_SEQUENCE:
      for (guint i = 0; i < n->children->len; i++)
        ane_hf_normalizer_apply (n->children->pdata[i], text);
      break;
    default:
      g_assert_not_reached ();
    }
}
