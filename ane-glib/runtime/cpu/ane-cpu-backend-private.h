/* runtime/cpu/ane-cpu-backend-private.h: the CPU backend behind AneExecutable
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "mil/ane-coreml-proto-private.h"

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
void           ane_cpu_backend_free          (AneCpuBackend *backend);

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCpuBackend, ane_cpu_backend_free)

G_END_DECLS
