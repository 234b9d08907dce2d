/* ane-test-packed.h: the per-ISA checks of a packed weight (AneCpuPacked)
 * and the running of the programs that read one, shared by
 * tests/test-cpu-lut.c and tests/test-cpu-sparse.c
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "mil/ane-coreml-proto-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

G_BEGIN_DECLS

/* v rounded to fp16 and back (ane_cpu_value_round's rounding). */
float ane_test_round_half          (float               v);

/* Logs which ISAs the `kind` kernels ("LUT", "sparse") are checked on. */
void  ane_test_packed_log_isas     (const char         *kind);

/* Checks packed weight p against w, the dense kernel's weights
 * [p->rows, p->cols]: the portable row reader bit for bit; then on every
 * ISA this CPU has, that p runs on that ISA's kernels, every weight bit
 * for bit through one-hot products (m = 1, 7, 64), and the products of
 * random activations and bias (drawn from rand) for m = 1, 2, 5, 70
 * within 2^-20 · Σ|w·x| of a double-precision sum, bit-identical for 1
 * to 4 threads, a decode row equal to the same row of a short batch.
 * `what` names the case in failures. Leaves the default ISA and thread
 * count set. */
void  ane_test_packed_check_kernels (const AneCpuPacked *p,
                                     const float        *w,
                                     const char         *what,
                                     GRand              *rand);

/* --- programs that read packed weights ------------------------------------ */

/* How a test program reads its weight w [n, k]. */
typedef enum {
  ANE_TEST_READ_LINEAR,
  ANE_TEST_READ_MATMUL,    /* matmul (x, w, transpose_y) */
  ANE_TEST_READ_GATHER,    /* gather (w, indices, axis 0), and a linear of it too */
  ANE_TEST_READ_CONV,      /* a 1×1 conv of the weight [n, k, 1, 1] */
} AneTestReader;

/* Appends to s the op(s) of reader reading w into y ([m, n]; a conv's
 * [1, n, 1, m]; a gather's rows 1 and n − 1 into g [2, k] too) and the
 * function's end, returning y (, g) (, w when weight_out). */
void           ane_test_append_reader        (GString        *s,
                                              AneTestReader   reader,
                                              const char     *dtype,
                                              gsize           m,
                                              gsize           n,
                                              gsize           k,
                                              gboolean        weight_out);

/* A CPU backend for function "main" of MIL text (asserting success); the
 * parsed program, which the backend borrows, in *program_out. */
AneCpuBackend *ane_test_cpu_backend_for_text (const char     *text,
                                              AneMilProgram **program_out);

/* backend run on input "x" of the given shape (asserting success). */
GPtrArray     *ane_test_cpu_run_x            (AneCpuBackend  *backend,
                                              const float    *x,
                                              const gint64   *shape,
                                              guint           rank);

/* Output i of outs as floats, its element count in *n (asserting success). */
float         *ane_test_output_floats        (GPtrArray      *outs,
                                              guint           i,
                                              gsize          *n);

G_END_DECLS
