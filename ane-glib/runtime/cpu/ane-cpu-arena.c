/* runtime/cpu/ane-cpu-arena.c: a plan's storage for the values of its runs
 * (see the header).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tsan-private.h"
#include "runtime/cpu/ane-cpu-arena-private.h"

struct _AneCpuArena
{
  GMutex      lock;
  GHashTable *free_by_n;   /* elements -> GSList of buffers of that many 4-byte elements */
  guint64     held;        /* bytes in free_by_n */
  guint64     reused;
  guint64     allocated;   /* values whose storage was allocated, not reused */
};

static void
free_list (gpointer data)
{
  g_slist_free_full (data, g_free);
}

AneCpuArena *
ane_cpu_arena_new (void)
{
  AneCpuArena *arena = g_new0 (AneCpuArena, 1);

  g_mutex_init (&arena->lock);
  arena->free_by_n = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, free_list);
  return arena;
}

void
ane_cpu_arena_free (AneCpuArena *arena)
{
  if (arena == NULL)
    return;
  g_hash_table_unref (arena->free_by_n);
  g_mutex_clear (&arena->lock);
  g_free (arena);
}

/* A buffer of n elements from the free lists, or NULL. */
static gpointer
take (AneCpuArena *arena,
      gsize        n)
{
  gpointer key = GSIZE_TO_POINTER (n), buffer = NULL;
  GSList *list;

  ane_mutex_lock (&arena->lock);
  list = g_hash_table_lookup (arena->free_by_n, key);
  if (list != NULL)
    {
      buffer = list->data;
      list = g_slist_delete_link (list, list);
      g_hash_table_steal (arena->free_by_n, key);
      if (list != NULL)
        g_hash_table_insert (arena->free_by_n, key, list);
      arena->held -= n * 4;
      arena->reused++;
    }
  ane_mutex_unlock (&arena->lock);
  return buffer;
}

AneCpuValue *
ane_cpu_arena_value_new (AneCpuArena  *arena,
                         AneDType      dtype,
                         const gint64 *shape,
                         guint         rank)
{
  gsize n = 1;
  gpointer buffer;

  g_assert (rank <= ANE_CPU_MAX_RANK);
  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  /* storage of at least one element, as ane_cpu_value_new makes it */
  buffer = take (arena, MAX (n, 1));
  if (buffer == NULL)
    {
      ane_mutex_lock (&arena->lock);
      arena->allocated++;
      ane_mutex_unlock (&arena->lock);
      return ane_cpu_value_new (dtype, shape, rank);
    }
  memset (buffer, 0, MAX (n, 1) * 4);
  return ane_cpu_value_new_owning (dtype, shape, rank, buffer);
}

void
ane_cpu_arena_value_free (AneCpuArena *arena,
                          AneCpuValue *v)
{
  gpointer buffer;
  gsize n;

  if (v == NULL)
    return;
  buffer = v->f != NULL ? (gpointer) v->f : (gpointer) v->i;
  if (v->keep != NULL || v->view || v->packed != NULL || v->s != NULL || buffer == NULL)
    {
      ane_cpu_value_free (v);
      return;
    }
  n = MAX (v->n, 1);
  ane_mutex_lock (&arena->lock);
  if (arena->held + n * 4 <= ANE_CPU_ARENA_MAX_BYTES)
    {
      gpointer key = GSIZE_TO_POINTER (n);
      GSList *list = g_hash_table_lookup (arena->free_by_n, key);

      g_hash_table_steal (arena->free_by_n, key);
      g_hash_table_insert (arena->free_by_n, key, g_slist_prepend (list, buffer));
      arena->held += n * 4;
      buffer = NULL;
    }
  ane_mutex_unlock (&arena->lock);
  g_free (buffer);
  g_free (v);
}

/* A counter read under the lock (the runs update them from several threads). */
static guint64
read_locked (AneCpuArena   *arena,
             const guint64 *counter)
{
  guint64 v;

  ane_mutex_lock (&arena->lock);
  v = *counter;
  ane_mutex_unlock (&arena->lock);
  return v;
}

guint64
ane_cpu_arena_get_reused (AneCpuArena *arena)
{
  return read_locked (arena, &arena->reused);
}

guint64
ane_cpu_arena_get_allocated (AneCpuArena *arena)
{
  return read_locked (arena, &arena->allocated);
}

gsize
ane_cpu_arena_get_held (AneCpuArena *arena)
{
  return (gsize) read_locked (arena, &arena->held);
}
