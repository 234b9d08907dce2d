/* ane-file-private.h: reading, writing and replacing files safely (internal)
 *
 * Every function here reports errors as ANE_ERROR_IO (ANE_ERROR_NOT_FOUND
 * when a file to read does not exist) with a message that names the file
 * and the operation.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "ane-private.h"

G_BEGIN_DECLS

/* ---- reading ---- */

/* Opens @path read-only, refusing anything but a regular file (a FIFO, a
 * device, a directory, a socket) with ANE_ERROR_IO naming it, without ever
 * blocking: open(2) of a FIFO for reading waits for a writer, so the file is
 * opened with O_NONBLOCK, checked with fstat(2), and only then switched back
 * to blocking reads. Returns the descriptor (O_CLOEXEC) or -1. */
int           ane_file_open_regular     (const char   *path,
                                         GError      **error);
/* pread(2) of @size bytes at @offset into @dst, EINTR retried and a short
 * read continued. Returns the bytes read: @size, or fewer at the file's
 * end or on an error (errno then set). */
gsize         ane_file_pread_all        (int           fd,
                                         gpointer      dst,
                                         gsize         size,
                                         guint64       offset);
/* The whole regular file @path mapped read-only (zero-copy; a file of size
 * 0 maps to empty contents). */
GMappedFile  *ane_file_map_regular      (const char   *path,
                                         GError      **error);
/* The same, handing the open descriptor to the caller in @fd_out (who
 * closes it) when not %NULL. */
GMappedFile  *ane_file_map_regular_fd   (const char   *path,
                                         int          *fd_out,
                                         GError      **error);
/* The whole regular file @path mapped read-only as bytes that remember
 * they are a file mapping, so ane_file_release_pages() may drop their
 * pages once a copy of what they hold has been made. */
GBytes       *ane_file_map_bytes        (const char   *path,
                                         GError      **error);
/* Tells the kernel the process no longer needs its resident pages of
 * [@data, @data + @size) when that range lies inside a live mapping made by
 * ane_file_map_bytes() (the caller holds a reference to its bytes): they
 * leave the process's RSS and come back from the page cache, unchanged, if
 * read again. Anything else (heap memory, another mapping) is left alone.
 * Used after a weight has been converted to the dtype a backend keeps
 * (fp32 → fp16), so a model does not hold both copies resident. */
void          ane_file_release_pages    (gconstpointer data,
                                         gsize         size);
/* The same bytes as @bytes, for kernels that stream them: when they lie
 * in a mapping made by ane_file_map_bytes() and transparent huge pages are
 * on offer, a view of a copy of that mapping in anonymous memory with
 * MADV_HUGEPAGE (made once per process, 2 MiB at a time, the copied file
 * pages released; ane-file-map.c says why), which keeps @bytes alive; else
 * a new reference to @bytes. Read-only by contract, as @bytes is. */
GBytes       *ane_file_hot_bytes        (GBytes       *bytes);
/* Copies [@data, @data + @size) into @dst with pread(2) when that range
 * lies in a mapping made by ane_file_map_bytes() (whose bytes the caller
 * holds), so the mapping's pages are not touched: a few rows read from a
 * large table (a gathered embedding) do not map the page-cache folios
 * around them, 2 MiB each where the page cache holds large folios. FALSE
 * (nothing meaningful in @dst) when the range is not such a mapping's or
 * the read falls short: read the bytes in place then. */
gboolean      ane_file_read_mapped      (gconstpointer data,
                                         gsize         size,
                                         gpointer      dst);
/* @size bytes (rounded up to 2 MiB) of anonymous memory, 2 MiB-aligned
 * and reserved without being touched, advised MADV_HUGEPAGE when
 * ane_file_hot_enabled(): the hot copies' memory, and any other copy of
 * weights that kernels stream. Plain heap memory off Linux; NULL when
 * refused. Free with ane_file_huge_free() and the same @size. */
gpointer      ane_file_huge_alloc       (gsize         size);
void          ane_file_huge_free        (gpointer      data,
                                         gsize         size);
/* Whether ane_file_hot_bytes() makes copies in this process (Linux with
 * transparent huge pages, ANE_HUGEPAGES not "0"). */
gboolean      ane_file_hot_enabled      (void);
/* The bytes ane_file_hot_bytes() has copied so far (for tests). */
gsize         ane_file_hot_copied       (void);
/* The whole regular file @path read into memory, NUL-terminated, as
 * g_file_get_contents() does, but refusing non-regular files. */
gboolean      ane_file_get_contents     (const char   *path,
                                         char        **contents,
                                         gsize        *length,
                                         GError      **error);

/* ---- writing ---- */

/* write(2) until done (EINTR retried, a short write continued); @offset is
 * only for the message. */
gboolean      ane_file_write_all        (int           fd,
                                         const char   *path,
                                         const void   *data,
                                         gsize         size,
                                         guint64       offset,
                                         GError      **error);
/* fsync(2), F_FULLFSYNC on Apple platforms (where fsync leaves the data in
 * the drive's cache). A file system that cannot sync (EINVAL, ENOTSUP on a
 * directory) is not an error. */
gboolean      ane_file_sync_fd          (int           fd,
                                         const char   *path,
                                         GError      **error);
/* Opens the directory @path and syncs it: makes the entries created or
 * renamed in it durable. */
gboolean      ane_file_sync_dir         (const char   *path,
                                         GError      **error);
/* close(2) with its error checked (NFS and quotas report deferred write
 * errors there). EINTR counts as closed: on Linux the descriptor is gone
 * (close(2), "Dealing with error returns from close()"). */
gboolean      ane_file_close            (int           fd,
                                         const char   *path,
                                         GError      **error);
/* Creates or truncates @path, writes @data, syncs and closes it. On error
 * the file may be partly written: callers write into temporaries. */
gboolean      ane_file_write_durable    (const char   *path,
                                         const void   *data,
                                         gsize         size,
                                         GError      **error);
/* Syncs every regular file and directory under @path (and @path itself),
 * deepest first, without following symbolic links. */
gboolean      ane_file_sync_tree        (const char   *path,
                                         GError      **error);

/* ---- temporary siblings ---- */

/* A writer builds its output in a temporary beside the destination, named
 *   .<base>.tmp-<pid>-XXXXXX
 * (<base> the destination's base name, <pid> the writing process, XXXXXX
 * random), and renames it into place once complete. The rename fallback of
 * the package writer moves an old bundle aside as <temporary>.old-XXXXXX.
 * A process killed mid-save leaves its temporary; the next save to the same
 * destination, by any process, calls ane_file_remove_stale_temps(), which
 * removes the temporaries of <base> whose writer is gone (rules in
 * ane-file.c and docs/packages.md). */
char         *ane_file_make_temp_dir    (const char   *dest,
                                         GError      **error);
/* The same, a file: created with mode 0666 (less the umask), O_WRONLY and
 * O_CLOEXEC; returns the descriptor and sets @tmp_path, or -1. */
int           ane_file_make_temp_file   (const char   *dest,
                                         char        **tmp_path,
                                         GError      **error);
/* Removes the stale temporaries of @dest beside it (best effort: a failure
 * to remove one is only logged with g_debug). Returns how many were
 * removed or restored. */
guint         ane_file_remove_stale_temps (const char *dest);
/* The same for every destination in @dir whose base name @match accepts
 * (for writers whose destination names vary, such as versioned weights). */
typedef gboolean (*AneFileNameFunc) (const char    *base,
                                     gconstpointer  data);
guint         ane_file_remove_stale_temps_matching (const char      *dir,
                                                    AneFileNameFunc  match,
                                                    gconstpointer    data);
/* Whether @name (a base name) is a temporary of <base> (any writer, stale or
 * not): for tests and listings. */
gboolean      ane_file_is_temp_name     (const char   *name,
                                         const char   *base);
/* Removes a file or a directory tree, not following symbolic links; best
 * effort. */
void          ane_file_remove_tree      (const char   *path);

/* Writes @data to a temporary sibling of @dest, syncs it, renames it over
 * @dest and syncs the directory. The rename is the point of no return:
 * before it, any failure returns FALSE with @error, removes the temporary
 * and leaves @dest as it was; after it the call returns TRUE, and a failed
 * directory sync is only reported in @warning (nullable; a sentence naming
 * the directory, for the caller's report). */
gboolean      ane_file_replace          (const char   *dest,
                                         const void   *data,
                                         gsize         size,
                                         char        **warning,
                                         GError      **error);

G_END_DECLS
