/* dsp/vco.c — placeholder until the module lands. */
#include "module.h"
const struct module_type vco_module = { .name = "vco", .help = "not yet written", .size = 8 };
