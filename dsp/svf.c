/* dsp/svf.c — placeholder until the module lands. */
#include "module.h"
const struct module_type svf_module = { .name = "svf", .help = "not yet written", .size = 8 };
