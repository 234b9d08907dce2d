/* test-save-faults.c: saves that fail or are killed half-way
 *
 * Fault injection (ane-fault-inject.c): for N = 1, 2, ... the N-th write,
 * fsync, rename or close touching the save's directory fails with EIO,
 * until a save runs through with no call left to fail. Every time, the
 * destination must hold exactly the old files or exactly the new ones
 * (compared byte for byte with a reference save), nothing else may be left
 * beside it, and a failed save must say which file it was writing. A save
 * whose only failure came after its point of no return (the directory sync
 * after the final rename) succeeds and says so in its warnings. This runs
 * for a package made from a graph and for a loaded package saved over an
 * existing package, for MIL text over MIL text, and for a graph over a
 * graph (JSON + safetensors).
 *
 * Kills: a child process (this executable started afresh, fork + exec)
 * saves a large package (or MIL text) slowly and is
 * killed with SIGKILL half-way through the weights; the parent's next save
 * to the same place must succeed and remove what the child left.
 *
 * Also: the rule by which temporaries are judged stale, the versioned
 * weight names of MIL text and graphs, their loaders, and a FIFO given to
 * load_mil.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include "ane-fault-inject.h"
#include "ane-file-private.h"
#include "ane-test-util.h"
#include "mil/ane-mlpackage-private.h"

#define F32 ANE_DTYPE_FLOAT32

/* ---- helpers ----------------------------------------------------------- */

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* g_ptr_array_sort() hands the comparison pointers to the elements. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The entries of a directory, sorted, joined by spaces. */
static char *
list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
snapshot_into (GPtrArray  *lines,
               const char *root,
               const char *rel,
               gboolean    skip_manifest)
{
  g_autofree char *path = rel[0] ? g_build_filename (root, rel, NULL) : g_strdup (root);
  GStatBuf st;

  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      g_ptr_array_add (lines, g_strdup_printf ("%s/", rel));
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *child = rel[0] ? g_build_filename (rel, name, NULL) : g_strdup (name);
          snapshot_into (lines, root, child, skip_manifest);
        }
    }
  else if (skip_manifest && g_str_has_suffix (rel, "Manifest.json"))
    g_ptr_array_add (lines, g_strdup_printf ("%s (manifest)", rel));
  else
    {
      g_autoptr(GBytes) bytes = read_file (path);
      g_autofree char *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

      g_ptr_array_add (lines, g_strdup_printf ("%s %s", rel, sum));
    }
}

/* Every file and directory under root with a checksum of each file's bytes
 * (Manifest.json only by name when skip_manifest: its item UUIDs are fresh
 * for every save), one per line, sorted. */
static char *
snapshot (const char *root,
          gboolean    skip_manifest)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  snapshot_into (lines, root, "", skip_manifest);
  g_ptr_array_sort (lines, compare_names);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

static AneTensor *
random_tensor (const char *name,
               gint64      d0,
               gint64      d1,
               guint32     seed)
{
  gint64 shape[2] = { d0, d1 };

  return ane_test_tensor_random (name, shape, 2, seed, -1.0f, 1.0f);
}

/* x [1, k] . w [k, m] (+ gelu when with_gelu): weights from seed. */
static AneGraph *
build_graph (gint64   k,
             gint64   m,
             guint32  seed,
             gboolean with_gelu)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  gint64 xs[2] = { 1, k };
  g_autoptr(AneTensor) wv = random_tensor ("w", k, m, seed);
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_param_with_value (g, wv, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  g_autoptr(AneTensor) z = with_gelu ? ane_graph_gelu (g, y, ANE_GELU_EXACT, &error) : g_object_ref (y);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", z, &error));
  g_assert_no_error (error);
  return g;
}

static AnePackage *
build_package (guint32  seed,
               gboolean with_gelu)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = build_graph (64, 48, seed, with_gelu);
  AnePackage *pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  return pkg;
}

/* The warning a save left about its directory sync, or NULL. */
static char *
sync_warning (AnePackage *pkg)
{
  g_auto(GStrv) warnings = ane_package_dup_warnings (pkg);

  for (guint i = 0; warnings[i]; i++)
    if (strstr (warnings[i], "could not be synced"))
      return g_strdup (warnings[i]);
  return NULL;
}

/* What one armed save did. */
typedef struct {
  guint    failed;        /* saves that returned FALSE */
  guint    late_fsync;    /* saves that succeeded although an fsync failed */
  guint    quiet_close;   /* saves that succeeded although a read-only close failed */
  guint    calls;         /* calls counted by the last, unhindered save */
} FaultTally;

/* After the last armed save (the n-th, unhindered): every call was failed
 * once, at least @min_failed of them failing the save, and exactly one came
 * after the commit (a late fsync). */
static void
assert_tally (const FaultTally *tally,
              guint             n,
              guint             min_failed)
{
  g_test_message ("%u calls; %u failed saves, %u late fsyncs, %u quiet closes",
                  tally->calls, tally->failed, tally->late_fsync, tally->quiet_close);
  g_assert_cmpuint (n, ==, tally->calls + 1);
  g_assert_cmpuint (tally->failed, >=, min_failed);
  g_assert_cmpuint (tally->late_fsync, ==, 1);
  g_assert_cmpuint (tally->failed + tally->late_fsync + tally->quiet_close, ==, tally->calls);
}

/* After an armed save: checks the outcome is one the rules allow and
 * tallies it. Returns TRUE when the save ran through without a failure
 * (the loop is over). */
static gboolean
check_outcome (guint        n,
               gboolean     ok,
               GError      *error,
               const char  *dir,
               guint        calls,
               gboolean    *late,
               FaultTally  *tally)
{
  AneFaultHit hit;

  *late = FALSE;
  if (!ane_fault_fired (&hit))
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (calls, <, n);
      tally->calls = calls;
      return TRUE;
    }
  if (!ok)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == ANE_ERROR);
      /* the message names the file: every path of the save is under dir */
      if (strstr (error->message, dir) == NULL)
        g_error ("failing %s #%u on '%s' gave a message without the path: %s",
                 ane_fault_kind_name (hit.kind), n, hit.path, error->message);
      tally->failed++;
      return FALSE;
    }
  g_assert_no_error (error);
  if (hit.kind == ANE_FAULT_FSYNC)
    {
      /* only the sync after the commit may fail without failing the save */
      g_assert_true (hit.is_dir);
      tally->late_fsync++;
      *late = TRUE;
    }
  else if (hit.kind == ANE_FAULT_CLOSE && hit.read_only)
    tally->quiet_close++;   /* nothing written through it: nothing lost */
  else
    g_error ("failing %s #%u on '%s' went unnoticed", ane_fault_kind_name (hit.kind), n, hit.path);
  return FALSE;
}

/* ---- packages ------------------------------------------------------------ */

/* data: TRUE for a loaded package saved again (files copied), FALSE for one
 * made from a graph (weights streamed). */
static void
test_package_faults (gconstpointer data)
{
  gboolean loaded = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autofree char *root = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *ref_dir = g_build_filename (root, "ref", NULL);
  g_autofree char *ref = g_build_filename (ref_dir, "m.mlpackage", NULL);
  g_autofree char *new_snapshot = NULL;
  g_autoptr(AnePackage) old_pkg = build_package (1, FALSE);
  g_autoptr(AnePackage) new_pkg = build_package (2, TRUE);
  FaultTally tally = { 0 };
  guint n;

  g_assert_cmpint (g_mkdir (ref_dir, 0755), ==, 0);
  g_assert_true (ane_package_save (new_pkg, ref, FALSE, &error));
  g_assert_no_error (error);
  if (loaded)
    {
      g_clear_object (&new_pkg);
      new_pkg = ane_package_load (ref, &error);
      g_assert_no_error (error);
    }
  new_snapshot = snapshot (ref_dir, TRUE);

  for (n = 1; n < 1000; n++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/run-%u", root, n);
      g_autofree char *dest = g_build_filename (dir, "m.mlpackage", NULL);
      g_autofree char *old_snapshot = NULL;
      g_autofree char *now = NULL;
      g_autofree char *warning = NULL;
      g_autoptr(AnePackage) back = NULL;
      gboolean ok, done, late;
      guint calls;

      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      g_assert_true (ane_package_save (old_pkg, dest, FALSE, &error));
      g_assert_no_error (error);
      old_snapshot = snapshot (dir, FALSE);

      ane_fault_arm (dir, ANE_FAULT_ALL, n, EIO);
      ok = ane_package_save (new_pkg, dest, TRUE, &error);
      calls = ane_fault_disarm ();
      done = check_outcome (n, ok, error, dir, calls, &late, &tally);
      g_clear_error (&error);

      warning = sync_warning (new_pkg);
      if (late)
        {
          g_assert_nonnull (warning);
          g_assert_nonnull (strstr (warning, dest));
        }
      else
        g_assert_null (warning);
      /* old or new, whole, and nothing beside it */
      if (ok)
        {
          now = snapshot (dir, TRUE);
          g_assert_cmpstr (now, ==, new_snapshot);
        }
      else
        {
          now = snapshot (dir, FALSE);
          g_assert_cmpstr (now, ==, old_snapshot);
        }
      back = ane_package_load (dest, &error);
      g_assert_no_error (error);
      ane_test_remove_tree (dir);
      if (done)
        break;
    }
  assert_tally (&tally, n, 10);
  ane_test_remove_tree (root);
}

/* ---- MIL text ------------------------------------------------------------ */

/* The weight file a MIL text names (all its BLOBFILE paths name one). */
static char *
mil_weight_name (const char *text)
{
  static const char prefix[] = "\"@model_path/weights/";
  const char *p = strstr (text, prefix);
  char *name;

  g_assert_nonnull (p);
  p += strlen (prefix);
  name = g_strndup (p, strcspn (p, "\""));
  for (const char *q = strstr (text, prefix); q != NULL; q = strstr (q + 1, prefix))
    g_assert_true (strncmp (q + strlen (prefix), name, strlen (name)) == 0);
  return name;
}

/* dir holds model.mil naming a weight file whose bytes are ref_weights, and
 * whose text is ref_text once that name reads weight.bin; weights/ holds
 * that file and, when keep_old (the directory sync after the commit
 * failed), the old weight.bin. */
static void
assert_mil_pair (const char *dir,
                 const char *ref_text,
                 GBytes     *ref_weights,
                 gboolean    keep_old)
{
  g_autofree char *mil = g_build_filename (dir, "model.mil", NULL);
  g_autofree char *weights_dir = g_build_filename (dir, "weights", NULL);
  g_autofree char *text = read_text (mil);
  g_autofree char *name = mil_weight_name (text);
  g_autofree char *weights = g_build_filename (weights_dir, name, NULL);
  g_autoptr(GBytes) bytes = read_file (weights);
  g_autofree char *listing = list_dir (dir);
  g_autofree char *wlisting = list_dir (weights_dir);
  g_autofree char *want = NULL;
  g_autoptr(GString) canonical = g_string_new (text);

  g_assert_true (g_bytes_equal (bytes, ref_weights));
  g_string_replace (canonical, name, "weight.bin", 0);
  g_assert_cmpstr (canonical->str, ==, ref_text);
  g_assert_cmpstr (listing, ==, "model.mil weights");
  if (keep_old && strcmp (name, "weight.bin") != 0)
    want = strcmp (name, "weight.bin") < 0 ? g_strdup_printf ("%s weight.bin", name)
                                           : g_strdup_printf ("weight.bin %s", name);
  else
    want = g_strdup (name);
  g_assert_cmpstr (wlisting, ==, want);
}

static void
test_mil_faults (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *ref_dir = g_build_filename (root, "ref", NULL);
  g_autofree char *ref = g_build_filename (ref_dir, "model.mil", NULL);
  g_autofree char *ref_weights_path = g_build_filename (ref_dir, "weights", "weight.bin", NULL);
  g_autofree char *ref_text = NULL;
  g_autoptr(GBytes) ref_weights = NULL;
  g_autoptr(AnePackage) old_pkg = build_package (1, FALSE);
  g_autoptr(AnePackage) new_pkg = build_package (2, TRUE);
  FaultTally tally = { 0 };
  guint n;

  g_assert_cmpint (g_mkdir (ref_dir, 0755), ==, 0);
  g_assert_true (ane_package_save_mil (new_pkg, ref, FALSE, &error));
  g_assert_no_error (error);
  ref_text = read_text (ref);
  ref_weights = read_file (ref_weights_path);

  for (n = 1; n < 1000; n++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/run-%u", root, n);
      g_autofree char *dest = g_build_filename (dir, "model.mil", NULL);
      g_autofree char *old_snapshot = NULL;
      g_autofree char *warning = NULL;
      gboolean ok, done, late;
      guint calls;

      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      g_assert_true (ane_package_save_mil (old_pkg, dest, FALSE, &error));
      g_assert_no_error (error);
      old_snapshot = snapshot (dir, FALSE);

      ane_fault_arm (dir, ANE_FAULT_ALL, n, EIO);
      ok = ane_package_save_mil (new_pkg, dest, TRUE, &error);
      calls = ane_fault_disarm ();
      done = check_outcome (n, ok, error, dir, calls, &late, &tally);
      g_clear_error (&error);

      warning = sync_warning (new_pkg);
      if (late)
        g_assert_nonnull (warning);
      else
        g_assert_null (warning);
      if (ok)
        {
          g_autoptr(AnePackage) back = ane_package_load_mil (dest, &error);
          g_autofree char *back_text = NULL;

          g_assert_no_error (error);
          assert_mil_pair (dir, ref_text, ref_weights, late);
          /* loaded, the program names weight.bin again */
          back_text = ane_package_to_mil_text (back, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (back_text, ==, ref_text);
        }
      else
        {
          g_autofree char *now = snapshot (dir, FALSE);

          g_assert_cmpstr (now, ==, old_snapshot);
        }
      ane_test_remove_tree (dir);
      if (done)
        break;
    }
  assert_tally (&tally, n, 10);
  ane_test_remove_tree (root);
}

/* ---- graphs -------------------------------------------------------------- */

/* The "weights" member of a graph JSON. */
static char *
graph_weights_name (const char *json)
{
  static const char key[] = "\"weights\": \"";
  const char *p = strstr (json, key);

  g_assert_nonnull (p);
  p += strlen (key);
  return g_strndup (p, strcspn (p, "\""));
}

static void
test_graph_faults (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *ref_dir = g_build_filename (root, "ref", NULL);
  g_autofree char *ref = g_build_filename (ref_dir, "g.json", NULL);
  g_autofree char *ref_weights_path = g_build_filename (ref_dir, "g.safetensors", NULL);
  g_autofree char *ref_json = NULL;
  g_autoptr(GBytes) ref_weights = NULL;
  g_autoptr(AneGraph) old_graph = build_graph (64, 48, 1, FALSE);
  g_autoptr(AneGraph) new_graph = build_graph (64, 48, 2, TRUE);
  FaultTally tally = { 0 };
  guint n;

  g_assert_cmpint (g_mkdir (ref_dir, 0755), ==, 0);
  g_assert_true (ane_graph_save (new_graph, ref, &error));
  g_assert_no_error (error);
  ref_json = read_text (ref);
  ref_weights = read_file (ref_weights_path);

  for (n = 1; n < 1000; n++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/run-%u", root, n);
      g_autofree char *dest = g_build_filename (dir, "g.json", NULL);
      g_autofree char *old_snapshot = NULL;
      gboolean ok, done, late;
      guint calls;

      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      g_assert_true (ane_graph_save (old_graph, dest, &error));
      g_assert_no_error (error);
      old_snapshot = snapshot (dir, FALSE);

      ane_fault_arm (dir, ANE_FAULT_ALL, n, EIO);
      ok = ane_graph_save (new_graph, dest, &error);
      calls = ane_fault_disarm ();
      done = check_outcome (n, ok, error, dir, calls, &late, &tally);
      g_clear_error (&error);

      if (ok)
        {
          g_autofree char *json = read_text (dest);
          g_autofree char *name = graph_weights_name (json);
          g_autofree char *weights = g_build_filename (dir, name, NULL);
          g_autoptr(GBytes) bytes = read_file (weights);
          g_autoptr(GString) canonical = g_string_new (json);
          g_autofree char *listing = list_dir (dir);
          g_autofree char *want = NULL;
          g_autoptr(AneGraph) back = ane_graph_load (dest, &error);

          g_assert_no_error (error);
          g_assert_cmpuint (ane_graph_get_n_nodes (back), ==, ane_graph_get_n_nodes (new_graph));
          g_assert_true (g_bytes_equal (bytes, ref_weights));
          g_string_replace (canonical, name, "g.safetensors", 0);
          g_assert_cmpstr (canonical->str, ==, ref_json);
          /* the old weights stay only when the commit may not be durable */
          want = late ? g_strdup_printf ("%s g.json g.safetensors", name)   /* sorted: '-' < '.' */
                      : g_strdup_printf ("%s g.json", name);
          g_assert_cmpstr (listing, ==, want);
        }
      else
        {
          g_autofree char *now = snapshot (dir, FALSE);

          g_assert_cmpstr (now, ==, old_snapshot);
        }
      ane_test_remove_tree (dir);
      if (done)
        break;
    }
  assert_tally (&tally, n, 8);
  ane_test_remove_tree (root);
}

/* ---- kill -9 during a save ------------------------------------------------ */

/* The package the killed child writes: 8 MiB of fp16 weights, written
 * 4 MiB at a time. */
static AnePackage *
build_kill_package (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = build_graph (1024, 4096, 3, FALSE);
  AnePackage *pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  return pkg;
}

#define CHILD_MODE_ENV "ANE_SAVE_FAULTS_CHILD"
#define CHILD_DEST_ENV "ANE_SAVE_FAULTS_DEST"

/* The child of test_kill_during_save(), a fresh process (started from
 * /proc/self/exe: a forked copy of this one would share its threads'
 * locks): saves slowly, each write of the weights waiting first, so the
 * parent sees the file grow and kills it in the middle. */
static int
child_main (const char *mode,
            const char *dest)
{
  g_autoptr(AnePackage) pkg = build_kill_package ();
  g_autofree char *dir = g_path_get_dirname (dest);

  ane_fault_arm (dir, ANE_FAULT_WRITE, 0, 0);
  ane_fault_set_delay (300 * 1000);
  if (strcmp (mode, "mil") == 0)
    ane_package_save_mil (pkg, dest, FALSE, NULL);
  else
    ane_package_save (pkg, dest, FALSE, NULL);
  return 0;
}

/* The temporaries of base in dir written by pid, and whether one holds
 * weight data yet. */
static guint
child_temps (const char *dir,
             const char *base,
             pid_t       pid,
             gboolean    mil,
             gboolean   *has_data)
{
  g_autofree char *prefix = g_strdup_printf (".%s.tmp-%d-", base, (int) pid);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  *has_data = FALSE;
  while (d != NULL && (name = g_dir_read_name (d)))
    {
      g_autofree char *weights = NULL;
      GStatBuf st;

      if (!g_str_has_prefix (name, prefix))
        continue;
      n++;
      weights = mil ? g_build_filename (dir, name, NULL)
                    : g_build_filename (dir, name, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
      if (g_stat (weights, &st) == 0 && st.st_size > 0)
        *has_data = TRUE;
    }
  return n;
}

/* data: TRUE for MIL text, FALSE for a package. */
static void
test_kill_during_save (gconstpointer data)
{
  gboolean mil = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autofree char *root = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *dest = g_build_filename (root, mil ? "model.mil" : "k.mlpackage", NULL);
  /* the weights' temporaries: in weights/, named after weight.bin */
  g_autofree char *temp_dir = mil ? g_build_filename (root, "weights", NULL) : g_strdup (root);
  const char *temp_base = mil ? "weight.bin" : "k.mlpackage";
  g_autoptr(AnePackage) pkg = build_kill_package ();
  g_autoptr(AnePackage) back = NULL;
  g_autofree char *listing = NULL;
  g_auto(GStrv) envp = g_get_environ ();
  char *argv[] = { (char *) "/proc/self/exe", NULL };
  gboolean has_data = FALSE;
  int status;
  GPid pid;

  envp = g_environ_setenv (envp, CHILD_MODE_ENV, mil ? "mil" : "package", TRUE);
  envp = g_environ_setenv (envp, CHILD_DEST_ENV, dest, TRUE);
  g_assert_true (g_spawn_async (NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 2000 && !has_data; i++)
    {
      g_usleep (5000);
      child_temps (temp_dir, temp_base, pid, mil, &has_data);
    }
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (has_data);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  /* what the child left: its temporary, no destination */
  g_assert_cmpuint (child_temps (temp_dir, temp_base, pid, mil, &has_data), ==, 1);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  if (mil)
    g_assert_true (ane_package_save_mil (pkg, dest, FALSE, &error));
  else
    g_assert_true (ane_package_save (pkg, dest, FALSE, &error));
  g_assert_no_error (error);
  listing = list_dir (root);
  g_assert_cmpstr (listing, ==, mil ? "model.mil weights" : "k.mlpackage");
  if (mil)
    {
      g_free (listing);
      listing = list_dir (temp_dir);
      g_assert_cmpstr (listing, ==, "weight.bin");
      back = ane_package_load_mil (dest, &error);
    }
  else
    back = ane_package_load (dest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (back), ==, 1024 * 4096 * 2);
  ane_test_remove_tree (root);
}

/* ---- which temporaries are stale ------------------------------------------ */

/* A process that has exited and been reaped. */
static pid_t
dead_pid (void)
{
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return pid;
}

static void
make_temp (const char *dir,
           const char *name,
           gboolean    old)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *inner = g_build_filename (path, "Data", NULL);

  g_assert_cmpint (g_mkdir_with_parents (inner, 0755), ==, 0);
  if (old)
    {
      /* modified long before this process (and its parent) started */
      struct utimbuf times = { 1000000000, 1000000000 };

      g_assert_cmpint (utime (path, &times), ==, 0);
    }
}

static void
test_stale_temps (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *dest = g_build_filename (dir, "m.mlpackage", NULL);
  pid_t dead = dead_pid (), me = getpid (), parent = getppid ();
  g_autofree char *own = g_strdup_printf (".m.mlpackage.tmp-%d-AAAAAA", (int) me);
  g_autofree char *gone = g_strdup_printf (".m.mlpackage.tmp-%d-BBBBBB", (int) dead);
  g_autofree char *live = g_strdup_printf (".m.mlpackage.tmp-%d-CCCCCC", (int) parent);
  g_autofree char *reused = g_strdup_printf (".m.mlpackage.tmp-%d-DDDDDD", (int) parent);
  g_autofree char *aside = g_strdup_printf (".m.mlpackage.tmp-%d-FFFFFF.old-GGGGGG", (int) dead);
  g_autofree char *other = g_strdup_printf (".other.tmp-%d-HHHHHH", (int) dead);
  g_autofree char *mil_old = g_strdup_printf ("m.mlpackage.tmp-%d", (int) dead);
  g_autofree char *listing = NULL;
  g_autofree char *want = NULL;
  g_autofree char *restored = g_build_filename (dest, "Data", NULL);

  g_assert_cmpint (dead, !=, parent);
  make_temp (dir, own, FALSE);           /* this process: kept */
  make_temp (dir, gone, FALSE);          /* no such process: removed */
  make_temp (dir, live, FALSE);          /* a live process: kept */
  make_temp (dir, reused, TRUE);         /* its PID taken by a younger process: removed */
  make_temp (dir, ".m.mlpackage.tmp-EEEEEE", TRUE);    /* no PID, older than us: removed */
  make_temp (dir, ".m.mlpackage.tmp-IIIIII", FALSE);   /* no PID, newer: kept */
  make_temp (dir, aside, FALSE);         /* an old bundle aside, no bundle: put back */
  make_temp (dir, other, FALSE);         /* another destination's: not ours to judge */
  make_temp (dir, mil_old, FALSE);       /* the old MIL-text form, no such process: removed */
  make_temp (dir, ".m.mlpackage.tmpXYZ", TRUE);        /* not a temporary name */
  make_temp (dir, ".m.mlpackage.tmp-12-ABC", TRUE);    /* nor this */

  g_assert_true (ane_file_is_temp_name (gone, "m.mlpackage"));
  g_assert_true (ane_file_is_temp_name (aside, "m.mlpackage"));
  g_assert_false (ane_file_is_temp_name (other, "m.mlpackage"));
  g_assert_false (ane_file_is_temp_name (".m.mlpackage.tmp-12-ABC", "m.mlpackage"));

  g_assert_cmpuint (ane_file_remove_stale_temps (dest), ==, 5);
  listing = list_dir (dir);
  {
    const char *expect[] = { other, own, live, ".m.mlpackage.tmp-12-ABC", ".m.mlpackage.tmp-IIIIII",
                             ".m.mlpackage.tmpXYZ", "m.mlpackage" };
    g_autoptr(GPtrArray) names = g_ptr_array_new ();

    /* sorted as list_dir sorts */
    for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
      g_ptr_array_add (names, (gpointer) expect[i]);
    g_ptr_array_sort (names, compare_names);
    g_ptr_array_add (names, NULL);
    want = g_strjoinv (" ", (char **) names->pdata);
    g_assert_cmpstr (listing, ==, want);
  }
  /* the aside became the destination */
  g_assert_true (g_file_test (restored, G_FILE_TEST_IS_DIR));

  /* A save runs the same sweep: a dead writer's temporary goes. */
  make_temp (dir, gone, FALSE);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(AnePackage) pkg = build_package (1, FALSE);
    g_autofree char *path = g_build_filename (dir, gone, NULL);

    g_assert_true (ane_package_save (pkg, dest, TRUE, &error));
    g_assert_no_error (error);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  ane_test_remove_tree (dir);
}

/* ---- layouts: versioned weight names -------------------------------------- */

static void
test_mil_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *mil = g_build_filename (dir, "model.mil", NULL);
  g_autofree char *weights_dir = g_build_filename (dir, "weights", NULL);
  g_autofree char *listing = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  g_autoptr(AnePackage) a = build_package (1, FALSE);
  g_autoptr(AnePackage) b = build_package (2, TRUE);
  g_autoptr(AnePackage) back = NULL;

  /* first save: the plain layout */
  g_assert_true (ane_package_save_mil (a, mil, FALSE, &error));
  g_assert_no_error (error);
  listing = list_dir (weights_dir);
  g_assert_cmpstr (listing, ==, "weight.bin");
  text = read_text (mil);
  name = mil_weight_name (text);
  g_assert_cmpstr (name, ==, "weight.bin");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&name, g_free);
  g_clear_pointer (&listing, g_free);

  /* over it: a fresh name, the old file gone */
  g_assert_true (ane_package_save_mil (b, mil, TRUE, &error));
  g_assert_no_error (error);
  text = read_text (mil);
  name = mil_weight_name (text);
  g_assert_true (ane_mlpackage_is_mil_weight_name (name));
  g_assert_cmpstr (name, !=, "weight.bin");
  listing = list_dir (weights_dir);
  g_assert_cmpstr (listing, ==, name);
  back = ane_package_load_mil (mil, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (back), ==, ane_package_get_weight_bytes (b));
  g_clear_pointer (&listing, g_free);

  /* and again: weight.bin is free, so it is used */
  g_assert_true (ane_package_save_mil (a, mil, TRUE, &error));
  g_assert_no_error (error);
  listing = list_dir (weights_dir);
  g_assert_cmpstr (listing, ==, "weight.bin");
  g_clear_pointer (&listing, g_free);

  /* a text naming two weight files is refused */
  {
    g_autoptr(GString) s = NULL;
    g_autoptr(AnePackage) bad = NULL;

    g_autoptr(AneGraph) g = ane_graph_new ();
    gint64 xs[2] = { 1, 8 }, bs[1] = { 16 };   /* large enough for weight.bin */
    g_autoptr(AneTensor) wv = random_tensor ("w", 8, 16, 5);
    g_autoptr(AneTensor) bv = ane_test_tensor_random ("b", bs, 1, 6, -1.0f, 1.0f);
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
    g_autoptr(AneTensor) w = ane_graph_param_with_value (g, wv, &error);
    g_autoptr(AneTensor) bias = ane_graph_param_with_value (g, bv, &error);
    g_autoptr(AneTensor) y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
    g_autoptr(AneTensor) z = ane_graph_add (g, y, bias, &error);
    g_autoptr(AnePackage) two = NULL;
    g_autofree char *sub = g_build_filename (dir, "two", NULL);
    g_autofree char *two_mil = g_build_filename (sub, "model.mil", NULL);

    g_assert_true (ane_graph_add_output (g, "z", z, &error));
    two = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
    g_assert_true (ane_package_save_mil (two, two_mil, FALSE, &error));
    g_assert_no_error (error);
    g_clear_pointer (&text, g_free);
    text = read_text (two_mil);
    s = g_string_new (text);
    g_string_replace (s, "weights/weight.bin", "weights/weight-0123456789abcdef.bin", 1);
    g_assert_nonnull (strstr (s->str, "weights/weight.bin"));   /* the program has two blobs */
    g_assert_true (g_file_set_contents (two_mil, s->str, -1, NULL));
    bad = ane_package_load_mil (two_mil, &error);
    g_assert_null (bad);
    ane_test_assert_error (&error, ANE_ERROR_PARSE, two_mil, "two weight files", NULL);
    ane_test_remove_tree (sub);
  }

  /* without overwrite, an existing text or weight.bin stops the save */
  g_assert_false (ane_package_save_mil (b, mil, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);

  /* a program without weights over one with: the weights go */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    gint64 xs[2] = { 1, 4 };
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
    g_autoptr(AnePackage) none = NULL;

    g_assert_true (ane_graph_add_output (g, "y", y, &error));
    none = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
    g_assert_no_error (error);
    g_assert_true (ane_package_save_mil (none, mil, TRUE, &error));
    g_assert_no_error (error);
    g_clear_pointer (&listing, g_free);
    listing = list_dir (dir);
    g_assert_cmpstr (listing, ==, "model.mil");
  }
  ane_test_remove_tree (dir);
}

static void
test_graph_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
  g_autofree char *json = g_build_filename (dir, "g.json", NULL);
  g_autoptr(AneGraph) a = build_graph (8, 4, 1, FALSE);
  g_autoptr(AneGraph) b = build_graph (8, 4, 2, TRUE);
  g_autofree char *listing = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  g_autofree char *want = NULL;

  g_assert_true (ane_graph_save (a, json, &error));
  g_assert_no_error (error);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "g.json g.safetensors");
  g_clear_pointer (&listing, g_free);

  g_assert_true (ane_graph_save (b, json, &error));
  g_assert_no_error (error);
  text = read_text (json);
  name = graph_weights_name (text);
  g_assert_true (g_str_has_prefix (name, "g-") && g_str_has_suffix (name, ".safetensors"));
  g_assert_cmpuint (strlen (name), ==, strlen ("g-") + 16 + strlen (".safetensors"));
  listing = list_dir (dir);
  want = g_strdup_printf ("%s g.json", name);   /* sorted: '-' < '.' */
  g_assert_cmpstr (listing, ==, want);
  {
    g_autoptr(AneGraph) back = ane_graph_load (json, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ane_graph_get_n_nodes (back), ==, ane_graph_get_n_nodes (b));
  }
  g_clear_pointer (&listing, g_free);

  g_assert_true (ane_graph_save (a, json, &error));
  g_assert_no_error (error);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "g.json g.safetensors");
  ane_test_remove_tree (dir);
}

/* load_mil refuses a FIFO as its text at once (it used to wait for a
 * writer): in a subprocess with a time limit. */
static void
test_mil_fifo (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = ane_test_make_tmp_dir ("ane-save-faults-XXXXXX");
      g_autofree char *fifo = g_build_filename (dir, "model.mil", NULL);

      g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
      g_assert_null (ane_package_load_mil (fifo, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, fifo, "FIFO", NULL);
      g_assert_null (ane_package_load_mil (dir, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, dir, "directory", NULL);
      ane_test_remove_tree (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  if (g_getenv (CHILD_MODE_ENV) != NULL && g_getenv (CHILD_DEST_ENV) != NULL)
    return child_main (g_getenv (CHILD_MODE_ENV), g_getenv (CHILD_DEST_ENV));

  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/save/faults/package", GINT_TO_POINTER (FALSE), test_package_faults);
  g_test_add_data_func ("/save/faults/loaded-package", GINT_TO_POINTER (TRUE), test_package_faults);
  g_test_add_func ("/save/faults/mil", test_mil_faults);
  g_test_add_func ("/save/faults/graph", test_graph_faults);
  g_test_add_data_func ("/save/kill/package", GINT_TO_POINTER (FALSE), test_kill_during_save);
  g_test_add_data_func ("/save/kill/mil", GINT_TO_POINTER (TRUE), test_kill_during_save);
  g_test_add_func ("/save/stale-temps", test_stale_temps);
  g_test_add_func ("/save/layout/mil", test_mil_layout);
  g_test_add_func ("/save/layout/graph", test_graph_layout);
  g_test_add_func ("/save/load-mil/fifo", test_mil_fifo);

  return g_test_run ();
}
