/* dsp/noise.c — placeholder until the module lands. */
#include "module.h"
const struct module_type noise_module = { .name = "noise", .help = "not yet written", .size = 8 };
