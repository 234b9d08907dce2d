/* runtime/ane/ane-ane-budget.c: how many programs the private path may
 * compile in one process
 *
 * The in-memory compiler leaks resources: "After ~119 compiles per process,
 * subsequent compilations fail silently" (maderix/ANE
 * docs/ANE_INTERNALS.md:115; also :270, :281 and README.md:107, :189), and
 * maderix/ANE itself stops at MAX_COMPILES=100, "conservative"
 * (docs/ANE_INTERNALS.md:117), then checkpoints and restarts the process.
 * ane-glib counts the compiles it asks for (failed ones too: the leak is
 * the compiler's, whatever its answer) and refuses the one past the budget
 * with ANE_ERROR_TOO_LARGE, saying how to raise it, instead of handing the
 * framework a compile that fails without a word. A program whose MIL text
 * and weights are those of one still alive is not compiled again
 * (ane-ane-runtime.c, the compile cache) and costs nothing.
 *
 * The budget: ANE_GLIB_ANE_COMPILE_BUDGET (a count; 0 for no limit) when
 * set, else 100, maderix/ANE's own.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"
#include "runtime/ane/ane-ane-private.h"

static GMutex budget_lock;
static guint n_compiles;
static gboolean budget_known;
static guint budget;

/* The budget from the environment, read once (and again after a reset). */
static guint
budget_locked (void)
{
  if (!budget_known)
    {
      const char *env = g_getenv (ANE_ANE_COMPILE_BUDGET_ENV);
      guint64 v = ANE_ANE_DEFAULT_COMPILE_BUDGET;

      if (env != NULL && *env != '\0')
        {
          g_autoptr(GError) error = NULL;

          if (!g_ascii_string_to_unsigned (env, 10, 0, G_MAXUINT, &v, &error))
            {
              g_warning ("%s='%s' is not a count of compiles (%s); using %u", ANE_ANE_COMPILE_BUDGET_ENV, env,
                         error->message, ANE_ANE_DEFAULT_COMPILE_BUDGET);
              v = ANE_ANE_DEFAULT_COMPILE_BUDGET;
            }
        }
      budget = (guint) v;
      budget_known = TRUE;
    }
  return budget;
}

gboolean
ane_ane_compile_budget_take (GError **error)
{
  guint limit;
  gboolean ok;

  ane_mutex_lock (&budget_lock);
  limit = budget_locked ();
  ok = limit == 0 || n_compiles < limit;
  if (ok)
    n_compiles++;
  ane_mutex_unlock (&budget_lock);
  if (!ok)
    g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
                 "ANE private path: this process has compiled %u programs, its compile budget (%u): the "
                 "Neural Engine's in-memory compiler fails silently after about 119 compiles per process "
                 "(maderix/ANE). Reuse executables (the same program is compiled once), restart the process, "
                 "or raise the budget with the environment variable %s (0: no limit)",
                 limit, limit, ANE_ANE_COMPILE_BUDGET_ENV);
  return ok;
}

guint
ane_ane_compile_count (void)
{
  guint n;

  ane_mutex_lock (&budget_lock);
  n = n_compiles;
  ane_mutex_unlock (&budget_lock);
  return n;
}

guint
ane_ane_compile_budget (void)
{
  guint n;

  ane_mutex_lock (&budget_lock);
  n = budget_locked ();
  ane_mutex_unlock (&budget_lock);
  return n;
}

void
ane_ane_compile_budget_reset (void)
{
  ane_mutex_lock (&budget_lock);
  n_compiles = 0;
  budget_known = FALSE;
  ane_mutex_unlock (&budget_lock);
}
