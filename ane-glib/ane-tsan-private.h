/* ane-tsan-private.h: telling ThreadSanitizer what GLib's locks and tasks order
 *
 * ThreadSanitizer sees the synchronisation of code it instrumented and of
 * the pthread calls it intercepts. GLib's GMutex on Linux is not a pthread
 * mutex: gthread-posix.c builds it from atomic operations and the futex
 * system call inside libglib, which is not instrumented. TSan therefore
 * cannot see that a GMutex orders two threads, and reports every value one
 * thread hands another under it as a race (the executable's run lock,
 * states and prepared program above all). The same holds for GTask's
 * thread pool: the task's data reaches the worker, and its result the
 * caller, through GLib's own queues.
 *
 * These wrappers lock and unlock as GLib does and, in a TSan build only,
 * declare the ordering with TSan's annotation interface
 * (sanitizer/tsan_interface.h: __tsan_acquire / __tsan_release on the
 * lock's address, the documented way to describe custom synchronisation).
 * Elsewhere they compile to the plain GLib calls.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#if defined(__SANITIZE_THREAD__)
# define ANE_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define ANE_TSAN 1
# endif
#endif

#ifdef ANE_TSAN
# include <sanitizer/tsan_interface.h>
# define ane_tsan_acquire(addr) __tsan_acquire ((void *) (addr))
# define ane_tsan_release(addr) __tsan_release ((void *) (addr))
#else
# define ane_tsan_acquire(addr) ((void) (addr))
# define ane_tsan_release(addr) ((void) (addr))
#endif

G_BEGIN_DECLS

static inline void
ane_mutex_lock (GMutex *mutex)
{
  g_mutex_lock (mutex);
  ane_tsan_acquire (mutex);
}

static inline void
ane_mutex_unlock (GMutex *mutex)
{
  ane_tsan_release (mutex);
  g_mutex_unlock (mutex);
}

/* g_task_run_in_thread(): what the caller wrote before is seen by the
 * worker; the worker's function starts with ane_task_thread_begin (task). */
static inline void
ane_task_run_in_thread (GTask                 *task,
                        GTaskThreadFunc        func)
{
  ane_tsan_release (task);
  g_task_run_in_thread (task, func);
}

static inline void
ane_task_thread_begin (GTask *task)
{
  ane_tsan_acquire (task);
}

/* Before g_task_return_*() in the worker, and in the _finish function
 * before the result is read. */
static inline void
ane_task_thread_end (GTask *task)
{
  ane_tsan_release (task);
}

static inline void
ane_task_finish_begin (GAsyncResult *result)
{
  ane_tsan_acquire (result);
}

G_END_DECLS
