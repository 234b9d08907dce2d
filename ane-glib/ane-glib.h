/* ane-glib.h: the umbrella header, the only one applications include
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#define __ANE_GLIB_INSIDE__

#include "ane-version.h"
#include "ane-types.h"
#include "ane-enum-types.h"
#include "ane-tensor.h"
#include "ane-buffer.h"
#include "ane-graph.h"
#include "ane-executable.h"
#include "ane-mil-dialect.h"
#include "ane-package.h"
#include "ane-gguf-file.h"
#include "ane-tokenizer.h"
#include "ane-llama.h"
#include "ane-llama-dir.h"
#include "ane-chip.h"
#include "ane-compute-plan.h"
#include "ane-progress.h"
#include "ane-lint.h"
#include "ane-threads.h"
#include "ane-compress.h"
#include "ane-onnx.h"
#include "ane-trainer.h"

#undef __ANE_GLIB_INSIDE__
