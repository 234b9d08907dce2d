/* ane-file.c: reading, writing and replacing files safely
 *
 * Readers open what a file (a graph JSON, a package) names, so the name can
 * point anywhere; ane_file_open_regular() makes sure it is a regular file
 * before reading, and never blocks on a FIFO doing so (fifo(7): "opening
 * for reading blocks until another process opens the FIFO for writing").
 *
 * Writers build their output in a temporary sibling of the destination and
 * rename it into place (rename(2) is atomic within a file system). The
 * temporary's name carries the writing process's PID, which lets a later
 * save tell a temporary left by a killed process from one being written
 * now; see ane_file_remove_stale_temps() below for the rule.
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
#include <unistd.h>

#include <glib/gstdio.h>

#include "ane-file-private.h"

/* Linux moves at most 0x7ffff000 bytes per write(2). */
#define MAX_WRITE ((gsize) 1 << 30)

/* Clock slack when comparing a file's mtime with a process start time:
 * Linux gives the boot time in whole seconds (/proc/stat "btime"). */
#define START_TIME_SLACK 2

static void
set_errno_error (GError    **error,
                 int         errsv,
                 const char *what,
                 const char *path)
{
  g_set_error (error, ANE_ERROR, errsv == ENOENT ? ANE_ERROR_NOT_FOUND : ANE_ERROR_IO,
               "%s '%s': %s", what, path, g_strerror (errsv));
}

static const char *
file_kind (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a file";
}

/* ---------------------------------------------------------------------- */
/* reading                                                                */
/* ---------------------------------------------------------------------- */

int
ane_file_open_regular (const char  *path,
                       GError     **error)
{
  struct stat st;
  int fd, flags;

  g_return_val_if_fail (path != NULL, -1);

  /* O_NONBLOCK: open(2) of a FIFO returns at once instead of waiting for a
   * writer; O_NOCTTY: a terminal named here does not become ours. */
  do
    fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      set_errno_error (error, errno, "cannot open", path);
      return -1;
    }
  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;

      close (fd);
      set_errno_error (error, errsv, "cannot stat", path);
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "'%s' is %s, not a regular file",
                   path, file_kind (st.st_mode));
      return -1;
    }
  /* Regular files ignore O_NONBLOCK today, but reads must not be allowed
   * to fail with EAGAIN should that change (open(2), O_NONBLOCK). */
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    {
      int errsv = errno;

      close (fd);
      set_errno_error (error, errsv, "cannot set blocking mode on", path);
      return -1;
    }
  return fd;
}

gsize
ane_file_pread_all (int      fd,
                    gpointer dst,
                    gsize    size,
                    guint64  offset)
{
  gsize done = 0;

  while (done < size)
    {
      gssize n = pread (fd, (guint8 *) dst + done, size - done, (off_t) (offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  return done;
}

GMappedFile *
ane_file_map_regular_fd (const char  *path,
                         int         *fd_out,
                         GError     **error)
{
  g_autoptr(GError) local = NULL;
  GMappedFile *mapped;
  int fd;

  fd = ane_file_open_regular (path, error);
  if (fd < 0)
    return NULL;
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &local);
  if (mapped == NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot map '%s': %s", path, local->message);
  if (mapped != NULL && fd_out != NULL)
    *fd_out = fd;
  else
    close (fd);
  return mapped;
}

GMappedFile *
ane_file_map_regular (const char  *path,
                      GError     **error)
{
  /* The mapping stays valid once the descriptor is closed (mmap(2)). */
  return ane_file_map_regular_fd (path, NULL, error);
}

gboolean
ane_file_get_contents (const char  *path,
                       char       **contents,
                       gsize       *length,
                       GError     **error)
{
  g_autoptr(GByteArray) buf = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail (contents != NULL, FALSE);

  fd = ane_file_open_regular (path, error);
  if (fd < 0)
    return FALSE;
  buf = g_byte_array_new ();
  /* The size is a hint: the file may grow or shrink while it is read. */
  if (fstat (fd, &st) == 0 && st.st_size > 0 && (guint64) st.st_size < G_MAXUINT - 1)
    g_byte_array_set_size (buf, (guint) st.st_size + 1);
  else
    g_byte_array_set_size (buf, 4096);
  for (gsize used = 0;;)
    {
      gssize n;

      if (used == buf->len)
        {
          if (buf->len > G_MAXUINT / 2)
            {
              close (fd);
              g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "'%s' is too large to read", path);
              return FALSE;
            }
          g_byte_array_set_size (buf, buf->len * 2);
        }
      n = read (fd, buf->data + used, buf->len - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          close (fd);
          set_errno_error (error, errsv, "cannot read", path);
          return FALSE;
        }
      if (n == 0)
        {
          close (fd);
          g_byte_array_set_size (buf, (guint) used + 1);
          buf->data[used] = '\0';
          if (length != NULL)
            *length = used;
          *contents = (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
          return TRUE;
        }
      used += (gsize) n;
    }
}

/* ---------------------------------------------------------------------- */
/* writing                                                                */
/* ---------------------------------------------------------------------- */

gboolean
ane_file_write_all (int          fd,
                    const char  *path,
                    const void  *data,
                    gsize        size,
                    guint64      offset,
                    GError     **error)
{
  const guint8 *p = data;

  while (size > 0)
    {
      gssize n = write (fd, p, MIN (size, MAX_WRITE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          /* write(2) returning 0 for a non-empty buffer: treat as full. */
          int errsv = n < 0 ? errno : ENOSPC;

          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: writing at offset %" G_GUINT64_FORMAT ": %s",
                       path, offset, g_strerror (errsv));
          return FALSE;
        }
      p += n;
      size -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

gboolean
ane_file_sync_fd (int          fd,
                  const char  *path,
                  GError     **error)
{
  int r;

#ifdef F_FULLFSYNC
  r = fcntl (fd, F_FULLFSYNC);
  if (r == 0)
    return TRUE;
#endif
  do
    r = fsync (fd);
  while (r != 0 && errno == EINTR);
  /* Some file systems cannot sync directories; that is not our failure. */
  if (r != 0 && errno != EINVAL && errno != ENOTSUP)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: fsync: %s", path, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_file_sync_dir (const char  *path,
                   GError     **error)
{
  gboolean ok;
  int fd;

  do
    fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot open to sync: %s", path, g_strerror (errsv));
      return FALSE;
    }
  ok = ane_file_sync_fd (fd, path, error);
  /* Nothing was written through this descriptor: a failing close loses
   * nothing, and the sync above already reported what matters. */
  close (fd);
  return ok;
}

gboolean
ane_file_close (int          fd,
                const char  *path,
                GError     **error)
{
  int errsv;

  if (close (fd) == 0)
    return TRUE;
  errsv = errno;
  if (errsv == EINTR)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: close: %s", path, g_strerror (errsv));
  return FALSE;
}

gboolean
ane_file_write_durable (const char   *path,
                        const void   *data,
                        gsize         size,
                        GError      **error)
{
  int fd;

  do
    fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create: %s", path, g_strerror (errsv));
      return FALSE;
    }
  if (!ane_file_write_all (fd, path, data, size, 0, error) || !ane_file_sync_fd (fd, path, error))
    {
      close (fd);
      return FALSE;
    }
  return ane_file_close (fd, path, error);
}

gboolean
ane_file_sync_tree (const char  *path,
                    GError     **error)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    {
      set_errno_error (error, errno, "cannot stat", path);
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GError) local = NULL;
      const char *name;

      dir = g_dir_open (path, 0, &local);
      if (dir == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot list to sync: %s", path, local->message);
          return FALSE;
        }
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (!ane_file_sync_tree (child, error))
            return FALSE;
        }
      return ane_file_sync_dir (path, error);
    }
  if (S_ISREG (st.st_mode))
    {
      gboolean ok;
      int fd;

      do
        fd = open (path, O_RDONLY | O_CLOEXEC);
      while (fd < 0 && errno == EINTR);
      if (fd < 0)
        {
          set_errno_error (error, errno, "cannot open to sync", path);
          return FALSE;
        }
      ok = ane_file_sync_fd (fd, path, error);
      close (fd);   /* read-only: see ane_file_sync_dir() */
      return ok;
    }
  return TRUE;   /* links are synced with their directory */
}

/* ---------------------------------------------------------------------- */
/* temporary siblings                                                     */
/* ---------------------------------------------------------------------- */

static char *
temp_template (const char *dest)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *name = g_strdup_printf (".%s.tmp-%" G_GINT64_FORMAT "-XXXXXX", base, (gint64) getpid ());

  return g_build_filename (dir, name, NULL);
}

char *
ane_file_make_temp_dir (const char  *dest,
                        GError     **error)
{
  g_autofree char *tmpl = temp_template (dest);

  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create the temporary directory '%s': %s",
                   dest, tmpl, g_strerror (errsv));
      return NULL;
    }
  return g_steal_pointer (&tmpl);
}

int
ane_file_make_temp_file (const char  *dest,
                         char       **tmp_path,
                         GError     **error)
{
  g_autofree char *tmpl = temp_template (dest);
  int fd;

  /* 0666 filtered by the umask, as a plainly created file would be. */
  fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create the temporary file '%s': %s",
                   dest, tmpl, g_strerror (errsv));
      return -1;
    }
  *tmp_path = g_steal_pointer (&tmpl);
  return fd;
}

void
ane_file_remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          ane_file_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

typedef enum {
  TEMP_PID,          /* .<base>.tmp-<pid>-XXXXXX: this file's writers */
  TEMP_LEGACY_DIR,   /* .<base>.tmp-XXXXXX: package staging before PIDs were recorded */
  TEMP_LEGACY_PID,   /* <base>.tmp-<pid>: MIL text and its weights, the same */
} TempForm;

typedef struct {
  TempForm form;
  gint64   pid;
  gboolean aside;    /* <temporary>.old-XXXXXX: an old bundle moved aside */
} TempName;

/* Six characters of g_mkdtemp()/g_mkstemp() (letters and digits). */
static gboolean
skip_random (const char **p)
{
  for (guint i = 0; i < 6; i++)
    if (!g_ascii_isalnum ((*p)[i]))
      return FALSE;
  *p += 6;
  return TRUE;
}

static gboolean
skip_pid (const char **p,
          gint64      *pid)
{
  const char *s = *p;
  guint64 v = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  for (; g_ascii_isdigit (*s); s++)
    {
      v = v * 10 + (guint64) (*s - '0');
      if (v > G_MAXINT32)
        return FALSE;
    }
  if (v == 0)
    return FALSE;
  *pid = (gint64) v;
  *p = s;
  return TRUE;
}

static gboolean
parse_temp_name (const char *name,
                 const char *base,
                 TempName   *t)
{
  gsize base_len = strlen (base);
  const char *p = name;

  memset (t, 0, sizeof *t);
  if (p[0] == '.' && strncmp (p + 1, base, base_len) == 0 && g_str_has_prefix (p + 1 + base_len, ".tmp-"))
    {
      p += 1 + base_len + strlen (".tmp-");
      if (skip_pid (&p, &t->pid) && *p == '-')
        {
          p++;
          t->form = TEMP_PID;
        }
      else
        {
          p = name + 1 + base_len + strlen (".tmp-");
          t->form = TEMP_LEGACY_DIR;
        }
      if (!skip_random (&p))
        return FALSE;
      if (g_str_has_prefix (p, ".old-"))
        {
          p += strlen (".old-");
          if (!skip_random (&p))
            return FALSE;
          t->aside = TRUE;
        }
      return *p == '\0';
    }
  if (strncmp (p, base, base_len) == 0 && g_str_has_prefix (p + base_len, ".tmp-"))
    {
      p += base_len + strlen (".tmp-");
      t->form = TEMP_LEGACY_PID;
      return skip_pid (&p, &t->pid) && *p == '\0';
    }
  return FALSE;
}

gboolean
ane_file_is_temp_name (const char *name,
                       const char *base)
{
  TempName t;

  return parse_temp_name (name, base, &t);
}

/* When the process @pid started, in seconds since the epoch; FALSE where
 * this cannot be known. Linux: field 22 of /proc/<pid>/stat is the start in
 * clock ticks after boot, and /proc/stat's "btime" the boot time (proc(5)). */
static gboolean
process_start_time (gint64  pid,
                    gint64 *start)
{
#ifdef __linux__
  g_autofree char *stat_path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *text = NULL;
  g_autofree char *boot = NULL;
  g_auto(GStrv) fields = NULL;
  const char *p, *btime;
  guint64 ticks, boot_time;
  long hz = sysconf (_SC_CLK_TCK);

  if (hz <= 0 || !g_file_get_contents (stat_path, &text, NULL, NULL) ||
      !g_file_get_contents ("/proc/stat", &boot, NULL, NULL))
    return FALSE;
  /* The command name (field 2) is in parentheses and may hold spaces. */
  p = strrchr (text, ')');
  if (p == NULL)
    return FALSE;
  fields = g_strsplit (p + 1, " ", 0);
  /* fields[0] is the empty string before the first space, fields[1] the
   * state (field 3): field 22 is fields[20]. */
  if (g_strv_length (fields) < 21)
    return FALSE;
  ticks = g_ascii_strtoull (fields[20], NULL, 10);
  btime = strstr (boot, "\nbtime ");
  if (btime == NULL)
    return FALSE;
  boot_time = g_ascii_strtoull (btime + strlen ("\nbtime "), NULL, 10);
  if (boot_time == 0)
    return FALSE;
  *start = (gint64) (boot_time + ticks / (guint64) hz);
  return TRUE;
#else
  (void) pid;
  (void) start;
  return FALSE;
#endif
}

/* The staleness rule (docs/packages.md, "Atomicity and durability"):
 *
 *  - a temporary named with a PID (this file's form, and the old MIL-text
 *    form <base>.tmp-<pid>) is stale when no process has that PID
 *    (kill(pid, 0) fails with ESRCH), or when the process that has it now
 *    started after the temporary was last modified (the PID was reused:
 *    the writer is necessarily older than what it wrote; Linux only);
 *    a temporary of this very process is never stale (another thread may
 *    be saving to the same place);
 *  - a temporary without a PID (package staging of earlier versions) is
 *    stale when it was last modified before this process started (Linux
 *    only: elsewhere such leftovers are kept).
 *
 * A live writer is never taken for a dead one: an unknown start time keeps
 * the temporary, and EPERM from kill() means the process exists. */
static gboolean
temp_is_stale (const char     *path,
               const TempName *t)
{
  GStatBuf st;
  gint64 start;

  if (g_lstat (path, &st) != 0)
    return FALSE;
  if (t->form == TEMP_LEGACY_DIR)
    return process_start_time (getpid (), &start) && (gint64) st.st_mtime + START_TIME_SLACK < start;
  if (t->pid == (gint64) getpid ())
    return FALSE;
  if (kill ((pid_t) t->pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  return process_start_time (t->pid, &start) && start > (gint64) st.st_mtime + START_TIME_SLACK;
}

/* The base name a temporary belongs to, if name is one whose base match
 * accepts: every ".tmp-" in name is tried as the end of the base. */
static gboolean
match_temp_name (const char     *name,
                 AneFileNameFunc match,
                 gconstpointer   data,
                 char          **base_out,
                 TempName       *t)
{
  for (const char *p = strstr (name, ".tmp-"); p != NULL; p = strstr (p + 1, ".tmp-"))
    {
      for (guint dot = 0; dot < 2; dot++)
        {
          const char *start = name + (dot ? 1 : 0);
          g_autofree char *base = NULL;

          if ((dot && name[0] != '.') || p <= start)
            continue;
          base = g_strndup (start, (gsize) (p - start));
          if (match (base, data) && parse_temp_name (name, base, t))
            {
              *base_out = g_steal_pointer (&base);
              return TRUE;
            }
        }
    }
  return FALSE;
}

guint
ane_file_remove_stale_temps_matching (const char      *dir_path,
                                      AneFileNameFunc  match,
                                      gconstpointer    data)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint removed = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *base = NULL;
      TempName t;

      if (match_temp_name (name, match, data, &base, &t))
        g_ptr_array_add (names, g_strdup (name));
    }
  for (guint i = 0; i < names->len; i++)
    {
      const char *tmp_name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir_path, tmp_name, NULL);
      g_autofree char *base = NULL;
      g_autofree char *dest = NULL;
      TempName t;

      match_temp_name (tmp_name, match, data, &base, &t);
      if (!temp_is_stale (path, &t))
        continue;
      dest = g_build_filename (dir_path, base, NULL);
      /* An old bundle moved aside by a writer that died before the new one
       * took its place is the destination's last complete state: put it
       * back rather than lose it. */
      if (t.aside && !g_file_test (dest, G_FILE_TEST_EXISTS) && g_rename (path, dest) == 0)
        {
          g_debug ("%s: restored from '%s', left aside by a save that did not finish", dest, path);
          removed++;
          continue;
        }
      ane_file_remove_tree (path);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        g_debug ("%s: cannot remove the stale temporary '%s'", dest, path);
      else
        {
          g_debug ("%s: removed the stale temporary '%s'", dest, path);
          removed++;
        }
    }
  return removed;
}

static gboolean
base_equals (const char    *base,
             gconstpointer  data)
{
  return strcmp (base, data) == 0;
}

guint
ane_file_remove_stale_temps (const char *dest)
{
  g_autofree char *dir_path = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);

  return ane_file_remove_stale_temps_matching (dir_path, base_equals, base);
}

gboolean
ane_file_replace (const char   *dest,
                  const void   *data,
                  gsize         size,
                  char        **warning,
                  GError      **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *dir = NULL;
  int fd;

  fd = ane_file_make_temp_file (dest, &tmp, error);
  if (fd < 0)
    return FALSE;
  if (!ane_file_write_all (fd, tmp, data, size, 0, error) || !ane_file_sync_fd (fd, tmp, error))
    {
      close (fd);
      g_unlink (tmp);
      return FALSE;
    }
  if (!ane_file_close (fd, tmp, error))
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (g_rename (tmp, dest) != 0)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot rename '%s' to '%s': %s", tmp, dest,
                   g_strerror (errsv));
      g_unlink (tmp);
      return FALSE;
    }
  /* The point of no return: @dest is the new file. */
  dir = g_path_get_dirname (dest);
  if (!ane_file_sync_dir (dir, &local))
    {
      g_debug ("%s: replaced, but %s", dest, local->message);
      if (warning != NULL)
        *warning = g_strdup_printf ("'%s' was replaced, but its directory could not be synced, "
                                    "so a system crash could still undo the change (%s)",
                                    dest, local->message);
    }
  return TRUE;
}
