/* mil/lower/ane-lowered-private.h: a graph lowered -- the one artifact every consumer takes
 *
 * ane_lowered_new() is the one way a graph becomes a MIL program: it runs
 * the lowering (ane-lower.c) with an options struct and returns an
 * AneLowered: the program, described when asked by the CoreML Model
 * message that wraps it (the main function's interface, as coremltools
 * writes it), the weights still to be written, in file order (AneMilPendingBlob: each
 * names the graph value or file it comes from and the dtype it is stored
 * in), the size weight.bin will have, and what each GGUF weight became.
 *
 * Its consumers: AnePackage (writes it as a bundle or as MIL text; the
 * CoreML and ANE backends go through the package), and the CPU backend,
 * which plans the program and reads each weight through
 * ane_lowered_read_blob() -- converted exactly as the package writer
 * converts it, so the CPU runs what a package would hold. A package read
 * from MIL text is an AneLowered too (its blobs come from the weights
 * file), made by ane_lowered_new_from_model().
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "ane-progress-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-opdefs-private.h"

G_BEGIN_DECLS

/* How the program's interface is declared. */
typedef enum {
  ANE_LOWER_DEFAULT        = 0,
  /* float32 inputs and outputs are declared float16 (the Neural Engine's
   * in-memory path feeds fp16 surfaces); the graph is unchanged. */
  ANE_LOWER_FP16_INTERFACE = 1 << 0,
} AneLowerFlags;

/* Which lowering: the graph's own layout op by op (what the CPU backend runs
 * by default), or the Neural Engine profile, whose catalog rows with a
 * lower_neural_engine function rewrite their op for the hardware
 * (mil/lower/ane-lower-ane-*.c; docs/ane-lowering.md, "Passes for any
 * graph"). Packages, Core ML and the private path take the profile. */
typedef enum {
  ANE_LOWER_PROFILE_GENERIC       = 0,
  ANE_LOWER_PROFILE_NEURAL_ENGINE = 1,
} AneLowerProfile;

typedef struct
{
  AneMilTarget        target;
  AneDType            precision;   /* the compute dtype: ANE_DTYPE_FLOAT16 or ANE_DTYPE_FLOAT32 */
  AneLowerFlags       flags;
  AneLowerProfile     profile;     /* zero: generic */
  GHashTable         *params;      /* name -> AneTensor bound on an executable, lowered in place
                                    * of the graph's values; nullable */
  /* Also wrap the program in a CoreML Model message (what a package
   * holds): its description declares the interface, which refuses what
   * Core ML cannot declare (fp16 inputs before iOS16). The CPU backend
   * runs the program without one. */
  gboolean            describe;
  const char *const  *metadata;    /* with describe: userDefined key, value, ..., NULL (a NULL key
                                    * ends it); nullable */
  AneProgress        *progress;    /* "lowering" reported before each op (nullable); cancelling it
                                    * stops the lowering with G_IO_ERROR_CANCELLED; the caller
                                    * finishes it */
} AneLowerOptions;

typedef struct
{
  AneMilProgram  *program;        /* owned, unless model is set: then model->mlprogram */
  AneCoreMLModel *model;          /* the Model message wrapping it, or NULL (not described) */
  GPtrArray      *blobs;          /* AneMilPendingBlob*, in file order */
  guint64         weight_size;    /* what weight.bin will measure */
  guint64         weight_bytes;   /* the blobs' data */
  GStrv           notes;          /* what each GGUF weight became ("name: how") */
  AneGraph       *graph;          /* whose values the blobs name; NULL for MIL text */
  GHashTable     *params;         /* values bound on an executable, or NULL */
} AneLowered;

AneLowered    *ane_lowered_new            (AneGraph               *graph,
                                           const AneLowerOptions  *options,
                                           GError                **error);
/* The common part of both: takes program and blobs (nullable), not described. */
AneLowered    *ane_lowered_new_for_program (AneMilProgram         *program,
                                            GPtrArray             *blobs,
                                            guint64                weight_size);
/* Wraps a model read from elsewhere (MIL text); takes model (which owns
 * its program) and blobs (nullable: no weights). */
AneLowered    *ane_lowered_new_from_model (AneCoreMLModel         *model,
                                           GPtrArray              *blobs,
                                           guint64                 weight_size);
/* Several graphs lowered into one program, one function each, named
 * names[i] (MIL identifiers, distinct; the first the default), their
 * weights in one file, equal blobs stored once (ane-lower-multifunction.c).
 * Every param must have a value: the weights are taken now. options as for
 * ane_lowered_new() (params ignored); several functions need iOS18. */
AneLowered    *ane_lowered_new_multifunction (const char *const      *names,
                                              AneGraph *const        *graphs,
                                              guint                   n_graphs,
                                              const AneLowerOptions  *options,
                                              GError                **error);
/* For a graph with flexible inputs (ane-graph-flex.c): lowers it again at
 * other allowed shapes, marks unknown the sizes that differ in self's
 * program and declares the flexibility in its description
 * (ane-lower-flexible.c). ANE_ERROR_UNSUPPORTED naming the op when the
 * programs differ in anything but sizes. */
gboolean       ane_lowered_make_flexible  (AneLowered             *self,
                                           AneGraph               *graph,
                                           const AneLowerOptions  *options,
                                           GError                **error);
/* Adds a weight still to be written (taken), in file order. */
void           ane_lowered_add_blob       (AneLowered             *self,
                                           AneMilPendingBlob      *blob);
AneMilProgram *ane_lowered_get_program    (AneLowered             *self);
/* The stored bytes of the blob at offset, as weight.bin will hold them. */
GBytes        *ane_lowered_read_blob      (AneLowered             *self,
                                           const char             *file_name,
                                           guint64                 offset,
                                           GError                **error);
/* When the blob at offset is a part of GGUF Q8_0 / Q4_0 blocks
 * (ane_mil_const_blocks): the blocks (a new reference), their dtype and the
 * part (AneMilBlocksPart); NULL otherwise. The CPU backend multiplies on
 * the blocks instead of asking for the split bytes. */
GBytes        *ane_lowered_blob_blocks    (AneLowered             *self,
                                           guint64                 offset,
                                           AneDType               *blocks_dtype,
                                           int                    *part);
void           ane_lowered_free           (AneLowered             *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneLowered, ane_lowered_free)

G_END_DECLS
