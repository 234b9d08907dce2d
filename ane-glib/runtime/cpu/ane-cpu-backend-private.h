/* runtime/cpu/ane-cpu-backend-private.h: the CPU backend behind AneExecutable
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "ane-buffer.h"

G_BEGIN_DECLS

typedef struct _AneCpuBackend AneCpuBackend;

/* Lowers graph for target/precision and prepares the program. params
 * (name -> AneTensor) override values baked into the graph. */
/* budget: the bytes the program may hold at once (ane-cpu-private.h,
 * ane_cpu_plan_new); 0: no limit. */
AneCpuBackend *ane_cpu_backend_new_for_graph (AneGraph      *graph,
                                              AneTarget      target,
                                              AnePrecision   precision,
                                              GHashTable    *params,
                                              guint64        budget,
                                              GError       **error);
/* The same with AneExecutable:quantize-activations: known when the plan
 * is made, GGUF Q8_0 / Q4_0 weights are regrouped for it
 * (ane-cpu-vec-r16.c). */
AneCpuBackend *ane_cpu_backend_new_for_graph_full (AneGraph      *graph,
                                                   AneTarget      target,
                                                   AnePrecision   precision,
                                                   GHashTable    *params,
                                                   guint64        budget,
                                                   gboolean       quantize_activations,
                                                   GError       **error);
/* Prepares an existing program (a loaded package or MIL text); blob values
 * are read through get_blob. The program must outlive the backend. */
typedef GBytes *(*AneCpuGetBlob) (gpointer user_data, const char *file_name, guint64 offset, GError **error);
AneCpuBackend *ane_cpu_backend_new_for_program (const AneMilProgram *program,
                                                const char          *function,
                                                AneCpuGetBlob        get_blob,
                                                gpointer             blob_data,
                                                GDestroyNotify       blob_data_free,
                                                GError             **error);
/* The same within a memory budget (0: no limit, as above). */
AneCpuBackend *ane_cpu_backend_new_for_program_full (const AneMilProgram *program,
                                                     const char          *function,
                                                     AneCpuGetBlob        get_blob,
                                                     gpointer             blob_data,
                                                     GDestroyNotify       blob_data_free,
                                                     guint64              budget,
                                                     GError             **error);
/* The same for a program whose function may have flexible inputs
 * (unknown sizes): defaults (name -> AneSpec*) are the shapes it is first
 * planned at; runs with other shapes plan again (ane-cpu-backend.c). */
AneCpuBackend *ane_cpu_backend_new_for_program_shaped (const AneMilProgram *program,
                                                       const char          *function,
                                                       AneCpuGetBlob        get_blob,
                                                       gpointer             blob_data,
                                                       GDestroyNotify       blob_data_free,
                                                       guint64              budget,
                                                       GHashTable          *defaults,
                                                       GError             **error);
void           ane_cpu_backend_free          (AneCpuBackend *backend);
/* Whether products over GGUF Q8_0 / Q4_0 weights quantize their
 * activations to 8 bits (AneExecutable:quantize-activations), for the
 * prepared plans and those made later (flexible shapes). */
void           ane_cpu_backend_set_quantize_activations (AneCpuBackend *backend,
                                                         gboolean       quantize);
/* The prepared plan (tests: ane_cpu_plan_get_const_bytes and the like). */
struct _AneCpuPlan *ane_cpu_backend_get_plan (AneCpuBackend *backend);

/* The interface of the prepared function. */
GPtrArray     *ane_cpu_backend_list_inputs   (AneCpuBackend *backend);   /* AneTensor (symbolic), states excluded */
GPtrArray     *ane_cpu_backend_list_states   (AneCpuBackend *backend);
GPtrArray     *ane_cpu_backend_list_outputs  (AneCpuBackend *backend);

/* Runs once: inputs by name (AneTensor), states by name (AneTensor, updated
 * on success only). Outputs in the function's order, named and typed as the
 * function declares them. */
GPtrArray     *ane_cpu_backend_run           (AneCpuBackend *backend,
                                              GHashTable    *inputs,
                                              GHashTable    *states,
                                              gboolean       debug_nonfinite,
                                              GCancellable  *cancellable,
                                              GError       **error);

/* Buffers (ane-buffer-private.h). The named input, state or output and
 * its spec as the program declares it; FALSE when there is none. */
gboolean       ane_cpu_backend_find_port     (AneCpuBackend *backend,
                                              const char    *name,
                                              AneBufferPort *port,
                                              AneSpec       *spec);
/* Whether name is a param the lowering left an input (it is fed from the
 * executable's value, not bound). */
gboolean       ane_cpu_backend_is_dynamic_param (AneCpuBackend *backend,
                                                 const char    *name);
/* Runs once with buffers (name -> AneBuffer) for every input, output and
 * state: the kernels read the inputs' memory, write the outputs' and update
 * the states' in place. Nothing is converted or copied. */
gboolean       ane_cpu_backend_run_bound     (AneCpuBackend *backend,
                                              GHashTable    *inputs,
                                              GHashTable    *outputs,
                                              GHashTable    *states,
                                              gboolean       debug_nonfinite,
                                              GCancellable  *cancellable,
                                              GError       **error);
/* Bytes runs copied between the caller's tensors and the interpreter's
 * values so far (inputs converted, states in and out, outputs not handed
 * over as they are). */
guint64        ane_cpu_backend_get_copied    (AneCpuBackend *backend);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCpuBackend, ane_cpu_backend_free)

G_END_DECLS
