/* ane-file-map.c: mapped model files, their resident pages and their hot copies
 *
 * Model files (GGUF, safetensors, llama2.c checkpoints, weight blobs) are
 * mapped read-only and their tensors used where they lie. This file keeps
 * the list of those mappings, so that two things can be done safely:
 *
 * - ane_file_release_pages() drops a range's resident pages once a
 *   converted copy of it exists (MADV_DONTNEED is only harmless on a
 *   private read-only file mapping: on anonymous or written memory it
 *   zeroes the pages, madvise(2));
 * - ane_file_hot_bytes() gives the CPU kernels the same bytes in anonymous
 *   memory backed by transparent huge pages, copied once per process, and
 *   releases the file's pages it copied.
 *
 * Why the hot copy (issue 15): a decode step streams every weight from
 * memory once, so its speed is the memory's. Through 4 KiB pages one core
 * of this project's machine reads about 20 GB/s (a dTLB miss per page, and
 * the hardware prefetchers stop at page boundaries); through 2 MiB pages,
 * 32 GB/s (bench-packed: the Q8_0 products of a token 6.3 → 5.2 ms). The
 * page cache of a file is made of 4 KiB pages, so the weights move, 2 MiB
 * at a time, into an anonymous region with MADV_HUGEPAGE. Memory does not
 * grow: each copied chunk's file pages leave the process (they stay in the
 * page cache), so the resident total is still about the file's bytes, and
 * every executable of the process (a decode step, a prompt step) shares the
 * one copy. Without transparent huge pages (not Linux, or
 * /sys/kernel/mm/transparent_hugepage/enabled set to "never") or with
 * ANE_HUGEPAGES=0 in the environment, ane_file_hot_bytes() returns its
 * argument: a copy in 4 KiB pages would gain nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ane-file-private.h"
#include "ane-tsan-private.h"

#define HOT_CHUNK ((gsize) 2 << 20)   /* the x86-64 / arm64 huge page */

typedef struct {
  guintptr     start, end;            /* the file mapping */
  GMappedFile *mapped;
  int          fd;                    /* the file, open: hot chunks are read with pread(2) */
  guint8      *hot;                   /* NULL until a hot copy is asked for; HOT_CHUNK-aligned */
  gsize        hot_size;              /* end − start rounded up to HOT_CHUNK */
  guint8      *copied;                /* a flag per HOT_CHUNK of hot */
} Mapping;

/* The live mappings of ane_file_map_bytes(). A mapping leaves the list
 * before it is unmapped, so under the lock a listed range is mapped. The
 * lock also orders a hot chunk's filling before any other thread's use of
 * it (ane_mutex_lock: ThreadSanitizer does not see GMutex alone,
 * ane-tsan-private.h). */
static GMutex mapped_lock;
static GArray *mappings;   /* Mapping */
static gsize hot_total;    /* bytes copied into hot regions, over the process's life */

static void
mapping_forget (gpointer data)
{
  GMappedFile *mapped = data;
  Mapping gone = { 0 };

  ane_mutex_lock (&mapped_lock);
  for (guint i = 0; mappings != NULL && i < mappings->len; i++)
    if (g_array_index (mappings, Mapping, i).mapped == mapped)
      {
        gone = g_array_index (mappings, Mapping, i);
        g_array_remove_index_fast (mappings, i);
        break;
      }
  ane_mutex_unlock (&mapped_lock);
  /* the hot copy's users hold a reference to the file's bytes, so none is
   * left when the mapping goes */
  ane_file_huge_free (gone.hot, gone.hot_size);
  if (gone.mapped != NULL)
    close (gone.fd);
  g_free (gone.copied);
  g_mapped_file_unref (mapped);
}

GBytes *
ane_file_map_bytes (const char  *path,
                    GError     **error)
{
  Mapping m = { .fd = -1 };
  GMappedFile *mapped = ane_file_map_regular_fd (path, &m.fd, error);
  gsize size;

  if (mapped == NULL)
    return NULL;
  size = g_mapped_file_get_length (mapped);
  if (size == 0)
    {
      GBytes *empty = g_mapped_file_get_bytes (mapped);

      close (m.fd);
      g_mapped_file_unref (mapped);
      return empty;
    }
  m.start = (guintptr) g_mapped_file_get_contents (mapped);
  m.end = m.start + size;
  m.mapped = mapped;
  ane_mutex_lock (&mapped_lock);
  if (mappings == NULL)
    mappings = g_array_new (FALSE, FALSE, sizeof (Mapping));
  g_array_append_val (mappings, m);
  ane_mutex_unlock (&mapped_lock);
  return g_bytes_new_with_free_func ((gconstpointer) m.start, size, mapping_forget, mapped);
}

/* The listed mapping holding all of [start, end), or NULL; under the lock. */
static Mapping *
mapping_holding (guintptr start,
                 guintptr end)
{
  for (guint i = 0; mappings != NULL && i < mappings->len; i++)
    {
      Mapping *m = &g_array_index (mappings, Mapping, i);

      if (m->start <= start && end <= m->end)
        return m;
    }
  return NULL;
}

/* MADV_DONTNEED over the whole pages of [start, end), which lie in a
 * listed mapping; under the lock. The mapping is PROT_READ and private, so
 * its pages were never written: dropped, they read back from the file. */
static void
release_locked (guintptr start,
                guintptr end)
{
#if defined(MADV_DONTNEED) && defined(__linux__)
  guintptr page = (guintptr) sysconf (_SC_PAGESIZE);
  guintptr first = (start + page - 1) & ~(page - 1), last = end & ~(page - 1);

  if (first < last)
    madvise ((void *) first, last - first, MADV_DONTNEED);
#else
  (void) start;
  (void) end;
#endif
}

void
ane_file_release_pages (gconstpointer data,
                        gsize         size)
{
  guintptr start = (guintptr) data;

  if (data == NULL || size == 0)
    return;
  ane_mutex_lock (&mapped_lock);
  if (mapping_holding (start, start + size) != NULL)
    release_locked (start, start + size);
  ane_mutex_unlock (&mapped_lock);
}

/* Whether hot copies are made: transparent huge pages on offer
 * ("always" or "madvise" chosen in the sysfs file), ANE_HUGEPAGES not "0". */
static gboolean
hot_wanted (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      gboolean on = FALSE;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      g_autofree char *mode = NULL;
      const char *env = g_getenv ("ANE_HUGEPAGES");

      if ((env == NULL || g_strcmp0 (env, "0") != 0) &&
          g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL))
        on = strstr (mode, "[always]") != NULL || strstr (mode, "[madvise]") != NULL;
#endif
      g_once_init_leave (&once, on ? 2 : 1);
    }
  return once == 2;
}

gboolean
ane_file_hot_enabled (void)
{
  return hot_wanted ();
}

gsize
ane_file_hot_copied (void)
{
  gsize n;

  ane_mutex_lock (&mapped_lock);
  n = hot_total;
  ane_mutex_unlock (&mapped_lock);
  return n;
}

gpointer
ane_file_huge_alloc (gsize size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  guint8 *raw, *aligned;
  gsize lead;

  size = (size + HOT_CHUNK - 1) & ~(HOT_CHUNK - 1);
  /* one chunk more, to cut a HOT_CHUNK-aligned region out of it */
  raw = mmap (NULL, size + HOT_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  aligned = (guint8 *) (((guintptr) raw + HOT_CHUNK - 1) & ~(guintptr) (HOT_CHUNK - 1));
  lead = (gsize) (aligned - raw);
  if (lead > 0)
    munmap (raw, lead);
  munmap (aligned + size, HOT_CHUNK - lead);
  /* advice only: without it the memory still works, in small pages */
  if (hot_wanted ())
    madvise (aligned, size, MADV_HUGEPAGE);
  return aligned;
#else
  return g_try_malloc (MAX (size, 1));
#endif
}

void
ane_file_huge_free (gpointer data,
                    gsize    size)
{
  if (data == NULL)
    return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  munmap (data, (size + HOT_CHUNK - 1) & ~(HOT_CHUNK - 1));
#else
  (void) size;
  g_free (data);
#endif
}

/* The mapping's hot region, reserved (not yet touched) on first use;
 * FALSE when the address space is refused. Under the lock. */
static gboolean
hot_region (Mapping *m)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  gsize size = (m->end - m->start + HOT_CHUNK - 1) & ~(HOT_CHUNK - 1);

  if (m->hot != NULL)
    return TRUE;
  m->hot = ane_file_huge_alloc (size);
  if (m->hot == NULL)
    return FALSE;
  m->hot_size = size;
  m->copied = g_new0 (guint8, size / HOT_CHUNK);
  return TRUE;
#else
  (void) m;
  return FALSE;
#endif
}

/* hot[at, at + len) := the file's bytes there: read(2) from the file (the
 * kernel copies from the page cache; through the mapping each 4 KiB page
 * would fault first: 1.2 s against 0.18 s for a 512 MiB model), the
 * mapping's bytes where a read falls short. Under the lock. */
static void
hot_fill (Mapping *m,
          gsize    at,
          gsize    len)
{
  gsize done = ane_file_pread_all (m->fd, m->hot + at, len, at);

  if (done < len)
    memcpy (m->hot + at + done, (const guint8 *) m->start + at + done, len - done);
}

static void
unref_bytes (gpointer data)
{
  g_bytes_unref (data);
}

GBytes *
ane_file_hot_bytes (GBytes *bytes)
{
  gsize size = 0;
  guintptr start = (guintptr) g_bytes_get_data (bytes, &size), offset;
  Mapping *m;
  guint8 *hot = NULL;

  if (size == 0 || !hot_wanted ())
    return g_bytes_ref (bytes);
  ane_mutex_lock (&mapped_lock);
  m = mapping_holding (start, start + size);
  if (m != NULL && hot_region (m))
    {
      offset = start - m->start;
      for (gsize c = offset / HOT_CHUNK; c * HOT_CHUNK < offset + size; c++)
        {
          gsize len = MIN (HOT_CHUNK, (m->end - m->start) - c * HOT_CHUNK);

          if (m->copied[c])
            continue;
          hot_fill (m, c * HOT_CHUNK, len);
          m->copied[c] = TRUE;
          hot_total += len;
          release_locked (m->start + c * HOT_CHUNK, m->start + c * HOT_CHUNK + len);
        }
      hot = m->hot + offset;
    }
  ane_mutex_unlock (&mapped_lock);
  if (hot == NULL)
    return g_bytes_ref (bytes);
  /* the copy lives as long as the mapping, which these bytes keep */
  return g_bytes_new_with_free_func (hot, size, unref_bytes, g_bytes_ref (bytes));
}

gboolean
ane_file_read_mapped (gconstpointer data,
                      gsize         size,
                      gpointer      dst)
{
  guintptr start = (guintptr) data;
  Mapping *m;
  int fd = -1;
  guint64 at = 0;

  if (data == NULL || size == 0)
    return FALSE;
  ane_mutex_lock (&mapped_lock);
  m = mapping_holding (start, start + size);
  if (m != NULL)
    {
      fd = m->fd;
      at = start - m->start;
    }
  ane_mutex_unlock (&mapped_lock);
  /* the caller holds the bytes, so the mapping and its descriptor stay */
  return fd >= 0 && ane_file_pread_all (fd, dst, size, at) == size;
}
