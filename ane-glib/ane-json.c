/* ane-json.c: checks on JSON text before json-glib parses it
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-json-private.h"

gboolean
ane_json_check_depth (const char  *text,
                      gsize        length,
                      gsize        offset,
                      guint        max_depth,
                      const char  *what,
                      GError     **error)
{
  guint depth = 0;
  gboolean in_string = FALSE, escaped = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      /* RFC 8259, section 7: inside a string, '\' escapes the next
       * character (a '"' among them); brackets there are text. */
      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                           "%s: arrays and objects nest deeper than %u levels at byte %" G_GSIZE_FORMAT,
                           what, max_depth, offset + i);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
  return TRUE;
}
