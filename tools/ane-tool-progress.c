/* ane-tool-progress.c: an AneProgress shown on stderr
 *
 * On a terminal, one line redrawn in place with \r:
 *   writing weights [##########          ]  52%  12.3/23.6 MB
 * and ended with a newline when the work is done. Anywhere else (a pipe, a
 * log file) \r would garble the output: one plain line per stage instead.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ane-tool-private.h"

#define BAR_WIDTH 20

struct _AneToolBar {
  gboolean    tty;
  gboolean    silent;     /* stopped drawing (the terminal is needed for other text) */
  gboolean    line_open;  /* a bar is on the screen without its newline */
  const char *stage;      /* the last stage shown (the library's literals) */
  int         percent;    /* the last percentage drawn */
};

AneToolBar *
ane_tool_bar_new (void)
{
  AneToolBar *bar = g_new0 (AneToolBar, 1);

  bar->tty = isatty (fileno (stderr));
  bar->percent = -1;
  return bar;
}

void
ane_tool_bar_free (gpointer data)
{
  g_free (data);
}

/* Bytes as people read them on a progress line, in MB (10^6 bytes, as
 * g_format_size counts). */
static double
megabytes (guint64 bytes)
{
  return (double) bytes / 1e6;
}

static void
draw (AneToolBar  *bar,
      AneProgress *progress)
{
  double fraction = ane_progress_get_fraction (progress);
  guint64 done = ane_progress_get_bytes_done (progress), total = ane_progress_get_bytes_total (progress);
  int filled = (int) (fraction * BAR_WIDTH);
  char cells[BAR_WIDTH + 1];

  memset (cells, '#', filled);
  memset (cells + filled, ' ', BAR_WIDTH - filled);
  cells[BAR_WIDTH] = '\0';
  /* \033[K clears what a longer line before left */
  fprintf (stderr, "\r%s [%s] %3d%%", ane_progress_get_stage (progress), cells, (int) (fraction * 100));
  if (total > 0)
    fprintf (stderr, "  %.1f/%.1f MB", megabytes (done), megabytes (total));
  fputs ("\033[K", stderr);
  bar->line_open = TRUE;
}

void
ane_tool_bar_update (AneToolBar  *bar,
                     AneProgress *progress)
{
  const char *stage = ane_progress_get_stage (progress);
  double fraction = ane_progress_get_fraction (progress);
  int percent = (int) (fraction * 100);

  if (bar->silent || stage == NULL)
    return;
  if (!bar->tty)
    {
      /* a line per stage; the next operation, after this one is done,
       * names its first stage again */
      if (g_strcmp0 (stage, bar->stage) != 0)
        {
          fprintf (stderr, "%s\n", stage);
          fflush (stderr);
        }
      bar->stage = fraction >= 1.0 ? NULL : stage;
      return;
    }
  /* Redraw only what a person can see change: the percentage or the stage. */
  if (percent != bar->percent || stage != bar->stage || fraction >= 1.0)
    draw (bar, progress);
  bar->stage = stage;
  bar->percent = percent;
  if (fraction >= 1.0)
    {
      fputc ('\n', stderr);
      bar->line_open = FALSE;
      bar->stage = NULL;
      bar->percent = -1;
    }
  fflush (stderr);
}

void
ane_tool_bar_end_line (AneToolBar *bar)
{
  if (bar->line_open)
    {
      fputc ('\n', stderr);
      fflush (stderr);
    }
  bar->line_open = FALSE;
}

void
ane_tool_bar_silence (AneToolBar *bar)
{
  if (bar->tty && bar->line_open)
    {
      /* erase the bar: the text that follows takes its line */
      fputs ("\r\033[K", stderr);
      fflush (stderr);
      bar->line_open = FALSE;
    }
  bar->silent = TRUE;
}

static void
on_progress (AneProgress *progress,
             gpointer     user_data)
{
  ane_tool_bar_update (user_data, progress);
}

AneProgress *
ane_tool_progress_new (AneToolBar **bar)
{
  AneToolBar *b = ane_tool_bar_new ();

  if (bar != NULL)
    *bar = b;
  return ane_progress_new (on_progress, b, ane_tool_bar_free);
}
