/* dsp/adsr.c — placeholder until the module lands. */
#include "module.h"
const struct module_type adsr_module = { .name = "adsr", .help = "not yet written", .size = 8 };
