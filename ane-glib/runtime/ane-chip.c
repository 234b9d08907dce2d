/* ane-chip.c: what this machine offers (chip, OS, Neural Engine)
 *
 * The Apple code paths below are compiled only where __APPLE__ is defined.
 * No part of this project has been built on a Mac yet, so they have been
 * checked by reading, not by a compiler: treat them as untested until they
 * are built there.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#ifdef __APPLE__
# include <dlfcn.h>
# include <sys/sysctl.h>
#endif

#include "ane-chip.h"

/**
 * AneChipInfo:
 *
 * What this machine offers: the chip, the operating system and whether an
 * Apple Neural Engine can be reached.
 *
 * There is one instance per process, made on first use by [func@Ane.chip_info]
 * and never freed; every property is read-only and fixed.
 *
 * ```c
 * AneChipInfo *chip = ane_chip_info ();
 * g_autofree char *report = ane_chip_info_dup_report (chip);
 *
 * g_print ("%s", report);
 * if (!ane_available ())
 *   g_print ("no Neural Engine on %s\n", ane_chip_info_get_name (chip));
 * ```
 *
 * On Linux (and any other non-Apple system) the chip name is the CPU model
 * from `/proc/cpuinfo`, [property@Ane.ChipInfo:is-apple] and
 * [property@Ane.ChipInfo:has-ane] are %FALSE and the core count is 0.
 *
 * On macOS the name is `machdep.cpu.brand_string` (e.g. "Apple M2"), Apple
 * silicon is recognised by `hw.optional.arm64`, and the Neural Engine counts
 * as present when `AppleNeuralEngine.framework` exists and opens. macOS does
 * not publish the number of Neural Engine cores, so
 * [property@Ane.ChipInfo:ane-cores] is -1 (unknown) there.
 *
 * A chip info is immutable once made: any number of threads may read it.
 */
struct _AneChipInfo
{
  GObject  parent_instance;

  char    *name;
  gboolean is_apple;
  gboolean has_ane;
  int      ane_cores;
  char    *machine;
  char    *os_name;
  char    *os_version;
  char    *os_pretty;     /* distribution or product name, may be NULL */
  char    *ane_reason;    /* why there is no Neural Engine, NULL if there is one */
};

G_DEFINE_FINAL_TYPE (AneChipInfo, ane_chip_info, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_IS_APPLE,
  PROP_HAS_ANE,
  PROP_ANE_CORES,
  PROP_MACHINE,
  PROP_OS_NAME,
  PROP_OS_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_chip_info_finalize (GObject *object)
{
  AneChipInfo *self = ANE_CHIP_INFO (object);

  g_free (self->name);
  g_free (self->machine);
  g_free (self->os_name);
  g_free (self->os_version);
  g_free (self->os_pretty);
  g_free (self->ane_reason);
  G_OBJECT_CLASS (ane_chip_info_parent_class)->finalize (object);
}

static void
ane_chip_info_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AneChipInfo *self = ANE_CHIP_INFO (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_IS_APPLE:
      g_value_set_boolean (value, self->is_apple);
      break;
    case PROP_HAS_ANE:
      g_value_set_boolean (value, self->has_ane);
      break;
    case PROP_ANE_CORES:
      g_value_set_int (value, self->ane_cores);
      break;
    case PROP_MACHINE:
      g_value_set_string (value, self->machine);
      break;
    case PROP_OS_NAME:
      g_value_set_string (value, self->os_name);
      break;
    case PROP_OS_VERSION:
      g_value_set_string (value, self->os_version);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_chip_info_class_init (AneChipInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = ane_chip_info_finalize;
  object_class->get_property = ane_chip_info_get_property;

  /**
   * AneChipInfo:name:
   *
   * The chip or CPU model, e.g. "Apple M2" or the "model name" line of
   * `/proc/cpuinfo`.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);
  /**
   * AneChipInfo:is-apple:
   *
   * Whether the chip is Apple silicon.
   */
  properties[PROP_IS_APPLE] =
    g_param_spec_boolean ("is-apple", NULL, NULL, FALSE, flags);
  /**
   * AneChipInfo:has-ane:
   *
   * Whether an Apple Neural Engine is present and its framework opens.
   */
  properties[PROP_HAS_ANE] =
    g_param_spec_boolean ("has-ane", NULL, NULL, FALSE, flags);
  /**
   * AneChipInfo:ane-cores:
   *
   * The number of Neural Engine cores: 0 when there is no Neural Engine,
   * -1 when there is one but the operating system does not say how many.
   */
  properties[PROP_ANE_CORES] =
    g_param_spec_int ("ane-cores", NULL, NULL, -1, G_MAXINT, 0, flags);
  /**
   * AneChipInfo:machine:
   *
   * The hardware architecture as uname(2) names it, e.g. "x86_64" or "arm64".
   */
  properties[PROP_MACHINE] =
    g_param_spec_string ("machine", NULL, NULL, NULL, flags);
  /**
   * AneChipInfo:os-name:
   *
   * The operating system as uname(2) names it, e.g. "Linux" or "Darwin".
   */
  properties[PROP_OS_NAME] =
    g_param_spec_string ("os-name", NULL, NULL, NULL, flags);
  /**
   * AneChipInfo:os-version:
   *
   * The operating system release as uname(2) gives it (the kernel version).
   */
  properties[PROP_OS_VERSION] =
    g_param_spec_string ("os-version", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_chip_info_init (AneChipInfo *self)
{
  self->ane_cores = 0;
}

#ifdef __APPLE__
/* Compiled on Apple platforms only (not yet built by this project). */

# define ANE_FRAMEWORK_DIR "/System/Library/PrivateFrameworks/AppleNeuralEngine.framework"

static char *
sysctl_string (const char *key)
{
  size_t len = 0;
  g_autofree char *buf = NULL;

  if (sysctlbyname (key, NULL, &len, NULL, 0) != 0 || len == 0)
    return NULL;
  buf = g_malloc0 (len + 1);
  if (sysctlbyname (key, buf, &len, NULL, 0) != 0)
    return NULL;
  return g_steal_pointer (&buf);
}

static gboolean
sysctl_int (const char *key,
            int        *value)
{
  int v = 0;
  size_t len = sizeof v;

  if (sysctlbyname (key, &v, &len, NULL, 0) != 0)
    return FALSE;
  *value = v;
  return TRUE;
}

static void
probe_apple (AneChipInfo *self)
{
  int arm64 = 0;
  void *handle;

  self->name = sysctl_string ("machdep.cpu.brand_string");
  /* hw.optional.arm64 is 1 on Apple silicon, also for an x86_64 process
   * under Rosetta; it does not exist on Intel Macs. */
  self->is_apple = sysctl_int ("hw.optional.arm64", &arm64) && arm64 == 1;
  self->os_pretty = sysctl_string ("kern.osproductversion");
  if (self->os_pretty != NULL)
    {
      char *product = g_strdup_printf ("macOS %s", self->os_pretty);

      g_free (self->os_pretty);
      self->os_pretty = product;
    }

  if (!self->is_apple)
    {
      self->ane_reason = g_strdup ("not Apple silicon");
      return;
    }
  /* Since macOS 11 the framework's binary lives in the dyld shared cache,
   * not on disk: the directory is what exists, and dlopen on the path
   * inside it still succeeds. */
  if (!g_file_test (ANE_FRAMEWORK_DIR, G_FILE_TEST_IS_DIR))
    {
      self->ane_reason = g_strdup (ANE_FRAMEWORK_DIR " does not exist");
      return;
    }
  handle = dlopen (ANE_FRAMEWORK_DIR "/AppleNeuralEngine", RTLD_LAZY | RTLD_LOCAL);
  if (handle == NULL)
    {
      const char *msg = dlerror ();

      self->ane_reason = g_strdup_printf ("AppleNeuralEngine.framework does not open: %s",
                                          msg ? msg : "unknown error");
      return;
    }
  /* Kept open: the process will use it, and unloading Objective-C code is
   * not supported anyway. */
  self->has_ane = TRUE;
  /* No public sysctl or API reports the number of Neural Engine cores. */
  self->ane_cores = -1;
}
#else
static char *
cpuinfo_field (const char *contents,
               const char *key)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');

      if (colon == NULL)
        continue;
      *colon = '\0';
      if (g_str_equal (g_strstrip (lines[i]), key))
        {
          char *value = g_strstrip (colon + 1);

          if (*value != '\0')
            return g_strdup (value);
        }
    }
  return NULL;
}

static void
probe_other (AneChipInfo *self)
{
  g_autofree char *contents = NULL;
  /* x86 says "model name"; ARM kernels may say "Hardware" or nothing
   * useful; other architectures use their own keys. */
  static const char *const keys[] = { "model name", "Hardware", "Processor", "cpu model", "uarch", "cpu" };

  if (g_file_get_contents ("/proc/cpuinfo", &contents, NULL, NULL))
    for (guint i = 0; i < G_N_ELEMENTS (keys) && self->name == NULL; i++)
      self->name = cpuinfo_field (contents, keys[i]);
  self->os_pretty = g_get_os_info (G_OS_INFO_KEY_PRETTY_NAME);
  self->is_apple = FALSE;
  self->has_ane = FALSE;
  self->ane_cores = 0;
  self->ane_reason = g_strdup ("not an Apple platform");
}
#endif

static AneChipInfo *
chip_info_new (void)
{
  AneChipInfo *self = g_object_new (ANE_TYPE_CHIP_INFO, NULL);
  struct utsname u;

  if (uname (&u) == 0)
    {
      self->os_name = g_strdup (u.sysname);
      self->os_version = g_strdup (u.release);
      self->machine = g_strdup (u.machine);
    }
  else
    {
      self->os_name = g_strdup ("unknown");
      self->os_version = g_strdup ("unknown");
      self->machine = g_strdup ("unknown");
    }
#ifdef __APPLE__
  probe_apple (self);
#else
  probe_other (self);
#endif
  if (self->name == NULL)
    self->name = g_strdup_printf ("unknown %s processor", self->machine);
  return self;
}

/**
 * ane_chip_info:
 *
 * Describes this machine. The description is made on the first call, from
 * any thread, and the same object is returned from then on.
 *
 * Returns: (transfer none): the machine's chip information, owned by
 *   ane-glib for the lifetime of the process
 */
AneChipInfo *
ane_chip_info (void)
{
  static AneChipInfo *info = NULL;

  if (g_once_init_enter (&info))
    g_once_init_leave (&info, chip_info_new ());
  return info;
}

/**
 * ane_available:
 *
 * Tells whether this machine has an Apple Neural Engine that this process
 * can reach (see [property@Ane.ChipInfo:has-ane]). It says nothing about
 * whether a given program compiles for it: [method@Ane.Executable.compile]
 * with %ANE_BACKEND_ANE decides that.
 *
 * Returns: %TRUE when a Neural Engine is present
 */
gboolean
ane_available (void)
{
  return ane_chip_info ()->has_ane;
}

/**
 * ane_chip_info_get_name:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:name].
 *
 * Returns: (transfer none): the chip or CPU model, never empty
 */
const char *
ane_chip_info_get_name (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), NULL);
  return self->name;
}

/**
 * ane_chip_info_get_is_apple:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:is-apple].
 *
 * Returns: %TRUE on Apple silicon
 */
gboolean
ane_chip_info_get_is_apple (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), FALSE);
  return self->is_apple;
}

/**
 * ane_chip_info_get_has_ane:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:has-ane].
 *
 * Returns: %TRUE when a Neural Engine is present and its framework opens
 */
gboolean
ane_chip_info_get_has_ane (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), FALSE);
  return self->has_ane;
}

/**
 * ane_chip_info_get_ane_cores:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:ane-cores].
 *
 * Returns: the number of Neural Engine cores, 0 without one, -1 when unknown
 */
int
ane_chip_info_get_ane_cores (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), 0);
  return self->ane_cores;
}

/**
 * ane_chip_info_get_machine:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:machine].
 *
 * Returns: (transfer none): the hardware architecture
 */
const char *
ane_chip_info_get_machine (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), NULL);
  return self->machine;
}

/**
 * ane_chip_info_get_os_name:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:os-name].
 *
 * Returns: (transfer none): the operating system name
 */
const char *
ane_chip_info_get_os_name (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), NULL);
  return self->os_name;
}

/**
 * ane_chip_info_get_os_version:
 * @self: chip information
 *
 * Gets [property@Ane.ChipInfo:os-version].
 *
 * Returns: (transfer none): the operating system release
 */
const char *
ane_chip_info_get_os_version (AneChipInfo *self)
{
  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), NULL);
  return self->os_version;
}

/**
 * ane_chip_info_dup_report:
 * @self: chip information
 *
 * Describes the machine in a few human-readable lines, one fact per line
 * ("os:", "machine:", "chip:", "apple silicon:", "neural engine:"), each
 * ending in a newline.
 *
 * Returns: (transfer full): the report
 */
char *
ane_chip_info_dup_report (AneChipInfo *self)
{
  GString *s;

  g_return_val_if_fail (ANE_IS_CHIP_INFO (self), NULL);

  s = g_string_new (NULL);
  g_string_append_printf (s, "os:            %s %s", self->os_name, self->os_version);
  if (self->os_pretty != NULL)
    g_string_append_printf (s, " (%s)", self->os_pretty);
  g_string_append_printf (s, "\nmachine:       %s\n", self->machine);
  g_string_append_printf (s, "chip:          %s\n", self->name);
  g_string_append_printf (s, "apple silicon: %s\n", self->is_apple ? "yes" : "no");
  if (self->has_ane && self->ane_cores < 0)
    g_string_append (s, "neural engine: yes (cores: unknown, the OS does not say)\n");
  else if (self->has_ane)
    g_string_append_printf (s, "neural engine: yes (%d cores)\n", self->ane_cores);
  else
    g_string_append_printf (s, "neural engine: no (%s)\n", self->ane_reason);
  return g_string_free (s, FALSE);
}
