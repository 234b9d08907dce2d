/* ane-mlpackage-private.h: the .mlpackage reader and bundle writer (internal)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ane-private.h"
#include "mil/ane-milblob-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mil-opdefs-private.h"

G_BEGIN_DECLS

/* A file of the manifest's itemInfoEntries. */
typedef struct {
  char *identifier;   /* the key, a UUID */
  char *author;
  char *description;
  char *name;
  char *path;         /* relative to <package>/Data */
} AneMLPackageItem;

typedef struct _AneMLPackage AneMLPackage;

/* ---- the package ---- */

AneMLPackage *ane_mlpackage_open           (const char        *path,
                                            GError           **error);
/* The same, reporting "loading" to progress (nullable) after each step
 * (manifest, model, description, program) and stopping when it is
 * cancelled. The caller finishes the progress. */
AneMLPackage *ane_mlpackage_open_full      (const char        *path,
                                            AneProgress       *progress,
                                            GError           **error);
void          ane_mlpackage_free           (AneMLPackage      *self);

const char   *ane_mlpackage_get_path       (AneMLPackage      *self);
const char   *ane_mlpackage_get_file_format_version (AneMLPackage *self);
/* Items in manifest order; the root model item. */
GPtrArray    *ane_mlpackage_get_items      (AneMLPackage      *self);
const AneMLPackageItem *ane_mlpackage_get_root_item (AneMLPackage *self);
/* model.mlmodel and its directory ("@model_path"), under the package path
 * as it was given. */
const char   *ane_mlpackage_get_model_path (AneMLPackage      *self);
const char   *ane_mlpackage_get_model_dir  (AneMLPackage      *self);
/* The weights directory (the item named "weights", else @model_path/weights),
 * or NULL if there is none. */
const char   *ane_mlpackage_get_weights_dir (AneMLPackage     *self);

/* The parsed model (owned by the package; its program is an ML program). */
AneCoreMLModel *ane_mlpackage_get_model    (AneMLPackage      *self);
AneMilProgram  *ane_mlpackage_get_program  (AneMLPackage      *self);

/* The whole mapped weight file a BlobFileValue names ("@model_path/weights/
 * weight.bin"), or NULL with an error if it does not exist. Zero-copy. */
GBytes       *ane_mlpackage_get_weight_file (AneMLPackage     *self,
                                             const char       *file_name,
                                             GError          **error);
/* The data of the blob whose record is at @offset in @file_name, checked
 * (header, sentinel, bounds; see ane-milblob-private.h). Zero-copy: the bytes
 * keep the mapping alive. */
GBytes       *ane_mlpackage_dup_blob       (AneMLPackage      *self,
                                            const char        *file_name,
                                            guint64            offset,
                                            AneMilBlobRecord  *record,
                                            GError           **error);
/* The data of a BlobFileValue Value, checked against the value's tensor type
 * (data type and size). */
GBytes       *ane_mlpackage_dup_value_blob (AneMLPackage      *self,
                                            const AneMilValue *value,
                                            GError           **error);
/* Sum of sizeInBytes over the distinct blobs the program references. */
guint64       ane_mlpackage_get_weight_bytes (AneMLPackage    *self);

/* Building a bundle atomically. A staging area is a temporary sibling
 * directory of @path (.<name>.tmp-<pid>-XXXXXX; creating one first removes
 * the stale temporaries of killed saves, ane-file-private.h): fill
 * <staging>/Data (stream weights straight into it), then commit, which
 * writes the model and Manifest.json, syncs every file and directory of the
 * staging area and renames it into place. Freeing an uncommitted staging
 * area removes it. Without @overwrite an existing @path is an error (checked
 * at creation and again at commit) and is left alone; with it, the old
 * bundle is replaced only once the new one is complete. After a successful
 * commit the caller syncs the parent (ane_mlpackage_sync_placed). */
typedef struct _AneMLPackageStaging AneMLPackageStaging;

AneMLPackageStaging *ane_mlpackage_staging_new (const char  *path,
                                                gboolean     overwrite,
                                                GError     **error);
/* The temporary package root and its Data directory (both exist). */
const char   *ane_mlpackage_staging_get_dir      (AneMLPackageStaging *staging);
const char   *ane_mlpackage_staging_get_data_dir (AneMLPackageStaging *staging);
/* Writes @model to Data/<root item path> and @manifest to Manifest.json,
 * checks every manifest item exists, then moves the bundle into place. */
gboolean      ane_mlpackage_staging_commit  (AneMLPackageStaging  *staging,
                                             JsonNode             *manifest,
                                             const AneCoreMLModel *model,
                                             GError              **error);
void          ane_mlpackage_staging_free    (AneMLPackageStaging  *staging);

/* Copies self's items other than its root model (and the item whose path
 * is skip, nullable) into the staging area's Data, as they are. */
gboolean      ane_mlpackage_staging_copy_items (AneMLPackage        *self,
                                                AneMLPackageStaging *staging,
                                                const char          *skip,
                                                GError             **error);

/* Apple's default manifest: model.mlmodel (the root) and weights under
 * com.apple.CoreML, with fresh UUIDs. */
JsonNode     *ane_mlpackage_manifest_new_default (void);

/* Writes this package (same manifest, re-serialized model, same files). */
gboolean      ane_mlpackage_save           (AneMLPackage      *self,
                                            const char        *path,
                                            gboolean           overwrite,
                                            GError           **error);
/* The same, reporting "copying" to progress (nullable) per item and weight
 * file, then "writing model"; cancelling stops it before the rename and
 * leaves nothing behind. The caller finishes the progress. */
gboolean      ane_mlpackage_save_full      (AneMLPackage      *self,
                                            const char        *path,
                                            gboolean           overwrite,
                                            AneProgress       *progress,
                                            GError           **error);
/* The manifest as Apple's tools print it: 4-space indent, sorted keys,
 * `"key": value`, trailing newline. */
char         *ane_mlpackage_manifest_to_string (JsonNode      *manifest);
JsonNode     *ane_mlpackage_get_manifest   (AneMLPackage      *self);

/* ---- packaging lowered programs (ane-mlpackage-write.c) ---- */

/* protobuf-c (like Google's protobuf) reads messages of at most 2^31 - 1
 * bytes: the limit of model.mlmodel. */
#define ANE_MLPACKAGE_MAX_MODEL_SIZE  ((guint64) G_MAXINT32)
/* The largest weight file the Neural Engine loads: 2 GiB. */
#define ANE_MLPACKAGE_MAX_ANE_WEIGHTS ((guint64) 1 << 31)

/* ANE_ERROR_TOO_LARGE naming the size and the limit when a model.mlmodel of
 * packed_size bytes could not be read back. Takes the size rather than a
 * model so the check can be tested without a 2 GiB message. */
gboolean      ane_mlpackage_check_model_size (guint64          packed_size,
                                              GError         **error);
/* ANE_ERROR_TOO_LARGE naming the file (NULL: "weight.bin"), the size and the
 * Neural Engine's limit for a weight file above 2 GiB. */
gboolean      ane_mlpackage_check_weight_size (guint64         size,
                                               const char     *file,
                                               GError        **error);

/* Wraps a lowered program in a CoreML Model: the target's specification
 * version, a description of each function's inputs, outputs and states (from
 * the program's function signatures), userDefined metadata from
 * user_defined (key, value, ..., NULL) and the program's buildInfo
 * attribute. Takes ownership of program, also on error. */
AneCoreMLModel *ane_mlpackage_model_new    (AneMilProgram     *program,
                                            AneMilTarget       target,
                                            const char *const *user_defined,
                                            GError           **error);
void          ane_mlpackage_model_free     (AneCoreMLModel    *model);

/* A buildInfo attribute value: dict<string, string> of the n pairs, in
 * order (free with protobuf_c_message_free_unpacked). */
AneMilValue  *ane_mlpackage_build_info_new (const char *const *keys,
                                            const char *const *values,
                                            gsize              n);

/* Writes a bundle for a lowered model: weight.bin streamed from the pending
 * blobs (AneMilPendingBlob*, in planned order; FROM_PARAM blobs read the
 * param's value in params (name -> AneTensor, nullable: an executable's
 * bound values) or else in graph), then model.mlmodel and Manifest.json,
 * every file and directory synced before the bundle is renamed into place.
 * The model size and every blob's source are checked before anything is
 * written; on error nothing is left at path (or the old bundle is). Once
 * the bundle is renamed into place the call succeeds: a failure to sync the
 * parent directory after that is a sentence in *warning (nullable; set to
 * NULL otherwise), not an error. */
gboolean      ane_mlpackage_write_lowered  (const char           *path,
                                            gboolean              overwrite,
                                            const AneCoreMLModel *model,
                                            GPtrArray            *blobs,
                                            guint64               weight_size,
                                            AneGraph             *graph,
                                            GHashTable           *params,
                                            GCancellable         *cancellable,
                                            char                **warning,
                                            GError              **error);
/* The same, reporting to progress (nullable): "writing weights" by bytes of
 * weight.bin, then "writing model"; a cancelled progress stops it like a
 * cancelled cancellable. The caller finishes the progress. With like (a
 * loaded package this program was made from: ane_package_compress), its
 * manifest (the same item identifiers) and its items other than the model
 * and the weights are kept, when its model sits where Apple puts it. */
gboolean      ane_mlpackage_write_lowered_full (const char           *path,
                                                gboolean              overwrite,
                                                const AneCoreMLModel *model,
                                                GPtrArray            *blobs,
                                                guint64               weight_size,
                                                AneGraph             *graph,
                                                GHashTable           *params,
                                                GCancellable         *cancellable,
                                                AneProgress          *progress,
                                                AneMLPackage         *like,
                                                char                **warning,
                                                GError              **error);
/* After a bundle was renamed into place at path: syncs its parent directory;
 * a failure becomes *warning (nullable, replaced), with a g_debug. */
void          ane_mlpackage_sync_placed    (const char           *path,
                                            char                **warning);

/* MIL text at mil_path and its weights in <dir>/weights/ (weight.bin, or
 * weight-<16 hex>.bin when replacing: the text and its weights change as
 * one, see ane-mlpackage-write.c): streamed from pending blobs, or copied
 * from a loaded weight file. *warning (nullable) as for write_lowered. */
gboolean      ane_mlpackage_write_mil      (const char           *mil_path,
                                            gboolean              overwrite,
                                            const char           *text,
                                            GPtrArray            *blobs,
                                            guint64               weight_size,
                                            AneGraph             *graph,
                                            GHashTable           *params,
                                            GBytes               *weight_file,
                                            GCancellable         *cancellable,
                                            char                **warning,
                                            GError              **error);
/* Whether name is a weight file name of save_mil: weight.bin or
 * weight-<16 lowercase hex digits>.bin. */
gboolean      ane_mlpackage_is_mil_weight_name (const char       *name);
/* For ane_package_load_mil(): the weight file a parsed text's BLOBFILE
 * values name under <dir of mil_path>/weights/ (weight.bin when they name no
 * versioned file), every versioned name in program rewritten to
 * @model_path/weights/weight.bin so the program saves and prints like any
 * other; @offsets (nullable) receives every offset the values read, as
 * guint64, so the loader can check each against the file. NULL with
 * ANE_ERROR_PARSE if the text names two weight files. */
char         *ane_mlpackage_mil_weights_path (AneMilProgram      *program,
                                              const char         *mil_path,
                                              GArray            **offsets,
                                              GError            **error);

/* ANE_GLIB_DUMP_DIR (docs/contract.md): writes a lowered program as
 * <dir>/<content hash>-<target>-<fp16|fp32>.mlpackage unless it is there
 * already, weights without a value as zeros (a program whose weights
 * exceed ANE_MLPACKAGE_DUMP_MAX_WEIGHTS is skipped). A program that cannot be
 * packaged (the same error saving it would give) is skipped with a debug
 * message: the dump never gets in the way of the lowering. */
#define ANE_MLPACKAGE_DUMP_MAX_WEIGHTS ((guint64) 64 << 20)   /* larger programs are not dumped */
void          ane_mlpackage_dump_lowered   (const char           *dir,
                                            const AneMilProgram  *program,
                                            AneMilTarget          target,
                                            AneDType              precision,
                                            GPtrArray            *blobs,
                                            guint64               weight_size,
                                            AneGraph             *graph,
                                            GHashTable           *params);

/* The same for a program already described (a flexible one: the
 * description says its flexibility); takes model. */
void          ane_mlpackage_dump_model     (const char           *dir,
                                            AneCoreMLModel       *model,
                                            AneMilTarget          target,
                                            AneDType              precision,
                                            GPtrArray            *blobs,
                                            guint64               weight_size,
                                            AneGraph             *graph,
                                            GHashTable           *params);

/* A pending blob's bytes as weight.bin would hold them (converted, dequantized),
 * in memory; params (name -> AneTensor, nullable) override the graph's values.
 * pending_blob is an AneMilPendingBlob (ane-mil-builder-private.h). */
GBytes       *ane_mlpackage_blob_bytes     (gconstpointer         pending_blob,
                                            AneGraph             *graph,
                                            GHashTable           *params,
                                            GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMLPackage, ane_mlpackage_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMLPackageStaging, ane_mlpackage_staging_free)

G_END_DECLS
