/* ane-fault-inject.c: interposed write, fsync, rename and close (see the
 * header). The prototypes must be the C library's own, so large-file
 * renaming (-D_FILE_OFFSET_BITS=64 maps pwrite to pwrite64) is turned off
 * here and both names are defined.
 *
 * SPDX-License-Identifier: MIT
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ane-fault-inject.h"

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static int fault_active;   /* read without the lock: the fast path */
static struct {
  char        dir[PATH_MAX];
  size_t      dir_len;
  guint       kinds;
  guint       n;
  guint       count;
  int         errsv;
  guint       delay;
  gboolean    fired;
  AneFaultHit hit;
} fault;

static void *
real_function (const char *name)
{
  void *p = dlsym (RTLD_NEXT, name);

  if (p == NULL)
    {
      static const char msg[] = "ane-fault-inject: a C library function is missing\n";
      ssize_t (*real_write) (int, const void *, size_t) = dlsym (RTLD_NEXT, "write");

      if (real_write != NULL)
        (void) real_write (2, msg, sizeof msg - 1);
      abort ();
    }
  return p;
}

#define REAL(ret, name, args) \
  static ret (*real_##name) args; \
  if (real_##name == NULL) \
    real_##name = (ret (*) args) real_function (#name)

static gboolean
is_under (const char *path)
{
  return strncmp (path, fault.dir, fault.dir_len) == 0 &&
         (path[fault.dir_len] == '\0' || path[fault.dir_len] == '/');
}

static gboolean
fd_path (int   fd,
         char *buf,
         gsize size)
{
  char link[64];
  ssize_t n;

  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, buf, size - 1);
  if (n < 0)
    return FALSE;
  buf[n] = '\0';
  return TRUE;
}

/* Counts a call on path (fd >= 0: its descriptor); returns the errno to
 * fail with, or 0 to go ahead. */
static int
decide (AneFaultKind  kind,
        const char   *path,
        int           fd)
{
  gboolean counted = FALSE;
  guint delay = 0;
  int fail = 0;

  pthread_mutex_lock (&fault_lock);
  if (fault_active && (fault.kinds & kind) && is_under (path))
    {
      counted = TRUE;
      fault.count++;
      delay = fault.delay;
      if (fault.n != 0 && fault.count == fault.n)
        {
          struct stat st;
          int flags;

          fail = fault.errsv;
          fault.fired = TRUE;
          memset (&fault.hit, 0, sizeof fault.hit);
          fault.hit.kind = kind;
          g_strlcpy (fault.hit.path, path, sizeof fault.hit.path);
          if (fd >= 0 && fstat (fd, &st) == 0)
            fault.hit.is_dir = S_ISDIR (st.st_mode);
          if (fd >= 0 && (flags = fcntl (fd, F_GETFL)) >= 0)
            fault.hit.read_only = (flags & O_ACCMODE) == O_RDONLY;
        }
    }
  pthread_mutex_unlock (&fault_lock);
  /* ANE_FAULT_TRACE=1 lists the calls counted, to see what a save does */
  if (counted && g_getenv ("ANE_FAULT_TRACE") != NULL)
    g_printerr ("fault-inject: %s %s%s\n", ane_fault_kind_name (kind), path, fail ? " (failed)" : "");
  if (delay > 0)
    g_usleep (delay);
  return fail;
}

static int
check_fd (AneFaultKind kind,
          int          fd)
{
  char path[PATH_MAX];

  if (!__atomic_load_n (&fault_active, __ATOMIC_ACQUIRE) || !fd_path (fd, path, sizeof path))
    return 0;
  return decide (kind, path, fd);
}

static gboolean
absolute_path (int         dirfd,
               const char *path,
               char       *buf,
               gsize       size)
{
  char base[PATH_MAX];

  if (path[0] == '/')
    {
      g_strlcpy (buf, path, size);
      return TRUE;
    }
  if (dirfd == AT_FDCWD ? getcwd (base, sizeof base) == NULL : !fd_path (dirfd, base, sizeof base))
    return FALSE;
  g_strlcpy (buf, base, size);
  g_strlcat (buf, "/", size);
  g_strlcat (buf, path, size);
  return TRUE;
}

static int
check_rename (int         olddirfd,
              const char *oldpath,
              int         newdirfd,
              const char *newpath)
{
  char a[PATH_MAX], b[PATH_MAX];
  gboolean in_a, in_b;

  if (!__atomic_load_n (&fault_active, __ATOMIC_ACQUIRE))
    return 0;
  in_a = absolute_path (olddirfd, oldpath, a, sizeof a);
  in_b = absolute_path (newdirfd, newpath, b, sizeof b);
  pthread_mutex_lock (&fault_lock);
  in_a = in_a && is_under (a);
  in_b = in_b && is_under (b);
  pthread_mutex_unlock (&fault_lock);
  if (!in_a && !in_b)
    return 0;
  return decide (ANE_FAULT_RENAME, in_a ? a : b, -1);
}

/* ---- the interposed functions ---- */

ssize_t
write (int         fd,
       const void *buf,
       size_t      n)
{
  REAL (ssize_t, write, (int, const void *, size_t));
  int e = check_fd (ANE_FAULT_WRITE, fd);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_write (fd, buf, n);
}

ssize_t
pwrite (int         fd,
        const void *buf,
        size_t      n,
        off_t       offset)
{
  REAL (ssize_t, pwrite, (int, const void *, size_t, off_t));
  int e = check_fd (ANE_FAULT_WRITE, fd);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_pwrite (fd, buf, n, offset);
}

ssize_t
pwrite64 (int         fd,
          const void *buf,
          size_t      n,
          off64_t     offset)
{
  REAL (ssize_t, pwrite64, (int, const void *, size_t, off64_t));
  int e = check_fd (ANE_FAULT_WRITE, fd);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_pwrite64 (fd, buf, n, offset);
}

ssize_t
copy_file_range (int           fd_in,
                 off64_t      *off_in,
                 int           fd_out,
                 off64_t      *off_out,
                 size_t        len,
                 unsigned int  flags)
{
  REAL (ssize_t, copy_file_range, (int, off64_t *, int, off64_t *, size_t, unsigned int));
  int e = check_fd (ANE_FAULT_WRITE, fd_out);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_copy_file_range (fd_in, off_in, fd_out, off_out, len, flags);
}

ssize_t
splice (int           fd_in,
        off64_t      *off_in,
        int           fd_out,
        off64_t      *off_out,
        size_t        len,
        unsigned int  flags)
{
  REAL (ssize_t, splice, (int, off64_t *, int, off64_t *, size_t, unsigned int));
  int e = check_fd (ANE_FAULT_WRITE, fd_out);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_splice (fd_in, off_in, fd_out, off_out, len, flags);
}

int
fsync (int fd)
{
  REAL (int, fsync, (int));
  int e = check_fd (ANE_FAULT_FSYNC, fd);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_fsync (fd);
}

int
fdatasync (int fd)
{
  REAL (int, fdatasync, (int));
  int e = check_fd (ANE_FAULT_FSYNC, fd);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_fdatasync (fd);
}

int
rename (const char *oldpath,
        const char *newpath)
{
  REAL (int, rename, (const char *, const char *));
  int e = check_rename (AT_FDCWD, oldpath, AT_FDCWD, newpath);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_rename (oldpath, newpath);
}

int
renameat (int         olddirfd,
          const char *oldpath,
          int         newdirfd,
          const char *newpath)
{
  REAL (int, renameat, (int, const char *, int, const char *));
  int e = check_rename (olddirfd, oldpath, newdirfd, newpath);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_renameat (olddirfd, oldpath, newdirfd, newpath);
}

int
renameat2 (int           olddirfd,
           const char   *oldpath,
           int           newdirfd,
           const char   *newpath,
           unsigned int  flags)
{
  REAL (int, renameat2, (int, const char *, int, const char *, unsigned int));
  int e = check_rename (olddirfd, oldpath, newdirfd, newpath);

  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return real_renameat2 (olddirfd, oldpath, newdirfd, newpath, flags);
}

int
close (int fd)
{
  REAL (int, close, (int));
  /* Looked at before: the descriptor is gone after. */
  int e = check_fd (ANE_FAULT_CLOSE, fd);
  int r = real_close (fd);

  /* Linux frees the descriptor even when close fails (close(2)). */
  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return r;
}

/* ---- control ---- */

void
ane_fault_arm (const char *dir,
               guint       kinds,
               guint       n,
               int         errsv)
{
  pthread_mutex_lock (&fault_lock);
  g_strlcpy (fault.dir, dir, sizeof fault.dir);
  fault.dir_len = strlen (fault.dir);
  while (fault.dir_len > 1 && fault.dir[fault.dir_len - 1] == '/')
    fault.dir[--fault.dir_len] = '\0';
  fault.kinds = kinds;
  fault.n = n;
  fault.count = 0;
  fault.errsv = errsv;
  fault.fired = FALSE;
  memset (&fault.hit, 0, sizeof fault.hit);
  __atomic_store_n (&fault_active, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock (&fault_lock);
}

void
ane_fault_set_delay (guint usec)
{
  pthread_mutex_lock (&fault_lock);
  fault.delay = usec;
  pthread_mutex_unlock (&fault_lock);
}

guint
ane_fault_disarm (void)
{
  guint count;

  pthread_mutex_lock (&fault_lock);
  __atomic_store_n (&fault_active, 0, __ATOMIC_RELEASE);
  count = fault.count;
  pthread_mutex_unlock (&fault_lock);
  return count;
}

gboolean
ane_fault_fired (AneFaultHit *hit)
{
  gboolean fired;

  pthread_mutex_lock (&fault_lock);
  fired = fault.fired;
  if (fired && hit != NULL)
    *hit = fault.hit;
  pthread_mutex_unlock (&fault_lock);
  return fired;
}

const char *
ane_fault_kind_name (AneFaultKind kind)
{
  switch (kind)
    {
    case ANE_FAULT_WRITE:  return "write";
    case ANE_FAULT_FSYNC:  return "fsync";
    case ANE_FAULT_RENAME: return "rename";
    case ANE_FAULT_CLOSE:  return "close";
    default:               return "?";
    }
}
