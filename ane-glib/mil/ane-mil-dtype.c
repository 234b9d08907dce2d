/* mil/ane-mil-dtype.c: MIL DataType facts -- names, blob forms, AneDType
 * equivalents, element counts of tensor types
 *
 * The names are those MIL text writes; the blob types and widths those of
 * MIL Blob Storage v2 (coremltools mlmodel/src/MILBlob/Blob/StorageFormat.hpp,
 * see ane-milblob-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/ane-mil-dtype-private.h"

typedef struct {
  int                mil;     /* CoreML__Specification__MILSpec__DataType */
  const char        *name;    /* as in MIL text */
  AneMilBlobDataType blob;    /* 0: no blob form */
  guint              bits;
} MilTypeInfo;

static const MilTypeInfo mil_types[] = {
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL,         "bool",   0, 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING,       "string", 0, 0 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E4M3FN, "fp8e4m3fn", ANE_MILBLOB_FLOAT8_E4M3FN, 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT8E5M2,   "fp8e5m2", ANE_MILBLOB_FLOAT8_E5M2, 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16,      "fp16",   ANE_MILBLOB_FLOAT16, 16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32,      "fp32",   ANE_MILBLOB_FLOAT32, 32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64,      "fp64",   0, 64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16,     "bf16",   ANE_MILBLOB_BFLOAT16, 16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8,         "int8",   ANE_MILBLOB_INT8, 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16,        "int16",  ANE_MILBLOB_INT16, 16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32,        "int32",  ANE_MILBLOB_INT32, 32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64,        "int64",  0, 64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4,         "int4",   ANE_MILBLOB_INT4, 4 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8,        "uint8",  ANE_MILBLOB_UINT8, 8 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16,       "uint16", ANE_MILBLOB_UINT16, 16 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32,       "uint32", ANE_MILBLOB_UINT32, 32 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64,       "uint64", 0, 64 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4,        "uint4",  ANE_MILBLOB_UINT4, 4 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2,        "uint2",  ANE_MILBLOB_UINT2, 2 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1,        "uint1",  ANE_MILBLOB_UINT1, 1 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6,        "uint6",  ANE_MILBLOB_UINT6, 6 },
  { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3,        "uint3",  ANE_MILBLOB_UINT3, 3 },
};

static const MilTypeInfo *
mil_type_info (int mil_dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (mil_types); i++)
    if (mil_types[i].mil == mil_dtype)
      return &mil_types[i];
  return NULL;
}

gboolean
ane_mil_dtype_blob_info (int                 mil_dtype,
                         AneMilBlobDataType *blob_dtype,
                         guint              *bits)
{
  const MilTypeInfo *info = mil_type_info (mil_dtype);

  if (info == NULL || info->blob == 0)
    return FALSE;
  if (blob_dtype)
    *blob_dtype = info->blob;
  if (bits)
    *bits = info->bits;
  return TRUE;
}

const char *
ane_mil_dtype_to_string (int mil_dtype)
{
  const MilTypeInfo *info = mil_type_info (mil_dtype);

  return info ? info->name : "unknown";
}

gboolean
ane_mil_dtype_to_ane (int       mil_dtype,
                      AneDType *dtype)
{
  static const struct { int mil; AneDType ane; } map[] = {
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32,  ANE_DTYPE_FLOAT32 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16,  ANE_DTYPE_FLOAT16 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16, ANE_DTYPE_BFLOAT16 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8,     ANE_DTYPE_INT8 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8,    ANE_DTYPE_UINT8 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16,    ANE_DTYPE_INT16 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32,    ANE_DTYPE_INT32 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64,    ANE_DTYPE_INT64 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL,     ANE_DTYPE_BOOL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (map[i].mil == mil_dtype)
      {
        *dtype = map[i].ane;
        return TRUE;
      }
  return FALSE;
}

gboolean
ane_array_dtype_to_ane (int       array_dtype,
                        AneDType *dtype)
{
  switch (array_dtype)
    {
    case CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32:
      *dtype = ANE_DTYPE_FLOAT32;
      return TRUE;
    case CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16:
      *dtype = ANE_DTYPE_FLOAT16;
      return TRUE;
    case CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT32:
      *dtype = ANE_DTYPE_INT32;
      return TRUE;
    case CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT8:
      *dtype = ANE_DTYPE_INT8;
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
ane_mil_tensor_type_n_elements (const AneMilTensorType *type,
                                guint64                *n_elements,
                                GError                **error)
{
  guint64 n = 1;

  if (type->rank < 0 || (guint64) type->rank != type->n_dimensions)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "tensor type has rank %" G_GINT64_FORMAT " and %" G_GSIZE_FORMAT
                   " dimensions", type->rank, type->n_dimensions);
      return FALSE;
    }
  for (gsize i = 0; i < type->n_dimensions; i++)
    {
      const AneMilDimension *dim = type->dimensions[i];

      if (dim == NULL ||
          dim->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT ||
          dim->constant == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "tensor type has an unknown dimension %" G_GSIZE_FORMAT, i);
          return FALSE;
        }
      if (dim->constant->size != 0 && n > G_MAXUINT64 / dim->constant->size)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                       "tensor type's element count overflows");
          return FALSE;
        }
      n *= dim->constant->size;
    }
  *n_elements = n;
  return TRUE;
}
