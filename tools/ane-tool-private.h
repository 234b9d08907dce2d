/* ane-tool-private.h: the commands of ane-tool
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "ane-progress.h"
#include "ane-llama.h"

G_BEGIN_DECLS

typedef enum {
  ANE_TOOL_INPUT_GRAPH,
  ANE_TOOL_INPUT_PACKAGE,
  ANE_TOOL_INPUT_MIL,
} AneToolInputKind;

int              ane_tool_convert  (int argc, char **argv);
int              ane_tool_inspect  (int argc, char **argv);
int              ane_tool_mil      (int argc, char **argv);
int              ane_tool_dot      (int argc, char **argv);
int              ane_tool_generate (int argc, char **argv);
int              ane_tool_probe    (int argc, char **argv);
int              ane_tool_plan     (int argc, char **argv);
int              ane_tool_lint     (int argc, char **argv);
int              ane_tool_convert_llm (int argc, char **argv);
int              ane_tool_compress (int argc, char **argv);
int              ane_tool_train    (int argc, char **argv);

gboolean         ane_tool_parse    (int            *argc,
                                    char         ***argv,
                                    const char     *command,
                                    const char     *parameter,
                                    const char     *summary,
                                    GOptionEntry   *entries,
                                    int             n_args_min,
                                    int             n_args_max,
                                    int            *status);
int              ane_tool_fail     (const char     *command,
                                    GError         *error);
/* A --backend value (cpu, reference, coreml, ane, auto; NULL: cpu). */
gboolean         ane_tool_parse_backend (const char *name,
                                         AneBackend *backend);
/* A --precision value (fp16, fp32, float16, float32; NULL: fp16). */
gboolean         ane_tool_parse_precision (const char   *name,
                                           AnePrecision *precision);
AneToolInputKind ane_tool_classify (const char     *path);
/* FALSE (and a message on stderr naming @kinds) if @path does not exist or
 * is a file of no kind the tools know. */
gboolean         ane_tool_classify_input (const char       *command,
                                          const char       *path,
                                          const char       *kinds,
                                          AneToolInputKind *kind);
/* The --target and --precision values of a command that lowers graphs
 * (NULL: ios18, fp16); FALSE with a message naming the bad value. */
gboolean         ane_tool_parse_lowering  (const char   *command,
                                           const char   *target_name,
                                           const char   *precision_name,
                                           AneTarget    *target,
                                           AnePrecision *precision);
/* A package from any input the tools read: a .mlpackage, a .mil file or a
 * graph .json (lowered for target and precision). */
AnePackage      *ane_tool_load_model      (const char       *path,
                                           AneToolInputKind  kind,
                                           AneTarget         target,
                                           AnePrecision      precision,
                                           GError          **error);
/* The flexible-shape options of convert (ane-tool-onnx.c):
 * --input-range NAME=D,L..U (a size or a range per axis) and --input-shapes NAME=D,D,...;D,D,... (the shapes an
 * input may take). */
typedef struct {
  char **ranges;
  char **shapes;
} AneToolFlexible;
/* An ONNX model imported with --input-shape NAME=D,D,... and
 * --input-value NAME=V[,V...] bindings and flexible inputs
 * (ane-tool-onnx.c). An input given a range or shapes and no
 * --input-shape is imported at its lower bounds or first shape (the
 * default, as coremltools takes it). */
AneGraph        *ane_tool_load_onnx       (const char             *path,
                                           char                  **input_shapes,
                                           char                  **input_values,
                                           const AneToolFlexible  *flexible,
                                           GError                **error);
/* Makes a graph's inputs flexible as the options say (a graph loaded from
 * JSON: its declared shapes are the defaults; a fixed size must be the
 * declared one). */
gboolean         ane_tool_apply_flexible  (AneGraph               *graph,
                                           const AneToolFlexible  *flexible,
                                           GError                **error);
/* FALSE (and a message naming -f/--overwrite) if @path exists and
 * @overwrite is not set. */
gboolean         ane_tool_check_overwrite (const char *command,
                                           const char *path,
                                           gboolean    overwrite);

/* Progress on stderr (ane-tool-progress.c): a bar redrawn in place on a
 * terminal, a plain line per stage elsewhere. */
typedef struct _AneToolBar AneToolBar;

AneToolBar      *ane_tool_bar_new       (void);
void             ane_tool_bar_free      (gpointer     bar);
void             ane_tool_bar_update    (AneToolBar  *bar,
                                         AneProgress *progress);
/* Ends a bar left unfinished (before an error message). */
void             ane_tool_bar_end_line  (AneToolBar  *bar);
/* Erases the bar and draws no more (the terminal is needed for other text). */
void             ane_tool_bar_silence   (AneToolBar  *bar);
/* A progress drawing on a new bar (owned by the progress; *bar, nullable,
 * points at it). */
AneProgress     *ane_tool_progress_new  (AneToolBar **bar);

/* A llama2.c checkpoint (its tokenizer from @tokenizer_path, required when
 * @need_tokenizer) or a GGUF model (its own vocabulary) for generate and
 * convert-llm (ane-tool-generate.c); 0 or the exit status after a message. */
int              ane_tool_load_llama    (const char     *command,
                                         const char     *path,
                                         const char     *tokenizer_path,
                                         gboolean        need_tokenizer,
                                         AneLlamaModel **model,
                                         AneTokenizer  **tokenizer);

G_END_DECLS
