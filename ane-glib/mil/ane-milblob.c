/* mil/ane-milblob.c: MIL Blob Storage v2 (weights/weight.bin) read/write
 *
 * The format is Apple's (coremltools mlmodel/src/MILBlob/Blob/):
 * StorageFormat.hpp gives the 64-byte storage_header {count, version = 2,
 * reserved} and the 64-byte blob_metadata {sentinel 0xDEADBEEF, mil_dtype,
 * sizeInBytes, offset, padding_size_in_bits, reserved}; BlobDataType.hpp the
 * type codes. StorageWriter.cpp + FileWriter.cpp fix the layout we reproduce
 * byte for byte: each record goes at the next 64-byte boundary after the
 * current end of file (FileWriter::GetNextAlignedOffset seeks past the end,
 * so the gap reads as zeros), the data follows the record directly
 * (offset = record + 64, aligned because the record is), nothing pads the
 * end of the file, and the header's count is rewritten after every blob.
 * We rewrite it once, in finish; a half-written file of ours is deleted
 * rather than left with a stale count. StorageReader.cpp checks only the
 * version and each record's sentinel, and GetAllOffsets walks
 * align64(offset + sizeInBytes) from 64 for count records; we walk the same
 * way and check bounds and alignment as well, since a weight.bin may come
 * from anywhere.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ane-file-private.h"
#include "ane-milblob-private.h"

/* Conversion chunk of add_f32_as_f16: 32 Ki values, 64 KiB of halves. */
#define F16_CHUNK_VALUES (32 * 1024)

static const char *const data_type_names[ANE_MILBLOB_N_DATA_TYPES] = {
  [ANE_MILBLOB_FLOAT16]        = "float16",
  [ANE_MILBLOB_FLOAT32]        = "float32",
  [ANE_MILBLOB_UINT8]          = "uint8",
  [ANE_MILBLOB_INT8]           = "int8",
  [ANE_MILBLOB_BFLOAT16]       = "bfloat16",
  [ANE_MILBLOB_INT16]          = "int16",
  [ANE_MILBLOB_UINT16]         = "uint16",
  [ANE_MILBLOB_INT4]           = "int4",
  [ANE_MILBLOB_UINT1]          = "uint1",
  [ANE_MILBLOB_UINT2]          = "uint2",
  [ANE_MILBLOB_UINT4]          = "uint4",
  [ANE_MILBLOB_UINT3]          = "uint3",
  [ANE_MILBLOB_UINT6]          = "uint6",
  [ANE_MILBLOB_INT32]          = "int32",
  [ANE_MILBLOB_UINT32]         = "uint32",
  [ANE_MILBLOB_FLOAT8_E4M3FN]  = "float8e4m3fn",
  [ANE_MILBLOB_FLOAT8_E5M2]    = "float8e5m2",
};

const char *
ane_milblob_data_type_name (AneMilBlobDataType type)
{
  if ((guint) type < ANE_MILBLOB_N_DATA_TYPES && data_type_names[type] != NULL)
    return data_type_names[type];
  return "unknown";
}

gboolean
ane_milblob_data_type_is_sub_byte (AneMilBlobDataType type)
{
  switch (type)
    {
    case ANE_MILBLOB_INT4:
    case ANE_MILBLOB_UINT1:
    case ANE_MILBLOB_UINT2:
    case ANE_MILBLOB_UINT3:
    case ANE_MILBLOB_UINT4:
    case ANE_MILBLOB_UINT6:
      return TRUE;
    default:
      return FALSE;
    }
}

guint
ane_milblob_data_type_bits (AneMilBlobDataType type)
{
  switch (type)
    {
    case ANE_MILBLOB_INT4:
    case ANE_MILBLOB_UINT4:
      return 4;
    case ANE_MILBLOB_UINT1:
      return 1;
    case ANE_MILBLOB_UINT2:
      return 2;
    case ANE_MILBLOB_UINT3:
      return 3;
    case ANE_MILBLOB_UINT6:
      return 6;
    default:
      return 0;
    }
}

static gboolean
data_type_known (guint32 code)
{
  return code < ANE_MILBLOB_N_DATA_TYPES && data_type_names[code] != NULL;
}

/* Rounds up to the storage alignment; FALSE if that overflows. */
static gboolean
align_up (guint64  value,
          guint64 *out)
{
  guint64 rem = value % ANE_MILBLOB_ALIGNMENT;

  if (rem == 0)
    {
      *out = value;
      return TRUE;
    }
  if (value > G_MAXUINT64 - (ANE_MILBLOB_ALIGNMENT - rem))
    return FALSE;
  *out = value + (ANE_MILBLOB_ALIGNMENT - rem);
  return TRUE;
}

/* Where the writer puts the next blob of size bytes when the file ends at
 * end: the record at the next boundary, the data right after it. FALSE when
 * the new end would not fit in an off_t. */
static gboolean
place_blob (guint64  end,
            guint64  size,
            guint64 *record_offset,
            guint64 *new_end)
{
  guint64 r;

  if (!align_up (end, &r) ||
      r > (guint64) G_MAXINT64 - ANE_MILBLOB_RECORD_SIZE ||
      size > (guint64) G_MAXINT64 - (r + ANE_MILBLOB_RECORD_SIZE))
    return FALSE;
  *record_offset = r;
  *new_end = r + ANE_MILBLOB_RECORD_SIZE + size;
  return TRUE;
}

static guint32
read_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_LE (v);
}

static guint64
read_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_LE (v);
}

static void
put_u32 (guint8  *p,
         guint32  v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

static void
put_u64 (guint8  *p,
         guint64  v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

/* --- reading ----------------------------------------------------------- */

struct _AneMilBlobReader {
  GBytes       *bytes;
  const guint8 *data;
  gsize         size;
  char         *name;
  guint32       count;
};

static AneMilBlobReader *
reader_new (GBytes      *bytes,
            const char  *name,
            GError     **error)
{
  g_autoptr(AneMilBlobReader) reader = g_new0 (AneMilBlobReader, 1);
  guint32 version;

  reader->bytes = g_bytes_ref (bytes);
  reader->data = g_bytes_get_data (bytes, &reader->size);
  reader->name = g_strdup (name);

  if (reader->size < ANE_MILBLOB_HEADER_SIZE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: %" G_GSIZE_FORMAT " bytes is too short for the %d-byte blob storage header",
                   name, reader->size, ANE_MILBLOB_HEADER_SIZE);
      return NULL;
    }
  reader->count = read_u32 (reader->data);
  version = read_u32 (reader->data + 4);
  if (version != ANE_MILBLOB_VERSION)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: offset 4: blob storage version %u, expected %d",
                   name, version, ANE_MILBLOB_VERSION);
      return NULL;
    }
  /* Every blob takes at least its 64-byte record, so a larger count cannot
   * be true; checking here keeps a hostile count from sizing allocations. */
  if (reader->count > (reader->size - ANE_MILBLOB_HEADER_SIZE) / ANE_MILBLOB_RECORD_SIZE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: offset 0: header counts %u blobs, more than %" G_GSIZE_FORMAT " bytes can hold",
                   name, reader->count, reader->size);
      return NULL;
    }
  return g_steal_pointer (&reader);
}

AneMilBlobReader *
ane_milblob_reader_open (const char  *path,
                         GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = ane_file_map_bytes (path, error);
  if (bytes == NULL)
    return NULL;
  return reader_new (bytes, path, error);
}

AneMilBlobReader *
ane_milblob_reader_new_from_bytes (GBytes      *bytes,
                                   const char  *name,
                                   GError     **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return reader_new (bytes, name != NULL ? name : "(weight blob)", error);
}

void
ane_milblob_reader_free (AneMilBlobReader *reader)
{
  if (reader == NULL)
    return;
  g_clear_pointer (&reader->bytes, g_bytes_unref);
  g_free (reader->name);
  g_free (reader);
}

guint32
ane_milblob_reader_get_count (AneMilBlobReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return reader->count;
}

gsize
ane_milblob_reader_get_size (AneMilBlobReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return reader->size;
}

#define RECORD_ERROR(fmt, ...) \
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: blob record at offset %" G_GUINT64_FORMAT ": " fmt, \
               reader->name, offset, __VA_ARGS__)

gboolean
ane_milblob_reader_record (AneMilBlobReader  *reader,
                           guint64            offset,
                           AneMilBlobRecord  *record,
                           GError           **error)
{
  const guint8 *p;
  guint32 sentinel, type;
  guint64 size, data_offset, padding_bits;

  g_return_val_if_fail (reader != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (offset % ANE_MILBLOB_ALIGNMENT != 0)
    {
      RECORD_ERROR ("not %d-byte aligned", ANE_MILBLOB_ALIGNMENT);
      return FALSE;
    }
  if (offset < ANE_MILBLOB_HEADER_SIZE)
    {
      RECORD_ERROR ("inside the %d-byte header", ANE_MILBLOB_HEADER_SIZE);
      return FALSE;
    }
  if (offset > reader->size || reader->size - offset < ANE_MILBLOB_RECORD_SIZE)
    {
      RECORD_ERROR ("the %d-byte record ends past the end of the file (%" G_GSIZE_FORMAT " bytes)",
                    ANE_MILBLOB_RECORD_SIZE, reader->size);
      return FALSE;
    }

  p = reader->data + offset;
  sentinel = read_u32 (p);
  type = read_u32 (p + 4);
  size = read_u64 (p + 8);
  data_offset = read_u64 (p + 16);
  padding_bits = read_u64 (p + 24);

  if (sentinel != ANE_MILBLOB_SENTINEL)
    {
      RECORD_ERROR ("sentinel 0x%08x, expected 0x%08x", sentinel, ANE_MILBLOB_SENTINEL);
      return FALSE;
    }
  if (!data_type_known (type))
    {
      RECORD_ERROR ("unknown data type %u", type);
      return FALSE;
    }
  if (data_offset % ANE_MILBLOB_ALIGNMENT != 0 || data_offset < offset + ANE_MILBLOB_RECORD_SIZE)
    {
      RECORD_ERROR ("data offset %" G_GUINT64_FORMAT " is not a %d-byte aligned offset after the record",
                    data_offset, ANE_MILBLOB_ALIGNMENT);
      return FALSE;
    }
  if (data_offset > reader->size || size > reader->size - data_offset)
    {
      RECORD_ERROR ("%" G_GUINT64_FORMAT " bytes of data at offset %" G_GUINT64_FORMAT
                    " end past the end of the file (%" G_GSIZE_FORMAT " bytes)",
                    size, data_offset, reader->size);
      return FALSE;
    }
  /* The field was reserved (and left uninitialised) before iOS 18, so it
   * means something only for the sub-byte types, which came with it. */
  if (!ane_milblob_data_type_is_sub_byte (type))
    padding_bits = 0;
  else if (padding_bits >= 8 || (size == 0 && padding_bits != 0))
    {
      RECORD_ERROR ("%" G_GUINT64_FORMAT " padding bits for %" G_GUINT64_FORMAT " bytes of %s",
                    padding_bits, size, ane_milblob_data_type_name (type));
      return FALSE;
    }

  record->data_type = (AneMilBlobDataType) type;
  record->size = size;
  record->data_offset = data_offset;
  record->offset = offset;
  record->padding_bits = padding_bits;
  return TRUE;
}

#undef RECORD_ERROR

GBytes *
ane_milblob_reader_dup_data (AneMilBlobReader  *reader,
                             guint64            offset,
                             AneMilBlobRecord  *record,
                             GError           **error)
{
  AneMilBlobRecord local;

  g_return_val_if_fail (reader != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (record == NULL)
    record = &local;
  if (!ane_milblob_reader_record (reader, offset, record, error))
    return NULL;
  return g_bytes_new_from_bytes (reader->bytes, (gsize) record->data_offset, (gsize) record->size);
}

GArray *
ane_milblob_reader_list (AneMilBlobReader  *reader,
                         GError           **error)
{
  g_autoptr(GArray) records = NULL;
  guint64 offset = ANE_MILBLOB_HEADER_SIZE;
  guint64 end = ANE_MILBLOB_HEADER_SIZE;

  g_return_val_if_fail (reader != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  records = g_array_sized_new (FALSE, FALSE, sizeof (AneMilBlobRecord), reader->count);
  for (guint32 i = 0; i < reader->count; i++)
    {
      AneMilBlobRecord record;

      g_autoptr(GError) local = NULL;

      if (!ane_milblob_reader_record (reader, offset, &record, &local))
        {
          g_set_error (error, local->domain, local->code, "%s (blob %u of %u)",
                       local->message, i, reader->count);
          return NULL;
        }
      g_array_append_val (records, record);
      /* Within the file (checked above), so neither sum can overflow. */
      end = record.data_offset + record.size;
      if (!align_up (end, &offset))
        g_assert_not_reached ();
    }

  /* Apple's writer ends the file at the last blob's data. More than a zero
   * pad to the boundary after it means blobs the header does not count: a
   * writer that died before updating the count, or a concatenation. */
  if (reader->size > end)
    {
      gboolean only_padding = reader->size <= offset;

      for (guint64 i = end; only_padding && i < reader->size; i++)
        only_padding = reader->data[i] == 0;
      if (!only_padding)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: offset %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                       " bytes after the last of the %u blobs the header counts",
                       reader->name, end, (guint64) reader->size - end, reader->count);
          return NULL;
        }
    }
  return g_steal_pointer (&records);
}

/* --- writing ----------------------------------------------------------- */

struct _AneMilBlobWriter {
  char     *path;
  int       fd;
  guint64   size;      /* bytes written: the current end of the file */
  guint32   count;
  gboolean  failed;    /* a write failed: the file is not a valid blob file */
  guint16  *chunk;     /* conversion buffer of add_f32_as_f16 */
};

static gboolean
write_all (AneMilBlobWriter  *writer,
           const void        *data,
           gsize              size,
           GError           **error)
{
  const guint8 *p = data;

  while (size > 0)
    {
      /* Linux transfers at most 0x7ffff000 bytes per write; ask for no more
       * so a short count only ever means "try again". */
      gssize n = write (writer->fd, p, MIN (size, (gsize) 0x40000000));

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          writer->failed = TRUE;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                       "%s: writing at offset %" G_GUINT64_FORMAT ": %s",
                       writer->path, writer->size, g_strerror (errsv));
          return FALSE;
        }
      if (n == 0)
        {
          writer->failed = TRUE;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                       "%s: writing at offset %" G_GUINT64_FORMAT ": no progress",
                       writer->path, writer->size);
          return FALSE;
        }
      p += n;
      size -= (gsize) n;
      writer->size += (guint64) n;
    }
  return TRUE;
}

static gboolean
pwrite_all (AneMilBlobWriter  *writer,
            const void        *data,
            gsize              size,
            guint64            offset,
            GError           **error)
{
  const guint8 *p = data;

  while (size > 0)
    {
      gssize n = pwrite (writer->fd, p, size, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int errsv = n < 0 ? errno : EIO;

          writer->failed = TRUE;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                       "%s: writing at offset %" G_GUINT64_FORMAT ": %s",
                       writer->path, offset, g_strerror (errsv));
          return FALSE;
        }
      p += n;
      size -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

static void
writer_free (AneMilBlobWriter *writer)
{
  if (writer->fd >= 0)
    close (writer->fd);
  g_free (writer->chunk);
  g_free (writer->path);
  g_free (writer);
}

AneMilBlobWriter *
ane_milblob_writer_new (const char  *path,
                        GError     **error)
{
  AneMilBlobWriter *writer;
  guint8 header[ANE_MILBLOB_HEADER_SIZE] = { 0 };
  int errsv;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  writer = g_new0 (AneMilBlobWriter, 1);
  writer->path = g_strdup (path);
  do
    writer->fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  while (writer->fd < 0 && errno == EINTR);
  if (writer->fd < 0)
    {
      errsv = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create: %s",
                   path, g_strerror (errsv));
      writer_free (writer);
      return NULL;
    }

  /* The count is 0 until finish rewrites it. */
  put_u32 (header, 0);
  put_u32 (header + 4, ANE_MILBLOB_VERSION);
  if (!write_all (writer, header, sizeof header, error))
    {
      ane_milblob_writer_abort (writer);
      return NULL;
    }
  return writer;
}

static gboolean
writer_check_usable (AneMilBlobWriter  *writer,
                     GError           **error)
{
  if (writer->failed)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                   "%s: an earlier write failed; the file must be aborted", writer->path);
      return FALSE;
    }
  return TRUE;
}

/* Pads to the boundary and writes a record for size bytes of type; the data
 * must follow at once. */
static gboolean
writer_begin_blob (AneMilBlobWriter    *writer,
                   AneMilBlobDataType   type,
                   guint64              size,
                   guint64              padding_bits,
                   guint64             *offset,
                   GError             **error)
{
  static const guint8 zeros[ANE_MILBLOB_ALIGNMENT] = { 0 };
  guint8 record[ANE_MILBLOB_RECORD_SIZE] = { 0 };
  guint64 record_offset, data_offset, new_end;

  if (!writer_check_usable (writer, error))
    return FALSE;
  if (writer->count == G_MAXUINT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
                   "%s: the blob storage header counts at most %u blobs", writer->path, G_MAXUINT32);
      return FALSE;
    }
  if (!place_blob (writer->size, size, &record_offset, &new_end))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                   "%s: a blob of %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   " overflows the file size", writer->path, size, writer->size);
      return FALSE;
    }
  data_offset = record_offset + ANE_MILBLOB_RECORD_SIZE;

  put_u32 (record, ANE_MILBLOB_SENTINEL);
  put_u32 (record + 4, (guint32) type);
  put_u64 (record + 8, size);
  put_u64 (record + 16, data_offset);
  put_u64 (record + 24, padding_bits);

  if (!write_all (writer, zeros, (gsize) (record_offset - writer->size), error) ||
      !write_all (writer, record, sizeof record, error))
    return FALSE;
  g_assert (writer->size == data_offset);
  if (offset != NULL)
    *offset = record_offset;
  return TRUE;
}

/* write_all counts every byte, so the assertion only trips on a bug here. */
static void
writer_end_blob (AneMilBlobWriter *writer,
                 guint64           record_offset,
                 guint64           size)
{
  g_assert (writer->size == record_offset + ANE_MILBLOB_RECORD_SIZE + size);
  writer->count++;
}

gboolean
ane_milblob_writer_add_full (AneMilBlobWriter    *writer,
                             AneMilBlobDataType   type,
                             const void          *data,
                             gsize                size,
                             guint                padding_bits,
                             guint64             *offset,
                             GError             **error)
{
  guint64 record_offset;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!data_type_known (type))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: unknown blob data type %d", writer->path, (int) type);
      return FALSE;
    }
  if (padding_bits != 0 &&
      (!ane_milblob_data_type_is_sub_byte (type) || padding_bits >= 8 || size == 0))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: %u padding bits for %" G_GSIZE_FORMAT " bytes of %s",
                   writer->path, padding_bits, size, ane_milblob_data_type_name (type));
      return FALSE;
    }
  if (!writer_begin_blob (writer, type, size, padding_bits, &record_offset, error) ||
      !write_all (writer, data, size, error))
    return FALSE;
  writer_end_blob (writer, record_offset, size);
  if (offset != NULL)
    *offset = record_offset;
  return TRUE;
}

gboolean
ane_milblob_writer_add (AneMilBlobWriter    *writer,
                        AneMilBlobDataType   type,
                        const void          *data,
                        gsize                size,
                        guint64             *offset,
                        GError             **error)
{
  return ane_milblob_writer_add_full (writer, type, data, size, 0, offset, error);
}

gboolean
ane_milblob_writer_add_f32_as_f16 (AneMilBlobWriter  *writer,
                                   const float       *data,
                                   gsize              n,
                                   guint64           *offset,
                                   GError           **error)
{
  guint64 record_offset;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n > G_MAXSIZE / sizeof (guint16))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                   "%s: %" G_GSIZE_FORMAT " float16 values overflow the blob size", writer->path, n);
      return FALSE;
    }
  if (!writer_begin_blob (writer, ANE_MILBLOB_FLOAT16, (guint64) n * sizeof (guint16), 0,
                          &record_offset, error))
    return FALSE;

  /* One bounded buffer per writer, so a multi-GiB tensor is never held twice. */
  if (n > 0 && writer->chunk == NULL)
    writer->chunk = g_new (guint16, F16_CHUNK_VALUES);
  for (gsize done = 0; done < n;)
    {
      gsize k = MIN (n - done, F16_CHUNK_VALUES);

      ane_f32_to_f16_bulk (data + done, writer->chunk, k);
      if (!write_all (writer, writer->chunk, k * sizeof (guint16), error))
        return FALSE;
      done += k;
    }
  writer_end_blob (writer, record_offset, (guint64) n * sizeof (guint16));
  if (offset != NULL)
    *offset = record_offset;
  return TRUE;
}

guint64
ane_milblob_writer_get_size (AneMilBlobWriter *writer)
{
  g_return_val_if_fail (writer != NULL, 0);

  return writer->size;
}

gboolean
ane_milblob_writer_finish (AneMilBlobWriter  *writer,
                           gboolean           sync,
                           GError           **error)
{
  guint8 count[4];
  int fd, errsv;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  put_u32 (count, writer->count);
  if (!writer_check_usable (writer, error) ||
      !pwrite_all (writer, count, sizeof count, 0, error))
    {
      ane_milblob_writer_abort (writer);
      return FALSE;
    }
  if (sync && fsync (writer->fd) != 0)
    {
      errsv = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: fsync: %s", writer->path, g_strerror (errsv));
      ane_milblob_writer_abort (writer);
      return FALSE;
    }
  /* close can report a deferred write error (NFS, quota): the file is then
   * not what we wrote. EINTR from close must not be retried on Linux (the
   * descriptor is already gone). */
  fd = writer->fd;
  writer->fd = -1;
  if (close (fd) != 0 && errno != EINTR)
    {
      errsv = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: close: %s", writer->path, g_strerror (errsv));
      ane_milblob_writer_abort (writer);
      return FALSE;
    }
  writer_free (writer);
  return TRUE;
}

void
ane_milblob_writer_abort (AneMilBlobWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->fd >= 0)
    {
      close (writer->fd);
      writer->fd = -1;
    }
  if (g_unlink (writer->path) != 0 && errno != ENOENT)
    {
      int errsv = errno;
      g_warning ("%s: cannot delete the partial blob file: %s", writer->path, g_strerror (errsv));
    }
  writer_free (writer);
}

guint64
ane_milblob_planned_size (const guint64 *sizes,
                          gsize          n)
{
  guint64 end = ANE_MILBLOB_HEADER_SIZE;

  g_return_val_if_fail (sizes != NULL || n == 0, G_MAXUINT64);

  /* The writer's own placement; nothing follows the last blob. */
  for (gsize i = 0; i < n; i++)
    {
      guint64 record_offset;

      if (!place_blob (end, sizes[i], &record_offset, &end))
        return G_MAXUINT64;
    }
  return end;
}
