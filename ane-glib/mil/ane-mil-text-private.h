/* mil/ane-mil-text-private.h: MIL programs as text, and back
 *
 * The text is the textual MIL of compiled models (model.mil inside an
 * .mlmodelc) and of the Neural Engine's in-memory compile path:
 *
 *     program(1.3)
 *     [buildInfo = dict<string, string>({{"coremltools-version", "9.0"}})]
 *     {
 *         func main<ios18>(tensor<fp16, [1, 4]> x) {
 *             tensor<fp16, [1, 4]> y = relu(x = x)[name = string("y")];
 *         } -> (y);
 *     }
 *
 * ane_mil_text_print() writes a Program (protobuf-c) as text; it is
 * deterministic and keeps the order of every repeated field and map, so
 * parse (print (p)) packs to the same bytes as p for the programs coremltools
 * and the builder write. ane_mil_text_parse() reads that text (both the
 * program(1.3) and the older program(1.0) spelling) into a Program that
 * protobuf_c_message_free_unpacked() frees. docs/mil-text.md has the grammar.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

typedef CoreML__Specification__MILSpec__TensorValue AneMilTensorValue;

/* The two spellings of scalars and rank-0 types. */
typedef enum {
  ANE_MIL_TEXT_STYLE_1_3,   /* program(1.3): fp16(0x1p+0), string("x"), int32 n */
  ANE_MIL_TEXT_STYLE_1_0,   /* program(1.0): tensor<fp16, []>(0x1p+0), tensor<int32, []> n */
} AneMilTextStyle;

/* The program as program(1.3) text (NUL-terminated; g_free it). NULL with
 * error set if the program holds something text cannot say (a value
 * without a type, a rank that disagrees with its dimensions, ...). */
char          *ane_mil_text_print        (const AneMilProgram *program,
                                          GError             **error);
char          *ane_mil_text_print_style  (const AneMilProgram *program,
                                          AneMilTextStyle      style,
                                          GError             **error);

/* Parses MIL text (len -1: NUL-terminated). origin names the text in error
 * messages ("origin:line:column: message", ANE_ERROR_PARSE). */
AneMilProgram *ane_mil_text_parse        (const char          *text,
                                          gssize               len,
                                          const char          *origin,
                                          GError             **error);
/* The same, and the style of the header (program(1.0) -> STYLE_1_0). */
AneMilProgram *ane_mil_text_parse_style  (const char          *text,
                                          gssize               len,
                                          const char          *origin,
                                          AneMilTextStyle     *style,
                                          GError             **error);

/* Opset names: the proto's "CoreML8" is spelled "ios18" in text; other
 * names pass unchanged. The results are g_strdup'ed. */
char          *ane_mil_text_opset_to_text   (const char *opset);
char          *ane_mil_text_opset_from_text (const char *text);

/* Shared by the printer and the parser (ane-mil-text.c). */
typedef struct {
  int         mil;        /* CoreML__Specification__MILSpec__DataType */
  const char *name;       /* "fp16", "int4", ... */
  guint       bits;       /* bits per element; 0 for string */
} AneMilTextDType;

const AneMilTextDType *ane_mil_text_dtype_by_enum (int         mil);
const AneMilTextDType *ane_mil_text_dtype_by_name (const char *name,
                                                   gsize       len);

/* Float codecs for the formats MIL keeps as bytes (IEEE-style rounding to
 * nearest even; NaN -> the format's quiet NaN). */
guint32        ane_mil_text_minifloat_encode (double v,
                                              int    mil_dtype);
double         ane_mil_text_minifloat_decode (guint32 bits,
                                              int     mil_dtype);
/* Any float dtype (fp32 and fp64 too) <-> its bit pattern. */
guint64        ane_mil_text_float_to_bits    (double  v,
                                              int     mil_dtype);
double         ane_mil_text_float_from_bits  (guint64 bits,
                                              int     mil_dtype);
guint64        ane_mil_text_canonical_nan    (int     mil_dtype);
gboolean       ane_mil_text_dtype_is_float   (int     mil_dtype);
gboolean       ane_mil_text_dtype_is_signed  (int     mil_dtype);
/* Element i of a bytes tensor value (fp16, 8-bit and sub-byte immediates),
 * packed little-endian and LSB-first below 8 bits. */
guint64        ane_mil_text_packed_element   (const guint8 *data,
                                              gsize         i,
                                              guint         bits);
/* Elements of a fully known shape; -1 if a dimension or the rank is unknown. */
gint64         ane_mil_text_shape_elements   (const AneMilTensorType *tt);
/* [A-Za-z_][A-Za-z0-9_]*: printed bare; other names are `quoted`. */
gboolean       ane_mil_text_is_ident         (const char *s);

G_END_DECLS
