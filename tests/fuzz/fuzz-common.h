/* fuzz-common.h: what the libFuzzer targets of tests/fuzz share
 *
 * Every target turns its input into files in a scratch directory, loads
 * them with one of the library's readers and, when that succeeds, runs what
 * was loaded on the CPU backend under a small memory budget with
 * zero-filled inputs. See tests/fuzz/README.md.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

/* The memory budget of every executable a target makes (and the default
 * one, through ANE_GLIB_MEMORY_BUDGET): far below libFuzzer's -rss_limit_mb
 * (2048 in the meson tests), so a program refused for its size shows up as
 * a GError, and one the budget misses as an out-of-memory report. */
#define FUZZ_MEMORY_BUDGET (G_GUINT64_CONSTANT (64) << 20)

/* The longest decode a model target builds (its KV caches' length). */
#define FUZZ_MAX_SEQ 4

/* One part of a multi-file input (see fuzz_split_parts). */
typedef struct {
  const guint8 *data;
  gsize size;
  gboolean present;
} FuzzPart;

/* Once per process: fatal criticals and warnings, the budget variable. */
void      fuzz_init              (void);

/* With ANE_FUZZ_VERBOSE set (replaying by hand), prints how far an input
 * got: "STEP: ok" or "STEP: <the error>". Returns whether @ok. */
gboolean  fuzz_step              (const char    *step,
                                  gboolean       ok,
                                  GError        *error);

/* The process's scratch directory, emptied: made on first use under
 * $TMPDIR as ane-fuzz-XXXXXX, removed at exit. */
const char *fuzz_scratch_dir     (void);

/* Writes @size bytes to @dir/@relpath, making the directories on the way. */
void      fuzz_write_file        (const char    *dir,
                                  const char    *relpath,
                                  const guint8  *data,
                                  gsize          size);

/* Splits an input into @n_parts: every part but the last is a 32-bit
 * little-endian length followed by that many bytes (a length past the end
 * takes what is left); the last part is the rest of the input. When the
 * input ends before a part's length, that part and the later ones are
 * absent (present = FALSE), so the targets also see missing files. */
void      fuzz_split_parts       (const guint8  *data,
                                  gsize          size,
                                  FuzzPart      *parts,
                                  guint          n_parts);

/* Writes each present part of @parts as @dir/@names[i] (fuzz_write_file). */
void      fuzz_write_parts       (const char        *dir,
                                  const FuzzPart    *parts,
                                  const char *const *names,
                                  guint              n_parts);

/* Sets the budget, binds zeros to every param of @params that has no value
 * (may be NULL), compiles @exe and runs it once with zeros of the shapes and
 * dtypes of @inputs (symbolic dimensions as 1). Errors are expected and
 * ignored; crashes, leaks and aborts are what the fuzzer looks for. */
void      fuzz_compile_and_run   (AneExecutable *exe,
                                  GPtrArray     *inputs,
                                  GPtrArray     *params);

/* A CPU executable of @graph, fuzz_compile_and_run() with the graph's
 * inputs and params (the graph targets: saved graphs, ONNX models). */
void      fuzz_run_graph         (AneGraph      *graph);

/* Everything a user does with a loaded package: lists its inputs and
 * outputs, prints it as MIL text, type-checks it, makes a CPU executable of
 * its default function and fuzz_compile_and_run()s it. */
void      fuzz_exercise_package  (AnePackage    *package);

/* Builds @model's decode graph (at most FUZZ_MAX_SEQ positions) and runs
 * one step with token 0 at position 0. */
void      fuzz_run_llama         (AneLlamaModel *model);

/* Encodes a few strings (ASCII, multi-byte UTF-8, invalid UTF-8, spaces)
 * and decodes the result, then decodes every token id near the ends of the
 * vocabulary one by one. */
void      fuzz_exercise_tokenizer (AneTokenizer *tokenizer);

G_END_DECLS
