/* test-llama-prompt-step.c: the generic layout's prompt in one call
 *
 * ane_llama_build_decode_n runs n tokens through the decode step at once;
 * its logits and key/value caches must be those of n one-token steps, and
 * generate on the CPU backend must run the prompt as that one call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-progress-private.h"
#include "model/ane-llama-private.h"
#include "runtime/cpu/ane-cpu-blas-private.h"

#define PROMPT "Once upon a time, there was a big dog named Max."
#define MAX_SEQ 24

static AneExecutable *
compiled (AneGraph   *graph,
          AneBackend  backend)
{
  g_autoptr(GError) error = NULL;
  AneExecutable *exe = ane_executable_new (graph, backend);

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  return exe;
}

static float *
run_logits (AneExecutable *exe,
            const char    *tok_name,
            const char    *pos_name,
            const gint32  *tokens,
            const gint32  *positions,
            gint64         n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = ane_tensor_new_from_ints (tok_name, (const gint64[]) { n }, 1, tokens, n, &error);
  g_autoptr(AneTensor) p = ane_tensor_new_from_ints (pos_name, (const gint64[]) { n }, 1, positions, n, &error);
  g_autoptr(GPtrArray) out = NULL;
  float *logits;
  gsize n_values;

  g_assert_no_error (error);
  out = ane_executable_run (exe, (AneTensor *[]) { t, p }, 2, NULL, &error);
  g_assert_no_error (error);
  logits = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n_values, &error);
  g_assert_no_error (error);
  return logits;
}

/* The prompt step's logits of its last token and its caches against the
 * one-token step fed the same tokens in order; then a token after it, the
 * caches handed over, against the one-token step's next one. */
static void
test_equals_token_steps (gconstpointer data)
{
  gboolean no_blas = GPOINTER_TO_INT (data) < 0;
  AneBackend backend = no_blas ? ANE_BACKEND_CPU : GPOINTER_TO_INT (data);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree gint32 *ids = NULL;
  gsize n_ids;
  gint64 vocab = ane_llama_model_get_vocab_size (m);
  g_autoptr(AneGraph) one = ane_llama_model_build_decode (m, MAX_SEQ, &error);
  g_autoptr(AneGraph) many = NULL;
  g_autoptr(AneGraph) after = NULL;
  g_autoptr(AneExecutable) e_one = NULL, e_many = NULL, e_after = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autofree float *want = NULL, *got = NULL, *want_next = NULL, *got_next = NULL;
  gint32 positions[MAX_SEQ];
  gint64 n;
  /* The reference backend gives the token-by-token figures exactly (its
   * products do not depend on the number of rows). The CPU backend's do,
   * by float rounding (measured with and without OpenBLAS: at most 0.0043
   * on a logit), and the float16 caches then round some values the other
   * way: at most one float16 step (0.0156 on a key, 0.002 on a value). */
  gboolean exact = backend == ANE_BACKEND_REFERENCE;
  double logit_tol = exact ? 1e-5 : 1e-2, cache_tol = exact ? 1e-5 : 1e-2;

  g_assert_no_error (error);
  ids = ane_tokenizer_encode (tok, PROMPT, TRUE, FALSE, &n_ids);
  g_assert_cmpuint (n_ids, >=, 8);
  n = MIN ((gint64) n_ids, MAX_SEQ - 1);
  for (gint64 i = 0; i < MAX_SEQ; i++)
    positions[i] = (gint32) i;

  many = ane_llama_build_decode_n (m, n, MAX_SEQ, &error);
  g_assert_no_error (error);
  after = ane_llama_model_build_decode (m, MAX_SEQ, &error);
  g_assert_no_error (error);
  ane_cpu_blas_set_enabled (!no_blas);
  e_one = compiled (one, backend);
  e_many = compiled (many, backend);
  e_after = compiled (after, backend);

  for (gint64 i = 0; i < n; i++)
    {
      g_free (want);
      want = run_logits (e_one, "token", "position", &ids[i], &positions[i], 1);
    }
  got = run_logits (e_many, "tokens", "positions", ids, positions, n);
  g_test_message ("logits of token %" G_GINT64_FORMAT ": largest difference %.3g",
                  n - 1, ane_test_assert_close_floats ("prompt step logits", got, want, vocab, logit_tol, logit_tol));

  states = ane_graph_list_states (one);
  g_assert_cmpuint (states->len, ==, 2 * ane_llama_model_get_n_layers (m));
  for (guint i = 0; i < states->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (states, i));
      g_autoptr(AneTensor) a = ane_executable_dup_state (e_many, name, &error);
      g_autoptr(AneTensor) b = NULL;

      g_assert_no_error (error);
      b = ane_executable_dup_state (e_one, name, &error);
      g_assert_no_error (error);
      /* the rows past the prompt are still zero in both */
      g_test_message ("%s: largest difference %.3g", name,
                      ane_test_assert_close_tensors (name, a, b, cache_tol, cache_tol));
    }

  g_assert_true (ane_llama_hand_over_states (e_many, e_after, states, &error));
  g_assert_no_error (error);
  want_next = run_logits (e_one, "token", "position", &ids[n - 1], &positions[n], 1);
  got_next = run_logits (e_after, "token", "position", &ids[n - 1], &positions[n], 1);
  g_test_message ("the step after the prompt: largest difference %.3g",
                  ane_test_assert_close_floats ("the step after the prompt", got_next, want_next, vocab,
                                                logit_tol, logit_tol));
  /* and the same greedy pick */
  g_assert_cmpint (ane_llama_pick_token (got, vocab, 0.0, 0.0, NULL, NULL), ==,
                   ane_llama_pick_token (want, vocab, 0.0, 0.0, NULL, NULL));
  g_assert_cmpint (ane_llama_pick_token (got_next, vocab, 0.0, 0.0, NULL, NULL), ==,
                   ane_llama_pick_token (want_next, vocab, 0.0, 0.0, NULL, NULL));
  ane_cpu_blas_set_enabled (TRUE);
}

static void
test_bad_length (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_llama_build_decode_n (m, MAX_SEQ + 1, MAX_SEQ, &error);

  g_assert_null (g);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "25 tokens"));
}

static void
count_generating (AneProgress *progress,
                  gpointer     user_data)
{
  if (g_strcmp0 (ane_progress_get_stage (progress), ANE_PROGRESS_STAGE_GENERATING) == 0)
    (*(guint *) user_data)++;
}

static gboolean
collect_token (gint32      token,
               const char *piece,
               gpointer    user_data)
{
  g_array_append_val ((GArray *) user_data, token);
  return TRUE;
}

/* Greedy fp32 on the CPU backend with every token through the one-token
 * step, as generate ran the prompt before it took it in one call. */
static GArray *
greedy_token_by_token (AneLlamaModel *m,
                       const gint32  *ids,
                       gsize          n_ids,
                       guint          n_tokens)
{
  g_autoptr(GError) error = NULL;
  gint64 max_seq = (gint64) n_ids + n_tokens, vocab = ane_llama_model_get_vocab_size (m);
  g_autoptr(AneGraph) graph = ane_llama_model_build_decode (m, max_seq, &error);
  g_autoptr(AneExecutable) exe = NULL;
  GArray *picked = g_array_new (FALSE, FALSE, sizeof (gint32));
  gint32 token = ids[0];

  g_assert_no_error (error);
  exe = compiled (graph, ANE_BACKEND_CPU);
  for (gint32 pos = 0; pos < (gint32) max_seq && picked->len < n_tokens; pos++)
    {
      g_autofree float *logits = run_logits (exe, "token", "position", &token, &pos, 1);

      if ((gsize) pos + 1 < n_ids)
        token = ids[pos + 1];
      else
        {
          token = ane_llama_pick_token (logits, vocab, 0.0, 0.0, NULL, NULL);
          if (token == 1 || token == 2)   /* BOS, EOS: generate stops */
            break;
          g_array_append_val (picked, token);
        }
    }
  return picked;
}

/* generate reports "generating" once per run of the decode step (and once
 * more as it finishes): with the prompt in one call, once per generated
 * token (the first one's logits come from the prompt step), not once more
 * per prompt token. Its text is
 * greedy fp32's token-by-token text (tests/test-llama.c checks it too). */
static void
test_generate_one_call (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  guint reports = 0;
  g_autoptr(AneProgress) progress = ane_progress_new (count_generating, &reports, NULL);
  g_autoptr(GArray) tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(GArray) want = NULL;
  g_autofree gint32 *ids = NULL;
  gsize n_ids;
  g_autofree char *text = NULL;

  ids = ane_tokenizer_encode (tok, PROMPT, TRUE, FALSE, &n_ids);
  text = ane_llama_model_generate_full (m, tok, PROMPT, 48, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 1,
                                        progress, collect_token, tokens, &error);
  g_assert_no_error (error);
  g_test_message ("prompt %" G_GSIZE_FORMAT " tokens, %u generated, %u decode reports: %s",
                  n_ids, tokens->len, reports, text);
  g_assert_cmpuint (tokens->len, >=, 8);
  /* one per decode step and the finishing 1.0; token by token it would be
   * n_ids - 1 more */
  g_assert_cmpuint (reports, ==, tokens->len + 1);

  want = greedy_token_by_token (m, ids, n_ids, 48);
  g_assert_cmpuint (tokens->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    g_assert_cmpint (g_array_index (tokens, gint32, i), ==, g_array_index (want, gint32, i));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/ane/llama/prompt-step/equals-token-steps/cpu", GINT_TO_POINTER (ANE_BACKEND_CPU),
                        test_equals_token_steps);
  g_test_add_data_func ("/ane/llama/prompt-step/equals-token-steps/cpu-no-blas", GINT_TO_POINTER (-1),
                        test_equals_token_steps);
  g_test_add_data_func ("/ane/llama/prompt-step/equals-token-steps/reference",
                        GINT_TO_POINTER (ANE_BACKEND_REFERENCE), test_equals_token_steps);
  g_test_add_func ("/ane/llama/prompt-step/bad-length", test_bad_length);
  g_test_add_func ("/ane/llama/prompt-step/generate-one-call", test_generate_one_call);
  return g_test_run ();
}
