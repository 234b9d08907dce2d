/* ane-types.c: error domain, dtype facts, element codecs, size arithmetic
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-private.h"

/**
 * ane_error_quark:
 *
 * The quark of the %ANE_ERROR domain.
 *
 * Returns: the error domain
 */
G_DEFINE_QUARK (ane-error-quark, ane_error)

typedef struct {
  const char *name;
  guint       elem_size;   /* bytes per element; 0 for block types */
  guint       block_size;  /* elements per block; 1 for plain types */
  guint       block_bytes; /* bytes per block */
} DTypeInfo;

/* Block sizes and byte counts are those of ggml's block structs
 * (ggml/src/ggml-common.h): e.g. block_q4_0 is a fp16 scale + 16 bytes of
 * nibbles for 32 weights; block_q4_K is two fp16 + 12 bytes of packed 6-bit
 * scales + 128 bytes of nibbles for 256 weights. */
static const DTypeInfo dtype_info[ANE_N_DTYPES] = {
  [ANE_DTYPE_FLOAT32]  = { "float32",  4, 1, 4 },
  [ANE_DTYPE_FLOAT16]  = { "float16",  2, 1, 2 },
  [ANE_DTYPE_BFLOAT16] = { "bfloat16", 2, 1, 2 },
  [ANE_DTYPE_INT8]     = { "int8",     1, 1, 1 },
  [ANE_DTYPE_UINT8]    = { "uint8",    1, 1, 1 },
  [ANE_DTYPE_INT16]    = { "int16",    2, 1, 2 },
  [ANE_DTYPE_INT32]    = { "int32",    4, 1, 4 },
  [ANE_DTYPE_INT64]    = { "int64",    8, 1, 8 },
  [ANE_DTYPE_BOOL]     = { "bool",     1, 1, 1 },
  [ANE_DTYPE_Q8_0]     = { "q8_0",     0, 32, 34 },
  [ANE_DTYPE_Q4_0]     = { "q4_0",     0, 32, 18 },
  [ANE_DTYPE_Q4_1]     = { "q4_1",     0, 32, 20 },
  [ANE_DTYPE_Q5_0]     = { "q5_0",     0, 32, 22 },
  [ANE_DTYPE_Q5_1]     = { "q5_1",     0, 32, 24 },
  [ANE_DTYPE_Q2_K]     = { "q2_k",     0, 256, 84 },
  [ANE_DTYPE_Q3_K]     = { "q3_k",     0, 256, 110 },
  [ANE_DTYPE_Q4_K]     = { "q4_k",     0, 256, 144 },
  [ANE_DTYPE_Q5_K]     = { "q5_k",     0, 256, 176 },
  [ANE_DTYPE_Q6_K]     = { "q6_k",     0, 256, 210 },
  [ANE_DTYPE_Q8_K]     = { "q8_k",     0, 256, 292 },
};

static gboolean
dtype_valid (AneDType dtype)
{
  return (guint) dtype < ANE_N_DTYPES;
}

/**
 * ane_dtype_to_string:
 * @dtype: a dtype
 *
 * The canonical lower-case name of @dtype, as used in JSON graphs
 * ("float32", "q4_k", ...).
 *
 * Returns: (transfer none): the name, or "invalid"
 */
const char *
ane_dtype_to_string (AneDType dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].name : "invalid";
}

/**
 * ane_dtype_from_string:
 * @name: a dtype name such as "float16" (case-insensitive; "fp16", "fp32", "f16", "f32" and "bf16" are accepted too)
 * @dtype: (out): the dtype
 *
 * Parses a dtype name.
 *
 * Returns: %TRUE if @name names a dtype
 */
gboolean
ane_dtype_from_string (const char *name,
                       AneDType   *dtype)
{
  static const struct { const char *alias; AneDType dtype; } aliases[] = {
    { "fp32", ANE_DTYPE_FLOAT32 }, { "f32", ANE_DTYPE_FLOAT32 },
    { "fp16", ANE_DTYPE_FLOAT16 }, { "f16", ANE_DTYPE_FLOAT16 },
    { "bf16", ANE_DTYPE_BFLOAT16 },
  };

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (dtype != NULL, FALSE);

  for (guint i = 0; i < ANE_N_DTYPES; i++)
    if (g_ascii_strcasecmp (name, dtype_info[i].name) == 0)
      {
        *dtype = (AneDType) i;
        return TRUE;
      }
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_ascii_strcasecmp (name, aliases[i].alias) == 0)
      {
        *dtype = aliases[i].dtype;
        return TRUE;
      }
  return FALSE;
}

/**
 * ane_dtype_is_float:
 * @dtype: a dtype
 *
 * Whether @dtype is a floating-point type.
 *
 * Returns: %TRUE for float32, float16 and bfloat16
 */
gboolean
ane_dtype_is_float (AneDType dtype)
{
  return dtype == ANE_DTYPE_FLOAT32 || dtype == ANE_DTYPE_FLOAT16 ||
         dtype == ANE_DTYPE_BFLOAT16;
}

/**
 * ane_dtype_is_integer:
 * @dtype: a dtype
 *
 * Whether @dtype is an integer type.
 *
 * Returns: %TRUE for the signed and unsigned integer dtypes (not bool)
 */
gboolean
ane_dtype_is_integer (AneDType dtype)
{
  return dtype == ANE_DTYPE_INT8 || dtype == ANE_DTYPE_UINT8 ||
         dtype == ANE_DTYPE_INT16 || dtype == ANE_DTYPE_INT32 ||
         dtype == ANE_DTYPE_INT64;
}

/**
 * ane_dtype_is_block:
 * @dtype: a dtype
 *
 * Whether @dtype is a GGUF block-quantized type.
 *
 * Returns: %TRUE for the GGUF block-quantized dtypes
 */
gboolean
ane_dtype_is_block (AneDType dtype)
{
  return dtype_valid (dtype) && dtype_info[dtype].elem_size == 0;
}

/**
 * ane_dtype_block_size:
 * @dtype: a dtype
 *
 * The elements in one block of @dtype.
 *
 * Returns: elements per block (32 or 256 for block types, 1 otherwise)
 */
guint
ane_dtype_block_size (AneDType dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].block_size : 0;
}

/**
 * ane_dtype_block_bytes:
 * @dtype: a dtype
 *
 * The bytes of one block of @dtype.
 *
 * Returns: bytes per block (for plain types, bytes per element)
 */
guint
ane_dtype_block_bytes (AneDType dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].block_bytes : 0;
}

gsize
ane_dtype_size (AneDType dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].elem_size : 0;
}

gboolean
ane_shape_n_elements (const gint64 *shape,
                      guint         rank,
                      gint64       *n_elements,
                      GError      **error)
{
  gint64 n = 1;

  if (rank > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "rank %u exceeds the maximum rank %d", rank, ANE_MAX_RANK);
      return FALSE;
    }
  for (guint i = 0; i < rank; i++)
    {
      if (shape[i] < 0)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "dimension %u is negative (%" G_GINT64_FORMAT ")", i, shape[i]);
          return FALSE;
        }
      if (shape[i] != 0 && n > G_MAXINT64 / shape[i])
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                       "element count overflows 64 bits at dimension %u", i);
          return FALSE;
        }
      n *= shape[i];
    }
  *n_elements = n;
  return TRUE;
}

gboolean
ane_dtype_n_bytes (AneDType dtype,
                   gint64   n_elements,
                   gsize   *n_bytes,
                   GError **error)
{
  const DTypeInfo *info;
  guint64 blocks;

  if (!dtype_valid (dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "invalid dtype %d", (int) dtype);
      return FALSE;
    }
  info = &dtype_info[dtype];
  if (n_elements < 0 || n_elements % info->block_size != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%" G_GINT64_FORMAT " elements is not a whole number of %s blocks of %u",
                   n_elements, info->name, info->block_size);
      return FALSE;
    }
  blocks = (guint64) n_elements / info->block_size;
  if (blocks > G_MAXSIZE / info->block_bytes)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                   "byte count of %" G_GINT64_FORMAT " %s elements overflows",
                   n_elements, info->name);
      return FALSE;
    }
  *n_bytes = (gsize) blocks * info->block_bytes;
  return TRUE;
}

/* --- fp16 / bf16 ------------------------------------------------------- */

/**
 * ane_float_to_half:
 * @value: a float
 *
 * Converts to IEEE binary16 bits, rounding to nearest with ties to even.
 * Subnormals are produced exactly, values from 65520 up become infinity and
 * NaN stays NaN (quiet, sign and top payload bits kept).
 *
 * Returns: the binary16 bit pattern
 */
guint16
ane_float_to_half (float value)
{
  guint32 x, sign, absx;

  memcpy (&x, &value, sizeof x);
  sign = (x >> 16) & 0x8000u;
  absx = x & 0x7fffffffu;

  if (absx >= 0x7f800000u)      /* inf or NaN */
    return absx > 0x7f800000u ? (guint16) (sign | 0x7e00u | ((absx >> 13) & 0x3ffu))
                              : (guint16) (sign | 0x7c00u);
  if (absx >= 0x477ff000u)      /* >= 65520: the halfway point above 65504 rounds up */
    return (guint16) (sign | 0x7c00u);
  if (absx < 0x38800000u)       /* below 2^-14: a half subnormal or zero */
    {
      guint32 e = absx >> 23, m, shift, r, rem, halfway;

      if (absx < 0x33000000u)   /* below 2^-25 (2^-25 itself ties to the even 0) */
        return (guint16) sign;
      m = (absx & 0x7fffffu) | 0x800000u;
      shift = 126 - e;          /* value / 2^-24 == m >> (126 - e) */
      r = m >> shift;
      rem = m & ((1u << shift) - 1);
      halfway = 1u << (shift - 1);
      if (rem > halfway || (rem == halfway && (r & 1)))
        r++;
      return (guint16) (sign | r);
    }
  else
    {
      /* Rebias the exponent (127 -> 15) and round away 13 mantissa bits; a
       * carry out of the mantissa correctly bumps the exponent. */
      guint32 v = absx - 0x38000000u;
      guint32 r = v >> 13, rem = v & 0x1fffu;

      if (rem > 0x1000u || (rem == 0x1000u && (r & 1)))
        r++;
      return (guint16) (sign | r);
    }
}

/**
 * ane_half_to_float:
 * @bits: a binary16 bit pattern
 *
 * Converts binary16 to float (exact).
 *
 * Returns: the value
 */
float
ane_half_to_float (guint16 bits)
{
  guint32 sign = ((guint32) bits & 0x8000u) << 16;
  guint32 exp = (bits >> 10) & 0x1fu, mant = bits & 0x3ffu, x;
  float f;

  if (exp == 0)
    {
      f = (float) mant * 0x1p-24f;   /* zero or subnormal, exact */
      return sign ? -f : f;
    }
  if (exp == 31)
    x = sign | 0x7f800000u | (mant << 13);
  else
    x = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&f, &x, sizeof f);
  return f;
}

/**
 * ane_float_to_bfloat16:
 * @value: a float
 *
 * Converts to bfloat16 bits, rounding to nearest with ties to even.
 *
 * Returns: the bfloat16 bit pattern
 */
guint16
ane_float_to_bfloat16 (float value)
{
  guint32 x;

  memcpy (&x, &value, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (guint16) ((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (guint16) (x >> 16);
}

/**
 * ane_bfloat16_to_float:
 * @bits: a bfloat16 bit pattern
 *
 * Converts bfloat16 bits to float.
 *
 * Returns: the value (exact)
 */
float
ane_bfloat16_to_float (guint16 bits)
{
  guint32 x = (guint32) bits << 16;
  float f;

  memcpy (&f, &x, sizeof f);
  return f;
}

/* Rounds a double to a binary format with p significand bits and normal
 * exponents emin..emax, ties to even, with gradual underflow and overflow to
 * infinity. Rounding straight from double avoids the double rounding of
 * double -> float -> half. */
static double
round_binary (double d,
              int    p,
              int    emin,
              int    emax)
{
  double a, quantum, r, max_finite;
  int q, e;

  if (!isfinite (d) || d == 0.0)
    return d;
  a = fabs (d);
  frexp (a, &q);
  e = MAX (q - 1, emin);
  quantum = ldexp (1.0, e - p + 1);
  r = nearbyint (a / quantum) * quantum;
  max_finite = ldexp (2.0 - ldexp (1.0, 1 - p), emax);
  if (r > max_finite)
    r = INFINITY;
  return copysign (r, d);
}

static double
clamp_int (double v, double lo, double hi)
{
  if (isnan (v))
    return 0.0;
  v = trunc (v);
  return v < lo ? lo : v > hi ? hi : v;
}

/* The value a double becomes when stored as dtype: floats round to nearest
 * even, integers truncate toward zero and saturate (NaN becomes 0), bool is
 * "non-zero" (NaN included, as numpy). */
double
ane_dtype_round (AneDType dtype,
                 double   v)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:  return (double) (float) v;
    case ANE_DTYPE_FLOAT16:  return round_binary (v, 11, -14, 15);
    case ANE_DTYPE_BFLOAT16: return round_binary (v, 8, -126, 127);
    case ANE_DTYPE_INT8:     return clamp_int (v, -128.0, 127.0);
    case ANE_DTYPE_UINT8:    return clamp_int (v, 0.0, 255.0);
    case ANE_DTYPE_INT16:    return clamp_int (v, -32768.0, 32767.0);
    case ANE_DTYPE_INT32:    return clamp_int (v, -2147483648.0, 2147483647.0);
    /* 2^63 is not an int64; the largest double below it is 2^63 - 1024. */
    case ANE_DTYPE_INT64:    return clamp_int (v, -0x1p63, 0x1p63 - 1024.0);
    case ANE_DTYPE_BOOL:     return v != 0.0 ? 1.0 : 0.0;   /* NaN != 0: true, as numpy */
    default:                 return v;
    }
}

void
ane_dtype_decode (AneDType    dtype,
                  const void *src,
                  gsize       n,
                  double     *dst)
{
  switch (dtype)
    {
#define DECODE(T) { const T *s = src; for (gsize i = 0; i < n; i++) { T t; memcpy (&t, s + i, sizeof t); dst[i] = (double) t; } } break
    case ANE_DTYPE_FLOAT32: DECODE (float);
    case ANE_DTYPE_INT8:    DECODE (gint8);
    case ANE_DTYPE_UINT8:   DECODE (guint8);
    case ANE_DTYPE_INT16:   DECODE (gint16);
    case ANE_DTYPE_INT32:   DECODE (gint32);
    case ANE_DTYPE_INT64:   DECODE (gint64);
#undef DECODE
    case ANE_DTYPE_BOOL:
      for (gsize i = 0; i < n; i++)
        dst[i] = ((const guint8 *) src)[i] ? 1.0 : 0.0;
      break;
    case ANE_DTYPE_FLOAT16:
    case ANE_DTYPE_BFLOAT16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 h;
          memcpy (&h, (const guint8 *) src + 2 * i, 2);
          dst[i] = dtype == ANE_DTYPE_FLOAT16 ? ane_half_to_float (h) : ane_bfloat16_to_float (h);
        }
      break;
    default:
      g_return_if_reached ();
    }
}

void
ane_dtype_encode (AneDType      dtype,
                  const double *src,
                  gsize         n,
                  void         *dst)
{
  switch (dtype)
    {
#define ENCODE(T) { T *d = dst; for (gsize i = 0; i < n; i++) { T t = (T) ane_dtype_round (dtype, src[i]); memcpy (d + i, &t, sizeof t); } } break
    case ANE_DTYPE_FLOAT32: ENCODE (float);
    case ANE_DTYPE_INT8:    ENCODE (gint8);
    case ANE_DTYPE_UINT8:   ENCODE (guint8);
    case ANE_DTYPE_INT16:   ENCODE (gint16);
    case ANE_DTYPE_INT32:   ENCODE (gint32);
    case ANE_DTYPE_INT64:   ENCODE (gint64);
    case ANE_DTYPE_BOOL:    ENCODE (guint8);
#undef ENCODE
    case ANE_DTYPE_FLOAT16:
    case ANE_DTYPE_BFLOAT16:
      for (gsize i = 0; i < n; i++)
        {
          /* Round from double first, then the float conversion is exact. */
          float f = (float) ane_dtype_round (dtype, src[i]);
          guint16 h = dtype == ANE_DTYPE_FLOAT16 ? ane_float_to_half (f) : ane_float_to_bfloat16 (f);
          memcpy ((guint8 *) dst + 2 * i, &h, 2);
        }
      break;
    default:
      g_return_if_reached ();
    }
}

/* --- specs ------------------------------------------------------------- */

const char *
ane_spec_format (const AneSpec *spec,
                 char           buf[ANE_SPEC_STRLEN])
{
  gsize len;

  len = g_snprintf (buf, ANE_SPEC_STRLEN, "%s[", ane_dtype_to_string (spec->dtype));
  for (guint i = 0; i < spec->rank && i < ANE_MAX_RANK && len < ANE_SPEC_STRLEN; i++)
    len += g_snprintf (buf + len, ANE_SPEC_STRLEN - len, i ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                       spec->shape[i]);
  if (len < ANE_SPEC_STRLEN - 1)
    {
      buf[len] = ']';
      buf[len + 1] = '\0';
    }
  return buf;
}

gboolean
ane_spec_n_elements (const AneSpec *spec,
                     gint64        *n_elements)
{
  return ane_shape_n_elements (spec->shape, spec->rank, n_elements, NULL);
}

gboolean
ane_spec_equal (const AneSpec *a,
                const AneSpec *b)
{
  if (a->dtype != b->dtype || a->rank != b->rank)
    return FALSE;
  for (guint i = 0; i < a->rank; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

void
ane_spec_set_shape (AneSpec      *spec,
                    const gint64 *shape,
                    guint         rank)
{
  g_assert (rank <= ANE_MAX_RANK);
  spec->rank = rank;
  for (guint i = 0; i < ANE_MAX_RANK; i++)
    spec->shape[i] = i < rank ? shape[i] : 0;
}

/* Checks that a spec is a valid static shape for its dtype: rank, non-negative
 * dims, no size overflow, whole blocks for block dtypes. */
gboolean
ane_spec_check (const AneSpec *spec,
                const char    *what,
                GError       **error)
{
  g_autoptr(GError) local = NULL;
  gint64 n;
  gsize bytes;

  if (!dtype_valid (spec->dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "%s: invalid dtype %d", what, (int) spec->dtype);
      return FALSE;
    }
  if (!ane_shape_n_elements (spec->shape, spec->rank, &n, &local) ||
      !ane_dtype_n_bytes (spec->dtype, n, &bytes, &local))
    {
      g_set_error (error, ANE_ERROR, local->code, "%s: %s", what, local->message);
      return FALSE;
    }
  if (ane_dtype_is_block (spec->dtype) &&
      (spec->rank == 0 || spec->shape[spec->rank - 1] % ane_dtype_block_size (spec->dtype) != 0))
    {
      char buf[ANE_SPEC_STRLEN];
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%s: the innermost dimension of %s must be a multiple of the block size %u",
                   what, ane_spec_format (spec, buf), ane_dtype_block_size (spec->dtype));
      return FALSE;
    }
  return TRUE;
}

void
ane_shape_strides (const gint64 *shape,
                   guint         rank,
                   gint64       *strides)
{
  gint64 s = 1;

  for (guint i = rank; i-- > 0;)
    {
      strides[i] = s;
      s *= shape[i];
    }
}

gboolean
ane_normalize_axis (gint64  axis,
                    guint   rank,
                    guint  *out)
{
  if (axis < -(gint64) rank || axis >= (gint64) rank)
    return FALSE;
  *out = (guint) (axis < 0 ? axis + rank : axis);
  return TRUE;
}

/* --- attributes -------------------------------------------------------- */

GVariant *
ane_attrs_new (const char *first_name,
               ...)
{
  GVariantBuilder builder;
  va_list args;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  va_start (args, first_name);
  for (const char *name = first_name; name != NULL; name = va_arg (args, const char *))
    g_variant_builder_add (&builder, "{sv}", name, va_arg (args, GVariant *));
  va_end (args);
  return g_variant_builder_end (&builder);
}

GVariant *
ane_attrs_ints_variant (const gint64 *values,
                        gsize         n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, values, n, sizeof (gint64));
}

/* Attribute dictionaries are completed against the catalog before any rule
 * or kernel sees them, so a missing or mistyped attribute here is a bug in
 * the op's own code, not bad input. */
static GVariant *
attr_lookup (GVariant           *attrs,
             const char         *name,
             const GVariantType *type)
{
  GVariant *v = g_variant_lookup_value (attrs, name, type);

  if (v == NULL)
    g_error ("attribute '%s' of type %s missing after completion", name,
             g_variant_type_peek_string (type));
  return v;
}

gint64
ane_attrs_int (GVariant   *attrs,
               const char *name)
{
  g_autoptr(GVariant) v = attr_lookup (attrs, name, G_VARIANT_TYPE_INT64);
  return g_variant_get_int64 (v);
}

double
ane_attrs_double (GVariant   *attrs,
                  const char *name)
{
  g_autoptr(GVariant) v = attr_lookup (attrs, name, G_VARIANT_TYPE_DOUBLE);
  return g_variant_get_double (v);
}

gboolean
ane_attrs_bool (GVariant   *attrs,
                const char *name)
{
  g_autoptr(GVariant) v = attr_lookup (attrs, name, G_VARIANT_TYPE_BOOLEAN);
  return g_variant_get_boolean (v);
}

/* The returned pointers stay valid as long as attrs lives: the dictionary
 * holds the child values. */
const char *
ane_attrs_string (GVariant   *attrs,
                  const char *name)
{
  g_autoptr(GVariant) v = attr_lookup (attrs, name, G_VARIANT_TYPE_STRING);
  return g_variant_get_string (v, NULL);
}

const gint64 *
ane_attrs_ints (GVariant   *attrs,
                const char *name,
                gsize      *n)
{
  g_autoptr(GVariant) v = attr_lookup (attrs, name, G_VARIANT_TYPE ("ax"));
  return g_variant_get_fixed_array (v, n, sizeof (gint64));
}

void
ane_attrs_ints_or (GVariant     *attrs,
                   const char   *name,
                   guint         n,
                   const gint64 *dflt,
                   gint64       *out)
{
  gsize len;
  const gint64 *v = ane_attrs_ints (attrs, name, &len);

  memcpy (out, len == n ? v : dflt, n * sizeof (gint64));
}

/* --- targets ------------------------------------------------------------- */

static const char *const target_names[] = {
  "ios15", "ios16", "ios17", "ios18", "macos12", "macos13", "macos14", "macos15",
};

/**
 * ane_target_to_string:
 * @target: a deployment target
 *
 * The target's name as the command line takes it ("ios17", "macos14").
 *
 * Returns: (transfer none): the name, or "invalid"
 */
const char *
ane_target_to_string (AneTarget target)
{
  return (guint) target < G_N_ELEMENTS (target_names) ? target_names[target] : "invalid";
}

/**
 * ane_target_from_string:
 * @name: "ios15".."ios18" or "macos12".."macos15" (case-insensitive)
 * @target: (out): the target
 *
 * Parses a deployment target name.
 *
 * Returns: %TRUE if @name names a target
 */
gboolean
ane_target_from_string (const char *name,
                        AneTarget  *target)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (target != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (target_names); i++)
    if (g_ascii_strcasecmp (name, target_names[i]) == 0)
      {
        *target = (AneTarget) i;
        return TRUE;
      }
  return FALSE;
}
