/* dsp/vca.c — placeholder until the module lands. */
#include "module.h"
const struct module_type vca_module = { .name = "vca", .help = "not yet written", .size = 8 };
