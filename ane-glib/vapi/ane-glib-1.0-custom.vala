/* ane-glib-1.0-custom.vala: what vapigen cannot say from Ane-1.0.gir alone
 *
 * Merged into the generated ane-glib-1.0.vapi (gnome.generate_vapi passes it
 * to vapigen beside the GIR).
 *
 * SPDX-License-Identifier: MIT
 */

namespace Ane {
	public sealed class Tensor : GLib.Object {
		/* The shape is `const gint64 *` in C: with CCode type valac casts
		 * the call's result instead of assigning a const pointer to a
		 * `gint64 *` (a -Wdiscarded-qualifiers warning in every program
		 * that reads a shape). */
		[CCode (array_length_pos = 0.1, array_length_type = "guint", type = "const gint64*")]
		public unowned int64[] get_shape ();
	}
	public sealed class Package : GLib.Object {
		/* The names are `const char * const *` in C: CCode type makes valac
		 * cast the `gchar **` it passes (-Wincompatible-pointer-types
		 * otherwise). Both arrays have the length n_graphs. */
		[CCode (has_construct_function = false)]
		[Version (since = "0.2")]
		public Package.from_graphs ([CCode (array_length_cname = "n_graphs", array_length_pos = 2.5, array_length_type = "guint", type = "const char* const*")] string[] names,
		                            [CCode (array_length_cname = "n_graphs", array_length_pos = 2.5, array_length_type = "guint")] Ane.Graph[] graphs,
		                            Ane.Target target, Ane.Precision precision) throws GLib.Error;
		[CCode (cname = "ane_package_new_from_graphs_async", finish_name = "ane_package_new_from_graphs_finish", has_construct_function = false)]
		[Version (since = "0.2")]
		public async Package.from_graphs_async ([CCode (array_length_cname = "n_graphs", array_length_pos = 2.5, array_length_type = "guint", type = "const char* const*")] string[] names,
		                                        [CCode (array_length_cname = "n_graphs", array_length_pos = 2.5, array_length_type = "guint")] Ane.Graph[] graphs,
		                                        Ane.Target target, Ane.Precision precision, GLib.Cancellable? cancellable) throws GLib.Error;
	}
	public sealed class Graph : GLib.Object {
		/* wrt is `const char * const *` in C, NULL-terminated: CCode type
		 * makes valac cast the `gchar **` it passes. */
		[Version (since = "0.2")]
		public Ane.Graph gradients (string loss, [CCode (array_length = false, array_null_terminated = true, type = "const char* const*")] string[] wrt) throws GLib.Error;
	}
	public sealed class LintReport : GLib.Object {
		/* The rule ids are `const char * const *` in C (owned by the
		 * report). CCode type is not enough here, unlike Tensor.get_shape:
		 * valac 0.56 first stores a null-terminated array in a `gchar **`
		 * temporary to count it, and that assignment is the warning. The
		 * cast is therefore part of the name valac calls. */
		[CCode (cname = "(gchar **) ane_lint_report_get_op_rules", array_length = false, array_null_terminated = true)]
		[Version (since = "0.2")]
		public unowned string[] get_op_rules (uint index);
	}
}
