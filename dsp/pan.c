/* dsp/pan.c — placeholder until the module lands. */
#include "module.h"
const struct module_type pan_module = { .name = "pan", .help = "not yet written", .size = 8 };
