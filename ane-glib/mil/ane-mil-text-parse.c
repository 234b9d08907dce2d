/* mil/ane-mil-text-parse.c: MIL text read back into a Program
 *
 * A hand-written lexer and recursive-descent parser for the grammar in
 * docs/mil-text.md. It builds the protobuf-c structs directly (g_malloc,
 * which is malloc here, so protobuf_c_message_free_unpacked frees them) and
 * keeps the text's order in every repeated field and map. Every error is
 * ANE_ERROR_PARSE "origin:line:column: message"; input of any bytes and any
 * length is rejected cleanly, and nesting is bounded so hostile text cannot
 * exhaust the stack.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mil/ane-mil-text-private.h"

#define MAX_DEPTH 64

typedef CoreML__Specification__MILSpec__Dimension   AneMilDim;

/* ---------------------------------------------------------------------- */
/* lexer                                                                  */
/* ---------------------------------------------------------------------- */

typedef enum {
  TOK_EOF,
  TOK_IDENT,     /* bare or `quoted`; text holds the name */
  TOK_STRING,    /* "..."; text holds the unescaped bytes */
  TOK_NUMBER,    /* unsigned numeric literal, text as written */
  TOK_ARROW,     /* -> */
  TOK_PUNCT,     /* one of ( ) [ ] { } < > , = ; ? * - + */
} TokKind;

typedef struct {
  TokKind kind;
  char    punct;
  char   *text;
  gsize   len;
  guint   line, col;
} Token;

typedef struct {
  const char      *src;
  gsize            len;
  gsize            pos;
  guint            line;
  gsize            line_start;
  const char      *origin;
  GError          *error;
  Token            tok;      /* current */
  Token            next;     /* one token of lookahead */
  gboolean         have_next;
  AneMilTextStyle  style;
} Parser;

static void
fail_at (Parser     *p,
         guint       line,
         guint       col,
         const char *format,
         ...) G_GNUC_PRINTF (4, 5);

static void
fail_at (Parser     *p,
         guint       line,
         guint       col,
         const char *format,
         ...)
{
  va_list ap;
  char *msg;

  if (p->error)
    return;
  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  p->error = g_error_new (ANE_ERROR, ANE_ERROR_PARSE, "%s:%u:%u: %s", p->origin, line, col, msg);
  g_free (msg);
}

#define fail(p, ...) fail_at ((p), (p)->tok.line, (p)->tok.col, __VA_ARGS__)

static const char *
tok_describe (const Token *t,
              char         buf[64])
{
  switch (t->kind)
    {
    case TOK_EOF:
      return "end of text";
    case TOK_ARROW:
      return "'->'";
    case TOK_PUNCT:
      g_snprintf (buf, 64, "'%c'", t->punct);
      return buf;
    case TOK_STRING:
      return "a string";
    case TOK_NUMBER:
    case TOK_IDENT:
      {
        /* Only printable ASCII of the token; quoted names may hold anything. */
        gsize n = 0;

        buf[n++] = '\'';
        for (gsize i = 0; i < t->len && n < 40; i++)
          buf[n++] = g_ascii_isprint (t->text[i]) ? t->text[i] : '?';
        if (t->len > 38)
          {
            memcpy (buf + n, "...", 3);
            n += 3;
          }
        buf[n++] = '\'';
        buf[n] = '\0';
        return buf;
      }
    default:
      return "?";
    }
}

static void
token_clear (Token *t)
{
  g_clear_pointer (&t->text, g_free);
  t->len = 0;
}

/* Reads a "..." or `...` body after the opening quote; FALSE on error. */
static gboolean
lex_quoted (Parser  *p,
            Token   *t,
            char     quote)
{
  GString *s = g_string_new (NULL);

  for (;;)
    {
      guchar c;

      if (p->pos >= p->len || p->src[p->pos] == '\n')
        {
          fail_at (p, t->line, t->col, quote == '"' ? "unterminated string" : "unterminated quoted name");
          g_string_free (s, TRUE);
          return FALSE;
        }
      c = (guchar) p->src[p->pos++];
      if (c == (guchar) quote)
        break;
      if (c == '\0')
        {
          fail_at (p, p->line, (guint) (p->pos - p->line_start), "NUL byte in a string");
          g_string_free (s, TRUE);
          return FALSE;
        }
      if (c == '\\')
        {
          guchar e = p->pos < p->len ? (guchar) p->src[p->pos++] : 0;

          switch (e)
            {
            case '"': case '\\': case '`': case '\'':
              g_string_append_c (s, (char) e);
              break;
            case 'n':
              g_string_append_c (s, '\n');
              break;
            case 't':
              g_string_append_c (s, '\t');
              break;
            case 'r':
              g_string_append_c (s, '\r');
              break;
            case 'x':
              {
                int hi = p->pos < p->len ? g_ascii_xdigit_value (p->src[p->pos]) : -1;
                int lo = p->pos + 1 < p->len ? g_ascii_xdigit_value (p->src[p->pos + 1]) : -1;

                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                  {
                    fail_at (p, p->line, (guint) (p->pos - p->line_start),
                             hi == 0 && lo == 0 ? "NUL byte in a string" : "\\x needs two hex digits");
                    g_string_free (s, TRUE);
                    return FALSE;
                  }
                g_string_append_c (s, (char) (hi * 16 + lo));
                p->pos += 2;
              }
              break;
            default:
              fail_at (p, p->line, (guint) (p->pos - p->line_start), "unknown escape in a string");
              g_string_free (s, TRUE);
              return FALSE;
            }
          continue;
        }
      g_string_append_c (s, (char) c);
    }
  t->len = s->len;
  t->text = g_string_free (s, FALSE);
  return TRUE;
}

static void
lex (Parser *p,
     Token  *t)
{
  t->text = NULL;
  t->len = 0;
  t->punct = 0;
  for (;;)
    {
      if (p->pos >= p->len)
        {
          t->kind = TOK_EOF;
          t->line = p->line;
          t->col = (guint) (p->pos - p->line_start) + 1;
          return;
        }
      if (p->src[p->pos] == '\n')
        {
          p->pos++;
          p->line++;
          p->line_start = p->pos;
        }
      else if (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' || p->src[p->pos] == '\r')
        p->pos++;
      else if (p->src[p->pos] == '/' && p->pos + 1 < p->len && p->src[p->pos + 1] == '/')
        {
          while (p->pos < p->len && p->src[p->pos] != '\n')
            p->pos++;
        }
      else
        break;
    }

  t->line = p->line;
  t->col = (guint) (p->pos - p->line_start) + 1;
  {
    const char *s = p->src + p->pos;
    guchar c = (guchar) *s;

    if (g_ascii_isalpha (c) || c == '_')
      {
        gsize n = 1;

        while (p->pos + n < p->len && (g_ascii_isalnum (s[n]) || s[n] == '_'))
          n++;
        t->kind = TOK_IDENT;
        t->text = g_strndup (s, n);
        t->len = n;
        p->pos += n;
      }
    else if (g_ascii_isdigit (c) || (c == '.' && p->pos + 1 < p->len && g_ascii_isdigit (s[1])))
      {
        /* Greedy: digits, letters, '.', and a sign right after an exponent
         * letter (1e-5, 0x1p+3); the value parser checks the form. */
        gsize n = 1;
        gboolean hex = c == '0' && p->pos + 1 < p->len && (s[1] == 'x' || s[1] == 'X');

        while (p->pos + n < p->len)
          {
            char d = s[n];

            if (g_ascii_isalnum (d) || d == '.' || d == '_')
              n++;
            else if ((d == '+' || d == '-') &&
                     ((hex && (s[n - 1] == 'p' || s[n - 1] == 'P')) ||
                      (!hex && (s[n - 1] == 'e' || s[n - 1] == 'E'))))
              n++;
            else
              break;
          }
        t->kind = TOK_NUMBER;
        t->text = g_strndup (s, n);
        t->len = n;
        p->pos += n;
      }
    else if (c == '"' || c == '`')
      {
        p->pos++;
        if (!lex_quoted (p, t, (char) c))
          {
            t->kind = TOK_EOF;
            return;
          }
        t->kind = c == '"' ? TOK_STRING : TOK_IDENT;
      }
    else if (c == '-' && p->pos + 1 < p->len && s[1] == '>')
      {
        t->kind = TOK_ARROW;
        p->pos += 2;
      }
    else if (strchr ("()[]{}<>,=;?*-+", c) && c != '\0')
      {
        t->kind = TOK_PUNCT;
        t->punct = (char) c;
        p->pos++;
      }
    else
      {
        if (g_ascii_isprint (c))
          fail_at (p, t->line, t->col, "unexpected character '%c'", c);
        else
          fail_at (p, t->line, t->col, "unexpected byte 0x%02x", c);
        t->kind = TOK_EOF;
        p->pos = p->len;
      }
  }
}

static void
advance (Parser *p)
{
  token_clear (&p->tok);
  if (p->have_next)
    {
      p->tok = p->next;
      p->have_next = FALSE;
      memset (&p->next, 0, sizeof p->next);
    }
  else
    lex (p, &p->tok);
}

static const Token *
peek (Parser *p)
{
  if (!p->have_next)
    {
      lex (p, &p->next);
      p->have_next = TRUE;
    }
  return &p->next;
}

static gboolean
is_punct (const Token *t,
          char         c)
{
  return t->kind == TOK_PUNCT && t->punct == c;
}

static gboolean
is_word (const Token *t,
         const char  *w)
{
  return t->kind == TOK_IDENT && strlen (w) == t->len && memcmp (t->text, w, t->len) == 0;
}

static gboolean
expect_punct (Parser     *p,
              char        c,
              const char *context)
{
  char buf[64];

  if (p->error)
    return FALSE;
  if (!is_punct (&p->tok, c))
    {
      if (c == ';')
        fail (p, "missing ';' %s (found %s)", context, tok_describe (&p->tok, buf));
      else
        fail (p, "expected '%c' %s, found %s", c, context, tok_describe (&p->tok, buf));
      return FALSE;
    }
  advance (p);
  return TRUE;
}

static gboolean
expect_word (Parser     *p,
             const char *w,
             const char *context)
{
  char buf[64];

  if (p->error)
    return FALSE;
  if (!is_word (&p->tok, w))
    {
      fail (p, "expected '%s' %s, found %s", w, context, tok_describe (&p->tok, buf));
      return FALSE;
    }
  advance (p);
  return TRUE;
}

/* Takes the current identifier (any name, bare or quoted). */
static char *
take_ident (Parser     *p,
            const char *what)
{
  char buf[64];
  char *s;

  if (p->error)
    return NULL;
  if (p->tok.kind != TOK_IDENT)
    {
      fail (p, "expected %s, found %s", what, tok_describe (&p->tok, buf));
      return NULL;
    }
  /* A bare name is never empty; a `quoted` one may be (and never holds a
   * NUL: the lexer refuses \x00). */
  s = p->tok.text;
  p->tok.text = NULL;
  advance (p);
  return s;
}

/* ---------------------------------------------------------------------- */
/* proto helpers                                                          */
/* ---------------------------------------------------------------------- */

static void
msg_free (gpointer m)
{
  if (m)
    protobuf_c_message_free_unpacked (m, NULL);
}

static gpointer
msg_new (const ProtobufCMessageDescriptor *desc)
{
  gpointer m = g_malloc0 (desc->sizeof_message);

  protobuf_c_message_init (desc, m);
  return m;
}

static gpointer
steal_array (GPtrArray *a,
             size_t    *n)
{
  *n = a->len;
  if (a->len == 0)
    {
      g_ptr_array_unref (a);
      return NULL;
    }
  return g_ptr_array_free (a, FALSE);
}

static GPtrArray *
msg_array_new (void)
{
  return g_ptr_array_new_with_free_func (msg_free);
}

/* Every *AttributesEntry has this layout (checked in ane-mil-text.c). */
typedef struct {
  ProtobufCMessage base;
  char            *key;
  AneMilValue     *value;
} AttrEntry;

static AneMilValueType *
copy_value_type (const AneMilValueType *vt)
{
  gsize n = protobuf_c_message_get_packed_size (&vt->base);
  guint8 *buf = g_malloc (n + 1);
  AneMilValueType *copy;

  protobuf_c_message_pack (&vt->base, buf);
  copy = core_ml__specification__milspec__value_type__unpack (NULL, n, buf);
  g_free (buf);
  return copy;
}

static AneMilDim *
dim_constant (guint64 size)
{
  AneMilDim *d = msg_new (&core_ml__specification__milspec__dimension__descriptor);

  d->dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
  d->constant = msg_new (&core_ml__specification__milspec__dimension__constant_dimension__descriptor);
  d->constant->size = size;
  return d;
}

static AneMilDim *
dim_unknown (gboolean variadic)
{
  AneMilDim *d = msg_new (&core_ml__specification__milspec__dimension__descriptor);

  d->dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN;
  d->unknown = msg_new (&core_ml__specification__milspec__dimension__unknown_dimension__descriptor);
  d->unknown->variadic = variadic;
  return d;
}

/* A rank-0 tensor type of dtype (the scalar of 1.3 text). */
static AneMilValueType *
scalar_type (int mil)
{
  AneMilValueType *vt = msg_new (&core_ml__specification__milspec__value_type__descriptor);

  vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  vt->tensortype = msg_new (&core_ml__specification__milspec__tensor_type__descriptor);
  vt->tensortype->datatype = mil;
  vt->tensortype->rank = 0;
  return vt;
}

/* ---------------------------------------------------------------------- */
/* types                                                                  */
/* ---------------------------------------------------------------------- */

static gboolean
is_type_word (const Token *t)
{
  return t->kind == TOK_IDENT &&
         (is_word (t, "tensor") || is_word (t, "state") || is_word (t, "list") ||
          is_word (t, "tuple") || is_word (t, "dict") ||
          ane_mil_text_dtype_by_name (t->text, t->len) != NULL);
}

/* A value starts here: a type word followed by '(' or '<'. */
static gboolean
at_value (Parser *p)
{
  const Token *n;

  if (!is_type_word (&p->tok))
    return FALSE;
  n = peek (p);
  return is_punct (n, '(') || is_punct (n, '<');
}

static gboolean
parse_uint64 (const char *s,
              gsize       len,
              guint64    *out)
{
  guint64 v = 0;

  if (len == 0)
    return FALSE;
  if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    {
      for (gsize i = 2; i < len; i++)
        {
          int d = g_ascii_xdigit_value (s[i]);

          if (d < 0 || v > G_MAXUINT64 >> 4)
            return FALSE;
          v = v * 16 + (guint) d;
        }
      *out = v;
      return TRUE;
    }
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      if (v > (G_MAXUINT64 - (guint) (s[i] - '0')) / 10)
        return FALSE;
      v = v * 10 + (guint) (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

static AneMilDim *
parse_dim (Parser *p)
{
  char buf[64];
  guint64 v;

  if (is_punct (&p->tok, '?'))
    {
      advance (p);
      return dim_unknown (FALSE);
    }
  if (is_punct (&p->tok, '*'))
    {
      advance (p);
      return dim_unknown (TRUE);
    }
  if (p->tok.kind == TOK_NUMBER && parse_uint64 (p->tok.text, p->tok.len, &v) &&
      !(p->tok.len > 1 && (p->tok.text[1] == 'x' || p->tok.text[1] == 'X')))
    {
      advance (p);
      return dim_constant (v);
    }
  fail (p, "expected a dimension (a size, '?' or '*'), found %s", tok_describe (&p->tok, buf));
  return NULL;
}

static gboolean parse_attrs (Parser *p, const ProtobufCMessageDescriptor *entry_desc,
                             size_t *n, void ***entries, guint depth);

static AneMilValueType *
parse_type (Parser *p,
            guint   depth)
{
  char buf[64];
  AneMilValueType *vt;
  const AneMilTextDType *dt;

  if (p->error)
    return NULL;
  if (depth > MAX_DEPTH)
    {
      fail (p, "types nest too deeply");
      return NULL;
    }
  if (p->tok.kind != TOK_IDENT)
    {
      fail (p, "expected a type, found %s", tok_describe (&p->tok, buf));
      return NULL;
    }
  dt = ane_mil_text_dtype_by_name (p->tok.text, p->tok.len);
  if (dt)
    {
      advance (p);
      return scalar_type (dt->mil);
    }

  vt = msg_new (&core_ml__specification__milspec__value_type__descriptor);
  if (is_word (&p->tok, "tensor"))
    {
      AneMilTensorType *tt = msg_new (&core_ml__specification__milspec__tensor_type__descriptor);

      vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
      vt->tensortype = tt;
      advance (p);
      if (!expect_punct (p, '<', "after 'tensor'"))
        goto error;
      if (p->tok.kind != TOK_IDENT)
        {
          fail (p, "expected a dtype, found %s", tok_describe (&p->tok, buf));
          goto error;
        }
      dt = ane_mil_text_dtype_by_name (p->tok.text, p->tok.len);
      if (dt == NULL)
        {
          fail (p, "unknown dtype %s", tok_describe (&p->tok, buf));
          goto error;
        }
      tt->datatype = dt->mil;
      advance (p);
      if (!expect_punct (p, ',', "after the dtype"))
        goto error;
      if (is_punct (&p->tok, '?'))
        {
          tt->rank = -1;
          advance (p);
        }
      else
        {
          GPtrArray *dims = msg_array_new ();

          if (!expect_punct (p, '[', "to open the shape"))
            {
              g_ptr_array_unref (dims);
              goto error;
            }
          while (!p->error && !is_punct (&p->tok, ']'))
            {
              AneMilDim *d;

              if (dims->len && !expect_punct (p, ',', "between dimensions"))
                break;
              d = parse_dim (p);
              if (d == NULL)
                break;
              g_ptr_array_add (dims, d);
            }
          tt->rank = dims->len;
          tt->dimensions = steal_array (dims, &tt->n_dimensions);
          if (!expect_punct (p, ']', "to close the shape"))
            goto error;
        }
      if (is_punct (&p->tok, ','))
        {
          advance (p);
          if (!parse_attrs (p, &core_ml__specification__milspec__tensor_type__attributes_entry__descriptor,
                            &tt->n_attributes, (void ***) &tt->attributes, depth + 1))
            goto error;
        }
      if (!expect_punct (p, '>', "to close the tensor type"))
        goto error;
    }
  else if (is_word (&p->tok, "state"))
    {
      vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
      vt->statetype = msg_new (&core_ml__specification__milspec__state_type__descriptor);
      advance (p);
      if (!expect_punct (p, '<', "after 'state'"))
        goto error;
      vt->statetype->wrappedtype = parse_type (p, depth + 1);
      if (!expect_punct (p, '>', "to close the state type"))
        goto error;
    }
  else if (is_word (&p->tok, "list"))
    {
      vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE;
      vt->listtype = msg_new (&core_ml__specification__milspec__list_type__descriptor);
      advance (p);
      if (!expect_punct (p, '<', "after 'list'"))
        goto error;
      vt->listtype->type = parse_type (p, depth + 1);
      if (!expect_punct (p, ',', "after the list's element type"))
        goto error;
      vt->listtype->length = parse_dim (p);
      if (!expect_punct (p, '>', "to close the list type"))
        goto error;
    }
  else if (is_word (&p->tok, "tuple"))
    {
      GPtrArray *types = msg_array_new ();

      vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE;
      vt->tupletype = msg_new (&core_ml__specification__milspec__tuple_type__descriptor);
      advance (p);
      if (expect_punct (p, '<', "after 'tuple'"))
        while (!p->error && !is_punct (&p->tok, '>'))
          {
            AneMilValueType *t;

            if (types->len && !expect_punct (p, ',', "between tuple types"))
              break;
            t = parse_type (p, depth + 1);
            if (t == NULL)
              break;
            g_ptr_array_add (types, t);
          }
      vt->tupletype->types = steal_array (types, &vt->tupletype->n_types);
      if (!expect_punct (p, '>', "to close the tuple type"))
        goto error;
    }
  else if (is_word (&p->tok, "dict"))
    {
      vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE;
      vt->dictionarytype = msg_new (&core_ml__specification__milspec__dictionary_type__descriptor);
      advance (p);
      if (!expect_punct (p, '<', "after 'dict'"))
        goto error;
      vt->dictionarytype->keytype = parse_type (p, depth + 1);
      if (!expect_punct (p, ',', "after the dict's key type"))
        goto error;
      vt->dictionarytype->valuetype = parse_type (p, depth + 1);
      if (!expect_punct (p, '>', "to close the dict type"))
        goto error;
    }
  else
    {
      fail (p, "unknown type %s", tok_describe (&p->tok, buf));
      goto error;
    }
  if (p->error)
    goto error;
  return vt;

error:
  msg_free (vt);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* values                                                                 */
/* ---------------------------------------------------------------------- */

static AneMilValue *parse_value (Parser *p, guint depth);

/* One element of a tensor literal, as bits (floats) or a 64-bit integer. */
static gboolean
parse_scalar (Parser                *p,
              const AneMilTextDType *dt,
              GArray                *ints,
              GPtrArray             *strings)
{
  char buf[64];
  gboolean neg = FALSE;
  guint line = p->tok.line, col = p->tok.col;

  if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING)
    {
      if (p->tok.kind != TOK_STRING)
        {
          fail (p, "expected a string literal, found %s", tok_describe (&p->tok, buf));
          return FALSE;
        }
      g_ptr_array_add (strings, p->tok.text);
      p->tok.text = NULL;
      advance (p);
      return TRUE;
    }
  if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL)
    {
      guint64 v;

      if (is_word (&p->tok, "true"))
        v = 1;
      else if (is_word (&p->tok, "false"))
        v = 0;
      else
        {
          fail (p, "expected true or false, found %s", tok_describe (&p->tok, buf));
          return FALSE;
        }
      g_array_append_val (ints, v);
      advance (p);
      return TRUE;
    }

  if (is_punct (&p->tok, '-') || is_punct (&p->tok, '+'))
    {
      neg = p->tok.punct == '-';
      advance (p);
    }

  if (ane_mil_text_dtype_is_float (dt->mil))
    {
      guint64 bits;
      guint64 sign = G_GUINT64_CONSTANT (1) << (dt->bits - 1);

      if (is_word (&p->tok, "inf"))
        {
          bits = ane_mil_text_float_to_bits (neg ? -INFINITY : INFINITY, dt->mil);
          advance (p);
        }
      else if (is_word (&p->tok, "nan"))
        {
          advance (p);
          if (is_punct (&p->tok, '('))
            {
              advance (p);
              if (p->tok.kind != TOK_NUMBER || !parse_uint64 (p->tok.text, p->tok.len, &bits) ||
                  (dt->bits < 64 && bits >> dt->bits) ||
                  !isnan (ane_mil_text_float_from_bits (bits, dt->mil)))
                {
                  fail (p, "nan(...) needs the bits of a %s NaN", dt->name);
                  return FALSE;
                }
              advance (p);
              if (!expect_punct (p, ')', "after the NaN bits"))
                return FALSE;
              if (neg)
                bits ^= sign;
            }
          else
            bits = ane_mil_text_canonical_nan (dt->mil) | (neg ? sign : 0);
        }
      else if (p->tok.kind == TOK_NUMBER)
        {
          char *end = NULL;
          double d = g_ascii_strtod (p->tok.text, &end);

          if (end != p->tok.text + p->tok.len)
            {
              fail_at (p, line, col, "bad %s literal %s", dt->name, tok_describe (&p->tok, buf));
              return FALSE;
            }
          bits = ane_mil_text_float_to_bits (neg ? -d : d, dt->mil);
          advance (p);
        }
      else
        {
          fail (p, "expected a %s number, found %s", dt->name, tok_describe (&p->tok, buf));
          return FALSE;
        }
      g_array_append_val (ints, bits);
      return TRUE;
    }

  /* integers */
  {
    guint64 mag, v;
    gboolean is_signed = ane_mil_text_dtype_is_signed (dt->mil);
    guint64 max = dt->bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << dt->bits) - 1;

    if (p->tok.kind != TOK_NUMBER || !parse_uint64 (p->tok.text, p->tok.len, &mag))
      {
        fail (p, "expected a %s integer, found %s", dt->name, tok_describe (&p->tok, buf));
        return FALSE;
      }
    if (is_signed)
      {
        guint64 limit = (G_GUINT64_CONSTANT (1) << (dt->bits - 1));   /* |min| */

        if ((neg && mag > limit) || (!neg && mag > limit - 1))
          {
            fail_at (p, line, col, "%s%s is out of range for %s", neg ? "-" : "", p->tok.text, dt->name);
            return FALSE;
          }
        v = neg ? (guint64) 0 - mag : mag;
      }
    else
      {
        if ((neg && mag != 0) || mag > max)
          {
            fail_at (p, line, col, "%s%s is out of range for %s", neg ? "-" : "", p->tok.text, dt->name);
            return FALSE;
          }
        v = mag;
      }
    g_array_append_val (ints, v);
    advance (p);
    return TRUE;
  }
}

/* Elements of a tensor literal: one element or [e, e, ...], brackets may
 * nest (they are flattened in order). */
static gboolean
parse_tensor_elements (Parser                *p,
                       const AneMilTextDType *dt,
                       GArray                *ints,
                       GPtrArray             *strings,
                       guint                  depth)
{
  gboolean first = TRUE;

  if (depth > MAX_DEPTH)
    {
      fail (p, "tensor literal nests too deeply");
      return FALSE;
    }
  if (!is_punct (&p->tok, '['))
    return parse_scalar (p, dt, ints, strings);
  advance (p);
  while (!p->error && !is_punct (&p->tok, ']'))
    {
      if (!first && !expect_punct (p, ',', "between tensor elements"))
        return FALSE;
      first = FALSE;
      if (!parse_tensor_elements (p, dt, ints, strings, depth + 1))
        return FALSE;
    }
  return expect_punct (p, ']', "to close the tensor literal");
}

static AneMilTensorValue *
build_tensor_value (const AneMilTextDType *dt,
                    GArray                *ints,
                    GPtrArray             *strings)
{
  AneMilTensorValue *tv = msg_new (&core_ml__specification__milspec__tensor_value__descriptor);
  const guint64 *v = (const guint64 *) (void *) ints->data;
  gsize n = ints->len;

  switch (dt->mil)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING:
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
      tv->strings = msg_new (&core_ml__specification__milspec__tensor_value__repeated_strings__descriptor);
      {
        gsize len = 0;
        char **vals = (char **) g_ptr_array_steal (strings, &len);

        tv->strings->n_values = len;
        tv->strings->values = vals;
        if (len == 0)
          {
            g_free (vals);
            tv->strings->values = NULL;
          }
      }
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL:
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS;
      tv->bools = msg_new (&core_ml__specification__milspec__tensor_value__repeated_bools__descriptor);
      tv->bools->n_values = n;
      tv->bools->values = n ? g_new (protobuf_c_boolean, n) : NULL;
      for (gsize i = 0; i < n; i++)
        tv->bools->values[i] = v[i] != 0;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32:
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS;
      tv->floats = msg_new (&core_ml__specification__milspec__tensor_value__repeated_floats__descriptor);
      tv->floats->n_values = n;
      tv->floats->values = n ? g_new (float, n) : NULL;
      for (gsize i = 0; i < n; i++)
        {
          guint32 b = (guint32) v[i];

          memcpy (&tv->floats->values[i], &b, 4);
        }
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64:
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES;
      tv->doubles = msg_new (&core_ml__specification__milspec__tensor_value__repeated_doubles__descriptor);
      tv->doubles->n_values = n;
      tv->doubles->values = n ? g_new (double, n) : NULL;
      for (gsize i = 0; i < n; i++)
        memcpy (&tv->doubles->values[i], &v[i], 8);
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64:
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS;
      tv->longints = msg_new (&core_ml__specification__milspec__tensor_value__repeated_long_ints__descriptor);
      tv->longints->n_values = n;
      tv->longints->values = n ? g_new (int64_t, n) : NULL;
      for (gsize i = 0; i < n; i++)
        tv->longints->values[i] = (int64_t) v[i];
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32:
      /* As coremltools writes them (and Apple's reader reads them). */
      tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS;
      tv->ints = msg_new (&core_ml__specification__milspec__tensor_value__repeated_ints__descriptor);
      tv->ints->n_values = n;
      tv->ints->values = n ? g_new (int32_t, n) : NULL;
      for (gsize i = 0; i < n; i++)
        tv->ints->values[i] = (int32_t) (gint64) v[i];
      break;
    default:
      {
        /* fp16, bf16, fp8, int8, uint8, uint32 and the sub-byte types:
         * little-endian bytes, sub-byte elements packed LSB first. */
        gsize size = (n * dt->bits + 7) / 8;
        guint8 *data = g_malloc0 (MAX (size, 1));

        for (gsize i = 0; i < n; i++)
          {
            if (dt->bits >= 8)
              for (guint b = 0; b < dt->bits / 8; b++)
                data[i * (dt->bits / 8) + b] = (guint8) (v[i] >> (8 * b));
            else
              for (guint b = 0; b < dt->bits; b++)
                if ((v[i] >> b) & 1)
                  {
                    gsize bit = i * dt->bits + b;

                    data[bit / 8] |= (guint8) (1u << (bit % 8));
                  }
          }
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
        tv->bytes = msg_new (&core_ml__specification__milspec__tensor_value__repeated_bytes__descriptor);
        tv->bytes->values.len = size;
        tv->bytes->values.data = data;
      }
      break;
    }
  return tv;
}

static AneMilValue *parse_element (Parser *p, const AneMilValueType *declared, guint depth);

static gboolean
parse_blobfile (Parser      *p,
                AneMilValue *v,
                guint        depth)
{
  AneMilValue *path = NULL, *offset = NULL;
  const AneMilTensorType *tt;
  guint line, col;
  gboolean ok = FALSE;

  if (v->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    {
      fail (p, "BLOBFILE needs a tensor type");
      return FALSE;
    }
  advance (p);
  if (!expect_punct (p, '(', "after BLOBFILE") || !expect_word (p, "path", "in BLOBFILE") ||
      !expect_punct (p, '=', "after 'path'"))
    return FALSE;
  line = p->tok.line;
  col = p->tok.col;
  path = parse_value (p, depth + 1);
  if (path == NULL)
    goto out;
  tt = path->type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ? path->type->tensortype : NULL;
  if (tt == NULL || tt->datatype != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING || tt->rank != 0 ||
      path->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE)
    {
      fail_at (p, line, col, "BLOBFILE path must be a string scalar");
      goto out;
    }
  if (!expect_punct (p, ',', "after the BLOBFILE path") || !expect_word (p, "offset", "in BLOBFILE") ||
      !expect_punct (p, '=', "after 'offset'"))
    goto out;
  line = p->tok.line;
  col = p->tok.col;
  offset = parse_value (p, depth + 1);
  if (offset == NULL)
    goto out;
  tt = offset->type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ? offset->type->tensortype : NULL;
  if (tt == NULL || tt->datatype != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64 || tt->rank != 0 ||
      offset->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE)
    {
      fail_at (p, line, col, "bad BLOBFILE offset: it must be a uint64 scalar");
      goto out;
    }
  if (!expect_punct (p, ')', "to close BLOBFILE"))
    goto out;

  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE;
  v->blobfilevalue = msg_new (&core_ml__specification__milspec__value__blob_file_value__descriptor);
  v->blobfilevalue->filename = g_strdup (path->immediatevalue->tensor->strings->values[0]);
  v->blobfilevalue->offset = (guint64) offset->immediatevalue->tensor->longints->values[0];
  ok = TRUE;

out:
  msg_free (path);
  msg_free (offset);
  return ok;
}

/* The literal inside TYPE( ... ) for v->type; sets v's value. */
static gboolean
parse_body (Parser      *p,
            AneMilValue *v,
            guint        depth)
{
  const AneMilValueType *type = v->type;
  CoreML__Specification__MILSpec__Value__ImmediateValue *iv;
  char buf[64];

  if (depth > MAX_DEPTH)
    {
      fail (p, "values nest too deeply");
      return FALSE;
    }
  if (is_word (&p->tok, "BLOBFILE"))
    return parse_blobfile (p, v, depth);
  if (is_punct (&p->tok, ')'))
    return TRUE;                        /* a type with no value */

  iv = msg_new (&core_ml__specification__milspec__value__immediate_value__descriptor);
  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
  v->immediatevalue = iv;

  switch (type->type_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE:
      {
        const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (type->tensortype->datatype);
        GArray *ints = g_array_new (FALSE, FALSE, sizeof (guint64));
        GPtrArray *strings = g_ptr_array_new_with_free_func (g_free);
        gint64 expected = ane_mil_text_shape_elements (type->tensortype);
        guint line = p->tok.line, col = p->tok.col;
        gboolean ok = parse_tensor_elements (p, dt, ints, strings, depth);
        gsize n = dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING ? strings->len : ints->len;

        if (ok && expected >= 0 && (guint64) expected != n)
          {
            fail_at (p, line, col, "the tensor literal has %zu elements; its shape holds %" G_GINT64_FORMAT,
                     n, expected);
            ok = FALSE;
          }
        if (ok)
          {
            iv->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
            iv->tensor = build_tensor_value (dt, ints, strings);
          }
        g_array_unref (ints);
        g_ptr_array_unref (strings);
        return ok;
      }
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE:
      {
        GPtrArray *values = msg_array_new ();
        const CoreML__Specification__MILSpec__TupleType *tt = type->tupletype;
        guint line = p->tok.line, col = p->tok.col;

        iv->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TUPLE;
        iv->tuple = msg_new (&core_ml__specification__milspec__tuple_value__descriptor);
        if (expect_punct (p, '(', "to open the tuple value"))
          while (!p->error && !is_punct (&p->tok, ')'))
            {
              AneMilValue *e;

              if (values->len && !expect_punct (p, ',', "between tuple elements"))
                break;
              if (values->len >= tt->n_types)
                {
                  fail_at (p, line, col, "mismatched tuple: more elements than the %zu types of its tuple type",
                           tt->n_types);
                  break;
                }
              e = parse_element (p, tt->types[values->len], depth + 1);
              if (e == NULL)
                break;
              g_ptr_array_add (values, e);
            }
        if (!p->error && values->len != tt->n_types)
          fail_at (p, line, col, "mismatched tuple: %u elements for a tuple type of %zu",
                   values->len, tt->n_types);
        iv->tuple->values = steal_array (values, &iv->tuple->n_values);
        return expect_punct (p, ')', "to close the tuple value");
      }
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE:
      {
        GPtrArray *values = msg_array_new ();

        iv->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST;
        iv->list = msg_new (&core_ml__specification__milspec__list_value__descriptor);
        if (expect_punct (p, '[', "to open the list value"))
          while (!p->error && !is_punct (&p->tok, ']'))
            {
              AneMilValue *e;

              if (values->len && !expect_punct (p, ',', "between list elements"))
                break;
              e = parse_element (p, type->listtype->type, depth + 1);
              if (e == NULL)
                break;
              g_ptr_array_add (values, e);
            }
        iv->list->values = steal_array (values, &iv->list->n_values);
        return expect_punct (p, ']', "to close the list value");
      }
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE:
      {
        GPtrArray *pairs = msg_array_new ();

        iv->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_DICTIONARY;
        iv->dictionary = msg_new (&core_ml__specification__milspec__dictionary_value__descriptor);
        if (expect_punct (p, '{', "to open the dict value"))
          while (!p->error && !is_punct (&p->tok, '}'))
            {
              CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *kv;

              if (pairs->len && !expect_punct (p, ',', "between dict entries"))
                break;
              if (!expect_punct (p, '{', "to open a dict entry"))
                break;
              kv = msg_new (&core_ml__specification__milspec__dictionary_value__key_value_pair__descriptor);
              g_ptr_array_add (pairs, kv);
              kv->key = parse_element (p, type->dictionarytype->keytype, depth + 1);
              if (!expect_punct (p, ',', "between a dict key and its value"))
                break;
              kv->value = parse_element (p, type->dictionarytype->valuetype, depth + 1);
              if (!expect_punct (p, '}', "to close a dict entry"))
                break;
            }
        iv->dictionary->values = steal_array (pairs, &iv->dictionary->n_values);
        return expect_punct (p, '}', "to close the dict value");
      }
    default:
      fail (p, "a value of this type cannot be written (found %s)", tok_describe (&p->tok, buf));
      return FALSE;
    }
}

static gboolean
parse_doc (Parser  *p,
           char   **doc)
{
  char buf[64];

  advance (p);                          /* doc */
  if (!expect_punct (p, '(', "after 'doc'"))
    return FALSE;
  if (p->tok.kind != TOK_STRING)
    {
      fail (p, "expected a string, found %s", tok_describe (&p->tok, buf));
      return FALSE;
    }
  g_free (*doc);
  *doc = p->tok.text;
  p->tok.text = NULL;
  advance (p);
  return expect_punct (p, ')', "to close doc(...)");
}

/* TYPE "(" body ")" [doc("...")] */
static AneMilValue *
parse_value (Parser *p,
             guint   depth)
{
  AneMilValue *v;

  if (p->error)
    return NULL;
  if (depth > MAX_DEPTH)
    {
      fail (p, "values nest too deeply");
      return NULL;
    }
  v = msg_new (&core_ml__specification__milspec__value__descriptor);
  v->docstring = g_strdup ("");
  v->type = parse_type (p, depth + 1);
  if (v->type == NULL)
    goto error;
  if (!expect_punct (p, '(', "after the value's type"))
    goto error;
  if (!parse_body (p, v, depth + 1))
    goto error;
  if (!expect_punct (p, ')', "to close the value"))
    goto error;
  if (is_word (&p->tok, "doc") && is_punct (peek (p), '(') && !parse_doc (p, &v->docstring))
    goto error;
  return v;

error:
  msg_free (v);
  return NULL;
}

/* An element of a tuple, list or dict: a whole value, or a bare literal of
 * the declared type. */
static AneMilValue *
parse_element (Parser                *p,
               const AneMilValueType *declared,
               guint                  depth)
{
  AneMilValue *v;

  if (p->error)
    return NULL;
  if (at_value (p) || declared == NULL)
    return parse_value (p, depth);
  v = msg_new (&core_ml__specification__milspec__value__descriptor);
  v->docstring = g_strdup ("");
  v->type = copy_value_type (declared);
  if (v->type == NULL || !parse_body (p, v, depth + 1))
    {
      if (v->type == NULL)
        fail (p, "cannot copy a type");
      msg_free (v);
      return NULL;
    }
  return v;
}

/* "[" [name "=" value {"," name "=" value}] "]" into *AttributesEntry. */
static gboolean
parse_attrs (Parser                           *p,
             const ProtobufCMessageDescriptor *entry_desc,
             size_t                           *n,
             void                           ***entries,
             guint                             depth)
{
  GPtrArray *list = msg_array_new ();

  if (!expect_punct (p, '[', "to open attributes"))
    {
      g_ptr_array_unref (list);
      return FALSE;
    }
  while (!p->error && !is_punct (&p->tok, ']'))
    {
      AttrEntry *e;

      if (list->len && !expect_punct (p, ',', "between attributes"))
        break;
      e = msg_new (entry_desc);
      g_ptr_array_add (list, e);
      e->key = take_ident (p, "an attribute name");
      if (!expect_punct (p, '=', "after the attribute name"))
        break;
      e->value = parse_value (p, depth + 1);
    }
  if (!p->error)
    expect_punct (p, ']', "to close attributes");
  if (p->error)
    {
      g_ptr_array_unref (list);
      return FALSE;
    }
  *entries = steal_array (list, n);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* blocks and operations                                                  */
/* ---------------------------------------------------------------------- */

static AneMilNamedValueType *
parse_named_type (Parser *p)
{
  AneMilNamedValueType *nvt = msg_new (&core_ml__specification__milspec__named_value_type__descriptor);

  nvt->type = parse_type (p, 0);
  nvt->name = take_ident (p, "a name after the type");
  if (p->error)
    {
      msg_free (nvt);
      return NULL;
    }
  return nvt;
}

/* "(" [type name {"," type name}] ")" */
static gboolean
parse_params (Parser  *p,
              size_t  *n,
              AneMilNamedValueType ***out)
{
  GPtrArray *list = msg_array_new ();

  if (expect_punct (p, '(', "to open the inputs"))
    while (!p->error && !is_punct (&p->tok, ')'))
      {
        AneMilNamedValueType *nvt;

        if (list->len && !expect_punct (p, ',', "between inputs"))
          break;
        nvt = parse_named_type (p);
        if (nvt == NULL)
          break;
        g_ptr_array_add (list, nvt);
      }
  if (!p->error)
    expect_punct (p, ')', "to close the inputs");
  if (p->error)
    {
      g_ptr_array_unref (list);
      return FALSE;
    }
  *out = steal_array (list, n);
  return TRUE;
}

static AneMilBlock *parse_block (Parser *p, guint depth);

/* name "=" (binding | "(" [binding {"," binding}] ")") */
static CoreML__Specification__MILSpec__Operation__InputsEntry *
parse_argument (Parser *p,
                guint   depth)
{
  CoreML__Specification__MILSpec__Operation__InputsEntry *e =
    msg_new (&core_ml__specification__milspec__operation__inputs_entry__descriptor);
  GPtrArray *bindings = msg_array_new ();
  gboolean group;

  e->value = msg_new (&core_ml__specification__milspec__argument__descriptor);
  e->key = take_ident (p, "an argument name");
  if (!expect_punct (p, '=', "after the argument name"))
    goto out;
  group = is_punct (&p->tok, '(');
  if (group)
    advance (p);
  while (!p->error)
    {
      AneMilBinding *b;

      if (group && is_punct (&p->tok, ')'))
        break;
      if (group && bindings->len && !expect_punct (p, ',', "between the values of a tuple argument"))
        break;
      b = msg_new (&core_ml__specification__milspec__argument__binding__descriptor);
      g_ptr_array_add (bindings, b);
      if (at_value (p))
        {
          b->binding_case = CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE;
          b->value = parse_value (p, depth + 1);
        }
      else
        {
          b->binding_case = CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME;
          b->name = take_ident (p, "a value name or a value");
        }
      if (!group)
        break;
    }
  if (group && !p->error)
    expect_punct (p, ')', "to close the tuple argument");

out:
  e->value->arguments = steal_array (bindings, &e->value->n_arguments);
  if (p->error)
    {
      msg_free (e);
      return NULL;
    }
  return e;
}

static AneMilOperation *
parse_operation (Parser *p,
                 guint   depth)
{
  AneMilOperation *op = msg_new (&core_ml__specification__milspec__operation__descriptor);
  GPtrArray *outputs = msg_array_new ();
  GPtrArray *inputs = msg_array_new ();
  GPtrArray *blocks = msg_array_new ();
  char buf[64];

  if (depth > MAX_DEPTH)
    {
      fail (p, "blocks nest too deeply");
      goto out;
    }
  /* outputs */
  if (is_punct (&p->tok, '('))
    {
      advance (p);
      while (!p->error && !is_punct (&p->tok, ')'))
        {
          AneMilNamedValueType *nvt;

          if (outputs->len && !expect_punct (p, ',', "between outputs"))
            break;
          nvt = parse_named_type (p);
          if (nvt == NULL)
            break;
          g_ptr_array_add (outputs, nvt);
        }
      expect_punct (p, ')', "to close the outputs");
      expect_punct (p, '=', "after the outputs");
    }
  else if (!(p->tok.kind == TOK_IDENT && is_punct (peek (p), '(')))
    {
      /* type name {"," type name} "=" */
      for (;;)
        {
          AneMilNamedValueType *nvt = parse_named_type (p);

          if (nvt == NULL)
            break;
          g_ptr_array_add (outputs, nvt);
          if (!is_punct (&p->tok, ','))
            break;
          advance (p);
        }
      if (!p->error && !is_punct (&p->tok, '='))
        fail (p, "expected '=' after the output, found %s", tok_describe (&p->tok, buf));
      else
        advance (p);
    }
  if (p->error)
    goto out;

  op->type = take_ident (p, "an operation type");
  if (!expect_punct (p, '(', "after the operation type"))
    goto out;
  while (!p->error && !is_punct (&p->tok, ')'))
    {
      CoreML__Specification__MILSpec__Operation__InputsEntry *e;

      if (inputs->len && !expect_punct (p, ',', "between arguments"))
        break;
      e = parse_argument (p, depth);
      if (e == NULL)
        break;
      g_ptr_array_add (inputs, e);
    }
  if (!expect_punct (p, ')', "to close the arguments"))
    goto out;
  if (is_punct (&p->tok, '[') &&
      !parse_attrs (p, &core_ml__specification__milspec__operation__attributes_entry__descriptor,
                    &op->n_attributes, (void ***) &op->attributes, depth))
    goto out;
  if (is_punct (&p->tok, '{'))
    {
      advance (p);
      while (!p->error && !is_punct (&p->tok, '}'))
        {
          AneMilBlock *b;

          if (!expect_word (p, "block", "to start a nested block"))
            break;
          b = msg_new (&core_ml__specification__milspec__block__descriptor);
          g_ptr_array_add (blocks, b);
          if (!parse_params (p, &b->n_inputs, &b->inputs))
            break;
          {
            AneMilBlock *body = parse_block (p, depth + 1);

            if (body == NULL)
              break;
            /* parse_block built a fresh block: move its contents. */
            b->n_outputs = body->n_outputs;
            b->outputs = body->outputs;
            b->n_operations = body->n_operations;
            b->operations = body->operations;
            b->n_attributes = body->n_attributes;
            b->attributes = body->attributes;
            body->n_outputs = body->n_operations = body->n_attributes = 0;
            body->outputs = NULL;
            body->operations = NULL;
            body->attributes = NULL;
            msg_free (body);
          }
        }
      expect_punct (p, '}', "to close the nested blocks");
    }
  expect_punct (p, ';', "after the operation");

out:
  op->outputs = steal_array (outputs, &op->n_outputs);
  op->inputs = steal_array (inputs, &op->n_inputs);
  op->blocks = steal_array (blocks, &op->n_blocks);
  if (op->type == NULL)
    op->type = g_strdup ("");
  if (p->error)
    {
      msg_free (op);
      return NULL;
    }
  return op;
}

/* "{" statement* "}" "->" "(" [name {"," name}] ")" [attrs] ";" */
static AneMilBlock *
parse_block (Parser *p,
             guint   depth)
{
  AneMilBlock *block = msg_new (&core_ml__specification__milspec__block__descriptor);
  GPtrArray *ops = msg_array_new ();
  GPtrArray *outs = g_ptr_array_new_with_free_func (g_free);
  char buf[64];

  if (!expect_punct (p, '{', "to open the block"))
    goto out;
  while (!p->error && !is_punct (&p->tok, '}'))
    {
      AneMilOperation *op;

      if (p->tok.kind == TOK_EOF)
        {
          fail (p, "the block is not closed (missing '}')");
          break;
        }
      op = parse_operation (p, depth);
      if (op == NULL)
        break;
      g_ptr_array_add (ops, op);
    }
  if (!expect_punct (p, '}', "to close the block"))
    goto out;
  if (p->tok.kind != TOK_ARROW)
    {
      fail (p, "expected '->' and the block's outputs, found %s", tok_describe (&p->tok, buf));
      goto out;
    }
  advance (p);
  if (!expect_punct (p, '(', "to open the block's outputs"))
    goto out;
  while (!p->error && !is_punct (&p->tok, ')'))
    {
      char *name;

      if (outs->len && !expect_punct (p, ',', "between block outputs"))
        break;
      name = take_ident (p, "an output name");
      if (name == NULL)
        break;
      g_ptr_array_add (outs, name);
    }
  if (!expect_punct (p, ')', "to close the block's outputs"))
    goto out;
  if (is_punct (&p->tok, '[') &&
      !parse_attrs (p, &core_ml__specification__milspec__block__attributes_entry__descriptor,
                    &block->n_attributes, (void ***) &block->attributes, depth))
    goto out;
  expect_punct (p, ';', "after the block");

out:
  block->operations = steal_array (ops, &block->n_operations);
  g_ptr_array_set_free_func (outs, p->error ? g_free : NULL);
  if (p->error)
    {
      g_ptr_array_unref (outs);
      msg_free (block);
      return NULL;
    }
  block->outputs = steal_array (outs, &block->n_outputs);
  return block;
}

/* ---------------------------------------------------------------------- */
/* functions and the program                                              */
/* ---------------------------------------------------------------------- */

static char *
parse_opset (Parser *p)
{
  char *text, *opset;

  if (!expect_punct (p, '<', "to open the opset"))
    return NULL;
  text = take_ident (p, "an opset name");
  if (text == NULL)
    return NULL;
  if (!expect_punct (p, '>', "to close the opset"))
    {
      g_free (text);
      return NULL;
    }
  opset = ane_mil_text_opset_from_text (text);
  g_free (text);
  return opset;
}

static CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *
specialization (char        *key,
                AneMilBlock *block)
{
  CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *e =
    msg_new (&core_ml__specification__milspec__function__block_specializations_entry__descriptor);

  e->key = key;
  e->value = block;
  return e;
}

static CoreML__Specification__MILSpec__Program__FunctionsEntry *
parse_function (Parser *p)
{
  CoreML__Specification__MILSpec__Program__FunctionsEntry *entry =
    msg_new (&core_ml__specification__milspec__program__functions_entry__descriptor);
  AneMilFunction *fn = msg_new (&core_ml__specification__milspec__function__descriptor);
  GPtrArray *specs = msg_array_new ();
  char buf[64];

  entry->value = fn;
  if (!expect_word (p, "func", "to start a function"))
    goto out;
  entry->key = take_ident (p, "a function name");
  if (entry->key == NULL)
    goto out;
  fn->opset = parse_opset (p);
  if (fn->opset == NULL)
    goto out;
  if (!parse_params (p, &fn->n_inputs, &fn->inputs))
    goto out;
  if (is_punct (&p->tok, '[') &&
      !parse_attrs (p, &core_ml__specification__milspec__function__attributes_entry__descriptor,
                    &fn->n_attributes, (void ***) &fn->attributes, 0))
    goto out;
  if (is_punct (&p->tok, '{'))
    {
      AneMilBlock *b = parse_block (p, 0);

      if (b)
        g_ptr_array_add (specs, specialization (g_strdup (fn->opset), b));
    }
  else if (is_punct (&p->tok, '<'))
    {
      while (!p->error && is_punct (&p->tok, '<'))
        {
          char *key = parse_opset (p);
          AneMilBlock *b;

          if (key == NULL)
            break;
          b = parse_block (p, 0);
          if (b == NULL)
            {
              g_free (key);
              break;
            }
          g_ptr_array_add (specs, specialization (key, b));
        }
    }
  else if (is_punct (&p->tok, ';'))
    advance (p);
  else
    fail (p, "expected '{' to open the function's block, found %s", tok_describe (&p->tok, buf));

out:
  fn->block_specializations = steal_array (specs, &fn->n_block_specializations);
  if (entry->key == NULL)
    entry->key = g_strdup ("");
  if (fn->opset == NULL)
    fn->opset = g_strdup ("");
  if (p->error)
    {
      msg_free (entry);
      return NULL;
    }
  return entry;
}

/* "program" "(" VERSION ")" */
static gboolean
parse_header (Parser        *p,
              AneMilProgram *program)
{
  char buf[64];
  const char *dot;
  guint64 major, minor = 0;

  if (!expect_word (p, "program", "at the start of MIL text") ||
      !expect_punct (p, '(', "after 'program'"))
    return FALSE;
  if (p->tok.kind != TOK_NUMBER)
    {
      fail (p, "expected a program version such as 1.3, found %s", tok_describe (&p->tok, buf));
      return FALSE;
    }
  dot = memchr (p->tok.text, '.', p->tok.len);
  if (!parse_uint64 (p->tok.text, dot ? (gsize) (dot - p->tok.text) : p->tok.len, &major) ||
      (dot && !parse_uint64 (dot + 1, p->tok.len - (gsize) (dot - p->tok.text) - 1, &minor)) ||
      major > G_MAXINT64 || (p->tok.len > 1 && (p->tok.text[1] == 'x' || p->tok.text[1] == 'X')))
    {
      fail (p, "bad program version %s", tok_describe (&p->tok, buf));
      return FALSE;
    }
  program->version = (gint64) major;
  p->style = dot && minor >= 3 ? ANE_MIL_TEXT_STYLE_1_3 : ANE_MIL_TEXT_STYLE_1_0;
  advance (p);
  if (!expect_punct (p, ')', "after the program version"))
    return FALSE;
  if (is_word (&p->tok, "doc") && !parse_doc (p, &program->docstring))
    return FALSE;
  return TRUE;
}

AneMilProgram *
ane_mil_text_parse_style (const char      *text,
                          gssize           len,
                          const char      *origin,
                          AneMilTextStyle *style,
                          GError         **error)
{
  Parser p = { 0 };
  AneMilProgram *program;
  GPtrArray *functions;
  char buf[64];

  g_return_val_if_fail (text != NULL || len == 0, NULL);

  p.src = text ? text : "";
  p.len = len < 0 ? strlen (p.src) : (gsize) len;
  p.line = 1;
  p.origin = origin ? origin : "<MIL text>";
  p.style = ANE_MIL_TEXT_STYLE_1_3;
  lex (&p, &p.tok);

  program = msg_new (&core_ml__specification__milspec__program__descriptor);
  program->docstring = g_strdup ("");
  functions = msg_array_new ();

  if (!parse_header (&p, program))
    goto out;
  if (is_punct (&p.tok, '[') &&
      !parse_attrs (&p, &core_ml__specification__milspec__program__attributes_entry__descriptor,
                    &program->n_attributes, (void ***) &program->attributes, 0))
    goto out;
  if (!expect_punct (&p, '{', "to open the program"))
    goto out;
  while (!p.error && !is_punct (&p.tok, '}'))
    {
      CoreML__Specification__MILSpec__Program__FunctionsEntry *fe;

      if (p.tok.kind == TOK_EOF)
        {
          fail (&p, "the program is not closed (missing '}')");
          break;
        }
      fe = parse_function (&p);
      if (fe == NULL)
        break;
      g_ptr_array_add (functions, fe);
    }
  if (!expect_punct (&p, '}', "to close the program"))
    goto out;
  if (p.tok.kind != TOK_EOF)
    fail (&p, "unexpected %s after the program", tok_describe (&p.tok, buf));

out:
  program->functions = steal_array (functions, &program->n_functions);
  token_clear (&p.tok);
  token_clear (&p.next);
  if (p.error)
    {
      g_propagate_error (error, p.error);
      msg_free (program);
      return NULL;
    }
  if (style)
    *style = p.style;
  return program;
}

AneMilProgram *
ane_mil_text_parse (const char *text,
                    gssize      len,
                    const char *origin,
                    GError    **error)
{
  return ane_mil_text_parse_style (text, len, origin, NULL, error);
}
