/* ane-tokenizer-hf-json.c: a fast reader for the two big members of a tokenizer.json
 *
 * A tokenizer.json is nearly all model.vocab (an object of piece → id) and
 * model.merges (an array of "a b" strings or ["a", "b"] pairs): Qwen3's is
 * 11 MB with 151,643 pieces and 151,387 merges. json-glib builds a node per
 * value of those (half a second to parse and as long to free); this reader
 * scans the text once, decodes the strings of those two members straight
 * into arrays, and hands json-glib the rest (the added tokens, normalizer,
 * pre-tokenizer..., a few kilobytes) with the two values replaced by {}
 * and []. Anything it does not expect (a duplicate member, a number that is
 * not a plain integer, a malformed string) makes it give up, and the caller
 * parses the whole text with json-glib, which reports what is wrong: this
 * is a fast path, never the judge of a file.
 *
 * JSON per RFC 8259.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "model/ane-tokenizer-hf-private.h"

typedef struct
{
  const char *p, *end;
} Scan;

static void
skip_ws (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

static gboolean
expect (Scan *s,
        char  c)
{
  skip_ws (s);
  if (s->p >= s->end || *s->p != c)
    return FALSE;
  s->p++;
  return TRUE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);

      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* A string at s->p (after whitespace), decoded into @out (cleared first).
 * Strings with an escaped NUL or an unpaired surrogate are refused. */
static gboolean
read_string (Scan    *s,
             GString *out)
{
  skip_ws (s);
  if (s->p >= s->end || *s->p != '"')
    return FALSE;
  s->p++;
  g_string_truncate (out, 0);
  for (;;)
    {
      const char *start = s->p;

      while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (guchar) *s->p >= 0x20)
        s->p++;
      g_string_append_len (out, start, s->p - start);
      if (s->p >= s->end || (guchar) *s->p < 0x20)
        return FALSE;
      if (*s->p == '"')
        {
          s->p++;
          return TRUE;
        }
      /* an escape */
      if (s->end - s->p < 2)
        return FALSE;
      switch (s->p[1])
        {
        case '"': g_string_append_c (out, '"'); s->p += 2; break;
        case '\\': g_string_append_c (out, '\\'); s->p += 2; break;
        case '/': g_string_append_c (out, '/'); s->p += 2; break;
        case 'b': g_string_append_c (out, '\b'); s->p += 2; break;
        case 'f': g_string_append_c (out, '\f'); s->p += 2; break;
        case 'n': g_string_append_c (out, '\n'); s->p += 2; break;
        case 'r': g_string_append_c (out, '\r'); s->p += 2; break;
        case 't': g_string_append_c (out, '\t'); s->p += 2; break;
        case 'u':
          {
            int hi, lo;
            gunichar c;

            if (s->end - s->p < 6 || (hi = hex4 (s->p + 2)) <= 0)
              return FALSE;
            s->p += 6;
            c = (gunichar) hi;
            if (hi >= 0xD800 && hi <= 0xDBFF)
              {
                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
                    (lo = hex4 (s->p + 2)) < 0xDC00 || lo > 0xDFFF)
                  return FALSE;
                s->p += 6;
                c = 0x10000 + (((gunichar) hi - 0xD800) << 10) + ((gunichar) lo - 0xDC00);
              }
            else if (hi >= 0xDC00 && hi <= 0xDFFF)
              return FALSE;
            g_string_append_unichar (out, c);
          }
          break;
        default:
          return FALSE;
        }
    }
}

/* A non-negative integer id: digits only, no sign, fraction or exponent */
static gboolean
read_id (Scan   *s,
         gint64 *out)
{
  gint64 v = 0;
  const char *start;

  skip_ws (s);
  start = s->p;
  while (s->p < s->end && g_ascii_isdigit (*s->p) && s->p - start < 12)
    v = v * 10 + (*s->p++ - '0');
  if (s->p == start || s->p - start >= 12 || (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E')))
    return FALSE;
  *out = v;
  return TRUE;
}

/* Skips one value of any kind (json-glib checks it later). */
static gboolean
skip_value (Scan *s)
{
  guint depth = 0;

  skip_ws (s);
  do
    {
      if (s->p >= s->end)
        return FALSE;
      switch (*s->p)
        {
        case '"':
          s->p++;
          while (s->p < s->end && *s->p != '"')
            {
              if (*s->p == '\\' && s->end - s->p < 2)
                return FALSE;
              s->p += *s->p == '\\' ? 2 : 1;
            }
          if (s->p >= s->end)
            return FALSE;
          s->p++;
          break;
        case '{':
        case '[':
          depth++;
          s->p++;
          break;
        case '}':
        case ']':
          if (depth == 0)
            return FALSE;
          depth--;
          s->p++;
          break;
        default:
          s->p++;
          /* a scalar ends at a delimiter */
          if (depth == 0)
            {
              while (s->p < s->end && !strchr (",}] \n\r\t", *s->p))
                s->p++;
              return TRUE;
            }
        }
    }
  while (depth > 0);
  return TRUE;
}

/* The members of a JSON object or array between @open and @close, each read
 * by @item (with two scratch strings); TRUE when the list was well formed. */
static gboolean
read_list (Scan          *s,
           char           open,
           char           close,
           gboolean     (*item) (Scan *, AneHfBpeData *, GString *, GString *),
           AneHfBpeData  *data)
{
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);

  if (!expect (s, open))
    return FALSE;
  skip_ws (s);
  if (s->p < s->end && *s->p == close)
    {
      s->p++;
      return TRUE;
    }
  for (;;)
    {
      if (!item (s, data, a, b))
        return FALSE;
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        s->p++;
      else
        return expect (s, close);
    }
}

/* "piece": id, of model.vocab */
static gboolean
read_vocab_entry (Scan         *s,
                  AneHfBpeData *data,
                  GString      *key,
                  GString      *unused)
{
  gint64 id;

  if (!read_string (s, key) || !expect (s, ':') || !read_id (s, &id))
    return FALSE;
  g_ptr_array_add (data->pieces, g_strndup (key->str, key->len));
  g_array_append_val (data->ids, id);
  return TRUE;
}

/* ["a", "b"] or "a b", of model.merges */
static gboolean
read_merge_entry (Scan         *s,
                  AneHfBpeData *data,
                  GString      *a,
                  GString      *b)
{
  skip_ws (s);
  if (s->p < s->end && *s->p == '[')
    {
      s->p++;
      if (!read_string (s, a) || !expect (s, ',') || !read_string (s, b) || !expect (s, ']'))
        return FALSE;
      g_ptr_array_add (data->merges, g_strndup (a->str, a->len));
      g_ptr_array_add (data->merges, g_strndup (b->str, b->len));
    }
  else
    {
      const char *space;

      if (!read_string (s, a))
        return FALSE;
      /* "a b": exactly one space (else json-glib's path says so) */
      space = strchr (a->str, ' ');
      if (space == NULL || strchr (space + 1, ' ') != NULL || strlen (a->str) != a->len)
        return FALSE;
      g_ptr_array_add (data->merges, g_strndup (a->str, (gsize) (space - a->str)));
      g_ptr_array_add (data->merges, g_strdup (space + 1));
    }
  return TRUE;
}

gboolean
ane_hf_json_split_model (const char   *text,
                         gsize         len,
                         AneHfBpeData *data,
                         GString     **rest)
{
  g_auto(AneHfBpeData) found = { NULL, NULL, NULL };
  g_autoptr(GString) key = NULL;
  Scan s;
  const char *spans[2][2] = { { NULL, NULL }, { NULL, NULL } };  /* vocab, merges: [start, end) */
  gboolean seen_model = FALSE;
  GString *out;

  /* an empty file maps to NULL */
  if (text == NULL || len == 0)
    return FALSE;
  s.p = text;
  s.end = text + len;
  key = g_string_new (NULL);
  found.pieces = g_ptr_array_new_with_free_func (g_free);
  found.ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  found.merges = g_ptr_array_new_with_free_func (g_free);
  if (!expect (&s, '{'))
    return FALSE;
  for (;;)
    {
      if (!read_string (&s, key) || !expect (&s, ':'))
        return FALSE;
      if (g_str_equal (key->str, "model"))
        {
          if (seen_model || !expect (&s, '{'))
            return FALSE;
          seen_model = TRUE;
          for (;;)
            {
              if (!read_string (&s, key) || !expect (&s, ':'))
                return FALSE;
              skip_ws (&s);
              if (g_str_equal (key->str, "vocab") || g_str_equal (key->str, "merges"))
                {
                  int which = key->str[0] == 'v' ? 0 : 1;

                  if (spans[which][0] != NULL)
                    return FALSE;
                  spans[which][0] = s.p;
                  if (!(which == 0 ? read_list (&s, '{', '}', read_vocab_entry, &found)
                                 : read_list (&s, '[', ']', read_merge_entry, &found)))
                    return FALSE;
                  spans[which][1] = s.p;
                }
              else if (!skip_value (&s))
                return FALSE;
              skip_ws (&s);
              if (s.p < s.end && *s.p == ',')
                s.p++;
              else if (!expect (&s, '}'))
                return FALSE;
              else
                break;
            }
        }
      else if (!skip_value (&s))
        return FALSE;
      skip_ws (&s);
      if (s.p < s.end && *s.p == ',')
        s.p++;
      else if (!expect (&s, '}'))
        return FALSE;
      else
        break;
    }
  if (spans[0][0] == NULL)
    return FALSE;

  /* the text around the two values, which become {} and [] */
  out = g_string_sized_new (4096);
  {
    const char *p = text;
    int order[2] = { 0, 1 };

    if (spans[1][0] != NULL && spans[1][0] < spans[0][0])
      {
        order[0] = 1;
        order[1] = 0;
      }
    for (int k = 0; k < 2; k++)
      {
        int w = order[k];

        if (spans[w][0] == NULL)
          continue;
        g_string_append_len (out, p, spans[w][0] - p);
        g_string_append (out, w == 0 ? "{}" : "[]");
        p = spans[w][1];
      }
    g_string_append_len (out, p, text + len - p);
  }
  *data = found;
  found.pieces = NULL;
  found.ids = NULL;
  found.merges = NULL;
  *rest = out;
  return TRUE;
}
