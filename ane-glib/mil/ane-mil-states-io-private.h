/* mil/ane-mil-states-io-private.h: states made inputs and outputs
 * (ane-mil-states-io.c), for the Neural Engine's private path
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

/* Rewrites fn (named function, for messages) so that every state input is
 * a tensor input of the same name and type, read_state and write_state are
 * gone, and each state's final value is appended to the block's outputs.
 * Appends to state_names each state's name and to final_values the name of
 * its final value (the new block output), in input order. fn must be freeable
 * by protobuf_c_message_free_unpacked (a parsed program's). On error (a
 * read or write of something that is not a state input) fn is left valid
 * but half rewritten: drop it. */
gboolean ane_mil_function_states_to_io (AneMilFunction  *fn,
                                        const char      *function,
                                        GPtrArray       *state_names,
                                        GPtrArray       *final_values,
                                        GError         **error);

/* Widens every tensor input of fn whose last dimension is below min_width:
 * the input becomes `<name>_wide`, of width min_width, and a slice_by_size
 * at the start of the block gives the program its old value under the old
 * name, so nothing else changes. The private path reads inputs narrower
 * than 32 wrongly (skyfallsin/apple-neural-engine-field-guide README.md:90,
 * measured); the caller binds the data in the first columns of the wide
 * input. Appends each widened input's old and new names. */
gboolean ane_mil_function_widen_inputs (AneMilFunction  *fn,
                                        const char      *function,
                                        gint64           min_width,
                                        GPtrArray       *narrow_names,
                                        GPtrArray       *wide_names,
                                        GError         **error);

G_END_DECLS
