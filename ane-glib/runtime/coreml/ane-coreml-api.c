/* runtime/coreml/ane-coreml-api.c: which CoreML shim the backend calls
 *
 * The shim (ane-coreml.m) is part of the library only where CoreML.framework
 * exists (HAVE_COREML_SHIM, set by meson on darwin). Tests elsewhere compile
 * it against fake CoreML classes and install it here as an override.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "runtime/coreml/ane-coreml-private.h"

static const AneCoremlApi *api_override;

const AneCoremlApi *
ane_coreml_api_get_default (void)
{
#if HAVE_COREML_SHIM
  return &ane_coreml_framework_api;
#else
  return NULL;
#endif
}

const AneCoremlApi *
ane_coreml_api_get (void)
{
  const AneCoremlApi *api = g_atomic_pointer_get (&api_override);

  return api != NULL ? api : ane_coreml_api_get_default ();
}

void
ane_coreml_api_set_override (const AneCoremlApi *api)
{
  g_atomic_pointer_set (&api_override, api);
}

/* Here, not in ane-coreml-plan.m: the records outlive the shim's call and
 * are freed by plain-C code (AneComputePlan) in builds without the shim. */
void
ane_coreml_plan_op_free (AneCoremlPlanOp *op)
{
  if (op == NULL)
    return;
  g_free (op->function);
  g_free (op->operator_name);
  g_free (op->output_name);
  g_free (op);
}

char *
ane_coreml_cache_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "ane-glib", "coreml", NULL);
}
