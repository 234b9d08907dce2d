/* test-coreml-plan.m: the per-op device plan against fake CoreML classes (GNUstep)
 *
 * Checks the walk of ane-coreml-plan.m over a fake MLComputePlan (function
 * order, program order, nested blocks, operations without usage or cost,
 * device mapping), the fake-loaded path through the shim's table, and the
 * public AneComputePlan end to end with that table installed as the
 * override (compile cache, .mlmodelc given directly, async, summary text,
 * errors). Whether Apple's CoreML answers as these fakes do is unverified.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "ane-compute-plan.h"
#include "ane-enum-types.h"
#include "ane-test-util.h"
#include "runtime/coreml/ane-coreml-private.h"
#import "fake-coreml-plan.h"

/* The plan every test uses:
 *
 *   aux:  mul -> m                      NE   {NE}           0.15
 *   main: const -> w                    (no usage, no cost)
 *         linear -> h                   NE   {CPU,GPU,NE}   0.5
 *         cond -> c                     CPU  {CPU}          0
 *           [block 1] relu -> a         GPU  {CPU,GPU}      0.1
 *           [block 2] while_loop -> l   (no usage)          -
 *             [block] add -> z          CPU  {CPU}          0.05
 *         identity (no outputs)         ?    {?}            0.2   (unknown devices)
 */
static MLComputePlan *
make_plan (gboolean with_program)
{
  id cpu = [MLCPUComputeDevice fakeDevice];
  id gpu = [MLGPUComputeDevice fakeDevice];
  id ne = [MLNeuralEngineComputeDevice fakeDevice];
  id alien = [[[NSObject alloc] init] autorelease];   /* a device kind newer than the shim */
  MLModelStructureProgramOperation *mul, *cst, *linear, *cond, *relu, *loop, *add, *identity;
  MLModelStructureProgramBlock *aux_block, *main_block;
  NSDictionary *functions;
  MLComputePlan *plan;

  mul = [MLModelStructureProgramOperation fakeOperation:@"mul" outputs:[NSArray arrayWithObject:@"m"] blocks:nil];
  cst = [MLModelStructureProgramOperation fakeOperation:@"const" outputs:[NSArray arrayWithObject:@"w"] blocks:nil];
  linear = [MLModelStructureProgramOperation fakeOperation:@"linear"
                                                   outputs:[NSArray arrayWithObjects:@"h", @"h_extra", nil]
                                                    blocks:nil];
  relu = [MLModelStructureProgramOperation fakeOperation:@"relu" outputs:[NSArray arrayWithObject:@"a"] blocks:nil];
  add = [MLModelStructureProgramOperation fakeOperation:@"add" outputs:[NSArray arrayWithObject:@"z"] blocks:nil];
  loop = [MLModelStructureProgramOperation fakeOperation:@"while_loop"
                                                 outputs:[NSArray arrayWithObject:@"l"]
                                                  blocks:[NSArray arrayWithObject:
                                                           [MLModelStructureProgramBlock fakeBlockWithOperations:
                                                             [NSArray arrayWithObject:add]]]];
  cond = [MLModelStructureProgramOperation fakeOperation:@"cond"
                                                 outputs:[NSArray arrayWithObject:@"c"]
                                                  blocks:[NSArray arrayWithObjects:
                                                           [MLModelStructureProgramBlock fakeBlockWithOperations:
                                                             [NSArray arrayWithObject:relu]],
                                                           [MLModelStructureProgramBlock fakeBlockWithOperations:
                                                             [NSArray arrayWithObject:loop]],
                                                           nil]];
  identity = [MLModelStructureProgramOperation fakeOperation:@"identity" outputs:[NSArray array] blocks:nil];

  aux_block = [MLModelStructureProgramBlock fakeBlockWithOperations:[NSArray arrayWithObject:mul]];
  main_block = [MLModelStructureProgramBlock fakeBlockWithOperations:
                 [NSArray arrayWithObjects:cst, linear, cond, identity, nil]];
  /* "main" first here: the walk must sort. */
  functions = [NSDictionary dictionaryWithObjectsAndKeys:
                [MLModelStructureProgramFunction fakeFunctionWithBlock:main_block], @"main",
                [MLModelStructureProgramFunction fakeFunctionWithBlock:aux_block], @"aux",
                nil];
  plan = [MLComputePlan fakePlanWithStructure:
           [MLModelStructure fakeStructureWithProgram:
             with_program ? [MLModelStructureProgram fakeProgramWithFunctions:functions] : nil]];

  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:ne supported:[NSArray arrayWithObject:ne]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.15] forOperation:mul];
  [plan fakeSetUsage:nil cost:nil forOperation:cst];
  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:ne
                                                            supported:[NSArray arrayWithObjects:cpu, gpu, ne, nil]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.5] forOperation:linear];
  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:cpu supported:[NSArray arrayWithObject:cpu]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.0] forOperation:cond];
  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:gpu
                                                            supported:[NSArray arrayWithObjects:gpu, cpu, nil]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.1] forOperation:relu];
  [plan fakeSetUsage:nil cost:nil forOperation:loop];
  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:cpu supported:[NSArray arrayWithObject:cpu]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.05] forOperation:add];
  [plan fakeSetUsage:[MLComputePlanDeviceUsage fakeUsageWithPreferred:alien supported:[NSArray arrayWithObject:alien]]
                cost:[MLComputePlanCost fakeCostWithWeight:0.2] forOperation:identity];
  return plan;
}

typedef struct {
  const char *function, *op, *output;
  guint depth, preferred, supported;
  double cost;
} Expected;

#define CPU ANE_COMPUTE_DEVICE_CPU
#define GPU ANE_COMPUTE_DEVICE_GPU
#define NE  ANE_COMPUTE_DEVICE_NEURAL_ENGINE

static const Expected expected[] = {
  { "aux",  "mul",        "m", 0, NE,  NE,              0.15 },
  { "main", "const",      "w", 0, 0,   0,               -1 },
  { "main", "linear",     "h", 0, NE,  CPU | GPU | NE,  0.5 },
  { "main", "cond",       "c", 0, CPU, CPU,             0.0 },
  { "main", "relu",       "a", 1, GPU, CPU | GPU,       0.1 },
  { "main", "while_loop", "l", 1, 0,   0,               -1 },
  { "main", "add",        "z", 2, CPU, CPU,             0.05 },
  { "main", "identity",   "",  0, 0,   0,               0.2 },
};

static void
check_records (GPtrArray *ops)
{
  g_assert_nonnull (ops);
  g_assert_cmpuint (ops->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < ops->len; i++)
    {
      const AneCoremlPlanOp *op = g_ptr_array_index (ops, i);

      g_test_message ("op %u: %s %s %s", i, op->function, op->operator_name, op->output_name);
      g_assert_cmpstr (op->function, ==, expected[i].function);
      g_assert_cmpstr (op->operator_name, ==, expected[i].op);
      g_assert_cmpstr (op->output_name, ==, expected[i].output);
      g_assert_cmpuint (op->depth, ==, expected[i].depth);
      g_assert_cmpuint (op->preferred, ==, expected[i].preferred);
      g_assert_cmpuint (op->supported, ==, expected[i].supported);
      g_assert_cmpfloat (op->cost, ==, expected[i].cost);
    }
}

static void
check_plan (AneComputePlan *plan)
{
  g_assert_cmpuint (ane_compute_plan_get_n_operations (plan), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpstr (ane_compute_plan_get_function (plan, i), ==, expected[i].function);
      g_assert_cmpstr (ane_compute_plan_get_operator_name (plan, i), ==, expected[i].op);
      g_assert_cmpstr (ane_compute_plan_get_output_name (plan, i), ==, expected[i].output);
      g_assert_cmpuint (ane_compute_plan_get_depth (plan, i), ==, expected[i].depth);
      g_assert_cmpuint (ane_compute_plan_get_preferred_device (plan, i), ==, expected[i].preferred);
      g_assert_cmpuint (ane_compute_plan_get_supported_devices (plan, i), ==, expected[i].supported);
      g_assert_cmpfloat (ane_compute_plan_get_cost (plan, i), ==, expected[i].cost);
    }
}

/* ---- the walk ---------------------------------------------------------- */

static void
test_walk (void)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  g_autoptr(GPtrArray) ops = NULL;
  GError *error = NULL;

  ops = ane_coreml_compute_plan_walk (make_plan (TRUE), &error);
  g_assert_no_error (error);
  check_records (ops);
  [pool drain];
}

static void
test_walk_not_program (void)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  GError *error = NULL;

  g_assert_null (ane_coreml_compute_plan_walk (make_plan (FALSE), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "not an ML Program"));
  g_clear_error (&error);
  [pool drain];
}

/* An empty program: no operations, not an error. */
static void
test_walk_empty (void)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  MLComputePlan *plan = [MLComputePlan fakePlanWithStructure:
                          [MLModelStructure fakeStructureWithProgram:
                            [MLModelStructureProgram fakeProgramWithFunctions:[NSDictionary dictionary]]]];
  g_autoptr(GPtrArray) ops = NULL;
  GError *error = NULL;

  ops = ane_coreml_compute_plan_walk (plan, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ops->len, ==, 0);
  [pool drain];
}

/* ---- loading through the shim ------------------------------------------ */

static void
test_load (void)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  g_autoptr(GPtrArray) ops = NULL;
  GError *error = NULL;

  fake_coreml_plan_reset ();
  fake_coreml_plan_set (make_plan (TRUE));
  g_assert_nonnull (ane_coreml_framework_api.compute_plan);
  ops = ane_coreml_framework_api.compute_plan ("/models/m.mlmodelc", ANE_COMPUTE_UNITS_CPU_AND_NE, &error);
  g_assert_no_error (error);
  check_records (ops);
  g_assert_cmpuint (fake_coreml_plan_load_count (), ==, 1);
  g_assert_cmpint (fake_coreml_plan_last_compute_units (), ==, MLComputeUnitsCPUAndNeuralEngine);
  g_assert_cmpstr (fake_coreml_plan_last_path (), ==, "/models/m.mlmodelc");

  fake_coreml_plan_fail_load ("Failed to load the compute plan: unsupported model");
  g_assert_null (ane_coreml_compute_plan ("/models/m.mlmodelc", ANE_COMPUTE_UNITS_ALL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "unsupported model"));
  g_assert_nonnull (strstr (error->message, "/models/m.mlmodelc"));
  g_clear_error (&error);

  g_assert_null (ane_coreml_compute_plan ("/models/m.mlmodelc", (AneComputeUnits) 42, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (fake_coreml_plan_load_count (), ==, 2);   /* the bad units never reached CoreML */
  fake_coreml_plan_reset ();
  [pool drain];
}

/* ---- the public API, the fake shim installed as the table --------------- */

typedef struct {
  char *tmp;
  char *package;
  NSAutoreleasePool *pool;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *manifest = NULL;
  g_autofree char *weights = NULL;
  g_autofree char *cache = NULL;
  (void) data;

  f->pool = [[NSAutoreleasePool alloc] init];
  f->tmp = g_dir_make_tmp ("ane-plan-XXXXXX", NULL);
  f->package = g_build_filename (f->tmp, "model.mlpackage", NULL);
  weights = g_build_filename (f->package, "Data", "com.apple.CoreML", "weights", NULL);
  g_assert_cmpint (g_mkdir_with_parents (weights, 0755), ==, 0);
  manifest = g_build_filename (f->package, "Manifest.json", NULL);
  g_assert_true (g_file_set_contents (manifest, "{\"fileFormatVersion\": \"1.0.0\"}", -1, NULL));
  /* Every test starts with an empty compile cache: the packages of all
   * tests have the same bytes, hence the same cache entry. */
  cache = g_build_filename (g_get_user_cache_dir (), "ane-glib", NULL);
  ane_test_remove_tree (cache);
  fake_coreml_reset ();
  fake_coreml_plan_reset ();
  fake_coreml_plan_set (make_plan (TRUE));
  ane_coreml_api_set_override (&ane_coreml_framework_api);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  ane_coreml_api_set_override (NULL);
  fake_coreml_plan_reset ();
  ane_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->package);
  [f->pool drain];
}

static void
test_public (Fixture *f, gconstpointer data)
{
  g_autoptr(AneComputePlan) plan = NULL;
  g_autoptr(AneComputePlan) again = NULL;
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "ane-glib", "coreml", NULL);
  AneComputeUnits units = ANE_COMPUTE_UNITS_ALL;
  guint n = 0;
  GError *error = NULL;
  (void) data;

  plan = ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_CPU_AND_GPU, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ANE_IS_COMPUTE_PLAN (plan));
  check_plan (plan);
  g_assert_cmpint (ane_compute_plan_get_compute_units (plan), ==, ANE_COMPUTE_UNITS_CPU_AND_GPU);
  g_object_get (plan, "compute-units", &units, "n-operations", &n, NULL);
  g_assert_cmpint (units, ==, ANE_COMPUTE_UNITS_CPU_AND_GPU);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));

  /* compiled once into the user cache, by content; the plan loaded from there */
  g_assert_cmpuint (fake_coreml_compile_count (), ==, 1);
  g_assert_cmpint (fake_coreml_plan_last_compute_units (), ==, MLComputeUnitsCPUAndGPU);
  g_assert_true (g_str_has_prefix (fake_coreml_plan_last_path (), cache));
  g_assert_true (g_str_has_suffix (fake_coreml_plan_last_path (), ".mlmodelc"));
  again = ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, 1);
  g_assert_cmpint (fake_coreml_plan_last_compute_units (), ==, MLComputeUnitsAll);
  g_assert_cmpuint (fake_coreml_plan_load_count (), ==, 2);
}

static void
test_public_compiled (Fixture *f, gconstpointer data)
{
  g_autofree char *mlmodelc = g_build_filename (f->tmp, "model.mlmodelc", NULL);
  g_autoptr(AneComputePlan) plan = NULL;
  GError *error = NULL;
  (void) data;

  g_assert_cmpint (g_mkdir (mlmodelc, 0755), ==, 0);
  plan = ane_compute_plan_new_for_package (mlmodelc, ANE_COMPUTE_UNITS_CPU_ONLY, NULL, &error);
  g_assert_no_error (error);
  check_plan (plan);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, 0);   /* used as it is */
  g_assert_cmpstr (fake_coreml_plan_last_path (), ==, mlmodelc);
  g_assert_cmpint (fake_coreml_plan_last_compute_units (), ==, MLComputeUnitsCPUOnly);
}

static void
on_plan (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AneComputePlan **out = user_data;
  GError *error = NULL;

  (void) source;
  *out = ane_compute_plan_new_for_package_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_public_async (Fixture *f, gconstpointer data)
{
  AneComputePlan *plan = NULL;
  (void) data;

  ane_compute_plan_new_for_package_async (f->package, ANE_COMPUTE_UNITS_CPU_AND_NE, NULL, on_plan, &plan);
  while (plan == NULL)
    g_main_context_iteration (NULL, TRUE);
  check_plan (plan);
  g_assert_cmpint (ane_compute_plan_get_compute_units (plan), ==, ANE_COMPUTE_UNITS_CPU_AND_NE);
  g_object_unref (plan);
}

static void
test_public_to_string (Fixture *f, gconstpointer data)
{
  g_autoptr(AneComputePlan) plan = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GError *error = NULL;
  (void) data;

  plan = ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error);
  g_assert_no_error (error);
  text = ane_compute_plan_to_string (plan);
  g_test_message ("%s", text);
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 1 + 8 + 1 + 1 + 4);
  g_assert_true (g_regex_match_simple ("^function +# +operator +output +preferred +supported +cost$", lines[0], 0, 0));
  g_assert_true (g_regex_match_simple ("^aux +0 +mul +m +neural-engine +neural-engine +0\\.1500$", lines[1], 0, 0));
  g_assert_true (g_regex_match_simple ("^main +1 +const +w +- +- +-$", lines[2], 0, 0));
  g_assert_true (g_regex_match_simple ("^main +2 +linear +h +neural-engine +cpu,gpu,neural-engine +0\\.5000$", lines[3], 0, 0));
  /* nested operations are indented by two spaces per level */
  g_assert_true (g_regex_match_simple ("^main +4 {4}relu +a +gpu +cpu,gpu +0\\.1000$", lines[5], 0, 0));
  g_assert_true (g_regex_match_simple ("^main +6 {6}add +z +cpu +cpu +0\\.0500$", lines[7], 0, 0));
  g_assert_true (g_regex_match_simple ("^main +7 +identity +- +- +- +0\\.2000$", lines[8], 0, 0));
  g_assert_cmpstr (lines[9], ==, "");
  g_assert_cmpstr (lines[10], ==, "8 operations, compute units all; by preferred device (operations, estimated cost):");
  g_assert_true (g_regex_match_simple ("^  cpu +2  0\\.0500$", lines[11], 0, 0));
  g_assert_true (g_regex_match_simple ("^  gpu +1  0\\.1000$", lines[12], 0, 0));
  g_assert_true (g_regex_match_simple ("^  neural-engine +2  0\\.6500$", lines[13], 0, 0));
  g_assert_true (g_regex_match_simple ("^  none +3  0\\.2000$", lines[14], 0, 0));
}

static void
test_public_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->tmp, "missing.mlpackage", NULL);
  g_autofree char *not_model = g_build_filename (f->tmp, "photos", NULL);
  g_autofree char *text = g_build_filename (f->tmp, "notes.txt", NULL);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  AneCoremlApi no_plan = ane_coreml_framework_api;
  GError *error = NULL;
  (void) data;

  g_assert_null (ane_compute_plan_new_for_package (missing, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (not_model, 0755), ==, 0);
  g_assert_null (ane_compute_plan_new_for_package (not_model, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, not_model));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (text, "hello", -1, NULL));
  g_assert_null (ane_compute_plan_new_for_package (text, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (ane_compute_plan_new_for_package (f->package, (AneComputeUnits) 9, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_cancellable_cancel (cancelled);
  g_assert_null (ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, cancelled, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, 0);

  /* CoreML's failures carry its message */
  fake_coreml_fail_compile ("Unable to parse ML Program: unknown op 'frob'");
  g_assert_null (ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "unknown op 'frob'"));
  g_clear_error (&error);
  fake_coreml_plan_fail_load ("compute plan unavailable");
  g_assert_null (ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "compute plan unavailable"));
  g_clear_error (&error);

  /* not an ML Program */
  fake_coreml_plan_set (make_plan (FALSE));
  g_assert_null (ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* a table without the member: unsupported, said plainly */
  no_plan.compute_plan = NULL;
  ane_coreml_api_set_override (&no_plan);
  g_assert_null (ane_compute_plan_new_for_package (f->package, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "MLComputePlan needs CoreML.framework on macOS 14.4 / iOS 17.4 or later"));
  g_clear_error (&error);
  ane_coreml_api_set_override (&ane_coreml_framework_api);
}

int
main (int argc, char **argv)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  g_autofree char *cache_home = g_dir_make_tmp ("ane-plan-cache-XXXXXX", NULL);
  int rc;

  /* The compile cache lands in a fresh user cache dir. Set here, before
   * GLib first reads it, rather than with G_TEST_OPTION_ISOLATE_DIRS,
   * whose g_set_user_dirs() leaks in GLib 2.74 (LeakSanitizer fails). */
  g_assert_nonnull (cache_home);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/coreml/plan/walk", test_walk);
  g_test_add_func ("/coreml/plan/walk-not-program", test_walk_not_program);
  g_test_add_func ("/coreml/plan/walk-empty", test_walk_empty);
  g_test_add_func ("/coreml/plan/load", test_load);
  g_test_add ("/coreml/plan/public", Fixture, NULL, fixture_setup, test_public, fixture_teardown);
  g_test_add ("/coreml/plan/public-compiled", Fixture, NULL, fixture_setup, test_public_compiled, fixture_teardown);
  g_test_add ("/coreml/plan/public-async", Fixture, NULL, fixture_setup, test_public_async, fixture_teardown);
  g_test_add ("/coreml/plan/public-to-string", Fixture, NULL, fixture_setup, test_public_to_string, fixture_teardown);
  g_test_add ("/coreml/plan/public-errors", Fixture, NULL, fixture_setup, test_public_errors, fixture_teardown);
  rc = g_test_run ();
  ane_test_remove_tree (cache_home);
  [pool drain];
  return rc;
}
