/* runtime/cpu/ane-cpu-profile.c: per-op-type timing of CPU plans (see the
 * header). Runs of one plan may overlap on several threads, so the table
 * is behind a mutex; only profiled runs take it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <time.h>

#include "ane-tsan-private.h"
#include "runtime/cpu/ane-cpu-profile-private.h"

typedef struct {
  const char *op_type;   /* the op's own string: plans outlive their profile */
  guint64     calls;
  gint64      ns;
} Entry;

struct _AneCpuProfile
{
  GMutex      lock;
  GHashTable *entries;   /* op type -> Entry* */
};

AneCpuProfile *
ane_cpu_profile_new_from_env (void)
{
  const char *env = g_getenv ("ANE_CPU_PROFILE");
  AneCpuProfile *profile;

  if (env == NULL || *env == '\0' || g_str_equal (env, "0"))
    return NULL;
  profile = g_new0 (AneCpuProfile, 1);
  g_mutex_init (&profile->lock);
  profile->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return profile;
}

gint64
ane_cpu_profile_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
ane_cpu_profile_add (AneCpuProfile *profile,
                     const char    *op_type,
                     gint64         ns)
{
  Entry *e;

  ane_mutex_lock (&profile->lock);
  e = g_hash_table_lookup (profile->entries, op_type);
  if (e == NULL)
    {
      char *key = g_strdup (op_type);

      e = g_new0 (Entry, 1);
      e->op_type = key;
      g_hash_table_insert (profile->entries, key, e);
    }
  e->calls++;
  e->ns += ns;
  ane_mutex_unlock (&profile->lock);
}

static gint
by_time (gconstpointer a,
         gconstpointer b)
{
  const Entry *x = *(Entry * const *) a, *y = *(Entry * const *) b;

  return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : g_strcmp0 (x->op_type, y->op_type);
}

void
ane_cpu_profile_free (AneCpuProfile *profile)
{
  g_autoptr(GPtrArray) rows = NULL;
  gint64 total = 0;

  if (profile == NULL)
    return;
  rows = g_ptr_array_new ();
  {
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, profile->entries);
    while (g_hash_table_iter_next (&it, NULL, &value))
      g_ptr_array_add (rows, value);
  }
  g_ptr_array_sort (rows, by_time);
  for (guint i = 0; i < rows->len; i++)
    total += ((Entry *) g_ptr_array_index (rows, i))->ns;
  if (rows->len > 0)
    {
      g_printerr ("ane-cpu profile: %.3f ms in %u op types\n%-32s %10s %12s %7s\n", total / 1e6, rows->len,
                  "op", "calls", "ms", "share");
      for (guint i = 0; i < rows->len; i++)
        {
          const Entry *e = g_ptr_array_index (rows, i);

          g_printerr ("%-32s %10" G_GUINT64_FORMAT " %12.3f %6.1f%%\n", e->op_type, e->calls, e->ns / 1e6,
                      total > 0 ? 100.0 * (double) e->ns / (double) total : 0.0);
        }
    }
  g_clear_pointer (&rows, g_ptr_array_unref);
  g_hash_table_unref (profile->entries);
  g_mutex_clear (&profile->lock);
  g_free (profile);
}
