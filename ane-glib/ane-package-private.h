/* ane-package-private.h: AnePackage's internals, for the backends, the
 * executable and the tools (ane-package.c)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-package.h"
#include "ane-compress.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/lower/ane-lower-private.h"
#include "ane-shape-flex-private.h"

G_BEGIN_DECLS

/* ane_package_new_from_graph() for a backend: lowered with flags, weights
 * read from params (name -> AneTensor, nullable; referenced, not copied:
 * save before changing it) before the graph's own values. */
AnePackage   *ane_package_new_for_backend  (AneGraph          *graph,
                                            AneTarget          target,
                                            AnePrecision       precision,
                                            AneLowerFlags      flags,
                                            GHashTable        *params,
                                            GError           **error);

/* The reader behind an AnePackage (owned by it); NULL for a package made by
 * ane_package_new_from_graph(). */
AneMLPackage *ane_package_get_mlpackage    (AnePackage        *package);
/* The model of any package (loaded or made from a graph), owned by it. */
AneCoreMLModel *ane_package_get_model      (AnePackage        *package);
/* A package made from a graph: its pending blobs (AneMilPendingBlob*, in
 * file order) and the planned size of weight.bin; NULL for a loaded one. */
GPtrArray    *ane_package_get_pending_blobs (AnePackage       *package,
                                             guint64          *weight_size);
/* A blob's bytes as stored, whatever kind of package: for the CPU backend. */
GBytes       *ane_package_read_blob        (AnePackage        *package,
                                            const char        *file_name,
                                            guint64            offset,
                                            GError           **error);

/* The flexibility the description declares for a function's input (NULL
 * for the default function), or NULL when its shape is fixed (or with
 * error when the declaration is malformed). */
AneShapeFlex *ane_package_dup_input_flex  (AnePackage        *package,
                                           const char        *function,
                                           const char        *name,
                                           GError           **error);
/* The default shapes of a function's inputs: name -> AneSpec*. */
GHashTable   *ane_package_default_shapes  (AnePackage        *package,
                                           const char        *function,
                                           GError           **error);

/* A package in memory made by ane_package_compress (); takes lowered and
 * report; source (nullable) is the package compressed, whose manifest and
 * items a save keeps when it was loaded from disk. */
AnePackage   *ane_package_new_compressed   (AneLowered        *lowered,
                                            AneCompressReport *report,
                                            AnePackage        *source);

G_END_DECLS
