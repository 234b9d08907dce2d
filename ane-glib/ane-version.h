/* ane-version.h: export macros
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

/* Symbols are hidden by default (gnu_symbol_visibility: 'hidden'); every public
 * prototype carries this macro so the library and the GIR dumper can see it. */
#if defined(_WIN32)
# define _ANE_EXTERN __declspec(dllexport) extern
#else
# define _ANE_EXTERN __attribute__((visibility("default"))) extern
#endif

#define ANE_AVAILABLE_IN_ALL _ANE_EXTERN
