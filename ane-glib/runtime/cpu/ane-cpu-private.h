/* runtime/cpu/ane-cpu-private.h: the CPU backend, an interpreter of lowered MIL programs
 *
 * The CPU backend never runs the IR: it runs the MIL program Apple would run
 * (lowered in memory, or read from a .mlpackage or MIL text), which is how the
 * lowering is tested without a Mac.
 *
 * Values: every float dtype (fp32, fp16, bf16) is stored as float; fp16 and
 * bf16 results are rounded to their dtype after every op, so overflow to inf
 * and precision loss show up as they would on the device. Every integer dtype
 * and bool is stored as int32 (bool as 0/1; narrow integers saturate to their
 * range after every op).
 *
 * A program is prepared once into a plan: a slot per value, consts decoded,
 * one step per operation with its kernel, inputs bound by parameter name, and
 * the slots each step frees after their last use.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

typedef struct {
  AneDType  dtype;                 /* the MIL dtype (fp32, fp16, bf16, int8..int32, bool) */
  guint     rank;
  gint64    shape[ANE_MAX_RANK + 2]; /* MIL programs may use a rank or two more (GQA views) */
  gsize     n;                     /* elements */
  float    *f;                     /* float storage (float dtypes), else NULL */
  gint32   *i;                     /* int32 storage (integer dtypes, bool), else NULL */
  char     *s;                     /* string consts (modes, dtypes), else NULL */
  GBytes   *keep;                  /* when set, f or i point into these bytes: borrowed, read-only */
  gboolean  view;                  /* f or i point into a caller's AneBuffer: never freed, written in place */
  struct _AneCpuPacked *packed;    /* a const weight kept compressed (f and i NULL; owned): only the
                                    * kernels that take one see it (ane-cpu-vec-private.h) */
} AneCpuValue;

#define ANE_CPU_MAX_RANK (ANE_MAX_RANK + 2)

gboolean     ane_cpu_dtype_is_float   (AneDType dtype);
AneCpuValue *ane_cpu_value_new        (AneDType       dtype,
                                       const gint64  *shape,
                                       guint          rank);
/* The same over storage (at least one element of 4 bytes, g_malloc'd,
 * zeroed or not as the caller needs), which the value then owns. */
AneCpuValue *ane_cpu_value_new_owning (AneDType       dtype,
                                       const gint64  *shape,
                                       guint          rank,
                                       gpointer       storage);
void         ane_cpu_value_free       (AneCpuValue   *v);
AneCpuValue *ane_cpu_value_copy       (const AneCpuValue *v);
/* A read-only value viewing bytes of float32 or int32 elements (no copy). */
AneCpuValue *ane_cpu_value_new_borrowed (AneDType      dtype,
                                         const gint64 *shape,
                                         guint         rank,
                                         GBytes       *bytes);
/* A value over memory the caller owns (a bound AneBuffer: float32 elements
 * for float dtypes, int32 otherwise); kernels may write it, freeing it
 * leaves the memory alone. */
AneCpuValue *ane_cpu_value_new_view   (AneDType      dtype,
                                       const gint64 *shape,
                                       guint         rank,
                                       gpointer      memory);
/* Moves a borrowed value (or a packed one's borrowed bytes) that kernels
 * stream into huge pages when its bytes are a mapped file's
 * (ane_file_hot_bytes; the plan calls it for matrix products' weights). */
void         ane_cpu_value_make_hot   (AneCpuValue   *v);
/* Makes a borrowed value own its storage (before writing to it). */
void         ane_cpu_value_own        (AneCpuValue   *v);
/* Like ane_cpu_value_to_tensor, but hands the storage over when it already
 * has the tensor's layout (float32, int32); v is left empty. */
AneTensor   *ane_cpu_value_steal_to_tensor (AneCpuValue *v,
                                            const char  *name,
                                            AneDType     dtype,
                                            GError     **error);
/* Rounds float values to fp16/bf16 and saturates narrow integers (after an op). */
void         ane_cpu_value_round      (AneCpuValue   *v);
/* Conversions at the interface. */
AneCpuValue *ane_cpu_value_from_tensor (AneTensor    *t,
                                        GError      **error);
AneTensor   *ane_cpu_value_to_tensor  (const AneCpuValue *v,
                                       const char    *name,
                                       AneDType       dtype,
                                       GError      **error);
/* Element i as a double, whatever the storage. */
double       ane_cpu_value_get        (const AneCpuValue *v,
                                       gsize          i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCpuValue, ane_cpu_value_free)

/* --- kernels ------------------------------------------------------------ */

typedef struct _AneCpuCtx AneCpuCtx;

typedef gboolean (*AneCpuKernelFunc) (AneCpuCtx *ctx, GError **error);

typedef struct {
  const char       *op;        /* MIL op type */
  AneCpuKernelFunc  run;
} AneCpuKernel;

/* The kernel of a MIL op, or NULL. (ane-cpu-kernels.c: the one table.) */
const AneCpuKernel *ane_cpu_kernel_lookup (const char *op);

/* What a kernel sees: its bound inputs by parameter name and its outputs,
 * preallocated from the types the program declares. */
const AneCpuValue *ane_cpu_in          (AneCpuCtx    *ctx,
                                        const char   *param);   /* NULL if unbound */
/* A tuple parameter (concat's values): n values. */
const AneCpuValue **ane_cpu_in_tuple   (AneCpuCtx    *ctx,
                                        const char   *param,
                                        guint        *n);
AneCpuValue       *ane_cpu_out         (AneCpuCtx    *ctx,
                                        guint         index);
guint              ane_cpu_n_outputs   (AneCpuCtx    *ctx);
const char        *ane_cpu_op_name     (AneCpuCtx    *ctx);     /* for messages */
const char        *ane_cpu_op_type     (AneCpuCtx    *ctx);
/* Scalar/array parameters (const or not), with defaults for optional ones. */
gint64             ane_cpu_int         (AneCpuCtx    *ctx,
                                        const char   *param,
                                        gint64        fallback);
double             ane_cpu_float       (AneCpuCtx    *ctx,
                                        const char   *param,
                                        double        fallback);
gboolean           ane_cpu_bool        (AneCpuCtx    *ctx,
                                        const char   *param,
                                        gboolean      fallback);
const char        *ane_cpu_string      (AneCpuCtx    *ctx,
                                        const char   *param,
                                        const char   *fallback);
/* An integer vector parameter; returns a newly allocated array (g_free) or
 * NULL when unbound. */
gint64            *ane_cpu_ints        (AneCpuCtx    *ctx,
                                        const char   *param,
                                        gsize        *n);
/* "op 'name': message" errors. */
gboolean           ane_cpu_fail        (AneCpuCtx    *ctx,
                                        GError      **error,
                                        const char   *format,
                                        ...) G_GNUC_PRINTF (3, 4);
/* Shape helpers for kernels. */
void               ane_cpu_strides     (const AneCpuValue *v,
                                        gint64            *strides);
gsize              ane_cpu_broadcast_offset (const AneCpuValue *v,
                                             const gint64      *out_coords,
                                             guint              out_rank);
void               ane_cpu_unravel     (gsize          index,
                                        const gint64  *shape,
                                        guint          rank,
                                        gint64        *coords);
gboolean           ane_cpu_axis        (AneCpuCtx    *ctx,
                                        gint64        axis,
                                        guint         rank,
                                        guint        *out,
                                        GError      **error);

/* --- plans --------------------------------------------------------------- */

/* Where blob-file consts get their bytes: a package's weight.bin, or the
 * pending blobs of an in-memory lowering. Returns the blob's data as stored
 * (dtype of the const's type), or NULL with an error. */
typedef GBytes *(*AneCpuBlobFunc) (gpointer     user_data,
                                   const char  *file_name,
                                   guint64      offset,
                                   GError     **error);

/* Whether a blob-file const is a part of GGUF Q8_0 / Q4_0 blocks (an
 * in-memory lowering's ane_mil_const_blocks): the blocks (a new reference),
 * their dtype and the part (an AneMilBlocksPart); NULL when it is not. */
typedef GBytes *(*AneCpuBlocksFunc) (gpointer     user_data,
                                     const char  *file_name,
                                     guint64      offset,
                                     AneDType    *blocks_dtype,
                                     int         *part);

typedef struct _AneCpuPlan AneCpuPlan;

/* budget: the bytes the program may hold at once (consts, inputs, states
 * and the intermediates alive together), checked before anything is
 * allocated: ANE_ERROR_TOO_LARGE naming the value; 0: no limit. */
AneCpuPlan *ane_cpu_plan_new          (const AneMilProgram *program,
                                       const char          *function,
                                       AneCpuBlobFunc       blobs,
                                       gpointer             blobs_data,
                                       guint64              budget,
                                       GError             **error);
/* The same, with blocks telling which consts are parts of GGUF blocks:
 * constexpr_blockwise_shift_scale of such data and scale is then packed
 * over the blocks themselves (no copy of the weights); with
 * quantize_activations, Q8_0 / Q4_0 blocks that products stream are
 * regrouped for 8-bit activations instead (ane-cpu-vec-r16.c). */
AneCpuPlan *ane_cpu_plan_new_full     (const AneMilProgram *program,
                                       const char          *function,
                                       AneCpuBlobFunc       blobs,
                                       AneCpuBlocksFunc     blocks,
                                       gpointer             blobs_data,
                                       guint64              budget,
                                       gboolean             quantize_activations,
                                       GError             **error);
void        ane_cpu_plan_free         (AneCpuPlan          *plan);
/* The function's interface. */
guint       ane_cpu_plan_n_inputs     (AneCpuPlan *plan);
const char *ane_cpu_plan_input_name   (AneCpuPlan *plan, guint i);
void        ane_cpu_plan_input_spec   (AneCpuPlan *plan, guint i, AneSpec *spec);
gboolean    ane_cpu_plan_input_is_state (AneCpuPlan *plan, guint i);
guint       ane_cpu_plan_n_outputs    (AneCpuPlan *plan);
const char *ane_cpu_plan_output_name  (AneCpuPlan *plan, guint i);
void        ane_cpu_plan_output_spec  (AneCpuPlan *plan, guint i, AneSpec *spec);
/* Whether products over GGUF Q8_0 / Q4_0 weights quantize their
 * activations to 8 bits as llama.cpp does (opt-in, FALSE at first:
 * runtime/cpu/ane-cpu-vec-q8x-private.h). */
void        ane_cpu_plan_set_quantize_activations (AneCpuPlan *plan, gboolean quantize);
/* Re-reads the const produced by the named const op (a param rebound). */
gboolean    ane_cpu_plan_reload_const (AneCpuPlan *plan, const char *name, GError **error);

/* Test hooks (issue 15): how many times constexpr_* ops were evaluated in
 * the plan's life (once each when made, once per reload of a param they
 * read; never per run), and the bytes its consts hold: packed (compressed
 * weights), dense (float / int32 storage of its own) and borrowed (viewing
 * the weights' file or tensor, no copy). */
guint64     ane_cpu_plan_get_constexpr_runs (AneCpuPlan *plan);
/* Test hooks (ane-cpu-arena-private.h): values of the runs so far whose
 * storage was allocated, and those whose storage was reused. */
guint64     ane_cpu_plan_get_allocations    (AneCpuPlan *plan);
guint64     ane_cpu_plan_get_reuses         (AneCpuPlan *plan);
/* Test hooks (issue 15, item 4): how many slice_updates of a state the
 * plan runs in place (read_state → [cast] → slice_update → [cast] →
 * write_state, ane-cpu-plan.c), and a switch for plans made after it
 * (FALSE: every op runs as written, copies and all). */
guint       ane_cpu_plan_get_in_place_updates (AneCpuPlan *plan);
void        ane_cpu_plan_set_in_place_states (gboolean enabled);
/* The bytes of the plan's consts: packed (compressed weights' own
 * memory), dense (decoded values) and borrowed (used where they lie: the
 * weights' file or the graph's tensors; each region counted once). */
void        ane_cpu_plan_get_const_bytes (AneCpuPlan *plan,
                                          guint64    *packed,
                                          guint64    *dense,
                                          guint64    *borrowed);
/* Test hook: a dense copy of the const value named name (a folded
 * constexpr op's output included; a packed one dequantized), and whether
 * the plan holds it packed; NULL when the plan holds no such const. */
AneCpuValue *ane_cpu_plan_dup_const     (AneCpuPlan *plan,
                                          const char *name,
                                          gboolean   *packed);

/* Runs once. inputs: one value per non-state input, in interface order;
 * states: one value per state input, updated in place by write_state;
 * outputs receives one new value per output. If debug_nonfinite, the run
 * stops at the first op producing inf/NaN and says which. */
gboolean    ane_cpu_plan_run          (AneCpuPlan          *plan,
                                       AneCpuValue * const *inputs,
                                       AneCpuValue        **states,
                                       AneCpuValue        **outputs,
                                       gboolean             debug_nonfinite,
                                       GCancellable        *cancellable,
                                       GError             **error);

/* The same, with outputs written into memory the caller owns: bound[i]
 * (a view, or NULL) receives output i in place -- the op producing it
 * writes there, through an identity that only renames it -- and outputs[i]
 * is then left NULL. *copied (optional) counts the bytes copied because a
 * value could not be made in place (an output that is an input, a const
 * or another output). */
gboolean    ane_cpu_plan_run_full     (AneCpuPlan          *plan,
                                       AneCpuValue * const *inputs,
                                       AneCpuValue        **states,
                                       AneCpuValue        **outputs,
                                       AneCpuValue * const *bound,
                                       guint64             *copied,
                                       gboolean             debug_nonfinite,
                                       GCancellable        *cancellable,
                                       GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCpuPlan, ane_cpu_plan_free)

G_END_DECLS
