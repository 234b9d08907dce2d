/* ane-tokenizer-hf-pattern.c: the String / Regex patterns of tokenizer.json splitters and replacers
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

struct _AneHfPattern
{
  char *literal;   /* {"String": ...} */
  GRegex *regex;   /* {"Regex": ...} */
};

void
ane_hf_pattern_free (AneHfPattern *p)
{
  if (p == NULL)
    return;
  g_free (p->literal);
  g_clear_pointer (&p->regex, g_regex_unref);
  g_free (p);
}

GRegex *
ane_hf_regex_new (const char  *pattern,
                  const char  *what,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GRegex *regex;

  /* G_REGEX_OPTIMIZE: PCRE2's JIT, several times faster on the
   * pre-tokenizer regexes, which run over every byte of the text. GLib
   * compiles with PCRE2_UTF and PCRE2_UCP (glib/gregex.c), so \s, \w and
   * \d are Unicode's, as in Oniguruma, which tokenizers uses. */
  regex = g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, &local_error);
  if (regex == NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the regular expression '%s' does not compile: %s",
                 what, pattern, local_error->message);
  return regex;
}

gboolean
ane_hf_pattern_parse (JsonNode      *node,
                      const char    *what,
                      AneHfPattern **out,
                      GError       **error)
{
  JsonObject *obj;
  JsonNode *value;
  const char *kind;
  g_autoptr(GList) members = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      json_object_get_size (obj = json_node_get_object (node)) != 1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s is not an object {\"String\": ...} or {\"Regex\": ...}", what);
      return FALSE;
    }
  members = json_object_get_members (obj);
  kind = members->data;
  value = json_object_get_member (obj, kind);
  if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.%s is not a string", what, kind);
      return FALSE;
    }
  if (g_str_equal (kind, "String"))
    {
      *out = g_new0 (AneHfPattern, 1);
      (*out)->literal = g_strdup (json_node_get_string (value));
      return TRUE;
    }
  if (g_str_equal (kind, "Regex"))
    {
      g_autofree char *field = g_strdup_printf ("%s.Regex", what);
      GRegex *regex = ane_hf_regex_new (json_node_get_string (value), field, error);

      if (regex == NULL)
        return FALSE;
      *out = g_new0 (AneHfPattern, 1);
      (*out)->regex = regex;
      return TRUE;
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: pattern kind '%s' is neither String nor Regex", what, kind);
  return FALSE;
}

/* memmem, which is not in C11 */
static const char *
find_literal (const char *text,
              gsize       len,
              const char *needle,
              gsize       nlen)
{
  for (const char *p = text; (gsize) (p - text) + nlen <= len; p++)
    {
      p = memchr (p, needle[0], len - nlen - (gsize) (p - text) + 1);
      if (p == NULL)
        return NULL;
      if (memcmp (p, needle, nlen) == 0)
        return p;
    }
  return NULL;
}

gboolean
ane_hf_regex_find (GRegex      *regex,
                   const char  *text,
                   gsize        len,
                   GArray      *ranges,
                   GError     **error)
{
  g_autoptr(GMatchInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;

  g_regex_match_full (regex, text, (gssize) len, 0, 0, &info, &local_error);
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
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "the regular expression '%s' failed: %s",
                   g_regex_get_pattern (regex), local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_hf_pattern_find (const AneHfPattern *p,
                     const char         *text,
                     gsize               len,
                     GArray             *ranges,
                     GError            **error)
{
  if (p->literal != NULL)
    {
      gsize plen = strlen (p->literal);

      /* an empty literal matches nothing (tokenizers yields no match) */
      if (plen == 0)
        return TRUE;
      for (gsize i = 0; i + plen <= len;)
        {
          const char *hit = find_literal (text + i, len - i, p->literal, plen);
          gsize start, end;

          if (hit == NULL)
            break;
          start = (gsize) (hit - text);
          end = start + plen;
          g_array_append_val (ranges, start);
          g_array_append_val (ranges, end);
          i = end;
        }
      return TRUE;
    }
  return ane_hf_regex_find (p->regex, text, len, ranges, error);
}

char *
ane_hf_pattern_replace (const AneHfPattern *p,
                        const char         *text,
                        gsize               len,
                        const char         *content,
                        gsize              *out_len)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (gsize));
  GString *out = g_string_sized_new (len);
  gsize prev = 0;

  /* a regex that fails to run (PCRE2's match limit) leaves the text as is */
  ane_hf_pattern_find (p, text, len, ranges, NULL);
  for (guint i = 0; i + 1 < ranges->len; i += 2)
    {
      gsize s = g_array_index (ranges, gsize, i), e = g_array_index (ranges, gsize, i + 1);

      g_string_append_len (out, text + prev, (gssize) (s - prev));
      g_string_append (out, content);
      prev = e;
    }
  g_string_append_len (out, text + prev, (gssize) (len - prev));
  *out_len = out->len;
  return g_string_free (out, FALSE);
}
