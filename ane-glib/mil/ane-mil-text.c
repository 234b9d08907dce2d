/* mil/ane-mil-text.c: MIL programs printed as MIL text
 *
 * The layout follows the model.mil files the Core ML compiler writes and the
 * text the Neural Engine's in-memory compile path reads: a program header,
 * an optional attribute line, one `func` per function with 4-space indents,
 * one operation per line, `} -> (outputs);` closing each block. Everything
 * is printed in the order the proto holds it, so the parser rebuilds the same
 * repeated fields and map entries. docs/mil-text.md has the grammar and the
 * few extensions used only for proto content that plain MIL text cannot
 * carry (doc strings, nested blocks, extra block specializations).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/ane-mil-text-private.h"

/* ---------------------------------------------------------------------- */
/* dtypes and float codecs                                                */
/* ---------------------------------------------------------------------- */

static const AneMilTextDType dtypes[] = {
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL,         "bool",      8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING,       "string",    0 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E4M3FN, "fp8e4m3fn", 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E5M2,   "fp8e5m2",   8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16,      "fp16",      16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32,      "fp32",      32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64,      "fp64",      64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16,     "bf16",      16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8,         "int8",      8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16,        "int16",     16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32,        "int32",     32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64,        "int64",     64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4,         "int4",      4 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8,        "uint8",     8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16,       "uint16",    16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32,       "uint32",    32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64,       "uint64",    64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4,        "uint4",     4 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2,        "uint2",     2 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1,        "uint1",     1 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6,        "uint6",     6 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3,        "uint3",     3 },
};

const AneMilTextDType *
ane_mil_text_dtype_by_enum (int mil)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].mil == mil)
      return &dtypes[i];
  return NULL;
}

const AneMilTextDType *
ane_mil_text_dtype_by_name (const char *name,
                            gsize       len)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strlen (dtypes[i].name) == len && memcmp (dtypes[i].name, name, len) == 0)
      return &dtypes[i];
  return NULL;
}

typedef struct {
  int      ebits, mbits;
  gboolean ieee;        /* all-ones exponent is inf/NaN; else only S.1111.111 is NaN (e4m3fn) */
} MiniFormat;

static gboolean
mini_format (int         mil,
             MiniFormat *f)
{
  switch (mil)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16:
      *f = (MiniFormat) { 5, 10, TRUE };
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16:
      *f = (MiniFormat) { 8, 7, TRUE };
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E5M2:
      *f = (MiniFormat) { 5, 2, TRUE };
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E4M3FN:
      *f = (MiniFormat) { 4, 3, FALSE };
      return TRUE;
    default:
      return FALSE;
    }
}

static guint32
mini_nan (const MiniFormat *f)
{
  guint32 exp_ones = ((1u << f->ebits) - 1) << f->mbits;

  return f->ieee ? exp_ones | (1u << (f->mbits - 1)) : exp_ones | ((1u << f->mbits) - 1);
}

double
ane_mil_text_minifloat_decode (guint32 bits,
                               int     mil_dtype)
{
  MiniFormat f;
  guint32 sign, e, m, emax;
  int bias;
  double v;

  if (!mini_format (mil_dtype, &f))
    return NAN;
  sign = (bits >> (f.ebits + f.mbits)) & 1;
  e = (bits >> f.mbits) & ((1u << f.ebits) - 1);
  m = bits & ((1u << f.mbits) - 1);
  emax = (1u << f.ebits) - 1;
  bias = (1 << (f.ebits - 1)) - 1;
  if (f.ieee && e == emax)
    v = m ? NAN : INFINITY;
  else if (!f.ieee && e == emax && m == (1u << f.mbits) - 1)
    v = NAN;
  else if (e == 0)
    v = ldexp ((double) m, 1 - bias - f.mbits);
  else
    v = ldexp ((double) (m | (1u << f.mbits)), (int) e - bias - f.mbits);
  return sign ? -v : v;
}

guint32
ane_mil_text_minifloat_encode (double v,
                               int    mil_dtype)
{
  MiniFormat f;
  guint32 sign, emax_field, mant;
  int bias, e, emin;
  double a, q;

  if (!mini_format (mil_dtype, &f))
    return 0;
  sign = signbit (v) ? 1u << (f.ebits + f.mbits) : 0;
  if (isnan (v))
    return sign | mini_nan (&f);
  a = fabs (v);
  bias = (1 << (f.ebits - 1)) - 1;
  emax_field = (1u << f.ebits) - (f.ieee ? 2 : 1);
  if (isinf (a))
    return sign | (f.ieee ? (emax_field + 1) << f.mbits : mini_nan (&f));
  if (a == 0)
    return sign;
  (void) frexp (a, &e);
  e -= 1;                               /* a = 1.x * 2^e */
  emin = 1 - bias;
  if (e < emin)
    e = emin;
  q = rint (ldexp (a, f.mbits - e));    /* round to nearest even at this exponent */
  if (q >= ldexp (1.0, f.mbits + 1))
    {
      e += 1;
      q = ldexp (q, -1);
    }
  if (q < ldexp (1.0, f.mbits))
    return sign | (guint32) q;          /* subnormal (or zero) */
  if (e + bias > (int) emax_field)
    return sign | (f.ieee ? (emax_field + 1) << f.mbits : mini_nan (&f));
  mant = (guint32) q - (1u << f.mbits);
  if (!f.ieee && (guint32) (e + bias) == emax_field && mant == (1u << f.mbits) - 1)
    return sign | mini_nan (&f);
  return sign | ((guint32) (e + bias) << f.mbits) | mant;
}

/* ---------------------------------------------------------------------- */
/* opset names                                                            */
/* ---------------------------------------------------------------------- */

static gboolean
parse_small_uint (const char *s,
                  guint      *out)
{
  guint v = 0;

  if (*s == '\0' || (*s == '0' && s[1] != '\0'))
    return FALSE;
  for (; *s; s++)
    {
      if (!g_ascii_isdigit (*s) || v > 100000)
        return FALSE;
      v = v * 10 + (guint) (*s - '0');
    }
  *out = v;
  return TRUE;
}

char *
ane_mil_text_opset_to_text (const char *opset)
{
  guint n;

  if (g_str_has_prefix (opset, "CoreML") && parse_small_uint (opset + 6, &n) && n >= 5)
    return g_strdup_printf ("ios%u", n + 10);
  return g_strdup (opset);
}

char *
ane_mil_text_opset_from_text (const char *text)
{
  guint n;

  if (g_str_has_prefix (text, "ios") && parse_small_uint (text + 3, &n) && n >= 15)
    return g_strdup_printf ("CoreML%u", n - 10);
  return g_strdup (text);
}

/* ---------------------------------------------------------------------- */
/* printer                                                                */
/* ---------------------------------------------------------------------- */


/* Every *AttributesEntry of MIL.proto has this layout. */
typedef struct {
  ProtobufCMessage base;
  char            *key;
  AneMilValue     *value;
} AttrEntry;

G_STATIC_ASSERT (offsetof (AttrEntry, key) == offsetof (CoreML__Specification__MILSpec__Program__AttributesEntry, key));
G_STATIC_ASSERT (offsetof (AttrEntry, value) == offsetof (CoreML__Specification__MILSpec__Program__AttributesEntry, value));
G_STATIC_ASSERT (offsetof (AttrEntry, key) == offsetof (CoreML__Specification__MILSpec__Function__AttributesEntry, key));
G_STATIC_ASSERT (offsetof (AttrEntry, value) == offsetof (CoreML__Specification__MILSpec__Function__AttributesEntry, value));
G_STATIC_ASSERT (offsetof (AttrEntry, key) == offsetof (CoreML__Specification__MILSpec__Block__AttributesEntry, key));
G_STATIC_ASSERT (offsetof (AttrEntry, value) == offsetof (CoreML__Specification__MILSpec__Block__AttributesEntry, value));
G_STATIC_ASSERT (offsetof (AttrEntry, key) == offsetof (CoreML__Specification__MILSpec__Operation__AttributesEntry, key));
G_STATIC_ASSERT (offsetof (AttrEntry, value) == offsetof (CoreML__Specification__MILSpec__Operation__AttributesEntry, value));
G_STATIC_ASSERT (offsetof (AttrEntry, key) == offsetof (CoreML__Specification__MILSpec__TensorType__AttributesEntry, key));
G_STATIC_ASSERT (offsetof (AttrEntry, value) == offsetof (CoreML__Specification__MILSpec__TensorType__AttributesEntry, value));

typedef struct {
  GString         *out;
  AneMilTextStyle  style;
  GError          *error;
} Printer;

#define MAX_DEPTH 64

static void
fail (Printer    *p,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static void
fail (Printer    *p,
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
  p->error = g_error_new (ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "MIL text: %s", msg);
  g_free (msg);
}

gboolean
ane_mil_text_is_ident (const char *s)
{
  if (s == NULL || !(g_ascii_isalpha (*s) || *s == '_'))
    return FALSE;
  for (s++; *s; s++)
    if (!(g_ascii_isalnum (*s) || *s == '_'))
      return FALSE;
  return TRUE;
}

static void
append_escaped (GString    *out,
                const char *s,
                char        quote)
{
  g_string_append_c (out, quote);
  for (; *s; s++)
    {
      guchar c = (guchar) *s;

      if (c == (guchar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, quote);
}

/* A name: bare when it is an identifier, else `quoted` (an extension). */
static void
print_name (Printer    *p,
            const char *s)
{
  if (s == NULL)
    s = "";
  if (ane_mil_text_is_ident (s))
    g_string_append (p->out, s);
  else
    append_escaped (p->out, s, '`');
}

static void
indent (Printer *p,
        guint    level)
{
  for (guint i = 0; i < level; i++)
    g_string_append (p->out, "    ");
}

static const AneMilTextDType *
dtype_of (Printer *p,
          int      mil)
{
  const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (mil);

  if (dt == NULL)
    fail (p, "unknown data type %d", mil);
  return dt;
}

static void print_value_type (Printer *p, const AneMilValueType *vt, guint depth);
static void print_value      (Printer *p, const AneMilValue *v, guint depth);

static void
print_dimension (Printer                                       *p,
                 const CoreML__Specification__MILSpec__Dimension *d)
{
  if (d == NULL)
    {
      fail (p, "missing dimension");
      return;
    }
  switch (d->dimension_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT:
      g_string_append_printf (p->out, "%" G_GUINT64_FORMAT, (guint64) d->constant->size);
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN:
      g_string_append (p->out, d->unknown->variadic ? "*" : "?");
      break;
    default:
      fail (p, "a dimension is neither constant nor unknown");
      break;
    }
}

static void print_attrs (Printer *p, size_t n, void **entries, guint depth);

static void
print_tensor_type (Printer                *p,
                   const AneMilTensorType *tt,
                   guint                   depth)
{
  const AneMilTextDType *dt = dtype_of (p, tt->datatype);

  if (dt == NULL)
    return;
  if (tt->rank == -1)
    {
      if (tt->n_dimensions != 0)
        {
          fail (p, "a tensor type of unknown rank lists %zu dimensions", tt->n_dimensions);
          return;
        }
    }
  else if (tt->rank < 0 || (guint64) tt->rank != tt->n_dimensions)
    {
      fail (p, "a tensor type has rank %" G_GINT64_FORMAT " but %zu dimensions",
            (gint64) tt->rank, tt->n_dimensions);
      return;
    }
  if (tt->rank == 0 && tt->n_attributes == 0 && p->style == ANE_MIL_TEXT_STYLE_1_3)
    {
      g_string_append (p->out, dt->name);
      return;
    }
  g_string_append_printf (p->out, "tensor<%s, ", dt->name);
  if (tt->rank == -1)
    g_string_append_c (p->out, '?');
  else
    {
      g_string_append_c (p->out, '[');
      for (size_t i = 0; i < tt->n_dimensions; i++)
        {
          if (i)
            g_string_append (p->out, ", ");
          print_dimension (p, tt->dimensions[i]);
        }
      g_string_append_c (p->out, ']');
    }
  if (tt->n_attributes)
    {
      g_string_append (p->out, ", ");
      print_attrs (p, tt->n_attributes, (void **) tt->attributes, depth + 1);
    }
  g_string_append_c (p->out, '>');
}

static void
print_value_type (Printer               *p,
                  const AneMilValueType *vt,
                  guint                  depth)
{
  if (depth > MAX_DEPTH)
    {
      fail (p, "types nest too deeply");
      return;
    }
  if (vt == NULL)
    {
      fail (p, "missing type");
      return;
    }
  switch (vt->type_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE:
      print_tensor_type (p, vt->tensortype, depth);
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE:
      g_string_append (p->out, "state<");
      print_value_type (p, vt->statetype->wrappedtype, depth + 1);
      g_string_append_c (p->out, '>');
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE:
      g_string_append (p->out, "list<");
      print_value_type (p, vt->listtype->type, depth + 1);
      g_string_append (p->out, ", ");
      print_dimension (p, vt->listtype->length);
      g_string_append_c (p->out, '>');
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE:
      g_string_append (p->out, "tuple<");
      for (size_t i = 0; i < vt->tupletype->n_types; i++)
        {
          if (i)
            g_string_append (p->out, ", ");
          print_value_type (p, vt->tupletype->types[i], depth + 1);
        }
      g_string_append_c (p->out, '>');
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE:
      g_string_append (p->out, "dict<");
      print_value_type (p, vt->dictionarytype->keytype, depth + 1);
      g_string_append (p->out, ", ");
      print_value_type (p, vt->dictionarytype->valuetype, depth + 1);
      g_string_append_c (p->out, '>');
      break;
    default:
      fail (p, "a value type has no type set");
      break;
    }
}

/* Hex float as C99 %a writes it, independent of the locale. */
static void
append_hex_double (GString *out,
                   double   d)
{
  double m;
  int e;
  guint64 frac;
  char digits[14];
  int nd = 0;

  if (signbit (d))
    g_string_append_c (out, '-');
  d = fabs (d);
  if (d == 0)
    {
      g_string_append (out, "0x0p+0");
      return;
    }
  m = frexp (d, &e);                   /* d = m * 2^e, m in [0.5, 1) */
  m *= 2;
  e -= 1;
  frac = (guint64) ldexp (m - 1.0, 52);
  for (int i = 12; i >= 0; i--)
    digits[nd++] = "0123456789abcdef"[(frac >> (i * 4)) & 0xf];
  while (nd > 0 && digits[nd - 1] == '0')
    nd--;
  g_string_append (out, "0x1");
  if (nd)
    {
      g_string_append_c (out, '.');
      g_string_append_len (out, digits, nd);
    }
  g_string_append_printf (out, "p%c%d", e < 0 ? '-' : '+', ABS (e));
}

guint64
ane_mil_text_canonical_nan (int mil)
{
  MiniFormat f;

  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32)
    return 0x7fc00000u;
  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64)
    return G_GUINT64_CONSTANT (0x7ff8000000000000);
  if (mini_format (mil, &f))
    return mini_nan (&f);
  return 0;
}

double
ane_mil_text_float_from_bits (guint64 bits,
                              int     mil)
{
  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32)
    {
      guint32 b = (guint32) bits;
      float f;

      memcpy (&f, &b, 4);
      return f;
    }
  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64)
    {
      double d;

      memcpy (&d, &bits, 8);
      return d;
    }
  return ane_mil_text_minifloat_decode ((guint32) bits, mil);
}

guint64
ane_mil_text_float_to_bits (double v,
                            int    mil)
{
  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32)
    {
      float f = (float) v;
      guint32 b;

      memcpy (&b, &f, 4);
      return b;
    }
  if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64)
    {
      guint64 b;

      memcpy (&b, &v, 8);
      return b;
    }
  return ane_mil_text_minifloat_encode (v, mil);
}

static void
append_float_bits (GString *out,
                   guint64  bits,
                   const AneMilTextDType *dt)
{
  double d = ane_mil_text_float_from_bits (bits, dt->mil);
  guint64 sign = G_GUINT64_CONSTANT (1) << (dt->bits - 1);

  if (isnan (d))
    {
      guint64 canon = ane_mil_text_canonical_nan (dt->mil);

      if (bits == canon)
        g_string_append (out, "nan");
      else if (bits == (canon | sign))
        g_string_append (out, "-nan");
      else
        g_string_append_printf (out, "nan(0x%" G_GINT64_MODIFIER "x)", bits);
    }
  else if (isinf (d))
    g_string_append (out, d < 0 ? "-inf" : "inf");
  else
    append_hex_double (out, d);
}

gboolean
ane_mil_text_dtype_is_float (int mil)
{
  switch (mil)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E4M3FN:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E5M2:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
ane_mil_text_dtype_is_signed (int mil)
{
  switch (mil)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64:
      return TRUE;
    default:
      return FALSE;
    }
}

guint64
ane_mil_text_packed_element (const guint8 *data,
                             gsize         i,
                             guint         bits)
{
  guint64 v = 0;

  if (bits >= 8)
    {
      for (guint b = 0; b < bits / 8; b++)
        v |= (guint64) data[i * (bits / 8) + b] << (8 * b);
      return v;
    }
  for (guint b = 0; b < bits; b++)
    {
      gsize bit = i * bits + b;

      if (data[bit / 8] & (1u << (bit % 8)))
        v |= G_GUINT64_CONSTANT (1) << b;
    }
  return v;
}

/* The number of elements a fully known shape holds; -1 if it has unknown
 * dimensions or rank (or overflows). */
gint64
ane_mil_text_shape_elements (const AneMilTensorType *tt)
{
  guint64 n = 1;

  if (tt->rank < 0)
    return -1;
  for (size_t i = 0; i < tt->n_dimensions; i++)
    {
      const CoreML__Specification__MILSpec__Dimension *d = tt->dimensions[i];

      if (d == NULL || d->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT)
        return -1;
      if (d->constant->size != 0 && n > (guint64) G_MAXINT64 / d->constant->size)
        return -1;
      n *= d->constant->size;
    }
  return (gint64) n;
}

static void
print_tensor_elements (Printer                *p,
                       const AneMilTensorValue *tv,
                       const AneMilTensorType  *tt)
{
  const AneMilTextDType *dt = dtype_of (p, tt->datatype);
  gint64 expected = ane_mil_text_shape_elements (tt);
  gsize n = 0;
  gboolean bracket;

  if (dt == NULL)
    return;
  switch (tv->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
      n = tv->floats->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
      n = tv->doubles->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
      n = tv->ints->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
      n = tv->longints->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
      n = tv->bools->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS:
      n = tv->strings->n_values;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES:
      if (dt->bits == 0)
        {
          fail (p, "a %s tensor is stored as bytes", dt->name);
          return;
        }
      if (dt->bits < 8 && expected >= 0)
        n = (gsize) expected;
      else
        n = tv->bytes->values.len * 8 / dt->bits;
      if ((guint64) n > G_MAXSIZE / dt->bits ||
          (n * dt->bits + 7) / 8 != tv->bytes->values.len)
        {
          fail (p, "%zu bytes do not hold whole %s elements", tv->bytes->values.len, dt->name);
          return;
        }
      break;
    default:
      fail (p, "an immediate tensor has no values set");
      return;
    }
  if (tv->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS) 
    {
      if (dt->mil != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING)
        {
          fail (p, "a %s tensor holds strings", dt->name);
          return;
        }
    }
  else if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING)
    {
      fail (p, "a string tensor holds no strings");
      return;
    }

  bracket = !(tt->rank == 0 && n == 1);
  if (bracket)
    g_string_append_c (p->out, '[');
  for (gsize i = 0; i < n; i++)
    {
      if (i)
        g_string_append (p->out, ", ");
      if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING)
        {
          append_escaped (p->out, tv->strings->values[i] ? tv->strings->values[i] : "", '"');
          continue;
        }
      if (ane_mil_text_dtype_is_float (dt->mil))
        {
          guint64 bits;

          switch (tv->value_case)
            {
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
              if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32)
                {
                  guint32 b;

                  memcpy (&b, &tv->floats->values[i], 4);
                  bits = b;
                }
              else
                bits = ane_mil_text_float_to_bits (tv->floats->values[i], dt->mil);
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
              bits = ane_mil_text_float_to_bits (tv->doubles->values[i], dt->mil);
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
              bits = ane_mil_text_float_to_bits (tv->ints->values[i], dt->mil);
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
              bits = ane_mil_text_float_to_bits ((double) tv->longints->values[i], dt->mil);
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
              bits = ane_mil_text_float_to_bits (tv->bools->values[i] ? 1.0 : 0.0, dt->mil);
              break;
            default:
              bits = ane_mil_text_packed_element (tv->bytes->values.data, i, dt->bits);
              break;
            }
          append_float_bits (p->out, bits, dt);
        }
      else
        {
          guint64 u;

          switch (tv->value_case)
            {
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
              u = (guint64) (gint64) tv->floats->values[i];
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
              u = (guint64) (gint64) tv->doubles->values[i];
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
              u = (guint64) (gint64) tv->ints->values[i];
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
              u = (guint64) tv->longints->values[i];
              break;
            case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
              u = tv->bools->values[i] ? 1 : 0;
              break;
            default:
              u = ane_mil_text_packed_element (tv->bytes->values.data, i, dt->bits);
              if (ane_mil_text_dtype_is_signed (dt->mil) && dt->bits < 64 && (u >> (dt->bits - 1)) & 1)
                u |= ~G_GUINT64_CONSTANT (0) << dt->bits;
              break;
            }
          if (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL)
            g_string_append (p->out, u ? "true" : "false");
          else if (!ane_mil_text_dtype_is_signed (dt->mil) &&
                   (dt->mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64 ||
                    tv->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES))
            g_string_append_printf (p->out, "%" G_GUINT64_FORMAT, u);
          else
            g_string_append_printf (p->out, "%" G_GINT64_FORMAT, (gint64) u);
        }
    }
  if (bracket)
    g_string_append_c (p->out, ']');
}

/* A string or uint64 scalar in the style's spelling (BLOBFILE arguments). */
static void
print_scalar_string (Printer    *p,
                     const char *s)
{
  g_string_append (p->out, p->style == ANE_MIL_TEXT_STYLE_1_3 ? "string(" : "tensor<string, []>(");
  append_escaped (p->out, s ? s : "", '"');
  g_string_append_c (p->out, ')');
}

static gboolean
same_type (const AneMilValueType *a,
           const AneMilValueType *b)
{
  gsize na, nb;
  guint8 *ba, *bb;
  gboolean same;

  if (a == NULL || b == NULL)
    return a == b;
  na = protobuf_c_message_get_packed_size (&a->base);
  nb = protobuf_c_message_get_packed_size (&b->base);
  if (na != nb)
    return FALSE;
  ba = g_malloc (na + 1);
  bb = g_malloc (nb + 1);
  protobuf_c_message_pack (&a->base, ba);
  protobuf_c_message_pack (&b->base, bb);
  same = memcmp (ba, bb, na) == 0;
  g_free (ba);
  g_free (bb);
  return same;
}

static void print_body (Printer *p, const AneMilValue *v, const AneMilValueType *type, guint depth);

/* An element of a tuple, list or dict value: bare body when its type is the
 * one the container declares (or it has none), else a whole typed value. */
static void
print_element (Printer               *p,
               const AneMilValue     *v,
               const AneMilValueType *declared,
               guint                  depth)
{
  if (v == NULL)
    {
      fail (p, "missing element value");
      return;
    }
  if (declared && (v->type == NULL || same_type (v->type, declared)) && (v->docstring == NULL || !*v->docstring))
    print_body (p, v, declared, depth + 1);
  else
    print_value (p, v, depth + 1);
}

static void
print_body (Printer               *p,
            const AneMilValue     *v,
            const AneMilValueType *type,
            guint                  depth)
{
  const CoreML__Specification__MILSpec__Value__ImmediateValue *iv;

  if (depth > MAX_DEPTH)
    {
      fail (p, "values nest too deeply");
      return;
    }
  if (v->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    {
      g_string_append (p->out, "BLOBFILE(path = ");
      print_scalar_string (p, v->blobfilevalue->filename);
      g_string_append_printf (p->out, p->style == ANE_MIL_TEXT_STYLE_1_3
                              ? ", offset = uint64(%" G_GUINT64_FORMAT "))"
                              : ", offset = tensor<uint64, []>(%" G_GUINT64_FORMAT "))",
                              (guint64) v->blobfilevalue->offset);
      return;
    }
  if (v->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE)
    return;                                 /* a type only: TYPE() */
  iv = v->immediatevalue;
  switch (iv->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR:
      if (type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
        {
          fail (p, "a tensor value has a type that is not a tensor type");
          return;
        }
      print_tensor_elements (p, iv->tensor, type->tensortype);
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TUPLE:
      if (type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE)
        {
          fail (p, "a tuple value has a type that is not a tuple type");
          return;
        }
      g_string_append_c (p->out, '(');
      for (size_t i = 0; i < iv->tuple->n_values; i++)
        {
          if (i)
            g_string_append (p->out, ", ");
          print_element (p, iv->tuple->values[i],
                         i < type->tupletype->n_types ? type->tupletype->types[i] : NULL, depth);
        }
      g_string_append_c (p->out, ')');
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST:
      if (type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE)
        {
          fail (p, "a list value has a type that is not a list type");
          return;
        }
      g_string_append_c (p->out, '[');
      for (size_t i = 0; i < iv->list->n_values; i++)
        {
          if (i)
            g_string_append (p->out, ", ");
          print_element (p, iv->list->values[i], type->listtype->type, depth);
        }
      g_string_append_c (p->out, ']');
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_DICTIONARY:
      if (type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE)
        {
          fail (p, "a dict value has a type that is not a dict type");
          return;
        }
      g_string_append_c (p->out, '{');
      for (size_t i = 0; i < iv->dictionary->n_values; i++)
        {
          const CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *kv = iv->dictionary->values[i];

          if (i)
            g_string_append (p->out, ", ");
          g_string_append_c (p->out, '{');
          print_element (p, kv->key, type->dictionarytype->keytype, depth);
          g_string_append (p->out, ", ");
          print_element (p, kv->value, type->dictionarytype->valuetype, depth);
          g_string_append_c (p->out, '}');
        }
      g_string_append_c (p->out, '}');
      break;
    default:
      fail (p, "an immediate value has nothing set");
      break;
    }
}

static void
print_value (Printer           *p,
             const AneMilValue *v,
             guint              depth)
{
  if (v == NULL || v->type == NULL)
    {
      fail (p, "a value has no type");
      return;
    }
  print_value_type (p, v->type, depth);
  g_string_append_c (p->out, '(');
  print_body (p, v, v->type, depth);
  g_string_append_c (p->out, ')');
  if (v->docstring && *v->docstring)
    {
      g_string_append (p->out, " doc(");
      append_escaped (p->out, v->docstring, '"');
      g_string_append_c (p->out, ')');
    }
}

static void
print_attrs (Printer *p,
             size_t   n,
             void   **entries,
             guint    depth)
{
  g_string_append_c (p->out, '[');
  for (size_t i = 0; i < n; i++)
    {
      const AttrEntry *e = entries[i];

      if (i)
        g_string_append (p->out, ", ");
      print_name (p, e->key);
      g_string_append (p->out, " = ");
      print_value (p, e->value, depth + 1);
    }
  g_string_append_c (p->out, ']');
}

static void
print_named_types (Printer                     *p,
                   size_t                       n,
                   AneMilNamedValueType *const *nvts,
                   guint                        depth)
{
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        g_string_append (p->out, ", ");
      print_value_type (p, nvts[i]->type, depth);
      g_string_append_c (p->out, ' ');
      print_name (p, nvts[i]->name);
    }
}

static void print_block (Printer *p, const AneMilBlock *block, guint level, guint depth);

static void
print_operation (Printer               *p,
                 const AneMilOperation *op,
                 guint                  level,
                 guint                  depth)
{
  indent (p, level);
  if (op->n_outputs == 1)
    {
      print_named_types (p, 1, op->outputs, depth);
      g_string_append (p->out, " = ");
    }
  else if (op->n_outputs > 1)
    {
      g_string_append_c (p->out, '(');
      print_named_types (p, op->n_outputs, op->outputs, depth);
      g_string_append (p->out, ") = ");
    }
  print_name (p, op->type);
  g_string_append_c (p->out, '(');
  for (size_t i = 0; i < op->n_inputs; i++)
    {
      const AneMilArgument *arg = op->inputs[i]->value;
      size_t nb = arg ? arg->n_arguments : 0;

      if (i)
        g_string_append (p->out, ", ");
      print_name (p, op->inputs[i]->key);
      g_string_append (p->out, " = ");
      if (nb != 1)
        g_string_append_c (p->out, '(');
      for (size_t j = 0; j < nb; j++)
        {
          const AneMilBinding *b = arg->arguments[j];

          if (j)
            g_string_append (p->out, ", ");
          if (b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
            print_name (p, b->name);
          else if (b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
            print_value (p, b->value, depth + 1);
          else
            fail (p, "operation %s: argument %s binds nothing", op->type, op->inputs[i]->key);
        }
      if (nb != 1)
        g_string_append_c (p->out, ')');
    }
  g_string_append_c (p->out, ')');
  if (op->n_attributes)
    print_attrs (p, op->n_attributes, (void **) op->attributes, depth);
  if (op->n_blocks)
    {
      g_string_append (p->out, " {\n");
      for (size_t i = 0; i < op->n_blocks; i++)
        {
          indent (p, level + 1);
          g_string_append (p->out, "block(");
          print_named_types (p, op->blocks[i]->n_inputs, op->blocks[i]->inputs, depth);
          g_string_append (p->out, ") ");
          print_block (p, op->blocks[i], level + 1, depth + 1);
        }
      indent (p, level);
      g_string_append_c (p->out, '}');
    }
  g_string_append (p->out, ";\n");
}

/* "{\n" statements "} -> (outputs)[attrs];\n"; the caller wrote the indent
 * and whatever precedes the brace. */
static void
print_block (Printer           *p,
             const AneMilBlock *block,
             guint              level,
             guint              depth)
{
  if (depth > MAX_DEPTH)
    {
      fail (p, "blocks nest too deeply");
      return;
    }
  g_string_append (p->out, "{\n");
  for (size_t i = 0; i < block->n_operations && !p->error; i++)
    print_operation (p, block->operations[i], level + 1, depth);
  indent (p, level);
  g_string_append (p->out, "} -> (");
  for (size_t i = 0; i < block->n_outputs; i++)
    {
      if (i)
        g_string_append (p->out, ", ");
      print_name (p, block->outputs[i]);
    }
  g_string_append_c (p->out, ')');
  if (block->n_attributes)
    print_attrs (p, block->n_attributes, (void **) block->attributes, depth);
  g_string_append (p->out, ";\n");
}

static void
print_opset (Printer    *p,
             const char *opset)
{
  char *text = ane_mil_text_opset_to_text (opset ? opset : "");

  g_string_append_c (p->out, '<');
  print_name (p, text);
  g_string_append_c (p->out, '>');
  g_free (text);
}

static void
print_function (Printer              *p,
                const char           *name,
                const AneMilFunction *fn)
{
  if (fn == NULL)
    {
      fail (p, "function %s is empty", name);
      return;
    }
  for (size_t i = 0; i < fn->n_block_specializations; i++)
    if (fn->block_specializations[i]->value && fn->block_specializations[i]->value->n_inputs)
      {
        fail (p, "function %s: its block has inputs of its own, which MIL text cannot carry", name);
        return;
      }
  indent (p, 1);
  g_string_append (p->out, "func ");
  print_name (p, name);
  print_opset (p, fn->opset);
  g_string_append_c (p->out, '(');
  print_named_types (p, fn->n_inputs, fn->inputs, 0);
  g_string_append_c (p->out, ')');
  if (fn->n_attributes)
    print_attrs (p, fn->n_attributes, (void **) fn->attributes, 0);
  if (fn->n_block_specializations == 1 &&
      g_strcmp0 (fn->block_specializations[0]->key, fn->opset) == 0)
    {
      g_string_append_c (p->out, ' ');
      if (fn->block_specializations[0]->value == NULL)
        fail (p, "function %s: block is empty", name);
      else
        print_block (p, fn->block_specializations[0]->value, 1, 0);
      return;
    }
  if (fn->n_block_specializations == 0)
    {
      g_string_append (p->out, ";\n");
      return;
    }
  /* Extension: one "<key> { ... } -> (...);" per specialization. */
  g_string_append_c (p->out, '\n');
  for (size_t i = 0; i < fn->n_block_specializations; i++)
    {
      indent (p, 1);
      print_opset (p, fn->block_specializations[i]->key);
      g_string_append_c (p->out, ' ');
      if (fn->block_specializations[i]->value == NULL)
        fail (p, "function %s: block is empty", name);
      else
        print_block (p, fn->block_specializations[i]->value, 1, 0);
    }
}

char *
ane_mil_text_print_style (const AneMilProgram *program,
                          AneMilTextStyle      style,
                          GError             **error)
{
  Printer p = { g_string_new (NULL), style, NULL };

  g_return_val_if_fail (program != NULL, NULL);

  if (program->version < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "MIL text: program version %" G_GINT64_FORMAT " is negative", (gint64) program->version);
      g_string_free (p.out, TRUE);
      return NULL;
    }

  g_string_append_printf (p.out, "program(%" G_GINT64_FORMAT ".%d)", (gint64) program->version,
                          style == ANE_MIL_TEXT_STYLE_1_3 ? 3 : 0);
  if (program->docstring && *program->docstring)
    {
      g_string_append (p.out, " doc(");
      append_escaped (p.out, program->docstring, '"');
      g_string_append_c (p.out, ')');
    }
  g_string_append_c (p.out, '\n');
  if (program->n_attributes)
    {
      print_attrs (&p, program->n_attributes, (void **) program->attributes, 0);
      g_string_append_c (p.out, '\n');
    }
  g_string_append (p.out, "{\n");
  for (size_t i = 0; i < program->n_functions && !p.error; i++)
    {
      if (i)
        g_string_append_c (p.out, '\n');
      print_function (&p, program->functions[i]->key, program->functions[i]->value);
    }
  g_string_append (p.out, "}\n");

  if (p.error)
    {
      g_propagate_error (error, p.error);
      g_string_free (p.out, TRUE);
      return NULL;
    }
  return g_string_free (p.out, FALSE);
}

char *
ane_mil_text_print (const AneMilProgram *program,
                    GError             **error)
{
  return ane_mil_text_print_style (program, ANE_MIL_TEXT_STYLE_1_3, error);
}
