/* dsp/ladder.c — placeholder until the module lands. */
#include "module.h"
const struct module_type ladder_module = { .name = "ladder", .help = "not yet written", .size = 8 };
