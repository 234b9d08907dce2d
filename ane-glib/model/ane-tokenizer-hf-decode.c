/* ane-tokenizer-hf-decode.c: tokenizer.json decoders
 *
 * The kinds and fields are tokenizers' (huggingface/tokenizers,
 * tokenizers/src/decoders/mod.rs DecoderWrapper; byte_level.rs,
 * byte_fallback.rs, fuse.rs, strip.rs, sequence.rs, and
 * pre_tokenizers/metaspace.rs for Metaspace). Unlike tokenizers, which turns
 * bytes into text with from_utf8_lossy inside ByteLevel and ByteFallback,
 * the chain here keeps raw bytes (a token may be one part of a character,
 * which streaming decoding needs whole); ane_tokenizer_decode_full()
 * repairs the result once at the end.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

typedef enum
{
  DEC_BYTE_LEVEL,
  DEC_REPLACE,
  DEC_BYTE_FALLBACK,
  DEC_FUSE,
  DEC_STRIP,
  DEC_METASPACE,
  DEC_SEQUENCE,
} DecKind;

struct _AneHfDecoder
{
  DecKind kind;
  AneHfPattern *pattern;     /* Replace */
  char *text;                /* Replace's content, Strip's content, Metaspace's replacement */
  gint64 start, stop;        /* Strip */
  gboolean strip_first;      /* Metaspace: prepend_scheme is not "never" */
  GPtrArray *children;       /* Sequence */
};

void
ane_hf_decoder_free (AneHfDecoder *d)
{
  if (d == NULL)
    return;
  ane_hf_pattern_free (d->pattern);
  g_free (d->text);
  g_clear_pointer (&d->children, g_ptr_array_unref);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneHfDecoder, ane_hf_decoder_free)

/* ane_hf_decoder_parse() for ane_hf_json_sequence() */
static gboolean
parse_child (JsonNode    *node,
             const char  *what,
             gpointer    *out,
             GError     **error)
{
  return ane_hf_decoder_parse (node, what, (AneHfDecoder **) out, error);
}

gboolean
ane_hf_decoder_parse (JsonNode       *node,
                      const char     *what,
                      AneHfDecoder  **out,
                      GError        **error)
{
  g_autoptr(AneHfDecoder) d = NULL;
  JsonObject *obj;
  const char *type;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = ane_hf_json_type (node, what, &obj, error);
  if (type == NULL)
    return FALSE;
  d = g_new0 (AneHfDecoder, 1);
  if (g_str_equal (type, "ByteLevel"))
    d->kind = DEC_BYTE_LEVEL;
  else if (g_str_equal (type, "ByteFallback"))
    d->kind = DEC_BYTE_FALLBACK;
  else if (g_str_equal (type, "Fuse"))
    d->kind = DEC_FUSE;
  else if (g_str_equal (type, "Replace"))
    {
      g_autofree char *field = g_strdup_printf ("%s.pattern", what);
      const char *content;

      d->kind = DEC_REPLACE;
      if (!ane_hf_pattern_parse (json_object_get_member (obj, "pattern"), field, &d->pattern, error) ||
          !ane_hf_json_string (obj, what, "content", NULL, &content, error))
        return FALSE;
      if (content == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.content is missing", what);
          return FALSE;
        }
      d->text = g_strdup (content);
    }
  else if (g_str_equal (type, "Strip"))
    {
      const char *content;

      d->kind = DEC_STRIP;
      if (!ane_hf_json_string (obj, what, "content", " ", &content, error) ||
          !ane_hf_json_int (obj, what, "start", 0, &d->start, error) ||
          !ane_hf_json_int (obj, what, "stop", 0, &d->stop, error))
        return FALSE;
      if (g_utf8_strlen (content, -1) != 1 || d->start < 0 || d->stop < 0)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: content '%s' is not one character, or start/stop is negative", what, content);
          return FALSE;
        }
      d->text = g_strdup (content);
    }
  else if (g_str_equal (type, "Metaspace"))
    {
      const char *replacement, *scheme;
      gboolean add_prefix_space;

      d->kind = DEC_METASPACE;
      if (!ane_hf_json_string (obj, what, "replacement", "\xe2\x96\x81", &replacement, error) ||
          !ane_hf_json_string (obj, what, "prepend_scheme", NULL, &scheme, error) ||
          !ane_hf_json_bool (obj, what, "add_prefix_space", TRUE, &add_prefix_space, error))
        return FALSE;
      if (g_utf8_strlen (replacement, -1) != 1)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.replacement '%s' is not one character", what,
                       replacement);
          return FALSE;
        }
      d->text = g_strdup (replacement);
      d->strip_first = scheme != NULL ? !g_str_equal (scheme, "never") : add_prefix_space;
    }
  else if (g_str_equal (type, "Sequence"))
    {
      d->kind = DEC_SEQUENCE;
      d->children = ane_hf_json_sequence (obj, what, "decoders", parse_child, (GDestroyNotify) ane_hf_decoder_free, error);
      if (d->children == NULL)
        return FALSE;
    }
  else
    {
      /* WordPiece, BPEDecoder, CTC: decoders of models not read here */
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: decoder type '%s' is not supported (ByteLevel, ByteFallback, Fuse, Replace, Strip, "
                   "Metaspace, Sequence)", what, type);
      return FALSE;
    }
  *out = g_steal_pointer (&d);
  return TRUE;
}

static void
fuse (GPtrArray *pieces)
{
  GString *all;

  if (pieces->len <= 1)
    return;
  all = g_string_new (NULL);
  for (guint i = 0; i < pieces->len; i++)
    {
      GString *p = pieces->pdata[i];
      g_string_append_len (all, p->str, (gssize) p->len);
    }
  g_ptr_array_set_size (pieces, 0);
  g_ptr_array_add (pieces, all);
}

static gboolean
byte_token (const GString *p,
            guint8        *byte)
{
  if (p->len != 6 || !g_str_has_prefix (p->str, "<0x") || p->str[5] != '>' ||
      !g_ascii_isxdigit (p->str[3]) || !g_ascii_isxdigit (p->str[4]))
    return FALSE;
  *byte = (guint8) ((g_ascii_xdigit_value (p->str[3]) << 4) | g_ascii_xdigit_value (p->str[4]));
  return TRUE;
}

void
ane_hf_decoder_apply (const AneHfDecoder *d,
                      GPtrArray          *pieces)
{
  if (d == NULL)
    {
      /* tokenizers without a decoder: the pieces joined by spaces
       * (tokenizer/mod.rs TokenizerImpl::decode) */
      for (guint i = 1; i < pieces->len; i++)
        g_string_prepend_c (pieces->pdata[i], ' ');
      fuse (pieces);
      return;
    }
  switch (d->kind)
    {
    case DEC_BYTE_LEVEL:
      for (guint i = 0; i < pieces->len; i++)
        {
          GString *p = pieces->pdata[i];
          g_autoptr(GString) bytes = g_string_sized_new (p->len);
          gboolean all = TRUE;

          /* a piece with a character outside the table (an added token
           * such as "<|im_end|>" is fine: ASCII printables stand for
           * themselves) is kept as it is (decoders/byte_level.rs) */
          for (const char *c = p->str; all && c < p->str + p->len; c = g_utf8_next_char (c))
            {
              int b = ane_hf_byte_level_byte (g_utf8_get_char (c));

              if (b < 0)
                all = FALSE;
              else
                g_string_append_c (bytes, (char) b);
            }
          if (all)
            {
              g_string_truncate (p, 0);
              g_string_append_len (p, bytes->str, (gssize) bytes->len);
            }
        }
      fuse (pieces);
      break;
    case DEC_REPLACE:
      for (guint i = 0; i < pieces->len; i++)
        {
          GString *p = pieces->pdata[i];
          gsize len;
          g_autofree char *r = ane_hf_pattern_replace (d->pattern, p->str, p->len, d->text, &len);

          g_string_truncate (p, 0);
          g_string_append_len (p, r, (gssize) len);
        }
      break;
    case DEC_BYTE_FALLBACK:
      for (guint i = 0; i < pieces->len; i++)
        {
          guint8 b;

          if (byte_token (pieces->pdata[i], &b))
            {
              GString *p = pieces->pdata[i];

              g_string_truncate (p, 0);
              g_string_append_len (p, (const char *) &b, 1);
            }
        }
      break;
    case DEC_FUSE:
      fuse (pieces);
      break;
    case DEC_STRIP:
      for (guint i = 0; i < pieces->len; i++)
        {
          GString *p = pieces->pdata[i];
          gsize clen = strlen (d->text), cut_start = 0, cut_end = 0;

          /* decoders/strip.rs: up to start copies of content at the
           * front, stop at the back */
          for (gint64 k = 0; k < d->start && cut_start + clen <= p->len &&
                             memcmp (p->str + cut_start, d->text, clen) == 0; k++)
            cut_start += clen;
          for (gint64 k = 0; k < d->stop && cut_start + cut_end + clen <= p->len &&
                             memcmp (p->str + p->len - cut_end - clen, d->text, clen) == 0; k++)
            cut_end += clen;
          g_string_truncate (p, p->len - cut_end);
          g_string_erase (p, 0, (gssize) cut_start);
        }
      break;
    case DEC_METASPACE:
      for (guint i = 0; i < pieces->len; i++)
        {
          GString *p = pieces->pdata[i];

          /* pre_tokenizers/metaspace.rs Decoder: the replacement becomes a
           * space, except in the first piece, where it goes */
          g_string_replace (p, d->text, i == 0 && d->strip_first ? "" : " ", 0);
        }
      break;
    case DEC_SEQUENCE:
      for (guint i = 0; i < d->children->len; i++)
        ane_hf_decoder_apply (d->children->pdata[i], pieces);
      break;
    default:
      g_assert_not_reached ();
    }
}

char *
ane_hf_utf8_lossy (const char *raw,
                   gsize       len)
{
  const guint8 *s = (const guint8 *) raw;
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len;)
    {
      guint8 c = s[i];
      gsize need, j;
      guint8 lo = 0x80, hi = 0xBF;

      if (c < 0x80)
        {
          g_string_append_c (out, (char) c);
          i++;
          continue;
        }
      /* Unicode 15 table 3-7, the well-formed byte sequences: the second
       * byte's range depends on the first */
      if (c >= 0xC2 && c <= 0xDF)
        need = 1;
      else if (c >= 0xE0 && c <= 0xEF)
        {
          need = 2;
          lo = c == 0xE0 ? 0xA0 : 0x80;
          hi = c == 0xED ? 0x9F : 0xBF;
        }
      else if (c >= 0xF0 && c <= 0xF4)
        {
          need = 3;
          lo = c == 0xF0 ? 0x90 : 0x80;
          hi = c == 0xF4 ? 0x8F : 0xBF;
        }
      else
        {
          g_string_append (out, "\xef\xbf\xbd");
          i++;
          continue;
        }
      for (j = 1; j <= need && i + j < len; j++)
        {
          guint8 b = s[i + j];

          if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xBF))
            break;
        }
      if (j > need)
        g_string_append_len (out, raw + i, (gssize) (need + 1));
      else
        /* the maximal subpart is one replacement character */
        g_string_append (out, "\xef\xbf\xbd");
      i += j > need ? need + 1 : j;
    }
  return g_string_free (out, FALSE);
}
