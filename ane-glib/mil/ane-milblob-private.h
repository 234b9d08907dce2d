/* mil/ane-milblob-private.h: MIL Blob Storage v2 (weights/weight.bin)
 *
 * Layout (coremltools mlmodel/src/MILBlob/Blob/StorageFormat.hpp, BlobDataType.hpp,
 * StorageWriter.cpp, FileWriter.cpp, StorageReader.cpp), all little-endian:
 *   file header, 64 bytes:  uint32 count, uint32 version (= 2), 56 zero bytes
 *   per blob, at a 64-byte aligned offset: a 64-byte metadata record
 *     uint32 sentinel (0xDEADBEEF), uint32 mil data type, uint64 sizeInBytes,
 *     uint64 offset (absolute file offset of the data, = record + 64),
 *     uint64 padding_size_in_bits (unused bits of sub-byte types, < 8),
 *     32 zero bytes
 *   followed directly by the data. The next record starts at the next 64-byte
 *   boundary (the gap is zero); the file ends right after the last blob's data,
 *   with no trailing padding.
 * A BlobFileValue in the program points at the metadata record's offset.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

#define ANE_MILBLOB_ALIGNMENT   64
#define ANE_MILBLOB_HEADER_SIZE 64
#define ANE_MILBLOB_RECORD_SIZE 64
#define ANE_MILBLOB_SENTINEL    0xDEADBEEFu
#define ANE_MILBLOB_VERSION     2

/* The data type codes of the blob format (BlobDataType in StorageFormat.hpp). */
typedef enum {
  ANE_MILBLOB_FLOAT16  = 1,
  ANE_MILBLOB_FLOAT32  = 2,
  ANE_MILBLOB_UINT8    = 3,
  ANE_MILBLOB_INT8     = 4,
  ANE_MILBLOB_BFLOAT16 = 5,
  ANE_MILBLOB_INT16    = 6,
  ANE_MILBLOB_UINT16   = 7,
  ANE_MILBLOB_INT4     = 8,
  ANE_MILBLOB_UINT1    = 9,
  ANE_MILBLOB_UINT2    = 10,
  ANE_MILBLOB_UINT4    = 11,
  ANE_MILBLOB_UINT3    = 12,
  ANE_MILBLOB_UINT6    = 13,
  ANE_MILBLOB_INT32    = 14,
  ANE_MILBLOB_UINT32   = 15,
  ANE_MILBLOB_FLOAT8_E4M3FN = 16,
  ANE_MILBLOB_FLOAT8_E5M2   = 17,
} AneMilBlobDataType;
/* Checked against BlobDataType.hpp (coremltools 8.x/9.x): the codes only ever
 * grow at the end. */
#define ANE_MILBLOB_N_DATA_TYPES (ANE_MILBLOB_FLOAT8_E5M2 + 1)

typedef struct {
  AneMilBlobDataType data_type;
  guint64            size;         /* bytes of data */
  guint64            data_offset;  /* absolute offset of the data */
  guint64            offset;       /* the metadata record's offset (the BlobFileValue) */
  guint64            padding_bits; /* unused trailing bits (sub-byte types), else 0 */
} AneMilBlobRecord;

/* "float16", "uint4", ... (or "unknown"). */
const char       *ane_milblob_data_type_name   (AneMilBlobDataType type);
/* TRUE for the sub-byte types (int4, uint1..uint6), whose records carry
 * padding_size_in_bits. */
gboolean          ane_milblob_data_type_is_sub_byte (AneMilBlobDataType type);
/* The bits of one element of a sub-byte type (int4 and uint4 4, uint1 1,
 * uint2 2, uint3 3, uint6 6), 0 for any other type. */
guint             ane_milblob_data_type_bits   (AneMilBlobDataType type);

/* --- reading ----------------------------------------------------------- */

typedef struct _AneMilBlobReader AneMilBlobReader;

AneMilBlobReader *ane_milblob_reader_open      (const char        *path,
                                                GError           **error);
AneMilBlobReader *ane_milblob_reader_new_from_bytes (GBytes       *bytes,
                                                     const char   *name,
                                                     GError      **error);
void              ane_milblob_reader_free      (AneMilBlobReader  *reader);
guint32           ane_milblob_reader_get_count (AneMilBlobReader  *reader);
gsize             ane_milblob_reader_get_size  (AneMilBlobReader  *reader);
/* Reads and checks the record at a metadata offset (sentinel, alignment,
 * bounds); errors name the file and the offset. */
gboolean          ane_milblob_reader_record    (AneMilBlobReader  *reader,
                                                guint64            offset,
                                                AneMilBlobRecord  *record,
                                                GError           **error);
/* Zero-copy view of a blob's data (checked as above). */
GBytes           *ane_milblob_reader_dup_data  (AneMilBlobReader  *reader,
                                                guint64            offset,
                                                AneMilBlobRecord  *record,
                                                GError           **error);
/* Every record in file order (walks the file from the header). */
GArray           *ane_milblob_reader_list      (AneMilBlobReader  *reader,
                                                GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilBlobReader, ane_milblob_reader_free)

/* --- writing (streamed: never holds more than one chunk of a blob) ------ */

typedef struct _AneMilBlobWriter AneMilBlobWriter;

/* Creates/truncates path and writes the header. */
AneMilBlobWriter *ane_milblob_writer_new       (const char        *path,
                                                GError           **error);
/* Appends one blob of raw bytes; *offset receives the metadata record's
 * offset (what a BlobFileValue stores). */
gboolean          ane_milblob_writer_add       (AneMilBlobWriter  *writer,
                                                AneMilBlobDataType type,
                                                const void        *data,
                                                gsize              size,
                                                guint64           *offset,
                                                GError           **error);
/* As _add, with padding_size_in_bits for sub-byte types (0..7; the unused
 * high bits of the last byte, e.g. 4 for an odd count of int4 values). */
gboolean          ane_milblob_writer_add_full  (AneMilBlobWriter  *writer,
                                                AneMilBlobDataType type,
                                                const void        *data,
                                                gsize              size,
                                                guint              padding_bits,
                                                guint64           *offset,
                                                GError           **error);
/* Appends n float32 values converted to float16 on the way, in bounded
 * chunks (round to nearest even; subnormals, inf and NaN handled). */
gboolean          ane_milblob_writer_add_f32_as_f16 (AneMilBlobWriter *writer,
                                                     const float      *data,
                                                     gsize             n,
                                                     guint64          *offset,
                                                     GError          **error);
/* Bytes written so far (the file size once finished). */
guint64           ane_milblob_writer_get_size  (AneMilBlobWriter  *writer);
/* Rewrites the header's count, optionally fsyncs, closes and frees the
 * writer. On failure the partial file is deleted (the writer is freed either
 * way). */
gboolean          ane_milblob_writer_finish    (AneMilBlobWriter  *writer,
                                                gboolean           sync,
                                                GError           **error);
/* Closes and deletes the partial file and frees the writer (after an error,
 * or to give up). NULL is ignored. */
void              ane_milblob_writer_abort     (AneMilBlobWriter  *writer);

/* Size the file will have for blobs of these sizes, without writing (for
 * the 2 GiB checks); G_MAXUINT64 if that does not fit in 64 bits. */
guint64           ane_milblob_planned_size     (const guint64     *sizes,
                                                gsize              n);

/* Fast bulk float32 -> float16 (hardware F16C where the CPU has it, else the
 * portable ane_float_to_half path); bit-identical to ane_float_to_half. */
void              ane_f32_to_f16_bulk          (const float       *src,
                                                guint16           *dst,
                                                gsize              n);
/* Exact; bit-identical to ane_half_to_float except that a signalling NaN
 * comes out quiet (0x7c01 -> 0x7fc02000), as F16C and NEON do. */
void              ane_f16_to_f32_bulk          (const guint16     *src,
                                                float             *dst,
                                                gsize              n);
/* The portable loops the bulk calls fall back to (for tests and bench). */
void              ane_f32_to_f16_portable      (const float       *src,
                                                guint16           *dst,
                                                gsize              n);
void              ane_f16_to_f32_portable      (const guint16     *src,
                                                float             *dst,
                                                gsize              n);
/* "f16c", "neon" or "portable": what the bulk calls use on this machine. */
const char       *ane_fp16_bulk_impl           (void);

G_END_DECLS
