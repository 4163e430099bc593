/* dsp/lfo.c — placeholder until the module lands. */
#include "module.h"
const struct module_type lfo_module = { .name = "lfo", .help = "not yet written", .size = 8 };
